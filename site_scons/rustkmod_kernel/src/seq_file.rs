//! `seq_file`: the text of a `/proc` or debugfs file made as it is read, as the in-tree
//! `kernel::seq_file`: `seq_print!(m, "...", ...)`.

use core::fmt;

#[cfg(target_os = "none")]
use crate::types::Opaque;

/// The kernel's `struct seq_file`, only ever behind a reference.
#[cfg(target_os = "none")]
#[repr(transparent)]
pub struct SeqFile(Opaque<crate::bindings::seq_file>);

#[cfg(target_os = "none")]
impl SeqFile {
    /// # Safety
    /// `seq` is a live seq_file, used only by this thread while the reference lives.
    pub unsafe fn from_raw<'a>(seq: *mut crate::bindings::seq_file) -> &'a SeqFile {
        // SAFETY: the caller's promise; SeqFile is the C object (repr(transparent)).
        unsafe { &*(seq as *const SeqFile) }
    }

    /// Appends `args` formatted (what does not fit the seq_file's buffer makes the kernel retry
    /// with a larger one, as for C's seq_printf).
    pub fn call_printf(&self, args: fmt::Arguments<'_>) {
        struct Writer(*mut crate::bindings::seq_file);
        impl fmt::Write for Writer {
            fn write_str(&mut self, text: &str) -> fmt::Result {
                // SAFETY: the seq_file is live (from_raw); seq_write reads `len` bytes.
                unsafe { crate::bindings::seq_write(self.0, text.as_ptr() as *const _, text.len()) };
                Ok(())
            }
        }
        let _ = fmt::write(&mut Writer(self.0.get()), args);
    }
}

/// On the host (tests): a seq_file whose text a test reads back (`SeqFile::default()`,
/// `contents()`).
#[cfg(not(target_os = "none"))]
#[derive(Default)]
pub struct SeqFile(core::cell::RefCell<std::string::String>);

#[cfg(not(target_os = "none"))]
impl SeqFile {
    /// Appends `args` formatted.
    pub fn call_printf(&self, args: fmt::Arguments<'_>) {
        let _ = fmt::Write::write_fmt(&mut *self.0.borrow_mut(), args);
    }

    /// What was written.
    pub fn contents(&self) -> std::string::String {
        self.0.borrow().clone()
    }
}

/// `seq_print!(m, "...", ...)`: appends to a seq_file's text.
#[macro_export]
macro_rules! seq_print {
    ($m:expr, $($arg:tt)+) => { $m.call_printf($crate::fmt!($($arg)+)) };
}
