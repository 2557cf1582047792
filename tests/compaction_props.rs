//! Property test: a compacted log reads the same newest value per key as
//! the log before cleaning, whatever the keys, values, batch shapes,
//! codecs, rolls and number of cleaning passes.

use std::collections::BTreeMap;
use std::os::unix::fs::FileExt;

use bytes::Bytes;
use proptest::prelude::*;
use strom::log::{CleanerThrottle, CompactionConfig, LogConfig, PartitionLog};
use strom::record::{batches, validate_batch, BatchBuilder, Compression, RecordIter};

/// (key, value; `None` a tombstone) of one record; `None` key: keyless.
type Rec = (Option<u8>, Option<u16>);

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 1024,
        index_interval_bytes: 128,
        retention_ms: None,
        compaction: Some(CompactionConfig {
            min_dirty_ratio_ppm: 0,
            // Tombstones stay: the newest value of a deleted key is "deleted".
            delete_retention_ms: i64::MAX / 2,
            ..CompactionConfig::default()
        }),
        ..LogConfig::default()
    }
}

fn batch(records: &[Rec], codec: Compression) -> Vec<u8> {
    let mut b = BatchBuilder::new(1);
    for (k, v) in records {
        let key = k.map(|k| format!("k{k}"));
        let value = v.map(|v| format!("v{v}-{:0>30}", v));
        b.push(
            1,
            key.as_deref().map(str::as_bytes),
            value.as_deref().map(str::as_bytes),
            &[],
        )
        .unwrap();
    }
    b.finish_compressed(codec).unwrap().to_vec()
}

/// Every record as (offset, key, value), checking batches as a reader does.
fn read_all(log: &PartitionLog) -> Vec<(i64, Option<Bytes>, Option<Bytes>)> {
    let mut out = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let r = log.read(offset, 4096).unwrap();
        let mut next = offset;
        for s in &r.slices {
            let mut buf = vec![0u8; s.len];
            s.file.read_exact_at(&mut buf, s.position).unwrap();
            for b in batches(&buf) {
                let b = b.unwrap();
                let h = validate_batch(b).unwrap();
                next = next.max(h.next_offset());
                for rec in RecordIter::new(Bytes::copy_from_slice(b)).unwrap() {
                    let rec = rec.unwrap();
                    if rec.offset >= offset {
                        out.push((rec.offset, rec.key, rec.value));
                    }
                }
            }
        }
        assert!(next > offset, "no progress at {offset}");
        offset = next;
    }
    out
}

type Latest = BTreeMap<Option<Bytes>, (i64, Option<Bytes>)>;

/// Newest record per key; keyless records each count on their own.
fn latest(records: &[(i64, Option<Bytes>, Option<Bytes>)]) -> (Latest, Vec<i64>) {
    let mut keyed = BTreeMap::new();
    let mut keyless = Vec::new();
    for (o, k, v) in records {
        match k {
            Some(_) => {
                keyed.insert(k.clone(), (*o, v.clone()));
            }
            None => keyless.push(*o),
        }
    }
    (keyed, keyless)
}

fn clean(log: &mut PartitionLog) {
    if let Some(task) = log.cleaning_task(i64::MAX / 4).unwrap() {
        let outcome = task.run(&mut CleanerThrottle::new(None)).unwrap();
        log.install_cleaned(outcome).unwrap();
    }
}

fn record() -> impl Strategy<Value = Rec> {
    (
        prop::option::weighted(0.9, 0u8..12),
        prop::option::weighted(0.85, any::<u16>()),
    )
}

fn codec() -> impl Strategy<Value = Compression> {
    prop::sample::select(vec![Compression::None, Compression::Lz4, Compression::Zstd])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn compaction_keeps_the_newest_value_of_every_key(
        steps in prop::collection::vec(
            (prop::collection::vec(record(), 1..12), codec(), any::<bool>(), any::<bool>()),
            1..40,
        ),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let mut log = PartitionLog::open(tmp.path(), config()).unwrap();
        for (records, codec, roll, clean_now) in &steps {
            log.append(&mut batch(records, *codec), 1).unwrap();
            if *roll {
                log.force_roll().unwrap();
            }
            let leo = log.log_end_offset();
            log.set_high_watermark(leo);
            let before = latest(&read_all(&log));
            if *clean_now {
                clean(&mut log);
            }
            let after = read_all(&log);
            prop_assert_eq!(latest(&after), before);
        }
        let before = read_all(&log);
        clean(&mut log);
        let after = read_all(&log);
        prop_assert_eq!(latest(&after), latest(&before));
        // Reopened uncleanly, the compacted log reads the same.
        drop(log);
        let log = PartitionLog::open(tmp.path(), config()).unwrap();
        prop_assert_eq!(read_all(&log), after);
    }
}
