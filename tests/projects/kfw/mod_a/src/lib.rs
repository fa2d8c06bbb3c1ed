#![no_std]

static mut ENTRY: Option<kfw::ProcEntry> = None;

#[unsafe(no_mangle)]
pub extern "C" fn mod_a_init() -> i32 {
    match kfw::ProcEntry::new("kfw_mod_a", "kfw_mod_a: 1") {
        Some(entry) => {
            unsafe { *core::ptr::addr_of_mut!(ENTRY) = Some(entry) };
            kfw::log("mod_a: up, entry 1");
            0
        }
        None => -12,
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn mod_a_exit() {
    unsafe { *core::ptr::addr_of_mut!(ENTRY) = None };
}
