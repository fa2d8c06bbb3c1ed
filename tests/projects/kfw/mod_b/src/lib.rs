#![no_std]

static mut ENTRY: Option<kfw::ProcEntry> = None;

#[unsafe(no_mangle)]
pub extern "C" fn mod_b_init() -> i32 {
    match kfw::ProcEntry::new("kfw_mod_b", "kfw_mod_b: 2") {
        Some(entry) => {
            unsafe { *core::ptr::addr_of_mut!(ENTRY) = Some(entry) };
            kfw::log("mod_b: up, entry 2");
            0
        }
        None => -12,
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn mod_b_exit() {
    unsafe { *core::ptr::addr_of_mut!(ENTRY) = None };
}
