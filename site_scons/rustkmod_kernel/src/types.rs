//! Ownership across the C boundary, with the in-tree names: [`ForeignOwnable`] (what a C
//! `void *` may own: a file's `private_data`), [`ARef`] and [`AlwaysRefCounted`] (a counted
//! reference to an object the kernel counts: a `struct device`), [`Opaque`] (a C object Rust
//! never reads directly) and [`ScopeGuard`].

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::marker::{PhantomData, PhantomPinned};
use core::mem::MaybeUninit;
use core::ops::Deref;
use core::pin::Pin;
use core::ptr::NonNull;

use crate::alloc::KBox;
use crate::sync::Arc;

/// A Rust owner that can be kept as a C `void *` and taken back.
///
/// # Safety
/// `into_foreign` gives a pointer that `borrow` and `from_foreign` accept, and that stays valid
/// until `from_foreign`; `borrow`'s result does not outlive that.
pub unsafe trait ForeignOwnable: Sized {
    /// What a borrow of the kept value is (`&T`, `Pin<&T>`).
    type Borrowed<'a>;

    /// Gives up ownership to a pointer.
    fn into_foreign(self) -> *mut c_void;

    /// Takes back what `into_foreign` gave.
    ///
    /// # Safety
    /// `pointer` came from `into_foreign` of this type and is taken back once; no borrow of it
    /// lives on.
    unsafe fn from_foreign(pointer: *mut c_void) -> Self;

    /// Borrows the kept value.
    ///
    /// # Safety
    /// `pointer` came from `into_foreign` and is not taken back while the borrow lives.
    unsafe fn borrow<'a>(pointer: *mut c_void) -> Self::Borrowed<'a>;

    /// As `from_foreign`, or None for a null pointer.
    ///
    /// # Safety
    /// As `from_foreign`, when not null.
    unsafe fn try_from_foreign(pointer: *mut c_void) -> Option<Self> {
        if pointer.is_null() {
            None
        } else {
            // SAFETY: the caller's promise.
            Some(unsafe { Self::from_foreign(pointer) })
        }
    }
}

// SAFETY: the box's own pointer, owning, never null; borrowed as a shared reference.
unsafe impl<T: 'static> ForeignOwnable for KBox<T> {
    type Borrowed<'a> = &'a T;

    fn into_foreign(self) -> *mut c_void {
        KBox::into_raw(self) as *mut c_void
    }

    unsafe fn from_foreign(pointer: *mut c_void) -> Self {
        // SAFETY: the caller's promise: into_foreign's pointer, once.
        unsafe { KBox::from_raw(pointer as *mut T) }
    }

    unsafe fn borrow<'a>(pointer: *mut c_void) -> &'a T {
        // SAFETY: the caller's promise: alive while borrowed.
        unsafe { &*(pointer as *const T) }
    }
}

// SAFETY: as KBox; the value stays where it is (pinned) and is borrowed pinned.
unsafe impl<T: 'static> ForeignOwnable for Pin<KBox<T>> {
    type Borrowed<'a> = Pin<&'a T>;

    fn into_foreign(self) -> *mut c_void {
        // SAFETY: the pointer is only ever taken back as a Pin<KBox<T>>, so the value never moves.
        KBox::into_raw(unsafe { Pin::into_inner_unchecked(self) }) as *mut c_void
    }

    unsafe fn from_foreign(pointer: *mut c_void) -> Self {
        // SAFETY: the caller's promise; the value was pinned when given.
        unsafe { Pin::new_unchecked(KBox::from_raw(pointer as *mut T)) }
    }

    unsafe fn borrow<'a>(pointer: *mut c_void) -> Pin<&'a T> {
        // SAFETY: the caller's promise; pinned as given.
        unsafe { Pin::new_unchecked(&*(pointer as *const T)) }
    }
}

// SAFETY: an Arc's own count travels with the pointer (Arc::into_raw / from_raw).
unsafe impl<T: 'static> ForeignOwnable for Arc<T> {
    type Borrowed<'a> = &'a T;

    fn into_foreign(self) -> *mut c_void {
        Arc::into_raw(self) as *mut c_void
    }

    unsafe fn from_foreign(pointer: *mut c_void) -> Self {
        // SAFETY: the caller's promise.
        unsafe { Arc::from_raw(pointer as *const T) }
    }

    unsafe fn borrow<'a>(pointer: *mut c_void) -> &'a T {
        // SAFETY: the caller's promise: the Arc kept by the pointer keeps the value.
        unsafe { &*(pointer as *const T) }
    }
}

// SAFETY: nothing is kept; any pointer will do.
unsafe impl ForeignOwnable for () {
    type Borrowed<'a> = ();

    fn into_foreign(self) -> *mut c_void {
        NonNull::<u8>::dangling().as_ptr() as *mut c_void
    }

    unsafe fn from_foreign(_: *mut c_void) -> Self {}

    unsafe fn borrow<'a>(_: *mut c_void) -> Self::Borrowed<'a> {}
}

/// An object whose count the kernel keeps (`get_device`/`put_device`).
///
/// # Safety
/// `inc_ref` keeps the object alive until the matching `dec_ref`; a shared reference to it may
/// be had from any thread while a count is held.
pub unsafe trait AlwaysRefCounted {
    /// Takes a count.
    fn inc_ref(&self);

    /// Drops a count.
    ///
    /// # Safety
    /// The caller holds a count (from `inc_ref`) and gives it up.
    unsafe fn dec_ref(object: NonNull<Self>);
}

/// A counted reference to `T`: the count is dropped with it.
pub struct ARef<T: AlwaysRefCounted> {
    pointer: NonNull<T>,
    _owns: PhantomData<T>,
}

// SAFETY: a count may be taken and dropped on any thread (AlwaysRefCounted), and the object is
// shared: Sync is what moving the reference needs.
unsafe impl<T: AlwaysRefCounted + Sync + Send> Send for ARef<T> {}
// SAFETY: as for Send.
unsafe impl<T: AlwaysRefCounted + Sync + Send> Sync for ARef<T> {}

impl<T: AlwaysRefCounted> ARef<T> {
    /// Takes over a count the caller holds.
    ///
    /// # Safety
    /// The caller holds a count on the object and gives it to the `ARef`.
    pub unsafe fn from_raw(pointer: NonNull<T>) -> Self {
        ARef { pointer, _owns: PhantomData }
    }

    /// Gives up the count to a raw pointer (`from_raw` takes it back).
    pub fn into_raw(reference: Self) -> NonNull<T> {
        let pointer = reference.pointer;
        core::mem::forget(reference);
        pointer
    }
}

impl<T: AlwaysRefCounted> Clone for ARef<T> {
    fn clone(&self) -> Self {
        self.deref().into()
    }
}

impl<T: AlwaysRefCounted> From<&T> for ARef<T> {
    /// A new count on the object.
    fn from(object: &T) -> Self {
        object.inc_ref();
        // SAFETY: the count was just taken, for this ARef.
        unsafe { ARef::from_raw(NonNull::from(object)) }
    }
}

impl<T: AlwaysRefCounted> Deref for ARef<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the held count keeps the object alive.
        unsafe { self.pointer.as_ref() }
    }
}

impl<T: AlwaysRefCounted> Drop for ARef<T> {
    fn drop(&mut self) {
        // SAFETY: this ARef holds a count and gives it up once.
        unsafe { T::dec_ref(self.pointer) };
    }
}

/// A C object of type `T` inside a Rust one: never read or written by Rust directly (C may change
/// it at any time), only passed to C by pointer, and never moved once C knows it.
#[repr(transparent)]
pub struct Opaque<T> {
    value: UnsafeCell<MaybeUninit<T>>,
    _pinned: PhantomPinned,
}

impl<T> Opaque<T> {
    /// An object holding `value`.
    pub const fn new(value: T) -> Self {
        Opaque { value: UnsafeCell::new(MaybeUninit::new(value)), _pinned: PhantomPinned }
    }

    /// An object not yet initialised (C initialises it).
    pub const fn uninit() -> Self {
        Opaque { value: UnsafeCell::new(MaybeUninit::uninit()), _pinned: PhantomPinned }
    }

    /// An object of all zeroes (C's `= {}`).
    pub const fn zeroed() -> Self {
        Opaque { value: UnsafeCell::new(MaybeUninit::zeroed()), _pinned: PhantomPinned }
    }

    /// The pointer to hand to C.
    pub const fn get(&self) -> *mut T {
        UnsafeCell::raw_get(&self.value) as *mut T
    }

    /// The pointer to the object inside an `Opaque` at `this`.
    pub const fn raw_get(this: *const Self) -> *mut T {
        UnsafeCell::raw_get(this as *const UnsafeCell<MaybeUninit<T>>) as *mut T
    }
}

/// Runs a closure on its data when dropped, unless dismissed: cleanup on every early return.
pub struct ScopeGuard<T, F: FnOnce(T)>(Option<(T, F)>);

impl<T, F: FnOnce(T)> ScopeGuard<T, F> {
    /// A guard that runs `cleanup(data)` when dropped.
    pub fn new_with_data(data: T, cleanup: F) -> Self {
        ScopeGuard(Some((data, cleanup)))
    }

    /// Gives back the data; the cleanup does not run.
    pub fn dismiss(mut self) -> T {
        self.0.take().expect("a guard holds its data until dismissed").0
    }
}

impl ScopeGuard<(), fn(())> {
    /// A guard that runs `cleanup()` when dropped.
    pub fn new(cleanup: impl FnOnce()) -> ScopeGuard<(), impl FnOnce(())> {
        ScopeGuard::new_with_data((), move |_| cleanup())
    }
}

impl<T, F: FnOnce(T)> Deref for ScopeGuard<T, F> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0.as_ref().expect("a guard holds its data until dismissed").0
    }
}

impl<T, F: FnOnce(T)> core::ops::DerefMut for ScopeGuard<T, F> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0.as_mut().expect("a guard holds its data until dismissed").0
    }
}

impl<T, F: FnOnce(T)> Drop for ScopeGuard<T, F> {
    fn drop(&mut self) {
        if let Some((data, cleanup)) = self.0.take() {
            cleanup(data);
        }
    }
}


pub use macros::{CovariantForLt, ForLt};

/// A type with a lifetime left open, as the in-tree `kernel::types::ForLt`: `ForLt!(Data<'_>)`
/// names the family `Data<'a>` for every `'a` (`F::Of<'a>`). Data made for a binding `'bound`
/// (an auxiliary device's registration data) is stored lifetime-erased and handed back for a
/// shorter lifetime only.
pub trait ForLt {
    /// The type for lifetime `'a`.
    type Of<'a>: 'a;
}

/// A [`ForLt`] family that is covariant in its lifetime (`CovariantForLt!(Data<'_>)` proves it
/// when the module is built): a `&Of<'long>` may be read as a `&Of<'short>`.
///
/// # Safety
/// `Of<'a>` is covariant in `'a`.
pub unsafe trait CovariantForLt: ForLt {
    /// `long` seen for the shorter lifetime.
    fn cast_ref<'r, 'short: 'r, 'long: 'short>(long: &'r Self::Of<'long>) -> &'r Self::Of<'short> {
        // SAFETY: the trait's promise: covariant, so the shorter lifetime is a subtype.
        unsafe { core::mem::transmute::<&'r Self::Of<'long>, &'r Self::Of<'short>>(long) }
    }
}

/// What `ForLt!` names a family through: `dyn for<'a> WithLt<'a, Of = Data<'a>>`.
#[doc(hidden)]
pub trait WithLt<'a> {
    type Of: 'a;
}

/// The type `ForLt!` and `CovariantForLt!` expand to; `COVARIANT` is 1 only where the macro
/// checked covariance (not an API: write the macros).
#[doc(hidden)]
pub struct __ForLtImpl<T: ?Sized, const COVARIANT: usize>(PhantomData<T>);

impl<T: ?Sized + for<'a> WithLt<'a>, const COVARIANT: usize> ForLt for __ForLtImpl<T, COVARIANT> {
    type Of<'a> = <T as WithLt<'a>>::Of;
}

// SAFETY: CovariantForLt! makes COVARIANT 1 only after a function that turns an `Of<'long>`
// into an `Of<'short>` with no conversion compiled (which only covariance allows).
unsafe impl<T: ?Sized + for<'a> WithLt<'a>> CovariantForLt for __ForLtImpl<T, 1> {}

#[cfg(test)]
mod for_lt_tests {
    use super::{CovariantForLt, ForLt};

    struct Data<'a> {
        value: &'a u32,
    }

    type Covariant = crate::types::CovariantForLt!(Data<'_>);
    type Reference = crate::types::CovariantForLt!(&u32);
    type Explicit = crate::types::ForLt!(for<'x> Data<'x>);

    fn shorten<'s, F: CovariantForLt>(long: &'s F::Of<'static>) -> &'s F::Of<'s> {
        F::cast_ref(long)
    }

    #[test]
    fn a_family_names_the_type_for_every_lifetime() {
        static VALUE: u32 = 7;
        let data: <Covariant as ForLt>::Of<'static> = Data { value: &VALUE };
        assert_eq!(*shorten::<Covariant>(&data).value, 7);
        let reference: <Reference as ForLt>::Of<'static> = &VALUE;
        assert_eq!(**shorten::<Reference>(&reference), 7);
        let explicit: <Explicit as ForLt>::Of<'_> = Data { value: &VALUE };
        assert_eq!(*explicit.value, 7);
    }
}
