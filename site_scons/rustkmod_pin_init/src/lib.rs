//! `pin_init`: the kernel crate's pinned initialisation (`kernel::init`), under the name the
//! in-tree kernel gives its own crate of it, so code that writes `pin_init::init_array_from_fn`
//! builds unchanged. A one-file module has it as a dependency.
#![no_std]

pub use kernel::init::*;
pub use kernel::{init, pin_data, pin_init, pinned_drop, try_init, try_pin_init};
