//! The Kafka wire protocol adapter (placeholder until it lands): for now a
//! Kafka client is told, in Kafka's own framing, that the API is unsupported.
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::net::TcpStream;

use super::shutdown::Shutdown;
use super::state::Broker;

pub async fn serve(
    _broker: Arc<Broker>,
    _socket: TcpStream,
    peer: SocketAddr,
    _buf: BytesMut,
    _shutdown: Shutdown,
) {
    tracing::info!(%peer, "closing connection: not a strom client and the Kafka protocol is not enabled yet");
}
