//! `LockedBy`, as the in-tree `kernel::sync::LockedBy`: data guarded by a lock that guards
//! something else (one lock for a whole structure's parts): reach it with the owner's guard.

use core::cell::UnsafeCell;

/// `T` guarded by the lock around a `U` (`owner`): `access(&guard)` and `access_mut(&mut guard)`.
pub struct LockedBy<T: ?Sized, U: ?Sized> {
    owner: *const U,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through the owner's lock, which one thread holds at a time.
unsafe impl<T: ?Sized + Send, U: ?Sized> Send for LockedBy<T, U> {}
// SAFETY: as for Send: shared access is serialised by the owner's lock.
unsafe impl<T: ?Sized + Send, U: ?Sized> Sync for LockedBy<T, U> {}

impl<T, U> LockedBy<T, U> {
    /// `data`, guarded by the lock around `owner`. `U` must not be zero-sized (two such owners
    /// could share an address).
    pub fn new<B: super::Backend>(owner: &super::Lock<U, B>, data: T) -> Self {
        const { assert!(core::mem::size_of::<U>() > 0, "LockedBy needs an owner that is not zero-sized") };
        // only the address is kept, to compare with (no reference is made: the owner's data may
        // be borrowed mutably by its lock's holder right now)
        LockedBy { owner: owner.data.get() as *const U, data: UnsafeCell::new(data) }
    }
}

impl<T: ?Sized, U> LockedBy<T, U> {
    /// The data, seen through the owner (the lock's guard derefs to it). Panics (an oops) when
    /// `owner` is not the one given to `new`.
    pub fn access<'a>(&'a self, owner: &'a U) -> &'a T
    where
        T: Sync,
    {
        assert!(core::ptr::eq(owner, self.owner), "LockedBy: not the owner it was made with");
        // SAFETY: the caller holds `owner` (a reference to the locked U: the lock is held), so
        // no one has `&mut T` (that needs `&mut U`).
        unsafe { &*self.data.get() }
    }

    /// The data, changeable, through the owner held exclusively.
    pub fn access_mut<'a>(&'a self, owner: &'a mut U) -> &'a mut T {
        assert!(core::ptr::eq(owner, self.owner), "LockedBy: not the owner it was made with");
        // SAFETY: `&mut U` is unique while it lives (the lock is held, through `&mut guard`), so
        // this is the only reference to the data.
        unsafe { &mut *self.data.get() }
    }
}
