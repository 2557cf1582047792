//! Native API keys. Each has its own request/response pair in `messages/`.
use std::fmt;

macro_rules! api_keys {
    ($($name:ident = $code:expr, $label:expr;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum ApiKey { $($name = $code),* }

        impl ApiKey {
            pub fn from_code(code: u16) -> Option<ApiKey> {
                match code { $($code => Some(ApiKey::$name),)* _ => None }
            }
            pub fn name(self) -> &'static str {
                match self { $(ApiKey::$name => $label),* }
            }
            pub const ALL: &'static [ApiKey] = &[$(ApiKey::$name),*];
        }
    };
}

api_keys! {
    Produce = 0, "Produce";
    Fetch = 1, "Fetch";
    ListOffsets = 2, "ListOffsets";
    Metadata = 3, "Metadata";
    CreateTopics = 4, "CreateTopics";
    DeleteTopics = 5, "DeleteTopics";
    DescribeConfigs = 6, "DescribeConfigs";
    AlterTopic = 7, "AlterTopic";
    FindCoordinator = 10, "FindCoordinator";
    JoinGroup = 11, "JoinGroup";
    SyncGroup = 12, "SyncGroup";
    Heartbeat = 13, "Heartbeat";
    LeaveGroup = 14, "LeaveGroup";
    OffsetCommit = 15, "OffsetCommit";
    OffsetFetch = 16, "OffsetFetch";
    ListGroups = 17, "ListGroups";
    DescribeGroups = 18, "DescribeGroups";
    DeleteGroups = 19, "DeleteGroups";
    ReplicaFetch = 20, "ReplicaFetch";
    OffsetForLeaderEpoch = 21, "OffsetForLeaderEpoch";
    InitProducerId = 22, "InitProducerId";
    DescribeBroker = 23, "DescribeBroker";
    DeleteRecords = 24, "DeleteRecords";
    DeleteOffsets = 30, "DeleteOffsets";
    ElectLeaders = 31, "ElectLeaders";
}

impl ApiKey {
    /// Every native API is at version 0 today; a request for any other
    /// version is answered with UNSUPPORTED_VERSION.
    pub fn max_version(self) -> u16 {
        0
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
