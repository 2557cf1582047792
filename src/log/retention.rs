//! Which whole segments retention may delete. Pure: works on a summary of
//! the segments so the policy is easy to test on its own.

/// What retention needs to know about one segment, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegmentInfo {
    pub size: u64,
    /// Largest batch timestamp, `i64::MIN` if empty.
    pub max_timestamp: i64,
}

/// Number of leading (oldest) segments to delete. The last segment is
/// active and never counted. A segment goes if it is older than
/// `retention_ms` (its newest timestamp is), or if the log stays at or
/// above `retention_bytes` without it (Kafka's rule). Deletion is always a
/// prefix so the remaining log stays contiguous.
pub(crate) fn segments_to_delete(
    segments: &[SegmentInfo],
    now_ms: i64,
    retention_ms: Option<i64>,
    retention_bytes: Option<u64>,
) -> usize {
    let deletable = segments.len().saturating_sub(1);
    let mut total: u64 = segments.iter().map(|s| s.size).sum();
    let mut n = 0;
    for s in &segments[..deletable] {
        let expired = retention_ms.is_some_and(|ms| s.max_timestamp < now_ms.saturating_sub(ms));
        let oversize = retention_bytes.is_some_and(|max| total.saturating_sub(s.size) >= max);
        if !(expired || oversize) {
            break;
        }
        total -= s.size;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(size: u64, ts: i64) -> SegmentInfo {
        SegmentInfo {
            size,
            max_timestamp: ts,
        }
    }

    #[test]
    fn time_based_keeps_active_and_stops_at_first_young() {
        let s = [seg(10, 1), seg(10, 50), seg(10, 2), seg(10, 0)];
        assert_eq!(segments_to_delete(&s, 100, Some(60), None), 1);
        assert_eq!(segments_to_delete(&s, 1000, Some(60), None), 3);
        assert_eq!(segments_to_delete(&s, 1000, None, None), 0);
    }

    #[test]
    fn size_based() {
        let s = [seg(10, 0), seg(10, 0), seg(10, 0)];
        assert_eq!(segments_to_delete(&s, 0, None, Some(20)), 1);
        assert_eq!(segments_to_delete(&s, 0, None, Some(5)), 2);
        assert_eq!(segments_to_delete(&s, 0, None, Some(30)), 0);
    }
}
