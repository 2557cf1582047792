//! A broker-to-broker connection speaking the native protocol, one request
//! at a time (a fetcher waits for each answer before the next request).
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::proto::codec::from_bytes;
use crate::proto::frame::{FrameHeader, ResponseHeader, PREAMBLE};
use crate::proto::{ApiKey, Wire};

/// Largest response a peer accepts (fetches are bounded well below).
const MAX_RESPONSE: usize = 256 << 20;

pub struct Peer {
    stream: TcpStream,
    next_cid: i32,
    buf: BytesMut,
}

impl Peer {
    pub async fn connect(addr: &str, timeout: Duration) -> std::io::Result<Peer> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out")
            })??;
        let _ = stream.set_nodelay(true);
        let mut peer = Peer {
            stream,
            next_cid: 0,
            buf: BytesMut::with_capacity(64 * 1024),
        };
        peer.stream.write_all(&PREAMBLE).await?;
        Ok(peer)
    }

    /// Sends one request and reads its response, within `timeout`.
    pub async fn call<Req: Wire, Resp: Wire>(
        &mut self,
        api: ApiKey,
        req: &Req,
        timeout: Duration,
    ) -> std::io::Result<Resp> {
        match tokio::time::timeout(timeout, self.call_inner(api, req)).await {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("{api} timed out"),
            )),
        }
    }

    async fn call_inner<Req: Wire, Resp: Wire>(
        &mut self,
        api: ApiKey,
        req: &Req,
    ) -> std::io::Result<Resp> {
        self.next_cid = self.next_cid.wrapping_add(1);
        let cid = self.next_cid;
        let mut body = BytesMut::new();
        req.encode(&mut body);
        let mut out = BytesMut::new();
        FrameHeader {
            api_key: api as u16,
            api_version: 0,
            correlation_id: cid,
        }
        .write_request(&body, &mut out);
        self.stream.write_all(&out).await?;
        let mut frame = self.read_frame().await?;
        let header = ResponseHeader::parse(&mut frame).map_err(std::io::Error::other)?;
        if header.correlation_id != cid {
            return Err(std::io::Error::other(format!(
                "{api}: response for correlation id {} while waiting for {cid}",
                header.correlation_id
            )));
        }
        from_bytes(frame).map_err(|e| std::io::Error::other(format!("{api} response: {e}")))
    }

    async fn read_frame(&mut self) -> std::io::Result<BytesMut> {
        while self.buf.len() < 4 {
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        let len = u32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]) as usize;
        if len > MAX_RESPONSE {
            return Err(std::io::Error::other(format!(
                "response frame of {len} bytes is over the {MAX_RESPONSE} limit"
            )));
        }
        self.buf.reserve((4 + len).saturating_sub(self.buf.len()));
        while self.buf.len() < 4 + len {
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        let mut frame = self.buf.split_to(4 + len);
        frame.advance(4);
        Ok(frame)
    }
}

/// One connection per broker address for occasional calls (the
/// transaction coordinator's markers, leaves and offset commits), opened on
/// first use and dropped after an error so the next call reconnects.
/// Calls to one broker take turns; calls to different brokers do not wait
/// on each other.
#[derive(Default)]
pub struct PeerPool {
    peers: std::sync::Mutex<
        std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<Option<Peer>>>>,
    >,
}

impl PeerPool {
    pub async fn call<Req: Wire, Resp: Wire>(
        &self,
        addr: &str,
        api: ApiKey,
        req: &Req,
        timeout: Duration,
    ) -> std::io::Result<Resp> {
        let slot = {
            let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
            peers.entry(addr.to_string()).or_default().clone()
        };
        let mut peer = slot.lock().await;
        if peer.is_none() {
            *peer = Some(Peer::connect(addr, timeout.min(Duration::from_secs(2))).await?);
        }
        let Some(p) = peer.as_mut() else {
            return Err(std::io::ErrorKind::NotConnected.into());
        };
        let result = p.call(api, req, timeout).await;
        if result.is_err() {
            *peer = None;
        }
        result
    }
}
