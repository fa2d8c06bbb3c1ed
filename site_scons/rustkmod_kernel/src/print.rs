//! Printing as the in-tree crate prints: `pr_info!("...\n")` prints the text as given (its `\n`
//! the caller's) and `pr_cont!` continues a line left open. A line still open when the module's
//! `init` or `exit` returns is closed then (so 0.2's `pr_info!("up")` prints its own line).
//! (rustkmod-rt's own `pr_*!`, for C-glue modules, always print whole lines.)

#[doc(hidden)]
#[macro_export]
macro_rules! __pr {
    ($level:ident, $($arg:tt)*) => {
        $crate::__rt::print::log_open($crate::__rt::print::$level, $crate::fmt!($($arg)*))
    };
}

/// At KERN_EMERG.
#[macro_export]
macro_rules! pr_emerg { ($($arg:tt)*) => { $crate::__pr!(EMERG, $($arg)*) } }
/// At KERN_ALERT.
#[macro_export]
macro_rules! pr_alert { ($($arg:tt)*) => { $crate::__pr!(ALERT, $($arg)*) } }
/// At KERN_CRIT.
#[macro_export]
macro_rules! pr_crit { ($($arg:tt)*) => { $crate::__pr!(CRIT, $($arg)*) } }
/// At KERN_ERR.
#[macro_export]
macro_rules! pr_err { ($($arg:tt)*) => { $crate::__pr!(ERR, $($arg)*) } }
/// At KERN_WARNING.
#[macro_export]
macro_rules! pr_warn { ($($arg:tt)*) => { $crate::__pr!(WARNING, $($arg)*) } }
/// At KERN_NOTICE.
#[macro_export]
macro_rules! pr_notice { ($($arg:tt)*) => { $crate::__pr!(NOTICE, $($arg)*) } }
/// At KERN_INFO.
#[macro_export]
macro_rules! pr_info { ($($arg:tt)*) => { $crate::__pr!(INFO, $($arg)*) } }
/// At KERN_DEBUG.
#[macro_export]
macro_rules! pr_debug { ($($arg:tt)*) => { $crate::__pr!(DEBUG, $($arg)*) } }

/// Continues the line the last `pr_*!` left open (printk's KERN_CONT).
#[macro_export]
macro_rules! pr_cont {
    ($($arg:tt)*) => { $crate::__rt::print::cont($crate::fmt!($($arg)*)) };
}

/// `pr_warn!` the first time this line runs, and never again (C's `pr_warn_once`).
#[macro_export]
macro_rules! pr_warn_once {
    ($($arg:tt)*) => {{
        static ONCE: ::core::sync::atomic::AtomicBool = ::core::sync::atomic::AtomicBool::new(false);
        if !ONCE.swap(true, ::core::sync::atomic::Ordering::Relaxed) {
            $crate::pr_warn!($($arg)*)
        }
    }};
}
