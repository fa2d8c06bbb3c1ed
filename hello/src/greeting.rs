//! The `who` module parameter: "NAME" or "NAME*COUNT", checked before anything is printed.

use core::fmt;

/// Longest name accepted: a greeting must fit one log line.
pub const MAX_NAME: usize = 32;
/// Most greetings one load may print.
pub const MAX_COUNT: u32 = 5;

/// A checked parameter: who to greet, and how many times.
#[derive(Debug, PartialEq, Eq)]
pub struct Greeting<'a> {
    name: &'a str,
    count: u32,
}

/// What is wrong with a parameter, in words for the kernel log.
#[derive(Debug, PartialEq, Eq)]
pub enum ParamError {
    Empty,
    NameTooLong(usize),
    BadChar(u8),
    BadCount,
    CountOutOfRange(u32),
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Empty => write!(f, "empty name"),
            ParamError::NameTooLong(len) => write!(f, "name of {len} bytes, at most {MAX_NAME}"),
            ParamError::BadChar(byte) => write!(f, "byte {byte:#04x} in name (letters, digits, '-', '_', '.', ' ')"),
            ParamError::BadCount => write!(f, "count after '*' is not a number"),
            ParamError::CountOutOfRange(count) => write!(f, "count {count} is not in 1..={MAX_COUNT}"),
        }
    }
}

impl<'a> Greeting<'a> {
    /// Parses the raw parameter bytes.
    pub fn parse(param: &'a [u8]) -> Result<Self, ParamError> {
        let (name, count) = match param.iter().position(|&b| b == b'*') {
            Some(star) => (&param[..star], parse_count(&param[star + 1..])?),
            None => (param, 1),
        };
        if name.is_empty() {
            return Err(ParamError::Empty);
        }
        if name.len() > MAX_NAME {
            return Err(ParamError::NameTooLong(name.len()));
        }
        if let Some(&bad) = name.iter().find(|&&b| !is_name_byte(b)) {
            return Err(ParamError::BadChar(bad));
        }
        // Only ASCII is left, which is always UTF-8.
        let name = core::str::from_utf8(name).map_err(|_| ParamError::BadChar(name[0]))?;
        Ok(Greeting { name, count })
    }

    pub fn name(&self) -> &str {
        self.name
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    /// The greeting as one log line.
    pub fn write_line(&self, out: &mut impl fmt::Write) -> fmt::Result {
        write!(out, "hello {}", self.name())
    }
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b' ')
}

fn parse_count(digits: &[u8]) -> Result<u32, ParamError> {
    if digits.is_empty() || digits.len() > 3 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(ParamError::BadCount);
    }
    let count = digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    if count == 0 || count > MAX_COUNT {
        return Err(ParamError::CountOutOfRange(count));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_name_greets_once() {
        let greeting = Greeting::parse(b"world").unwrap();
        assert_eq!((greeting.name(), greeting.count()), ("world", 1));
    }

    #[test]
    fn name_with_count() {
        let greeting = Greeting::parse(b"Ferris the crab*5").unwrap();
        assert_eq!((greeting.name(), greeting.count()), ("Ferris the crab", 5));
    }

    #[test]
    fn rejects_what_a_log_line_cannot_hold() {
        assert_eq!(Greeting::parse(b""), Err(ParamError::Empty));
        assert_eq!(Greeting::parse(b"*2"), Err(ParamError::Empty));
        assert_eq!(Greeting::parse(&[b'a'; 33]), Err(ParamError::NameTooLong(33)));
        assert_eq!(Greeting::parse(b"a\nb"), Err(ParamError::BadChar(b'\n')));
        assert_eq!(Greeting::parse("\u{e9}t\u{e9}".as_bytes()), Err(ParamError::BadChar(0xc3)));
    }

    #[test]
    fn counts_are_small_decimal_numbers() {
        assert_eq!(Greeting::parse(b"a*"), Err(ParamError::BadCount));
        assert_eq!(Greeting::parse(b"a*x"), Err(ParamError::BadCount));
        assert_eq!(Greeting::parse(b"a*-1"), Err(ParamError::BadCount));
        assert_eq!(Greeting::parse(b"a*1000"), Err(ParamError::BadCount));
        assert_eq!(Greeting::parse(b"a*0"), Err(ParamError::CountOutOfRange(0)));
        assert_eq!(Greeting::parse(b"a*6"), Err(ParamError::CountOutOfRange(6)));
        assert_eq!(Greeting::parse(b"a*2*3"), Err(ParamError::BadCount));
    }

    #[test]
    fn longest_name_fits_the_line_buffer() {
        let name = [b'n'; MAX_NAME];
        let greeting = Greeting::parse(&name).unwrap();
        let mut line = crate::fmtbuf::FixedBuf::<64>::new();
        greeting.write_line(&mut line).unwrap();
        assert!(!line.truncated());
        assert_eq!(line.as_str().len(), "hello ".len() + MAX_NAME);
    }
}
