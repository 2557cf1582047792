//! Codec tests: every codec round-trips whole batches, foreign framings
//! decode, and no input inflates past its cap or panics.

use bytes::Bytes;
use proptest::prelude::*;

use super::compression::{compress_into, decompress_into};
use super::*;

const CODECS: [Compression; 4] = [
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

fn sample_batch(codec: Compression) -> bytes::BytesMut {
    let mut b = BatchBuilder::new(1_000);
    b.set_producer(42, 3, 17);
    for i in 0..200 {
        let key = format!("key-{i}");
        let value = format!("value {i} {}", "x".repeat(i % 50));
        let headers: [(&str, Option<&[u8]>); 2] = [("h", Some(b"v")), ("n", None)];
        b.push(
            1_000 + i as i64,
            Some(key.as_bytes()),
            Some(value.as_bytes()),
            &headers,
        )
        .unwrap();
    }
    b.push(2_000, None, None, &[]).unwrap();
    b.finish_compressed(codec).unwrap()
}

#[test]
fn every_codec_round_trips_a_batch_with_its_header_fields() {
    let plain = decode_records(&Bytes::from(sample_batch(Compression::None))).unwrap();
    assert_eq!(plain.len(), 201);
    for codec in CODECS {
        let packed = sample_batch(codec);
        let h = validate_batch_inflated(&packed, 1 << 20).unwrap();
        assert_eq!(h.compression(), Ok(codec), "{codec}");
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (42, 3, 17)
        );
        assert_eq!((h.base_timestamp, h.max_timestamp), (1_000, 2_000));
        assert_eq!(h.records_count, 201);
        assert!(
            packed.len()
                < plain
                    .iter()
                    .map(|r| r.value.as_ref().map_or(0, |v| v.len()))
                    .sum::<usize>()
        );
        assert_eq!(
            decode_records(&Bytes::from(packed.clone())).unwrap(),
            plain,
            "{codec}"
        );
        // Back to plain: byte for byte the batch the builder made.
        let inflated = inflate(&packed, 1 << 20).unwrap();
        assert_eq!(
            inflated,
            sample_batch(Compression::None).to_vec(),
            "{codec}"
        );
    }
}

#[test]
fn recompress_moves_between_any_two_codecs() {
    for from in Compression::ALL {
        for to in Compression::ALL {
            let src = sample_batch(from);
            let out = recompress(&src, to, 1 << 20).unwrap();
            let h = validate_batch_inflated(&out, 1 << 20).unwrap();
            assert_eq!(h.compression(), Ok(to), "{from} -> {to}");
            assert_eq!(
                decode_records(&Bytes::from(out)).unwrap(),
                decode_records(&Bytes::from(src)).unwrap()
            );
        }
    }
}

#[test]
fn a_decompression_bomb_is_refused_at_the_cap() {
    let zeros = vec![0u8; 16 << 20];
    for codec in CODECS {
        let mut packed = Vec::new();
        compress_into(codec, &zeros, &mut packed).unwrap();
        assert!(packed.len() < 1 << 20, "{codec}: {} bytes", packed.len());
        let mut out = Vec::new();
        assert_eq!(
            decompress_into(codec, &packed, 1 << 20, &mut out),
            Err(RecordError::InflatedTooLarge { limit: 1 << 20 }),
            "{codec}"
        );
        assert!(
            out.len() <= (1 << 20) + 1,
            "{codec} kept {} bytes",
            out.len()
        );
        // Exactly at the cap is allowed.
        out.clear();
        decompress_into(codec, &packed, zeros.len(), &mut out).unwrap();
        assert_eq!(out.len(), zeros.len());
    }
}

#[test]
fn a_bomb_batch_is_refused_by_validation_and_decoding() {
    let mut b = BatchBuilder::new(0);
    b.push(0, None, Some(&vec![b'a'; 8 << 20]), &[]).unwrap();
    let packed = b.finish_compressed(Compression::Zstd).unwrap();
    assert!(
        validate_batch(&packed).is_ok(),
        "header and CRC alone are fine"
    );
    assert_eq!(
        validate_batch_inflated(&packed, 1 << 20),
        Err(RecordError::InflatedTooLarge { limit: 1 << 20 })
    );
    assert!(matches!(
        RecordIter::with_inflate_limit(Bytes::from(packed), 1 << 20),
        Err(RecordError::InflatedTooLarge { .. })
    ));
}

#[test]
fn raw_snappy_as_librdkafka_writes_it_decodes() {
    let text = b"librdkafka writes one raw snappy block, no xerial framing".repeat(20);
    let raw = snap::raw::Encoder::new().compress_vec(&text).unwrap();
    let mut out = Vec::new();
    decompress_into(Compression::Snappy, &raw, 1 << 20, &mut out).unwrap();
    assert_eq!(out, text);
    // And what strom writes is xerial-framed, as Java clients expect.
    let mut framed = Vec::new();
    compress_into(Compression::Snappy, &text, &mut framed).unwrap();
    assert_eq!(&framed[..8], b"\x82SNAPPY\x00");
}

#[test]
fn codec_names_parse_as_kafka_spells_them() {
    for c in Compression::ALL {
        assert_eq!(c.name().parse::<Compression>(), Ok(c));
        assert_eq!(compression(c.attribute_bits()), Ok(c));
    }
    assert_eq!("uncompressed".parse::<Compression>(), Ok(Compression::None));
    assert_eq!("GZIP".parse::<Compression>(), Ok(Compression::Gzip));
    assert!("brotli".parse::<Compression>().is_err());
}

#[test]
fn truncated_compressed_records_are_an_error() {
    for codec in CODECS {
        let packed = sample_batch(codec);
        let mut cut = packed[..packed.len() - 7].to_vec();
        // Fix length and CRC so only the codec can notice.
        let len = (cut.len() - 12) as i32;
        cut[8..12].copy_from_slice(&len.to_be_bytes());
        let crc = crc32c::crc32c(&cut[21..]);
        cut[17..21].copy_from_slice(&crc.to_be_bytes());
        assert!(validate_batch(&cut).is_ok());
        assert!(validate_batch_inflated(&cut, 1 << 20).is_err(), "{codec}");
        assert!(decode_records(&Bytes::from(cut)).is_err(), "{codec}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn garbage_never_panics_nor_overruns_the_cap(data in proptest::collection::vec(any::<u8>(), 0..512), codec in 0usize..4) {
        let codec = CODECS[codec];
        let mut out = Vec::new();
        if decompress_into(codec, &data, 4096, &mut out).is_ok() {
            prop_assert!(out.len() <= 4096);
        }
    }

    #[test]
    fn mutated_compressed_batch_never_panics(idx in 0usize..400, val in any::<u8>(), codec in 0usize..4) {
        let mut b = sample_batch(CODECS[codec]).to_vec();
        let i = 61 + idx % (b.len() - 61);
        b[i] = val;
        let crc = crc32c::crc32c(&b[21..]);
        b[17..21].copy_from_slice(&crc.to_be_bytes());
        let _ = validate_batch_inflated(&b, 1 << 20);
        let _ = decode_records(&Bytes::from(b));
    }
}
