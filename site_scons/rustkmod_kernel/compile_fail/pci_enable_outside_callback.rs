// Enabling a device is for the driver core's callbacks (probe, unbind: Device<Core>), which hold
// the device lock; a bound device reference kept elsewhere cannot do it.
// expect: no method named `enable_device_mem`
use kernel::{device::Bound, pci, prelude::*};

pub fn later(pdev: &pci::Device<Bound>) -> Result {
    pdev.enable_device_mem()
}
