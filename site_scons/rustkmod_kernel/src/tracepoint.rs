//! Tracepoints from Rust, as the in-tree `declare_trace!`: the tracepoint is defined in C (a
//! `TRACE_EVENT` header and a C file of the module with `CREATE_TRACE_POINTS` and
//! `CREATE_RUST_TRACE_POINTS`, which makes the `rust_do_trace_<name>` hook), and
//! `declare_trace! { unsafe fn name(arguments); }` declares the Rust function that fires it.
//! The hooks exist from Linux 6.13; on an older kernel the macro is a compile error saying so.

pub use macros::declare_trace;

#[doc(hidden)]
#[macro_export]
#[allow_internal_unsafe]
macro_rules! __declare_trace {
    ($(#[$attr:meta])* $vis:vis unsafe fn $name:ident($($argument:ident : $type:ty),* $(,)?); hook: $hook:ident) => {
        #[cfg(all(target_os = "none", not(kernel_version_at_least = "6.13")))]
        ::core::compile_error!(concat!("declare_trace!(", stringify!($name), "): tracepoints from Rust need Linux 6.13 or later \
                                        (its rust_do_trace_* hooks); build this module for a newer kernel"));

        $(#[$attr])*
        #[inline(always)]
        #[allow(dead_code)]
        $vis unsafe fn $name($($argument: $type),*) {
            #[cfg(target_os = "none")]
            {
                unsafe extern "C" {
                    fn $hook($($argument: $type),*);
                }
                // SAFETY: the caller keeps this function's own contract (its # Safety), which is
                // the hook's: the C side the module defines with CREATE_RUST_TRACE_POINTS.
                unsafe { $hook($($argument),*) }
            }
            #[cfg(not(target_os = "none"))]
            { $(let _ = $argument;)* }          // on the host, a test: no tracepoint
        }
    };
}
