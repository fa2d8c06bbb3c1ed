//! Memory-mapped I/O, as the in-tree `kernel::io`: a mapping of a device's registers (a PCI
//! [`Bar`](crate::pci::Bar), ...) reads and writes them through [`Io`], whose accessors never
//! touch a byte outside the mapping:
//! - `read32(offset)`, `write8(value, offset)`, ...: the offset is checked when the module is
//!   built, against the size the mapping's type promises (`Bar<'_, SIZE>`). An offset the compiler
//!   cannot prove in bounds and aligned leaves a call to `rustkmod_io_offset_not_proven_in_bounds`,
//!   which no kernel exports: modpost and rustkmod's verifier refuse the module, naming it.
//! - `try_read32(offset)`, ...: checked when they run, against the mapping's real size; `EINVAL`
//!   for an offset out of bounds or misaligned.

use crate::error::{code::EINVAL, Result};

mod private {
    pub trait Sealed {}
}

#[cfg(target_os = "none")]
unsafe extern "C" {
    /// Exists nowhere: a call left in a module is an accessor whose offset was not proven in bounds.
    fn rustkmod_io_offset_not_proven_in_bounds() -> !;
}

/// Whether a `width`-byte access at `offset` fits in `size` bytes and is aligned.
#[inline(always)]
const fn fits(offset: usize, width: usize, size: usize) -> bool {
    offset % width == 0 && width <= size && offset <= size - width
}

#[inline(always)]
pub(crate) fn proven(offset: usize, width: usize, size: usize) {
    if !fits(offset, width, size) {
        #[cfg(target_os = "none")]
        // SAFETY: never runs: an offset that fits is folded away by the compiler; one that is not
        // proven leaves this call to a symbol no kernel has, and the module is refused at build.
        unsafe {
            rustkmod_io_offset_not_proven_in_bounds()
        };
        #[cfg(not(target_os = "none"))]
        panic!("I/O offset {offset:#x} ({width} bytes) is not in bounds of {size} bytes");
    }
}

macro_rules! accessors {
    ($($read:ident $try_read:ident $write:ident $try_write:ident $type:ty => $raw_read:ident $raw_write:ident;)*) => {$(
        #[doc = concat!("Reads a `", stringify!($type), "` at `offset` (checked at build time).")]
        #[inline(always)]
        fn $read(&self, offset: usize) -> $type {
            proven(offset, size_of::<$type>(), Self::MIN_SIZE);
            // SAFETY: in bounds of the mapping (MIN_SIZE <= its size) and aligned.
            unsafe { self.$raw_read(offset) }
        }

        #[doc = concat!("Reads a `", stringify!($type), "` at `offset`, or `EINVAL` when it is out of bounds.")]
        #[inline]
        fn $try_read(&self, offset: usize) -> Result<$type> {
            if !fits(offset, size_of::<$type>(), self.maxsize()) {
                return Err(EINVAL);
            }
            // SAFETY: in bounds of the mapping and aligned (just checked).
            Ok(unsafe { self.$raw_read(offset) })
        }

        #[doc = concat!("Writes a `", stringify!($type), "` at `offset` (checked at build time).")]
        #[inline(always)]
        fn $write(&self, value: $type, offset: usize) {
            proven(offset, size_of::<$type>(), Self::MIN_SIZE);
            // SAFETY: as for the read.
            unsafe { self.$raw_write(value, offset) }
        }

        #[doc = concat!("Writes a `", stringify!($type), "` at `offset`, or `EINVAL` when it is out of bounds.")]
        #[inline]
        fn $try_write(&self, value: $type, offset: usize) -> Result {
            if !fits(offset, size_of::<$type>(), self.maxsize()) {
                return Err(EINVAL);
            }
            // SAFETY: as for the read.
            unsafe { self.$raw_write(value, offset) };
            Ok(())
        }
    )*};
}

/// A live mapping of registers: its address and real size.
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct RawIo {
    address: usize,
    size: usize,
}

#[cfg_attr(not(target_os = "none"), allow(dead_code))]
impl RawIo {
    /// # Safety
    /// `address` is an `__iomem` mapping of `size` bytes, live while the value is used.
    pub(crate) unsafe fn new(address: usize, size: usize) -> RawIo {
        RawIo { address, size }
    }

    pub(crate) fn address(&self) -> usize {
        self.address
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

macro_rules! raw_accessors {
    ($($read:ident $write:ident $type:ty => $c_read:ident $c_write:ident;)*) => {$(
        impl RawIo {
            /// # Safety
            /// `offset` is in bounds and aligned.
            #[inline]
            pub(crate) unsafe fn $read(&self, offset: usize) -> $type {
                #[cfg(target_os = "none")]
                // SAFETY: the caller's promise; the mapping is live (RawIo::new's).
                return unsafe { crate::bindings::$c_read((self.address + offset) as *mut core::ffi::c_void) as $type };
                #[cfg(not(target_os = "none"))]
                // SAFETY: on the host a "mapping" is test memory of `size` bytes.
                return unsafe { core::ptr::read_volatile((self.address + offset) as *const $type) };
            }

            /// # Safety
            /// `offset` is in bounds and aligned.
            #[inline]
            pub(crate) unsafe fn $write(&self, value: $type, offset: usize) {
                #[cfg(target_os = "none")]
                // SAFETY: as for the read.
                unsafe { crate::bindings::$c_write(value as _, (self.address + offset) as *mut core::ffi::c_void) };
                #[cfg(not(target_os = "none"))]
                // SAFETY: as for the read.
                unsafe { core::ptr::write_volatile((self.address + offset) as *mut $type, value) };
            }
        }
    )*};
}

raw_accessors! {
    read8 write8 u8 => rkk_ioread8 rkk_iowrite8;
    read16 write16 u16 => rkk_ioread16 rkk_iowrite16;
    read32 write32 u32 => rkk_ioread32 rkk_iowrite32;
}

/// Register access of a mapping (sealed: the crate's mappings alone implement it, so the
/// accesses below always land in a live mapping).
pub trait Io: private::Sealed {
    /// The size the type promises (`Bar<'_, SIZE>`): what build-time checks check against.
    const MIN_SIZE: usize;

    /// The mapping's real size in bytes (at least `MIN_SIZE`).
    fn maxsize(&self) -> usize;

    /// # Safety
    /// `offset` is in bounds and aligned.
    #[doc(hidden)]
    unsafe fn __read8(&self, offset: usize) -> u8;
    /// # Safety
    /// As `__read8`.
    #[doc(hidden)]
    unsafe fn __read16(&self, offset: usize) -> u16;
    /// # Safety
    /// As `__read8`.
    #[doc(hidden)]
    unsafe fn __read32(&self, offset: usize) -> u32;
    /// # Safety
    /// As `__read8`.
    #[doc(hidden)]
    unsafe fn __write8(&self, value: u8, offset: usize);
    /// # Safety
    /// As `__read8`.
    #[doc(hidden)]
    unsafe fn __write16(&self, value: u16, offset: usize);
    /// # Safety
    /// As `__read8`.
    #[doc(hidden)]
    unsafe fn __write32(&self, value: u32, offset: usize);

    accessors! {
        read8 try_read8 write8 try_write8 u8 => __read8 __write8;
        read16 try_read16 write16 try_write16 u16 => __read16 __write16;
        read32 try_read32 write32 try_write32 u32 => __read32 __write32;
    }

    /// Reads the register at `location` (a register's name, `REGS::STATUS`, or an array's
    /// entry, `BAR::at(2)`), checked at build time as `read32` is.
    #[inline(always)]
    fn read<R: register::Register, L: register::Location<R>>(&self, location: L) -> R {
        R::from_raw(<R::Storage as register::Storage>::read(self, location.offset()))
    }

    /// Writes `value` to its register (one at a fixed offset).
    #[inline(always)]
    fn write_reg<R: register::FixedRegister>(&self, value: R) {
        <R::Storage as register::Storage>::write(self, value.into_raw(), R::OFFSET)
    }
}

/// A mapping's primitives from its RawIo (MMIO through ioread/iowrite).
macro_rules! mmio_primitives {
    () => {
        unsafe fn __read8(&self, offset: usize) -> u8 {
            // SAFETY: the caller's promise; the mapping is live.
            unsafe { self.raw().read8(offset) }
        }
        unsafe fn __read16(&self, offset: usize) -> u16 {
            // SAFETY: as above.
            unsafe { self.raw().read16(offset) }
        }
        unsafe fn __read32(&self, offset: usize) -> u32 {
            // SAFETY: as above.
            unsafe { self.raw().read32(offset) }
        }
        unsafe fn __write8(&self, value: u8, offset: usize) {
            // SAFETY: as above.
            unsafe { self.raw().write8(value, offset) }
        }
        unsafe fn __write16(&self, value: u16, offset: usize) {
            // SAFETY: as above.
            unsafe { self.raw().write16(value, offset) }
        }
        unsafe fn __write32(&self, value: u32, offset: usize) {
            // SAFETY: as above.
            unsafe { self.raw().write32(value, offset) }
        }
    };
}
pub(crate) use mmio_primitives;

pub(crate) use private::Sealed;

pub mod register;
#[doc(inline)]
pub use crate::register;

#[cfg(test)]
mod tests {
    use super::*;

    /// Test memory posing as a 16-byte mapping whose type promises 8.
    struct Fake {
        memory: core::cell::UnsafeCell<[u32; 4]>,
    }

    impl Sealed for Fake {}

    impl Fake {
        fn raw(&self) -> RawIo {
            // SAFETY: 16 bytes of test memory, live while `self` is.
            unsafe { RawIo::new(self.memory.get() as usize, 16) }
        }
    }

    impl Io for Fake {
        const MIN_SIZE: usize = 8;

        fn maxsize(&self) -> usize {
            16
        }

        mmio_primitives!();
    }

    #[test]
    fn an_access_fits_when_in_bounds_and_aligned() {
        assert!(fits(0, 4, 8) && fits(4, 4, 8) && fits(7, 1, 8));
        assert!(!fits(8, 1, 8) && !fits(6, 4, 8) && !fits(2, 4, 8) && !fits(0, 4, 2));
        assert!(!fits(usize::MAX - 1, 4, 8));              // no wrap-around
    }

    #[test]
    fn checked_accessors_use_the_real_size_and_refuse_the_rest() {
        let io = Fake { memory: core::cell::UnsafeCell::new([0; 4]) };
        io.write32(0x1234_5678, 4);
        assert_eq!(io.read32(4), 0x1234_5678);
        assert_eq!(io.try_read8(4), Ok(0x78));
        assert_eq!(io.try_write16(0xbeef, 12), Ok(()));    // past MIN_SIZE, inside the mapping
        assert_eq!(io.try_read16(12), Ok(0xbeef));
        assert_eq!(io.try_read32(16), Err(EINVAL));
        assert_eq!(io.try_read32(2), Err(EINVAL));         // misaligned
        assert_eq!(io.maxsize(), 16);
    }

    crate::register! {
        CONTROL(u16) @ 0x4 {
            7:0 low;
            15:8 high;
            3:3 flag;
        }
        WORDS(u32)[2] @ 0x0 {
            31:0 value;
        }
    }

    #[test]
    fn register_fields_are_set_without_touching_their_neighbours() {
        use crate::num::Bounded;
        let control = CONTROL::zeroed().with_low(Bounded::<u16, 8>::from_masked(0xab)).with_high(Bounded::<u16, 8>::from_masked(0xcd));
        assert_eq!(control.into_raw(), 0xcdab);
        assert_eq!((control.high().get(), control.flag().get()), (0xcd, 1));
        assert_eq!(control.with_flag(Bounded::<u16, 1>::from_masked(0)).into_raw(), 0xcda3);
        let io = Fake { memory: core::cell::UnsafeCell::new([0; 4]) };
        io.write_reg(control);
        assert_eq!(io.read16(4), 0xcdab);
        assert_eq!(io.read(CONTROL).low().get(), 0xab);
        use register::Array;
        assert_eq!(io.read(WORDS::at(1)).value().get(), 0xcdab);
    }

    #[test]
    #[should_panic(expected = "not in bounds")]
    fn an_array_index_past_the_array_is_refused() {
        use register::Array;
        let io = Fake { memory: core::cell::UnsafeCell::new([0; 4]) };
        io.read(WORDS::at(2));
    }

    #[test]
    #[should_panic(expected = "not in bounds")]
    fn a_build_checked_access_out_of_bounds_is_refused() {
        let io = Fake { memory: core::cell::UnsafeCell::new([0; 4]) };
        io.read32(8);
    }
}
