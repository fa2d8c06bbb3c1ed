// `mutex.lock();` alone unlocks at once: the guard is #[must_use].
// expect: unused `Guard` that must be used
#![deny(unused_must_use)]
use kernel::prelude::*;

pub fn lock_and_forget_to_keep() {
    let counter = KBox::pin_init(new_mutex!(0u32), GFP_KERNEL).unwrap();
    counter.lock();
}
