//! CometBFT's proposer selection: weighted round robin with proposer priorities.
//! SKELETON: being written.
