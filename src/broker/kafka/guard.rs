//! Walks a request body's structure before the `kafka-protocol` crate
//! decodes it. The crate sizes every array with `Vec::with_capacity(count)`
//! straight from the wire, so a 20-byte request claiming 2^31 topics makes
//! it allocate hundreds of GB and aborts the process. Here every count is
//! checked against the bytes left and every element is walked, so a body
//! that passes holds everything it claims and decoding allocates no more
//! than the request really carries.
//!
//! The layouts mirror Kafka's request schemas (the JSON files the crate is
//! generated from); `tests.rs` encodes each advertised version with the
//! crate and checks this walker accepts it.
use kafka_protocol::messages::ApiKey;

#[derive(Clone, Copy)]
enum T {
    I8,
    I16,
    I32,
    I64,
    Uuid,
    /// String or nullable string.
    Str,
    /// Bytes or nullable bytes (records too).
    Bytes,
    /// Array of strings.
    Strs,
    /// Array of int32.
    I32s,
    /// Array of int64.
    I64s,
    /// Array of structs.
    Structs(&'static [Field]),
}

#[derive(Clone, Copy)]
struct Field {
    min: i16,
    max: i16,
    t: T,
}

const ANY: i16 = i16::MAX;

const fn f(min: i16, max: i16, t: T) -> Field {
    Field { min, max, t }
}
const fn all(t: T) -> Field {
    f(0, ANY, t)
}

use T::*;

const PRODUCE_PARTITION: &[Field] = &[all(I32), all(Bytes)];
const PRODUCE_TOPIC: &[Field] = &[
    f(0, 12, Str),
    f(13, ANY, Uuid),
    all(Structs(PRODUCE_PARTITION)),
];
const PRODUCE: &[Field] = &[
    f(3, ANY, Str),
    all(I16),
    all(I32),
    all(Structs(PRODUCE_TOPIC)),
];

const FETCH_PARTITION: &[Field] = &[
    all(I32),
    f(9, ANY, I32),
    all(I64),
    f(12, ANY, I32),
    f(5, ANY, I64),
    all(I32),
];
const FETCH_TOPIC: &[Field] = &[
    f(0, 12, Str),
    f(13, ANY, Uuid),
    all(Structs(FETCH_PARTITION)),
];
const FETCH_FORGOTTEN: &[Field] = &[f(7, 12, Str), f(13, ANY, Uuid), f(7, ANY, I32s)];
const FETCH: &[Field] = &[
    f(0, 14, I32),
    all(I32),
    all(I32),
    f(3, ANY, I32),
    f(4, ANY, I8),
    f(7, ANY, I32),
    f(7, ANY, I32),
    all(Structs(FETCH_TOPIC)),
    f(7, ANY, Structs(FETCH_FORGOTTEN)),
    f(11, ANY, Str),
];

const LIST_OFFSETS_PARTITION: &[Field] = &[all(I32), f(4, ANY, I32), all(I64), f(0, 0, I32)];
const LIST_OFFSETS_TOPIC: &[Field] = &[all(Str), all(Structs(LIST_OFFSETS_PARTITION))];
const LIST_OFFSETS: &[Field] = &[
    all(I32),
    f(2, ANY, I8),
    all(Structs(LIST_OFFSETS_TOPIC)),
    f(10, ANY, I32),
];

const METADATA_TOPIC: &[Field] = &[f(10, ANY, Uuid), all(Str)];
const METADATA: &[Field] = &[
    all(Structs(METADATA_TOPIC)),
    f(4, ANY, I8),
    f(8, 10, I8),
    f(8, ANY, I8),
];

const OFFSET_COMMIT_PARTITION: &[Field] =
    &[all(I32), all(I64), f(6, ANY, I32), f(1, 1, I64), all(Str)];
const OFFSET_COMMIT_TOPIC: &[Field] = &[all(Str), all(Structs(OFFSET_COMMIT_PARTITION))];
const OFFSET_COMMIT: &[Field] = &[
    all(Str),
    f(1, ANY, I32),
    f(1, ANY, Str),
    f(7, ANY, Str),
    f(2, 4, I64),
    all(Structs(OFFSET_COMMIT_TOPIC)),
];

const OFFSET_FETCH_TOPIC: &[Field] = &[all(Str), all(I32s)];
const OFFSET_FETCH_GROUP: &[Field] = &[
    all(Str),
    f(9, ANY, Str),
    f(9, ANY, I32),
    all(Structs(OFFSET_FETCH_TOPIC)),
];
const OFFSET_FETCH: &[Field] = &[
    f(0, 7, Str),
    f(0, 7, Structs(OFFSET_FETCH_TOPIC)),
    f(8, ANY, Structs(OFFSET_FETCH_GROUP)),
    f(7, ANY, I8),
];

const FIND_COORDINATOR: &[Field] = &[f(0, 3, Str), f(1, ANY, I8), f(4, ANY, Strs)];

const JOIN_PROTOCOL: &[Field] = &[all(Str), all(Bytes)];
const JOIN_GROUP: &[Field] = &[
    all(Str),
    all(I32),
    f(1, ANY, I32),
    all(Str),
    f(5, ANY, Str),
    all(Str),
    all(Structs(JOIN_PROTOCOL)),
    f(8, ANY, Str),
];

const HEARTBEAT: &[Field] = &[all(Str), all(I32), all(Str), f(3, ANY, Str)];

const LEAVE_MEMBER: &[Field] = &[all(Str), all(Str), f(5, ANY, Str)];
const LEAVE_GROUP: &[Field] = &[all(Str), f(0, 2, Str), f(3, ANY, Structs(LEAVE_MEMBER))];

const SYNC_ASSIGNMENT: &[Field] = &[all(Str), all(Bytes)];
const SYNC_GROUP: &[Field] = &[
    all(Str),
    all(I32),
    all(Str),
    f(3, ANY, Str),
    f(5, ANY, Str),
    f(5, ANY, Str),
    all(Structs(SYNC_ASSIGNMENT)),
];

const DESCRIBE_GROUPS: &[Field] = &[all(Strs), f(3, ANY, I8)];
const LIST_GROUPS: &[Field] = &[f(4, ANY, Strs), f(5, ANY, Strs)];
const API_VERSIONS: &[Field] = &[f(3, ANY, Str), f(3, ANY, Str)];

const CREATE_ASSIGNMENT: &[Field] = &[all(I32), all(I32s)];
const CREATE_CONFIG: &[Field] = &[all(Str), all(Str)];
const CREATE_TOPIC: &[Field] = &[
    all(Str),
    all(I32),
    all(I16),
    all(Structs(CREATE_ASSIGNMENT)),
    all(Structs(CREATE_CONFIG)),
];
const CREATE_TOPICS: &[Field] = &[all(Structs(CREATE_TOPIC)), all(I32), f(1, ANY, I8)];

const DELETE_TOPIC_STATE: &[Field] = &[all(Str), all(Uuid)];
const DELETE_TOPICS: &[Field] = &[
    f(6, ANY, Structs(DELETE_TOPIC_STATE)),
    f(0, 5, Strs),
    all(I32),
];

const INIT_PRODUCER_ID: &[Field] = &[all(Str), all(I32), f(3, ANY, I64), f(3, ANY, I16)];

const DESCRIBE_CONFIGS_RESOURCE: &[Field] = &[all(I8), all(Str), all(Strs)];
const DESCRIBE_CONFIGS: &[Field] = &[
    all(Structs(DESCRIBE_CONFIGS_RESOURCE)),
    f(1, ANY, I8),
    f(3, ANY, I8),
];

const CREATE_PARTITIONS_ASSIGNMENT: &[Field] = &[all(I32s)];
const CREATE_PARTITIONS_TOPIC: &[Field] = &[
    all(Str),
    all(I32),
    all(Structs(CREATE_PARTITIONS_ASSIGNMENT)),
];
const CREATE_PARTITIONS: &[Field] = &[all(Structs(CREATE_PARTITIONS_TOPIC)), all(I32), all(I8)];

const ALTER_CONFIG: &[Field] = &[all(Str), all(Str)];
const ALTER_CONFIGS_RESOURCE: &[Field] = &[all(I8), all(Str), all(Structs(ALTER_CONFIG))];
const ALTER_CONFIGS: &[Field] = &[all(Structs(ALTER_CONFIGS_RESOURCE)), all(I8)];

const INCREMENTAL_CONFIG: &[Field] = &[all(Str), all(I8), all(Str)];
const INCREMENTAL_RESOURCE: &[Field] = &[all(I8), all(Str), all(Structs(INCREMENTAL_CONFIG))];
const INCREMENTAL_ALTER_CONFIGS: &[Field] = &[all(Structs(INCREMENTAL_RESOURCE)), all(I8)];

const DELETE_RECORDS_PARTITION: &[Field] = &[all(I32), all(I64)];
const DELETE_RECORDS_TOPIC: &[Field] = &[all(Str), all(Structs(DELETE_RECORDS_PARTITION))];
const DELETE_RECORDS: &[Field] = &[all(Structs(DELETE_RECORDS_TOPIC)), all(I32)];

const DELETE_GROUPS: &[Field] = &[all(Strs)];

const OFFSET_DELETE_PARTITION: &[Field] = &[all(I32)];
const OFFSET_DELETE_TOPIC: &[Field] = &[all(Str), all(Structs(OFFSET_DELETE_PARTITION))];
const OFFSET_DELETE: &[Field] = &[all(Str), all(Structs(OFFSET_DELETE_TOPIC))];

const DESCRIBE_CLUSTER: &[Field] = &[all(I8), f(1, ANY, I8), f(2, ANY, I8)];

/// (topic, partitions): DescribeLogDirs, DescribeProducers, ElectLeaders.
const TOPIC_PARTITION_LIST: &[Field] = &[all(Str), all(I32s)];
const DESCRIBE_LOG_DIRS: &[Field] = &[all(Structs(TOPIC_PARTITION_LIST))];
const DESCRIBE_PRODUCERS: &[Field] = &[all(Structs(TOPIC_PARTITION_LIST))];
const ELECT_LEADERS: &[Field] = &[f(1, ANY, I8), all(Structs(TOPIC_PARTITION_LIST)), all(I32)];
const EPOCH_PARTITION: &[Field] = &[all(I32), all(I32), all(I32)];
const EPOCH_TOPIC: &[Field] = &[all(Str), all(Structs(EPOCH_PARTITION))];
const OFFSET_FOR_LEADER_EPOCH: &[Field] = &[f(3, ANY, I32), all(Structs(EPOCH_TOPIC))];
const TXN_TOPIC: &[Field] = &[all(Str), all(I32s)];
const ADD_PARTITIONS_TO_TXN: &[Field] = &[
    f(0, 3, Str),
    f(0, 3, I64),
    f(0, 3, I16),
    f(0, 3, Structs(TXN_TOPIC)),
];
const ADD_OFFSETS_TO_TXN: &[Field] = &[all(Str), all(I64), all(I16), all(Str)];
const END_TXN: &[Field] = &[all(Str), all(I64), all(I16), all(I8)];
const TXN_OFFSET_COMMIT_PARTITION: &[Field] = &[all(I32), all(I64), f(2, ANY, I32), all(Str)];
const TXN_OFFSET_COMMIT_TOPIC: &[Field] = &[all(Str), all(Structs(TXN_OFFSET_COMMIT_PARTITION))];
const TXN_OFFSET_COMMIT: &[Field] = &[
    all(Str),
    all(Str),
    all(I64),
    all(I16),
    f(3, ANY, I32),
    f(3, ANY, Str),
    f(3, ANY, Str),
    all(Structs(TXN_OFFSET_COMMIT_TOPIC)),
];
const LIST_TRANSACTIONS: &[Field] = &[all(Strs), all(I64s), f(1, ANY, I64), f(2, ANY, Str)];
const DESCRIBE_TRANSACTIONS: &[Field] = &[all(Strs)];

/// (schema, first flexible version) of the requests strom decodes.
fn schema(api: ApiKey) -> Option<(&'static [Field], i16)> {
    Some(match api {
        ApiKey::Produce => (PRODUCE, 9),
        ApiKey::Fetch => (FETCH, 12),
        ApiKey::ListOffsets => (LIST_OFFSETS, 6),
        ApiKey::Metadata => (METADATA, 9),
        ApiKey::OffsetCommit => (OFFSET_COMMIT, 8),
        ApiKey::OffsetFetch => (OFFSET_FETCH, 6),
        ApiKey::FindCoordinator => (FIND_COORDINATOR, 3),
        ApiKey::JoinGroup => (JOIN_GROUP, 6),
        ApiKey::Heartbeat => (HEARTBEAT, 4),
        ApiKey::LeaveGroup => (LEAVE_GROUP, 4),
        ApiKey::SyncGroup => (SYNC_GROUP, 4),
        ApiKey::DescribeGroups => (DESCRIBE_GROUPS, 5),
        ApiKey::ListGroups => (LIST_GROUPS, 3),
        ApiKey::ApiVersions => (API_VERSIONS, 3),
        ApiKey::CreateTopics => (CREATE_TOPICS, 5),
        ApiKey::DeleteTopics => (DELETE_TOPICS, 4),
        ApiKey::InitProducerId => (INIT_PRODUCER_ID, 2),
        ApiKey::DescribeConfigs => (DESCRIBE_CONFIGS, 4),
        ApiKey::CreatePartitions => (CREATE_PARTITIONS, 2),
        ApiKey::AlterConfigs => (ALTER_CONFIGS, 2),
        ApiKey::IncrementalAlterConfigs => (INCREMENTAL_ALTER_CONFIGS, 1),
        ApiKey::DeleteRecords => (DELETE_RECORDS, 2),
        ApiKey::DeleteGroups => (DELETE_GROUPS, 2),
        ApiKey::OffsetDelete => (OFFSET_DELETE, ANY),
        ApiKey::DescribeCluster => (DESCRIBE_CLUSTER, 0),
        ApiKey::DescribeLogDirs => (DESCRIBE_LOG_DIRS, 2),
        ApiKey::DescribeProducers => (DESCRIBE_PRODUCERS, 0),
        ApiKey::ElectLeaders => (ELECT_LEADERS, 2),
        ApiKey::OffsetForLeaderEpoch => (OFFSET_FOR_LEADER_EPOCH, 4),
        ApiKey::AddPartitionsToTxn => (ADD_PARTITIONS_TO_TXN, 3),
        ApiKey::AddOffsetsToTxn => (ADD_OFFSETS_TO_TXN, 3),
        ApiKey::EndTxn => (END_TXN, 3),
        ApiKey::TxnOffsetCommit => (TXN_OFFSET_COMMIT, 3),
        ApiKey::ListTransactions => (LIST_TRANSACTIONS, 0),
        ApiKey::DescribeTransactions => (DESCRIBE_TRANSACTIONS, 0),
        _ => return None,
    })
}

/// Whether `body` (the request after its header) is laid out as `api` at
/// `version` says, with every array's elements really present.
pub fn check(api: ApiKey, version: i16, body: &[u8]) -> Result<(), &'static str> {
    let (fields, flexible) = schema(api).ok_or("no layout known for this API")?;
    let mut w = Walker {
        buf: body,
        version,
        flexible: version >= flexible,
    };
    w.fields(fields)
        .ok_or("request is truncated or a length is out of range")
}

struct Walker<'a> {
    buf: &'a [u8],
    version: i16,
    flexible: bool,
}

impl Walker<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Some(head)
    }

    fn i16(&mut self) -> Option<i16> {
        self.take(2).map(|b| i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self) -> Option<i32> {
        self.take(4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn varint(&mut self) -> Option<u32> {
        let mut v: u32 = 0;
        for i in 0..5 {
            let b = *self.take(1)?.first()?;
            v |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// A length prefix: `None` on error, `Some(None)` for null.
    fn len(&mut self, wide: bool) -> Option<Option<usize>> {
        if self.flexible {
            let n = self.varint()?;
            return Some(n.checked_sub(1).map(|n| n as usize));
        }
        let n = if wide {
            self.i32()?
        } else {
            i32::from(self.i16()?)
        };
        match n {
            -1 => Some(None),
            n => usize::try_from(n).ok().map(Some),
        }
    }

    fn skip_sized(&mut self, wide: bool) -> Option<()> {
        if let Some(n) = self.len(wide)? {
            self.take(n)?;
        }
        Some(())
    }

    /// An array count, checked against the bytes left (every element
    /// takes at least `min_elem` bytes).
    fn count(&mut self, min_elem: usize) -> Option<usize> {
        let n = self.len(true)?.unwrap_or(0);
        if n.checked_mul(min_elem)? > self.buf.len() {
            return None;
        }
        Some(n)
    }

    fn field(&mut self, t: T) -> Option<()> {
        match t {
            I8 => self.take(1).map(drop),
            I16 => self.take(2).map(drop),
            I32 => self.take(4).map(drop),
            I64 => self.take(8).map(drop),
            Uuid => self.take(16).map(drop),
            Str => self.skip_sized(false),
            Bytes => self.skip_sized(true),
            Strs => {
                for _ in 0..self.count(1)? {
                    self.skip_sized(false)?;
                }
                Some(())
            }
            I32s => {
                let n = self.count(4)?;
                self.take(n * 4).map(drop)
            }
            I64s => {
                let n = self.count(8)?;
                self.take(n * 8).map(drop)
            }
            Structs(fields) => {
                for _ in 0..self.count(1)? {
                    self.fields(fields)?;
                }
                Some(())
            }
        }
    }

    fn fields(&mut self, fields: &[Field]) -> Option<()> {
        for fd in fields {
            if (fd.min..=fd.max).contains(&self.version) {
                self.field(fd.t)?;
            }
        }
        if self.flexible {
            // Tagged fields: count, then (tag, size, bytes) each.
            for _ in 0..self.varint()? {
                self.varint()?;
                let size = self.varint()? as usize;
                self.take(size)?;
            }
        }
        Some(())
    }
}
