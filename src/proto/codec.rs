//! Primitive encoding for the native protocol.
//!
//! Integers are big-endian. `String` is a u16 length then UTF-8 (0xFFFF means
//! null for `Option<String>`); `Bytes` is a u32 length (0xFFFF_FFFF = null);
//! arrays are a u32 count then the items. Every read is bounds-checked and
//! every count is checked against the bytes left before anything is
//! allocated, so a hostile frame costs at most its own size.
use bytes::{Buf, BufMut, Bytes, BytesMut};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtoError {
    #[error("frame ended early: needed {needed} more bytes for {what}")]
    Truncated { what: &'static str, needed: usize },
    #[error("{count} {what} announced but only {left} bytes left in the frame")]
    CountTooLarge {
        what: &'static str,
        count: u64,
        left: usize,
    },
    #[error("string is not valid UTF-8")]
    BadUtf8,
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    #[error("invalid value for {what}: {value}")]
    InvalidValue { what: &'static str, value: i64 },
    #[error("frame of {len} bytes is larger than the limit of {max} bytes")]
    FrameTooLarge { len: usize, max: usize },
    #[error("bad connection preamble: not a strom client")]
    BadPreamble,
    #[error("unsupported protocol version {0}")]
    UnsupportedProtocol(u16),
}

/// A reader over one frame's body. It owns the bytes so that `Bytes` fields
/// are zero-copy slices of the frame.
pub struct Decoder {
    buf: BytesMut,
}

impl Decoder {
    pub fn new(buf: BytesMut) -> Self {
        Decoder { buf }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn need(&self, n: usize, what: &'static str) -> Result<(), ProtoError> {
        if self.buf.len() < n {
            return Err(ProtoError::Truncated {
                what,
                needed: n - self.buf.len(),
            });
        }
        Ok(())
    }

    pub fn i8(&mut self) -> Result<i8, ProtoError> {
        self.need(1, "i8")?;
        Ok(self.buf.get_i8())
    }
    pub fn i16(&mut self) -> Result<i16, ProtoError> {
        self.need(2, "i16")?;
        Ok(self.buf.get_i16())
    }
    pub fn u16(&mut self) -> Result<u16, ProtoError> {
        self.need(2, "u16")?;
        Ok(self.buf.get_u16())
    }
    pub fn i32(&mut self) -> Result<i32, ProtoError> {
        self.need(4, "i32")?;
        Ok(self.buf.get_i32())
    }
    pub fn u32(&mut self) -> Result<u32, ProtoError> {
        self.need(4, "u32")?;
        Ok(self.buf.get_u32())
    }
    pub fn i64(&mut self) -> Result<i64, ProtoError> {
        self.need(8, "i64")?;
        Ok(self.buf.get_i64())
    }

    /// Takes `n` bytes as a unique, mutable buffer (no copy): produce needs
    /// to stamp offsets into record batches in place.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<BytesMut, ProtoError> {
        self.need(n, what)?;
        Ok(self.buf.split_to(n))
    }

    /// Reads an array count and checks that `count * min_item` bytes are
    /// still there, before the caller allocates anything for it.
    pub fn count(&mut self, what: &'static str, min_item: usize) -> Result<usize, ProtoError> {
        let count = self.u32()? as u64;
        let left = self.buf.len();
        if count.saturating_mul(min_item.max(1) as u64) > left as u64 {
            return Err(ProtoError::CountTooLarge { what, count, left });
        }
        Ok(count as usize)
    }

    pub fn finish(self) -> Result<(), ProtoError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(ProtoError::TrailingBytes(self.buf.len()))
        }
    }
}

/// A value with a native wire form. Field order in a struct is wire order.
pub trait Wire: Sized {
    fn encode(&self, buf: &mut BytesMut);
    fn decode(d: &mut Decoder) -> Result<Self, ProtoError>;
    /// Smallest encoded size; used to bound array counts before allocating.
    const MIN_SIZE: usize;
}

macro_rules! wire_int {
    ($t:ty, $get:ident, $put:ident, $n:expr) => {
        impl Wire for $t {
            fn encode(&self, buf: &mut BytesMut) {
                buf.$put(*self);
            }
            fn decode(d: &mut Decoder) -> Result<Self, ProtoError> {
                d.$get()
            }
            const MIN_SIZE: usize = $n;
        }
    };
}
wire_int!(i8, i8, put_i8, 1);
wire_int!(i16, i16, put_i16, 2);
wire_int!(i32, i32, put_i32, 4);
wire_int!(i64, i64, put_i64, 8);

impl Wire for bool {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_i8(*self as i8);
    }
    fn decode(d: &mut Decoder) -> Result<Self, ProtoError> {
        match d.i8()? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(ProtoError::InvalidValue {
                what: "bool",
                value: v as i64,
            }),
        }
    }
    const MIN_SIZE: usize = 1;
}

const NULL_STR: u16 = 0xFFFF;
const NULL_BYTES: u32 = 0xFFFF_FFFF;

fn put_str(buf: &mut BytesMut, s: &str) {
    // Strings longer than 65534 bytes cannot be represented; callers validate
    // names and messages well below that, so clip rather than corrupt.
    let bytes = s.as_bytes();
    let len = bytes.len().min(NULL_STR as usize - 1);
    buf.put_u16(len as u16);
    buf.put_slice(&bytes[..len]);
}

fn get_str(d: &mut Decoder, len: usize) -> Result<String, ProtoError> {
    let raw = d.take(len, "string")?;
    String::from_utf8(raw.to_vec()).map_err(|_| ProtoError::BadUtf8)
}

impl Wire for String {
    fn encode(&self, buf: &mut BytesMut) {
        put_str(buf, self);
    }
    fn decode(d: &mut Decoder) -> Result<Self, ProtoError> {
        match d.u16()? {
            NULL_STR => Err(ProtoError::InvalidValue {
                what: "non-null string",
                value: -1,
            }),
            len => get_str(d, len as usize),
        }
    }
    const MIN_SIZE: usize = 2;
}

impl Wire for Option<String> {
    fn encode(&self, buf: &mut BytesMut) {
        match self {
            Some(s) => put_str(buf, s),
            None => buf.put_u16(NULL_STR),
        }
    }
    fn decode(d: &mut Decoder) -> Result<Self, ProtoError> {
        match d.u16()? {
            NULL_STR => Ok(None),
            len => get_str(d, len as usize).map(Some),
        }
    }
    const MIN_SIZE: usize = 2;
}

impl Wire for Bytes {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.len() as u32);
        buf.put_slice(self);
    }
    fn decode(d: &mut Decoder) -> Result<Self, ProtoError> {
        match d.u32()? {
            NULL_BYTES => Err(ProtoError::InvalidValue {
                what: "non-null bytes",
                value: -1,
            }),
            len => Ok(d.take(len as usize, "bytes")?.freeze()),
        }
    }
    const MIN_SIZE: usize = 4;
}

/// Record batches arrive as a unique buffer so the broker can stamp offsets
/// into them without copying.
impl Wire for BytesMut {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.len() as u32);
        buf.put_slice(self);
    }
    fn decode(d: &mut Decoder) -> Result<Self, ProtoError> {
        match d.u32()? {
            NULL_BYTES => Err(ProtoError::InvalidValue {
                what: "non-null bytes",
                value: -1,
            }),
            len => d.take(len as usize, "bytes"),
        }
    }
    const MIN_SIZE: usize = 4;
}

impl Wire for Option<Bytes> {
    fn encode(&self, buf: &mut BytesMut) {
        match self {
            Some(b) => b.encode(buf),
            None => buf.put_u32(NULL_BYTES),
        }
    }
    fn decode(d: &mut Decoder) -> Result<Self, ProtoError> {
        match d.u32()? {
            NULL_BYTES => Ok(None),
            len => Ok(Some(d.take(len as usize, "bytes")?.freeze())),
        }
    }
    const MIN_SIZE: usize = 4;
}

impl<T: Wire> Wire for Vec<T> {
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.len() as u32);
        for item in self {
            item.encode(buf);
        }
    }
    fn decode(d: &mut Decoder) -> Result<Self, ProtoError> {
        let n = d.count("array items", T::MIN_SIZE)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::decode(d)?);
        }
        Ok(out)
    }
    const MIN_SIZE: usize = 4;
}

/// Declares a message struct whose fields are encoded in declaration order.
/// The generated type derives Debug, Clone, PartialEq and Default.
#[macro_export]
macro_rules! wire_struct {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Default)]
        pub struct $name { $($(#[$fm])* pub $field: $ty),* }

        impl $crate::proto::codec::Wire for $name {
            #[allow(unused_variables)]
            fn encode(&self, buf: &mut ::bytes::BytesMut) {
                $( $crate::proto::codec::Wire::encode(&self.$field, buf); )*
            }
            #[allow(unused_variables)]
            fn decode(d: &mut $crate::proto::codec::Decoder) -> Result<Self, $crate::proto::codec::ProtoError> {
                Ok(Self { $( $field: <$ty as $crate::proto::codec::Wire>::decode(d)?, )* })
            }
            const MIN_SIZE: usize = 0 $( + <$ty as $crate::proto::codec::Wire>::MIN_SIZE )*;
        }
    };
}

/// Encodes a message into a fresh buffer.
pub fn to_bytes<T: Wire>(msg: &T) -> BytesMut {
    let mut buf = BytesMut::new();
    msg.encode(&mut buf);
    buf
}

/// Decodes a whole body as one message; trailing bytes are an error.
pub fn from_bytes<T: Wire>(buf: BytesMut) -> Result<T, ProtoError> {
    let mut d = Decoder::new(buf);
    let msg = T::decode(&mut d)?;
    d.finish()?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_array_count_is_refused_before_allocating() {
        let mut buf = BytesMut::new();
        buf.put_u32(u32::MAX - 1);
        let err = from_bytes::<Vec<i64>>(buf).unwrap_err();
        assert!(matches!(err, ProtoError::CountTooLarge { .. }));
    }

    #[test]
    fn strings_and_nulls_round_trip() {
        let v: Vec<Option<String>> = vec![Some("a".into()), None, Some(String::new())];
        assert_eq!(from_bytes::<Vec<Option<String>>>(to_bytes(&v)).unwrap(), v);
        let b: Option<Bytes> = None;
        assert_eq!(from_bytes::<Option<Bytes>>(to_bytes(&b)).unwrap(), b);
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let full = to_bytes(&vec!["hello".to_string(), "world".to_string()]);
        for cut in 0..full.len() {
            let part = BytesMut::from(&full[..cut]);
            assert!(from_bytes::<Vec<String>>(part).is_err());
        }
    }
}
