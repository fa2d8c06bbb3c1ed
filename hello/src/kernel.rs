//! The kernel functions this crate uses, as the C side of the module provides them.
//!
//! Kernel "functions" such as `printk` are macros whose symbol changes between versions
//! (`printk` became `_printk` in 5.15), so Rust never names them: `kmod/module.c` wraps them.

unsafe extern "C" {
    fn rustkmod_log_info(msg: *const u8, len: usize);
    // Does not return (C: __noreturn). Declared as returning, with a trap after the call: the
    // older way to show the kernel's objtool the dead end. A plain `-> !` declaration works as
    // well now (rustkmod marks calls that end a function in .discard.unreachable; README).
    fn rustkmod_bug(msg: *const u8, len: usize);
}

/// Logs `msg` at KERN_INFO level, one line.
pub fn log_info(msg: &str) {
    // SAFETY: the C side reads exactly `len` bytes from `msg` and keeps no reference.
    unsafe { rustkmod_log_info(msg.as_ptr(), msg.len()) }
}

/// Stops the kernel thread with a message: the kernel's answer to a Rust panic.
pub fn bug(msg: &str) -> ! {
    // SAFETY: as for `log_info`; the C side does not return.
    unsafe { rustkmod_bug(msg.as_ptr(), msg.len()) };
    trap()
}

/// A dead end objtool recognises whether or not it knows the call before it never returns.
#[cfg(target_arch = "x86_64")]
fn trap() -> ! {
    // SAFETY: int3 only raises a breakpoint trap; it is never reached.
    unsafe { core::arch::asm!("int3", options(noreturn)) }
}

#[cfg(not(target_arch = "x86_64"))]
fn trap() -> ! {
    loop {}
}
