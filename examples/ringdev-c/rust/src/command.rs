//! What a write that starts with '!' asks for.

use rustkmod_rt::{Error, Result};

#[derive(Debug, PartialEq)]
pub enum Command {
    Clear,
    Stats,
}

impl Command {
    /// `None` for data; a command for `!clear` or `!stats` (a trailing newline allowed);
    /// EINVAL for any other `!word`.
    pub fn parse(data: &[u8]) -> Result<Option<Command>> {
        let Some(rest) = data.strip_prefix(b"!") else { return Ok(None) };
        match rest.strip_suffix(b"\n").unwrap_or(rest) {
            b"clear" => Ok(Some(Command::Clear)),
            b"stats" => Ok(Some(Command::Stats)),
            _ => Err(Error::EINVAL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_data() {
        assert_eq!(Command::parse(b"hello"), Ok(None));
        assert_eq!(Command::parse(b"!stats\n"), Ok(Some(Command::Stats)));
        assert_eq!(Command::parse(b"!clear"), Ok(Some(Command::Clear)));
        assert_eq!(Command::parse(b"!reboot"), Err(Error::EINVAL));
    }
}
