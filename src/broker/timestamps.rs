//! A topic's timestamp rules applied to a leader's appends (Kafka's
//! LogValidator): CreateTime batches are checked against
//! `message.timestamp.before.max.ms` / `after.max.ms` and refused with
//! INVALID_TIMESTAMP; LogAppendTime batches get the append time stamped in.
use super::error::BrokerError;
use crate::log::TimestampPolicy;
use crate::record::timestamps::{set_log_append_time, timestamp_range};
use crate::record::{batches, BatchHeader};

/// Checks or stamps every batch of `buf` (already split-able; the log
/// validates them fully afterwards). All or nothing: a refused request
/// leaves `buf` unchanged.
pub fn apply(policy: TimestampPolicy, buf: &mut [u8], now_ms: i64) -> Result<(), BrokerError> {
    if policy.log_append_time {
        let mut pos = 0;
        while pos < buf.len() {
            let Ok(h) = BatchHeader::parse(&buf[pos..]) else {
                return Ok(()); // the log refuses it with the precise reason
            };
            let end = pos.saturating_add(h.total_len()).min(buf.len());
            if h.total_len() == 0 || set_log_append_time(&mut buf[pos..end], now_ms).is_err() {
                return Ok(());
            }
            pos = end;
        }
        return Ok(());
    }
    if policy.before_max_ms == i64::MAX && policy.after_max_ms == i64::MAX {
        return Ok(());
    }
    let earliest = now_ms.saturating_sub(policy.before_max_ms);
    let latest = now_ms.saturating_add(policy.after_max_ms);
    for batch in batches(buf) {
        // Malformed batches are the log's to refuse, with its message.
        let Ok(batch) = batch else { return Ok(()) };
        let Ok(Some((lo, hi))) = timestamp_range(batch) else {
            continue;
        };
        if lo < earliest {
            return Err(BrokerError::InvalidTimestamp(format!(
                "record timestamp {lo} is more than message.timestamp.before.max.ms={} before the broker's time {now_ms}",
                policy.before_max_ms
            )));
        }
        if hi > latest {
            return Err(BrokerError::InvalidTimestamp(format!(
                "record timestamp {hi} is more than message.timestamp.after.max.ms={} after the broker's time {now_ms}",
                policy.after_max_ms
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{validate_batch, BatchBuilder, TimestampType};

    fn two_batches(ts: i64) -> bytes::BytesMut {
        let mut out = bytes::BytesMut::new();
        for _ in 0..2 {
            let mut b = BatchBuilder::new(ts);
            b.push(ts, None, Some(b"v"), &[]).unwrap();
            out.extend_from_slice(&b.finish());
        }
        out
    }

    #[test]
    fn create_time_bounds() {
        let now = 1_000_000;
        let p = TimestampPolicy {
            log_append_time: false,
            before_max_ms: 1000,
            after_max_ms: 10,
        };
        assert!(apply(p, &mut two_batches(now - 1000), now).is_ok());
        assert!(apply(p, &mut two_batches(now + 10), now).is_ok());
        let e = apply(p, &mut two_batches(now - 1001), now).unwrap_err();
        assert!(matches!(e, BrokerError::InvalidTimestamp(_)), "{e}");
        assert!(apply(p, &mut two_batches(now + 11), now).is_err());
        // The default lets any past timestamp through.
        assert!(apply(TimestampPolicy::default(), &mut two_batches(0), now).is_ok());
    }

    #[test]
    fn log_append_time_stamps_every_batch() {
        let p = TimestampPolicy {
            log_append_time: true,
            ..TimestampPolicy::default()
        };
        let mut buf = two_batches(5);
        apply(p, &mut buf, 777).unwrap();
        let mut n = 0;
        for b in batches(&buf) {
            let h = validate_batch(b.unwrap()).unwrap();
            assert_eq!(h.timestamp_type(), TimestampType::LogAppendTime);
            assert_eq!(h.max_timestamp, 777);
            n += 1;
        }
        assert_eq!(n, 2);
    }
}
