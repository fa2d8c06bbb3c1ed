//! `CondVar`, as the in-tree `kernel::sync::CondVar`: wait until notified, with a lock's guard
//! released while asleep (`while !ready { cv.wait(&mut guard) }`). Made in place
//! (`new_condvar!()`): the kernel's wait queue head points at itself.

use core::ffi::CStr;
use core::marker::PhantomPinned;

use super::{Backend, Guard, LockClassKey};
use crate::init::{pin_init_from_closure, PinInit};
#[cfg(target_os = "none")]
use crate::types::Opaque;

/// A condition variable over the kernel's `wait_queue_head`.
pub struct CondVar {
    #[cfg(target_os = "none")]
    queue: Opaque<crate::bindings::wait_queue_head>,
    #[cfg(not(target_os = "none"))]
    notified: core::sync::atomic::AtomicUsize,
    _pinned: PhantomPinned,
}

// SAFETY: the wait queue has its own lock; waiting and waking from any thread is what it is for.
unsafe impl Send for CondVar {}
// SAFETY: as for Send.
unsafe impl Sync for CondVar {}

/// `new_condvar!()` or `new_condvar!("name")`: a [`CondVar`] initialiser with a lock class of
/// this site.
#[macro_export]
macro_rules! new_condvar {
    ($($name:literal)?) => {
        $crate::sync::CondVar::new($crate::__lock_name!($($name)?), $crate::static_lock_class!())
    };
}

impl CondVar {
    /// A condition variable named `name` for lockdep, of class `key`.
    pub fn new(name: &'static CStr, key: &'static LockClassKey) -> impl PinInit<Self> {
        let init = move |slot: *mut Self| {
            #[cfg(target_os = "none")]
            // SAFETY: the slot is valid and pinned (PinInit's caller): the head is made at its
            // final place; name and key are static.
            unsafe {
                crate::bindings::__init_waitqueue_head(Opaque::raw_get(core::ptr::addr_of!((*slot).queue)), name.as_ptr(),
                                                       key.as_ptr() as *mut _)
            };
            #[cfg(not(target_os = "none"))]
            {
                let _ = (name, key);
                // SAFETY: the slot is valid for writes.
                unsafe { core::ptr::addr_of_mut!((*slot).notified).write(core::sync::atomic::AtomicUsize::new(0)) };
            }
            Ok::<(), core::convert::Infallible>(())
        };
        // SAFETY: the closure initialises every field and cannot fail.
        unsafe { pin_init_from_closure(init) }
    }

    /// Releases the guard's lock, sleeps until notified (or spuriously), then takes the lock
    /// again. Process context only.
    pub fn wait<T: ?Sized, B: Backend>(&self, guard: &mut Guard<'_, T, B>) {
        self.sleep(guard, false);
    }

    /// As [`wait`](CondVar::wait), woken early by a signal too: true when a signal is pending.
    pub fn wait_interruptible<T: ?Sized, B: Backend>(&self, guard: &mut Guard<'_, T, B>) -> bool {
        self.sleep(guard, true)
    }

    #[cfg(target_os = "none")]
    fn sleep<T: ?Sized, B: Backend>(&self, guard: &mut Guard<'_, T, B>, interruptible: bool) -> bool {
        // SAFETY: an all-zero wait_queue_entry is what init_wait fills in.
        let mut entry: crate::bindings::wait_queue_entry = unsafe { core::mem::zeroed() };
        // SAFETY: the entry is on this stack frame and is taken off the queue (finish_wait)
        // before the frame goes; the guard's lock is held (the guard exists) and is released
        // only while this task sleeps, then taken back before the guard is used again.
        unsafe {
            crate::bindings::rkk_prepare_to_wait(self.queue.get(), &mut entry, interruptible);
            guard.unlock_for_wait();
            crate::bindings::schedule();
            guard.relock_after_wait();
            crate::bindings::finish_wait(self.queue.get(), &mut entry);
            interruptible && crate::bindings::rkk_signal_pending_current()
        }
    }

    #[cfg(not(target_os = "none"))]
    fn sleep<T: ?Sized, B: Backend>(&self, guard: &mut Guard<'_, T, B>, _interruptible: bool) -> bool {
        use core::sync::atomic::Ordering;
        let seen = self.notified.load(Ordering::Acquire);
        // SAFETY: the guard's lock is held; released only while yielding, then taken back.
        unsafe { guard.unlock_for_wait() };
        for _ in 0..1000 {
            if self.notified.load(Ordering::Acquire) != seen {
                break;
            }
            std::thread::yield_now();
        }
        // SAFETY: as above.
        unsafe { guard.relock_after_wait() };
        false
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.wake(1);
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.wake(0);
    }

    fn wake(&self, count: i32) {
        #[cfg(target_os = "none")]
        // SAFETY: the queue was initialised in place (new).
        unsafe { crate::bindings::rkk_wake_up(self.queue.get(), count) };
        #[cfg(not(target_os = "none"))]
        {
            let _ = count;
            self.notified.fetch_add(1, core::sync::atomic::Ordering::Release);
        }
    }
}
