// A BAR mapping is the binding's: it cannot be kept past the device reference it was made from
// (its Drop unmaps it while the device is still bound).
// expect: lifetime may not live long enough
use kernel::{device::Bound, pci, prelude::*};

pub fn kept<'a>(pdev: &'a pci::Device<Bound>) -> Result<pci::Bar<'static, 16>> {
    pdev.iomap_region_sized::<16>(0, c"kept")
}
