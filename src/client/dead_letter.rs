//! The one convention for dead-letter records, shared by `strom stream`
//! and the connectors: the failed record's key, value and headers, plus
//! headers saying why it failed and where it was read.
use bytes::Bytes;

use crate::record::Header;

/// Why the record failed (always present).
pub const HEADER_ERROR: &str = "strom.error";
/// Where the record was read: topic, partition and offset.
pub const HEADER_TOPIC: &str = "strom.source.topic";
pub const HEADER_PARTITION: &str = "strom.source.partition";
pub const HEADER_OFFSET: &str = "strom.source.offset";

/// Where a failed record was read.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
}

/// Appends the error header, `extra` headers, then the origin headers.
pub fn add_headers(
    headers: &mut Vec<Header>,
    error: &str,
    extra: &[(&str, Vec<u8>)],
    origin: Option<Origin<'_>>,
) {
    let mut add = |k: &str, v: Vec<u8>| {
        headers.push(Header {
            key: k.to_string(),
            value: Some(Bytes::from(v)),
        })
    };
    add(HEADER_ERROR, error.as_bytes().to_vec());
    for (k, v) in extra {
        add(k, v.clone());
    }
    if let Some(o) = origin {
        add(HEADER_TOPIC, o.topic.as_bytes().to_vec());
        add(HEADER_PARTITION, o.partition.to_string().into_bytes());
        add(HEADER_OFFSET, o.offset.to_string().into_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_error_then_origin() {
        let mut h = Vec::new();
        let origin = Origin {
            topic: "t",
            partition: 2,
            offset: 7,
        };
        add_headers(&mut h, "bad", &[], Some(origin));
        let keys: Vec<&str> = h.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(
            keys,
            [HEADER_ERROR, HEADER_TOPIC, HEADER_PARTITION, HEADER_OFFSET]
        );
        assert_eq!(h[2].value.as_deref(), Some(&b"2"[..]));
    }
}
