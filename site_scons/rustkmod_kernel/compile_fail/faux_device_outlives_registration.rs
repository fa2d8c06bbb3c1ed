// A faux device's `struct device` is freed when its Registration drops: the `&Device` that
// `as_ref()` gives borrows the Registration, so it cannot be kept past it.
// expect: E0515
use kernel::device::Device;
use kernel::faux;

pub fn kept() -> &'static Device {
    let registration = faux::Registration::new(c"gone", None).unwrap();
    registration.as_ref()
}
