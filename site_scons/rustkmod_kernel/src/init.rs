//! In-place initialisation, for what must not move once the kernel knows its address (a mutex's
//! wait list points at itself): `KBox::pin_init(new_mutex!(0), GFP_KERNEL)?`, as in the in-tree
//! crate. There are no `#[pin_data]` structs here: a struct keeps such a member as a
//! `Pin<KBox<Mutex<T>>>`.

use crate::error::Result;

/// Initialises a `T` in place, at an address that stays fixed.
///
/// # Safety
/// An implementation that returns `Ok` has initialised the whole `T` at `slot`; one that returns
/// `Err` has left nothing there that needs dropping.
pub unsafe trait PinInit<T> {
    /// Initialises `slot`.
    ///
    /// # Safety
    /// `slot` is valid for writes and aligned, and does not move afterwards.
    unsafe fn __pinned_init(self, slot: *mut T) -> Result<()>;
}

/// A `PinInit` made of a closure (what `Mutex::new` and `SpinLock::new` return).
pub struct InitClosure<F>(F);

impl<F> InitClosure<F> {
    /// # Safety
    /// `init` keeps the `PinInit` contract.
    pub const unsafe fn new(init: F) -> Self {
        InitClosure(init)
    }
}

// SAFETY: the closure was promised to keep the contract when the InitClosure was made.
unsafe impl<T, F: FnOnce(*mut T) -> Result<()>> PinInit<T> for InitClosure<F> {
    unsafe fn __pinned_init(self, slot: *mut T) -> Result<()> {
        (self.0)(slot)
    }
}
