//! A module without a line of C: the kernel crate's module! makes init_module, cleanup_module
//! and the .modinfo; init's Result is what insmod reports.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;
use kernel::prelude::*;

module! {
    type: Knoc,
    name: "knoc",
    authors: ["rustkmod"],
    description: "A module with no C",
    license: "GPL",
}

struct Knoc {
    values: Vec<u32>,
}

impl kernel::Module for Knoc {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let mut values = Vec::new();
        values.try_reserve(3)?;
        values.extend_from_slice(&[1, 2, 3]);
        pr_info!("up, {} values, sum {}", values.len(), values.iter().sum::<u32>());
        Ok(Knoc { values })
    }
}

impl Drop for Knoc {
    fn drop(&mut self) {
        pr_info!("down ({} values)", self.values.len());
    }
}
