// A global lock is shared by every thread: one around data that may not move between threads
// cannot be made.
// expect: cannot be sent between threads safely
kernel::sync::global_lock! {
    unsafe(uninit) static HERE_ONLY: Mutex<*mut u8> = core::ptr::null_mut();
}

pub fn take() {
    let _guard = HERE_ONLY.lock();
}
