//! The Rust core of `rkgreet`: greets with a ticket from `rkcounter`, another module.
//!
//! `rkcounter_next` is not in the kernel: the loader resolves it against rkcounter's export,
//! so rkcounter must be loaded first (modprobe does that from the installed modules.dep).
#![no_std]

unsafe extern "C" {
    fn rkcounter_next(step: u32) -> u64;
    fn rkgreet_log(msg: *const u8, len: usize);
}

/// Writes "rkgreet: ticket N from rkcounter" into `buf`; returns the length.
fn format_greeting(ticket: u64, buf: &mut [u8; 64]) -> usize {
    let head = b"rkgreet: ticket ";
    let tail = b" from rkcounter";
    let mut digits = [0u8; 20];
    let mut n = ticket;
    let mut count = 0;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut len = 0;
    for &b in head.iter().chain(digits[..count].iter().rev()).chain(tail.iter()) {
        buf[len] = b;
        len += 1;
    }
    len
}

/// Module init: takes tickets 1 and 3 and prints the second.
#[unsafe(no_mangle)]
pub extern "C" fn rkgreet_start() -> i32 {
    // SAFETY: rkcounter_next takes a plain integer and touches nothing of ours.
    let ticket = unsafe {
        rkcounter_next(2);
        rkcounter_next(1)
    };
    let mut buf = [0u8; 64];
    let len = format_greeting(ticket, &mut buf);
    // SAFETY: the C side reads exactly `len` bytes and keeps no reference.
    unsafe { rkgreet_log(buf.as_ptr(), len) };
    0
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
