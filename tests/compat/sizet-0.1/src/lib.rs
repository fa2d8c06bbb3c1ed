//! sizet's Rust core, written against rustkmod 0.1.0's bindings: `size_t` was a type of them.
#![no_std]
extern crate rustkmod_rt;     // its allocator and panic handler

#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code, improper_ctypes,
        unsafe_op_in_unsafe_fn, unnecessary_transmutes, clippy::all)]
mod bindings {
    include!(env!("RUSTKMOD_BINDINGS"));
}

#[unsafe(no_mangle)]
pub extern "C" fn sizet_length() -> i32 {
    let text = b"sized text\0";
    let limit: bindings::size_t = 64;
    // SAFETY: `text` is NUL-terminated and lives across the call.
    let length: bindings::size_t = unsafe { bindings::sizet_bounded_length(text.as_ptr() as *const _, limit) };
    length as i32
}
