//! ringdev's logic: a bounded ring of bytes behind /dev/ringdev, a small command parser and
//! statistics. The C side (ringdev.c) owns the device and the lock and calls these functions
//! one at a time; user.rs copies the user's buffers through the kernel's own functions.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod command;
mod ring;
#[cfg(rustkmod_bindings)]
mod user;

use core::cell::UnsafeCell;

use command::Command;
use ring::Ring;
use rustkmod_rt::{Error, Result, error, pr_info};

pub const CAPACITY: usize = 64;

/// Everything the device knows: the ring, what the next read returns, and counters.
pub struct Device {
    ring: Ring,
    reply: alloc::vec::Vec<u8>,
    stats: Stats,
}

#[derive(Default, Debug, PartialEq)]
pub struct Stats {
    pub opens: u64,
    pub writes: u64,
    pub reads: u64,
    pub written: u64,
    pub read: u64,
    pub dropped: u64,
    pub commands: u64,
}

impl Device {
    pub fn new(capacity: usize) -> Result<Device> {
        Ok(Device { ring: Ring::new(capacity)?, reply: alloc::vec::Vec::new(), stats: Stats::default() })
    }

    /// Data goes into the ring (the oldest bytes make room); `!command`s are obeyed instead.
    pub fn write(&mut self, data: &[u8]) -> Result<usize> {
        self.stats.writes += 1;
        if let Some(command) = Command::parse(data)? {
            self.stats.commands += 1;
            match command {
                Command::Clear => self.ring.clear(),
                Command::Stats => self.reply = alloc::format!("{}\n", self.describe()).into_bytes(),
            }
            return Ok(data.len());
        }
        self.stats.dropped += self.ring.push(data) as u64;
        self.stats.written += data.len() as u64;
        Ok(data.len())
    }

    /// A pending reply first, else the ring's bytes, oldest first.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        self.stats.reads += 1;
        let count = if !self.reply.is_empty() {
            let count = out.len().min(self.reply.len());
            out[..count].copy_from_slice(&self.reply[..count]);
            self.reply.drain(..count);
            count
        } else {
            let count = self.ring.pop_into(out);
            self.stats.read += count as u64;
            count
        };
        count
    }

    pub fn describe(&self) -> alloc::string::String {
        let s = &self.stats;
        alloc::format!("opens={} writes={} reads={} written={} read={} dropped={} commands={}",
                       s.opens, s.writes, s.reads, s.written, s.read, s.dropped, s.commands)
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// The one device; the C side serialises every call with its mutex.
struct Global(UnsafeCell<Option<Device>>);

// SAFETY: only touched from the C file operations, under ringdev.c's mutex.
unsafe impl Sync for Global {}

static DEVICE: Global = Global(UnsafeCell::new(None));

fn device() -> Result<&'static mut Device> {
    // SAFETY: the C side holds its mutex around every call (see Global).
    unsafe { (*DEVICE.0.get()).as_mut().ok_or(Error::ENODEV) }
}

#[unsafe(no_mangle)]
pub extern "C" fn ringdev_init() -> i32 {
    error::to_init_result(Device::new(CAPACITY).map(|new| {
        // SAFETY: module init runs before the device is registered: nothing else runs.
        unsafe { *DEVICE.0.get() = Some(new) };
        pr_info!("ready, {} bytes", CAPACITY);
    }))
}

#[unsafe(no_mangle)]
pub extern "C" fn ringdev_exit() {
    // SAFETY: the device is deregistered: nothing else runs.
    if let Some(old) = unsafe { (*DEVICE.0.get()).take() } {
        pr_info!("done: {}", old.describe());
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn ringdev_open() -> i32 {
    error::to_init_result(device().map(|d| d.stats.opens += 1))
}

/// # Safety
/// `data` points to `len` readable bytes (a kernel copy of the user's buffer).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ringdev_write(data: *const u8, len: usize) -> isize {
    // SAFETY: as the caller promises.
    let data = unsafe { core::slice::from_raw_parts(data, len) };
    error::to_ssize(device().and_then(|d| d.write(data)))
}

/// # Safety
/// `out` points to `len` writable bytes (a kernel buffer the C side copies to the user).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ringdev_read(out: *mut u8, len: usize) -> isize {
    // SAFETY: as the caller promises.
    let out = unsafe { core::slice::from_raw_parts_mut(out, len) };
    error::to_ssize(device().map(|d| d.read(out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_bytes_come_back_in_order() {
        let mut device = Device::new(8).unwrap();
        assert_eq!(device.write(b"abc").unwrap(), 3);
        let mut out = [0u8; 16];
        assert_eq!(device.read(&mut out), 3);
        assert_eq!(&out[..3], b"abc");
        assert_eq!(device.read(&mut out), 0);
    }

    #[test]
    fn a_full_ring_drops_the_oldest_bytes() {
        let mut device = Device::new(4).unwrap();
        device.write(b"abcdef").unwrap();
        let mut out = [0u8; 8];
        assert_eq!(device.read(&mut out), 4);
        assert_eq!(&out[..4], b"cdef");
        assert_eq!(device.stats().dropped, 2);
    }

    #[test]
    fn stats_are_a_reply_and_commands_are_not_data() {
        let mut device = Device::new(8).unwrap();
        device.write(b"xy").unwrap();
        device.write(b"!stats").unwrap();
        let mut out = [0u8; 128];
        let count = device.read(&mut out);
        assert_eq!(&out[..count], b"opens=0 writes=2 reads=0 written=2 read=0 dropped=0 commands=1\n");
        assert_eq!(device.write(b"!bogus"), Err(Error::EINVAL));
    }
}
