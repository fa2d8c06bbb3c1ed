//! A module core calling the kernel through the bindings rustkmod generates for each kernel.
#![no_std]

#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code)]
mod kernel {
    include!(env!("RUSTKMOD_BINDINGS"));
}

#[unsafe(no_mangle)]
pub extern "C" fn kbind_init() -> core::ffi::c_int {
    let mut value: core::ffi::c_int = 0;
    // kstrtoint and _printk as the configured kernel declares them
    let rc = unsafe { kernel::kstrtoint(c"4096".as_ptr(), 10, &mut value) };
    if rc == 0 {
        unsafe { kernel::_printk(c"\x016kbind: parsed %d with kstrtoint\n".as_ptr(), value) };
    }
    rc
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
