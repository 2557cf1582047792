//! Which `__consumer_offsets` partition owns a group. Must match Kafka
//! exactly, so tools that compute a group's coordinator agree with us.

/// Java's `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` over UTF-16
/// code units, with wrapping 32-bit arithmetic.
pub fn java_string_hashcode(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(unit as i32))
}

/// Kafka's `partitionFor(groupId)`: `Utils.abs(groupId.hashCode) % partitions`,
/// where `Utils.abs` is `Math.abs` except that `i32::MIN` maps to 0.
/// `partitions` below 1 is treated as 1 so this never divides by zero.
pub fn partition_for_group(group_id: &str, partitions: i32) -> i32 {
    let h = java_string_hashcode(group_id);
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashcode_matches_java() {
        assert_eq!(java_string_hashcode(""), 0);
        assert_eq!(java_string_hashcode("a"), 97);
        // Values computed with Java's String.hashCode().
        assert_eq!(java_string_hashcode("hello"), 99_162_322);
        assert_eq!(java_string_hashcode("my-group"), -1_906_497_762);
        assert_eq!(java_string_hashcode("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn partition_uses_kafka_abs() {
        // "polygenelubricants" hashes to i32::MIN, which Kafka maps to 0.
        assert_eq!(partition_for_group("polygenelubricants", 50), 0);
        // Negative hashes use Math.abs, not `& 0x7fffffff` (which would give
        // 36 and 18): Kafka puts "my-group" on partition 12 and
        // "kafka-txn-0" on 30 of 50.
        assert_eq!(partition_for_group("my-group", 50), 12);
        assert_eq!(partition_for_group("kafka-txn-0", 50), 30);
        assert_eq!(partition_for_group("hello", 50), 22);
        assert_eq!(partition_for_group("x", 0), 0);
    }
}
