//! Cost stays constant as the log grows: append and read-from-an-offset
//! throughput in a small log and a large one, each beside a raw sequential
//! write of the same bytes measured in the same run.
//!
//! env: STROM_BENCH_SIZES (comma-separated log sizes in MB, default
//! "200,2000"; the figure uses "200,20000"), STROM_BENCH_DIR
//! (default /var/tmp), STROM_BENCH_REPS (default 5). 1 KiB records in
//! 1 MiB batches, 1 GiB segments, flush policy os. Medians are printed.
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use strom::log::{FlushPolicy, LogConfig, PartitionLog};
use strom::record::BatchBuilder;

const RECORD: usize = 1024;
const BATCH: usize = 1 << 20;
/// Bytes appended or read per measured repetition.
const MEASURE: usize = 200_000_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn make_batch() -> Vec<u8> {
    let mut b = BatchBuilder::with_capacity(0, BATCH + 1024);
    let value = vec![0x5au8; RECORD];
    let mut i = 0i64;
    while b.size_bytes() + RECORD + 32 <= BATCH {
        b.push(1_700_000_000_000 + i, None, Some(&value), &[])
            .expect("push");
        i += 1;
    }
    b.finish().to_vec()
}

fn append(log: &mut PartitionLog, batch: &[u8], bytes: usize) -> Duration {
    let mut buf = batch.to_vec();
    let n = bytes / batch.len();
    let t = Instant::now();
    for _ in 0..n {
        log.append(&mut buf, 0).expect("append");
    }
    t.elapsed()
}

fn raw_write(path: &Path, batch: &[u8], bytes: usize) -> Duration {
    let _ = std::fs::remove_file(path);
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .expect("open raw");
    let n = bytes / batch.len();
    let t = Instant::now();
    for _ in 0..n {
        f.write_all(batch).expect("write");
    }
    t.elapsed()
}

/// Reads `bytes` of whole batches starting at `from`.
fn read_from(log: &PartitionLog, from: i64, bytes: usize, buf: &mut Vec<u8>) -> (usize, Duration) {
    let t = Instant::now();
    let mut off = from;
    let mut total = 0usize;
    while total < bytes && off < log.log_end_offset() {
        let r = log.read(off, 1 << 20).expect("read");
        for s in &r.slices {
            buf.resize(s.len, 0);
            s.file.read_exact_at(buf, s.position).expect("pread");
            total += s.len;
            // The next batch starts after this one's last offset.
            let base = i64::from_be_bytes(buf[0..8].try_into().unwrap_or_default());
            let lod = i32::from_be_bytes(buf[23..27].try_into().unwrap_or_default());
            off = base + i64::from(lod) + 1;
        }
    }
    (total, t.elapsed())
}

fn main() {
    let sizes: Vec<u64> = std::env::var("STROM_BENCH_SIZES")
        .unwrap_or_else(|_| "200,2000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let reps = std::env::var("STROM_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    let root: PathBuf = std::env::var_os("STROM_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp"))
        .join(format!("strom-scale-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("bench dir");
    let batch = make_batch();
    println!(
        "strom log scale bench: 1 KiB records, 1 MiB batches, {} MB per measurement, {reps} reps (medians), dir {}",
        MEASURE / 1_000_000,
        root.display()
    );
    println!(
        "{:>9} {:>16} {:>12} {:>7} {:>16} {:>14}",
        "log MB", "append MB/s", "raw MB/s", "ratio", "read MB/s", "lookup ns"
    );
    let mut buf = Vec::new();
    for size_mb in sizes {
        let dir = root.join("log");
        let _ = std::fs::remove_dir_all(&dir);
        let config = LogConfig {
            flush: FlushPolicy::Os,
            retention_ms: None,
            ..LogConfig::default()
        };
        let mut log = PartitionLog::open(&dir, config).expect("open log");
        // Fill to the target size (not measured).
        append(&mut log, &batch, (size_mb as usize) * 1_000_000);
        let mut app = Vec::new();
        let mut raw = Vec::new();
        let mut read = Vec::new();
        let mut lookup = Vec::new();
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..reps {
            app.push(mbps(MEASURE, append(&mut log, &batch, MEASURE)));
            raw.push(mbps(
                MEASURE,
                raw_write(&root.join("raw.bin"), &batch, MEASURE),
            ));
            // Read MEASURE bytes from a pseudo-random offset in the log.
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let end = log.log_end_offset();
            let span = (end - (MEASURE / RECORD) as i64).max(1);
            let from = (s % span as u64) as i64;
            let (n, d) = read_from(&log, from, MEASURE, &mut buf);
            read.push(mbps(n, d));
            let t = Instant::now();
            for _ in 0..20_000 {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                std::hint::black_box(log.read((s % end as u64) as i64, 1).expect("lookup"));
            }
            lookup.push(t.elapsed().as_nanos() as f64 / 20_000.0);
        }
        let (a, r) = (median(app), median(raw));
        println!(
            "{:>9} {:>16.0} {:>12.0} {:>7.2} {:>16.0} {:>14.0}",
            size_mb,
            a,
            r,
            a / r,
            median(read),
            median(lookup)
        );
        drop(log);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let _ = std::fs::remove_dir_all(&root);
}
