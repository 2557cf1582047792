//! JSON values to SQLite values and back.
use base64::Engine as _;
use rusqlite::types::{Value, ValueRef};

/// A JSON value as a column value: numbers and strings as themselves,
/// booleans as 0/1, objects and arrays as their JSON text.
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(i64::from(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

/// A record key as a column value: a key that is a JSON integer is stored
/// as an INTEGER (so `WHERE id = 5` finds it), other UTF-8 as TEXT, other
/// bytes as a BLOB.
pub fn from_key(key: &[u8]) -> Value {
    match std::str::from_utf8(key) {
        Ok(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(serde_json::Value::Number(n)) if n.is_i64() => {
                Value::Integer(n.as_i64().unwrap_or_default())
            }
            _ => Value::Text(s.to_string()),
        },
        Err(_) => Value::Blob(key.to_vec()),
    }
}

/// A column value as JSON (BLOBs as base64 text).
pub fn to_json(v: ValueRef<'_>) -> serde_json::Value {
    match v {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => base64::engine::general_purpose::STANDARD.encode(b).into(),
    }
}

/// A column value as a record key: text and numbers as their text.
pub fn to_key(v: ValueRef<'_>) -> Vec<u8> {
    match v {
        ValueRef::Null => Vec::new(),
        ValueRef::Integer(i) => i.to_string().into_bytes(),
        ValueRef::Real(f) => f.to_string().into_bytes(),
        ValueRef::Text(t) => t.to_vec(),
        ValueRef::Blob(b) => b.to_vec(),
    }
}
