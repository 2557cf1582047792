//! Damage the tail of a segment on disk (flip bytes, cut the file) and
//! check recovery keeps exactly the batches before the damage.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;

use strom::log::{LogConfig, PartitionLog};
use strom::record::{batches, validate_batch, BatchBuilder};

fn config() -> LogConfig {
    LogConfig {
        segment_bytes: 1 << 20,
        index_interval_bytes: 256,
        retention_ms: None,
        ..LogConfig::default()
    }
}

/// Writes `n` batches (unclean close) and returns each batch's end
/// position in the single segment file.
fn fill(dir: &Path, n: usize) -> Vec<u64> {
    let mut log = PartitionLog::open(dir, config()).unwrap();
    let mut ends = Vec::new();
    let mut pos = 0u64;
    for i in 0..n {
        let mut b = BatchBuilder::new(i as i64);
        for r in 0..3 {
            b.push(
                i as i64,
                None,
                Some(format!("v{i}-{r}").repeat(10).as_bytes()),
                &[],
            )
            .unwrap();
        }
        let mut buf = b.finish().to_vec();
        log.append(&mut buf, 0).unwrap();
        pos += buf.len() as u64;
        ends.push(pos);
    }
    drop(log); // no close(): next open runs recovery
    ends
}

fn seg_path(dir: &Path) -> std::path::PathBuf {
    dir.join(format!("{:020}.log", 0))
}

fn read_all(log: &PartitionLog) -> Vec<u8> {
    if log.log_end_offset() == log.log_start_offset() {
        return Vec::new();
    }
    let r = log.read(log.log_start_offset(), usize::MAX).unwrap();
    let mut out = Vec::new();
    for s in &r.slices {
        let mut buf = vec![0; s.len];
        s.file.read_exact_at(&mut buf, s.position).unwrap();
        out.extend_from_slice(&buf);
    }
    out
}

/// Every served byte belongs to a valid batch.
fn assert_clean(log: &PartitionLog, expect_batches: usize) {
    let data = read_all(log);
    let mut n = 0;
    for b in batches(&data) {
        validate_batch(b.unwrap()).unwrap();
        n += 1;
    }
    assert_eq!(n, expect_batches);
    assert_eq!(log.log_end_offset(), 3 * expect_batches as i64);
}

#[test]
fn flipped_byte_in_each_of_last_batches() {
    for victim in [9usize, 7, 5] {
        let tmp = tempfile::tempdir().unwrap();
        let ends = fill(tmp.path(), 10);
        let start = if victim == 0 { 0 } else { ends[victim - 1] };
        // Flip a byte in the middle of the victim batch (CRC-covered).
        let at = start + (ends[victim] - start) / 2;
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(seg_path(tmp.path()))
            .unwrap();
        let mut b = [0u8];
        f.read_exact_at(&mut b, at).unwrap();
        f.write_all_at(&[b[0] ^ 0x40], at).unwrap();
        drop(f);
        let log = PartitionLog::open(tmp.path(), config()).unwrap();
        assert_clean(&log, victim);
        assert_eq!(
            std::fs::metadata(seg_path(tmp.path())).unwrap().len(),
            start,
            "file cut exactly at the damaged batch"
        );
    }
}

#[test]
fn damaged_length_field_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let ends = fill(tmp.path(), 6);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(seg_path(tmp.path()))
        .unwrap();
    // Batch 4's length field claims more than the file holds.
    f.write_all_at(&0x7fff_0000u32.to_be_bytes(), ends[3] + 8)
        .unwrap();
    drop(f);
    let log = PartitionLog::open(tmp.path(), config()).unwrap();
    assert_clean(&log, 4);

    let tmp = tempfile::tempdir().unwrap();
    let ends = fill(tmp.path(), 6);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(seg_path(tmp.path()))
        .unwrap();
    // Batch 2's base offset (not CRC-covered) goes backwards. (A jump
    // forward reads as a gap, which compaction leaves too, as in Kafka.)
    f.write_all_at(&1i64.to_be_bytes(), ends[1]).unwrap();
    drop(f);
    let log = PartitionLog::open(tmp.path(), config()).unwrap();
    assert_clean(&log, 2);
}

#[test]
fn cut_at_every_position_of_last_batch() {
    let tmp = tempfile::tempdir().unwrap();
    let ends = fill(tmp.path(), 4);
    let pristine = std::fs::read(seg_path(tmp.path())).unwrap();
    for cut in (ends[2]..ends[3]).step_by(7) {
        std::fs::write(seg_path(tmp.path()), &pristine[..cut as usize]).unwrap();
        let log = PartitionLog::open(tmp.path(), config()).unwrap();
        assert_clean(&log, 3);
        drop(log);
    }
    // Garbage appended after valid data is dropped too.
    let mut junk = pristine.clone();
    junk.extend_from_slice(&[0xAB; 100]);
    std::fs::write(seg_path(tmp.path()), &junk).unwrap();
    let log = PartitionLog::open(tmp.path(), config()).unwrap();
    assert_clean(&log, 4);
    // And the log keeps working after recovery.
    drop(log);
    let mut log = PartitionLog::open(tmp.path(), config()).unwrap();
    let mut b = BatchBuilder::new(0);
    b.push(0, None, Some(b"after"), &[]).unwrap();
    let info = log.append(&mut b.finish(), 0).unwrap();
    assert_eq!(info.base_offset, 12);
}

#[test]
fn corrupt_index_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    fill(tmp.path(), 50);
    let log = PartitionLog::open(tmp.path(), config()).unwrap();
    log.close().unwrap();
    // Scribble over the (trimmed) index of a cleanly closed log.
    let idx = tmp.path().join(format!("{:020}.index", 0));
    let len = std::fs::metadata(&idx).unwrap().len();
    assert!(len >= 16);
    std::fs::write(&idx, vec![0xFF; len as usize]).unwrap();
    let log = PartitionLog::open(tmp.path(), config()).unwrap();
    assert_clean(&log, 50);
    for off in (0..150).step_by(13) {
        let r = log.read(off, 1).unwrap();
        let mut buf = vec![0; r.slices[0].len];
        r.slices[0]
            .file
            .read_exact_at(&mut buf, r.slices[0].position)
            .unwrap();
        let h = validate_batch(&buf).unwrap();
        assert!(h.base_offset <= off && off <= h.last_offset());
    }
}

#[test]
fn damage_in_older_segment_drops_later_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = LogConfig {
        segment_bytes: 2048,
        ..config()
    };
    let mut log = PartitionLog::open(tmp.path(), cfg.clone()).unwrap();
    for i in 0..40 {
        let mut b = BatchBuilder::new(i);
        b.push(i, None, Some(&[7u8; 200]), &[]).unwrap();
        log.append(&mut b.finish(), 0).unwrap();
    }
    assert!(log.segment_count() > 3);
    drop(log);
    // Remove the recovery point so every segment is scanned, then damage
    // the second segment's last byte.
    std::fs::remove_file(tmp.path().join("recovery-point")).unwrap();
    let mut segs: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    segs.sort();
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&segs[1])
        .unwrap();
    let len = f.metadata().unwrap().len();
    f.write_all_at(&[0x55], len - 1).unwrap();
    drop(f);
    let log = PartitionLog::open(tmp.path(), cfg).unwrap();
    let data = read_all(&log);
    let n = batches(&data)
        .inspect(|b| {
            validate_batch(b.as_ref().unwrap()).unwrap();
        })
        .count();
    assert_eq!(n as i64, log.log_end_offset());
    assert!(n < 40 && n > 0);
    assert_eq!(log.segment_count(), 2);
}
