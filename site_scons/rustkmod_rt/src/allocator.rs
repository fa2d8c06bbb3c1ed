//! `#[global_allocator]` over the kernel's kmalloc (GFP_KERNEL): Box, Vec, String just work.

use core::alloc::{GlobalAlloc, Layout};

unsafe extern "C" {
    fn rustkmod_rt_kmalloc(size: usize) -> *mut u8;
    fn rustkmod_rt_krealloc(ptr: *mut u8, size: usize) -> *mut u8;
    fn rustkmod_rt_kfree(ptr: *const u8);
}

/// kmalloc aligns every object to at least 8 bytes, and (since Linux 5.4) power-of-two sizes to
/// their size up to the page size. So: alignments up to 8 as they are; up to 4096 by asking for
/// a power of two at least that large; larger ones refused, said once in the log.
const MIN_ALIGN: usize = 8;
const MAX_ALIGN: usize = 4096;

fn kmalloc_size(layout: Layout) -> Option<usize> {
    if layout.align() <= MIN_ALIGN {
        Some(layout.size())
    } else if layout.align() <= MAX_ALIGN {
        Some(layout.size().max(layout.align()).next_power_of_two())
    } else {
        crate::pr_err!("rustkmod-rt: an alignment of {} bytes is more than kmalloc gives ({MAX_ALIGN})\n", layout.align());
        None
    }
}

pub struct KernelAllocator;

unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match kmalloc_size(layout) {
            // SAFETY: kmalloc takes any size; it returns null or an object of at least `size`.
            Some(size) => unsafe { rustkmod_rt_kmalloc(size) },
            None => core::ptr::null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from kmalloc or krealloc above.
        unsafe { rustkmod_rt_kfree(ptr) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MIN_ALIGN {
            // SAFETY: as for dealloc; krealloc keeps kmalloc's alignment.
            return unsafe { rustkmod_rt_krealloc(ptr, new_size) };
        }
        // SAFETY: the layout's alignment is valid and new_size does not overflow (GlobalAlloc's contract).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the smaller size and do not overlap.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: KernelAllocator = KernelAllocator;
