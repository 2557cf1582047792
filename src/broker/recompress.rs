//! `compression.type=<codec>` on a topic: a leader stores producers'
//! batches in the topic's codec (Kafka's LogValidator does the same). Only
//! batches in another codec pay for it; with `producer` (the default) or a
//! matching codec the request's bytes are stored as they came.
use bytes::BytesMut;

use super::error::BrokerError;
use crate::log::LogError;
use crate::record::{batches, inflate_limit_for, recompress, BatchHeader, Compression};

/// Rewrites every batch of `buf` not already in `codec`, inflating within
/// the cap that goes with `max_batch_bytes`. Header fields other than
/// length, codec bits and CRC are kept, so producer sequences and offsets
/// are unchanged. All or nothing: on an error `buf` is left as it was.
pub fn apply(
    codec: Option<Compression>,
    buf: &mut BytesMut,
    max_batch_bytes: u32,
) -> Result<(), BrokerError> {
    let Some(codec) = codec else { return Ok(()) };
    let needs = batches(buf).any(|b| {
        b.ok()
            .and_then(|b| BatchHeader::parse(b).ok())
            .and_then(|h| h.compression().ok())
            .is_some_and(|c| c != codec)
    });
    if !needs {
        return Ok(());
    }
    let limit = inflate_limit_for(max_batch_bytes as usize);
    let mut out = BytesMut::with_capacity(buf.len());
    for b in batches(buf) {
        let b = b.map_err(|e| BrokerError::Log(LogError::Record(e)))?;
        let packed =
            recompress(b, codec, limit).map_err(|e| BrokerError::Log(LogError::Record(e)))?;
        out.extend_from_slice(&packed);
    }
    *buf = out;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{decode_records, validate_batch, BatchBuilder};

    fn batch(codec: Compression, n: i64) -> BytesMut {
        let mut b = BatchBuilder::new(1_000);
        b.set_producer(7, 0, n as i32);
        for i in 0..n {
            b.push(1_000 + i, None, Some(format!("value {i}").as_bytes()), &[])
                .expect("push");
        }
        b.finish_compressed(codec).expect("compress")
    }

    #[test]
    fn batches_in_another_codec_are_stored_in_the_topics() {
        let mut buf = batch(Compression::Gzip, 10);
        buf.extend_from_slice(&batch(Compression::None, 5));
        buf.extend_from_slice(&batch(Compression::Zstd, 3));
        let before: Vec<_> = batches(&buf)
            .map(|b| {
                decode_records(&bytes::Bytes::copy_from_slice(b.expect("batch"))).expect("decode")
            })
            .collect();
        apply(Some(Compression::Zstd), &mut buf, 1 << 20).expect("recompress");
        let after: Vec<_> = batches(&buf)
            .map(|b| {
                let b = b.expect("batch");
                let h = validate_batch(b).expect("valid");
                assert_eq!(h.compression(), Ok(Compression::Zstd));
                assert_eq!(h.producer_id, 7, "producer identity kept");
                decode_records(&bytes::Bytes::copy_from_slice(b)).expect("decode")
            })
            .collect();
        assert_eq!(before, after);
    }

    #[test]
    fn producer_or_a_matching_codec_keeps_the_bytes() {
        let orig = batch(Compression::Lz4, 4);
        let mut buf = orig.clone();
        apply(None, &mut buf, 1 << 20).expect("none");
        assert_eq!(buf, orig);
        apply(Some(Compression::Lz4), &mut buf, 1 << 20).expect("same");
        assert_eq!(buf, orig);
        apply(Some(Compression::None), &mut buf, 1 << 20).expect("uncompressed");
        assert_eq!(
            validate_batch(&buf).expect("valid").compression(),
            Ok(Compression::None)
        );
    }

    #[test]
    fn a_bomb_is_refused_and_the_request_left_alone() {
        // 80 MiB of zeros: past 64 x a 1 MiB max.message.bytes.
        let mut big = BatchBuilder::new(0);
        big.push(0, None, Some(&vec![0u8; 80 << 20]), &[])
            .expect("push");
        let bomb = big.finish_compressed(Compression::Zstd).expect("zstd");
        let mut buf = bomb.clone();
        assert!(apply(Some(Compression::Gzip), &mut buf, 1 << 20).is_err());
        assert_eq!(buf, bomb);
    }
}
