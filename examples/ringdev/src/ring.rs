//! A bounded ring of bytes, allocated once: pushing past capacity drops the oldest.

use kernel::prelude::*;

pub struct Ring {
    bytes: KVec<u8>,
    head: usize, // index of the oldest byte
    len: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Result<Ring> {
        if capacity == 0 {
            return Err(EINVAL);
        }
        let mut bytes = KVec::with_capacity(capacity, GFP_KERNEL)?;
        bytes.resize(capacity, 0, GFP_KERNEL)?;
        Ok(Ring { bytes, head: 0, len: 0 })
    }

    pub fn capacity(&self) -> usize {
        self.bytes.len()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_ring_drops_the_oldest_bytes() {
        let mut ring = Ring::new(4).unwrap();
        assert_eq!(ring.push(b"abcdef"), 2);
        let mut out = [0u8; 8];
        assert_eq!(ring.pop_into(&mut out), 4);
        assert_eq!(&out[..4], b"cdef");
        assert_eq!(Ring::new(0).err(), Some(EINVAL));
    }
}
