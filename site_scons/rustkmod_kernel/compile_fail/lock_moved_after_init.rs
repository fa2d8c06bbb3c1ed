// A lock the kernel knows (its wait list points at itself) never moves once made.
// expect: cannot be unpinned
use kernel::prelude::*;

pub fn move_it() -> Mutex<u32> {
    let placed = KBox::pin_init(new_mutex!(0u32), GFP_KERNEL).unwrap();
    *core::pin::Pin::into_inner(placed)
}
