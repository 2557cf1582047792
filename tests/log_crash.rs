//! kill -9 test: a child process appends numbered batches and reports each
//! acknowledged offset; the parent SIGKILLs it at random moments, reopens
//! the log and checks every acknowledged batch survived byte for byte.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strom::log::{LogConfig, PartitionLog};
use strom::record::{batches, decode_records, validate_batch, BatchBuilder};

const CHILD_ENV: &str = "STROM_LOG_CRASH_CHILD_DIR";

fn config() -> LogConfig {
    // Small segments so kills also land around rolls.
    LogConfig {
        segment_bytes: 64 * 1024,
        index_interval_bytes: 1024,
        retention_ms: None,
        ..LogConfig::default()
    }
}

/// Deterministic content for batch `n`, so the parent can rebuild it.
fn batch_for(n: u64) -> Vec<u8> {
    let mut b = BatchBuilder::new(n as i64);
    let records = 1 + (n % 7) as usize;
    for i in 0..records {
        let value = format!("batch {n} record {i} {}", "x".repeat((n % 300) as usize));
        b.push(
            n as i64,
            Some(&n.to_be_bytes()),
            Some(value.as_bytes()),
            &[],
        )
        .unwrap();
    }
    b.finish().to_vec()
}

/// Child mode: append forever, print "n base_offset" after each append.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut log = PartitionLog::open(Path::new(&dir), config()).unwrap();
    // Continue numbering from what's there, using each batch's first key.
    let mut n = 0u64;
    let leo = log.log_end_offset();
    if leo > 0 {
        let r = log.read(0, usize::MAX).unwrap();
        let mut data = Vec::new();
        for s in &r.slices {
            let mut buf = vec![0; s.len];
            s.file.read_exact_at(&mut buf, s.position).unwrap();
            data.extend_from_slice(&buf);
        }
        n = batches(&data).count() as u64;
    }
    let stdout = std::io::stdout();
    loop {
        let mut b = batch_for(n);
        let info = log.append(&mut b, 0).unwrap();
        let mut out = stdout.lock();
        writeln!(out, "ack {n} {}", info.base_offset).unwrap();
        out.flush().unwrap();
        n += 1;
    }
}

/// Cheap xorshift so the test needs no RNG crate and is reproducible.
fn next_rand(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

#[test]
fn survives_kill_9() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("p");
    let exe = std::env::current_exe().unwrap();
    let deadline = Instant::now() + Duration::from_secs(25);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut acked: Vec<(u64, i64)> = Vec::new();
    let mut iterations = 0;
    while iterations < 30 && Instant::now() < deadline {
        iterations += 1;
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Kill after a random number of acks (0..300), waiting on acks
        // rather than sleeping.
        let target = next_rand(&mut seed) % 300;
        let child_deadline = Instant::now() + Duration::from_secs(5);
        let mut seen = 0;
        while seen < target && Instant::now() < child_deadline {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(rest) = line.strip_prefix("ack ") {
                let mut it = rest.split_whitespace();
                let n: u64 = it.next().unwrap().parse().unwrap();
                let off: i64 = it.next().unwrap().parse().unwrap();
                acked.push((n, off));
                seen += 1;
            }
        }
        child.kill().unwrap();
        // Acks already printed before the kill also count.
        for line in lines.map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("ack ") {
                let mut it = rest.split_whitespace();
                let n: u64 = it.next().unwrap().parse().unwrap();
                let off: i64 = it.next().unwrap().parse().unwrap();
                acked.push((n, off));
            }
        }
        child.wait().unwrap();
        verify(&dir, &acked);
    }
    assert!(iterations >= 5, "only {iterations} kill iterations ran");
    assert!(!acked.is_empty());
}

fn verify(dir: &Path, acked: &[(u64, i64)]) {
    let log = PartitionLog::open(dir, config()).unwrap();
    let r = log.read(0, usize::MAX).unwrap();
    let mut data = Vec::new();
    for s in &r.slices {
        let mut buf = vec![0; s.len];
        s.file.read_exact_at(&mut buf, s.position).unwrap();
        data.extend_from_slice(&buf);
    }
    let stored: Vec<&[u8]> = batches(&data).collect::<Result<_, _>>().unwrap();
    let mut next = 0i64;
    for (i, b) in stored.iter().enumerate() {
        let h = validate_batch(b).unwrap();
        assert_eq!(h.base_offset, next, "offsets contiguous");
        next = h.next_offset();
        // Byte-identical to what the child built, apart from the stamp.
        let mut expect = batch_for(i as u64);
        strom::record::stamp(&mut expect, h.base_offset, 0);
        assert_eq!(*b, &expect[..], "batch {i} differs");
        decode_records(&bytes::Bytes::copy_from_slice(b)).unwrap();
    }
    assert_eq!(next, log.log_end_offset());
    for &(n, off) in acked {
        let b = stored
            .get(n as usize)
            .unwrap_or_else(|| panic!("acked batch {n} lost"));
        assert_eq!(validate_batch(b).unwrap().base_offset, off);
    }
}
