//! Records of `__consumer_offsets`, in Kafka's own schemas so the topic's
//! contents read the same as a Kafka broker's:
//!
//! - offset commit key v1: `version i16, group string, topic string, partition i32`
//! - offset commit value v3: `version i16, offset i64, leader_epoch i32,
//!   metadata string, commit_timestamp i64`
//! - group metadata key v2: `version i16, group string`
//! - group metadata value v3: `version i16, protocol_type string,
//!   generation i32, protocol string?, leader string?, current_state_timestamp
//!   i64, members [member_id, group_instance_id?, client_id, client_host,
//!   rebalance_timeout i32, session_timeout i32, subscription bytes,
//!   assignment bytes]`
//!
//! Older value versions (0..=2) are decoded too. The last record of a key
//! wins and a null value (tombstone) deletes the key.
use bytes::{BufMut, Bytes, BytesMut};

pub use super::wire::CodecError;
use super::wire::{put_bytes, put_nullable_string, put_string, Reader};

const OFFSET_KEY_VERSION: i16 = 1;
const GROUP_KEY_VERSION: i16 = 2;
const OFFSET_VALUE_VERSION: i16 = 3;
const GROUP_VALUE_VERSION: i16 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordKey {
    Offset {
        group: String,
        topic: String,
        partition: i32,
    },
    GroupMetadata {
        group: String,
    },
}

impl RecordKey {
    pub fn group(&self) -> &str {
        match self {
            RecordKey::Offset { group, .. } | RecordKey::GroupMetadata { group } => group,
        }
    }

    pub fn encode(&self) -> Bytes {
        let mut buf = BytesMut::new();
        match self {
            RecordKey::Offset {
                group,
                topic,
                partition,
            } => {
                buf.put_i16(OFFSET_KEY_VERSION);
                put_string(&mut buf, group);
                put_string(&mut buf, topic);
                buf.put_i32(*partition);
            }
            RecordKey::GroupMetadata { group } => {
                buf.put_i16(GROUP_KEY_VERSION);
                put_string(&mut buf, group);
            }
        }
        buf.freeze()
    }

    pub fn decode(buf: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(buf);
        match r.i16("key version")? {
            // Versions 0 and 1 of the offset key share one schema.
            0 | 1 => Ok(RecordKey::Offset {
                group: r.string("group")?,
                topic: r.string("topic")?,
                partition: r.i32("partition")?,
            }),
            2 => Ok(RecordKey::GroupMetadata {
                group: r.string("group")?,
            }),
            version => Err(CodecError::UnsupportedVersion {
                what: "key",
                version,
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetValue {
    pub offset: i64,
    /// -1 when unknown (and always in versions before 3).
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp: i64,
}

impl OffsetValue {
    pub fn encode(&self) -> Bytes {
        let mut buf = BytesMut::new();
        buf.put_i16(OFFSET_VALUE_VERSION);
        buf.put_i64(self.offset);
        buf.put_i32(self.leader_epoch);
        put_string(&mut buf, &self.metadata);
        buf.put_i64(self.commit_timestamp);
        buf.freeze()
    }

    pub fn decode(buf: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(buf);
        let version = r.i16("offset value version")?;
        if !(0..=OFFSET_VALUE_VERSION).contains(&version) {
            return Err(CodecError::UnsupportedVersion {
                what: "offset value",
                version,
            });
        }
        let offset = r.i64("offset")?;
        let leader_epoch = if version >= 3 {
            r.i32("leader epoch")?
        } else {
            -1
        };
        let metadata = r.string("metadata")?;
        let commit_timestamp = r.i64("commit timestamp")?;
        if version == 1 {
            // v1 carried an expire timestamp that later versions dropped.
            r.i64("expire timestamp")?;
        }
        Ok(OffsetValue {
            offset,
            leader_epoch,
            metadata,
            commit_timestamp,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMetadataValue {
    pub protocol_type: String,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    /// -1 when unknown (versions before 2).
    pub current_state_timestamp: i64,
    pub members: Vec<MemberValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberValue {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    /// The member's metadata for the group's chosen protocol.
    pub subscription: Bytes,
    pub assignment: Bytes,
}

impl GroupMetadataValue {
    pub fn encode(&self) -> Bytes {
        let mut buf = BytesMut::new();
        buf.put_i16(GROUP_VALUE_VERSION);
        put_string(&mut buf, &self.protocol_type);
        buf.put_i32(self.generation);
        put_nullable_string(&mut buf, self.protocol.as_deref());
        put_nullable_string(&mut buf, self.leader.as_deref());
        buf.put_i64(self.current_state_timestamp);
        buf.put_i32(self.members.len() as i32);
        for m in &self.members {
            put_string(&mut buf, &m.member_id);
            put_nullable_string(&mut buf, m.group_instance_id.as_deref());
            put_string(&mut buf, &m.client_id);
            put_string(&mut buf, &m.client_host);
            buf.put_i32(m.rebalance_timeout_ms);
            buf.put_i32(m.session_timeout_ms);
            put_bytes(&mut buf, &m.subscription);
            put_bytes(&mut buf, &m.assignment);
        }
        buf.freeze()
    }

    pub fn decode(buf: &[u8]) -> Result<Self, CodecError> {
        let mut r = Reader::new(buf);
        let version = r.i16("group value version")?;
        if !(0..=GROUP_VALUE_VERSION).contains(&version) {
            return Err(CodecError::UnsupportedVersion {
                what: "group metadata value",
                version,
            });
        }
        let protocol_type = r.string("protocol type")?;
        let generation = r.i32("generation")?;
        let protocol = r.nullable_string("protocol")?;
        let leader = r.nullable_string("leader")?;
        let current_state_timestamp = if version >= 2 {
            r.i64("current state timestamp")?
        } else {
            -1
        };
        // The smallest member: 3 empty strings, 2 i32, 2 empty bytes.
        let n = r.count("members", 2 * 3 + 4 * 2 + 4 * 2)?;
        let mut members = Vec::with_capacity(n);
        for _ in 0..n {
            let member_id = r.string("member id")?;
            let group_instance_id = if version >= 3 {
                r.nullable_string("group instance id")?
            } else {
                None
            };
            let client_id = r.string("client id")?;
            let client_host = r.string("client host")?;
            let rebalance_timeout_ms = if version >= 1 {
                Some(r.i32("rebalance timeout")?)
            } else {
                None
            };
            let session_timeout_ms = r.i32("session timeout")?;
            let subscription = r.nullable_bytes("subscription")?.unwrap_or_default();
            let assignment = r.nullable_bytes("assignment")?.unwrap_or_default();
            members.push(MemberValue {
                member_id,
                group_instance_id,
                client_id,
                client_host,
                // Version 0 had no rebalance timeout: it was the session timeout.
                rebalance_timeout_ms: rebalance_timeout_ms.unwrap_or(session_timeout_ms),
                session_timeout_ms,
                subscription,
                assignment,
            });
        }
        Ok(GroupMetadataValue {
            protocol_type,
            generation,
            protocol,
            leader,
            current_state_timestamp,
            members,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_key_layout_is_kafkas() {
        let key = RecordKey::Offset {
            group: "g".into(),
            topic: "t".into(),
            partition: 3,
        };
        let bytes = key.encode();
        assert_eq!(&bytes[..], &[0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 3]);
        assert_eq!(RecordKey::decode(&bytes), Ok(key));
    }

    #[test]
    fn group_key_layout_is_kafkas() {
        let key = RecordKey::GroupMetadata { group: "ab".into() };
        let bytes = key.encode();
        assert_eq!(&bytes[..], &[0, 2, 0, 2, b'a', b'b']);
        assert_eq!(RecordKey::decode(&bytes), Ok(key));
    }

    #[test]
    fn offset_value_roundtrip_and_layout() {
        let v = OffsetValue {
            offset: 42,
            leader_epoch: 7,
            metadata: "m".into(),
            commit_timestamp: 1000,
        };
        let bytes = v.encode();
        let mut expected = vec![0, 3];
        expected.extend_from_slice(&42i64.to_be_bytes());
        expected.extend_from_slice(&7i32.to_be_bytes());
        expected.extend_from_slice(&[0, 1, b'm']);
        expected.extend_from_slice(&1000i64.to_be_bytes());
        assert_eq!(&bytes[..], &expected[..]);
        assert_eq!(OffsetValue::decode(&bytes), Ok(v));
    }

    #[test]
    fn offset_value_v1_decodes() {
        let mut b = vec![0, 1];
        b.extend_from_slice(&5i64.to_be_bytes());
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&9i64.to_be_bytes());
        b.extend_from_slice(&(-1i64).to_be_bytes());
        let v = OffsetValue::decode(&b).unwrap();
        assert_eq!((v.offset, v.leader_epoch, v.commit_timestamp), (5, -1, 9));
    }

    #[test]
    fn group_value_roundtrip() {
        let v = GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 4,
            protocol: Some("range".into()),
            leader: Some("m1".into()),
            current_state_timestamp: 77,
            members: vec![MemberValue {
                member_id: "m1".into(),
                group_instance_id: Some("i1".into()),
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                rebalance_timeout_ms: 300_000,
                session_timeout_ms: 10_000,
                subscription: Bytes::from_static(b"sub"),
                assignment: Bytes::from_static(b"asg"),
            }],
        };
        assert_eq!(GroupMetadataValue::decode(&v.encode()), Ok(v));
    }

    #[test]
    fn garbage_never_panics() {
        let samples: [&[u8]; 6] = [
            &[],
            &[0],
            &[0, 1, 0x7f, 0xff],
            &[0, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff],
            &[
                0, 3, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff,
            ],
            &[0, 9],
        ];
        for s in samples {
            let _ = RecordKey::decode(s);
            let _ = OffsetValue::decode(s);
            let _ = GroupMetadataValue::decode(s);
        }
        // A member count far beyond the bytes left is refused before allocating.
        let mut b = vec![0, 3, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
        b.extend_from_slice(&0i64.to_be_bytes());
        b.extend_from_slice(&i32::MAX.to_be_bytes());
        assert!(matches!(
            GroupMetadataValue::decode(&b),
            Err(CodecError::BadLength { .. })
        ));
    }
}
