//! A module core that allocates: Box, Vec, String, BTreeMap and format! over the kernel's kmalloc.
#![no_std]

extern crate alloc;

use alloc::{boxed::Box, collections::BTreeMap, format, string::String, vec::Vec};
use core::alloc::{GlobalAlloc, Layout};

unsafe extern "C" {
    fn kalloc_kmalloc(size: usize) -> *mut u8;
    fn kalloc_krealloc(ptr: *mut u8, size: usize) -> *mut u8;
    fn kalloc_kfree(ptr: *mut u8);
    fn kalloc_log(msg: *const u8, len: usize);
    fn kalloc_bug(msg: *const u8, len: usize) -> !;
}

/// kmalloc aligns every object to at least 8 bytes; larger alignments are refused (null).
struct KernelAllocator;

unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() > 8 {
            return core::ptr::null_mut();
        }
        unsafe { kalloc_kmalloc(layout.size()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { kalloc_kfree(ptr) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() > 8 {
            return core::ptr::null_mut();
        }
        unsafe { kalloc_krealloc(ptr, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: KernelAllocator = KernelAllocator;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    let msg = "kalloc: Rust panic";
    unsafe { kalloc_bug(msg.as_ptr(), msg.len()) }
}

fn log(text: &str) {
    unsafe { kalloc_log(text.as_ptr(), text.len()) }
}

/// Called by module_init: allocates, grows, formats, and logs one line computed from it all.
#[unsafe(no_mangle)]
pub extern "C" fn kalloc_init() -> i32 {
    let boxed = Box::new(41u32);
    let mut squares: Vec<u32> = Vec::new();
    for i in 0..10 {
        squares.push(i * i);
    }
    let mut words: BTreeMap<String, usize> = BTreeMap::new();
    for word in "pear apple kiwi apple pear apple".split(' ') {
        *words.entry(String::from(word)).or_insert(0) += 1;
    }
    let counts: Vec<String> = words.iter().map(|(w, n)| format!("{w}={n}")).collect();
    log(&format!("kalloc: boxed {} squares {} words {}", *boxed, squares.iter().sum::<u32>(), counts.join(",")));
    0
}
