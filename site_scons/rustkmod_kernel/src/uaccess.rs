//! User memory: a `UserSlice` is an address and a length in user space, read through a
//! `UserSliceReader` and written through a `UserSliceWriter`. Each copy is checked by the
//! kernel's `copy_from_user`/`copy_to_user`; a bad address is `EFAULT`, and reading or writing
//! past the slice's length is `EFAULT` too, before any copy. On the host (tests) a user address
//! is one of the test's own buffers, and only a null one is refused.

use core::ffi::c_void;
use core::mem::{size_of, MaybeUninit};

use crate::alloc::{Allocator, Flags, Vec};
use crate::error::{code, Result};
use crate::transmute::{AsBytes, FromBytes};

/// An address in user space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserPtr(usize);

impl UserPtr {
    /// The address as an ioctl's `arg` carries it.
    pub const fn from_addr(address: usize) -> UserPtr {
        UserPtr(address)
    }

    /// A pointer a file operation got (`char __user *`).
    pub fn from_ptr(pointer: *mut c_void) -> UserPtr {
        UserPtr(pointer as usize)
    }

    /// The address.
    pub const fn addr(self) -> usize {
        self.0
    }

    fn add(self, count: usize) -> UserPtr {
        UserPtr(self.0.wrapping_add(count))
    }
}

/// `length` bytes of user memory at `pointer`.
pub struct UserSlice {
    pointer: UserPtr,
    length: usize,
}

impl UserSlice {
    pub fn new(pointer: UserPtr, length: usize) -> UserSlice {
        UserSlice { pointer, length }
    }

    /// Reads the slice, front to back.
    pub fn reader(self) -> UserSliceReader {
        UserSliceReader { pointer: self.pointer, length: self.length }
    }

    /// Writes the slice, front to back.
    pub fn writer(self) -> UserSliceWriter {
        UserSliceWriter { pointer: self.pointer, length: self.length }
    }

    /// Both, over the same memory (an ioctl that reads its argument, then answers in it).
    pub fn reader_writer(self) -> (UserSliceReader, UserSliceWriter) {
        (UserSliceReader { pointer: self.pointer, length: self.length },
         UserSliceWriter { pointer: self.pointer, length: self.length })
    }

    /// Reads the whole slice into `buffer`, growing it with `flags`.
    pub fn read_all<A: Allocator>(self, buffer: &mut Vec<u8, A>, flags: Flags) -> Result<()> {
        self.reader().read_all(buffer, flags)
    }
}

/// The unread rest of a user slice.
pub struct UserSliceReader {
    pointer: UserPtr,
    length: usize,
}

impl UserSliceReader {
    /// The bytes left.
    pub fn len(&self) -> usize {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Skips `count` bytes (EFAULT past the end).
    pub fn skip(&mut self, count: usize) -> Result<()> {
        self.length = self.length.checked_sub(count).ok_or(code::EFAULT)?;
        self.pointer = self.pointer.add(count);
        Ok(())
    }

    /// Fills `out` from user memory, or EFAULT (nothing is consumed then).
    pub fn read_raw(&mut self, out: &mut [MaybeUninit<u8>]) -> Result<()> {
        if out.len() > self.length {
            return Err(code::EFAULT);
        }
        // SAFETY: `out` is writable for its length; copy_from_user checks the user range and
        // returns how many bytes it could not copy.
        let left = unsafe { copy_from_user(out.as_mut_ptr() as *mut c_void, self.pointer.0, out.len()) };
        if left != 0 {
            return Err(code::EFAULT);
        }
        self.pointer = self.pointer.add(out.len());
        self.length -= out.len();
        Ok(())
    }

    /// Fills `out` from user memory, or EFAULT.
    pub fn read_slice(&mut self, out: &mut [u8]) -> Result<()> {
        // SAFETY: u8 and MaybeUninit<u8> have one layout; read_raw writes only initialised bytes.
        let out = unsafe { &mut *(out as *mut [u8] as *mut [MaybeUninit<u8>]) };
        self.read_raw(out)
    }

    /// A `T` from the next `size_of::<T>()` bytes, or EFAULT.
    pub fn read<T: FromBytes>(&mut self) -> Result<T> {
        let mut value = MaybeUninit::<T>::uninit();
        // SAFETY: the value's bytes, as MaybeUninit<u8>s.
        let bytes = unsafe {
            core::slice::from_raw_parts_mut(value.as_mut_ptr() as *mut MaybeUninit<u8>, size_of::<T>())
        };
        self.read_raw(bytes)?;
        // SAFETY: every byte was written, and any bytes are a T (FromBytes).
        Ok(unsafe { value.assume_init() })
    }

    /// Everything left, appended to `buffer` (grown with `flags`: ENOMEM when it cannot grow).
    pub fn read_all<A: Allocator>(&mut self, buffer: &mut Vec<u8, A>, flags: Flags) -> Result<()> {
        let count = self.length;
        buffer.reserve(count, flags)?;
        let start = buffer.len();
        // SAFETY: reserve made room for `count` bytes past the length; they are set before the
        // length grows over them.
        unsafe {
            let room = core::slice::from_raw_parts_mut(buffer.as_mut_ptr().add(start) as *mut MaybeUninit<u8>, count);
            self.read_raw(room)?;
            buffer.set_len(start + count);
        }
        Ok(())
    }
}

/// The unwritten rest of a user slice.
pub struct UserSliceWriter {
    pointer: UserPtr,
    length: usize,
}

impl UserSliceWriter {
    /// The room left.
    pub fn len(&self) -> usize {
        self.length
    }

    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Copies `data` to user memory, or EFAULT (nothing is consumed then).
    pub fn write_slice(&mut self, data: &[u8]) -> Result<()> {
        if data.len() > self.length {
            return Err(code::EFAULT);
        }
        // SAFETY: `data` is readable for its length; copy_to_user checks the user range.
        let left = unsafe { copy_to_user(self.pointer.0, data.as_ptr() as *const c_void, data.len()) };
        if left != 0 {
            return Err(code::EFAULT);
        }
        self.pointer = self.pointer.add(data.len());
        self.length -= data.len();
        Ok(())
    }

    /// `value`'s bytes, or EFAULT.
    pub fn write<T: AsBytes>(&mut self, value: &T) -> Result<()> {
        // SAFETY: an AsBytes value's bytes are all initialised.
        let bytes = unsafe { core::slice::from_raw_parts(value as *const T as *const u8, size_of::<T>()) };
        self.write_slice(bytes)
    }
}

/// The bytes left uncopied (0 when all were).
///
/// # Safety
/// `to` is writable for `count` bytes.
#[cfg(target_os = "none")]
unsafe fn copy_from_user(to: *mut c_void, from: usize, count: usize) -> usize {
    // SAFETY: the caller's promise; the kernel checks the user range.
    unsafe { crate::bindings::rkk_copy_from_user(to, from as *const c_void, count as _) as usize }
}

/// # Safety
/// `from` is readable for `count` bytes.
#[cfg(target_os = "none")]
unsafe fn copy_to_user(to: usize, from: *const c_void, count: usize) -> usize {
    // SAFETY: the caller's promise; the kernel checks the user range.
    unsafe { crate::bindings::rkk_copy_to_user(to as *mut c_void, from, count as _) as usize }
}

/// # Safety
/// `to` is writable for `count` bytes; `from` is a buffer of the test's, of `count` bytes.
#[cfg(not(target_os = "none"))]
unsafe fn copy_from_user(to: *mut c_void, from: usize, count: usize) -> usize {
    if from == 0 && count > 0 {
        return count;
    }
    // SAFETY: the caller's promise.
    unsafe { core::ptr::copy(from as *const u8, to as *mut u8, count) };
    0
}

/// # Safety
/// `from` is readable for `count` bytes; `to` is a buffer of the test's, of `count` bytes.
#[cfg(not(target_os = "none"))]
unsafe fn copy_to_user(to: usize, from: *const c_void, count: usize) -> usize {
    if to == 0 && count > 0 {
        return count;
    }
    // SAFETY: the caller's promise.
    unsafe { core::ptr::copy(from as *const u8, to as *mut u8, count) };
    0
}
