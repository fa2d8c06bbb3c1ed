//! Data that can be taken away while others may still hold a way to it, as the in-tree
//! `kernel::revocable`: [`Revocable::try_access`] gives a guard while the data is there, and None
//! once [`Revocable::revoke`] has run; `revoke` waits for the guards out, then drops the data.
//!
//! Unlike the in-tree type, whose guard is an RCU read-side section (which must not sleep), a
//! guard here is a count: it may be held across a sleep (`copy_to_user`, `fsleep`), and taking one
//! never waits, so an interrupt handler may too. `revoke` sleeps until the last guard is dropped:
//! it must not be called while the same thread holds a guard (it would wait for itself).

use core::cell::UnsafeCell;
use core::marker::PhantomPinned;
use core::mem::MaybeUninit;
use core::ops::Deref;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::init::{pin_init_from_closure, PinInit};
use crate::sync::Completion;

const REVOKED: usize = 1 << (usize::BITS - 1);

/// `T`, until revoked.
pub struct Revocable<T> {
    /// REVOKED, and the number of guards out.
    state: AtomicUsize,
    /// Completed by the last guard out once revoked (revoke waits on it).
    idle: Completion,
    data: UnsafeCell<MaybeUninit<T>>,
    _pinned: PhantomPinned,
}

// SAFETY: the data is dropped by whichever thread revokes (or drops) it: T: Send.
unsafe impl<T: Send> Send for Revocable<T> {}
// SAFETY: guards on several threads share &T (T: Sync); revoke may drop T on any thread (T: Send).
unsafe impl<T: Send + Sync> Sync for Revocable<T> {}

impl<T> Revocable<T> {
    /// `data`, made in place, available until revoked.
    pub fn new<E>(data: impl PinInit<T, E>) -> impl PinInit<Self, E> {
        let init = move |slot: *mut Self| {
            // SAFETY: PinInit's caller gives a valid slot that does not move; each field is
            // written once; the data's place is inside it (MaybeUninit<T> is laid out as T), and
            // a failure leaves nothing to drop (the completion needs no cleanup).
            unsafe {
                core::ptr::addr_of_mut!((*slot).state).write(AtomicUsize::new(0));
                match Completion::new().__pinned_init(core::ptr::addr_of_mut!((*slot).idle)) {
                    Ok(()) => {}
                }
                let place = UnsafeCell::raw_get(core::ptr::addr_of!((*slot).data)) as *mut T;
                data.__pinned_init(place)
            }
        };
        // SAFETY: the closure initialises every field, or fails having made nothing that needs dropping.
        unsafe { pin_init_from_closure(init) }
    }

    /// A guard on the data, or None once it is revoked (or being revoked).
    pub fn try_access(&self) -> Option<RevocableGuard<'_, T>> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & REVOKED != 0 {
                return None;
            }
            match self.state.compare_exchange_weak(state, state + 1, Ordering::Acquire, Ordering::Relaxed) {
                Ok(_) => return Some(RevocableGuard { revocable: self }),
                Err(now) => state = now,
            }
        }
    }

    /// `f` on the data, or None once it is revoked.
    pub fn try_access_with<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.try_access().map(|guard| f(&guard))
    }

    /// Whether the data is revoked (or being revoked).
    pub fn is_revoked(&self) -> bool {
        self.state.load(Ordering::Acquire) & REVOKED != 0
    }

    /// The data without a guard.
    ///
    /// # Safety
    /// The data is not revoked, and cannot be while the reference lives.
    #[doc(hidden)]
    pub unsafe fn __unchecked(&self) -> &T {
        // SAFETY: the caller's promise.
        unsafe { (*self.data.get()).assume_init_ref() }
    }

    /// Takes the data away: no new guard from now on; waits (sleeping) for the guards out, then
    /// drops the data. True if this call revoked it, false if it already was.
    pub fn revoke(&self) -> bool {
        let before = self.state.fetch_or(REVOKED, Ordering::AcqRel);
        if before & REVOKED != 0 {
            return false;
        }
        if before != 0 {
            self.idle.wait_for_completion();    // the last guard out completes it
        }
        // SAFETY: revoked, with no guard out (none can be taken now): nothing refers to the
        // data; only this call (the one that set REVOKED) drops it, once.
        unsafe { core::ptr::drop_in_place((*self.data.get()).as_mut_ptr()) };
        true
    }
}

impl<T> Drop for Revocable<T> {
    fn drop(&mut self) {
        if *self.state.get_mut() & REVOKED == 0 {
            // SAFETY: not revoked, so the data is there; `&mut self`: no guard is out.
            unsafe { core::ptr::drop_in_place(self.data.get_mut().as_mut_ptr()) };
        }
    }
}

/// Access to a revocable's data; while it lives, `revoke` waits.
pub struct RevocableGuard<'a, T> {
    revocable: &'a Revocable<T>,
}

impl<T> Deref for RevocableGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: a guard is only made while not revoked, and revoke drops the data only once
        // every guard is gone.
        unsafe { (*self.revocable.data.get()).assume_init_ref() }
    }
}

impl<T> Drop for RevocableGuard<'_, T> {
    fn drop(&mut self) {
        let before = self.revocable.state.fetch_sub(1, Ordering::Release);
        if before == REVOKED | 1 {
            // the last guard out of a revoked one: revoke is waiting
            core::sync::atomic::fence(Ordering::Acquire);
            self.revocable.idle.complete_all();
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;
    use crate::alloc::{flags::GFP_KERNEL, KBox};
    use std::sync::atomic::AtomicBool;

    struct Flagged<'a>(&'a AtomicBool);

    impl Drop for Flagged<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_guard_sees_the_data_until_revoked_and_revoke_drops_it_once() {
        let dropped = AtomicBool::new(false);
        let revocable = KBox::pin_init(Revocable::new(Ok::<_, core::convert::Infallible>(Flagged(&dropped))), GFP_KERNEL)
            .map_err(|_| ()).unwrap();
        assert!(revocable.try_access_with(|data: &Flagged<'_>| data.0.load(Ordering::SeqCst)) == Some(false));
        assert!(revocable.revoke());
        assert!(dropped.load(Ordering::SeqCst));
        assert!(revocable.try_access().is_none() && revocable.is_revoked());
        assert!(!revocable.revoke());
    }

    #[test]
    fn revoke_waits_for_a_guard_held_on_another_thread() {
        let dropped = AtomicBool::new(false);
        let revocable = KBox::pin_init(Revocable::new(Ok::<_, core::convert::Infallible>(Flagged(&dropped))), GFP_KERNEL)
            .map_err(|_| ()).unwrap();
        let revocable: &Revocable<Flagged<'_>> = &revocable;
        std::thread::scope(|scope| {
            let guard = revocable.try_access().unwrap();
            let revoker = scope.spawn(|| revocable.revoke());
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!guard.0.load(Ordering::SeqCst), "dropped while a guard was out");
            drop(guard);
            assert!(revoker.join().unwrap());
        });
        assert!(dropped.load(Ordering::SeqCst));
    }
}
