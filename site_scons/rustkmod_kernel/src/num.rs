//! Integers with a known number of bits, as the in-tree `kernel::num`: a register field of `N`
//! bits is a [`Bounded<T, N>`], whose value always fits, so writing it back into the register
//! cannot spill into its neighbours.

use core::fmt;

/// A `T` whose value fits in its low `N` bits.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounded<T, const N: u32>(T);

macro_rules! bounded {
    (@format $type:ty: $($trait:ident)*) => {$(
        impl<const N: u32> fmt::$trait for Bounded<$type, N> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::$trait::fmt(&self.0, f)
            }
        }
    )*};
    ($($type:ty)*) => {$(
        impl<const N: u32> Bounded<$type, N> {
            const FITS: () = assert!(N >= 1 && N <= <$type>::BITS, "a Bounded has 1 to T::BITS bits");

            /// The low `N` bits of `value` (the others dropped).
            pub const fn from_masked(value: $type) -> Self {
                let () = Self::FITS;
                Bounded(if N == <$type>::BITS { value } else { value & ((1 << N) - 1) })
            }

            /// `value`, or None when it does not fit in `N` bits.
            pub const fn try_new(value: $type) -> Option<Self> {
                let () = Self::FITS;
                if N == <$type>::BITS || value >> N == 0 { Some(Bounded(value)) } else { None }
            }

            /// The value.
            pub const fn get(self) -> $type {
                self.0
            }
        }

        impl<const N: u32> From<Bounded<$type, N>> for $type {
            fn from(value: Bounded<$type, N>) -> $type {
                value.0
            }
        }

        impl From<$type> for Bounded<$type, { <$type>::BITS }> {
            fn from(value: $type) -> Self {
                Bounded(value)
            }
        }

        bounded!(@format $type: Display Debug LowerHex UpperHex);
    )*};
}

bounded!(u8 u16 u32 u64);

#[cfg(test)]
mod tests {
    use super::Bounded;

    #[test]
    fn a_value_that_does_not_fit_is_refused_or_masked() {
        assert_eq!(Bounded::<u8, 4>::try_new(0x0f).map(|b| b.get()), Some(0x0f));
        assert!(Bounded::<u8, 4>::try_new(0x10).is_none());
        assert_eq!(Bounded::<u16, 12>::from_masked(0xf123).get(), 0x123);
        assert_eq!(u32::from(Bounded::<u32, 32>::from(7)), 7);
        assert_eq!(format!("{:x}", Bounded::<u8, 8>::from(0xab)), "ab");
    }
}
