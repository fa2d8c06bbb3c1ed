//! `Completion`, as the in-tree `kernel::sync::Completion`: one side waits until the other says
//! it is done (`wait_for_completion` / `complete_all`). Made in place (`Completion::new()`).

use core::marker::PhantomPinned;

use crate::init::{pin_init_from_closure, PinInit};
#[cfg(target_os = "none")]
use crate::types::Opaque;

/// The kernel's `struct completion`.
pub struct Completion {
    #[cfg(target_os = "none")]
    inner: Opaque<crate::bindings::completion>,
    #[cfg(not(target_os = "none"))]
    done: core::sync::atomic::AtomicBool,
    _pinned: PhantomPinned,
}

// SAFETY: a completion has its own lock; completing and waiting from any thread is its purpose.
unsafe impl Send for Completion {}
// SAFETY: as for Send.
unsafe impl Sync for Completion {}

impl Completion {
    /// A completion not yet done.
    pub fn new() -> impl PinInit<Self> {
        let init = |slot: *mut Self| {
            #[cfg(target_os = "none")]
            // SAFETY: the slot is valid and pinned: the completion's wait queue is made at its
            // final place.
            unsafe { crate::bindings::rkk_init_completion(Opaque::raw_get(core::ptr::addr_of!((*slot).inner))) };
            #[cfg(not(target_os = "none"))]
            // SAFETY: the slot is valid for writes.
            unsafe { core::ptr::addr_of_mut!((*slot).done).write(core::sync::atomic::AtomicBool::new(false)) };
            Ok::<(), core::convert::Infallible>(())
        };
        // SAFETY: the closure initialises every field and cannot fail.
        unsafe { pin_init_from_closure(init) }
    }

    /// Done: every waiter, now and later, goes on.
    pub fn complete_all(&self) {
        #[cfg(target_os = "none")]
        // SAFETY: initialised in place (new).
        unsafe { crate::bindings::complete_all(self.inner.get()) };
        #[cfg(not(target_os = "none"))]
        self.done.store(true, core::sync::atomic::Ordering::Release);
    }

    /// Sleeps until done (process context only).
    pub fn wait_for_completion(&self) {
        #[cfg(target_os = "none")]
        // SAFETY: initialised in place (new); the caller may sleep (this function's rule).
        unsafe { crate::bindings::wait_for_completion(self.inner.get()) };
        #[cfg(not(target_os = "none"))]
        while !self.done.load(core::sync::atomic::Ordering::Acquire) {
            std::thread::yield_now();
        }
    }
}
