//! The Rust core of the `hello` kernel module.
//!
//! The C side (`kmod/module.c`) owns everything that is a kernel macro (`module_init`,
//! `printk`, `MODULE_LICENSE`) and calls into the functions exported here; Rust reaches the
//! kernel only through the small C wrappers declared in `kernel`.
#![no_std]

mod kernel;

/// Prints the module's greeting; called from the module's init function.
#[unsafe(no_mangle)]
pub extern "C" fn hello() -> i32 {
    kernel::log_info("hello world");
    0
}

/// Says goodbye; called from the module's exit function.
#[unsafe(no_mangle)]
pub extern "C" fn hello_exit() {
    kernel::log_info("goodbye world");
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    kernel::bug("hello: Rust panic")
}
