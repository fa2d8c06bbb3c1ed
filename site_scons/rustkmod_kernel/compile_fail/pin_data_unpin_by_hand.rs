// Declaring a #[pin_data] struct Unpin by hand would let safe code move its pinned lock
// (Pin::get_mut): the struct's Unpin is #[pin_data]'s alone.
// expect: conflicting implementations of trait `Unpin`
use kernel::prelude::*;

#[pin_data]
pub struct Counter {
    #[pin]
    value: Mutex<u32>,
}

impl Unpin for Counter {}
