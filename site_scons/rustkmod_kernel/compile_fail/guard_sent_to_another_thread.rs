// A lock is unlocked by the task that locked it: a guard cannot go to another thread.
// expect: cannot be sent between threads safely
use kernel::prelude::*;

pub fn unlock_elsewhere() {
    let counter = KBox::pin_init(new_spinlock!(0u32), GFP_KERNEL).unwrap();
    let guard = counter.lock();
    std::thread::scope(|scope| {
        scope.spawn(move || drop(guard));
    });
}
