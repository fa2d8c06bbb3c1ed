//! A module core calling the kernel through the bindings rustkmod generates for each kernel:
//! exported functions, static inline functions (through generated C helpers), macro constants
//! and a function-like macro wrapped in the header.
#![no_std]

use core::ffi::{c_char, c_int, c_long};

#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code, improper_ctypes,
        unsafe_op_in_unsafe_fn, unnecessary_transmutes, clippy::all)]
mod kernel {
    include!(env!("RUSTKMOD_BINDINGS"));
}

// Linux 5.15 renamed the printing function to _printk (printk became a macro over it).
#[cfg(kernel_version_at_least = "5.15")]
use kernel::_printk as printk;
#[cfg(not(kernel_version_at_least = "5.15"))]
use kernel::printk;

#[unsafe(no_mangle)]
pub extern "C" fn kbind_init() -> c_int {
    // kmalloc (through the header's kbind_alloc) and GFP_KERNEL, as this kernel defines them
    let buffer = unsafe { kernel::kbind_alloc(16, kernel::GFP_KERNEL) } as *mut c_char;
    if buffer.is_null() {
        return -12; // ENOMEM
    }
    let digits = b"4096\0";
    let mut value: c_int = 0;
    let rc = unsafe {
        core::ptr::copy_nonoverlapping(digits.as_ptr() as *const c_char, buffer, digits.len());
        let rc = kernel::kstrtoint(buffer, 10, &mut value);
        kernel::kfree(buffer as *const _);
        rc
    };
    if rc != 0 {
        return rc;
    }
    let aligned = unsafe { kernel::kbind_page_align(5000) };
    // filp_open returns an ERR_PTR; IS_ERR and PTR_ERR are static inline functions
    let file = unsafe { kernel::filp_open(c"/nonexistent".as_ptr(), kernel::O_RDONLY as c_int, 0) };
    let error: c_long = if unsafe { kernel::IS_ERR(file as *const _) } { unsafe { kernel::PTR_ERR(file as *const _) } } else { 0 };
    unsafe {
        printk(c"\x016kbind: parsed %d from kmalloc memory, PAGE_ALIGN(5000) = %lu, /nonexistent: %ld\n".as_ptr(),
                        value, aligned, error);
    }
    0
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
