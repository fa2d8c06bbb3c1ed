//! Global locks, as the in-tree `global_lock!`: a lock that is a `static`, for state a module keeps
//! outside its module struct.
//!
//! ```ignore
//! kernel::sync::global_lock! {
//!     // SAFETY: (the in-tree form asks for an init call; here the lock makes itself at first use)
//!     unsafe(uninit) static OPENS: Mutex<u32> = 0;
//! }
//! *OPENS.lock() += 1;
//! ```
//!
//! The in-tree lock must be initialised by `unsafe { OPENS.init() }` before its first use; here the
//! first `lock()` initialises it in place (the static never moves), so safe code needs no call,
//! and `init()` is kept (idempotent) for code written the in-tree way. Others arriving while it is
//! made wait the few instructions of `mutex_init`/`spin_lock_init`. (An interrupt handler that
//! first-used a lock a thread of its CPU was making would wait forever; the crate has no
//! interrupt handlers yet, so safe code cannot get there. Disabling interrupts for the making
//! was tried: local_irq_save is a paravirt call that the verifier refuses on 6.12 and 7.x.)

use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::mem::MaybeUninit;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU8, Ordering};

use super::{Backend, Guard, Lock, LockClassKey};
use crate::init::PinInit;

/// What `global_lock!` declares for each lock: its name, data type, kind and lock class.
pub trait GlobalLockBackend {
    /// The lock's name for lockdep.
    const NAME: &'static CStr;
    /// The data it guards.
    type Item: 'static;
    /// Its kind (`MutexBackend`, `SpinLockBackend`).
    type Backend: Backend + 'static;
    /// Its lock class.
    fn get_lock_class() -> &'static LockClassKey;
}

const UNMADE: u8 = 0;
const MAKING: u8 = 1;
const MADE: u8 = 2;

/// A lock in a `static`; made in place at its first use.
pub struct GlobalLock<B: GlobalLockBackend> {
    state: AtomicU8,
    first: UnsafeCell<Option<B::Item>>,
    lock: UnsafeCell<MaybeUninit<Lock<B::Item, B::Backend>>>,
}

// SAFETY: the data is reached only through the lock (or moved into it once, by the one thread
// that wins `state`); it may move between threads as the lock's data may.
unsafe impl<B: GlobalLockBackend> Sync for GlobalLock<B> where B::Item: Send {}

impl<B: GlobalLockBackend> GlobalLock<B> {
    /// A lock holding `value` once made.
    ///
    /// # Safety
    /// Only `global_lock!` makes one (one static per backend type, as the in-tree crate asks).
    pub const unsafe fn new(value: B::Item) -> Self {
        GlobalLock { state: AtomicU8::new(UNMADE), first: UnsafeCell::new(Some(value)),
                     lock: UnsafeCell::new(MaybeUninit::uninit()) }
    }

    /// Makes the lock now (the in-tree form's required call; here any use makes it).
    ///
    /// # Safety
    /// None beyond the in-tree form's: kept `unsafe` so in-tree code builds unchanged.
    pub unsafe fn init(&'static self) {
        self.made();
    }

    /// The lock, made on first use: the first caller moves the value in and initialises the
    /// kernel lock in place (no sleep: a mutex or spinlock init); others wait for it.
    fn made(&'static self) -> &'static Lock<B::Item, B::Backend> {
        if self.state.load(Ordering::Acquire) != MADE {
            if self.state.compare_exchange(UNMADE, MAKING, Ordering::Acquire, Ordering::Acquire).is_ok() {
                // SAFETY: this thread won the state: it alone touches `first` and the slot; the
                // slot is in a static, so the lock made there never moves.
                unsafe {
                    let value = (*self.first.get()).take().expect("a global lock's value is taken once");
                    let slot = (*self.lock.get()).as_mut_ptr();
                    match Lock::new(value, B::NAME, B::get_lock_class()).__pinned_init(slot) {
                        Ok(()) => {}
                    }
                }
                self.state.store(MADE, Ordering::Release);
            } else {
                while self.state.load(Ordering::Acquire) != MADE {
                    core::hint::spin_loop();
                }
            }
        }
        // SAFETY: MADE: initialised, and never changed or moved again.
        unsafe { (*self.lock.get()).assume_init_ref() }
    }

    /// Waits for the lock and holds it until the guard is dropped.
    pub fn lock(&'static self) -> GlobalGuard<B> {
        GlobalGuard(self.made().lock())
    }

    /// The lock if it is free now.
    pub fn try_lock(&'static self) -> Option<GlobalGuard<B>> {
        self.made().try_lock().map(GlobalGuard)
    }
}

/// A held [`GlobalLock`]: its data.
#[must_use = "the lock is released at once when the guard is not kept"]
pub struct GlobalGuard<B: GlobalLockBackend + 'static>(Guard<'static, B::Item, B::Backend>);

impl<B: GlobalLockBackend> Deref for GlobalGuard<B> {
    type Target = B::Item;

    fn deref(&self) -> &B::Item {
        &self.0
    }
}

impl<B: GlobalLockBackend> DerefMut for GlobalGuard<B> {
    fn deref_mut(&mut self) -> &mut B::Item {
        &mut self.0
    }
}

/// `global_lock! { unsafe(uninit) static NAME: Mutex<T> = value; }` (or `SpinLock<T>`): a lock
/// that is a `static` (see the module's docs).
#[macro_export]
macro_rules! global_lock {
    {
        $(#[$meta:meta])* $pub:vis
        unsafe(uninit) static $name:ident: $kind:ident<$valuety:ty> = $value:expr;
    } => {
        #[doc = ::core::concat!("The lock kind of [`", ::core::stringify!($name), "`].")]
        #[allow(non_camel_case_types, unreachable_pub)]
        $pub enum $name {}

        impl $crate::sync::GlobalLockBackend for $name {
            const NAME: &'static ::core::ffi::CStr = $crate::c_str!(::core::stringify!($name));
            type Item = $valuety;
            type Backend = $crate::__global_lock_backend!($kind);

            fn get_lock_class() -> &'static $crate::sync::LockClassKey {
                $crate::static_lock_class!()
            }
        }

        $(#[$meta])*
        $pub static $name: $crate::sync::GlobalLock<$name> = {
            let value: $valuety = $value;
            // SAFETY: one static for this backend type, made by the macro.
            unsafe { $crate::sync::GlobalLock::new(value) }
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __global_lock_backend {
    (Mutex) => { $crate::sync::MutexBackend };
    (SpinLock) => { $crate::sync::SpinLockBackend };
}

#[cfg(test)]
mod tests {
    crate::global_lock! {
        unsafe(uninit) static COUNT: Mutex<u32> = 5;
    }

    #[test]
    fn a_global_lock_is_made_at_first_use_and_keeps_its_data() {
        *COUNT.lock() += 1;
        assert_eq!(*COUNT.lock(), 6);
        let held = COUNT.lock();
        assert!(COUNT.try_lock().is_none());
        drop(held);
        // SAFETY: (the in-tree form's call: a no-op once made)
        unsafe { COUNT.init() };
        assert_eq!(*COUNT.try_lock().unwrap(), 6);
    }
}
