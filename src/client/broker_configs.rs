//! Dynamic broker configs from the client side: the broker-wide defaults
//! of topic configs under Kafka's broker names, for one broker or for the
//! cluster (`strom brokers configs` and `brokers alter-configs`).
use super::admin::{check, Admin};
use super::error::Result;
use super::metadata::Lane;
use crate::proto::messages::broker_configs::*;
use crate::proto::messages::topics::ConfigEntry;
use crate::proto::ApiKey;

/// Whose values a request reads or changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerScope {
    /// Every broker (Kafka's `--entity-default`).
    ClusterDefault,
    Broker(i32),
}

impl BrokerScope {
    fn wire(self) -> i32 {
        match self {
            BrokerScope::ClusterDefault => CLUSTER_DEFAULT,
            BrokerScope::Broker(id) => id,
        }
    }
}

/// One broker config and where its value comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BrokerConfigSetting {
    pub name: String,
    pub value: String,
    pub source: &'static str,
}

fn source_name(code: i8) -> &'static str {
    match code {
        SOURCE_BROKER => "broker",
        SOURCE_CLUSTER_DEFAULT => "cluster-default",
        SOURCE_STATIC => "static",
        SOURCE_DEFAULT => "default",
        _ => "unknown",
    }
}

impl Admin {
    /// A broker's values are asked of that broker, so the `static` ones
    /// are its own `strom serve` flags; the cluster default of any broker.
    pub async fn describe_broker_configs(
        &self,
        scope: BrokerScope,
    ) -> Result<Vec<BrokerConfigSetting>> {
        let conn = match scope {
            BrokerScope::Broker(id) => self.client().connection(id, Lane::Default).await?,
            BrokerScope::ClusterDefault => self.client().bootstrap_connection().await?,
        };
        let req = DescribeBrokerConfigsRequest {
            broker_id: scope.wire(),
        };
        let resp: DescribeBrokerConfigsResponse = conn
            .call(
                ApiKey::DescribeBrokerConfigs,
                &req,
                self.client().request_timeout(),
            )
            .await?;
        check(&resp.status)?;
        Ok(resp
            .configs
            .into_iter()
            .map(|c| BrokerConfigSetting {
                name: c.name,
                value: c.value,
                source: source_name(c.source),
            })
            .collect())
    }

    /// Sets and deletes values of `scope` (the rest are kept). They take
    /// effect at once on every topic that does not override them.
    pub async fn alter_broker_configs(
        &self,
        scope: BrokerScope,
        set: Vec<(String, String)>,
        delete: Vec<String>,
        validate_only: bool,
    ) -> Result<()> {
        let req = AlterBrokerConfigsRequest {
            broker_id: scope.wire(),
            set_configs: set
                .into_iter()
                .map(|(key, value)| ConfigEntry { key, value })
                .collect(),
            delete_configs: delete,
            validate_only,
        };
        let conn = self.client().bootstrap_connection().await?;
        let resp: AlterBrokerConfigsResponse = conn
            .call(
                ApiKey::AlterBrokerConfigs,
                &req,
                self.client().request_timeout(),
            )
            .await?;
        check(&resp.status)
    }
}
