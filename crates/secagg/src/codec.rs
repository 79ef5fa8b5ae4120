//! A small, strict binary codec for the crate's messages: big-endian integers, `u32`-length
//! prefixed byte strings, a leading format version, and no trailing bytes.

use crate::error::{Result, SecaggError};

/// Format version written first in every encoded message.
pub(crate) const FORMAT_VERSION: u8 = 1;

/// Appends encoded values to a byte vector.
pub(crate) struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// A writer for a message of kind `tag`.
    pub(crate) fn new(tag: u8) -> Self {
        Writer {
            bytes: vec![FORMAT_VERSION, tag],
        }
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.bytes.push(value);
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn raw(&mut self, value: &[u8]) {
        self.bytes.extend_from_slice(value);
    }

    /// A `u32`-length-prefixed byte string.
    pub(crate) fn bytes(&mut self, value: &[u8]) -> Result<()> {
        let len = u32::try_from(value.len()).map_err(|_| SecaggError::Malformed {
            what: "byte string",
            reason: format!("{} bytes exceed the u32 length prefix", value.len()),
        })?;
        self.bytes.extend_from_slice(&len.to_be_bytes());
        self.bytes.extend_from_slice(value);
        Ok(())
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads encoded values, failing (never panicking) on truncation or trailing bytes.
pub(crate) struct Reader<'a> {
    what: &'static str,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading a `what` message; checks the format version and returns the message tag.
    pub(crate) fn new(what: &'static str, bytes: &'a [u8]) -> Result<(Self, u8)> {
        let mut reader = Reader { what, rest: bytes };
        let version = reader.u8()?;
        if version != FORMAT_VERSION {
            return Err(reader.error(format!("format version {version}, expected {FORMAT_VERSION}")));
        }
        let tag = reader.u8()?;
        Ok((reader, tag))
    }

    pub(crate) fn error(&self, reason: String) -> SecaggError {
        SecaggError::Malformed {
            what: self.what,
            reason,
        }
    }

    pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        if self.rest.len() < len {
            return Err(self.error(format!("truncated: needed {len} more bytes, {} left", self.rest.len())));
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u64(&mut self) -> Result<u64> {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(buf))
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut buf = [0u8; N];
        buf.copy_from_slice(self.take(N)?);
        Ok(buf)
    }

    /// A `u32`-length-prefixed byte string.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8]> {
        let mut len = [0u8; 4];
        len.copy_from_slice(self.take(4)?);
        let len = u32::from_be_bytes(len) as usize;
        self.take(len)
    }

    /// An optional `u64`: a flag byte (0 or 1) then the value.
    pub(crate) fn option_u64(&mut self) -> Result<Option<u64>> {
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.u64()?)),
            other => Err(self.error(format!("option flag {other}, expected 0 or 1"))),
        }
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.error(format!("{} trailing bytes", self.rest.len())))
        }
    }
}

impl Writer {
    /// An optional `u64`: a flag byte (0 or 1) then the value.
    pub(crate) fn option_u64(&mut self, value: Option<u64>) {
        match value {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                self.u64(v);
            }
        }
    }
}
