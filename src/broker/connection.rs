//! One client connection: read the first four bytes, then hand the socket to
//! the native protocol or to the Kafka protocol.
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::native;
use super::shutdown::Shutdown;
use super::state::Broker;
use crate::proto::frame::PREAMBLE_MAGIC;

pub async fn handle(
    broker: Arc<Broker>,
    mut socket: TcpStream,
    peer: SocketAddr,
    mut shutdown: Shutdown,
) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    while buf.len() < 4 {
        tokio::select! {
            r = socket.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            _ = shutdown.recv() => return,
        }
    }
    if buf[..4] == PREAMBLE_MAGIC {
        native::serve(broker, socket, peer, buf, shutdown).await;
    } else {
        super::kafka::serve(broker, socket, peer, buf, shutdown).await;
    }
}
