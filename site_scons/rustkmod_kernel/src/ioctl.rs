//! ioctl command numbers, as C's `_IO`, `_IOR`, `_IOW`, `_IOWR` make them, with this kernel's
//! field layout (from its bindings): `const GET: u32 = _IOR::<u32>(b'r' as u32, 1);`.
#![allow(non_snake_case)]

// The kernel's constants, whatever C type each has (int or unsigned).
#[cfg(target_os = "none")]
mod layout {
    use crate::bindings;
    pub const DIRSHIFT: u32 = bindings::_IOC_DIRSHIFT as u32;
    pub const TYPESHIFT: u32 = bindings::_IOC_TYPESHIFT as u32;
    pub const NRSHIFT: u32 = bindings::_IOC_NRSHIFT as u32;
    pub const SIZESHIFT: u32 = bindings::_IOC_SIZESHIFT as u32;
    pub const SIZEMASK: u32 = bindings::_IOC_SIZEMASK as u32;
    pub const NONE: u32 = bindings::_IOC_NONE as u32;
    pub const READ: u32 = bindings::_IOC_READ as u32;
    pub const WRITE: u32 = bindings::_IOC_WRITE as u32;
}

// On the host (tests): asm-generic's layout, which x86, arm and riscv use.
#[cfg(not(target_os = "none"))]
mod layout {
    pub const DIRSHIFT: u32 = 30;
    pub const TYPESHIFT: u32 = 8;
    pub const NRSHIFT: u32 = 0;
    pub const SIZESHIFT: u32 = 16;
    pub const SIZEMASK: u32 = (1 << 14) - 1;
    pub const NONE: u32 = 0;
    pub const READ: u32 = 2;
    pub const WRITE: u32 = 1;
}

use layout::*;

/// The command number; a type or number past 8 bits is refused as C's `_IOC_TYPECHECK` refuses an
/// oversized argument (at compile time where the command is a `const`, as it should be).
const fn ioc(dir: u32, kind: u32, nr: u32, size: usize) -> u32 {
    assert!(kind <= 0xff, "an ioctl's type must fit in 8 bits");
    assert!(nr <= 0xff, "an ioctl's number must fit in 8 bits");
    (dir << DIRSHIFT) | (kind << TYPESHIFT) | (nr << NRSHIFT) | ((size as u32) << SIZESHIFT)
}

/// `size_of::<T>()`, refused at compile time when it does not fit the size field (16 KiB - 1 on
/// x86 and arm): it would spill into the direction bits.
const fn argument_size<T>() -> usize {
    const { assert!(core::mem::size_of::<T>() <= SIZEMASK as usize, "an ioctl's argument type is larger than the command's size field holds") };
    core::mem::size_of::<T>()
}

/// A command that moves no data.
pub const fn _IO(kind: u32, nr: u32) -> u32 {
    ioc(NONE, kind, nr, 0)
}

/// A command by which user space reads a `T` (the driver writes it).
pub const fn _IOR<T>(kind: u32, nr: u32) -> u32 {
    ioc(READ, kind, nr, argument_size::<T>())
}

/// A command by which user space writes a `T` (the driver reads it).
pub const fn _IOW<T>(kind: u32, nr: u32) -> u32 {
    ioc(WRITE, kind, nr, argument_size::<T>())
}

/// Both ways.
pub const fn _IOWR<T>(kind: u32, nr: u32) -> u32 {
    ioc(READ | WRITE, kind, nr, argument_size::<T>())
}

/// The size a command carries.
pub const fn _IOC_SIZE(command: u32) -> usize {
    ((command >> SIZESHIFT) & SIZEMASK) as usize
}
