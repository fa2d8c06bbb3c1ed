// lockdep refuses a key outside static memory: safe code gets one only from static_lock_class!.
// expect: requires unsafe
#![forbid(unsafe_code)]
use kernel::sync::LockClassKey;

pub fn key() -> &'static LockClassKey {
    std::boxed::Box::leak(std::boxed::Box::new(LockClassKey::new_static()))
}
