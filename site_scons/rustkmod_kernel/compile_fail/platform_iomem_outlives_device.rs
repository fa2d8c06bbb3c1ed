// A platform device's register mapping is the binding's: it cannot be kept past the device
// reference it was made from (its Drop unmaps it while the device is still bound).
// expect: lifetime may not live long enough
use kernel::{device::Bound, platform, prelude::*};

pub fn kept<'a>(pdev: &'a platform::Device<Bound>) -> Result<platform::IoMem<'static, 16>> {
    pdev.iomap_resource_sized::<16>(0, c"kept")
}
