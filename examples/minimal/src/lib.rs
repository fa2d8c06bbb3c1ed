//! The smallest module on the kernel crate: copy this directory to start your own.
#![no_std]
#![forbid(unsafe_code)]

use kernel::prelude::*;

module! {
    type: Minimal,
    name: "minimal",
    authors: ["rustkmod"],
    description: "The smallest Rust module rustkmod builds",
    license: "GPL",
}

struct Minimal;

impl kernel::Module for Minimal {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("hello from Rust\n");
        Ok(Minimal)
    }
}

impl Drop for Minimal {
    fn drop(&mut self) {
        pr_info!("goodbye\n");
    }
}
