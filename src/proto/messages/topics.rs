//! Topic administration: CreateTopics (4), DeleteTopics (5),
//! DescribeConfigs (6) and AlterTopic (7).
use super::Status;
use crate::wire_struct;

wire_struct! {
    pub struct ConfigEntry {
        pub key: String,
        pub value: String,
    }
}

wire_struct! {
    pub struct CreateTopicsRequest {
        pub topics: Vec<CreatableTopic>,
        pub validate_only: bool,
    }
}

wire_struct! {
    pub struct CreatableTopic {
        pub name: String,
        /// -1 takes the broker default.
        pub partitions: i32,
        /// -1 takes the broker default.
        pub replication_factor: i16,
        pub configs: Vec<ConfigEntry>,
    }
}

wire_struct! {
    pub struct TopicStatus {
        pub name: String,
        pub status: Status,
    }
}

wire_struct! {
    pub struct CreateTopicsResponse {
        pub status: Status,
        pub topics: Vec<TopicStatus>,
    }
}

wire_struct! {
    pub struct DeleteTopicsRequest {
        pub names: Vec<String>,
    }
}

wire_struct! {
    pub struct DeleteTopicsResponse {
        pub status: Status,
        pub topics: Vec<TopicStatus>,
    }
}

wire_struct! {
    pub struct DescribeConfigsRequest {
        pub names: Vec<String>,
    }
}

wire_struct! {
    pub struct DescribeConfigsResponse {
        pub status: Status,
        pub topics: Vec<TopicConfigs>,
    }
}

wire_struct! {
    pub struct TopicConfigs {
        pub name: String,
        pub status: Status,
        pub configs: Vec<ConfigValue>,
    }
}

wire_struct! {
    pub struct ConfigValue {
        pub key: String,
        pub value: String,
        /// True when the value is the broker default rather than set on the topic.
        pub is_default: bool,
    }
}

wire_struct! {
    pub struct AlterTopicRequest {
        pub name: String,
        /// New partition count (can only grow), or -1 to leave it.
        pub partitions: i32,
        pub set_configs: Vec<ConfigEntry>,
        pub delete_configs: Vec<String>,
        pub validate_only: bool,
    }
}

wire_struct! {
    pub struct AlterTopicResponse {
        pub status: Status,
    }
}
