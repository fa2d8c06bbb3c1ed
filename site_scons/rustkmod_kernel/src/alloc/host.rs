//! The host's allocator, for a module crate's tests: the C library's malloc family. The flags
//! change nothing here but `__GFP_ZERO`.

use core::ffi::c_void;

use super::Flags;

unsafe extern "C" {
    fn malloc(size: usize) -> *mut c_void;
    fn calloc(count: usize, size: usize) -> *mut c_void;
    fn realloc(pointer: *mut c_void, size: usize) -> *mut c_void;
    fn free(pointer: *mut c_void);
}

pub unsafe fn kmalloc(size: usize, flags: Flags) -> *mut u8 {
    // SAFETY: any size; null on failure.
    unsafe { if flags.zeroed() { calloc(1, size) as *mut u8 } else { malloc(size) as *mut u8 } }
}

/// # Safety
/// `old` is null or came from this module's functions.
pub unsafe fn krealloc(old: *mut u8, size: usize, _flags: Flags) -> *mut u8 {
    // SAFETY: the caller's promise.
    unsafe { realloc(old as *mut c_void, size) as *mut u8 }
}

/// # Safety
/// `pointer` came from this module's functions.
pub unsafe fn kfree(pointer: *mut u8) {
    // SAFETY: the caller's promise.
    unsafe { free(pointer as *mut c_void) }
}

pub unsafe fn kvmalloc(size: usize, flags: Flags) -> *mut u8 {
    // SAFETY: as kmalloc.
    unsafe { kmalloc(size, flags) }
}

/// # Safety
/// `pointer` came from kvmalloc.
pub unsafe fn kvfree(pointer: *mut u8) {
    // SAFETY: the caller's promise.
    unsafe { kfree(pointer) }
}
