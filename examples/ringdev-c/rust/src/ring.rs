//! A bounded ring of bytes on a Vec allocated once: pushing past capacity drops the oldest.

use alloc::vec::Vec;
use rustkmod_rt::Result;

pub struct Ring {
    bytes: Vec<u8>,
    head: usize, // index of the oldest byte
    len: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Result<Ring> {
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(capacity)?;
        bytes.resize(capacity, 0);
        Ok(Ring { bytes, head: 0, len: 0 })
    }

    /// Appends `data`; returns how many old bytes were dropped to make room.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let capacity = self.bytes.len();
        let mut dropped = 0;
        for &byte in data {
            if self.len == capacity {
                self.head = (self.head + 1) % capacity;
                self.len -= 1;
                dropped += 1;
            }
            let tail = (self.head + self.len) % capacity;
            self.bytes[tail] = byte;
            self.len += 1;
        }
        dropped
    }

    /// Moves up to `out.len()` bytes out, oldest first; returns how many.
    pub fn pop_into(&mut self, out: &mut [u8]) -> usize {
        let count = out.len().min(self.len);
        for slot in out.iter_mut().take(count) {
            *slot = self.bytes[self.head];
            self.head = (self.head + 1) % self.bytes.len();
        }
        self.len -= count;
        count
    }

    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}
