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

/// A line on the stack: a panic must not allocate.
struct Line {
    bytes: [u8; 200],
    len: usize,
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = (self.bytes.len() - self.len).min(s.len());
        self.bytes[self.len..self.len + room].copy_from_slice(&s.as_bytes()[..room]);
        self.len += room;
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut line = Line { bytes: [0; 200], len: 0 };
    let _ = write!(line, "kalloc: Rust panic: {}", info.message());
    if let Some(at) = info.location() {
        let _ = write!(line, " at {}:{}", at.file(), at.line());
    }
    unsafe { kalloc_bug(line.bytes.as_ptr(), line.len) }
}

fn log(text: &str) {
    unsafe { kalloc_log(text.as_ptr(), text.len()) }
}

/// Called by module_init: allocates, grows, formats, and logs one line computed from it all.
/// `fault` non-zero (the C side built with KCFLAGS=-DKALLOC_FAULT=N) indexes past the end.
#[unsafe(no_mangle)]
pub extern "C" fn kalloc_init(fault: i32) -> i32 {
    let boxed = Box::new(41u32);
    let mut squares: Vec<u32> = Vec::new();
    for i in 0..10 {
        squares.push(i * i);
    }
    let mut words: BTreeMap<String, usize> = BTreeMap::new();
    for word in "pear apple kiwi apple pear apple".split(' ') {
        *words.entry(String::from(word)).or_insert(0) += 1;
    }
    if fault != 0 {
        let index = squares.len() + fault as usize;
        log(&format!("kalloc: square {} is {}", index, squares[index]));
    }
    let counts: Vec<String> = words.iter().map(|(w, n)| format!("{w}={n}")).collect();
    log(&format!("kalloc: boxed {} squares {} words {}", *boxed, squares.iter().sum::<u32>(), counts.join(",")));
    0
}
