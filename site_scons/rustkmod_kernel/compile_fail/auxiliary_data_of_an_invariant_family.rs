// An auxiliary device's registration data is borrowed for the device's binding: only a covariant
// family may be read by reference (registration_data); an invariant one only inside a closure
// that takes it for every lifetime (registration_data_with).
// expect: the trait bound
use core::cell::Cell;
use kernel::{auxiliary, device::Bound, prelude::*};

pub struct Shared<'a> {
    slot: Cell<&'a u32>,
}

pub fn read(adev: &auxiliary::Device<Bound>) -> Result<u32> {
    let data = adev.registration_data::<kernel::types::ForLt!(Shared<'_>)>()?;
    Ok(*data.slot.get())
}
