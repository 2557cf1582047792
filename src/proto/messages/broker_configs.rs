//! DescribeBrokerConfigs (api 32) and AlterBrokerConfigs (api 33): the
//! broker-wide defaults of topic configs, under Kafka's broker config names
//! (`log.retention.ms`, `compression.type`, ...), for one broker or for the
//! whole cluster. The same values Kafka clients see as BROKER resources.
use super::topics::ConfigEntry;
use super::Status;
use crate::wire_struct;

/// `broker_id` naming the cluster-wide default (Kafka's resource name "").
pub const CLUSTER_DEFAULT: i32 = -1;

/// `source` values: where a described value comes from.
pub const SOURCE_BROKER: i8 = 1;
pub const SOURCE_CLUSTER_DEFAULT: i8 = 2;
pub const SOURCE_STATIC: i8 = 3;
pub const SOURCE_DEFAULT: i8 = 4;

wire_struct! {
    pub struct DescribeBrokerConfigsRequest {
        /// A node id, or -1 for the cluster default.
        pub broker_id: i32,
    }
}

wire_struct! {
    pub struct DescribeBrokerConfigsResponse {
        pub status: Status,
        pub configs: Vec<BrokerConfigValue>,
    }
}

wire_struct! {
    pub struct BrokerConfigValue {
        pub name: String,
        pub value: String,
        /// 1 set for this broker, 2 set for the cluster, 3 a `strom serve`
        /// flag, 4 Kafka's default.
        pub source: i8,
    }
}

wire_struct! {
    pub struct AlterBrokerConfigsRequest {
        /// A node id, or -1 for the cluster default.
        pub broker_id: i32,
        pub set_configs: Vec<ConfigEntry>,
        pub delete_configs: Vec<String>,
        pub validate_only: bool,
    }
}

wire_struct! {
    pub struct AlterBrokerConfigsResponse {
        pub status: Status,
    }
}
