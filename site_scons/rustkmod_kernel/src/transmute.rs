//! Types that may be made from any bytes (`FromBytes`) or seen as bytes (`AsBytes`): what
//! `UserSliceReader::read` and `UserSliceWriter::write` move to and from user space.

/// # Safety
/// Every bit pattern of the type's size is a valid value.
pub unsafe trait FromBytes {}

/// # Safety
/// The type has no padding and no pointers: its bytes may be shown to user space.
pub unsafe trait AsBytes {}

macro_rules! plain {
    ($($type:ty)*) => { $(
        // SAFETY: integers have no padding and every bit pattern is a value.
        unsafe impl FromBytes for $type {}
        // SAFETY: as above.
        unsafe impl AsBytes for $type {}
    )* };
}

plain!(u8 u16 u32 u64 usize i8 i16 i32 i64 isize);

// SAFETY: an array of such values is such a value.
unsafe impl<T: FromBytes, const N: usize> FromBytes for [T; N] {}
// SAFETY: as above.
unsafe impl<T: AsBytes, const N: usize> AsBytes for [T; N] {}
