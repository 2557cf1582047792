//! `/api/topics/{t}/partitions/{p}/messages`: records of one partition
//! from an offset or a timestamp, optionally filtered with the CLI's jq
//! expressions (`consume --filter`), read from this broker's replica up to
//! the high watermark. The work per request is bounded (records returned,
//! bytes scanned), so a filter that matches nothing cannot pin the broker.
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use serde_json::{json, Value};

use super::topics::refused;
use super::Answer;
use crate::broker::http::Head;
use crate::broker::state::Broker;
use crate::jq::{Envelope, Pipeline};
use crate::record::{self, BatchHeader};

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;
/// Most bytes of log one request scans looking for matches.
const MAX_SCAN_BYTES: usize = 16 << 20;
const READ_CHUNK: usize = 1 << 20;

/// Bytes as the page shows them: text when UTF-8, base64 otherwise.
fn data(b: Option<&Bytes>) -> Value {
    match b {
        None => Value::Null,
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => json!({ "text": s }),
            Err(_) => json!({ "base64": B64.encode(b) }),
        },
    }
}

fn number(head: &Head, name: &str) -> Result<Option<i64>, Answer> {
    head.query(name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| Answer::bad(format!("{name} must be an integer, not {v:?}")))
        })
        .transpose()
}

pub(crate) fn messages(broker: &Broker, topic: &str, partition: &str, head: &Head) -> Answer {
    let Ok(partition) = partition.parse::<i32>() else {
        return Answer::bad(format!("partition must be a number, not {partition:?}"));
    };
    let (offset, timestamp, limit) = match (
        number(head, "offset"),
        number(head, "timestamp"),
        number(head, "limit"),
    ) {
        (Ok(o), Ok(t), Ok(l)) => (o, t, l),
        (Err(a), _, _) | (_, Err(a), _) | (_, _, Err(a)) => return a,
    };
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(l) if l >= 1 => (l as usize).min(MAX_LIMIT),
        Some(_) => return Answer::bad("limit must be at least 1"),
    };
    let filter = match head.query("filter").filter(|f| !f.trim().is_empty()) {
        None => None,
        Some(code) => match Pipeline::new(Some(code), None, None) {
            Ok(p) => p,
            Err(e) => return Answer::bad(e),
        },
    };
    let part = match broker.topics.partition(topic, partition) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    let (start, hw, _) = part.offsets();
    let from = match (offset, timestamp) {
        (Some(_), Some(_)) => return Answer::bad("give offset or timestamp, not both"),
        (Some(o), None) => o.max(start),
        (None, Some(ts)) => match part.log().offset_for_timestamp(ts) {
            Ok(Some((o, _))) => o,
            Ok(None) => hw,
            Err(e) => return refused(e.into()),
        },
        // The newest `limit` records.
        (None, None) => (hw - limit as i64).max(start),
    };
    let mut records = Vec::new();
    let (mut next, mut scanned, mut filter_errors) = (from, 0usize, 0usize);
    let mut out = Vec::new();
    'scan: while next < hw && records.len() < limit && scanned < MAX_SCAN_BYTES {
        let mut buf = BytesMut::new();
        if let Err(e) = part.read_into(next, READ_CHUNK, &mut buf) {
            return refused(e);
        }
        if buf.is_empty() {
            break;
        }
        scanned += buf.len();
        let buf: Bytes = buf.freeze();
        let mut pos = 0usize;
        for batch in record::batches(&buf) {
            let Ok(batch) = batch else { break 'scan };
            let bytes = buf.slice(pos..pos + batch.len());
            pos += batch.len();
            let Ok(header) = BatchHeader::parse(&bytes) else {
                break 'scan;
            };
            if !header.is_control() {
                let decoded = match record::decode_records(&bytes) {
                    Ok(d) => d,
                    Err(e) => return Answer::error("500 Internal Server Error", e.to_string()),
                };
                for r in decoded {
                    if r.offset < next || r.offset >= hw {
                        continue;
                    }
                    if let Some(f) = &filter {
                        let env = Envelope {
                            topic,
                            partition: Some(partition),
                            offset: Some(r.offset),
                            timestamp: Some(r.timestamp),
                            key: r.key.as_ref(),
                            value: r.value.as_ref(),
                            headers: &r.headers,
                        };
                        out.clear();
                        match f.apply(&env, &mut out) {
                            Ok(()) if out.is_empty() => continue,
                            Ok(()) => {}
                            Err(_) => {
                                filter_errors += 1;
                                continue;
                            }
                        }
                    }
                    records.push(json!({
                        "offset": r.offset,
                        "timestamp": r.timestamp,
                        "key": data(r.key.as_ref()),
                        "value": data(r.value.as_ref()),
                        "headers": r.headers.iter().map(|h| json!({ "key": h.key, "value": data(h.value.as_ref()) })).collect::<Vec<_>>(),
                    }));
                    if records.len() == limit {
                        next = r.offset + 1;
                        break 'scan;
                    }
                }
            }
            next = next.max(header.next_offset());
        }
    }
    Answer::ok(json!({
        "topic": topic,
        "partition": partition,
        "log_start_offset": start,
        "high_watermark": hw,
        "from": from,
        // Where to continue (the page's "next" button).
        "next_offset": next.min(hw),
        "records": records,
        "filter_errors": filter_errors,
    }))
}
