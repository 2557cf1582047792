//! Raw HTTP/1.1 against the broker's opt-in listeners (`--metrics`,
//! `--ui`): the bytes are the test's, so malformed requests can be sent.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends `request` as it is and returns the whole answer (the server
/// closes the connection after it).
pub fn http(addr: &str, request: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).expect("connect to the HTTP listener");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    s.write_all(request).expect("send request");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}
