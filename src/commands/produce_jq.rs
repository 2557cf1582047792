//! `produce --filter/--jq`: each input record, as an envelope, goes
//! through the jq pipeline, and what comes out is sent.
use std::io::{self, Write};

use bytes::Bytes;

use super::UsageError;
use crate::cli::args::JqArgs;
use crate::client::blocking::BlockingProducer;
use crate::client::jq::{Envelope, Output, Pipeline};
use crate::client::{ClientError, ProducerRecord};
use crate::record::Header;

/// `--filter`/`--jq`: what each input record becomes before it is sent.
pub struct Expressions {
    pipeline: Pipeline,
    /// Records whose expression failed (reported, not sent).
    pub failed: u64,
    outputs: Vec<Output>,
}

impl Expressions {
    /// None without --filter/--jq; a bad expression is a usage error.
    pub fn new(args: &JqArgs) -> anyhow::Result<Option<Expressions>> {
        Ok(
            Pipeline::new(args.filter.as_deref(), args.jq.as_deref(), None)
                .map_err(UsageError::new)?
                .map(|pipeline| Expressions {
                    pipeline,
                    failed: 0,
                    outputs: Vec::new(),
                }),
        )
    }

    /// Sends what `rec` becomes. `-p` wins over an output's "partition",
    /// which counts only with --keep-partition, as for --input json.
    pub fn send(
        &mut self,
        producer: &BlockingProducer,
        rec: &ProducerRecord<'_>,
        fixed_partition: Option<i32>,
        keep_partition: bool,
        line: u64,
    ) -> Result<(), ClientError> {
        let key = rec.key.map(Bytes::copy_from_slice);
        let value = rec.value.map(Bytes::copy_from_slice);
        let headers: Vec<Header> = rec
            .headers
            .iter()
            .map(|(k, v)| Header {
                key: k.to_string(),
                value: v.map(Bytes::copy_from_slice),
            })
            .collect();
        let env = Envelope {
            topic: rec.topic,
            partition: rec.partition,
            offset: None,
            timestamp: rec.timestamp,
            key: key.as_ref(),
            value: value.as_ref(),
            headers: &headers,
        };
        self.outputs.clear();
        if let Err(e) = self.pipeline.apply(&env, &mut self.outputs) {
            self.failed += 1;
            let _ = writeln!(
                io::stderr().lock(),
                "warning: input line {line} not sent: {e}"
            );
            return Ok(());
        }
        for o in &self.outputs {
            let hs: Vec<(&str, Option<&[u8]>)> = o
                .headers
                .iter()
                .map(|h| (h.key.as_str(), h.value.as_deref()))
                .collect();
            producer.send(&ProducerRecord {
                topic: rec.topic,
                partition: fixed_partition.or(o.partition.filter(|_| keep_partition)),
                key: o.key.as_deref(),
                value: o.value.as_deref(),
                headers: &hs,
                timestamp: o.timestamp,
            })?;
        }
        Ok(())
    }
}
