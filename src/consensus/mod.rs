//! The pure Tendermint consensus core: no time, no I/O, no randomness.
//!
//! Algorithm 1 of Buchman, Kwon, Milosevic, "The latest gossip on BFT consensus" (2018), as a
//! state machine (`state_machine`), the vote keeper it counts with (`votekeeper`), and CometBFT's
//! proposer selection (`proposer`).

pub mod proposer;
pub mod state_machine;
mod types;
pub mod votekeeper;

pub use types::*;
