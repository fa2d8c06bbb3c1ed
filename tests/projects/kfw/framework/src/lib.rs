//! kfw: what the team's modules share: logging, and a /proc entry that goes away with its owner.
#![no_std]

extern crate alloc;
// The allocator and the panic handler every module on the framework gets (and its C half).
extern crate rustkmod_rt;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void};

#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code, improper_ctypes,
        unsafe_op_in_unsafe_fn, unnecessary_transmutes)]
mod bindings {
    include!(env!("RUSTKMOD_BINDINGS_KFW"));
}

/// Logs `text` at KERN_INFO: printk is a function up to 5.14 and a macro over _printk from 5.15.
pub fn log(text: &str) {
    let mut line: Vec<u8> = Vec::new();
    line.extend_from_slice(&bindings::KERN_INFO[..bindings::KERN_INFO.len() - 1]);
    line.extend_from_slice(text.as_bytes());
    line.extend_from_slice(b"\n\0");
    #[cfg(kernel_version_at_least = "5.15")]
    unsafe { bindings::_printk(line.as_ptr() as *const c_char) };
    #[cfg(not(kernel_version_at_least = "5.15"))]
    unsafe { bindings::printk(line.as_ptr() as *const c_char) };
}

/// A /proc entry whose content is fixed at creation; removed when dropped.
pub struct ProcEntry {
    name: Vec<u8>,
    _text: Box<Vec<u8>>,
}

unsafe extern "C" fn show(file: *mut bindings::seq_file, _: *mut c_void) -> c_int {
    let text = unsafe { &*((*file).private as *const Vec<u8>) };
    unsafe { bindings::seq_write(file, text.as_ptr() as *const c_void, text.len()) }
}

impl ProcEntry {
    pub fn new(name: &str, text: &str) -> Option<ProcEntry> {
        let mut name_z: Vec<u8> = Vec::from(name.as_bytes());
        name_z.push(0);
        let mut content = Box::new(Vec::from(text.as_bytes()));
        content.push(b'\n');
        let data = &*content as *const Vec<u8> as *mut c_void;
        let entry = unsafe {
            bindings::proc_create_single_data(name_z.as_ptr() as *const c_char, 0o444, core::ptr::null_mut(),
                                              Some(show), data)
        };
        if entry.is_null() { None } else { Some(ProcEntry { name: name_z, _text: content }) }
    }
}

impl Drop for ProcEntry {
    fn drop(&mut self) {
        unsafe { bindings::remove_proc_entry(self.name.as_ptr() as *const c_char, core::ptr::null_mut()) };
    }
}
