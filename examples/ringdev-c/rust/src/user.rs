//! The device's reads and writes on the user's own buffers: the Rust core copies them through
//! the kernel bindings rustkmod generates for each kernel (kernel_api.h). Built for kernels
//! only (`rustkmod_bindings`); the host tests drive `ringdev_read`/`ringdev_write` directly.

use core::ffi::c_void;

#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code, improper_ctypes,
        unsafe_op_in_unsafe_fn, unnecessary_transmutes, clippy::all)]
mod kernel {
    include!(env!("RUSTKMOD_BINDINGS"));
}

/// The most one read or write moves.
const CHUNK: usize = 256;

/// # Safety
/// `buf` is the user's buffer of `len` bytes, as the write file operation got it; the C side
/// holds its mutex.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ringdev_write_user(buf: *const c_void, len: usize) -> isize {
    let len = len.min(CHUNK);
    // SAFETY: memdup_user checks and copies the user range into a new kernel buffer, or
    // returns an error pointer; the buffer is ours until kfree.
    unsafe {
        let copy = kernel::memdup_user(buf, len as _);
        if kernel::IS_ERR(copy) {
            return kernel::PTR_ERR(copy) as isize;
        }
        let written = crate::ringdev_write(copy as *const u8, len);
        kernel::kfree(copy);
        written
    }
}

/// # Safety
/// `buf` is the user's buffer of `len` bytes, as the read file operation got it; the C side
/// holds its mutex.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ringdev_read_user(buf: *mut c_void, len: usize) -> isize {
    let mut out = [0u8; CHUNK];
    // SAFETY: `out` holds CHUNK bytes; copy_to_user checks the user range.
    unsafe {
        let count = crate::ringdev_read(out.as_mut_ptr(), len.min(CHUNK));
        if count > 0 && kernel::copy_to_user(buf, out.as_ptr() as *const c_void, count as _) != 0 {
            return -(kernel::EFAULT as isize);
        }
        count
    }
}
