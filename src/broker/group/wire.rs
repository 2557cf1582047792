//! Kafka's classic (non-flexible) primitives, as used by the
//! `__consumer_offsets` record schemas: big-endian integers, strings as an
//! i16 length (-1 = null) then UTF-8, bytes as an i32 length (-1 = null).
//! Every read is bounds-checked; a count is checked against the bytes left
//! before anything is allocated.
use bytes::{BufMut, Bytes, BytesMut};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("record ended early while reading {0}")]
    Truncated(&'static str),
    #[error("invalid length {len} for {what}")]
    BadLength { what: &'static str, len: i64 },
    #[error("string is not valid UTF-8")]
    BadUtf8,
    #[error("null where {0} may not be null")]
    UnexpectedNull(&'static str),
    #[error("unsupported {what} version {version}")]
    UnsupportedVersion { what: &'static str, version: i16 },
}

pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], CodecError> {
        if self.buf.len() < n {
            return Err(CodecError::Truncated(what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], CodecError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub fn i16(&mut self, what: &'static str) -> Result<i16, CodecError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }

    pub fn i32(&mut self, what: &'static str) -> Result<i32, CodecError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    pub fn i64(&mut self, what: &'static str) -> Result<i64, CodecError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    pub fn nullable_string(&mut self, what: &'static str) -> Result<Option<String>, CodecError> {
        let len = self.i16(what)?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| CodecError::BadLength {
            what,
            len: len.into(),
        })?;
        let raw = self.take(len, what)?;
        String::from_utf8(raw.to_vec())
            .map(Some)
            .map_err(|_| CodecError::BadUtf8)
    }

    pub fn string(&mut self, what: &'static str) -> Result<String, CodecError> {
        self.nullable_string(what)?
            .ok_or(CodecError::UnexpectedNull(what))
    }

    pub fn nullable_bytes(&mut self, what: &'static str) -> Result<Option<Bytes>, CodecError> {
        let len = self.i32(what)?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| CodecError::BadLength {
            what,
            len: len.into(),
        })?;
        Ok(Some(Bytes::copy_from_slice(self.take(len, what)?)))
    }

    /// An array count, checked against the bytes left (each item takes at
    /// least `min_item` bytes) so a hostile count cannot force a huge
    /// allocation.
    pub fn count(&mut self, what: &'static str, min_item: usize) -> Result<usize, CodecError> {
        let n = self.i32(what)?;
        let bad = CodecError::BadLength {
            what,
            len: n.into(),
        };
        let n = usize::try_from(n).map_err(|_| bad.clone())?;
        if n.saturating_mul(min_item.max(1)) > self.buf.len() {
            return Err(bad);
        }
        Ok(n)
    }
}

pub fn put_string(buf: &mut BytesMut, s: &str) {
    // Kafka strings cannot exceed i16::MAX bytes; names and metadata are
    // validated far below that, so clip rather than write a corrupt length.
    let b = s.as_bytes();
    let len = b.len().min(i16::MAX as usize);
    buf.put_i16(len as i16);
    buf.put_slice(&b[..len]);
}

pub fn put_nullable_string(buf: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => put_string(buf, s),
        None => buf.put_i16(-1),
    }
}

pub fn put_bytes(buf: &mut BytesMut, b: &[u8]) {
    let len = b.len().min(i32::MAX as usize);
    buf.put_i32(len as i32);
    buf.put_slice(&b[..len]);
}
