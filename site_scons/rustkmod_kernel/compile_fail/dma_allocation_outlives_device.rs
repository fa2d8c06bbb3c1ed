// DMA memory is freed before the binding ends: an allocation cannot be kept past the device
// reference it was made for.
// expect: lifetime may not live long enough
use kernel::{device::{Bound, Device}, dma::CoherentAllocation, prelude::*};

pub fn kept<'a>(device: &'a Device<Bound>) -> Result<CoherentAllocation<'static, u32>> {
    CoherentAllocation::alloc_coherent(device, 16)
}
