//! Errors of the group coordinator. Each maps to Kafka's error code so both
//! protocol adapters answer the same way; the `Display` text is sent to
//! clients, so it says what happened and what the client should do.

/// A failure of the `__consumer_offsets` storage behind [`super::GroupStore`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("this broker no longer leads partition {0} of __consumer_offsets")]
    NotLeader(i32),
    #[error("partition {partition} of __consumer_offsets is unavailable: {reason}")]
    Unavailable { partition: i32, reason: String },
    #[error("__consumer_offsets storage error: {0}")]
    Io(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GroupError {
    #[error("the group coordinator is not available; find the coordinator again and retry")]
    CoordinatorNotAvailable,
    #[error("this broker is not the coordinator for the group; find the coordinator again")]
    NotCoordinator,
    #[error("generation {given} is not the current generation of the group; rejoin the group")]
    IllegalGeneration { given: i32 },
    #[error(
        "the member's protocol type or protocols are not compatible with the group's \
         (the group uses a protocol none of them support)"
    )]
    InconsistentGroupProtocol,
    #[error("invalid group id: it must not be empty")]
    InvalidGroupId,
    #[error("the member id is not known to the group; rejoin with an empty member id")]
    UnknownMemberId,
    #[error("session timeout {given} ms is outside the broker's allowed range {min}..={max} ms")]
    InvalidSessionTimeout { given: i32, min: i32, max: i32 },
    #[error("the group is rebalancing; rejoin the group")]
    RebalanceInProgress,
    #[error("offset metadata of {size} bytes is larger than the limit of {max} bytes")]
    OffsetMetadataTooLarge { size: usize, max: usize },
    #[error("the group still has active members; only an empty group can be deleted")]
    NonEmptyGroup,
    #[error("the group does not exist")]
    GroupIdNotFound,
    #[error("the group has reached its maximum size of {0} members")]
    GroupMaxSizeReached(usize),
    #[error("the group requires a known member id: rejoin with member id '{0}'")]
    MemberIdRequired(String),
    #[error(
        "another member with the same group.instance.id joined the group; this member is fenced"
    )]
    FencedInstanceId,
    #[error(
        "the group's active members subscribe to topic '{0}'; stop them (or unsubscribe) before deleting its offsets"
    )]
    GroupSubscribedToTopic(String),
    #[error("unexpected server error: {0}")]
    UnknownServerError(String),
}

impl GroupError {
    /// Kafka's numeric error code for this error.
    pub fn kafka_code(&self) -> i16 {
        use GroupError::*;
        match self {
            CoordinatorNotAvailable => 15,
            NotCoordinator => 16,
            IllegalGeneration { .. } => 22,
            InconsistentGroupProtocol => 23,
            InvalidGroupId => 24,
            UnknownMemberId => 25,
            InvalidSessionTimeout { .. } => 26,
            RebalanceInProgress => 27,
            OffsetMetadataTooLarge { .. } => 12,
            NonEmptyGroup => 68,
            GroupIdNotFound => 69,
            GroupMaxSizeReached(_) => 81,
            MemberIdRequired(_) => 79,
            FencedInstanceId => 82,
            GroupSubscribedToTopic(_) => 86,
            UnknownServerError(_) => -1,
        }
    }
}

impl From<StoreError> for GroupError {
    /// Kafka maps append failures the same way: a lost leadership sends the
    /// client to find the new coordinator, a transient outage makes it retry.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotLeader(_) => GroupError::NotCoordinator,
            StoreError::Unavailable { .. } => GroupError::CoordinatorNotAvailable,
            StoreError::Io(msg) => GroupError::UnknownServerError(msg),
        }
    }
}
