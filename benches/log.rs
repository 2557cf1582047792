//! Partition log throughput/latency vs raw sequential file I/O.
//!
//! env: STROM_BENCH_LOG_BYTES (default 200 MB) bytes written per run,
//! STROM_BENCH_DIR (default /var/tmp, real disk unlike a tmpfs /tmp),
//! STROM_BENCH_REPS (default 5). Every figure is the median of the reps.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use strom::log::{FlushPolicy, LogConfig, PartitionLog};
use strom::record::BatchBuilder;

/// Appends per fdatasync in the EveryAppend (group commit) runs.
const GROUP: usize = 8;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Filesystem type of the mount holding `p` (from /proc/mounts).
fn fs_type(p: &Path) -> String {
    let Ok(mounts) = std::fs::read_to_string("/proc/mounts") else {
        return "unknown".into();
    };
    let p = p.canonicalize().unwrap_or_else(|_| p.to_owned());
    let mut best = (0usize, "unknown".to_string());
    for line in mounts.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 2 && p.starts_with(f[1]) && f[1].len() >= best.0 {
            best = (f[1].len(), f[2].to_string());
        }
    }
    best.1
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn mbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn make_batch(record: usize, batch: usize) -> Vec<u8> {
    let mut b = BatchBuilder::with_capacity(0, batch + 1024);
    let value = vec![0x5au8; record];
    let mut i = 0u64;
    while b.size_bytes() + record + 32 <= batch {
        b.push(1_700_000_000_000 + i as i64, None, Some(&value), &[])
            .unwrap();
        i += 1;
    }
    b.finish().to_vec()
}

fn config(policy: FlushPolicy) -> LogConfig {
    LogConfig {
        flush: policy,
        retention_ms: None,
        ..LogConfig::default()
    }
}

fn append_run(dir: &Path, batch: &[u8], n: usize, sync_groups: bool) -> Duration {
    let _ = std::fs::remove_dir_all(dir);
    let policy = if sync_groups {
        FlushPolicy::EveryAppend
    } else {
        FlushPolicy::Os
    };
    let mut log = PartitionLog::open(dir, config(policy)).unwrap();
    let mut buf = batch.to_vec();
    let t = Instant::now();
    for i in 0..n {
        log.append(&mut buf, 0).unwrap();
        if sync_groups && (i + 1) % GROUP == 0 {
            let target = log.flush_target().unwrap();
            target.sync().unwrap();
            log.mark_durable(&target);
        }
    }
    let d = t.elapsed();
    drop(log);
    d
}

fn raw_run(path: &Path, batch: &[u8], n: usize, sync_groups: bool) -> Duration {
    let _ = std::fs::remove_file(path);
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    let t = Instant::now();
    for i in 0..n {
        f.write_all(batch).unwrap();
        if sync_groups && (i + 1) % GROUP == 0 {
            f.sync_data().unwrap();
        }
    }
    t.elapsed()
}

fn read_run(log: &PartitionLog, buf: &mut Vec<u8>) -> (u64, Duration) {
    let t = Instant::now();
    let mut off = log.log_start_offset();
    let mut total = 0u64;
    let end = log.log_end_offset();
    while off < end {
        let r = log.read(off, 1 << 20).unwrap();
        for s in &r.slices {
            buf.resize(s.len, 0);
            s.file.read_exact_at(buf, s.position).unwrap();
            total += s.len as u64;
        }
        // Next offset from the last batch header in the buffer we read.
        let last = r.slices.last().unwrap();
        let mut pos = 0usize;
        let mut next = off;
        while pos + 61 <= buf.len() {
            let base = i64::from_be_bytes(buf[pos..pos + 8].try_into().unwrap());
            let len = i32::from_be_bytes(buf[pos + 8..pos + 12].try_into().unwrap()) as usize + 12;
            let lod = i32::from_be_bytes(buf[pos + 23..pos + 27].try_into().unwrap()) as i64;
            next = base + lod + 1;
            pos += len;
        }
        let _ = last;
        off = next;
    }
    (total, t.elapsed())
}

fn raw_read_run(path: &Path, buf: &mut Vec<u8>) -> (u64, Duration) {
    let f = File::open(path).unwrap();
    let len = f.metadata().unwrap().len();
    buf.resize(1 << 20, 0);
    let t = Instant::now();
    let mut pos = 0;
    while pos < len {
        let n = ((len - pos) as usize).min(buf.len());
        f.read_exact_at(&mut buf[..n], pos).unwrap();
        pos += n as u64;
    }
    (len, t.elapsed())
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let log_bytes = env_u64("STROM_BENCH_LOG_BYTES", 200_000_000);
    let reps = env_u64("STROM_BENCH_REPS", 5).max(1) as usize;
    let root: PathBuf = std::env::var_os("STROM_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp"));
    let root = root.join(format!("strom-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    println!(
        "strom log bench: {} MB per run, {reps} reps (medians), dir {} (fs: {})",
        log_bytes / 1_000_000,
        root.display(),
        fs_type(&root)
    );
    println!("group commit runs: one fdatasync per {GROUP} appends (log) / writes (raw)");
    println!(
        "{:<6} {:<7} {:<22} {:>10} {:>10} {:>7}",
        "record", "batch", "measurement", "log MB/s", "raw MB/s", "ratio"
    );
    let log_dir = root.join("log");
    let raw_path = root.join("raw.bin");
    let mut buf = Vec::new();
    for record in [100usize, 1024] {
        for batch_size in [16 << 10, 256 << 10, 1 << 20] {
            let batch = make_batch(record, batch_size);
            let n = (log_bytes as usize / batch.len()).max(1);
            let total = (n * batch.len()) as u64;
            for (name, sync) in [("append os", false), ("append group-fsync", true)] {
                // Fewer fsync'ed bytes: group commit at 200 MB takes long.
                let (n, total) = if sync {
                    let n = (n / 4).max(GROUP);
                    (n, (n * batch.len()) as u64)
                } else {
                    (n, total)
                };
                let mut l = Vec::new();
                let mut r = Vec::new();
                for _ in 0..reps {
                    l.push(mbps(total, append_run(&log_dir, &batch, n, sync)));
                    r.push(mbps(total, raw_run(&raw_path, &batch, n, sync)));
                }
                let (l, r) = (median(l), median(r));
                println!(
                    "{record:<6} {:<7} {name:<22} {l:>10.0} {r:>10.0} {:>7.2}",
                    format!("{}K", batch_size >> 10),
                    l / r
                );
            }
            // Leave a full Os-policy log for the read/lookup measurements.
            append_run(&log_dir, &batch, n, false);
            raw_run(&raw_path, &batch, n, false);
            let log = PartitionLog::open(&log_dir, config(FlushPolicy::Os)).unwrap();
            let mut l = Vec::new();
            let mut r = Vec::new();
            for _ in 0..reps {
                let (b, d) = read_run(&log, &mut buf);
                assert_eq!(b, total);
                l.push(mbps(b, d));
                let (b, d) = raw_read_run(&raw_path, &mut buf);
                r.push(mbps(b, d));
            }
            let (l, r) = (median(l), median(r));
            println!(
                "{record:<6} {:<7} {:<22} {l:>10.0} {r:>10.0} {:>7.2}",
                format!("{}K", batch_size >> 10),
                "sequential read",
                l / r
            );
            // Offset lookup: read(offset, 1) at pseudo-random offsets.
            let end = log.log_end_offset();
            let mut lat = Vec::new();
            let mut s = 0x2545_F491_4F6C_DD1Du64;
            for _ in 0..reps {
                let lookups = 20_000;
                let t = Instant::now();
                for _ in 0..lookups {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    let off = (s % end as u64) as i64;
                    let r = log.read(off, 1).unwrap();
                    std::hint::black_box(r.slices.len());
                }
                lat.push(t.elapsed().as_nanos() as f64 / f64::from(lookups));
            }
            println!(
                "{record:<6} {:<7} {:<22} {:>10.0} ns/lookup ({} segments, {} offsets)",
                format!("{}K", batch_size >> 10),
                "offset lookup",
                median(lat),
                log.segment_count(),
                end
            );
            drop(log);
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    std::io::stdout().flush().unwrap();
}
