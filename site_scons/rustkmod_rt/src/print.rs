//! The kernel log: `pr_info!("...", ...)` formats into a line on the stack, then printk.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

pub const EMERG: i32 = 0;
pub const ALERT: i32 = 1;
pub const CRIT: i32 = 2;
pub const ERR: i32 = 3;
pub const WARNING: i32 = 4;
pub const NOTICE: i32 = 5;
pub const INFO: i32 = 6;
pub const DEBUG: i32 = 7;

/// One log line, formatted without the heap; what does not fit is cut, ending in "...".
pub struct Line {
    bytes: [u8; 255],
    len: usize,
    cut: bool,
}

impl Line {
    pub const fn new() -> Line {
        Line { bytes: [0; 255], len: 0, cut: false }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Default for Line {
    fn default() -> Line {
        Line::new()
    }
}

impl Write for Line {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = self.bytes.len() - self.len;
        if text.len() > room {
            let keep = room.saturating_sub(3);
            self.bytes[self.len..self.len + keep].copy_from_slice(&text.as_bytes()[..keep]);
            self.bytes[self.len + keep..].fill(b'.');
            self.len = self.bytes.len();
            self.cut = true;
            return Err(fmt::Error);
        }
        self.bytes[self.len..self.len + text.len()].copy_from_slice(text.as_bytes());
        self.len += text.len();
        Ok(())
    }
}

impl Line {
    /// `args` formatted as they are (the newline, as in the in-tree crate, is the caller's); a
    /// text cut for length ends in "...\n".
    pub fn format(args: fmt::Arguments<'_>) -> Line {
        let mut line = Line::new();
        let _ = line.write_fmt(args);
        if line.cut {
            line.bytes[line.len - 1] = b'\n';
        }
        line
    }

    /// `args` formatted as one whole line, less one trailing newline (for a C side that ends the
    /// line itself: `dev_info!`, where no continuation exists).
    pub fn format_whole(args: fmt::Arguments<'_>) -> Line {
        let mut line = Line::format(args);
        if line.ends_line() {
            line.len -= 1;
        }
        line
    }

    /// Whether the text ends its line (a trailing newline).
    fn ends_line(&self) -> bool {
        self.as_bytes().last() == Some(&b'\n')
    }

    /// Ends the line with a newline (replacing its last byte when full).
    fn end(&mut self) {
        if self.len == self.bytes.len() {
            self.len -= 1;
        }
        self.bytes[self.len] = b'\n';
        self.len += 1;
    }
}

/// Whether the module's last `pr_*!` left its line open (no trailing newline), for `pr_cont!`.
static OPEN_LINE: AtomicBool = AtomicBool::new(false);

/// Formats `args` and logs it at `level` (the printk level, 0..7), prefixed "<module>: ", as one
/// whole line: one trailing newline is the line's own end (rustkmod-rt's `pr_*!`, which C-glue
/// modules use; it never leaves a line open, as they have nothing that would close it).
pub fn log(level: i32, args: fmt::Arguments<'_>) {
    let mut line = Line::format(args);
    if !line.ends_line() {
        line.end();
    }
    print(level, &line);
}

/// As `log`, printed as given, as the in-tree crate prints (the kernel crate's `pr_*!`): a text
/// without a trailing newline leaves the line open for `pr_cont!`, as printk does; the next
/// message closes it, and so does the end of the module's init and exit (the kernel crate's
/// `module!` calls `end_open_line`).
pub fn log_open(level: i32, args: fmt::Arguments<'_>) {
    print(level, &Line::format(args));
}

/// The kernel crate's `pr_cont!`: `args` appended to the open line (printk's KERN_CONT).
pub fn cont(args: fmt::Arguments<'_>) {
    print(CONT, &Line::format(args));
}

/// Ends a line the module left open (a `pr_info!("...")` without `\n`), so that it reaches the
/// log now rather than with the next message of the kernel.
pub fn end_open_line() {
    if OPEN_LINE.swap(false, Ordering::Relaxed) {
        write_line(CONT, b"\n");
    }
}

/// Writes a line, noting whether it is left open. On the host, a new message after an open line
/// starts a line of its own, as printk does.
fn print(level: i32, line: &Line) {
    let was_open = OPEN_LINE.swap(!line.ends_line(), Ordering::Relaxed);
    if cfg!(not(target_os = "none")) && was_open && level != CONT {
        write_line(CONT, b"\n");
    }
    write_line(level, line.as_bytes());
}

/// The level `write_line` takes for a continuation.
pub const CONT: i32 = -1;

#[cfg(target_os = "none")]
fn write_line(level: i32, text: &[u8]) {
    unsafe extern "C" {
        fn rustkmod_rt_log(level: i32, msg: *const u8, len: usize);
    }
    // SAFETY: the C side reads exactly `len` bytes and keeps no reference.
    unsafe { rustkmod_rt_log(level, text.as_ptr(), text.len()) }
}

#[cfg(not(target_os = "none"))]
fn write_line(level: i32, text: &[u8]) {
    if level == CONT {
        eprint!("{}", String::from_utf8_lossy(text));
    } else {
        eprint!("<{level}> {}", String::from_utf8_lossy(text));
    }
}

#[macro_export]
macro_rules! pr_emerg { ($($arg:tt)*) => { $crate::print::log($crate::print::EMERG, format_args!($($arg)*)) } }
#[macro_export]
macro_rules! pr_alert { ($($arg:tt)*) => { $crate::print::log($crate::print::ALERT, format_args!($($arg)*)) } }
#[macro_export]
macro_rules! pr_crit { ($($arg:tt)*) => { $crate::print::log($crate::print::CRIT, format_args!($($arg)*)) } }
#[macro_export]
macro_rules! pr_notice { ($($arg:tt)*) => { $crate::print::log($crate::print::NOTICE, format_args!($($arg)*)) } }
#[macro_export]
macro_rules! pr_err { ($($arg:tt)*) => { $crate::print::log($crate::print::ERR, format_args!($($arg)*)) } }
#[macro_export]
macro_rules! pr_warn { ($($arg:tt)*) => { $crate::print::log($crate::print::WARNING, format_args!($($arg)*)) } }
#[macro_export]
macro_rules! pr_info { ($($arg:tt)*) => { $crate::print::log($crate::print::INFO, format_args!($($arg)*)) } }
/// `pr_warn!` the first time this line runs, and never again (C's `pr_warn_once`): for what a
/// caller may repeat in a loop, whose warning would flood the log.
#[macro_export]
macro_rules! pr_warn_once {
    ($($arg:tt)*) => {{
        static ONCE: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
        if !ONCE.swap(true, core::sync::atomic::Ordering::Relaxed) {
            $crate::pr_warn!($($arg)*)
        }
    }};
}
#[macro_export]
macro_rules! pr_debug { ($($arg:tt)*) => { $crate::print::log($crate::print::DEBUG, format_args!($($arg)*)) } }

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_with_dots() {
        let mut line = Line::new();
        let _ = write!(line, "{}", "x".repeat(300));
        assert_eq!(line.as_bytes().len(), 255);
        assert!(line.as_bytes().ends_with(b"...") && line.cut);
    }

    #[test]
    fn one_trailing_newline_is_the_lines_own_end() {
        assert_eq!(Line::format(format_args!("up {}\n", 1)).as_bytes(), b"up 1\n");
        assert_eq!(Line::format(format_args!("up {}", 1)).as_bytes(), b"up 1");
        assert_eq!(Line::format_whole(format_args!("up {}\n", 1)).as_bytes(), b"up 1");
        assert_eq!(Line::format_whole(format_args!("a\nb\n\n")).as_bytes(), b"a\nb\n");     // only one
    }
}
