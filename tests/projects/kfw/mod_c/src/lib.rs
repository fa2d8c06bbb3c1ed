#![no_std]

static mut ENTRY: Option<kfw::ProcEntry> = None;

#[unsafe(no_mangle)]
pub extern "C" fn mod_c_init() -> i32 {
    match kfw::ProcEntry::new("kfw_mod_c", "kfw_mod_c: 3") {
        Some(entry) => {
            unsafe { *core::ptr::addr_of_mut!(ENTRY) = Some(entry) };
            kfw::log("mod_c: up, entry 3");
            0
        }
        None => -12,
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn mod_c_exit() {
    unsafe { *core::ptr::addr_of_mut!(ENTRY) = None };
}
