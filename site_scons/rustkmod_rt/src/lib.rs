//! rustkmod-rt: what every Rust kernel module core needs, and nothing more.
//!
//! - [`pr_info!`], [`pr_warn!`], [`pr_err!`] (and `pr_emerg!`, `pr_debug!`): `core::fmt` into the
//!   kernel log, prefixed with the module's name, with no heap (a line of at most 255 bytes).
//! - feature `global-allocator`: a `#[global_allocator]` over kmalloc/krealloc/kfree (GFP_KERNEL),
//!   so `Box`, `Vec` and `String` work.
//! - feature `panic-handler`: logs the panic's message and location, then `BUG()`s.
//! - [`error`]: kernel error numbers and a `Result` for init functions.
//!
//! The C half (`c/rustkmod_rt.c`) is compiled into the module by rustkmod whenever the module's
//! crate depends on this one. On the host (`cargo test`), the same API writes to stderr and the
//! allocator and panic handler are std's, so a module's logic tests as it is.
#![cfg_attr(target_os = "none", no_std)]

extern crate alloc;

pub mod error;
pub mod print;

#[cfg(all(target_os = "none", feature = "global-allocator"))]
mod allocator;
#[cfg(all(target_os = "none", feature = "panic-handler"))]
mod panic;

pub use error::{Error, Result};
