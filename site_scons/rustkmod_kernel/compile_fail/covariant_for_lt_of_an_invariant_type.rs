// CovariantForLt! proves covariance when the module is built: a family whose lifetime is
// invariant (a Mutex of a reference, here a Cell of one) would let a reference be shortened and
// then written through, so it is refused.
// expect: lifetime may not live long enough
use core::cell::Cell;

pub struct Shared<'a> {
    slot: Cell<&'a u32>,
}

pub type Family = kernel::types::CovariantForLt!(Shared<'_>);

pub fn name(_family: Option<Family>) {}
