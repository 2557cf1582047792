//! Metadata (api 3): brokers, topics, partitions and their leaders.
use super::Status;
use crate::wire_struct;

wire_struct! {
    pub struct MetadataRequest {
        /// Null asks for every topic.
        pub topics: Option<Vec<String>>,
        /// Create missing topics when the broker allows auto-creation.
        pub allow_auto_create: bool,
    }
}

wire_struct! {
    pub struct MetadataResponse {
        pub status: Status,
        pub brokers: Vec<BrokerInfo>,
        pub controller_id: i32,
        pub topics: Vec<TopicMetadata>,
    }
}

wire_struct! {
    pub struct BrokerInfo {
        pub node_id: i32,
        pub host: String,
        pub port: i32,
    }
}

wire_struct! {
    pub struct TopicMetadata {
        pub status: Status,
        pub name: String,
        pub internal: bool,
        pub partitions: Vec<PartitionMetadata>,
    }
}

wire_struct! {
    pub struct PartitionMetadata {
        pub status: Status,
        pub partition: i32,
        pub leader: i32,
        pub leader_epoch: i32,
        pub replicas: Vec<i32>,
        pub isr: Vec<i32>,
    }
}

impl<T: crate::proto::Wire> crate::proto::Wire for Option<Vec<T>> {
    fn encode(&self, buf: &mut bytes::BytesMut) {
        match self {
            Some(v) => v.encode(buf),
            None => bytes::BufMut::put_u32(buf, u32::MAX),
        }
    }
    fn decode(d: &mut crate::proto::Decoder) -> Result<Self, crate::proto::ProtoError> {
        // Peek the count: u32::MAX is null, anything else is an array.
        let n = d.u32()?;
        if n == u32::MAX {
            return Ok(None);
        }
        let left = d.remaining();
        if (n as u64).saturating_mul(T::MIN_SIZE.max(1) as u64) > left as u64 {
            return Err(crate::proto::ProtoError::CountTooLarge {
                what: "array items",
                count: n as u64,
                left,
            });
        }
        let mut out = Vec::with_capacity(n as usize);
        for _ in 0..n {
            out.push(T::decode(d)?);
        }
        Ok(Some(out))
    }
    const MIN_SIZE: usize = 4;
}
