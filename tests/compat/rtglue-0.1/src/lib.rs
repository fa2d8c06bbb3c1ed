//! The Rust core of rtglue: called from glue.c, prints through rustkmod-rt.
#![no_std]
extern crate alloc;

use alloc::vec::Vec;
use rustkmod_rt::pr_info;

#[unsafe(no_mangle)]
pub extern "C" fn rtglue_init(count: i32) -> i32 {
    let squares: Vec<i32> = (1..=count).map(|n| n * n).collect();
    let sum: i32 = squares.iter().sum();
    pr_info!("rtglue: {} squares, sum {}", squares.len(), sum);
    0
}

#[unsafe(no_mangle)]
pub extern "C" fn rtglue_exit() {
    pr_info!("rtglue: bye");
}
