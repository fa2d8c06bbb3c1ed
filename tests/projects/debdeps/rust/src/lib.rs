//! A module core with registry dependencies, resolved as the crate's own cargo config says.
#![no_std]

use bitflags::bitflags;
use core::fmt::Write;

bitflags! {
    struct Mode: u32 {
        const READ = 0b001;
        const WRITE = 0b010;
        const EXEC = 0b100;
    }
}

unsafe extern "C" {
    fn debdeps_log(msg: *const u8, len: usize);
    fn debdeps_bug(msg: *const u8, len: usize) -> !;
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    let msg = "debdeps: Rust panic";
    unsafe { debdeps_bug(msg.as_ptr(), msg.len()) }
}

struct Line { bytes: [u8; 96], len: usize }

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(core::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn debdeps_init() -> i32 {
    let mode = Mode::READ | Mode::EXEC;
    let mut line = Line { bytes: [0; 96], len: 0 };
    let _ = write!(line, "debdeps: crc32={:08x} mode={:03b}", crc::crc32::checksum_ieee(b"rustkmod"), mode.bits());
    unsafe { debdeps_log(line.bytes.as_ptr(), line.len) };
    0
}
