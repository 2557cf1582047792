//! A throwaway PostgreSQL server for tests: `initdb` in a temp dir, the
//! server on a free loopback port with its socket in that dir, stopped
//! (and the dir removed) on drop. PostgreSQL refuses to run as root, so
//! as root both run as `nobody` (through `setpriv`) in a dir it owns.
//!
//! The binaries come from `$STROM_PG_BIN`, else `PATH`, else the newest
//! `/usr/lib/postgresql/*/bin` (where Debian's `postgresql` package puts
//! them; scripts/test.sh installs it). Without them the test fails, saying
//! so: it never passes silently.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Postgres {
    pub port: u16,
    /// `postgres://strom@127.0.0.1:PORT/postgres`
    pub url: String,
    child: Option<Child>,
    bin: PathBuf,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

/// The directory holding `initdb` and `postgres`.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("STROM_PG_BIN") {
        return PathBuf::from(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() && dir.join("postgres").is_file() {
                return dir;
            }
        }
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL is not installed: no initdb/postgres in $STROM_PG_BIN, PATH or \
             /usr/lib/postgresql/*/bin. Install Debian's `postgresql` package \
             (scripts/test.sh does) to run the PostgreSQL connector tests."
        ),
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// `prog` as the unprivileged user when we are root.
fn command(bin: &Path, prog: &str) -> Command {
    if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(bin.join(prog));
        c
    } else {
        Command::new(bin.join(prog))
    }
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("strom-pg-")
            .tempdir()
            .expect("temp dir");
        let data = dir.path().join("data");
        if is_root() {
            std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).expect("chown temp dir");
        }
        let out = command(&bin, "initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "strom",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ])
            .stdin(Stdio::null())
            .output()
            .expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pg = Postgres {
            port: 0,
            url: String::new(),
            child: None,
            bin,
            data,
            _dir: dir,
        };
        pg.start_server(super::free_port());
        pg
    }

    fn start_server(&mut self, port: u16) {
        let log = std::fs::File::create(self._dir.path().join("server.log")).expect("log file");
        if is_root() {
            std::os::unix::fs::chown(
                self._dir.path().join("server.log"),
                Some(65534),
                Some(65534),
            )
            .expect("chown log");
        }
        let child = command(&self.bin, "postgres")
            .arg("-D")
            .arg(&self.data)
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(&self.data)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=50",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn postgres");
        self.child = Some(child);
        self.port = port;
        self.url = format!("postgres://strom@127.0.0.1:{port}/postgres");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if postgres::Client::connect(&self.url, postgres::NoTls).is_ok() {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("postgres exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "postgres not ready after 60 s: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to test postgres")
    }

    /// Stops the server (fast shutdown); `start_again` brings it back on
    /// the same port.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            if super::wait_exit(&mut child, Instant::now() + Duration::from_secs(30)).is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    pub fn start_again(&mut self) {
        self.stop();
        self.start_server(self.port);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
