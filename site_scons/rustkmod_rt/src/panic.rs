//! A panic handler that says what happened, then stops the way the kernel expects: `BUG()`.

use core::fmt::Write;

unsafe extern "C" {
    fn rustkmod_rt_bug(msg: *const u8, len: usize) -> !;
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut line = crate::print::Line::new();
    let _ = write!(line, "Rust panic: {}", info.message());
    if let Some(at) = info.location() {
        let _ = write!(line, " at {}:{}", at.file(), at.line());
    }
    let text = line.as_bytes();
    // SAFETY: the C side logs exactly `len` bytes, then BUG()s: it does not return.
    unsafe { rustkmod_rt_bug(text.as_ptr(), text.len()) }
}
