// A pinned drop runs once, from the struct's Drop: calling it by hand (then dropping) would run
// it twice; the token it takes has no safe maker.
// expect: requires unsafe
use kernel::prelude::*;

#[pin_data(PinnedDrop)]
pub struct Counter {
    #[pin]
    value: Mutex<u32>,
}

#[pinned_drop]
impl PinnedDrop for Counter {
    fn drop(self: Pin<&mut Self>) {}
}

pub fn twice(counter: Pin<&mut Counter>) {
    kernel::init::PinnedDrop::drop(counter, kernel::init::__internal::OnlyCallFromDrop::new());
}
