// A module's state is made in insmod's task and dropped in rmmod's: it must be Send, so a
// spinlock's guard cannot be kept from init to exit.
// expect: cannot be sent between threads safely
#![forbid(unsafe_code)]
use kernel::prelude::*;
use kernel::sync::SpinLockGuard;

module! {
    type: Holder,
    name: "holder",
    authors: ["rustkmod"],
    description: "Keeps a lock held between init and exit",
    license: "GPL",
}

struct Holder {
    _held: SpinLockGuard<'static, u32>,
}

impl kernel::Module for Holder {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Err(EINVAL)
    }
}
