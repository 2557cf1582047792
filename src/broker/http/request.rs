//! Reading one request: the head (request line and headers) up to a
//! limit, then a body of the `Content-Length` it announced, refused before
//! reading when over the limit.
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::percent_decode;

/// Why a request was not read.
#[derive(Debug)]
pub enum ReadError {
    HeadTooLarge,
    BodyTooLarge(usize),
    Timeout,
    Bad(&'static str),
    Io(std::io::Error),
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The path, not decoded (route segments are decoded by the router).
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
pub struct Request {
    pub head: Head,
    pub body: Vec<u8>,
}

/// Parses a request head (everything before the blank line).
pub fn parse_head(head: &[u8]) -> Result<Head, &'static str> {
    let text = std::str::from_utf8(head).map_err(|_| "request is not UTF-8")?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or_default();
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("malformed request line");
    };
    if !matches!(version, "HTTP/1.1" | "HTTP/1.0") {
        return Err("unsupported HTTP version");
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("malformed method");
    }
    if !target.starts_with('/') {
        return Err("malformed request target");
    }
    let mut headers = Vec::new();
    for header in lines {
        let Some((k, v)) = header.split_once(':') else {
            return Err("malformed header line");
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut pairs = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match (percent_decode(k), percent_decode(v)) {
            (Some(k), Some(v)) => pairs.push((k, v)),
            _ => return Err("malformed query string"),
        }
    }
    Ok(Head {
        method: method.to_string(),
        path: path.to_string(),
        query: pairs,
        headers,
    })
}

/// Reads until the end of the request head; `None` when the client sent
/// more than `max` bytes without ending it. Returns the head and what
/// was read past it (the start of the body).
async fn read_head(
    socket: &mut TcpStream,
    max: usize,
) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            buf.truncate(end);
            return Ok(Some((buf, rest)));
        }
        if buf.len() > max {
            return Ok(None);
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One request, its head at most `max_head` bytes and its body at most
/// `max_body`, all within `timeout`.
pub async fn read_request(
    socket: &mut TcpStream,
    max_head: usize,
    max_body: usize,
    timeout: Duration,
) -> Result<Request, ReadError> {
    let read = async {
        let Some((head, mut body)) = read_head(socket, max_head).await.map_err(ReadError::Io)?
        else {
            return Err(ReadError::HeadTooLarge);
        };
        let head = parse_head(&head).map_err(ReadError::Bad)?;
        if head.header("transfer-encoding").is_some() {
            return Err(ReadError::Bad(
                "chunked bodies are not accepted; send Content-Length",
            ));
        }
        let len = match head.header("content-length") {
            None => 0,
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| ReadError::Bad("malformed Content-Length"))?,
        };
        // Checked before reading (or allocating for) the body.
        if len > max_body {
            return Err(ReadError::BodyTooLarge(max_body));
        }
        if body.len() > len {
            body.truncate(len);
        }
        let have = body.len();
        body.resize(len, 0);
        socket
            .read_exact(&mut body[have..])
            .await
            .map_err(ReadError::Io)?;
        Ok(Request { head, body })
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(ReadError::Timeout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_with_query_and_headers() {
        let h = parse_head(
            b"GET /api/x?offset=5&filter=.a%20%3E%201 HTTP/1.1\r\nHost: y\r\nContent-Length: 3",
        )
        .unwrap();
        assert_eq!(h.method, "GET");
        assert_eq!(h.path, "/api/x");
        assert_eq!(h.query("offset"), Some("5"));
        assert_eq!(h.query("filter"), Some(".a > 1"));
        assert_eq!(h.header("content-length"), Some("3"));
        assert!(parse_head(b"GARBAGE").is_err());
        assert!(parse_head(b"GET / HTTP/9").is_err());
        assert!(parse_head(b"GET / HTTP/1.1\r\nno colon").is_err());
        assert!(parse_head(b"GET /?a=%zz HTTP/1.1").is_err());
        assert!(parse_head(&[0xff, 0xfe]).is_err());
    }
}
