//! The simulation engine: virtual time, seeded streams, the event queue and the event loop.

pub mod rng;
pub mod time;

pub use rng::{SimRng, Stream};
pub use time::SimTime;
