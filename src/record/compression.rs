//! The four Kafka codecs, as Kafka's clients frame them, and the
//! batch-level operations built on them.
//!
//! - gzip: an RFC 1952 stream (Java's `GZIPOutputStream`); several members
//!   are read as one.
//! - snappy: Java clients write snappy-java's "xerial" framing (an 8-byte
//!   magic, two version words, then length-prefixed raw snappy blocks);
//!   librdkafka writes one raw snappy block. Both are read; xerial is
//!   written, which every client reads.
//! - lz4: the LZ4 frame format with independent 64 KiB blocks and no content
//!   checksum, what Kafka's `KafkaLZ4BlockOutputStream` writes and reads.
//! - zstd: a standard zstd frame.
//!
//! Every decoder is capped: output past `limit` bytes is refused with
//! [`RecordError::InflatedTooLarge`] before it is held in memory, so a small
//! batch that inflates to gigabytes (a decompression bomb) costs at most
//! `limit` bytes. Sizes a format declares up front (a snappy block's length)
//! are checked before anything is allocated.

use std::io::{Read, Write};

use super::batch::{
    BatchHeader, Compression, BATCH_HEADER_LEN, LOG_OVERHEAD, OFF_ATTRIBUTES, OFF_CRC, OFF_LENGTH,
};
use super::RecordError;

/// How many times the broker's batch size limit a batch may inflate to.
/// Kafka itself sets no limit; producers batch by uncompressed size, so a
/// real batch stays near its producer's `batch.size`, far below this.
pub const MAX_INFLATION_RATIO: usize = 64;

/// The cap for a reader that knows no batch size limit (clients): above the
/// 100 MiB frame limit, so every batch a broker accepts can be read.
pub const DEFAULT_INFLATE_LIMIT: usize = 256 << 20;

/// The inflate cap that goes with a broker's `max.message.bytes`.
pub fn inflate_limit_for(max_batch_bytes: usize) -> usize {
    max_batch_bytes
        .max(1 << 20)
        .saturating_mul(MAX_INFLATION_RATIO)
}

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_HEADER_LEN: usize = 16;
/// snappy-java's default block size.
const XERIAL_BLOCK: usize = 32 * 1024;
/// zstd windows above this (32 MiB) are refused: no Kafka client writes
/// one, and the decoder would allocate the whole window up front.
const ZSTD_WINDOW_LOG_MAX: u32 = 25;
const ZSTD_LEVEL: i32 = 3;

fn codec_error(codec: Compression, e: impl std::fmt::Display) -> RecordError {
    RecordError::Codec(format!("{}: {e}", codec.name()))
}

/// Appends `src` compressed with `codec` to `out`.
pub fn compress_into(codec: Compression, src: &[u8], out: &mut Vec<u8>) -> Result<(), RecordError> {
    match codec {
        Compression::None => out.extend_from_slice(src),
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            enc.write_all(src).map_err(|e| codec_error(codec, e))?;
            enc.finish().map_err(|e| codec_error(codec, e))?;
        }
        Compression::Snappy => snappy_xerial_compress(src, out)?,
        Compression::Lz4 => {
            let info = lz4_flex::frame::FrameInfo::new()
                .block_size(lz4_flex::frame::BlockSize::Max64KB)
                .block_mode(lz4_flex::frame::BlockMode::Independent);
            let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(info, out);
            enc.write_all(src).map_err(|e| codec_error(codec, e))?;
            enc.finish().map_err(|e| codec_error(codec, e))?;
        }
        Compression::Zstd => {
            let mut enc = zstd::stream::write::Encoder::new(out, ZSTD_LEVEL)
                .map_err(|e| codec_error(codec, e))?;
            // The content size lets readers size their buffer once.
            enc.set_pledged_src_size(Some(src.len() as u64))
                .map_err(|e| codec_error(codec, e))?;
            enc.include_contentsize(true)
                .map_err(|e| codec_error(codec, e))?;
            enc.write_all(src).map_err(|e| codec_error(codec, e))?;
            enc.finish().map_err(|e| codec_error(codec, e))?;
        }
    }
    Ok(())
}

/// Appends `src` decompressed with `codec` to `out`; refuses output past
/// `limit` bytes (counted from what this call appends).
pub fn decompress_into(
    codec: Compression,
    src: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), RecordError> {
    match codec {
        Compression::None => {
            if src.len() > limit {
                return Err(RecordError::InflatedTooLarge { limit });
            }
            out.extend_from_slice(src);
            Ok(())
        }
        Compression::Gzip => read_capped(codec, flate2::read::MultiGzDecoder::new(src), limit, out),
        Compression::Snappy => {
            if src.starts_with(&XERIAL_MAGIC) {
                snappy_xerial_decompress(src, limit, out)
            } else {
                snappy_raw_decompress(src, limit, out)
            }
        }
        Compression::Lz4 => read_capped(codec, lz4_flex::frame::FrameDecoder::new(src), limit, out),
        Compression::Zstd => {
            let mut dec =
                zstd::stream::read::Decoder::with_buffer(src).map_err(|e| codec_error(codec, e))?;
            dec.window_log_max(ZSTD_WINDOW_LOG_MAX)
                .map_err(|e| codec_error(codec, e))?;
            read_capped(codec, dec, limit, out)
        }
    }
}

/// Reads a decoder to its end, at most `limit` bytes, in bounded steps so
/// the buffer never grows past what was really produced (plus one chunk).
fn read_capped(
    codec: Compression,
    reader: impl Read,
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), RecordError> {
    let start = out.len();
    // One byte more than allowed tells "exactly at the limit" from "over".
    let mut capped = reader.take(limit as u64 + 1);
    capped.read_to_end(out).map_err(|e| codec_error(codec, e))?;
    if out.len() - start > limit {
        out.truncate(start);
        return Err(RecordError::InflatedTooLarge { limit });
    }
    Ok(())
}

fn snappy_raw_decompress(src: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), RecordError> {
    let n = snap::raw::decompress_len(src).map_err(|e| codec_error(Compression::Snappy, e))?;
    if n > limit {
        return Err(RecordError::InflatedTooLarge { limit });
    }
    let start = out.len();
    out.resize(start + n, 0);
    let written = snap::raw::Decoder::new()
        .decompress(src, &mut out[start..])
        .map_err(|e| {
            out.truncate(start);
            codec_error(Compression::Snappy, e)
        })?;
    out.truncate(start + written);
    Ok(())
}

fn snappy_xerial_decompress(
    src: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), RecordError> {
    if src.len() < XERIAL_HEADER_LEN {
        return Err(codec_error(Compression::Snappy, "truncated xerial header"));
    }
    let start = out.len();
    let mut pos = XERIAL_HEADER_LEN;
    let mut dec = snap::raw::Decoder::new();
    while pos < src.len() {
        let len_bytes: [u8; 4] = src
            .get(pos..pos + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| codec_error(Compression::Snappy, "truncated xerial block length"))?;
        let len = i32::from_be_bytes(len_bytes);
        pos += 4;
        let block = usize::try_from(len)
            .ok()
            .and_then(|l| src.get(pos..pos.checked_add(l)?))
            .ok_or_else(|| codec_error(Compression::Snappy, "xerial block overruns the batch"))?;
        pos += block.len();
        let n =
            snap::raw::decompress_len(block).map_err(|e| codec_error(Compression::Snappy, e))?;
        let used = out.len() - start;
        if n > limit - used {
            out.truncate(start);
            return Err(RecordError::InflatedTooLarge { limit });
        }
        let at = out.len();
        out.resize(at + n, 0);
        match dec.decompress(block, &mut out[at..]) {
            Ok(w) => out.truncate(at + w),
            Err(e) => {
                out.truncate(start);
                return Err(codec_error(Compression::Snappy, e));
            }
        }
    }
    Ok(())
}

fn snappy_xerial_compress(src: &[u8], out: &mut Vec<u8>) -> Result<(), RecordError> {
    out.extend_from_slice(&XERIAL_MAGIC);
    out.extend_from_slice(&1i32.to_be_bytes()); // version
    out.extend_from_slice(&1i32.to_be_bytes()); // minimum compatible version
    let mut enc = snap::raw::Encoder::new();
    for chunk in src.chunks(XERIAL_BLOCK) {
        let len_at = out.len();
        out.extend_from_slice(&[0; 4]);
        let at = out.len();
        out.resize(at + snap::raw::max_compress_len(chunk.len()), 0);
        let n = enc
            .compress(chunk, &mut out[at..])
            .map_err(|e| codec_error(Compression::Snappy, e))?;
        out.truncate(at + n);
        out[len_at..at].copy_from_slice(&(n as i32).to_be_bytes());
    }
    Ok(())
}

/// Writes length, attributes and CRC of a batch whose header and records
/// are in `buf`, keeping every other header field.
pub(crate) fn seal(buf: &mut [u8], attributes: i16) -> Result<(), RecordError> {
    let batch_length =
        i32::try_from(buf.len() - LOG_OVERHEAD).map_err(|_| RecordError::TooLarge("batch"))?;
    buf[OFF_LENGTH..OFF_LENGTH + 4].copy_from_slice(&batch_length.to_be_bytes());
    buf[OFF_ATTRIBUTES..OFF_ATTRIBUTES + 2].copy_from_slice(&attributes.to_be_bytes());
    let crc = crc32c::crc32c(&buf[OFF_ATTRIBUTES..]);
    buf[OFF_CRC..OFF_CRC + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(())
}

/// The records section of one complete batch (header parsed and length
/// checked).
fn records_of(batch: &[u8]) -> Result<(BatchHeader, &[u8]), RecordError> {
    let header = BatchHeader::parse(batch)?;
    let end = header.total_len();
    if end < BATCH_HEADER_LEN || end > batch.len() {
        return Err(RecordError::Truncated);
    }
    Ok((header, &batch[BATCH_HEADER_LEN..end]))
}

/// The same batch with its records uncompressed: every header field kept
/// but length, compression bits and CRC, which are recomputed. An
/// uncompressed batch is copied as it is. Refuses records that inflate past
/// `limit` bytes.
pub fn inflate(batch: &[u8], limit: usize) -> Result<Vec<u8>, RecordError> {
    let (header, records) = records_of(batch)?;
    let codec = header.compression()?;
    let mut out = Vec::with_capacity(BATCH_HEADER_LEN + records.len().saturating_mul(4).min(limit));
    out.extend_from_slice(&batch[..BATCH_HEADER_LEN]);
    decompress_into(codec, records, limit, &mut out)?;
    if codec != Compression::None {
        seal(&mut out, header.attributes & !Compression::MASK)?;
    }
    Ok(out)
}

/// The same batch with its records compressed with `codec` (any codec it
/// had is undone first, within `limit`). Header fields other than length,
/// compression bits and CRC are kept, so offsets, timestamps and producer
/// identity do not change.
pub fn recompress(batch: &[u8], codec: Compression, limit: usize) -> Result<Vec<u8>, RecordError> {
    let (header, records) = records_of(batch)?;
    let from = header.compression()?;
    if from == codec {
        return Ok(batch[..header.total_len()].to_vec());
    }
    let plain_owned;
    let plain = if from == Compression::None {
        records
    } else {
        let mut v = Vec::new();
        decompress_into(from, records, limit, &mut v)?;
        plain_owned = v;
        &plain_owned[..]
    };
    let mut out = Vec::with_capacity(BATCH_HEADER_LEN + plain.len() / 2);
    out.extend_from_slice(&batch[..BATCH_HEADER_LEN]);
    compress_into(codec, plain, &mut out)?;
    seal(
        &mut out,
        (header.attributes & !Compression::MASK) | codec.attribute_bits(),
    )?;
    Ok(out)
}
