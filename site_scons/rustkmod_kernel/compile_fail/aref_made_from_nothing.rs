// An ARef holds a count: one made from a bare pointer would drop a count nobody took.
// expect: requires unsafe
use kernel::device::Device;
use kernel::sync::aref::ARef;

pub fn forge(device: &Device) -> ARef<Device> {
    ARef::from_raw(core::ptr::NonNull::from(device))
}
