//! Exports of the crate's results to other tools: Prometheus exposition, HTML pages with SVG plots.

pub mod file;
pub mod html;
pub mod http;
pub mod prometheus;
pub mod svg;

pub use prometheus::PrometheusExporter;
