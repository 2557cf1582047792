//! How many partitions this process can keep open, so that a create or a
//! grow is refused up front (with the cap and the flag that sets it)
//! instead of failing half-way with "Too many open files".

/// Descriptors a new partition keeps open: its `.lock` and the active
/// segment's `.log` (the indexes are memory-mapped without one). Every
/// older segment adds its `.log`.
pub const FILES_PER_PARTITION: u64 = 2;

/// Memory maps a partition's active segment holds: its offset and time
/// index (Linux refuses more than `vm.max_map_count` per process).
pub const MAPS_PER_PARTITION: u64 = 2;

/// Kafka's controller refuses more than 10,000 new partitions in one
/// request (POLICY_VIOLATION, KAFKA-17870); strom caps a topic at that.
pub const DEFAULT_MAX_PARTITIONS_PER_TOPIC: i32 = 10_000;

/// Raises the soft open-file limit to the hard one (servers that open a
/// file per partition need it; Go programs do the same at start) and
/// returns the soft limit now in force, `None` if it cannot be read.
pub fn raise_open_file_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return None;
    }
    if lim.rlim_cur < lim.rlim_max {
        // An unlimited hard limit is capped: the kernel refuses more than
        // fs.nr_open anyway.
        let want = libc::rlimit {
            rlim_cur: lim.rlim_max.min(1 << 20),
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } == 0 {
            lim.rlim_cur = want.rlim_cur;
        }
    }
    Some(lim.rlim_cur)
}

fn max_map_count() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The default `--max-partitions`: what three quarters of the open-file
/// limit (and of `vm.max_map_count`) hold, the rest left for connections,
/// older segments and the metadata log. With the reason, for messages.
pub fn default_max_partitions(open_files: Option<u64>) -> (usize, String) {
    let by_files = open_files.map(|n| n * 3 / 4 / FILES_PER_PARTITION);
    let by_maps = max_map_count().map(|n| n * 3 / 4 / MAPS_PER_PARTITION);
    let (cap, why) = match (by_files, by_maps) {
        (Some(f), Some(m)) if m < f => (
            m,
            format!("from vm.max_map_count={}", max_map_count().unwrap_or(0)),
        ),
        (Some(f), _) => (
            f,
            format!(
                "from the open-file limit {} at {FILES_PER_PARTITION} files per partition",
                open_files.unwrap_or(0)
            ),
        ),
        (None, Some(m)) => (m, "from vm.max_map_count".to_string()),
        (None, None) => (100_000, "no limit known".to_string()),
    };
    (cap.max(1) as usize, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_leaves_a_quarter_of_the_descriptors() {
        let (cap, why) = default_max_partitions(Some(20_000));
        assert!(cap <= 7_500, "{cap}");
        assert!(cap >= 1);
        assert!(!why.is_empty());
        assert_eq!(default_max_partitions(Some(0)).0, 1);
    }
}
