//! The host's allocator, for a module crate's tests: the C library's, aligned as kmalloc aligns
//! (a power-of-two size to itself, up to a page; `malloc` alone gives 16), so a type that needs
//! more (a 64-byte-aligned one) is as aligned in a test as in the kernel. The flags change nothing
//! here but `__GFP_ZERO`.

use core::ffi::c_void;

use super::Flags;

unsafe extern "C" {
    fn posix_memalign(out: *mut *mut c_void, alignment: usize, size: usize) -> i32;
    fn malloc_usable_size(pointer: *mut c_void) -> usize;
    fn free(pointer: *mut c_void);
}

/// What kmalloc guarantees for `size`: its own alignment when a power of two (at most a page),
/// else 8; never less than what posix_memalign takes (a pointer's size).
fn alignment(size: usize) -> usize {
    if size.is_power_of_two() { size.clamp(8, 4096) } else { 8 }
}

pub unsafe fn kmalloc(size: usize, flags: Flags) -> *mut u8 {
    let mut pointer: *mut c_void = core::ptr::null_mut();
    // SAFETY: the alignment is a power of two and a multiple of a pointer's size.
    if unsafe { posix_memalign(&mut pointer, alignment(size), size.max(1)) } != 0 {
        return core::ptr::null_mut();
    }
    if flags.zeroed() {
        // SAFETY: fresh memory of at least `size` bytes.
        unsafe { core::ptr::write_bytes(pointer as *mut u8, 0, size) };
    }
    pointer as *mut u8
}

/// A new allocation holding the old one's first bytes (realloc would not keep the alignment).
///
/// # Safety
/// `old` is null or came from this module's functions.
pub unsafe fn krealloc(old: *mut u8, size: usize, flags: Flags) -> *mut u8 {
    // SAFETY: any size.
    let new = unsafe { kmalloc(size, flags) };
    if !new.is_null() && !old.is_null() {
        // SAFETY: `old` is live (the caller's promise) with at least its usable size; the copy
        // stays within both; `old` is freed once, only when the new one was made.
        unsafe {
            let kept = malloc_usable_size(old as *mut c_void).min(size);
            core::ptr::copy_nonoverlapping(old, new, kept);
            free(old as *mut c_void);
        }
    }
    new
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

#[cfg(test)]
mod tests {
    use crate::alloc::flags::GFP_KERNEL;
    use crate::alloc::{KBox, KVec};

    #[repr(align(64))]
    struct Line([u8; 64]);

    #[test]
    fn allocations_are_aligned_as_their_types_ask() {
        let boxes: std::vec::Vec<_> = (0..32).map(|_| KBox::new(Line([1; 64]), GFP_KERNEL).unwrap()).collect();
        assert!(boxes.iter().all(|b| (&**b as *const Line as usize) % 64 == 0));
        let mut lines: KVec<Line> = KVec::new();
        for _ in 0..40 {
            lines.push(Line([2; 64]), GFP_KERNEL).unwrap();       // grown by krealloc several times
            assert_eq!(lines.as_ptr() as usize % 64, 0);
        }
        assert!(lines.iter().all(|line| line.0 == [2; 64]));
    }

    #[test]
    fn vectors_and_boxes_print_as_their_contents() {
        let mut numbers = KVec::new();
        for n in [72, 108, 200] {
            numbers.push(n, GFP_KERNEL).unwrap();
        }
        assert_eq!(std::format!("{:?}", numbers), "[72, 108, 200]");
        assert_eq!(std::format!("{:?}", KBox::new(7u8, GFP_KERNEL).unwrap()), "7");
    }
}
