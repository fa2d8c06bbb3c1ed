//! The user's buffers of a `read_iter`/`write_iter` (`struct iov_iter`), as the in-tree
//! `kernel::iov`: [`IovIterDest`] is where a read copies to, [`IovIterSource`] where a write
//! copies from. The kernel's copy routines check every user address; a fault ends the copy short.

use core::marker::PhantomData;

use crate::alloc::{AllocError, Allocator, Flags, Vec};
#[cfg(target_os = "none")]
use crate::bindings;
use crate::error::{code, Result};

/// Where a read copies to.
pub struct IovIterDest<'data> {
    #[cfg(target_os = "none")]
    iter: *mut bindings::iov_iter,
    #[cfg(not(target_os = "none"))]
    buffer: &'data mut [u8],
    _data: PhantomData<&'data mut [u8]>,
}

impl<'data> IovIterDest<'data> {
    /// # Safety
    /// `iter` is the kernel's destination iterator of a read, live for `'data`.
    #[cfg(target_os = "none")]
    pub(crate) unsafe fn from_raw(iter: *mut bindings::iov_iter) -> Self {
        IovIterDest { iter, _data: PhantomData }
    }

    /// On the host (tests): a read into `buffer`.
    #[cfg(not(target_os = "none"))]
    pub fn host(buffer: &'data mut [u8]) -> Self {
        IovIterDest { buffer, _data: PhantomData }
    }

    /// How many bytes the reader still takes.
    pub fn len(&self) -> usize {
        #[cfg(target_os = "none")]
        return remaining(self.iter);
        #[cfg(not(target_os = "none"))]
        self.buffer.len()
    }

    /// Whether the reader takes nothing more.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies what fits of `input` to the reader; the bytes copied (fewer at a fault).
    pub fn copy_to_iter(&mut self, input: &[u8]) -> usize {
        #[cfg(target_os = "none")]
        // SAFETY: `input` is readable for its length; the iterator is live (from_raw).
        return unsafe { bindings::rkk_copy_to_iter(input.as_ptr() as *const _, input.len(), self.iter) };
        #[cfg(not(target_os = "none"))]
        {
            let count = input.len().min(self.buffer.len());
            let buffer = core::mem::take(&mut self.buffer);
            buffer[..count].copy_from_slice(&input[..count]);
            self.buffer = &mut buffer[count..];
            count
        }
    }

    /// A read of `contents` at `*position`, as C's `simple_read_from_buffer`: copies from there,
    /// moves the position by what was copied, and returns it (0 at or past the end; `EFAULT`
    /// when nothing could be copied to a reader that wanted some).
    pub fn simple_read_from_buffer(&mut self, position: &mut i64, contents: &[u8]) -> Result<usize> {
        let start = usize::try_from(*position).map_err(|_| code::EINVAL)?;
        if start >= contents.len() || self.is_empty() {
            return Ok(0);
        }
        let copied = self.copy_to_iter(&contents[start..]);
        if copied == 0 {
            return Err(code::EFAULT);
        }
        *position += copied as i64;
        Ok(copied)
    }
}

/// Where a write copies from.
pub struct IovIterSource<'data> {
    #[cfg(target_os = "none")]
    iter: *mut bindings::iov_iter,
    #[cfg(not(target_os = "none"))]
    buffer: &'data [u8],
    _data: PhantomData<&'data [u8]>,
}

impl<'data> IovIterSource<'data> {
    /// # Safety
    /// `iter` is the kernel's source iterator of a write, live for `'data`.
    #[cfg(target_os = "none")]
    pub(crate) unsafe fn from_raw(iter: *mut bindings::iov_iter) -> Self {
        IovIterSource { iter, _data: PhantomData }
    }

    /// On the host (tests): a write of `buffer`.
    #[cfg(not(target_os = "none"))]
    pub fn host(buffer: &'data [u8]) -> Self {
        IovIterSource { buffer, _data: PhantomData }
    }

    /// How many bytes the writer still gives.
    pub fn len(&self) -> usize {
        #[cfg(target_os = "none")]
        return remaining(self.iter);
        #[cfg(not(target_os = "none"))]
        self.buffer.len()
    }

    /// Whether the writer gives nothing more.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies into `out` what the writer gives (at most its length); the bytes copied.
    pub fn copy_from_iter(&mut self, out: &mut [u8]) -> usize {
        #[cfg(target_os = "none")]
        // SAFETY: `out` is writable for its length; the iterator is live (from_raw).
        return unsafe { bindings::rkk_copy_from_iter(out.as_mut_ptr() as *mut _, out.len(), self.iter) };
        #[cfg(not(target_os = "none"))]
        {
            let count = out.len().min(self.buffer.len());
            out[..count].copy_from_slice(&self.buffer[..count]);
            self.buffer = &self.buffer[count..];
            count
        }
    }

    /// Appends all the writer gives to `out` (growing it with `flags`); the bytes appended.
    pub fn copy_from_iter_vec<A: Allocator>(&mut self, out: &mut Vec<u8, A>, flags: Flags) -> Result<usize> {
        let wanted = self.len();
        out.reserve(wanted, flags).map_err(|AllocError| code::ENOMEM)?;
        let start = out.len();
        // SAFETY: reserve made room for `wanted` bytes past the length; u8 needs no initialising
        // to be written, and only what was copied is counted.
        let copied = unsafe {
            let room = core::slice::from_raw_parts_mut(out.as_mut_ptr().add(start), wanted);
            room.fill(0);
            let copied = self.copy_from_iter(room);
            out.set_len(start + copied);
            copied
        };
        if copied == 0 && wanted != 0 {
            return Err(code::EFAULT);
        }
        Ok(copied)
    }
}

/// The bytes a live iterator still holds.
#[cfg(target_os = "none")]
fn remaining(iter: *mut bindings::iov_iter) -> usize {
    // SAFETY: both iterator types hold the kernel's live iterator (from_raw's promise).
    unsafe { bindings::rkk_iov_iter_count(iter) }
}
