//! The kernel's allocator: kmalloc and krealloc through rustkmod-rt's C half (which also gives
//! this kernel's gfp_t bits), kvmalloc through the crate's bindings.

use super::Flags;

unsafe extern "C" {
    fn rustkmod_rt_kmalloc_gfp(size: usize, flags: u32) -> *mut u8;
    fn rustkmod_rt_krealloc_gfp(ptr: *mut u8, size: usize, flags: u32) -> *mut u8;
    fn rustkmod_rt_kfree(ptr: *mut u8);
    static rustkmod_rt_gfp_kernel: u32;
    static rustkmod_rt_gfp_atomic: u32;
    static rustkmod_rt_gfp_nowait: u32;
    static rustkmod_rt_gfp_zero: u32;
}

/// This kernel's gfp_t for the flags.
fn bits(flags: Flags) -> u32 {
    // SAFETY: the C half defines these constants; reading them has no side effect.
    unsafe {
        let base = match flags.base() {
            1 => rustkmod_rt_gfp_atomic,
            2 => rustkmod_rt_gfp_nowait,
            _ => rustkmod_rt_gfp_kernel,
        };
        base | if flags.zeroed() { rustkmod_rt_gfp_zero } else { 0 }
    }
}

pub unsafe fn kmalloc(size: usize, flags: Flags) -> *mut u8 {
    // SAFETY: kmalloc takes any size and flags.
    unsafe { rustkmod_rt_kmalloc_gfp(size, bits(flags)) }
}

/// # Safety
/// `old` is null or came from kmalloc.
pub unsafe fn krealloc(old: *mut u8, size: usize, flags: Flags) -> *mut u8 {
    // SAFETY: the caller's promise.
    unsafe { rustkmod_rt_krealloc_gfp(old, size, bits(flags)) }
}

/// # Safety
/// `pointer` came from kmalloc or krealloc.
pub unsafe fn kfree(pointer: *mut u8) {
    // SAFETY: the caller's promise.
    unsafe { rustkmod_rt_kfree(pointer) }
}

pub unsafe fn kvmalloc(size: usize, flags: Flags) -> *mut u8 {
    // SAFETY: kvmalloc takes any size and flags.
    unsafe { crate::bindings::rkk_kvmalloc(size, bits(flags)) as *mut u8 }
}

/// # Safety
/// `pointer` came from kvmalloc.
pub unsafe fn kvfree(pointer: *mut u8) {
    // SAFETY: the caller's promise.
    unsafe { crate::bindings::kvfree(pointer as *const core::ffi::c_void) }
}
