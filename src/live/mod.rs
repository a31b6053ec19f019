//! Following a running CometBFT node: its JSON-RPC ([`rpc`]) and Prometheus metrics
//! ([`prom`]) over bounded HTTP ([`http`]), its `NewBlock` events ([`ws`]), the loop that feeds the performance monitor on the
//! wall clock ([`watch`]), and the watch's own metrics for Prometheus ([`exposition`]).

pub mod exposition;
pub mod http;
pub mod prom;
pub mod rpc;
pub mod watch;
pub mod ws;

pub use exposition::WatchExposition;
pub use http::FetchError;
pub use watch::{Event, HeightReport, WatchConfig, Watcher};
