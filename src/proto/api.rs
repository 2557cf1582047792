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
    AddPartitionsToTxn = 25, "AddPartitionsToTxn";
    EndTxn = 26, "EndTxn";
    ListTransactions = 27, "ListTransactions";
    DescribeTransactions = 28, "DescribeTransactions";
    DeleteOffsets = 30, "DeleteOffsets";
    ElectLeaders = 31, "ElectLeaders";
    DescribeBrokerConfigs = 32, "DescribeBrokerConfigs";
    AlterBrokerConfigs = 33, "AlterBrokerConfigs";
    DescribeLogDirs = 34, "DescribeLogDirs";
    DescribeProducers = 35, "DescribeProducers";
    WriteTxnMarkers = 36, "WriteTxnMarkers";
    AllowTxnWrites = 37, "AllowTxnWrites";
    CommitTxnOffsets = 38, "CommitTxnOffsets";
    AddOffsetsToTxn = 39, "AddOffsetsToTxn";
    TxnOffsetCommit = 40, "TxnOffsetCommit";
}

impl ApiKey {
    /// The newest version of each API; a request for a later one is
    /// answered with UNSUPPORTED_VERSION. Clients send the newest, and the
    /// broker still reads every older one.
    pub fn max_version(self) -> u16 {
        match self {
            // v1: isolation level, last stable offset, aborted transactions.
            ApiKey::Fetch => 1,
            // v1: transactional id and transaction timeout.
            ApiKey::InitProducerId => 1,
            // v1: key type (a group or a transactional id).
            ApiKey::FindCoordinator => 1,
            _ => 0,
        }
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
