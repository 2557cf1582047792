//! Kafka's ConsumerProtocol: the bytes consumers put in JoinGroup protocol
//! metadata (a [`Subscription`]) and SyncGroup assignments (an
//! [`Assignment`]). The broker treats them as opaque, but decoding them lets
//! tools show which member owns which partition, for Kafka clients
//! (Java, librdkafka, kafka-python) and ours alike.
//!
//! Layout (classic Kafka encoding: big-endian, string = i16 length + UTF-8,
//! bytes = i32 length, -1 = null, array = i32 count):
//!
//! ```text
//! Subscription => version:i16 topics:[string] user_data:bytes?
//!                 owned_partitions:[topic:string partitions:[i32]]   (v1+)
//!                 generation_id:i32                                   (v2+)
//!                 rack_id:string?                                     (v3+)
//! Assignment   => version:i16 assigned:[topic:string partitions:[i32]] user_data:bytes?
//! ```
//!
//! Like Kafka, a version newer than we know is parsed with the newest known
//! layout (new versions only append fields) and trailing bytes are ignored.
//! Parsing is bounds-checked and never panics.
use bytes::{BufMut, Bytes, BytesMut};

/// The JoinGroup protocol type of consumers.
pub const CONSUMER_PROTOCOL_TYPE: &str = "consumer";
pub const SUBSCRIPTION_MAX_VERSION: i16 = 3;
pub const ASSIGNMENT_MAX_VERSION: i16 = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumerProtocolError {
    #[error("consumer protocol data ended early while reading {0}")]
    Truncated(&'static str),
    #[error("invalid length {len} for {what} in consumer protocol data")]
    BadLength { what: &'static str, len: i64 },
    #[error("string in consumer protocol data is not valid UTF-8")]
    BadUtf8,
    #[error("null {0} in consumer protocol data")]
    UnexpectedNull(&'static str),
    #[error("unsupported consumer protocol version {0}")]
    UnsupportedVersion(i16),
}

type Result<T> = std::result::Result<T, ConsumerProtocolError>;

/// Partitions of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicPartitions {
    pub topic: String,
    pub partitions: Vec<i32>,
}

/// What a consumer subscribes to, sent as its JoinGroup protocol metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub topics: Vec<String>,
    pub user_data: Option<Bytes>,
    /// v1+: partitions the member owns now (cooperative rebalancing).
    pub owned_partitions: Vec<TopicPartitions>,
    /// v2+: generation the owned partitions belong to; -1 if unknown.
    pub generation_id: i32,
    /// v3+: the consumer's rack (rack-aware assignment).
    pub rack_id: Option<String>,
}

impl Default for Subscription {
    fn default() -> Self {
        Subscription {
            topics: Vec::new(),
            user_data: None,
            owned_partitions: Vec::new(),
            generation_id: -1,
            rack_id: None,
        }
    }
}

/// The partitions the leader gave one member, sent in SyncGroup.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assignment {
    pub partitions: Vec<TopicPartitions>,
    pub user_data: Option<Bytes>,
}

impl Subscription {
    pub fn new(topics: Vec<String>) -> Self {
        Subscription {
            topics,
            ..Subscription::default()
        }
    }

    /// Encodes at `version` (0..=3); fields newer than it are left out.
    pub fn encode(&self, version: i16) -> Result<Bytes> {
        if !(0..=SUBSCRIPTION_MAX_VERSION).contains(&version) {
            return Err(ConsumerProtocolError::UnsupportedVersion(version));
        }
        let mut buf = BytesMut::new();
        buf.put_i16(version);
        put_len(&mut buf, self.topics.len());
        for t in &self.topics {
            put_string(&mut buf, t);
        }
        put_nullable_bytes(&mut buf, self.user_data.as_deref());
        if version >= 1 {
            put_topic_partitions(&mut buf, &self.owned_partitions);
        }
        if version >= 2 {
            buf.put_i32(self.generation_id);
        }
        if version >= 3 {
            put_nullable_string(&mut buf, self.rack_id.as_deref());
        }
        Ok(buf.freeze())
    }

    pub fn decode(buf: &[u8]) -> Result<Self> {
        Self::decode_versioned(buf).map(|(_, s)| s)
    }

    /// Decodes and also returns the version the sender wrote.
    pub fn decode_versioned(buf: &[u8]) -> Result<(i16, Self)> {
        let mut r = Reader { buf };
        let version = r.i16("version")?;
        if version < 0 {
            return Err(ConsumerProtocolError::UnsupportedVersion(version));
        }
        let layout = version.min(SUBSCRIPTION_MAX_VERSION);
        let n = r.count("topics", 2)?;
        let mut topics = Vec::with_capacity(n);
        for _ in 0..n {
            topics.push(r.string("topic")?);
        }
        let user_data = r.nullable_bytes("user data")?;
        let owned_partitions = if layout >= 1 {
            r.topic_partitions("owned partitions")?
        } else {
            Vec::new()
        };
        let generation_id = if layout >= 2 {
            r.i32("generation id")?
        } else {
            -1
        };
        let rack_id = if layout >= 3 {
            r.nullable_string("rack id")?
        } else {
            None
        };
        Ok((
            version,
            Subscription {
                topics,
                user_data,
                owned_partitions,
                generation_id,
                rack_id,
            },
        ))
    }
}

impl Assignment {
    /// Encodes at `version` (0..=3; every version has the same layout).
    pub fn encode(&self, version: i16) -> Result<Bytes> {
        if !(0..=ASSIGNMENT_MAX_VERSION).contains(&version) {
            return Err(ConsumerProtocolError::UnsupportedVersion(version));
        }
        let mut buf = BytesMut::new();
        buf.put_i16(version);
        put_topic_partitions(&mut buf, &self.partitions);
        put_nullable_bytes(&mut buf, self.user_data.as_deref());
        Ok(buf.freeze())
    }

    /// Empty input is an empty assignment: the coordinator hands empty bytes
    /// to members the leader left out.
    pub fn decode(buf: &[u8]) -> Result<Self> {
        if buf.is_empty() {
            return Ok(Assignment::default());
        }
        let mut r = Reader { buf };
        let version = r.i16("version")?;
        if version < 0 {
            return Err(ConsumerProtocolError::UnsupportedVersion(version));
        }
        let partitions = r.topic_partitions("assigned partitions")?;
        let user_data = r.nullable_bytes("user data")?;
        Ok(Assignment {
            partitions,
            user_data,
        })
    }
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(ConsumerProtocolError::Truncated(what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn i16(&mut self, what: &'static str) -> Result<i16> {
        let b = self.take(2, what)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn i32(&mut self, what: &'static str) -> Result<i32> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn nullable_string(&mut self, what: &'static str) -> Result<Option<String>> {
        let len = self.i16(what)?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| ConsumerProtocolError::BadLength {
            what,
            len: len.into(),
        })?;
        let raw = self.take(len, what)?;
        String::from_utf8(raw.to_vec())
            .map(Some)
            .map_err(|_| ConsumerProtocolError::BadUtf8)
    }

    fn string(&mut self, what: &'static str) -> Result<String> {
        self.nullable_string(what)?
            .ok_or(ConsumerProtocolError::UnexpectedNull(what))
    }

    fn nullable_bytes(&mut self, what: &'static str) -> Result<Option<Bytes>> {
        let len = self.i32(what)?;
        if len == -1 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| ConsumerProtocolError::BadLength {
            what,
            len: len.into(),
        })?;
        Ok(Some(Bytes::copy_from_slice(self.take(len, what)?)))
    }

    /// An array count, checked against the bytes left before allocating.
    fn count(&mut self, what: &'static str, min_item: usize) -> Result<usize> {
        let n = self.i32(what)?;
        let bad = ConsumerProtocolError::BadLength {
            what,
            len: n.into(),
        };
        let n = usize::try_from(n).map_err(|_| bad.clone())?;
        if n.saturating_mul(min_item) > self.buf.len() {
            return Err(bad);
        }
        Ok(n)
    }

    fn topic_partitions(&mut self, what: &'static str) -> Result<Vec<TopicPartitions>> {
        // Smallest entry: empty topic (2) + empty partition array (4).
        let n = self.count(what, 6)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let topic = self.string("topic")?;
            let np = self.count("partitions", 4)?;
            let mut partitions = Vec::with_capacity(np);
            for _ in 0..np {
                partitions.push(self.i32("partition")?);
            }
            out.push(TopicPartitions { topic, partitions });
        }
        Ok(out)
    }
}

fn put_len(buf: &mut BytesMut, n: usize) {
    buf.put_i32(n.min(i32::MAX as usize) as i32);
}

fn put_string(buf: &mut BytesMut, s: &str) {
    // Kafka strings hold at most i16::MAX bytes; topic names are far
    // shorter, so clipping only guards against writing a corrupt length.
    let b = s.as_bytes();
    let len = b.len().min(i16::MAX as usize);
    buf.put_i16(len as i16);
    buf.put_slice(&b[..len]);
}

fn put_nullable_string(buf: &mut BytesMut, s: Option<&str>) {
    match s {
        Some(s) => put_string(buf, s),
        None => buf.put_i16(-1),
    }
}

fn put_nullable_bytes(buf: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            put_len(buf, b.len());
            buf.put_slice(b);
        }
        None => buf.put_i32(-1),
    }
}

fn put_topic_partitions(buf: &mut BytesMut, tps: &[TopicPartitions]) {
    put_len(buf, tps.len());
    for tp in tps {
        put_string(buf, &tp.topic);
        put_len(buf, tp.partitions.len());
        for p in &tp.partitions {
            buf.put_i32(*p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_subscription() -> Subscription {
        Subscription {
            topics: vec!["orders".into(), "payments".into()],
            user_data: Some(Bytes::from_static(b"ud")),
            owned_partitions: vec![TopicPartitions {
                topic: "orders".into(),
                partitions: vec![0, 2],
            }],
            generation_id: 4,
            rack_id: Some("rack-a".into()),
        }
    }

    #[test]
    fn subscription_v0_layout_is_kafkas() {
        let s = Subscription::new(vec!["t".into()]);
        let b = s.encode(0).unwrap();
        assert_eq!(
            &b[..],
            &[0, 0, 0, 0, 0, 1, 0, 1, b't', 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(Subscription::decode(&b).unwrap(), s);
    }

    #[test]
    fn subscription_roundtrips_at_every_version() {
        let s = full_subscription();
        for v in 0..=SUBSCRIPTION_MAX_VERSION {
            let (version, back) = Subscription::decode_versioned(&s.encode(v).unwrap()).unwrap();
            assert_eq!(version, v);
            assert_eq!(back.topics, s.topics);
            assert_eq!(back.user_data, s.user_data);
            let owned = if v >= 1 {
                s.owned_partitions.clone()
            } else {
                vec![]
            };
            assert_eq!(back.owned_partitions, owned);
            assert_eq!(back.generation_id, if v >= 2 { 4 } else { -1 });
            assert_eq!(back.rack_id, if v >= 3 { s.rack_id.clone() } else { None });
        }
        assert_eq!(
            s.encode(4),
            Err(ConsumerProtocolError::UnsupportedVersion(4))
        );
    }

    #[test]
    fn newer_versions_parse_with_the_newest_known_layout() {
        let mut b = BytesMut::from(&full_subscription().encode(3).unwrap()[..]);
        b[1] = 9; // pretend version 9 with an extra trailing field
        b.put_i64(77);
        let (version, s) = Subscription::decode_versioned(&b).unwrap();
        assert_eq!(version, 9);
        assert_eq!(s, full_subscription());
    }

    #[test]
    fn assignment_roundtrip_and_layout() {
        let a = Assignment {
            partitions: vec![TopicPartitions {
                topic: "t".into(),
                partitions: vec![1],
            }],
            user_data: None,
        };
        let b = a.encode(1).unwrap();
        assert_eq!(
            &b[..],
            &[0, 1, 0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(Assignment::decode(&b).unwrap(), a);
        assert_eq!(Assignment::decode(&[]).unwrap(), Assignment::default());
    }

    #[test]
    fn truncated_or_hostile_input_errors_without_panicking() {
        let s = full_subscription().encode(3).unwrap();
        for end in 0..s.len() {
            assert!(Subscription::decode(&s[..end]).is_err(), "prefix {end}");
        }
        let a = Assignment {
            partitions: vec![TopicPartitions {
                topic: "t".into(),
                partitions: vec![1, 2],
            }],
            user_data: Some(Bytes::from_static(b"x")),
        }
        .encode(0)
        .unwrap();
        for end in 1..a.len() {
            assert!(Assignment::decode(&a[..end]).is_err(), "prefix {end}");
        }
        // Huge counts and lengths are refused before allocating.
        let huge = [0, 0, 0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            Subscription::decode(&huge),
            Err(ConsumerProtocolError::BadLength { .. })
        ));
        assert!(Assignment::decode(&huge).is_err());
        let neg = [0, 0, 0, 0, 0, 1, 0xff, 0xfe];
        assert!(Subscription::decode(&neg).is_err());
        assert_eq!(
            Subscription::decode(&[0xff, 0xff]),
            Err(ConsumerProtocolError::UnsupportedVersion(-1))
        );
        let bad_utf8 = [0, 0, 0, 0, 0, 1, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(
            Subscription::decode(&bad_utf8),
            Err(ConsumerProtocolError::BadUtf8)
        );
    }
}
