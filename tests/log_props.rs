//! Property test: random operation sequences against an in-memory model.

use std::os::unix::fs::FileExt;
use std::path::Path;

use proptest::prelude::*;
use strom::log::{LogConfig, LogError, PartitionLog, ReadResult};
use strom::record::{batches, validate_batch, BatchBuilder};

#[derive(Debug, Clone)]
enum Op {
    /// One produce of several batches: (records, value size) each.
    Append(Vec<(u8, u16)>),
    Read {
        pick: u16,
        max_bytes: u16,
    },
    Roll,
    Truncate {
        pick: u16,
    },
    DeleteBefore {
        pick: u16,
    },
    RetainBytes {
        keep: u16,
    },
    RetainTime {
        age: u16,
    },
    ListOffsets {
        pick: u16,
    },
    Reopen {
        clean: bool,
    },
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => proptest::collection::vec((1u8..6, 0u16..300), 1..4).prop_map(Op::Append),
        4 => (any::<u16>(), 1u16..4000).prop_map(|(pick, max_bytes)| Op::Read { pick, max_bytes }),
        1 => Just(Op::Roll),
        1 => any::<u16>().prop_map(|pick| Op::Truncate { pick }),
        1 => any::<u16>().prop_map(|pick| Op::DeleteBefore { pick }),
        1 => (0u16..6000).prop_map(|keep| Op::RetainBytes { keep }),
        1 => (0u16..400).prop_map(|age| Op::RetainTime { age }),
        1 => any::<u16>().prop_map(|pick| Op::ListOffsets { pick }),
        1 => any::<bool>().prop_map(|clean| Op::Reopen { clean }),
        1 => Just(Op::Flush),
    ]
}

#[derive(Debug, Clone)]
struct ModelBatch {
    base: i64,
    last: i64,
    /// Timestamp of each record, in offset order.
    timestamps: Vec<i64>,
    bytes: Vec<u8>,
}

#[derive(Default)]
struct Model {
    batches: Vec<ModelBatch>,
    start: i64,
    end: i64,
    clock: i64,
}

impl Model {
    fn pick(&self, pick: u16) -> i64 {
        let span = (self.end - self.start + 1).max(1);
        self.start + i64::from(pick) % span
    }
}

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 2048,
        index_interval_bytes: 200,
        retention_ms: None,
        ..LogConfig::default()
    }
}

fn make_batch(clock: &mut i64, records: u8, value_len: u16) -> Vec<u8> {
    let mut b = BatchBuilder::new(*clock);
    for i in 0..records {
        // Timestamps wander a bit so the time index sees non-monotonic data.
        let ts = *clock + i64::from(i % 3);
        let value = vec![records ^ i; usize::from(value_len)];
        b.push(ts, Some(&[i]), Some(&value), &[]).unwrap();
    }
    *clock += 7;
    b.finish().to_vec()
}

fn slurp(r: &ReadResult) -> Vec<u8> {
    let mut out = Vec::new();
    for s in &r.slices {
        let mut buf = vec![0u8; s.len];
        s.file.read_exact_at(&mut buf, s.position).unwrap();
        out.extend_from_slice(&buf);
    }
    out
}

fn check_read(log: &PartitionLog, m: &Model, offset: i64, max_bytes: usize) {
    let r = log.read(offset, max_bytes).unwrap();
    assert_eq!(r.log_end_offset, m.end);
    assert_eq!(r.log_start_offset, m.start);
    let data = slurp(&r);
    let got: Vec<&[u8]> = batches(&data).collect::<Result<_, _>>().unwrap();
    let idx = m.batches.iter().position(|b| b.last >= offset);
    match idx {
        None => assert!(got.is_empty(), "read at end must be empty"),
        Some(i) => {
            assert!(!got.is_empty(), "read at {offset} returned nothing");
            for (k, g) in got.iter().enumerate() {
                validate_batch(g).unwrap();
                assert_eq!(
                    *g,
                    &m.batches[i + k].bytes[..],
                    "batch {k} of read at {offset}"
                );
            }
            assert!(got.len() == 1 || data.len() <= max_bytes, "over budget");
        }
    }
}

fn run(ops: Vec<Op>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p0");
    let mut log = Some(PartitionLog::open(&dir, config()).unwrap());
    let mut m = Model::default();
    for op in ops {
        let l = log.as_mut().unwrap();
        match op {
            Op::Append(specs) => {
                let mut buf = Vec::new();
                let mut parts = Vec::new();
                for (n, v) in specs {
                    let mut b = make_batch(&mut m.clock, n, v);
                    parts.push((b.len(), n));
                    buf.append(&mut b);
                }
                let info = l.append(&mut buf, 3).unwrap();
                assert_eq!(info.base_offset, m.end);
                let mut pos = 0;
                for (len, n) in parts {
                    let bytes = buf[pos..pos + len].to_vec();
                    let h = validate_batch(&bytes).unwrap();
                    assert_eq!(h.base_offset, m.end);
                    let ts = (0..n)
                        .map(|i| h.base_timestamp + i64::from(i % 3))
                        .collect();
                    m.batches.push(ModelBatch {
                        base: m.end,
                        last: m.end + i64::from(n) - 1,
                        timestamps: ts,
                        bytes,
                    });
                    m.end += i64::from(n);
                    pos += len;
                }
                assert_eq!(info.last_offset, m.end - 1);
            }
            Op::Read { pick, max_bytes } => {
                let off = m.pick(pick);
                check_read(l, &m, off, usize::from(max_bytes));
                assert!(matches!(
                    l.read(m.end + 1, 100),
                    Err(LogError::OffsetOutOfRange { .. })
                ));
                if m.start > 0 {
                    assert!(l.read(m.start - 1, 100).is_err());
                }
            }
            Op::Roll => l.force_roll().unwrap(),
            Op::Truncate { pick } => {
                let off = m.pick(pick);
                l.truncate_to(off).unwrap();
                if let Some(i) = m.batches.iter().position(|b| b.last >= off) {
                    m.end = m.batches[i].base;
                    m.batches.truncate(i);
                }
                if off < m.end {
                    m.end = off;
                }
                m.start = m.start.min(m.end);
                assert_eq!(l.log_end_offset(), m.end);
                assert_eq!(l.log_start_offset(), m.start);
            }
            Op::DeleteBefore { pick } => {
                let off = m.pick(pick);
                l.delete_records_before(off).unwrap();
                m.start = m.start.max(off);
                assert_eq!(l.log_start_offset(), m.start);
            }
            Op::RetainBytes { keep } => {
                let mut c = config();
                c.retention_bytes = Some(u64::from(keep));
                l.set_config(c);
                // As on a single node, where everything appended is
                // committed (retention keeps uncommitted segments).
                let leo = l.log_end_offset();
                l.set_high_watermark(leo);
                l.apply_retention(m.clock).unwrap();
                l.set_config(config());
                apply_new_start(l, &mut m);
                assert!(l.size_bytes() <= u64::from(keep) + 2048 + 4000);
            }
            Op::RetainTime { age } => {
                let mut c = config();
                c.retention_ms = Some(i64::from(age));
                l.set_config(c);
                let leo = l.log_end_offset();
                l.set_high_watermark(leo);
                let removed = l.apply_retention(m.clock).unwrap();
                l.set_config(config());
                apply_new_start(l, &mut m);
                // Everything still readable must be younger than the cut,
                // except what shares the active or a young segment.
                let _ = removed;
            }
            Op::ListOffsets { pick } => {
                let target = i64::from(pick) % (m.clock + 10);
                let expect = m
                    .batches
                    .iter()
                    .flat_map(|b| {
                        b.timestamps
                            .iter()
                            .enumerate()
                            .map(move |(i, t)| (b.base + i as i64, *t))
                    })
                    .find(|&(o, t)| o >= m.start && t >= target);
                assert_eq!(
                    l.offset_for_timestamp(target).unwrap(),
                    expect,
                    "ts {target}"
                );
            }
            Op::Reopen { clean } => {
                let old = log.take().unwrap();
                if clean {
                    old.close().unwrap();
                } else {
                    drop(old);
                }
                log = Some(PartitionLog::open(&dir, config()).unwrap());
                let l = log.as_ref().unwrap();
                assert_eq!(l.log_end_offset(), m.end);
                assert_eq!(l.log_start_offset(), m.start);
            }
            Op::Flush => {
                l.flush().unwrap();
                assert_eq!(l.durable_offset(), m.end);
                assert!(l.flush_target().is_none());
            }
        }
        let l = log.as_ref().unwrap();
        if std::env::var_os("LOG_PROPS_DEBUG").is_some() {
            eprintln!(
                "after op: start {} end {} log start {} end {}",
                m.start,
                m.end,
                l.log_start_offset(),
                l.log_end_offset()
            );
        }
        assert_eq!(l.log_end_offset(), m.end);
        if m.end > m.start {
            check_read(l, &m, m.start, 500);
        }
    }
    let l = log.take().unwrap();
    l.close().unwrap();
    let l = PartitionLog::open(&dir, config()).unwrap();
    assert_eq!(l.log_end_offset(), m.end);
    if m.end > m.start {
        check_read(&l, &m, m.start, 1 << 20);
    }
}

fn apply_new_start(l: &PartitionLog, m: &mut Model) {
    let s = l.log_start_offset();
    assert!(s >= m.start && s <= m.end);
    if s > m.start {
        // Retention deletes whole segments: the new start is a batch base.
        assert!(s == m.end || m.batches.iter().any(|b| b.base == s));
        m.start = s;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    #[test]
    fn log_matches_model(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops);
    }
}

#[test]
fn second_open_is_locked() {
    let tmp = tempfile::tempdir().unwrap();
    let _a = PartitionLog::open(tmp.path(), config()).unwrap();
    assert!(matches!(
        PartitionLog::open(tmp.path(), config()),
        Err(LogError::Locked(_))
    ));
}

#[test]
fn invalid_batch_in_produce_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(tmp.path(), config()).unwrap();
    let mut clock = 0;
    let mut buf = make_batch(&mut clock, 2, 10);
    let mut bad = make_batch(&mut clock, 2, 10);
    let n = bad.len();
    bad[n - 1] ^= 1;
    buf.extend_from_slice(&bad);
    assert!(matches!(log.append(&mut buf, 0), Err(LogError::Record(_))));
    assert_eq!(log.log_end_offset(), 0);
    assert_eq!(log.size_bytes(), 0);
    let mut big = LogConfig {
        max_batch_bytes: 100,
        ..config()
    };
    big.segment_bytes = 4096;
    log.set_config(big);
    let mut b = make_batch(&mut clock, 5, 100);
    assert!(matches!(
        log.append(&mut b, 0),
        Err(LogError::BatchTooLarge { .. })
    ));
}

#[test]
fn follower_append_and_epochs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut leader = PartitionLog::open(&tmp.path().join("a"), config()).unwrap();
    let mut follower = PartitionLog::open(&tmp.path().join("b"), config()).unwrap();
    let mut clock = 0;
    for epoch in [1, 1, 2, 4] {
        let mut b = make_batch(&mut clock, 3, 20);
        leader.append(&mut b, epoch).unwrap();
    }
    let r = leader.read(0, 1 << 20).unwrap();
    let mut data = slurp(&r);
    follower.append_as_follower(&mut data).unwrap();
    assert_eq!(follower.log_end_offset(), 12);
    assert_eq!(follower.end_offset_for_epoch(1), Some((1, 6)));
    assert_eq!(follower.end_offset_for_epoch(3), Some((2, 9)));
    assert_eq!(follower.end_offset_for_epoch(4), Some((4, 12)));
    assert_eq!(follower.end_offset_for_epoch(0), None);
    let mut again = make_batch(&mut clock, 1, 1);
    assert!(matches!(
        follower.append_as_follower(&mut again),
        Err(LogError::NonContiguous {
            expected: 12,
            actual: 0
        })
    ));
    follower.truncate_to(7).unwrap();
    assert_eq!(follower.log_end_offset(), 6);
    assert_eq!(follower.end_offset_for_epoch(4), Some((1, 6)));
    drop(follower);
    let follower = PartitionLog::open(&tmp.path().join("b"), config()).unwrap();
    assert_eq!(follower.end_offset_for_epoch(4), Some((1, 6)));
}

#[test]
fn high_watermark_bounds_committed_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = PartitionLog::open(tmp.path(), config()).unwrap();
    let mut clock = 0;
    for _ in 0..3 {
        let mut b = make_batch(&mut clock, 2, 10);
        log.append(&mut b, 0).unwrap();
    }
    log.set_high_watermark(4);
    let r = log.read_committed(0, 1 << 20).unwrap();
    let data = slurp(&r);
    assert_eq!(batches(&data).count(), 2);
    assert!(log.read_committed(4, 1 << 20).unwrap().is_empty());
    assert_eq!(log.read(0, 1 << 20).unwrap().slices.len(), 1);
}

#[test]
fn time_roll_and_reopen_keeps_start() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = LogConfig {
        segment_ms: 100,
        ..config()
    };
    let mut log = PartitionLog::open(tmp.path(), cfg.clone()).unwrap();
    let mut clock = 1000;
    let mut b = make_batch(&mut clock, 2, 10);
    log.append(&mut b, 0).unwrap();
    log.maybe_roll(1050).unwrap();
    let mut b = make_batch(&mut clock, 2, 10);
    log.append(&mut b, 0).unwrap();
    log.maybe_roll(1200).unwrap();
    log.delete_records_before(3).unwrap();
    assert_eq!(log.log_start_offset(), 3);
    drop(log);
    let log = PartitionLog::open(tmp.path(), cfg).unwrap();
    assert_eq!(log.log_start_offset(), 3);
    assert_eq!(log.log_end_offset(), 4);
    let _ = Path::new("");
}

#[test]
fn regression_truncate_below_start() {
    run(vec![
        Op::Append(vec![(3, 0)]),
        Op::DeleteBefore { pick: 31010 },
        Op::Append(vec![(1, 0)]),
        Op::Truncate { pick: 15426 },
        Op::Append(vec![(1, 0)]),
        Op::Append(vec![(1, 0)]),
    ]);
}
