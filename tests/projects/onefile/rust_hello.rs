// SPDX-License-Identifier: GPL-2.0

//! A module in one file, as the kernel's samples are written: no `#![no_std]`, no Cargo.toml.

use kernel::prelude::*;

module! {
    type: RustHello,
    name: "rust_hello",
    authors: ["rustkmod"],
    description: "One-file module",
    license: "GPL",
}

struct RustHello {
    numbers: KVec<i32>,
}

impl kernel::Module for RustHello {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!("Rust hello (init)\n");
        pr_info!("Am I built-in? {}\n", !cfg!(MODULE));
        let mut numbers = KVec::new();
        numbers.push(72, GFP_KERNEL)?;
        numbers.push(108, GFP_KERNEL)?;
        numbers.push(200, GFP_KERNEL)?;
        Ok(RustHello { numbers })
    }
}

impl Drop for RustHello {
    fn drop(&mut self) {
        pr_info!("My numbers are {:?}\n", self.numbers);
        pr_info!("Rust hello (exit)\n");
    }
}
