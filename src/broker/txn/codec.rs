//! The records of `__transaction_state`: key `version i16 = 0,
//! transactional id string`; value (version 0, strom's layout, modelled on
//! Kafka's `TransactionLogValue` plus the pending group offsets, which
//! Kafka keeps in `__consumer_offsets` instead):
//! `version i16, producer id i64, epoch i16, timeout i32, state i8,
//! start ms i64, last update ms i64, [topic string, partition i32],
//! [group string], [group, topic, partition i32, offset i64, leader epoch
//! i32, metadata nullable string]`. Strings are i16-length prefixed,
//! arrays i32-count prefixed; every count is checked against the bytes
//! left before anything is allocated.
use bytes::{BufMut, Bytes, BytesMut};

use super::types::{PendingOffset, TxnMetadata, TxnState};

const VERSION: i16 = 0;

#[derive(Debug, thiserror::Error)]
#[error("malformed __transaction_state record: {0}")]
pub struct CodecError(&'static str);

fn put_str(b: &mut BytesMut, s: &str) {
    // Names longer than i16::MAX are refused before they get here
    // (Kafka's string limit); clamp rather than corrupt the layout.
    let bytes = &s.as_bytes()[..s.len().min(i16::MAX as usize)];
    b.put_i16(bytes.len() as i16);
    b.put_slice(bytes);
}

pub fn encode_key(transactional_id: &str) -> Bytes {
    let mut b = BytesMut::with_capacity(4 + transactional_id.len());
    b.put_i16(VERSION);
    put_str(&mut b, transactional_id);
    b.freeze()
}

pub fn encode_value(m: &TxnMetadata) -> Bytes {
    let mut b = BytesMut::with_capacity(64);
    b.put_i16(VERSION);
    b.put_i64(m.producer_id);
    b.put_i16(m.producer_epoch);
    b.put_i32(m.timeout_ms);
    b.put_i8(m.state.id());
    b.put_i64(m.start_ms);
    b.put_i64(m.last_update_ms);
    b.put_i32(m.partitions.len() as i32);
    for (t, p) in &m.partitions {
        put_str(&mut b, t);
        b.put_i32(*p);
    }
    b.put_i32(m.groups.len() as i32);
    for g in &m.groups {
        put_str(&mut b, g);
    }
    b.put_i32(m.offsets.len() as i32);
    for o in &m.offsets {
        put_str(&mut b, &o.group);
        put_str(&mut b, &o.topic);
        b.put_i32(o.partition);
        b.put_i64(o.offset);
        b.put_i32(o.leader_epoch);
        match &o.metadata {
            None => b.put_i16(-1),
            Some(s) => put_str(&mut b, s),
        }
    }
    b.freeze()
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], CodecError> {
        if self.0.len() < n {
            return Err(CodecError("truncated"));
        }
        let (h, t) = self.0.split_at(n);
        self.0 = t;
        Ok(h)
    }
    fn i8(&mut self) -> Result<i8, CodecError> {
        Ok(self.take(1)?[0] as i8)
    }
    fn i16(&mut self) -> Result<i16, CodecError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    fn i32(&mut self) -> Result<i32, CodecError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i64(&mut self) -> Result<i64, CodecError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(i64::from_be_bytes(a))
    }
    fn nullable_str(&mut self) -> Result<Option<String>, CodecError> {
        let n = self.i16()?;
        if n < 0 {
            return Ok(None);
        }
        let b = self.take(n as usize)?;
        String::from_utf8(b.to_vec())
            .map(Some)
            .map_err(|_| CodecError("string is not UTF-8"))
    }
    fn str(&mut self) -> Result<String, CodecError> {
        self.nullable_str()?.ok_or(CodecError("null string"))
    }
    /// An array count, each element at least `min` bytes.
    fn count(&mut self, min: usize) -> Result<usize, CodecError> {
        let n = usize::try_from(self.i32()?).map_err(|_| CodecError("negative count"))?;
        if n.saturating_mul(min) > self.0.len() {
            return Err(CodecError("count larger than the record"));
        }
        Ok(n)
    }
}

pub fn decode_key(buf: &[u8]) -> Result<String, CodecError> {
    let mut r = Reader(buf);
    if r.i16()? != VERSION {
        return Err(CodecError("unknown key version"));
    }
    r.str()
}

pub fn decode_value(transactional_id: &str, buf: &[u8]) -> Result<TxnMetadata, CodecError> {
    let mut r = Reader(buf);
    if r.i16()? != VERSION {
        return Err(CodecError("unknown value version"));
    }
    let producer_id = r.i64()?;
    let producer_epoch = r.i16()?;
    let timeout_ms = r.i32()?;
    let state = TxnState::from_id(r.i8()?).ok_or(CodecError("unknown state"))?;
    let start_ms = r.i64()?;
    let last_update_ms = r.i64()?;
    let mut partitions = std::collections::BTreeSet::new();
    for _ in 0..r.count(6)? {
        let t = r.str()?;
        partitions.insert((t, r.i32()?));
    }
    let mut groups = std::collections::BTreeSet::new();
    for _ in 0..r.count(2)? {
        groups.insert(r.str()?);
    }
    let n = r.count(24)?;
    let mut offsets = Vec::with_capacity(n);
    for _ in 0..n {
        offsets.push(PendingOffset {
            group: r.str()?,
            topic: r.str()?,
            partition: r.i32()?,
            offset: r.i64()?,
            leader_epoch: r.i32()?,
            metadata: r.nullable_str()?,
        });
    }
    Ok(TxnMetadata {
        transactional_id: transactional_id.to_string(),
        producer_id,
        producer_epoch,
        timeout_ms,
        state,
        partitions,
        groups,
        offsets,
        start_ms,
        last_update_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_and_bad_counts_are_refused() {
        let m = TxnMetadata {
            transactional_id: "tx-1".into(),
            producer_id: 77,
            producer_epoch: 3,
            timeout_ms: 60_000,
            state: TxnState::Ongoing,
            partitions: [("orders".to_string(), 2)].into_iter().collect(),
            groups: ["g".to_string()].into_iter().collect(),
            offsets: vec![PendingOffset {
                group: "g".into(),
                topic: "in".into(),
                partition: 0,
                offset: 41,
                leader_epoch: -1,
                metadata: None,
            }],
            start_ms: 5,
            last_update_ms: 6,
        };
        assert_eq!(decode_key(&encode_key("tx-1")).unwrap(), "tx-1");
        assert_eq!(decode_value("tx-1", &encode_value(&m)).unwrap(), m);
        let mut bad = encode_value(&m).to_vec();
        // The partition count (after 2+8+2+4+1+8+8 bytes) claims 2^30.
        bad[33..37].copy_from_slice(&(1i32 << 30).to_be_bytes());
        assert!(decode_value("tx-1", &bad).is_err());
    }
}
