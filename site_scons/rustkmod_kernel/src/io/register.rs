//! Registers with named fields, as the in-tree `kernel::io::register`: `register!` declares each
//! register's storage, offset and bit fields, and a mapping ([`Io`](super::Io)) reads and writes
//! whole registers: `bar.read(STATUS)`, `bar.write_reg(CONTROL::zeroed().with_enable(true))`,
//! `config.read(BAR::at(0))`. A field's value is a [`Bounded`](crate::num::Bounded) of its width
//! (or a type of the driver's made from one), so setting a field never touches its neighbours.
//!
//! ```ignore
//! register! {
//!     pub STATUS(u32) @ 0x20 {
//!         0:0 busy;
//!         7:7 interrupt_when_done;
//!     }
//!     pub BAR(u32)[6] @ 0x10 {
//!         31:0 value;
//!     }
//! }
//! ```

use super::Io;

/// What a register is stored as: `u8`, `u16` or `u32`, read and written whole.
pub trait Storage: Copy + private::Sealed {
    #[doc(hidden)]
    fn read<I: Io + ?Sized>(io: &I, offset: usize) -> Self;
    #[doc(hidden)]
    fn write<I: Io + ?Sized>(io: &I, value: Self, offset: usize);
}

mod private {
    pub trait Sealed {}
}

macro_rules! storage {
    ($($type:ty => $read:ident $write:ident;)*) => {$(
        impl private::Sealed for $type {}

        impl Storage for $type {
            #[inline(always)]
            fn read<I: Io + ?Sized>(io: &I, offset: usize) -> Self {
                io.$read(offset)
            }

            #[inline(always)]
            fn write<I: Io + ?Sized>(io: &I, value: Self, offset: usize) {
                io.$write(value, offset)
            }
        }
    )*};
}

storage! {
    u8 => read8 write8;
    u16 => read16 write16;
    u32 => read32 write32;
}

/// A register type `register!` made.
pub trait Register: Copy {
    /// Its storage.
    type Storage: Storage;
    /// The register of value `raw`.
    fn from_raw(raw: Self::Storage) -> Self;
    /// Its value.
    fn into_raw(self) -> Self::Storage;
}

/// A register at one offset.
pub trait FixedRegister: Register {
    /// Where it is.
    const OFFSET: usize;
}

/// An array of registers (`BAR(u32)[6] @ 0x10`): [`Array::at`] names one.
pub trait RegisterArray: Register {
    /// Where the first is.
    const OFFSET: usize;
    /// How many there are.
    const LEN: usize;
}

/// Where a register is: a fixed register's name, or an entry of an array.
pub trait Location<R: Register> {
    /// The offset in the mapping.
    fn offset(&self) -> usize;
}

/// The value `register!` gives a fixed register's name (`bar.read(STATUS)`).
pub struct At<R>(core::marker::PhantomData<R>);

impl<R> At<R> {
    #[doc(hidden)]
    pub const fn new() -> At<R> {
        At(core::marker::PhantomData)
    }
}

impl<R: FixedRegister> Location<R> for At<R> {
    #[inline(always)]
    fn offset(&self) -> usize {
        R::OFFSET
    }
}

/// Entry `index` of an array of registers.
pub struct ArrayAt<R> {
    index: usize,
    _register: core::marker::PhantomData<R>,
}

impl<R: RegisterArray> Location<R> for ArrayAt<R> {
    #[inline(always)]
    fn offset(&self) -> usize {
        let width = size_of::<R::Storage>();
        // an index past the array is refused as an offset past the mapping is
        super::proven(self.index * width, width, R::LEN * width);
        R::OFFSET + self.index * width
    }
}

/// `REGISTER::at(index)` for an array of registers.
pub trait Array: RegisterArray {
    /// Entry `index` (checked at build time, as offsets are).
    #[inline(always)]
    fn at(index: usize) -> ArrayAt<Self> {
        ArrayAt { index, _register: core::marker::PhantomData }
    }
}

impl<R: RegisterArray> Array for R {}

/// `register! { NAME(storage) @ offset { hi:lo field; hi:lo field => Type; } ... }`: register
/// types with a getter (`field()`) and a setter (`with_field(value)`) per field, `zeroed()`,
/// `into_raw()`, and a value of the same name to read them by. `NAME(storage)[count] @ offset`
/// declares an array (`NAME::at(i)`).
#[macro_export]
macro_rules! register {
    ($($(#[$attr:meta])* $vis:vis $name:ident ($storage:ty) $([$count:expr])? @ $offset:literal { $($fields:tt)* })*) => {
        $(
            $crate::register!(@one $(#[$attr])* $vis $name ($storage) [$($count)?] @ $offset { $($fields)* });
        )*
    };
    (@one $(#[$attr:meta])* $vis:vis $name:ident ($storage:ty) [] @ $offset:literal { $($fields:tt)* }) => {
        $crate::register!(@type $(#[$attr])* $vis $name ($storage) { $($fields)* });
        impl $crate::io::register::FixedRegister for $name {
            const OFFSET: usize = $offset;
        }
        #[allow(non_upper_case_globals, dead_code)]
        $vis const $name: $crate::io::register::At<$name> = $crate::io::register::At::new();
    };
    (@one $(#[$attr:meta])* $vis:vis $name:ident ($storage:ty) [$count:expr] @ $offset:literal { $($fields:tt)* }) => {
        $crate::register!(@type $(#[$attr])* $vis $name ($storage) { $($fields)* });
        impl $crate::io::register::RegisterArray for $name {
            const OFFSET: usize = $offset;
            const LEN: usize = $count;
        }
    };
    (@type $(#[$attr:meta])* $vis:vis $name:ident ($storage:ty) { $($hi:literal : $lo:literal $field:ident $(=> $as:ty)?;)* }) => {
        $(#[$attr])*
        #[derive(Clone, Copy, Default, PartialEq, Eq)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        $vis struct $name {
            raw: $storage,
        }

        #[allow(dead_code)]
        impl $name {
            /// All bits zero.
            $vis const fn zeroed() -> Self {
                $name { raw: 0 }
            }

            /// The register's value.
            $vis const fn into_raw(self) -> $storage {
                self.raw
            }

            /// The register of value `raw`.
            $vis const fn from_raw(raw: $storage) -> Self {
                $name { raw }
            }

            $($crate::register!(@field $vis $storage, $hi, $lo, $field $(, $as)?);)*
        }

        impl $crate::io::register::Register for $name {
            type Storage = $storage;

            fn from_raw(raw: $storage) -> Self {
                $name { raw }
            }

            fn into_raw(self) -> $storage {
                self.raw
            }
        }

        impl ::core::convert::From<$name> for $storage {
            fn from(register: $name) -> $storage {
                register.raw
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "{}({:#x})", stringify!($name), self.raw)
            }
        }
    };
    (@field $vis:vis $storage:ty, $hi:literal, $lo:literal, $field:ident) => {
        $crate::register!(@field $vis $storage, $hi, $lo, $field, $crate::num::Bounded<$storage, { $hi - $lo + 1 }>);
    };
    (@field $vis:vis $storage:ty, $hi:literal, $lo:literal, $field:ident, $as:ty) => {
        /// The field's value.
        $vis fn $field(self) -> $as {
            const { assert!($hi >= $lo && $hi < <$storage>::BITS, "a field's bits are hi:lo within the register") };
            let bits = $crate::num::Bounded::<$storage, { $hi - $lo + 1 }>::from_masked(self.raw >> $lo);
            <$as as ::core::convert::From<$crate::num::Bounded<$storage, { $hi - $lo + 1 }>>>::from(bits)
        }

        $crate::__register_setter! { [$vis] [$storage] [$hi] [$lo] [$field] }
    };
}
