//! A fixed-capacity string for formatting log lines without an allocator.

use core::fmt;

/// Up to `N` bytes of UTF-8; text past the end is cut at a character boundary, never split.
pub struct FixedBuf<const N: usize> {
    bytes: [u8; N],
    len: usize,
    truncated: bool,
}

impl<const N: usize> FixedBuf<N> {
    pub const fn new() -> Self {
        FixedBuf { bytes: [0; N], len: 0, truncated: false }
    }

    pub fn as_str(&self) -> &str {
        // Only whole characters are ever copied in, so the prefix is always valid UTF-8.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    /// Whether some text did not fit (the tests check that greetings never are cut).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

impl<const N: usize> fmt::Write for FixedBuf<N> {
    /// Never fails: a log line is better cut than lost.
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = N - self.len;
        let mut take = text.len().min(room);
        while !text.is_char_boundary(take) {
            take -= 1;
        }
        self.truncated |= take < text.len();
        self.bytes[self.len..self.len + take].copy_from_slice(&text.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn formats_like_write() {
        let mut buf = FixedBuf::<32>::new();
        write!(buf, "{} + {} = {}", 2, 3, 2 + 3).unwrap();
        assert_eq!((buf.as_str(), buf.truncated()), ("2 + 3 = 5", false));
    }

    #[test]
    fn cuts_at_capacity() {
        let mut buf = FixedBuf::<8>::new();
        write!(buf, "0123456789").unwrap();
        assert_eq!((buf.as_str(), buf.truncated()), ("01234567", true));
        write!(buf, "more").unwrap();
        assert_eq!(buf.as_str(), "01234567");
    }

    #[test]
    fn never_splits_a_character() {
        let mut buf = FixedBuf::<5>::new();
        write!(buf, "ab\u{e9}\u{e9}").unwrap(); // a b é(2 bytes) é(2 bytes) = 6 bytes
        assert_eq!((buf.as_str(), buf.truncated()), ("ab\u{e9}", true));
    }
}
