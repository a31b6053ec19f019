//! Reports out of the crate: HTML pages with SVG plots.

pub mod html;
pub mod svg;
