//! The simulation engine: virtual time, seeded streams, the event queue and the event loop.

mod engine;
mod gossip;
mod observer;
mod prefetch;
pub mod queue;
pub mod rng;
pub mod time;
pub mod trace;

pub use engine::{PROPOSAL_OVERHEAD_BYTES, Simulation, VOTE_BYTES, ValidatorStatus, run};
pub use rng::{SimRng, Stream};
pub use time::SimTime;
