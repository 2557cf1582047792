//! Codec tests: a hand-built vector, error paths, and property round-trips.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

/// Bit-at-a-time CRC-32C (Castagnoli, reflected 0x82F63B78), independent
/// of the `crc32c` crate so the test vector is checked against the spec.
fn crc32c_bitwise(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// One record, key "k", value "v", timestamp 1000, no headers, written out
/// field by field from the RecordBatch v2 spec.
fn hand_vector() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0i64.to_be_bytes()); // baseOffset
    v.extend_from_slice(&58i32.to_be_bytes()); // batchLength = 70 - 12
    v.extend_from_slice(&(-1i32).to_be_bytes()); // partitionLeaderEpoch
    v.push(2); // magic
    v.extend_from_slice(&[0, 0, 0, 0]); // crc, patched below
    v.extend_from_slice(&[0, 0]); // attributes
    v.extend_from_slice(&0i32.to_be_bytes()); // lastOffsetDelta
    v.extend_from_slice(&1000i64.to_be_bytes()); // baseTimestamp
    v.extend_from_slice(&1000i64.to_be_bytes()); // maxTimestamp
    v.extend_from_slice(&(-1i64).to_be_bytes()); // producerId
    v.extend_from_slice(&(-1i16).to_be_bytes()); // producerEpoch
    v.extend_from_slice(&(-1i32).to_be_bytes()); // baseSequence
    v.extend_from_slice(&1i32.to_be_bytes()); // recordsCount
                                              // Record: length 8 (zigzag 0x10), attrs, tsDelta 0, offsetDelta 0,
                                              // keyLen 1 (0x02) 'k', valueLen 1 (0x02) 'v', headers 0.
    v.extend_from_slice(&[0x10, 0x00, 0x00, 0x00, 0x02, b'k', 0x02, b'v', 0x00]);
    let crc = crc32c_bitwise(&v[21..]);
    v[17..21].copy_from_slice(&crc.to_be_bytes());
    v
}

type SimpleRec<'a> = (i64, Option<&'a [u8]>, Option<&'a [u8]>);

fn build(records: &[SimpleRec<'_>]) -> Vec<u8> {
    let mut b = BatchBuilder::new(records.first().map_or(0, |r| r.0));
    for (ts, k, v) in records {
        b.push(*ts, *k, *v, &[]).unwrap();
    }
    b.finish().to_vec()
}

fn recrc(buf: &mut [u8]) {
    let crc = crc32c_bitwise(&buf[21..]);
    buf[17..21].copy_from_slice(&crc.to_be_bytes());
}

#[test]
fn bitwise_crc_matches_check_value() {
    assert_eq!(crc32c_bitwise(b"123456789"), 0xE306_9283);
}

#[test]
fn builder_matches_hand_vector() {
    let hand = hand_vector();
    assert_eq!(hand.len(), 70);
    let built = build(&[(1000, Some(b"k"), Some(b"v"))]);
    assert_eq!(built, hand);
    let h = validate_batch(&hand).unwrap();
    assert_eq!(h.records_count, 1);
    assert_eq!(h.max_timestamp, 1000);
    let recs = decode_records(&Bytes::from(hand)).unwrap();
    assert_eq!(
        recs,
        vec![Record {
            offset: 0,
            timestamp: 1000,
            key: Some(Bytes::from_static(b"k")),
            value: Some(Bytes::from_static(b"v")),
            headers: vec![],
        }]
    );
}

#[test]
fn stamp_keeps_crc_valid() {
    let mut b = build(&[(5, None, Some(b"a")), (7, Some(b"x"), None)]);
    stamp(&mut b, 1234, 9);
    let h = validate_batch(&b).unwrap();
    assert_eq!((h.base_offset, h.partition_leader_epoch), (1234, 9));
    assert_eq!(h.last_offset(), 1235);
    let recs = decode_records(&Bytes::from(b)).unwrap();
    assert_eq!(recs[1].offset, 1235);
    assert_eq!(recs[1].timestamp, 7);
    assert_eq!(recs[1].value, None);
    assert_eq!(recs[0].key, None);
}

#[test]
fn headers_roundtrip() {
    let mut b = BatchBuilder::new(0);
    b.push(0, None, Some(b"v"), &[("h1", Some(b"x")), ("h2", None)])
        .unwrap();
    let buf = b.finish().freeze();
    validate_batch(&buf).unwrap();
    let recs = decode_records(&buf).unwrap();
    assert_eq!(recs[0].headers.len(), 2);
    assert_eq!(recs[0].headers[0].key, "h1");
    assert_eq!(recs[0].headers[1].value, None);
}

#[test]
fn validation_errors() {
    let good = hand_vector();

    let mut bad = good.clone();
    bad[16] = 1;
    assert_eq!(validate_batch(&bad), Err(RecordError::BadMagic(1)));

    let mut bad = good.clone();
    bad[66] ^= 0xff;
    assert!(matches!(
        validate_batch(&bad),
        Err(RecordError::CrcMismatch { .. })
    ));

    assert!(matches!(
        validate_batch(&good[..69]),
        Err(RecordError::LengthMismatch { .. })
    ));
    assert_eq!(validate_batch(&good[..30]), Err(RecordError::Truncated));

    let mut bad = good.clone();
    bad[57..61].copy_from_slice(&2i32.to_be_bytes());
    recrc(&mut bad);
    assert!(matches!(
        validate_batch(&bad),
        Err(RecordError::RecordCountMismatch { .. })
    ));

    // Count and lastOffsetDelta agree but only one record is present.
    let mut bad = good.clone();
    bad[57..61].copy_from_slice(&2i32.to_be_bytes());
    bad[23..27].copy_from_slice(&1i32.to_be_bytes());
    recrc(&mut bad);
    assert!(validate_batch(&bad).is_err());

    // Record length varint that overruns the batch.
    let mut bad = good.clone();
    bad[61] = 0x7e;
    recrc(&mut bad);
    assert!(validate_batch(&bad).is_err());
}

#[test]
fn compressed_batches_with_nonsense_records_validate_but_do_not_decode() {
    let mut b = hand_vector();
    b[22] = 4; // zstd; the payload is nonsense, but the CRC is still checked
    recrc(&mut b);
    let h = validate_batch(&b).unwrap();
    assert_eq!(h.compression(), Ok(Compression::Zstd));
    assert!(matches!(
        decode_records(&Bytes::from(b.clone())),
        Err(RecordError::Codec(_))
    ));
    b[22] = 6;
    recrc(&mut b);
    assert_eq!(
        validate_batch(&b),
        Err(RecordError::UnsupportedCompression(6))
    );
}

#[test]
fn attribute_helpers() {
    assert!(is_control(0x20));
    assert!(!is_control(0x10));
    assert!(is_transactional(0x10));
    assert_eq!(timestamp_type(0x08), TimestampType::LogAppendTime);
    assert_eq!(timestamp_type(0), TimestampType::CreateTime);
    assert_eq!(compression(3), Ok(Compression::Lz4));
}

#[test]
fn splitting_batches() {
    let a = build(&[(1, None, Some(b"one"))]);
    let b = build(&[(2, None, Some(b"two")), (3, None, Some(b"three"))]);
    let mut all = a.clone();
    all.extend_from_slice(&b);
    let parts: Vec<_> = batches(&all).collect::<Result<_, _>>().unwrap();
    assert_eq!(parts, vec![&a[..], &b[..]]);

    let torn = &all[..all.len() - 3];
    let parts: Vec<_> = batches(torn).collect();
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1], Err(RecordError::Truncated));

    let mut short = all.clone();
    short.extend_from_slice(&[0, 0, 0]);
    let parts: Vec<_> = batches(&short).collect();
    assert_eq!(parts.last(), Some(&Err(RecordError::Truncated)));

    let mut zero_len = a.clone();
    zero_len.extend_from_slice(&[0; 12]);
    assert!(matches!(
        batches(&zero_len).last(),
        Some(Err(RecordError::Corrupt(_)))
    ));
    assert_eq!(batches(&[]).count(), 0);
}

#[test]
fn size_bytes_is_exact() {
    let mut b = BatchBuilder::new(0);
    for i in 0..100u8 {
        b.push(i64::from(i), Some(&[i]), Some(&[i; 50]), &[])
            .unwrap();
    }
    let n = b.size_bytes();
    assert_eq!(b.len(), 100);
    assert_eq!(b.finish().len(), n);
}

type Rec = (
    i64,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Vec<(String, Option<Vec<u8>>)>,
);

fn rec_strategy() -> impl Strategy<Value = Rec> {
    (
        any::<i64>(),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
        proptest::collection::vec(
            (
                "\\PC{0,8}",
                proptest::option::of(proptest::collection::vec(any::<u8>(), 0..10)),
            ),
            0..3,
        ),
    )
}

proptest! {
    #[test]
    fn build_validate_decode_roundtrip(
        base_ts in any::<i64>(),
        recs in proptest::collection::vec(rec_strategy(), 1..40),
        base_offset in 0i64..(1 << 50),
        epoch in -1i32..1000,
    ) {
        let mut b = BatchBuilder::new(base_ts);
        for (ts, k, v, hs) in &recs {
            let hs: Vec<(&str, Option<&[u8]>)> =
                hs.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
            b.push(*ts, k.as_deref(), v.as_deref(), &hs).unwrap();
        }
        let est = b.size_bytes();
        let mut buf = b.finish();
        prop_assert_eq!(buf.len(), est);
        stamp(&mut buf, base_offset, epoch);
        let h = validate_batch(&buf).unwrap();
        prop_assert_eq!(h.records_count as usize, recs.len());
        prop_assert_eq!(h.max_timestamp, recs.iter().map(|r| r.0).max().unwrap());
        let decoded = decode_records(&buf.freeze()).unwrap();
        prop_assert_eq!(decoded.len(), recs.len());
        for (i, (d, (ts, k, v, hs))) in decoded.iter().zip(&recs).enumerate() {
            prop_assert_eq!(d.offset, base_offset + i as i64);
            prop_assert_eq!(d.timestamp, *ts);
            prop_assert_eq!(d.key.as_deref(), k.as_deref());
            prop_assert_eq!(d.value.as_deref(), v.as_deref());
            prop_assert_eq!(d.headers.len(), hs.len());
            for (dh, (hk, hv)) in d.headers.iter().zip(hs) {
                prop_assert_eq!(&dh.key, hk);
                prop_assert_eq!(dh.value.as_deref(), hv.as_deref());
            }
        }
    }

    #[test]
    fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = validate_batch(&data);
        let _ = decode_records(&Bytes::from(data.clone()));
        let _ = batches(&data).count();
        let _ = BatchHeader::parse(&data);
    }

    #[test]
    fn mutated_batch_never_panics(idx in 0usize..200, val in any::<u8>(), fix_crc in any::<bool>()) {
        let mut b = build(&[(1, Some(b"key"), Some(b"value")), (2, None, Some(b"second"))]);
        let i = idx % b.len();
        b[i] = val;
        if fix_crc { recrc(&mut b); }
        if let Ok(h) = validate_batch(&b) {
            // Anything uncompressed that validates must also decode.
            let decoded = decode_records(&Bytes::from(b));
            if h.compression() == Ok(Compression::None) {
                prop_assert!(decoded.is_ok());
            }
            // A compressed one may or may not inflate; it never panics.
        }
    }
}
