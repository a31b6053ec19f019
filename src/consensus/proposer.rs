//! TEMP STUB
use super::*;
/// stub
pub struct ProposerSchedule {
    n: u64,
}
impl ProposerSchedule {
    /// stub
    pub fn new(p: &[VotingPower]) -> Self {
        ProposerSchedule { n: p.len() as u64 }
    }
    /// stub
    pub fn proposer(&self, h: Height, r: Round) -> ValidatorIndex {
        ((h + u64::from(r)) % self.n) as u16
    }
}
