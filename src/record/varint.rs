//! Zigzag varints as used inside Kafka v2 records (protobuf-style base-128,
//! least significant group first). Every decoder is bounds-checked and
//! rejects over-long encodings, because the input comes from the network or
//! from disk and must never panic or loop.

use super::RecordError;
use bytes::BufMut;

/// Longest legal encoding of a 32-bit varint.
pub const MAX_VARINT_LEN: usize = 5;
/// Longest legal encoding of a 64-bit varlong.
pub const MAX_VARLONG_LEN: usize = 10;

#[inline]
fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

#[inline]
fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
fn unzigzag64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Number of bytes `encode_varint(v)` writes.
#[inline]
pub fn varint_len(v: i32) -> usize {
    unsigned_len(u64::from(zigzag32(v)))
}

/// Number of bytes `encode_varlong(v)` writes.
#[inline]
pub fn varlong_len(v: i64) -> usize {
    unsigned_len(zigzag64(v))
}

#[inline]
fn unsigned_len(v: u64) -> usize {
    // One byte per started 7-bit group; `| 1` makes zero count as one group.
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

#[inline]
fn put_unsigned<B: BufMut + ?Sized>(out: &mut B, mut v: u64) {
    while v >= 0x80 {
        out.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    out.put_u8(v as u8);
}

/// Appends the zigzag varint encoding of `v`.
#[inline]
pub fn encode_varint<B: BufMut + ?Sized>(out: &mut B, v: i32) {
    put_unsigned(out, u64::from(zigzag32(v)));
}

/// Appends the zigzag varlong encoding of `v`.
#[inline]
pub fn encode_varlong<B: BufMut + ?Sized>(out: &mut B, v: i64) {
    put_unsigned(out, zigzag64(v));
}

#[inline]
fn get_unsigned(buf: &[u8], max_len: usize) -> Result<(u64, usize), RecordError> {
    let mut value: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(max_len) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    if buf.len() < max_len {
        Err(RecordError::Truncated)
    } else {
        Err(RecordError::Corrupt("varint too long"))
    }
}

/// Decodes a zigzag varint from the front of `buf`; returns the value and
/// the number of bytes consumed.
#[inline]
pub fn decode_varint(buf: &[u8]) -> Result<(i32, usize), RecordError> {
    let (raw, n) = get_unsigned(buf, MAX_VARINT_LEN)?;
    // Five groups carry 35 bits; anything above 32 is not a valid int32.
    let raw = u32::try_from(raw).map_err(|_| RecordError::Corrupt("varint overflows i32"))?;
    Ok((((raw >> 1) as i32) ^ -((raw & 1) as i32), n))
}

/// Decodes a zigzag varlong from the front of `buf`.
#[inline]
pub fn decode_varlong(buf: &[u8]) -> Result<(i64, usize), RecordError> {
    let (raw, n) = get_unsigned(buf, MAX_VARLONG_LEN)?;
    // The 10th byte may only contribute the single top bit.
    if n == MAX_VARLONG_LEN && buf[MAX_VARLONG_LEN - 1] > 1 {
        return Err(RecordError::Corrupt("varlong overflows i64"));
    }
    Ok((unzigzag64(raw), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        // Values from the protobuf zigzag table.
        let cases: &[(i32, &[u8])] = &[
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (-2, &[0x03]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
            (i32::MAX, &[0xfe, 0xff, 0xff, 0xff, 0x0f]),
            (i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        ];
        for &(v, bytes) in cases {
            let mut out: Vec<u8> = Vec::new();
            encode_varint(&mut out, v);
            assert_eq!(out, bytes, "encode {v}");
            assert_eq!(varint_len(v), bytes.len());
            assert_eq!(decode_varint(bytes).ok(), Some((v, bytes.len())));
        }
    }

    #[test]
    fn varlong_extremes() {
        for v in [0, -1, 1, i64::MAX, i64::MIN, 1 << 40, -(1 << 40)] {
            let mut out: Vec<u8> = Vec::new();
            encode_varlong(&mut out, v);
            assert_eq!(out.len(), varlong_len(v));
            assert_eq!(decode_varlong(&out).ok(), Some((v, out.len())));
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(decode_varint(&[]), Err(RecordError::Truncated)));
        assert!(matches!(
            decode_varint(&[0x80]),
            Err(RecordError::Truncated)
        ));
        assert!(matches!(
            decode_varint(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(RecordError::Corrupt(_))
        ));
        assert!(matches!(
            decode_varint(&[0xff, 0xff, 0xff, 0xff, 0x7f]),
            Err(RecordError::Corrupt(_))
        ));
        assert!(matches!(
            decode_varlong(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            Err(RecordError::Corrupt(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn roundtrip_varint(v: i32) {
            let mut out: Vec<u8> = Vec::new();
            encode_varint(&mut out, v);
            proptest::prop_assert_eq!(decode_varint(&out).ok(), Some((v, out.len())));
        }

        #[test]
        fn roundtrip_varlong(v: i64) {
            let mut out: Vec<u8> = Vec::new();
            encode_varlong(&mut out, v);
            proptest::prop_assert_eq!(decode_varlong(&out).ok(), Some((v, out.len())));
        }
    }
}
