use std::collections::BTreeMap;
use std::os::unix::fs::FileExt;
use std::path::Path;

use bytes::Bytes;

use super::*;
use crate::log::LogConfig;
use crate::record::{batches, BatchBuilder, Compression, RecordIter};

fn config(compaction: CompactionConfig) -> LogConfig {
    LogConfig {
        segment_bytes: 1024,
        index_interval_bytes: 256,
        retention_ms: None,
        compaction: Some(compaction),
        ..LogConfig::default()
    }
}

fn eager() -> CompactionConfig {
    CompactionConfig {
        min_dirty_ratio_ppm: 0,
        delete_retention_ms: i64::MAX / 2,
        ..CompactionConfig::default()
    }
}

/// One batch of `(key, value)` records (`None` value: a tombstone).
fn batch(records: &[(String, Option<String>)], codec: Compression) -> Vec<u8> {
    let mut b = BatchBuilder::new(1);
    for (k, v) in records {
        b.push(1, Some(k.as_bytes()), v.as_deref().map(str::as_bytes), &[])
            .unwrap();
    }
    b.finish_compressed(codec).unwrap().to_vec()
}

/// Every record readable from the log start, as (offset, key, value).
fn read_all(log: &PartitionLog) -> Vec<(i64, String, Option<String>)> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let r = log.read(offset, 1 << 20).unwrap();
        let mut next = offset;
        for s in &r.slices {
            let mut buf = vec![0u8; s.len];
            s.file.read_exact_at(&mut buf, s.position).unwrap();
            for b in batches(&buf) {
                let b = b.unwrap();
                let h = crate::record::validate_batch(b).unwrap();
                assert!(h.base_offset >= next || h.last_offset() >= offset);
                next = next.max(h.next_offset());
                for rec in RecordIter::new(Bytes::copy_from_slice(b)).unwrap() {
                    let rec = rec.unwrap();
                    if rec.offset < offset {
                        continue;
                    }
                    let text =
                        |v: Option<Bytes>| v.map(|v| String::from_utf8_lossy(&v).into_owned());
                    out.push((
                        rec.offset,
                        text(rec.key).unwrap_or_default(),
                        text(rec.value),
                    ));
                }
            }
        }
        assert!(next > offset, "no progress at {offset}");
        offset = next;
    }
    out
}

/// The newest value (or tombstone) of every key.
fn latest(records: &[(i64, String, Option<String>)]) -> BTreeMap<String, (i64, Option<String>)> {
    records
        .iter()
        .map(|(o, k, v)| (k.clone(), (*o, v.clone())))
        .collect()
}

/// 30 rounds over 10 keys, every 7th a tombstone, in many segments.
fn filled(dir: &Path, compaction: CompactionConfig, codec: Compression) -> PartitionLog {
    let mut log = PartitionLog::open(dir, config(compaction)).unwrap();
    for round in 0..30 {
        let records: Vec<_> = (0..10)
            .map(|k| {
                let value = ((round * 10 + k) % 7 != 3).then(|| format!("r{round}k{k}{:0>40}", 0));
                (format!("key{k}"), value)
            })
            .collect();
        log.append(&mut batch(&records, codec), 1).unwrap();
    }
    log.force_roll().unwrap();
    log.append(
        &mut batch(&[("key0".into(), Some("active".into()))], codec),
        1,
    )
    .unwrap();
    let leo = log.log_end_offset();
    log.set_high_watermark(leo);
    assert!(log.segment_count() > 3, "{}", log.segment_count());
    log
}

/// One whole pass: task, run, install.
fn clean(log: &mut PartitionLog, now_ms: i64) -> usize {
    let Some(task) = log.cleaning_task(now_ms).unwrap() else {
        return 0;
    };
    let outcome = task.run(&mut CleanerThrottle::new(None)).unwrap();
    log.install_cleaned(outcome).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[test]
fn keeps_the_newest_record_of_every_key_at_its_offset() {
    for codec in [Compression::None, Compression::Zstd, Compression::Gzip] {
        let tmp = tempfile::tempdir().unwrap();
        let mut log = filled(tmp.path(), eager(), codec);
        let before = read_all(&log);
        let (start, end, segments) = (
            log.log_start_offset(),
            log.log_end_offset(),
            log.segment_count(),
        );
        let size = log.size_bytes();
        assert!(clean(&mut log, now()) > 0, "{codec:?}");
        let after = read_all(&log);
        assert_eq!(latest(&after), latest(&before), "{codec:?}");
        // Each key once in the cleaned part, plus the active segment's.
        assert_eq!(after.len(), 11, "{codec:?}: {after:?}");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (start, end));
        assert_eq!(log.segment_count(), segments);
        assert!(
            log.size_bytes() < size / 4,
            "{} of {size}",
            log.size_bytes()
        );
        // Nothing more to do until new records come.
        assert_eq!(clean(&mut log, now()), 0);
        // Reopened (uncleanly, then cleanly) it reads the same.
        drop(log);
        let log = PartitionLog::open(tmp.path(), config(eager())).unwrap();
        assert_eq!(read_all(&log), after);
        log.close().unwrap();
        let log = PartitionLog::open(tmp.path(), config(eager())).unwrap();
        assert_eq!(read_all(&log), after);
    }
}

#[test]
fn a_fetch_inside_a_gap_returns_the_next_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = filled(tmp.path(), eager(), Compression::None);
    clean(&mut log, now());
    let kept: Vec<i64> = read_all(&log).iter().map(|r| r.0).collect();
    let gap = (1..kept[kept.len() - 2])
        .find(|o| !kept.contains(o))
        .unwrap();
    let r = log.read(gap, 1 << 20).unwrap();
    let s = &r.slices[0];
    let mut header = [0u8; crate::record::BATCH_HEADER_LEN];
    s.file.read_exact_at(&mut header, s.position).unwrap();
    let h = BatchHeader::parse(&header).unwrap();
    assert!(h.last_offset() >= gap, "{h:?} for {gap}");
    let first_kept = kept.iter().find(|&&o| o >= gap).unwrap();
    assert!(h.base_offset <= *first_kept);
}

#[test]
fn tombstones_stay_for_delete_retention_then_go() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = filled(tmp.path(), eager(), Compression::None);
    let before = latest(&read_all(&log));
    let deleted: Vec<&String> = before
        .iter()
        .filter(|(_, (_, v))| v.is_none())
        .map(|(k, _)| k)
        .collect();
    assert!(!deleted.is_empty());
    clean(&mut log, now());
    assert_eq!(latest(&read_all(&log)), before, "tombstones kept");
    // Past delete.retention.ms they go, and their keys with them.
    log.set_config(config(CompactionConfig {
        delete_retention_ms: 0,
        ..eager()
    }));
    log.append(
        &mut batch(&[("key1".into(), Some("x".into()))], Compression::None),
        1,
    )
    .unwrap();
    log.force_roll().unwrap();
    let leo = log.log_end_offset();
    log.set_high_watermark(leo);
    assert!(clean(&mut log, now() + 1000) > 0);
    let after = latest(&read_all(&log));
    for k in deleted {
        assert!(!after.contains_key(k) || k == "key1", "{k} still there");
    }
    assert!(after.values().all(|(_, v)| v.is_some()));
}

#[test]
fn expired_tombstones_stay_at_and_above_the_replicas_horizon() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = filled(
        tmp.path(),
        CompactionConfig {
            delete_retention_ms: 0,
            ..eager()
        },
        Compression::None,
    );
    for k in 1..=4 {
        log.append(
            &mut batch(&[(format!("key{k}"), None)], Compression::None),
            1,
        )
        .unwrap();
    }
    log.force_roll().unwrap();
    let leo = log.log_end_offset();
    log.set_high_watermark(leo);
    let before = latest(&read_all(&log));
    let tombstones: Vec<(String, i64)> = before
        .iter()
        .filter(|(_, (_, v))| v.is_none())
        .map(|(k, (o, _))| (k.clone(), *o))
        .collect();
    assert!(tombstones.len() >= 4, "{before:?}");
    // A replica has everything below the middle tombstone only.
    let horizon = tombstones[tombstones.len() / 2].1;
    log.set_tombstone_horizon(horizon);
    clean(&mut log, now() + 1000);
    let after = latest(&read_all(&log));
    for (k, offset) in &tombstones {
        let kept = after.get(k) == Some(&(*offset, None));
        assert_eq!(
            kept,
            *offset >= horizon,
            "tombstone {k}@{offset}, horizon {horizon}"
        );
    }
    // Once every replica is past them, the rest go too.
    log.set_tombstone_horizon(i64::MAX);
    log.append(
        &mut batch(&[("fresh".into(), Some("x".into()))], Compression::None),
        1,
    )
    .unwrap();
    log.force_roll().unwrap();
    let leo = log.log_end_offset();
    log.set_high_watermark(leo);
    clean(&mut log, now() + 2000);
    let after = latest(&read_all(&log));
    assert!(after.values().all(|(_, v)| v.is_some()), "{after:?}");
}

#[test]
fn nothing_is_cleaned_above_the_high_watermark_or_below_the_lag() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = filled(tmp.path(), eager(), Compression::None);
    log.set_high_watermark(0);
    assert!(log.cleaning_task(now()).unwrap().is_none());
    let leo = log.log_end_offset();
    log.set_high_watermark(leo);
    log.set_config(config(CompactionConfig {
        min_lag_ms: 3_600_000,
        ..eager()
    }));
    // The records' timestamps are 1 (1970): old enough at 1970 + 2 h only.
    assert!(log.cleaning_task(3_600_000).unwrap().is_none());
    assert!(log.cleaning_task(7_200_000).unwrap().is_some());
    // A dirty ratio of 100% is always reached by a never-cleaned log.
    log.set_config(config(CompactionConfig {
        min_dirty_ratio_ppm: 1_000_000,
        ..eager()
    }));
    assert!(log.cleaning_task(now()).unwrap().is_some());
    clean(&mut log, now());
    // Once clean, one new dirty segment among many is below 90%...
    log.set_config(config(CompactionConfig {
        min_dirty_ratio_ppm: 900_000,
        ..eager()
    }));
    log.append(
        &mut batch(&[("k".into(), Some("v".into()))], Compression::None),
        1,
    )
    .unwrap();
    log.force_roll().unwrap();
    let leo = log.log_end_offset();
    log.set_high_watermark(leo);
    assert!(log.cleaning_task(now()).unwrap().is_none());
    // ...but max.compaction.lag.ms forces it.
    log.set_config(config(CompactionConfig {
        min_dirty_ratio_ppm: 900_000,
        max_lag_ms: 1,
        ..eager()
    }));
    assert!(log.cleaning_task(now()).unwrap().is_some());
}

#[test]
fn a_follower_copies_a_compacted_log_with_its_gaps() {
    let tmp = tempfile::tempdir().unwrap();
    let mut leader = filled(tmp.path(), eager(), Compression::Lz4);
    clean(&mut leader, now());
    let ftmp = tempfile::tempdir().unwrap();
    let mut follower = PartitionLog::open(ftmp.path(), config(eager())).unwrap();
    while follower.log_end_offset() < leader.log_end_offset() {
        let r = leader.read(follower.log_end_offset(), 700).unwrap();
        for s in &r.slices {
            let mut buf = vec![0u8; s.len];
            s.file.read_exact_at(&mut buf, s.position).unwrap();
            follower.append_as_follower(&mut buf).unwrap();
        }
    }
    assert_eq!(read_all(&follower), read_all(&leader));
    drop(follower);
    let follower = PartitionLog::open(ftmp.path(), config(eager())).unwrap();
    assert_eq!(read_all(&follower), read_all(&leader));
}

/// The cleaner's files as a crash may leave them (see cleaner_swap.rs):
/// every cut reopens to a readable log with every key's newest record.
#[test]
fn a_crash_at_any_step_of_the_swap_loses_nothing() {
    // (what, how many `.cleaned` files become `.swap`, how many `.swap`
    // files then replace their `.log`)
    let cuts = [
        ("cleaned files written", 0, 0),
        ("one committed", 1, 0),
        ("all committed", usize::MAX, 0),
        ("half replaced", usize::MAX, 2),
    ];
    for (what, committed, replaced) in cuts {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let log = filled(dir, eager(), Compression::Snappy);
        let before = read_all(&log);
        let task = log.cleaning_task(now()).unwrap().unwrap();
        let outcome = task.run(&mut CleanerThrottle::new(None)).unwrap();
        let bases: Vec<i64> = outcome.cleaned.iter().map(|c| c.base).collect();
        assert!(bases.len() > 2, "{what}");
        drop(log);
        for (i, &base) in bases.iter().enumerate() {
            if i < committed {
                std::fs::rename(
                    cleaner_path(dir, base, CLEANED_EXT),
                    cleaner_path(dir, base, SWAP_EXT),
                )
                .unwrap();
            }
            if i < replaced {
                std::fs::rename(
                    cleaner_path(dir, base, SWAP_EXT),
                    dir.join(file_name(base, "log")),
                )
                .unwrap();
            }
        }
        let mut log = PartitionLog::open(dir, config(eager())).unwrap();
        let after = read_all(&log);
        assert_eq!(latest(&after), latest(&before), "{what}");
        let expected_len = if committed == 0 {
            before.len()
        } else {
            after.len()
        };
        assert_eq!(after.len(), expected_len, "{what}");
        if committed == 0 {
            assert_eq!(after, before, "{what}");
        }
        let leftovers = std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                let n = e.as_ref().unwrap().file_name();
                let n = n.to_string_lossy();
                n.ends_with(CLEANED_EXT) || n.ends_with(SWAP_EXT)
            })
            .count();
        assert_eq!(leftovers, 0, "{what}");
        // And the next pass finishes the job.
        let leo = log.log_end_offset();
        log.set_high_watermark(leo);
        clean(&mut log, now());
        assert_eq!(read_all(&log).len(), 11, "{what}");
    }
}

#[test]
fn a_rewrite_of_a_segment_changed_meanwhile_is_thrown_away() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = filled(tmp.path(), eager(), Compression::None);
    let before = read_all(&log);
    let task = log.cleaning_task(now()).unwrap().unwrap();
    let outcome = task.run(&mut CleanerThrottle::new(None)).unwrap();
    log.truncate_fully_and_start_at(500).unwrap();
    assert_eq!(log.install_cleaned(outcome).unwrap(), 0);
    assert!(read_all(&log).is_empty());
    assert!(!before.is_empty());
    let stray = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".log.")
        })
        .count();
    assert_eq!(stray, 0);
}

#[test]
fn the_throttle_holds_the_rate() {
    let mut t = CleanerThrottle::new(Some(1 << 20));
    let start = std::time::Instant::now();
    t.account(256 << 10).unwrap();
    // A quarter of a second's budget must have taken about that long.
    assert!(start.elapsed() >= std::time::Duration::from_millis(200));
    assert_eq!(t.bytes(), 256 << 10);
    let cancel = Arc::new(AtomicBool::new(false));
    let mut t = CleanerThrottle::new(Some(1)).with_cancel(cancel.clone());
    cancel.store(true, Ordering::Relaxed);
    assert!(
        t.account(1 << 20).is_err(),
        "a cancelled pass stops at once"
    );
}

#[test]
fn a_pass_installed_in_parts_reads_as_one_installed_whole() {
    let (whole_dir, parts_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut whole = filled(whole_dir.path(), eager(), Compression::None);
    let mut parts = filled(parts_dir.path(), eager(), Compression::None);
    assert!(clean(&mut whole, now()) > 2);

    let task = parts.cleaning_task(now()).unwrap().expect("a pass is due");
    let mut outcome = task.run(&mut CleanerThrottle::new(None)).unwrap();
    let checkpoint = parts_dir.path().join(CLEANER_CHECKPOINT_FILE);
    let mut swapped = parts.install_cleaned_part(&mut outcome, 1).unwrap();
    assert_eq!(swapped, 1);
    // Between parts the log reads the same latest values (older segments
    // cleaned, newer not), and the checkpoint has not moved.
    assert_eq!(latest(&read_all(&parts)), latest(&read_all(&whole)));
    assert!(!checkpoint.exists());
    while !outcome.is_installed() {
        swapped += parts.install_cleaned_part(&mut outcome, 1).unwrap();
    }
    assert!(checkpoint.exists());
    assert_eq!(read_all(&parts), read_all(&whole));
    assert_eq!(parts.cleaning_task(now()).unwrap().map(|_| ()), None);
    assert!(swapped > 2);
}
