//! The partition log engine: synchronous, file based, no async runtime.
//!
//! A partition is a directory of segments (`<base offset>.log` with
//! `.index` and `.timeindex`), plus small checkpoint files. Appends are
//! written with one `write` per produce request and are crash-safe against
//! process death immediately; power-loss durability comes from
//! [`FlushTarget::sync`] (group commit, run by the broker outside its
//! lock). See `docs/storage.md` for formats and guarantees.

mod aborted_txn_index;
mod batch_scan;
mod checkpoint;
mod cleaner;
mod cleaner_swap;
mod config;
mod epoch_cache;
mod error;
mod mmap_index;
mod offset_index;
mod partition_log;
mod recovery;
mod retention;
mod segment;
mod time_index;
mod transactions;

pub use aborted_txn_index::AbortedTxn;
pub use batch_scan::{for_each_batch, ScannedBatch};
pub use cleaner::{CleanOutcome, CleanTask, CleanerThrottle};
pub use config::{
    CompactionConfig, FlushPolicy, LogConfig, ParseFlushPolicyError, TimestampPolicy,
};
pub use error::LogError;
pub use partition_log::{AppendInfo, FileSlice, FlushTarget, PartitionLog, ReadResult};
pub use transactions::TxnLogState;
