// A firmware node borrowed from a device is the device's: it cannot be kept past the borrow (a
// counted one is an ARef, from children() or get_child_by_name()).
// expect: does not live long enough
use kernel::{device::property::FwNode, platform, sync::aref::ARef};

pub fn keep(pdev: ARef<platform::Device>, kept: &mut Option<&'static FwNode>) {
    let device: &kernel::device::Device = (*pdev).as_ref();
    *kept = device.fwnode();
}
