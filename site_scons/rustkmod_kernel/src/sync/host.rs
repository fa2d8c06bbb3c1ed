//! The locks' host side, for a module crate's tests: a flag taken by compare-and-swap, yielding
//! the thread while another holder has it. No lock classes.

use core::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{Backend, LockClassKey};

/// lockdep is the kernel's: a key holds nothing on the host.
pub struct KeyState;

/// A lock held or not.
pub struct Flag(AtomicBool);

fn take(flag: &Flag) {
    while flag.0.compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        std::thread::yield_now();
    }
}

/// The host's mutex.
pub struct MutexBackend;

// SAFETY: the kernel's mutex_lock/mutex_unlock (host: a compare-and-swap flag) give one holder at a time.
unsafe impl Backend for MutexBackend {
    type State = Flag;

    unsafe fn init(state: *mut Flag, _name: &'static CStr, _key: &'static LockClassKey) {
        // SAFETY: the caller gives a valid slot.
        unsafe { state.write(Flag(AtomicBool::new(false))) }
    }

    unsafe fn lock(state: *mut Flag) {
        // SAFETY: initialised (the caller's promise).
        take(unsafe { &*state })
    }

    unsafe fn unlock(state: *mut Flag) {
        // SAFETY: as for lock.
        unsafe { &*state }.0.store(false, Ordering::Release)
    }

    unsafe fn try_lock(state: *mut Flag) -> bool {
        // SAFETY: as for lock.
        unsafe { &*state }.0.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
    }
}

/// The host's spinlock: the same flag.
pub struct SpinLockBackend;

// SAFETY: the kernel's spin_lock/spin_unlock (host: the mutex's flag) give one holder at a time.
unsafe impl Backend for SpinLockBackend {
    type State = Flag;

    unsafe fn init(state: *mut Flag, name: &'static CStr, key: &'static LockClassKey) {
        // SAFETY: as MutexBackend's.
        unsafe { MutexBackend::init(state, name, key) }
    }

    unsafe fn lock(state: *mut Flag) {
        // SAFETY: as MutexBackend's.
        unsafe { MutexBackend::lock(state) }
    }

    unsafe fn unlock(state: *mut Flag) {
        // SAFETY: as MutexBackend's.
        unsafe { MutexBackend::unlock(state) }
    }

    unsafe fn try_lock(state: *mut Flag) -> bool {
        // SAFETY: as MutexBackend's.
        unsafe { MutexBackend::try_lock(state) }
    }
}
