//! Exports of the crate's metrics to other tools.

pub mod prometheus;

pub use prometheus::PrometheusExporter;
