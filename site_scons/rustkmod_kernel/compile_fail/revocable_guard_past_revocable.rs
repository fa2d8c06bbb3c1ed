// A guard borrows its Revocable: it cannot outlive it (revoke, or the drop, waits for guards only
// while they borrow it).
// expect: E0515
use kernel::{alloc::KBox, prelude::*, revocable::{Revocable, RevocableGuard}};

pub fn escape() -> Option<RevocableGuard<'static, u32>> {
    let revocable = KBox::pin_init(Revocable::new(Ok::<u32, Error>(1)), GFP_KERNEL).ok()?;
    revocable.try_access()
}
