// The device may write DMA memory with any bytes: only plain integers may live there, never a
// reference (or anything with invalid bit patterns).
// expect: u8: DmaElement` is not satisfied
use kernel::{device::{Bound, Device}, dma::CoherentAllocation, prelude::*};

pub fn pointers<'a>(device: &'a Device<Bound>) -> Result<CoherentAllocation<'a, &'static u8>> {
    CoherentAllocation::alloc_coherent(device, 16)
}
