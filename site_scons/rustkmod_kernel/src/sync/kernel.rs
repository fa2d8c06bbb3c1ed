//! The locks' kernel side: `struct mutex` and `spinlock_t`, through the crate's bindings.

use core::ffi::CStr;

use super::{Backend, LockClassKey};
use crate::bindings;

pub type KeyState = bindings::lock_class_key;

/// The kernel's `struct mutex`.
pub struct MutexBackend;

// SAFETY: the kernel's mutex_lock/mutex_unlock (host: a compare-and-swap flag) give one holder at a time.
unsafe impl Backend for MutexBackend {
    type State = bindings::mutex;

    unsafe fn init(state: *mut bindings::mutex, name: &'static CStr, key: &'static LockClassKey) {
        // SAFETY: the caller's promise; name and key outlive the lock.
        unsafe { bindings::rkk_mutex_init(state, name.as_ptr(), key.as_ptr()) }
    }

    unsafe fn lock(state: *mut bindings::mutex) {
        // SAFETY: the caller's promise.
        unsafe { bindings::rkk_mutex_lock(state) }
    }

    unsafe fn unlock(state: *mut bindings::mutex) {
        // SAFETY: the caller's promise.
        unsafe { bindings::mutex_unlock(state) }
    }

    unsafe fn try_lock(state: *mut bindings::mutex) -> bool {
        // SAFETY: the caller's promise.
        unsafe { bindings::mutex_trylock(state) != 0 }
    }
}

/// The kernel's `spinlock_t`.
pub struct SpinLockBackend;

// SAFETY: the kernel's spin_lock/spin_unlock (host: the mutex's flag) give one holder at a time.
unsafe impl Backend for SpinLockBackend {
    type State = bindings::spinlock;

    unsafe fn init(state: *mut bindings::spinlock, name: &'static CStr, key: &'static LockClassKey) {
        // SAFETY: the caller's promise; name and key outlive the lock.
        unsafe { bindings::rkk_spin_lock_init(state, name.as_ptr(), key.as_ptr()) }
    }

    unsafe fn lock(state: *mut bindings::spinlock) {
        // SAFETY: the caller's promise.
        unsafe { bindings::rkk_spin_lock(state) }
    }

    unsafe fn unlock(state: *mut bindings::spinlock) {
        // SAFETY: the caller's promise.
        unsafe { bindings::rkk_spin_unlock(state) }
    }

    unsafe fn try_lock(state: *mut bindings::spinlock) -> bool {
        // SAFETY: the caller's promise.
        unsafe { bindings::rkk_spin_trylock(state) }
    }
}

