//! The built-in expression processor (`--jq`, `--filter`, `--key-jq`): runs
//! the pipeline of `client::jq` on every record of a task's batch, in
//! process, then hands what it made to the child processor if there is one.
//!
//! A record whose expression fails is rejected on its own (the runner
//! applies `--on-error` to it alone); the rest of the batch goes on.
use super::{Failure, Processor, Record};
use crate::client::jq::{Envelope, Output, Pipeline};

pub struct JqProcessor {
    pipeline: Pipeline,
    /// Honour an output envelope's `"partition"`.
    keep_partition: bool,
    /// The child after the expressions, if any.
    then: Option<Box<dyn Processor>>,
    rejected: Vec<(usize, Failure)>,
    scratch: Vec<Output>,
}

impl JqProcessor {
    pub fn new(
        pipeline: Pipeline,
        keep_partition: bool,
        then: Option<Box<dyn Processor>>,
    ) -> JqProcessor {
        JqProcessor {
            pipeline,
            keep_partition,
            then,
            rejected: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

impl Processor for JqProcessor {
    fn process(&mut self, batch: &[Record]) -> Result<Vec<Record>, Failure> {
        self.rejected.clear();
        let mut outputs = Vec::with_capacity(batch.len());
        for (i, r) in batch.iter().enumerate() {
            let env = Envelope {
                topic: r.source.as_ref().map_or("", |s| &s.topic),
                partition: r.source.as_ref().map(|s| s.partition),
                offset: r.source.as_ref().map(|s| s.offset),
                timestamp: r.timestamp,
                key: r.key.as_ref(),
                value: r.value.as_ref(),
                headers: &r.headers,
            };
            self.scratch.clear();
            if let Err(e) = self.pipeline.apply(&env, &mut self.scratch) {
                self.rejected.push((
                    i,
                    Failure {
                        error: e.to_string(),
                        ..Failure::default()
                    },
                ));
                continue;
            }
            outputs.extend(self.scratch.drain(..).map(|o| Record {
                key: o.key,
                value: o.value,
                headers: o.headers,
                timestamp: o.timestamp,
                partition: if self.keep_partition {
                    o.partition
                } else {
                    None
                },
                // A child after us sees where the record was read.
                source: r.source.clone(),
            }));
        }
        match &mut self.then {
            Some(child) if !outputs.is_empty() => child.process(&outputs),
            _ => Ok(outputs),
        }
    }

    fn take_rejected(&mut self) -> Vec<(usize, Failure)> {
        std::mem::take(&mut self.rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::Source;
    use bytes::Bytes;

    fn rec(offset: i64, value: &'static str) -> Record {
        Record {
            value: Some(Bytes::from_static(value.as_bytes())),
            timestamp: Some(7),
            source: Some(Source {
                topic: "in".into(),
                partition: 1,
                offset,
            }),
            ..Record::default()
        }
    }

    #[test]
    fn rejects_only_the_failing_record() {
        let p = Pipeline::new(None, Some(".value |= (fromjson | .n | tostring)"), None)
            .unwrap()
            .unwrap();
        let mut jq = JqProcessor::new(p, false, None);
        let out = jq
            .process(&[rec(0, r#"{"n":1}"#), rec(1, "bad"), rec(2, r#"{"n":3}"#)])
            .unwrap();
        let values: Vec<_> = out.iter().map(|r| r.value.clone().unwrap()).collect();
        assert_eq!(values, vec![Bytes::from("1"), Bytes::from("3")]);
        assert_eq!(out[1].timestamp, Some(7));
        let rejected = jq.take_rejected();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].0, 1);
        assert!(rejected[0].1.error.starts_with("--jq: "), "{:?}", rejected);
        assert!(jq.take_rejected().is_empty());
    }

    #[test]
    fn the_expression_sees_the_source() {
        let p = Pipeline::new(
            None,
            Some(r#".value = "\(.topic):\(.partition):\(.offset)""#),
            None,
        )
        .unwrap()
        .unwrap();
        let mut jq = JqProcessor::new(p, false, None);
        let out = jq.process(&[rec(4, "x")]).unwrap();
        assert_eq!(out[0].value.as_deref(), Some(&b"in:1:4"[..]));
    }
}
