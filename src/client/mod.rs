//! The async client library (tokio) and its blocking facade.
//!
//! [`Client`] owns bootstrap, metadata and connections; [`Producer`],
//! [`Consumer`] and [`Admin`] are built on it. The CLI uses
//! [`blocking`], which owns a small runtime.
pub mod admin;
pub mod assignor;
pub mod backoff;
pub mod blocking;
pub mod broker_configs;
pub mod connection;
pub mod consumer;
pub mod dead_letter;
pub mod envelope;
pub mod error;
pub mod group;
pub mod group_admin;
pub mod group_config;
mod group_heartbeat;
pub mod isolation;
pub use crate::jq;
pub mod metadata;
pub mod partitioner;
pub mod producer;
pub mod transaction;

pub use admin::{Admin, NewTopic, OffsetSpec, PartitionOffset, TopicAlteration, TopicDescription};
pub use connection::Connection;
pub use consumer::{Consumer, ConsumerConfig, ConsumerRecord, FetchedPartition, StartOffset};
pub use error::ClientError;
pub use group::{BlockingGroupConsumer, GroupConsumer};
pub use group_admin::{GroupAdmin, GroupInfo, GroupSummary};
pub use group_config::{GroupConfig, OffsetReset};
pub use isolation::IsolationLevel;
pub use metadata::{Client, ClientConfig, Lane, PartitionInfo, TopicInfo, DEFAULT_BOOTSTRAP};
pub use producer::{
    Acks, BatchReport, DeliveryCallback, DeliveryFuture, Producer, ProducerConfig, ProducerRecord,
    RecordMetadata,
};
