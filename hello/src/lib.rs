//! The Rust core of the `hello` kernel module.
//!
//! The C side (`kmod/module.c`) owns everything that is a kernel macro (`module_init`,
//! `module_param`, `printk`, `MODULE_LICENSE`) and calls the functions exported here; Rust
//! reaches the kernel only through the C wrappers declared in `kernel`. On the host, the same
//! wrappers come from the user-space stand-in (`kmod/host/standin.c`), so the logic below is
//! tested with `scons test-host` without booting anything.
#![cfg_attr(not(test), no_std)]

mod fmtbuf;
mod greeting;
mod kernel;

use core::ffi::{CStr, c_char};
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

use fmtbuf::FixedBuf;
use greeting::Greeting;

/// The kernel's errno for a bad module parameter.
const EINVAL: i32 = 22;

/// Greetings printed since the module was loaded, reported at unload.
static GREETINGS: AtomicU32 = AtomicU32::new(0);

/// Module init: greets the `who` parameter, "NAME" or "NAME*COUNT" (NULL means "world").
///
/// Returns 0, or -EINVAL with one log line saying what is wrong with the parameter.
#[unsafe(no_mangle)]
pub extern "C" fn hello(who: *const c_char) -> i32 {
    let param = if who.is_null() {
        b"world".as_slice()
    } else {
        // SAFETY: the C side passes the module parameter, a NUL-terminated string it owns.
        unsafe { CStr::from_ptr(who) }.to_bytes()
    };
    match Greeting::parse(param) {
        Ok(greeting) => {
            for _ in 0..greeting.count() {
                let mut line = FixedBuf::<64>::new();
                let _ = greeting.write_line(&mut line);
                kernel::log_info(line.as_str());
            }
            GREETINGS.fetch_add(greeting.count(), Ordering::Relaxed);
            0
        }
        Err(error) => {
            let mut line = FixedBuf::<96>::new();
            let _ = write!(line, "hello: bad who parameter: {error}");
            kernel::log_info(line.as_str());
            -EINVAL
        }
    }
}

/// Module exit: says how many greetings were printed.
#[unsafe(no_mangle)]
pub extern "C" fn hello_exit() {
    let mut line = FixedBuf::<64>::new();
    let _ = write!(line, "goodbye after {} greeting(s)", GREETINGS.load(Ordering::Relaxed));
    kernel::log_info(line.as_str());
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    kernel::bug("hello: Rust panic")
}

#[cfg(test)]
mod tests {
    //! The module's entry points against the stand-in, which records what was logged.
    use super::*;
    use std::ffi::CString;

    unsafe extern "C" {
        /// Provided by the stand-in only: moves this thread's log lines into `buf`.
        fn rustkmod_standin_take_log(buf: *mut u8, cap: usize) -> usize;
    }

    fn take_log() -> String {
        let mut buf = vec![0u8; 4096];
        // SAFETY: the stand-in writes at most `cap` bytes into `buf`.
        let len = unsafe { rustkmod_standin_take_log(buf.as_mut_ptr(), buf.len()) };
        buf.truncate(len);
        String::from_utf8(buf).unwrap()
    }

    fn init(who: &str) -> i32 {
        let who = CString::new(who).unwrap();
        hello(who.as_ptr())
    }

    #[test]
    fn default_parameter_greets_the_world() {
        assert_eq!(hello(core::ptr::null()), 0);
        assert_eq!(take_log(), "hello world\n");
    }

    #[test]
    fn count_repeats_the_greeting() {
        assert_eq!(init("rustkmod*3"), 0);
        assert_eq!(take_log(), "hello rustkmod\n".repeat(3));
    }

    #[test]
    fn bad_parameter_is_einval_with_one_line() {
        assert_eq!(init("x*9"), -EINVAL);
        assert_eq!(take_log(), "hello: bad who parameter: count 9 is not in 1..=5\n");
        assert_eq!(init(""), -EINVAL);
        assert_eq!(take_log(), "hello: bad who parameter: empty name\n");
    }

    #[test]
    fn exit_reports_the_greetings() {
        hello_exit();
        let line = take_log();
        assert!(line.starts_with("goodbye after ") && line.ends_with(" greeting(s)\n"), "{line:?}");
    }
}
