//! The framing loop of one Kafka connection: i32 size-prefixed frames in,
//! replies out in request order.
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{dispatch, Reply};
use crate::broker::shutdown::Shutdown;
use crate::broker::state::Broker;

/// How many requests one connection may have started but not answered.
/// librdkafka pipelines up to 1,000,000 by default; a bound here just
/// pushes back on the socket.
const MAX_IN_FLIGHT: usize = 64;

pub async fn serve(
    broker: Arc<Broker>,
    socket: TcpStream,
    peer: SocketAddr,
    mut buf: BytesMut,
    mut shutdown: Shutdown,
) {
    // Small responses (heartbeats, acks) must not wait for Nagle.
    let _ = socket.set_nodelay(true);
    let (mut rd, wr) = socket.into_split();
    let (tx, rx) = mpsc::channel::<Reply>(MAX_IN_FLIGHT);
    let writer = tokio::spawn(write_loop(wr, rx, peer));
    let max = broker.config.max_frame_bytes;

    'conn: while !shutdown.is_shutdown() {
        while buf.len() >= 4 {
            let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
            // Checked before anything is allocated for the frame; Kafka
            // closes such connections too (the stream cannot be resynced).
            let Ok(size) = usize::try_from(size) else {
                tracing::info!(%peer, size, "closing Kafka connection: negative frame size");
                break 'conn;
            };
            if size > max {
                tracing::info!(%peer, size, max, "closing Kafka connection: frame larger than max frame bytes");
                break 'conn;
            }
            if buf.len() < 4 + size {
                buf.reserve(4 + size - buf.len());
                break;
            }
            let mut frame = buf.split_to(4 + size);
            frame.advance(4);
            let reply = dispatch::dispatch(&broker, frame.freeze(), peer).await;
            let close = matches!(reply, Reply::Close);
            if tx.send(reply).await.is_err() || close {
                break 'conn;
            }
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) => {
                    if !buf.is_empty() {
                        tracing::debug!(%peer, bytes = buf.len(), "Kafka connection closed inside a frame");
                    }
                    break 'conn;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "Kafka connection read failed");
                    break 'conn;
                }
            },
            _ = shutdown.recv() => break 'conn,
        }
    }
    drop(tx);
    let _ = writer.await;
}

async fn write_loop(wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Reply>, peer: SocketAddr) {
    let mut wr = BufWriter::with_capacity(256 * 1024, wr);
    while let Some(reply) = rx.recv().await {
        let bytes = match reply {
            Reply::Now(b) => b,
            Reply::Later(f) => match f.await {
                Some(b) => b,
                None => break,
            },
            Reply::None => continue,
            Reply::Close => break,
        };
        if let Err(e) = wr.write_all(&bytes).await {
            tracing::debug!(%peer, error = %e, "Kafka connection write failed");
            return;
        }
        // Flush when nothing else is queued, so pipelined answers share
        // one syscall.
        if rx.is_empty() && wr.flush().await.is_err() {
            return;
        }
    }
    let _ = wr.flush().await;
    let _ = wr.shutdown().await;
}
