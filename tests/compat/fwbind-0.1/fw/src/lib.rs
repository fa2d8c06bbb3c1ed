//! A framework crate of a team's tree, written against rustkmod 0.1.0: bindings of its own.
#![no_std]
extern crate rustkmod_rt;     // its allocator and panic handler

#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code, improper_ctypes,
        unsafe_op_in_unsafe_fn, unnecessary_transmutes, clippy::all)]
mod bindings {
    include!(env!("RUSTKMOD_BINDINGS_FW"));
}

/// The number a NUL-terminated decimal string holds, or the kernel's negative errno.
pub fn parse(text: &[u8]) -> Result<i32, i32> {
    let mut value = 0;
    // SAFETY: `text` ends in NUL (checked) and `value` lives across the call.
    let rc = if text.last() == Some(&0) {
        unsafe { bindings::kstrtoint(text.as_ptr() as *const _, 10, &mut value) }
    } else {
        -22
    };
    if rc == 0 { Ok(value) } else { Err(rc) }
}

pub use rustkmod_rt::pr_info;
