// A #[pin_data] struct's Drop would get `&mut` to its pinned fields (and could move a lock out):
// it must use #[pin_data(PinnedDrop)] and #[pinned_drop] instead.
// expect: MustNotImplDrop_use_pin_data_PinnedDrop
use kernel::prelude::*;

#[pin_data]
pub struct Counter {
    #[pin]
    value: Mutex<u32>,
}

impl Drop for Counter {
    fn drop(&mut self) {}
}
