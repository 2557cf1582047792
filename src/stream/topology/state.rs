//! A task's state: named key-value stores (ordered bytes to bytes), typed
//! access to them, and the task's state file, which holds every store with
//! the input offset the state reflects, so a replay after a crash skips
//! what the state already counted.
//!
//! The file is rewritten whole (to a temporary name, fsync, rename) after
//! a batch's outputs are acknowledged and before its offsets are committed.
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::marker::PhantomData;
use std::path::Path;

use bytes::Bytes;

/// One store: ordered, so windowed keys (window start first) expire by a
/// scan from the front.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct KeyValueStore {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
    bytes: usize,
}

impl KeyValueStore {
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        self.entries.get(key).map(Vec::as_slice)
    }

    pub fn put(&mut self, key: &[u8], value: Vec<u8>) {
        self.bytes += key.len() + value.len();
        if let Some(old) = self.entries.insert(key.to_vec(), value) {
            self.bytes -= key.len() + old.len();
        }
    }

    pub fn delete(&mut self, key: &[u8]) -> Option<Vec<u8>> {
        let old = self.entries.remove(key)?;
        self.bytes -= key.len() + old.len();
        Some(old)
    }

    /// The smallest key, for expiry.
    pub fn first(&self) -> Option<(&[u8], &[u8])> {
        self.entries
            .iter()
            .next()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys plus values, in bytes.
    pub fn size_bytes(&self) -> usize {
        self.bytes
    }
}

/// A value a typed store holds.
pub trait StateValue: Sized {
    fn encode(&self) -> Vec<u8>;
    fn decode(b: &[u8]) -> Option<Self>;
}

impl StateValue for i64 {
    fn encode(&self) -> Vec<u8> {
        self.to_be_bytes().to_vec()
    }
    fn decode(b: &[u8]) -> Option<i64> {
        Some(i64::from_be_bytes(b.try_into().ok()?))
    }
}

impl StateValue for Vec<f64> {
    fn encode(&self) -> Vec<u8> {
        self.iter().flat_map(|f| f.to_be_bytes()).collect()
    }
    fn decode(b: &[u8]) -> Option<Vec<f64>> {
        if !b.len().is_multiple_of(8) {
            return None;
        }
        b.chunks_exact(8)
            .map(|c| c.try_into().ok().map(f64::from_be_bytes))
            .collect()
    }
}

impl StateValue for Bytes {
    fn encode(&self) -> Vec<u8> {
        self.to_vec()
    }
    fn decode(b: &[u8]) -> Option<Bytes> {
        Some(Bytes::copy_from_slice(b))
    }
}

impl StateValue for serde_json::Value {
    fn encode(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
    fn decode(b: &[u8]) -> Option<serde_json::Value> {
        serde_json::from_slice(b).ok()
    }
}

/// A store seen as holding values of type `V`.
pub struct Store<'a, V> {
    inner: &'a mut KeyValueStore,
    _v: PhantomData<V>,
}

impl<V: StateValue> Store<'_, V> {
    /// `None` also for a value that does not decode as `V`.
    pub fn get(&self, key: &[u8]) -> Option<V> {
        self.inner.get(key).and_then(V::decode)
    }

    pub fn put(&mut self, key: &[u8], value: &V) {
        self.inner.put(key, value.encode());
    }

    pub fn delete(&mut self, key: &[u8]) -> Option<V> {
        self.inner.delete(key).and_then(|b| V::decode(&b))
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

/// All stores of one task, plus what the state reflects.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TaskState {
    pub stores: HashMap<String, KeyValueStore>,
    /// The last input offset folded into the state (-1: none).
    pub offset: i64,
    /// The largest record timestamp seen (event time), `i64::MIN`: none.
    pub stream_time: i64,
}

const MAGIC: &[u8; 8] = b"STROMST1";
/// A store name or entry longer than this is a corrupt file.
const MAX_FIELD: usize = 64 << 20;

impl TaskState {
    pub fn new() -> TaskState {
        TaskState {
            stores: HashMap::new(),
            offset: -1,
            stream_time: i64::MIN,
        }
    }

    pub fn store_mut(&mut self, name: &str) -> &mut KeyValueStore {
        if !self.stores.contains_key(name) {
            self.stores
                .insert(name.to_string(), KeyValueStore::default());
        }
        // Inserted just above when missing.
        self.stores.entry(name.to_string()).or_default()
    }

    pub fn typed<V: StateValue>(&mut self, name: &str) -> Store<'_, V> {
        Store {
            inner: self.store_mut(name),
            _v: PhantomData,
        }
    }

    pub fn size_bytes(&self) -> usize {
        self.stores.values().map(KeyValueStore::size_bytes).sum()
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(32 + self.size_bytes());
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&self.offset.to_be_bytes());
        b.extend_from_slice(&self.stream_time.to_be_bytes());
        b.extend_from_slice(&(self.stores.len() as u64).to_be_bytes());
        let field = |b: &mut Vec<u8>, f: &[u8]| {
            b.extend_from_slice(&(f.len() as u64).to_be_bytes());
            b.extend_from_slice(f);
        };
        for (name, store) in &self.stores {
            field(&mut b, name.as_bytes());
            b.extend_from_slice(&(store.len() as u64).to_be_bytes());
            for (k, v) in store.iter() {
                field(&mut b, k);
                field(&mut b, v);
            }
        }
        b
    }

    fn decode(b: &[u8]) -> Result<TaskState, String> {
        let mut r = Reader { b };
        if r.take(8)? != MAGIC {
            return Err("not a strom state file".into());
        }
        let mut s = TaskState::new();
        s.offset = r.i64()?;
        s.stream_time = r.i64()?;
        let n = r.u64()?;
        for _ in 0..n {
            let name = String::from_utf8(r.field()?.to_vec()).map_err(|_| "bad store name")?;
            let store = s.store_mut(&name);
            let entries = r.u64()?;
            for _ in 0..entries {
                let k = r.field()?;
                let v = r.field()?.to_vec();
                store.put(k, v);
            }
        }
        if !r.b.is_empty() {
            return Err("trailing bytes".into());
        }
        Ok(s)
    }

    /// Reads the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> anyhow::Result<TaskState> {
        match std::fs::read(path) {
            Ok(b) => TaskState::decode(&b)
                .map_err(|e| anyhow::anyhow!("state file {}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TaskState::new()),
            Err(e) => Err(anyhow::Error::new(e).context(format!("reading {}", path.display()))),
        }
    }

    /// Replaces the state file atomically and durably.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&self.encode())?;
        f.sync_data()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    }
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.b.len() {
            return Err("truncated".into());
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_be_bytes(b.try_into().map_err(|_| "truncated")?))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(self.u64()? as i64)
    }
    fn field(&mut self) -> Result<&'a [u8], String> {
        let n = usize::try_from(self.u64()?).map_err(|_| "field too long")?;
        if n > MAX_FIELD {
            return Err(format!("field of {n} bytes is too long"));
        }
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t/in-0.state");
        let mut s = TaskState::new();
        s.offset = 41;
        s.stream_time = 1000;
        s.typed::<i64>("counts").put(b"a", &3);
        s.typed::<Vec<f64>>("aggs").put(b"b", &vec![1.0, 2.5]);
        s.save(&path).unwrap();
        let back = TaskState::load(&path).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.clone().typed::<i64>("counts").get(b"a"), Some(3));
        assert!(TaskState::load(&dir.path().join("none")).unwrap().offset < 0);
        std::fs::write(&path, b"STROMST1\0\0").unwrap();
        assert!(TaskState::load(&path).is_err());
    }
}
