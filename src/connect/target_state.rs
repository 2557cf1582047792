//! Which connectors a worker keeps paused, in a small JSON file, so a
//! paused connector stays paused across a worker restart (Kafka Connect
//! keeps this "target state" in its config topic; a standalone worker
//! keeps it beside its control socket).
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct TargetStateFile {
    path: PathBuf,
    /// One writer at a time (pause and resume may come at once).
    write: Mutex<()>,
}

impl TargetStateFile {
    pub fn new(path: PathBuf) -> TargetStateFile {
        TargetStateFile {
            path,
            write: Mutex::new(()),
        }
    }

    /// The default: the control socket's path plus `.state.json`.
    pub fn default_for(control: &Path) -> PathBuf {
        let mut p = control.as_os_str().to_owned();
        p.push(".state.json");
        PathBuf::from(p)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The paused connectors; none when the file does not exist.
    pub fn load(&self) -> anyhow::Result<BTreeSet<String>> {
        let text = match std::fs::read(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
            Err(e) => anyhow::bail!("cannot read the state file {}: {e}", self.path.display()),
        };
        let v: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
            anyhow::anyhow!("the state file {} is not valid: {e}", self.path.display())
        })?;
        Ok(v["paused"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Replaces the file (write, fsync, rename: never half written).
    pub fn save(&self, paused: &BTreeSet<String>) -> anyhow::Result<()> {
        let _one = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let text = serde_json::json!({ "paused": paused }).to_string();
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        written.map_err(|e| {
            anyhow::anyhow!("cannot write the state file {}: {e}", self.path.display())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = TargetStateFile::new(TargetStateFile::default_for(&dir.path().join("c.sock")));
        assert!(f.path().ends_with("c.sock.state.json"));
        assert!(f.load().unwrap().is_empty());
        let set: BTreeSet<String> = ["a".to_string(), "b".to_string()].into();
        f.save(&set).unwrap();
        assert_eq!(f.load().unwrap(), set);
        std::fs::write(f.path(), "nope").unwrap();
        assert!(f.load().unwrap_err().to_string().contains("not valid"));
    }
}
