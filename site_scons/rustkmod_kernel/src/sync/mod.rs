//! Locks over the kernel's own: `Mutex<T>` (`struct mutex`, may sleep) and `SpinLock<T>`
//! (`spinlock_t`), each guarding its data; the guard unlocks when dropped. Each `new_mutex!` or
//! `new_spinlock!` site has a lock class of its own, as each `mutex_init()` site has in C, so a
//! lockdep kernel tells the locks apart.
//!
//! ```ignore
//! let counter = KBox::pin_init(new_mutex!(0u32), GFP_KERNEL)?;
//! *counter.lock() += 1;
//! ```

use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::marker::{PhantomData, PhantomPinned};
use core::ops::{Deref, DerefMut};

use crate::init::{pin_init_from_closure, PinInit};

mod arc;
pub mod atomic;
mod completion;
mod condvar;
mod global;
mod locked_by;
pub use arc::{Arc, UniqueArc};
pub use completion::Completion;
pub use condvar::CondVar;
pub use global::{GlobalGuard, GlobalLock, GlobalLockBackend};
pub use crate::global_lock;
pub use locked_by::LockedBy;

/// A lock class: lockdep's name for every lock initialised at one place. It must be a `static`
/// (lockdep refuses a key outside static memory, "trying to register non-static key"), so safe
/// code gets one only from [`static_lock_class!`] (or [`new_mutex!`] and [`new_spinlock!`], which
/// make one per site).
pub struct LockClassKey(UnsafeCell<backend::KeyState>);

// SAFETY: the kernel alone touches the key, under its own locking.
unsafe impl Sync for LockClassKey {}

impl LockClassKey {
    /// A key for a `static`.
    ///
    /// # Safety
    /// The key is the value of a `static` item, and is never moved out of it.
    pub const unsafe fn new_static() -> Self {
        // SAFETY: an all-zero lock_class_key is what C's `static struct lock_class_key key;` holds.
        LockClassKey(UnsafeCell::new(unsafe { core::mem::zeroed() }))
    }

    #[allow(dead_code)]
    pub(crate) fn as_ptr(&self) -> *mut backend::KeyState {
        self.0.get()
    }
}

/// `static_lock_class!()`: a `&'static LockClassKey` of its own for this call site.
#[macro_export]
#[allow_internal_unsafe]
macro_rules! static_lock_class {
    () => {{
        // SAFETY: the key is this static's value, where it stays.
        static CLASS: $crate::sync::LockClassKey = unsafe { $crate::sync::LockClassKey::new_static() };
        &CLASS
    }};
}

/// Makes a lock of `$kind` around `$inner`, with a lock class of this call site and a name
/// (given, or the site's `file:line`).
#[doc(hidden)]
#[macro_export]
macro_rules! __new_lock {
    ($kind:ident, $inner:expr $(, $name:literal)?) => {
        $crate::sync::$kind::new($inner, $crate::__lock_name!($($name)?), $crate::static_lock_class!())
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __lock_name {
    () => { $crate::c_str!(concat!(file!(), ":", line!())) };
    ($name:literal) => { $crate::c_str!($name) };
}

/// `new_mutex!(value)` or `new_mutex!(value, "name")`: a [`Mutex`] initialiser with a lock class
/// of this site; place it with `KBox::pin_init(..., GFP_KERNEL)?`.
#[macro_export]
macro_rules! new_mutex {
    ($inner:expr $(, $name:literal)? $(,)?) => { $crate::__new_lock!(Mutex, $inner $(, $name)?) };
}

/// `new_spinlock!(value)` or `new_spinlock!(value, "name")`: a [`SpinLock`] initialiser, as
/// [`new_mutex!`].
#[macro_export]
macro_rules! new_spinlock {
    ($inner:expr $(, $name:literal)? $(,)?) => { $crate::__new_lock!(SpinLock, $inner $(, $name)?) };
}

/// What a lock kind does: init, lock and unlock on its C type.
///
/// # Safety
/// `lock` returns only once the caller holds the lock exclusively (no other `lock` returns until
/// `unlock`), `unlock` releases it, and `init` makes a state that `lock` accepts: [`Lock`] hands
/// out `&mut T` on that promise alone.
#[doc(hidden)]
pub unsafe trait Backend {
    type State;
    /// # Safety
    /// `state` is valid and does not move afterwards; `key` is static.
    unsafe fn init(state: *mut Self::State, name: &'static CStr, key: &'static LockClassKey);
    /// # Safety
    /// `state` was initialised.
    unsafe fn lock(state: *mut Self::State);
    /// # Safety
    /// The caller holds the lock.
    unsafe fn unlock(state: *mut Self::State);
    /// Takes the lock if it is free, without waiting: true when taken.
    ///
    /// # Safety
    /// `state` was initialised.
    unsafe fn try_lock(state: *mut Self::State) -> bool;
}

/// A lock of kind `B` around a `T`. Made only in place (`PinInit`), so it never moves.
pub struct Lock<T: ?Sized, B: Backend> {
    state: UnsafeCell<B::State>,
    _pinned: PhantomPinned,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands the data to one holder at a time; it may be sent where T may.
unsafe impl<T: ?Sized + Send, B: Backend> Send for Lock<T, B> {}
// SAFETY: as for Send: a shared lock gives each holder in turn exclusive access.
unsafe impl<T: ?Sized + Send, B: Backend> Sync for Lock<T, B> {}

impl<T, B: Backend> Lock<T, B> {
    /// An initialiser of the lock around what `data` makes (a value, or an initialiser of one),
    /// named `name` for lockdep, of class `key`.
    pub fn new(data: impl PinInit<T>, name: &'static CStr, key: &'static LockClassKey) -> impl PinInit<Self> {
        let init = move |slot: *mut Self| {
            // SAFETY: PinInit's caller gives a valid slot that does not move; the key is static;
            // the data's place is inside it (UnsafeCell<T> is laid out as T).
            unsafe {
                B::init(core::ptr::addr_of_mut!((*slot).state) as *mut B::State, name, key);
                let place = UnsafeCell::raw_get(core::ptr::addr_of!((*slot).data));
                match data.__pinned_init(place) {
                    Ok(()) => Ok(()),
                }
            }
        };
        // SAFETY: the closure initialises both fields and never fails (Infallible).
        unsafe { pin_init_from_closure::<Self, core::convert::Infallible, _>(init) }
    }
}

impl<T: ?Sized, B: Backend> Lock<T, B> {
    /// Waits for the lock (sleeping, for a mutex; spinning, for a spinlock) and holds it until the
    /// guard is dropped.
    pub fn lock(&self) -> Guard<'_, T, B> {
        // SAFETY: the state was initialised in place when the lock was made.
        unsafe { B::lock(self.state.get()) };
        Guard { lock: self, _not_send: PhantomData }
    }

    /// The lock if it is free now, else None (never waits).
    pub fn try_lock(&self) -> Option<Guard<'_, T, B>> {
        // SAFETY: the state was initialised in place when the lock was made.
        unsafe { B::try_lock(self.state.get()) }.then(|| Guard { lock: self, _not_send: PhantomData })
    }
}

/// The lock held: the data, until dropped. Unlocked by the task that locked it (a guard is not
/// `Send`); `mutex.lock();` alone unlocks at once, so the compiler warns of it.
#[must_use = "the lock is released at once when the guard is not kept"]
pub struct Guard<'a, T: ?Sized, B: Backend> {
    lock: &'a Lock<T, B>,
    _not_send: PhantomData<*mut ()>,     // unlocked by the task that locked it
}

impl<T: ?Sized, B: Backend> Guard<'_, T, B> {
    /// Releases the lock while a [`CondVar`] waits.
    ///
    /// # Safety
    /// The caller takes it back (`relock_after_wait`) before the guard is used or dropped, and
    /// touches no data of the lock meanwhile.
    pub(crate) unsafe fn unlock_for_wait(&mut self) {
        // SAFETY: the guard holds the lock.
        unsafe { B::unlock(self.lock.state.get()) };
    }

    /// Takes the lock back after `unlock_for_wait`.
    ///
    /// # Safety
    /// Only after `unlock_for_wait`.
    pub(crate) unsafe fn relock_after_wait(&mut self) {
        // SAFETY: initialised state; this task does not hold it (released by unlock_for_wait).
        unsafe { B::lock(self.lock.state.get()) };
    }
}

// SAFETY: a guard shared across threads gives only &T.
unsafe impl<T: ?Sized + Sync, B: Backend> Sync for Guard<'_, T, B> {}

impl<T: ?Sized, B: Backend> Deref for Guard<'_, T, B> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized, B: Backend> DerefMut for Guard<'_, T, B> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, and &mut self is unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized, B: Backend> Drop for Guard<'_, T, B> {
    fn drop(&mut self) {
        // SAFETY: the guard holds the lock.
        unsafe { B::unlock(self.lock.state.get()) };
    }
}

#[cfg(target_os = "none")]
#[path = "kernel.rs"]
mod backend;
#[cfg(not(target_os = "none"))]
#[path = "host.rs"]
mod backend;
pub use backend::{MutexBackend, SpinLockBackend};

/// A sleeping lock over the kernel's `struct mutex`: process context only.
pub type Mutex<T> = Lock<T, MutexBackend>;
/// A held [`Mutex`].
pub type MutexGuard<'a, T> = Guard<'a, T, MutexBackend>;
/// A spinning lock over the kernel's `spinlock_t`: the holder must not sleep.
pub type SpinLock<T> = Lock<T, SpinLockBackend>;
/// A held [`SpinLock`].
pub type SpinLockGuard<'a, T> = Guard<'a, T, SpinLockBackend>;

/// Counted references, where the in-tree crate keeps them (`kernel::sync::aref::ARef`).
pub mod aref {
    pub use crate::types::{ARef, AlwaysRefCounted};
}
