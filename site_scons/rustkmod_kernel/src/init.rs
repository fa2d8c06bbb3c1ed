//! In-place initialisation, with the in-tree crate's names: what must not move once the kernel
//! knows its address (a mutex's wait list points at itself) is made where it stays.
//!
//! - [`PinInit<T, E>`]: makes a `T` at a fixed address, or fails with `E`; [`Init<T, E>`] may also
//!   be moved afterwards. A value is its own initialiser.
//! - `#[pin_data]` structs: `#[pin]` fields are made in place and never move; the others are
//!   ordinary. [`pin_init!`] / [`try_pin_init!`] make one, field by field (`field <- init` for an
//!   initialiser, `field: value` for a value); a field left out is a compile error, and on an
//!   error the fields made so far are dropped in reverse order.
//! - `KBox::pin_init(init, GFP_KERNEL)` (or `Arc::pin_init`, or a module's `InPlaceModule::init`)
//!   places it.
//!
//! ```ignore
//! #[pin_data]
//! struct Counter { #[pin] value: Mutex<u32>, name: &'static str }
//! let counter = KBox::pin_init(pin_init!(Counter { value <- new_mutex!(0), name: "c" }), GFP_KERNEL)?;
//! ```

use core::convert::Infallible;
use core::marker::PhantomData;
use core::pin::Pin;

use crate::alloc::{AllocError, Flags};
use crate::error::Error;

/// Initialises a `T` in place, at an address that stays fixed, or fails with `E`.
///
/// # Safety
/// An implementation that returns `Ok` has initialised the whole `T` at `slot`; one that returns
/// `Err` has left nothing there that needs dropping (and `slot` may be reused).
pub unsafe trait PinInit<T: ?Sized, E = Infallible>: Sized {
    /// Initialises `slot`.
    ///
    /// # Safety
    /// `slot` is valid for writes and aligned, and the `T` made there does not move afterwards.
    unsafe fn __pinned_init(self, slot: *mut T) -> Result<(), E>;

    /// This initialiser, then `f` on the pinned value (dropping it if `f` fails).
    fn pin_chain<F: FnOnce(Pin<&mut T>) -> Result<(), E>>(self, f: F) -> ChainPinInit<Self, F, T, E> {
        ChainPinInit(self, f, PhantomData)
    }
}

/// Initialises a `T` in place; the value may be moved afterwards (it has no pinned parts).
///
/// # Safety
/// As [`PinInit`], without the promise that the value stays.
pub unsafe trait Init<T: ?Sized, E = Infallible>: PinInit<T, E> {
    /// Initialises `slot`.
    ///
    /// # Safety
    /// `slot` is valid for writes and aligned.
    unsafe fn __init(self, slot: *mut T) -> Result<(), E>;

    /// This initialiser, then `f` on the value (dropping it if `f` fails).
    fn chain<F: FnOnce(&mut T) -> Result<(), E>>(self, f: F) -> ChainInit<Self, F, T, E> {
        ChainInit(self, f, PhantomData)
    }
}

// SAFETY: writing the value initialises the whole T and cannot fail. (Infallible only, as in the
// in-tree crate: a value's error type is then never left to infer.)
unsafe impl<T> Init<T> for T {
    unsafe fn __init(self, slot: *mut T) -> Result<(), Infallible> {
        // SAFETY: the caller gives a valid, aligned slot.
        unsafe { slot.write(self) };
        Ok(())
    }
}

// SAFETY: as Init.
unsafe impl<T> PinInit<T> for T {
    unsafe fn __pinned_init(self, slot: *mut T) -> Result<(), Infallible> {
        // SAFETY: the caller's promise, as for __init.
        unsafe { Init::__init(self, slot) }
    }
}

// SAFETY: an Ok value is written whole; an Err leaves the slot untouched. (The in-tree form: a
// function returning `impl PinInit<T, Error>` may end in `Ok(value)` and use `?` before it.)
unsafe impl<T, E> Init<T, E> for Result<T, E> {
    unsafe fn __init(self, slot: *mut T) -> Result<(), E> {
        // SAFETY: the caller gives a valid, aligned slot.
        unsafe { slot.write(self?) };
        Ok(())
    }
}

// SAFETY: as Init.
unsafe impl<T, E> PinInit<T, E> for Result<T, E> {
    unsafe fn __pinned_init(self, slot: *mut T) -> Result<(), E> {
        // SAFETY: the caller's promise, as for __init.
        unsafe { Init::__init(self, slot) }
    }
}

/// [`PinInit::pin_chain`]'s initialiser.
pub struct ChainPinInit<I, F, T: ?Sized, E>(I, F, PhantomData<fn(*mut T) -> E>);

// SAFETY: the value is made by the inner initialiser; when `f` fails it is dropped in place
// before the error is returned, so nothing is left.
unsafe impl<T: ?Sized, E, I: PinInit<T, E>, F: FnOnce(Pin<&mut T>) -> Result<(), E>> PinInit<T, E> for ChainPinInit<I, F, T, E> {
    unsafe fn __pinned_init(self, slot: *mut T) -> Result<(), E> {
        // SAFETY: the caller's promise.
        unsafe { self.0.__pinned_init(slot)? };
        // SAFETY: initialised just now, and pinned by the caller's promise.
        let value = unsafe { Pin::new_unchecked(&mut *slot) };
        (self.1)(value).inspect_err(|_| {
            // SAFETY: the value is initialised and is given up here.
            unsafe { core::ptr::drop_in_place(slot) }
        })
    }
}

/// [`Init::chain`]'s initialiser.
pub struct ChainInit<I, F, T: ?Sized, E>(I, F, PhantomData<fn(*mut T) -> E>);

// SAFETY: as ChainPinInit.
unsafe impl<T: ?Sized, E, I: Init<T, E>, F: FnOnce(&mut T) -> Result<(), E>> Init<T, E> for ChainInit<I, F, T, E> {
    unsafe fn __init(self, slot: *mut T) -> Result<(), E> {
        // SAFETY: the caller's promise.
        unsafe { self.0.__init(slot)? };
        // SAFETY: initialised just now.
        (self.1)(unsafe { &mut *slot }).inspect_err(|_| {
            // SAFETY: the value is initialised and is given up here.
            unsafe { core::ptr::drop_in_place(slot) }
        })
    }
}

// SAFETY: as Init.
unsafe impl<T: ?Sized, E, I: Init<T, E>, F: FnOnce(&mut T) -> Result<(), E>> PinInit<T, E> for ChainInit<I, F, T, E> {
    unsafe fn __pinned_init(self, slot: *mut T) -> Result<(), E> {
        // SAFETY: the caller's promise covers Init's.
        unsafe { self.__init(slot) }
    }
}

/// An initialiser made of a closure.
pub struct InitClosure<F, T: ?Sized, E>(F, PhantomData<fn(*mut T) -> E>);

// SAFETY: the closure's maker promised the PinInit contract (pin_init_from_closure).
unsafe impl<T: ?Sized, E, F: FnOnce(*mut T) -> Result<(), E>> PinInit<T, E> for InitClosure<F, T, E> {
    unsafe fn __pinned_init(self, slot: *mut T) -> Result<(), E> {
        (self.0)(slot)
    }
}

// SAFETY: the closure's maker promised the Init contract (init_from_closure).
unsafe impl<T: ?Sized, E, F: FnOnce(*mut T) -> Result<(), E>> Init<T, E> for InitClosure<F, T, E> {
    unsafe fn __init(self, slot: *mut T) -> Result<(), E> {
        (self.0)(slot)
    }
}

/// A `PinInit` made of `f`.
///
/// # Safety
/// `f` keeps the [`PinInit`] contract: on `Ok` the whole `T` at the slot is initialised, on `Err`
/// nothing there needs dropping.
pub const unsafe fn pin_init_from_closure<T: ?Sized, E, F: FnOnce(*mut T) -> Result<(), E>>(f: F) -> impl PinInit<T, E> {
    InitClosure(f, PhantomData)
}

/// An `Init` made of `f`.
///
/// # Safety
/// `f` keeps the [`Init`] contract (as [`pin_init_from_closure`], and the value may move).
pub const unsafe fn init_from_closure<T: ?Sized, E, F: FnOnce(*mut T) -> Result<(), E>>(f: F) -> impl Init<T, E> {
    InitClosure(f, PhantomData)
}

/// Makes the elements of the array at `slot` one by one (`one(i, place)`); on an error drops the
/// elements made so far and returns it.
///
/// # Safety
/// `slot` is valid for writes; `one` keeps the initialiser contract for its place.
unsafe fn fill_array<T, E, const N: usize>(slot: *mut [T; N], mut one: impl FnMut(usize, *mut T) -> Result<(), E>)
    -> Result<(), E> {
    let first = slot as *mut T;
    for index in 0..N {
        // SAFETY: element `index` of the slot, valid for writes (the caller's promise).
        if let Err(error) = one(index, unsafe { first.add(index) }) {
            // SAFETY: the elements before `index` were made, and are given up.
            unsafe { core::ptr::drop_in_place(core::ptr::slice_from_raw_parts_mut(first, index)) };
            return Err(error);
        }
    }
    Ok(())
}

/// An array of `N` elements, the `i`th made by `make(i)` in place; on an error the elements made
/// so far are dropped.
pub fn init_array_from_fn<I, const N: usize, T, E>(mut make: impl FnMut(usize) -> I) -> impl Init<[T; N], E>
where
    I: Init<T, E>,
{
    // SAFETY: each element's place is handed to its own Init; fill_array drops the made ones on
    // an error, so on Err nothing is left and on Ok every element is made.
    unsafe { init_from_closure(move |slot| fill_array(slot, |index, place| make(index).__init(place))) }
}

/// As [`init_array_from_fn`], each element made by a `PinInit` (the array then stays put).
pub fn pin_init_array_from_fn<I, const N: usize, T, E>(mut make: impl FnMut(usize) -> I) -> impl PinInit<[T; N], E>
where
    I: PinInit<T, E>,
{
    // SAFETY: as init_array_from_fn, in a pinned slot.
    unsafe { pin_init_from_closure(move |slot| fill_array(slot, |index, place| make(index).__pinned_init(place))) }
}

/// The drop of a `#[pin_data(PinnedDrop)]` struct, written `#[pinned_drop] impl PinnedDrop for T
/// { fn drop(self: Pin<&mut Self>) { ... } }`: it sees the struct pinned, and only the struct's
/// own `Drop` can call it (the token it takes has no safe maker).
pub trait PinnedDrop {
    /// Runs when the struct is dropped.
    fn drop(self: Pin<&mut Self>, only_call_from_drop: __internal::OnlyCallFromDrop);
}

/// Places a `T` made in place: `KBox::pin_init(init, GFP_KERNEL)`, as in the in-tree crate.
pub trait InPlaceInit<T>: Sized {
    /// What a pinned placement is (`Pin<KBox<T>>`, `Arc<T>`).
    type PinnedSelf;

    /// `init`'s `T` in memory allocated with `flags`; `init`'s error as it is (it must take an
    /// allocation failure).
    fn try_pin_init<E: From<AllocError>>(init: impl PinInit<T, E>, flags: Flags) -> Result<Self::PinnedSelf, E>;

    /// `init`'s `T` in memory allocated with `flags`; errors as kernel errors (ENOMEM for the
    /// allocation).
    fn pin_init<E>(init: impl PinInit<T, E>, flags: Flags) -> Result<Self::PinnedSelf, Error>
    where
        Error: From<E>,
    {
        // SAFETY: the slot is the one `Self::try_pin_init` gives, and the error is only mapped.
        let mapped = unsafe { pin_init_from_closure(|slot: *mut T| init.__pinned_init(slot).map_err(Error::from)) };
        Self::try_pin_init(mapped, flags)
    }

    /// `init`'s `T` (which may move) in memory allocated with `flags`.
    fn try_init<E: From<AllocError>>(init: impl Init<T, E>, flags: Flags) -> Result<Self, E>;

    /// As [`try_init`](InPlaceInit::try_init), errors as kernel errors.
    fn init<E>(init: impl Init<T, E>, flags: Flags) -> Result<Self, Error>
    where
        Error: From<E>,
    {
        // SAFETY: as in pin_init.
        let mapped = unsafe { init_from_closure(|slot: *mut T| init.__init(slot).map_err(Error::from)) };
        Self::try_init(mapped, flags)
    }
}

/// What the macros use; not for modules' own code.
#[doc(hidden)]
pub mod __internal {
    use core::marker::PhantomData;

    /// Implemented by `#[pin_data]` for its struct: a value with a method per field taking the
    /// field's slot and its initialiser, a `PinInit` for a `#[pin]` field and an `Init` for
    /// another.
    ///
    /// # Safety
    /// `PinData` has exactly those methods, so that no pinned field is made by a mere `Init`
    /// and then moved.
    /// `f`, typed as the closure that makes a `T` at its slot (see `__struct_init!`).
    pub fn typed_closure<T: ?Sized, E, F: FnOnce(*mut T) -> Result<(), E>>(f: F) -> F {
        f
    }

    pub unsafe trait HasPinData {
        type PinData: Copy;

        /// # Safety
        /// Only the initialiser macros call it.
        unsafe fn __pin_data() -> Self::PinData;
    }

    /// The argument of [`PinnedDrop::drop`](super::PinnedDrop::drop): made only by a
    /// `#[pin_data(PinnedDrop)]` struct's `Drop`.
    pub struct OnlyCallFromDrop(PhantomData<()>);

    impl OnlyCallFromDrop {
        /// # Safety
        /// Only the `Drop` that `#[pin_data(PinnedDrop)]` writes calls this.
        pub unsafe fn new() -> Self {
            OnlyCallFromDrop(PhantomData)
        }
    }

    /// Drops a field made by an initialiser macro unless the whole struct was made.
    pub struct DropGuard<T: ?Sized>(*mut T);

    impl<T: ?Sized> DropGuard<T> {
        /// # Safety
        /// `field` is initialised, and nothing else drops it while the guard lives.
        pub unsafe fn new(field: *mut T) -> Self {
            DropGuard(field)
        }
    }

    impl<T: ?Sized> Drop for DropGuard<T> {
        fn drop(&mut self) {
            // SAFETY: the field is initialised and this guard alone drops it (new's promise).
            unsafe { core::ptr::drop_in_place(self.0) }
        }
    }
}

/// `pin_init!(Type { field <- initialiser, field: value, ... })`: an initialiser of a
/// `#[pin_data]` struct that cannot fail (`impl PinInit<Type>`).
#[macro_export]
macro_rules! pin_init {
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* }) => {
        $crate::__struct_init!(pin, ::core::convert::Infallible; $t $(::<$($generics),*>)? { $($fields)* })
    };
}

/// `try_pin_init!(Type { ... })`: as [`pin_init!`], failing with a kernel `Error` (`?` works in
/// the fields); `try_pin_init!(Type { ... }? OtherError)` for another error type.
#[macro_export]
macro_rules! try_pin_init {
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* } ? $error:ty) => {
        $crate::__struct_init!(pin, $error; $t $(::<$($generics),*>)? { $($fields)* })
    };
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* }) => {
        $crate::__struct_init!(pin, $crate::error::Error; $t $(::<$($generics),*>)? { $($fields)* })
    };
}

/// `init!(Type { ... })`: an `Init` of any struct (every field's initialiser an `Init`: nothing
/// in it is pinned, so the value may move).
#[macro_export]
macro_rules! init {
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* }) => {
        $crate::__struct_init!(init, ::core::convert::Infallible; $t $(::<$($generics),*>)? { $($fields)* })
    };
}

/// `try_init!(Type { ... })`: as [`try_pin_init!`].
#[macro_export]
macro_rules! try_init {
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* } ? $error:ty) => {
        $crate::__struct_init!(init, $error; $t $(::<$($generics),*>)? { $($fields)* })
    };
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* }) => {
        $crate::__struct_init!(init, $crate::error::Error; $t $(::<$($generics),*>)? { $($fields)* })
    };
}

/// The initialiser of a `#[pin_data]` struct: each field made at its place in the slot in turn
/// (the user's expressions evaluated outside any `unsafe`), guarded so an error drops what was
/// made; then a struct expression that never runs proves every field was named once.
#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __struct_init {
    (pin, $error:ty; $t:ident $(::<$($generics:ty),*>)? { $($fields:tt)* }) => {{
        // The closure's type comes from `typed_closure` (not from an annotation of its parameter,
        // where a lifetime left out would be one for every lifetime: a struct borrowing a
        // function's argument could not be made).
        let init = $crate::init::__internal::typed_closure::<$t $(<$($generics),*>)?, $error, _>(move |slot| {
            // SAFETY: the pin data of the struct being made, used on its own slot.
            let data = unsafe { <$t $(<$($generics),*>)? as $crate::init::__internal::HasPinData>::__pin_data() };
            $crate::__init_fields!(pin, data, slot, $($fields)*);
            $crate::__init_check!($t $(::<$($generics),*>)?, [] $($fields)*);
            ::core::result::Result::Ok(())
        });
        // SAFETY: __init_fields makes each field at its place through the pin data (a PinInit
        // only for a #[pin] field), __init_check proves every field named, and on an error the
        // guards have dropped each field made.
        unsafe { $crate::init::pin_init_from_closure::<$t $(<$($generics),*>)?, $error, _>(init) }
    }};
    (init, $error:ty; $t:ident $(::<$($generics:ty),*>)? { $($fields:tt)* }) => {{
        let init = $crate::init::__internal::typed_closure::<$t $(<$($generics),*>)?, $error, _>(move |slot| {
            let data = ();
            $crate::__init_fields!(init, data, slot, $($fields)*);
            $crate::__init_check!($t $(::<$($generics),*>)?, [] $($fields)*);
            ::core::result::Result::Ok(())
        });
        // SAFETY: as for `pin`, each field made by an Init (so the value may move).
        unsafe { $crate::init::init_from_closure::<$t $(<$($generics),*>)?, $error, _>(init) }
    }};
}

#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __init_fields {
    ($mode:ident, $data:ident, $slot:ident, $(,)?) => { let _ = &$data; };
    ($mode:ident, $data:ident, $slot:ident, $field:ident <- $init:expr $(, $($rest:tt)*)?) => {
        let init = $init;
        $crate::__init_one!($mode, $data, $field, ::core::ptr::addr_of_mut!((*$slot).$field), init);
        $crate::__init_guarded!($mode, $data, $slot, $field, $($($rest)*)?);
    };
    ($mode:ident, $data:ident, $slot:ident, $field:ident : $value:expr $(, $($rest:tt)*)?) => {
        let value = $value;
        // SAFETY: the field's place in the slot, valid and aligned.
        unsafe { ::core::ptr::addr_of_mut!((*$slot).$field).write(value) };
        $crate::__init_guarded!($mode, $data, $slot, $field, $($($rest)*)?);
    };
    ($mode:ident, $data:ident, $slot:ident, $field:ident $(, $($rest:tt)*)?) => {
        $crate::__init_fields!($mode, $data, $slot, $field: $field $(, $($rest)*)?);
    };
}

/// One field made by its initialiser: through the pin data (`pin`: a `PinInit` only for a
/// `#[pin]` field) or as an `Init` (`init`).
#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __init_one {
    (pin, $data:ident, $field:ident, $place:expr, $init:ident) => {
        // SAFETY: the field's place in the pinned slot; the pin data's method for the field
        // takes the initialiser its pinning needs.
        unsafe { $data.$field($place, $init)? }
    };
    (init, $data:ident, $field:ident, $place:expr, $init:ident) => {
        // SAFETY: the field's place in the slot.
        unsafe { $crate::init::Init::__init($init, $place)? }
    };
}

/// The rest of the fields, with the field just made guarded until the whole struct is.
#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __init_guarded {
    ($mode:ident, $data:ident, $slot:ident, $field:ident, $($rest:tt)*) => {
        // SAFETY: the field was made just now, and only this guard drops it.
        let guard = unsafe { $crate::init::__internal::DropGuard::new(::core::ptr::addr_of_mut!((*$slot).$field)) };
        {
            $crate::__init_fields!($mode, $data, $slot, $($rest)*);
        }
        ::core::mem::forget(guard);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __init_check {
    ($t:ident $(::<$($generics:ty),*>)?, [$($done:ident)*] $(,)?) => {
        // never runs: a struct expression naming each field once, so a field left out (or
        // named twice) is a compile error here
        #[allow(unreachable_code, clippy::diverging_sub_expression, unused_variables)]
        let _ = || {
            let _ = $t $(::<$($generics),*>)? { $($done: ::core::panic!(),)* };
        };
    };
    ($t:ident $(::<$($generics:ty),*>)?, [$($done:ident)*] $field:ident <- $init:expr $(, $($rest:tt)*)?) => {
        $crate::__init_check!($t $(::<$($generics),*>)?, [$($done)* $field] $($($rest)*)?);
    };
    ($t:ident $(::<$($generics:ty),*>)?, [$($done:ident)*] $field:ident : $value:expr $(, $($rest:tt)*)?) => {
        $crate::__init_check!($t $(::<$($generics),*>)?, [$($done)* $field] $($($rest)*)?);
    };
    ($t:ident $(::<$($generics:ty),*>)?, [$($done:ident)*] $field:ident $(, $($rest:tt)*)?) => {
        $crate::__init_check!($t $(::<$($generics),*>)?, [$($done)* $field] $($($rest)*)?);
    };
}

/// What `#[pin_data]` expands to besides the struct (see `rustkmod_macros`).
#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __pin_data {
    (name: $name:ident, declared: {$($declared:tt)*}, used: {$($used:tt)*},
     pin_declared: {$($pin_declared:tt)*}, pin_used: {$($pin_used:tt)*}, where: {$($where:tt)*},
     pinned: {$($pfield:ident : $ptype:ty,)*}, unpinned: {$($ufield:ident : $utype:ty,)*}, drop: $drop:ident) => {
        const _: () = {
            #[doc(hidden)]
            pub struct __ThePinData $($declared)* where $($where)* {
                __phantom: ::core::marker::PhantomData<fn($name $($used)*) -> $name $($used)*>,
            }

            impl $($declared)* ::core::clone::Clone for __ThePinData $($used)* where $($where)* {
                fn clone(&self) -> Self {
                    *self
                }
            }

            impl $($declared)* ::core::marker::Copy for __ThePinData $($used)* where $($where)* {}

            #[allow(dead_code, private_interfaces, clippy::missing_safety_doc)]
            impl $($declared)* __ThePinData $($used)* where $($where)* {
                $(
                    /// # Safety
                    /// `slot` is this field's place in a pinned, uninitialised struct.
                    pub unsafe fn $pfield<E>(self, slot: *mut $ptype, init: impl $crate::init::PinInit<$ptype, E>)
                        -> ::core::result::Result<(), E> {
                        // SAFETY: the caller's promise: a valid slot that will not move.
                        unsafe { $crate::init::PinInit::__pinned_init(init, slot) }
                    }
                )*
                $(
                    /// # Safety
                    /// `slot` is this field's place in an uninitialised struct.
                    pub unsafe fn $ufield<E>(self, slot: *mut $utype, init: impl $crate::init::Init<$utype, E>)
                        -> ::core::result::Result<(), E> {
                        // SAFETY: the caller's promise: a valid slot.
                        unsafe { $crate::init::Init::__init(init, slot) }
                    }
                )*
            }

            // SAFETY: __ThePinData has one method per field, taking a PinInit for the #[pin] ones
            // and an Init for the others.
            unsafe impl $($declared)* $crate::init::__internal::HasPinData for $name $($used)* where $($where)* {
                type PinData = __ThePinData $($used)*;

                unsafe fn __pin_data() -> Self::PinData {
                    __ThePinData { __phantom: ::core::marker::PhantomData }
                }
            }

            // Unpin only when every #[pin] field is: the lifetime makes the bound one the
            // compiler checks per use (a user's own `impl Unpin` would conflict with this one).
            #[allow(dead_code)]
            struct __Unpin $($pin_declared)* where $($where)* {
                __phantom_pin: ::core::marker::PhantomData<fn(&'__pin ()) -> &'__pin ()>,
                __phantom: ::core::marker::PhantomData<fn($name $($used)*) -> $name $($used)*>,
                $($pfield: $ptype,)*
            }

            impl $($pin_declared)* ::core::marker::Unpin for $name $($used)*
            where
                __Unpin $($pin_used)*: ::core::marker::Unpin,
                $($where)*
            {}

            $crate::__pin_data_drop!($drop, $name, {$($declared)*}, {$($used)*}, {$($where)*});
        };
    };
}

/// A `#[pin_data]` struct either has no `Drop` (which would get `&mut` to pinned fields) or has
/// `#[pin_data(PinnedDrop)]` and a `#[pinned_drop]` impl, called from the `Drop` written here.
#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __pin_data_drop {
    (none, $name:ident, {$($declared:tt)*}, {$($used:tt)*}, {$($where:tt)*}) => {
        // A struct of #[pin] fields implementing Drop conflicts with this pair of impls: its drop
        // would see pinned fields unpinned. Use #[pin_data(PinnedDrop)] and #[pinned_drop].
        #[allow(non_camel_case_types, dead_code)]
        trait MustNotImplDrop_use_pin_data_PinnedDrop {}
        #[allow(drop_bounds)]
        impl<T: ::core::ops::Drop + ?Sized> MustNotImplDrop_use_pin_data_PinnedDrop for T {}
        impl $($declared)* MustNotImplDrop_use_pin_data_PinnedDrop for $name $($used)* where $($where)* {}
    };
    (PinnedDrop, $name:ident, {$($declared:tt)*}, {$($used:tt)*}, {$($where:tt)*}) => {
        impl $($declared)* ::core::ops::Drop for $name $($used)* where $($where)* {
            fn drop(&mut self) {
                // SAFETY: the value is being dropped: it never moves again.
                let pinned = unsafe { ::core::pin::Pin::new_unchecked(self) };
                // SAFETY: this is the struct's Drop.
                let token = unsafe { $crate::init::__internal::OnlyCallFromDrop::new() };
                $crate::init::PinnedDrop::drop(pinned, token);
            }
        }
    };
}
