//! Native framing.
//!
//! A connection opens with an 8-byte preamble: `STRM`, a u16 protocol
//! version and a u16 of flags (0, or [`FLAG_INTERNAL_WRITER`]). Read as a Kafka length prefix, `STRM` is
//! 1,398,034,509 bytes, beyond any frame either protocol accepts, so the
//! broker tells the two protocols apart from the first four bytes.
//!
//! Then every frame is a u32 big-endian length (of what follows), a header
//! and a body. Request header: api key u16, api version u16, correlation id
//! i32. Response header: correlation id i32. The length is checked against
//! the limit before any buffer is allocated for the frame.
use bytes::{Buf, BufMut, BytesMut};

use super::codec::ProtoError;

pub const PREAMBLE_MAGIC: [u8; 4] = *b"STRM";
pub const PROTOCOL_VERSION: u16 = 1;
pub const PREAMBLE_LEN: usize = 8;
pub const PREAMBLE: [u8; PREAMBLE_LEN] = [b'S', b'T', b'R', b'M', 0, 1, 0, 0];
/// Preamble flag: the client is strom's own connect runtime, which may
/// write the internal topics [`super::internal_topic::INTERNAL_WRITER_TOPICS`]
/// lists (its source offsets). Only the native protocol has it; every other
/// client stays refused. It marks, it does not authenticate: it keeps
/// mistakes (a `produce` to a `__` topic) out, as the `__` rule does.
pub const FLAG_INTERNAL_WRITER: u16 = 0x0001;

/// The preamble with `flags`.
pub fn preamble(flags: u16) -> [u8; PREAMBLE_LEN] {
    let mut p = PREAMBLE;
    p[6..8].copy_from_slice(&flags.to_be_bytes());
    p
}

/// The flags of a preamble that [`check_preamble`] accepted.
pub fn preamble_flags(buf: &[u8]) -> u16 {
    match buf {
        [_, _, _, _, _, _, a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

pub const REQUEST_HEADER_LEN: usize = 8;
pub const RESPONSE_HEADER_LEN: usize = 4;

/// Checks a preamble; returns the client's protocol version.
pub fn check_preamble(buf: &[u8]) -> Result<u16, ProtoError> {
    if buf.len() < PREAMBLE_LEN || buf[..4] != PREAMBLE_MAGIC {
        return Err(ProtoError::BadPreamble);
    }
    let version = u16::from_be_bytes([buf[4], buf[5]]);
    if version != PROTOCOL_VERSION {
        return Err(ProtoError::UnsupportedProtocol(version));
    }
    Ok(version)
}

/// Looks at the front of `buf` and says whether a whole frame is there.
/// Returns the frame's body length (after the 4-byte prefix) when complete,
/// `None` when more bytes are needed, and an error when the announced length
/// is over `max` — before a single byte of it is buffered.
/// The correlation id of the one response a broker sends to a frame it
/// will not read (too large): a status saying why, then the close. The
/// request's own id is inside the unread frame.
pub const REFUSED_FRAME_ID: i32 = -1;

pub fn check_frame(buf: &[u8], max: usize) -> Result<Option<usize>, ProtoError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > max {
        return Err(ProtoError::FrameTooLarge { len, max });
    }
    if buf.len() < 4 + len {
        return Ok(None);
    }
    Ok(Some(len))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    pub api_key: u16,
    pub api_version: u16,
    pub correlation_id: i32,
}

impl FrameHeader {
    /// Splits the header off a request frame body (after the length).
    pub fn parse(body: &mut BytesMut) -> Result<FrameHeader, ProtoError> {
        if body.len() < REQUEST_HEADER_LEN {
            return Err(ProtoError::Truncated {
                what: "request header",
                needed: REQUEST_HEADER_LEN - body.len(),
            });
        }
        Ok(FrameHeader {
            api_key: body.get_u16(),
            api_version: body.get_u16(),
            correlation_id: body.get_i32(),
        })
    }

    /// Writes a whole request frame: length, header, body.
    pub fn write_request(&self, body: &[u8], out: &mut BytesMut) {
        out.reserve(4 + REQUEST_HEADER_LEN + body.len());
        out.put_u32((REQUEST_HEADER_LEN + body.len()) as u32);
        out.put_u16(self.api_key);
        out.put_u16(self.api_version);
        out.put_i32(self.correlation_id);
        out.put_slice(body);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHeader {
    pub correlation_id: i32,
}

impl ResponseHeader {
    pub fn parse(body: &mut BytesMut) -> Result<ResponseHeader, ProtoError> {
        if body.len() < RESPONSE_HEADER_LEN {
            return Err(ProtoError::Truncated {
                what: "response header",
                needed: RESPONSE_HEADER_LEN - body.len(),
            });
        }
        Ok(ResponseHeader {
            correlation_id: body.get_i32(),
        })
    }

    /// Reserves room for the length prefix and header at the front of a
    /// response buffer; the body is then encoded after it and
    /// [`ResponseHeader::finish`] fills in the length.
    pub fn begin(&self, out: &mut BytesMut) -> usize {
        let start = out.len();
        out.put_u32(0);
        out.put_i32(self.correlation_id);
        start
    }

    pub fn finish(out: &mut BytesMut, start: usize) {
        let len = (out.len() - start - 4) as u32;
        out[start..start + 4].copy_from_slice(&len.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preamble_carries_flags() {
        assert_eq!(preamble(0), PREAMBLE);
        let p = preamble(FLAG_INTERNAL_WRITER);
        assert_eq!(check_preamble(&p).ok(), Some(PROTOCOL_VERSION));
        assert_eq!(preamble_flags(&p), FLAG_INTERNAL_WRITER);
        assert_eq!(preamble_flags(&PREAMBLE), 0);
        assert_eq!(preamble_flags(b"STR"), 0);
    }

    #[test]
    fn oversized_length_is_refused_from_the_prefix_alone() {
        let buf = [0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            check_frame(&buf, 1 << 20),
            Err(ProtoError::FrameTooLarge { .. })
        ));
    }

    #[test]
    fn preamble_cannot_be_a_kafka_length() {
        let as_len = u32::from_be_bytes(PREAMBLE_MAGIC) as usize;
        assert!(as_len > 1 << 30);
        assert_eq!(check_preamble(&PREAMBLE), Ok(PROTOCOL_VERSION));
        assert!(check_preamble(b"GET / HT").is_err());
    }

    #[test]
    fn partial_frames_wait_for_more() {
        let mut out = BytesMut::new();
        let h = FrameHeader {
            api_key: 3,
            api_version: 0,
            correlation_id: 7,
        };
        h.write_request(b"abc", &mut out);
        for cut in 0..out.len() {
            assert_eq!(check_frame(&out[..cut], 1024), Ok(None));
        }
        assert_eq!(check_frame(&out, 1024), Ok(Some(11)));
    }
}
