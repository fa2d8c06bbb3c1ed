//! Everything the device knows: the ring, what the next read returns, a value the ioctls get and
//! set, and counters. Plain logic: the file operations (lib.rs) call it under the device's mutex.

use core::fmt::Write;

use kernel::prelude::*;

use crate::command::Command;
use crate::ring::Ring;

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

pub struct Device {
    ring: Ring,
    reply: KVec<u8>,
    pub stats: Stats,
    pub value: u32,
}

/// Formatted text appended to a KVec; a failed allocation is a fmt::Error (ENOMEM to the caller).
struct Text<'a>(&'a mut KVec<u8>);

impl Write for Text<'_> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.0.extend_from_slice(text.as_bytes(), GFP_KERNEL).map_err(|_| core::fmt::Error)
    }
}

impl Device {
    pub fn new(capacity: usize) -> Result<Device> {
        Ok(Device { ring: Ring::new(capacity)?, reply: KVec::new(), stats: Stats::default(), value: 0 })
    }

    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Data goes into the ring (the oldest bytes make room); `!command`s are obeyed instead.
    pub fn write(&mut self, data: &[u8]) -> Result<usize> {
        self.stats.writes += 1;
        if let Some(command) = Command::parse(data)? {
            self.stats.commands += 1;
            match command {
                Command::Clear => self.ring.clear(),
                Command::Stats => {
                    self.reply.clear();
                    let mut reply = KVec::new();
                    self.describe(&mut reply)?;
                    reply.push(b'\n', GFP_KERNEL)?;
                    self.reply = reply;
                }
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
        if !self.reply.is_empty() {
            let count = out.len().min(self.reply.len());
            out[..count].copy_from_slice(&self.reply[..count]);
            let left = self.reply.len() - count;
            self.reply.copy_within(count.., 0);
            self.reply.truncate(left);
            return count;
        }
        let count = self.ring.pop_into(out);
        self.stats.read += count as u64;
        count
    }

    /// The counters as one line, appended to `out`.
    pub fn describe(&self, out: &mut KVec<u8>) -> Result {
        let s = &self.stats;
        write!(Text(out), "opens={} writes={} reads={} written={} read={} dropped={} commands={}",
               s.opens, s.writes, s.reads, s.written, s.read, s.dropped, s.commands).map_err(|_| ENOMEM)
    }
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
    fn stats_are_a_reply_and_commands_are_not_data() {
        let mut device = Device::new(8).unwrap();
        device.write(b"xy").unwrap();
        device.write(b"!stats").unwrap();
        let mut out = [0u8; 128];
        let count = device.read(&mut out);
        assert_eq!(&out[..count], b"opens=0 writes=2 reads=0 written=2 read=0 dropped=0 commands=1\n");
        assert_eq!(device.write(b"!bogus"), Err(EINVAL));
    }
}
