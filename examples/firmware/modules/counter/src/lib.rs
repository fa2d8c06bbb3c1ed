//! The Rust core of `rkcounter`: a ticket counter that other modules call.
//!
//! `rkcounter_next` is exported to other modules by the C side (`EXPORT_SYMBOL_GPL` in
//! `module.c`); Kbuild records it in this module's Module.symvers, which rustkmod hands to the
//! modules that declare `uses=[counter]` in their SConscript.
#![no_std]

use core::sync::atomic::{AtomicU64, Ordering};

unsafe extern "C" {
    fn rkcounter_log(msg: *const u8, len: usize);
}

static NEXT: AtomicU64 = AtomicU64::new(1);

/// Returns the next ticket, `step` numbers after the previous one (at least 1).
#[unsafe(no_mangle)]
pub extern "C" fn rkcounter_next(step: u32) -> u64 {
    NEXT.fetch_add(u64::from(step.max(1)), Ordering::Relaxed)
}

/// Module init.
#[unsafe(no_mangle)]
pub extern "C" fn rkcounter_start() -> i32 {
    let msg = "rkcounter: ready";
    // SAFETY: the C side reads exactly `len` bytes and keeps no reference.
    unsafe { rkcounter_log(msg.as_ptr(), msg.len()) };
    0
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
