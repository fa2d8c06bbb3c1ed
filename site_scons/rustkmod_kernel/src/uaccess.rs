//! User memory: a `UserSlice` is an address and a length in user space, read through a
//! `UserSliceReader` and written through a `UserSliceWriter`. Each copy is checked by the
//! kernel's `copy_from_user`/`copy_to_user`; a bad address is `EFAULT`, and reading or writing
//! past the slice's length is `EFAULT` too, before any copy.
//!
//! On the host (tests) user memory is what the test made a [`UserBuffer`] of, and nothing else:
//! a copy that reaches outside every live buffer is `EFAULT`, as the kernel's would be, so a
//! device's tests cannot pass by reading or writing the test's own stack or freed memory.

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

#[cfg(not(target_os = "none"))]
pub use host::UserBuffer;
#[cfg(not(target_os = "none"))]
use host::{copy_from_user, copy_to_user};

/// User memory on the host: buffers a test made, listed while they live.
#[cfg(not(target_os = "none"))]
mod host {
    use core::ffi::c_void;
    use std::boxed::Box;
    use std::sync::Mutex;
    use std::vec::Vec;

    use super::{UserPtr, UserSlice};
    use crate::transmute::{AsBytes, FromBytes};

    /// The live buffers' (start, length): what "user space" is in a test.
    static BUFFERS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

    /// A test's stand-in for user memory: bytes a device's operations may read and write through
    /// a [`UserSlice`] over [`UserBuffer::ptr`] while it lives.
    ///
    /// ```ignore
    /// let buffer = UserBuffer::from_bytes(b"hello");
    /// Device::write(state, &file, &mut buffer.slice().reader(), &mut 0)?;
    /// let answer = UserBuffer::new(16);
    /// let count = Device::read(state, &file, &mut answer.slice().writer(), &mut 0)?;
    /// assert_eq!(&answer.to_vec()[..count], b"hello");
    /// ```
    pub struct UserBuffer {
        start: *mut u8,
        length: usize,
    }

    // SAFETY: the buffer's bytes are reached only through raw copies made with BUFFERS locked.
    unsafe impl Send for UserBuffer {}
    // SAFETY: as for Send.
    unsafe impl Sync for UserBuffer {}

    impl UserBuffer {
        /// `length` zero bytes.
        pub fn new(length: usize) -> UserBuffer {
            UserBuffer::from_bytes(&std::vec![0u8; length])
        }

        /// A copy of `bytes`.
        pub fn from_bytes(bytes: &[u8]) -> UserBuffer {
            // at least one byte, so that every buffer has an address of its own
            let mut owned = Vec::with_capacity(bytes.len().max(1));
            owned.extend_from_slice(bytes);
            owned.resize(bytes.len().max(1), 0);
            let start = Box::into_raw(owned.into_boxed_slice()) as *mut u8;
            BUFFERS.lock().unwrap_or_else(|e| e.into_inner()).push((start as usize, bytes.len()));
            UserBuffer { start, length: bytes.len() }
        }

        /// `value`'s bytes (an ioctl's argument).
        pub fn of<T: AsBytes>(value: &T) -> UserBuffer {
            // SAFETY: an AsBytes value's bytes are all initialised.
            UserBuffer::from_bytes(unsafe {
                core::slice::from_raw_parts(value as *const T as *const u8, core::mem::size_of::<T>())
            })
        }

        /// The buffer's address, as user space would pass it.
        pub fn ptr(&self) -> UserPtr {
            UserPtr::from_ptr(self.start as *mut c_void)
        }

        /// The whole buffer as a user slice.
        pub fn slice(&self) -> UserSlice {
            UserSlice::new(self.ptr(), self.length)
        }

        /// A copy of the bytes now.
        pub fn to_vec(&self) -> Vec<u8> {
            let _listed = BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
            // SAFETY: the buffer's own bytes; copies into it happen only with BUFFERS locked.
            unsafe { core::slice::from_raw_parts(self.start, self.length) }.to_vec()
        }

        /// The first bytes as a `T` (what an ioctl wrote back).
        pub fn value<T: FromBytes>(&self) -> T {
            let bytes = self.to_vec();
            assert!(bytes.len() >= core::mem::size_of::<T>(), "a {}-byte buffer holds no such value", bytes.len());
            // SAFETY: enough bytes, and any bytes are a T (FromBytes); read unaligned.
            unsafe { (bytes.as_ptr() as *const T).read_unaligned() }
        }
    }

    impl Drop for UserBuffer {
        fn drop(&mut self) {
            let mut listed = BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
            let at = listed.iter().position(|&(start, _)| start == self.start as usize);
            listed.swap_remove(at.expect("a live UserBuffer is listed"));
            // SAFETY: made by from_bytes with this length (at least 1); unlisted first, so no copy
            // reaches it any more.
            drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(self.start, self.length.max(1))) });
        }
    }

    /// Runs `copy` with the live buffers locked when `[address, address + count)` lies inside one;
    /// else says where the test should have put it, and returns false (EFAULT).
    fn within_a_buffer(address: usize, count: usize, copy: impl FnOnce()) -> bool {
        let listed = BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
        let end = address.checked_add(count);
        if listed.iter().any(|&(start, length)| address >= start && end.is_some_and(|end| end <= start + length)) {
            copy();
            return true;
        }
        std::eprintln!("kernel (host): user address {address:#x} (+{count} bytes) is in no live UserBuffer: EFAULT \
                        (make user memory with kernel::uaccess::UserBuffer::new(len) or ::from_bytes(..))");
        false
    }

    /// The bytes left uncopied (0 when all were).
    ///
    /// # Safety
    /// `to` is writable for `count` bytes.
    pub unsafe fn copy_from_user(to: *mut c_void, from: usize, count: usize) -> usize {
        if count == 0 {
            return 0;
        }
        // SAFETY: `from` lies in a live buffer (checked, and kept alive by the lock); the
        // caller's promise for `to`.
        let copied = within_a_buffer(from, count, || unsafe { core::ptr::copy(from as *const u8, to as *mut u8, count) });
        if copied { 0 } else { count }
    }

    /// # Safety
    /// `from` is readable for `count` bytes.
    pub unsafe fn copy_to_user(to: usize, from: *const c_void, count: usize) -> usize {
        if count == 0 {
            return 0;
        }
        // SAFETY: as for copy_from_user.
        let copied = within_a_buffer(to, count, || unsafe { core::ptr::copy(from as *const u8, to as *mut u8, count) });
        if copied { 0 } else { count }
    }
}

#[cfg(all(test, not(target_os = "none")))]
mod tests {
    use super::*;
    use crate::alloc::flags::GFP_KERNEL;
    use crate::alloc::KVec;

    #[test]
    fn a_buffer_is_read_and_written_through_its_slice() {
        let buffer = UserBuffer::from_bytes(b"hello");
        let mut bytes = KVec::new();
        buffer.slice().read_all(&mut bytes, GFP_KERNEL).unwrap();
        assert_eq!(&bytes[..], b"hello");
        let out = UserBuffer::new(8);
        out.slice().writer().write(&0x0102_0304u32).unwrap();
        assert_eq!(out.value::<u32>(), 0x0102_0304);
    }

    #[test]
    fn memory_outside_every_live_buffer_is_efault() {
        let mut own = [0u8; 8];
        let own_slice = UserSlice::new(UserPtr::from_ptr(own.as_mut_ptr().cast()), own.len());
        assert_eq!(own_slice.writer().write_slice(b"x"), Err(code::EFAULT));
        let buffer = UserBuffer::new(4);
        let address = buffer.ptr();
        let past_the_end = UserSlice::new(address, 5);
        assert_eq!(past_the_end.reader().read::<[u8; 5]>(), Err(code::EFAULT));
        drop(buffer);                 // freed: its address is no user memory any more
        assert_eq!(UserSlice::new(address, 4).reader().read::<u32>(), Err(code::EFAULT));
        assert_eq!(UserSlice::new(UserPtr::from_addr(usize::MAX - 1), 4).reader().read::<u32>(), Err(code::EFAULT));
    }
}
