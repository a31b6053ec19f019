//! The `NewBlock` subscription on a node's WebSocket (`ws://host:26657/websocket`): a thread
//! that tells the watch as soon as a block is committed, so it polls then instead of waiting
//! for the next poll. Polling goes on regardless; the subscription only makes it prompt.
//!
//! The thread reconnects after a failure (waiting 1 s, doubling to 10 s) and reports each
//! change of state once.

use super::rpc::unwrap_envelope;
use serde::Deserialize;
use std::io::ErrorKind;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::{Message, WebSocket};

/// The query CometBFT's `subscribe` takes for committed blocks.
pub const NEW_BLOCK_QUERY: &str = "tm.event='NewBlock'";

/// Waits between reconnection attempts: first, and at most.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// What the subscription thread reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Signal {
    /// Subscribed: blocks will be signalled.
    Subscribed,
    /// A block was committed at this height.
    NewBlock(u64),
    /// The subscription failed or was refused; it will be tried again.
    Lost(String),
}

/// A running subscription; dropping it stops the thread at its next wake-up.
pub struct NewBlockSubscription {
    url: String,
    signals: Receiver<Signal>,
    stop: Arc<AtomicBool>,
}

impl NewBlockSubscription {
    /// Subscribes to `NewBlock` at the RPC `base` (`http://host:port`), reading at most
    /// `limit` bytes per message and waiting at most `timeout` to connect.
    pub fn start(base: &str, timeout: Duration, limit: u64) -> NewBlockSubscription {
        let url = format!(
            "ws://{}/websocket",
            base.strip_prefix("http://").unwrap_or(base)
        );
        let (tx, signals) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let follower = Follower {
            url: url.clone(),
            timeout,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            signals: tx,
            stop: Arc::clone(&stop),
        };
        std::thread::spawn(move || follower.run());
        NewBlockSubscription { url, signals, stop }
    }

    /// The WebSocket URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next signal, waiting at most `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Signal> {
        self.signals.recv_timeout(timeout).ok()
    }
}

impl Drop for NewBlockSubscription {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The subscription thread.
struct Follower {
    url: String,
    timeout: Duration,
    limit: usize,
    signals: Sender<Signal>,
    stop: Arc<AtomicBool>,
}

impl Follower {
    fn run(self) {
        let mut backoff = FIRST_BACKOFF;
        while !self.stop.load(Ordering::SeqCst) {
            let error = match self.connect() {
                Ok(mut socket) => {
                    backoff = FIRST_BACKOFF;
                    if self.signals.send(Signal::Subscribed).is_err() {
                        return;
                    }
                    self.follow(&mut socket)
                }
                Err(e) => e,
            };
            if self.stop.load(Ordering::SeqCst) || self.signals.send(Signal::Lost(error)).is_err() {
                return;
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Connects, shakes hands and subscribes.
    fn connect(&self) -> Result<WebSocket<TcpStream>, String> {
        let authority = self
            .url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        let address = authority
            .to_socket_addrs()
            .map_err(|e| format!("{authority}: {e}"))?
            .next()
            .ok_or_else(|| format!("{authority}: no address"))?;
        let stream = TcpStream::connect_timeout(&address, self.timeout)
            .map_err(|e| format!("cannot connect: {e}"))?;
        stream
            .set_read_timeout(Some(self.timeout))
            .map_err(|e| e.to_string())?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.limit))
            .max_frame_size(Some(self.limit));
        let (mut socket, _) =
            tungstenite::client::client_with_config(self.url.as_str(), stream, Some(config))
                .map_err(|e| format!("handshake refused: {e}"))?;
        let subscribe = serde_json::json!({
            "jsonrpc": "2.0",
            "method": "subscribe",
            "id": 1,
            "params": { "query": NEW_BLOCK_QUERY },
        });
        socket
            .send(Message::text(subscribe.to_string()))
            .map_err(|e| format!("subscribe: {e}"))?;
        // The first answer is the subscription's: an empty result, or an error.
        let reply = read_text(&mut socket, &self.stop)?;
        unwrap_envelope::<serde_json::Value>(&self.url, 200, &reply)
            .map_err(|e| format!("subscribe refused: {e}"))?;
        Ok(socket)
    }

    /// Signals every `NewBlock` event until the socket fails; returns why it did.
    fn follow(&self, socket: &mut WebSocket<TcpStream>) -> String {
        loop {
            let text = match read_text(socket, &self.stop) {
                Ok(text) => text,
                Err(e) => return e,
            };
            let height = unwrap_envelope::<EventResult>(&self.url, 200, &text)
                .ok()
                .and_then(|event| event.data)
                .and_then(|data| data.value)
                .and_then(|value| value.block)
                .and_then(|block| block.header.height.parse::<u64>().ok());
            if let Some(height) = height
                && self.signals.send(Signal::NewBlock(height)).is_err()
            {
                return "the watch ended".to_string();
            }
        }
    }
}

/// The next text message; read timeouts are waited out (checking `stop`), pings answered.
fn read_text(socket: &mut WebSocket<TcpStream>, stop: &AtomicBool) -> Result<String, String> {
    loop {
        if stop.load(Ordering::SeqCst) {
            return Err("stopped".to_string());
        }
        match socket.read() {
            Ok(Message::Text(text)) => return Ok(text.to_string()),
            Ok(Message::Close(_)) => return Err("the node closed the WebSocket".to_string()),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// An event's `result`: `{query, data: {type, value: {block: {header: {height}}}}, events}`.
#[derive(Deserialize)]
struct EventResult {
    #[serde(default)]
    data: Option<EventData>,
}

#[derive(Deserialize)]
struct EventData {
    #[serde(default)]
    value: Option<EventValue>,
}

#[derive(Deserialize)]
struct EventValue {
    #[serde(default)]
    block: Option<EventBlock>,
}

#[derive(Deserialize)]
struct EventBlock {
    header: EventHeader,
}

#[derive(Deserialize)]
struct EventHeader {
    height: String,
}
