//! The votes of the batches on their way (one `Votes` delivery each: what one wake of a votes
//! routine wrote to a connection), all in one buffer.
//!
//! A batch is a run of that buffer; a delivered batch leaves a gap, and the buffer is compacted
//! (live runs moved down, in order) when the gaps outweigh what is live. So memory follows the
//! votes in flight, where one reused `Vec` per batch had kept, for every batch ever in flight at
//! once, the capacity of the largest batch it had held. A vote takes 8 bytes here (`Packed`),
//! not the 40 of a `Vote`: a batch's votes share their height (a votes routine sends the votes
//! of its node's height), and a value is a block's index. At 1,000 validators with 10 outbound peers a
//! node (the 2 s `scale` bench) 7.5 million votes are on their way at the peak, 175,000 batches
//! in all.

use super::RoundVotes;
use crate::consensus::{Height, Round, ValueId, Vote, VoteType};

/// A vote of a batch in one word (the batch holds its height): bits 0-15 the signer, bit 16
/// whether a precommit, bits 17-31 the round and bits 32-63 the value's id plus one (0 for
/// nil); a vote whose round or value does not fit ("wide") has round bits `WIDE` and, in the
/// value bits, the index of its round and value in `VoteBatches::wide`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packed(u64);

/// The round bits of a wide vote.
const WIDE: u64 = 0x7fff;

/// A vote of a batch, unpacked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unpacked {
    /// Its round.
    pub round: Round,
    /// Its type index (`crate::p2p::type_index`).
    pub kind: usize,
    /// Its signer.
    pub validator: u16,
    /// Its value (`None` for nil).
    pub value: Option<ValueId>,
}

impl Unpacked {
    /// The vote, of the batch's `height`.
    #[inline]
    pub fn vote(self, height: Height) -> Vote {
        Vote {
            height,
            round: self.round,
            vote_type: super::vote_type_of(self.kind),
            value: self.value,
            validator: self.validator,
        }
    }
}

/// A value's code in a batch: its id plus one, 0 for nil.
#[inline]
fn code(value: Option<ValueId>) -> u64 {
    value.map_or(0, |v| v.0.wrapping_add(1))
}

/// Pack a vote of round `round`, type index `kind`, by `validator`, of the value coded `code`;
/// a wide one's round and code go to `wide`.
#[inline]
fn pack(
    round: Round,
    kind: usize,
    validator: u16,
    code: u64,
    wide: &mut Vec<(Round, u64)>,
) -> Packed {
    let low = u64::from(validator) | (kind as u64) << 16;
    if u64::from(round) < WIDE && code <= u64::from(u32::MAX) {
        Packed(low | u64::from(round) << 17 | code << 32)
    } else {
        wide.push((round, code));
        Packed(low | WIDE << 17 | ((wide.len() - 1) as u64) << 32)
    }
}

/// A batch's votes, to read.
#[derive(Clone, Copy, Debug)]
pub struct BatchVotes<'a> {
    /// Their height.
    pub height: Height,
    votes: &'a [Packed],
    wide: &'a [(Round, u64)],
}

impl BatchVotes<'_> {
    /// Number of votes.
    pub fn len(&self) -> usize {
        self.votes.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.votes.is_empty()
    }

    /// Vote `i`, unpacked.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Unpacked> {
        let Packed(w) = *self.votes.get(i)?;
        let (round, code) = match w >> 17 & WIDE {
            WIDE => self.wide[(w >> 32) as usize],
            round => (round as Round, w >> 32),
        };
        Some(Unpacked {
            round,
            kind: (w >> 16 & 1) as usize,
            validator: w as u16,
            value: code.checked_sub(1).map(ValueId),
        })
    }
}

/// Where a batch's votes are.
#[derive(Clone, Copy, Debug)]
struct Run {
    /// First vote in the buffer (`FREE` when the id is free).
    start: u32,
    len: u32,
    height: Height,
}

/// Marks a free batch id in `runs`.
const FREE: u32 = u32::MAX;

/// Vote batches in one buffer.
#[derive(Debug, Default)]
pub struct VoteBatches {
    /// The votes of every live batch (and the gaps of delivered ones).
    votes: Vec<Packed>,
    /// Per batch id: its run of `votes` and its height.
    runs: Vec<Run>,
    /// Free batch ids.
    free: Vec<u32>,
    /// Votes in live batches.
    live: usize,
    /// Scratch for compaction: live ids by start.
    order: Vec<u32>,
    /// The height of the batch begun last.
    height: Height,
    /// Rounds and value codes of the wide votes (`Packed`), by index; rebuilt at compaction.
    wide: Vec<(Round, u64)>,
}

/// Gaps tolerated before compacting, beyond as many votes as are live.
const SLACK: usize = 1 << 16;

impl VoteBatches {
    /// Start a batch of votes of `height`: its votes are the ones `push`ed until `finish`.
    /// Compacts first when the gaps outweigh the live votes (never while a batch is being
    /// delivered: delivery reads a batch vote by vote and begins none).
    pub fn begin(&mut self, height: Height) -> u32 {
        if self.votes.len() > 2 * self.live + SLACK {
            self.compact();
        }
        self.height = height;
        let run = Run {
            start: self.votes.len() as u32,
            len: 0,
            height,
        };
        match self.free.pop() {
            Some(id) => {
                self.runs[id as usize] = run;
                id
            }
            None => {
                self.runs.push(run);
                self.runs.len() as u32 - 1
            }
        }
    }

    /// Add `vote`, of the batch's height, to the batch begun last.
    pub fn push(&mut self, vote: Vote) {
        debug_assert_eq!(vote.height, self.height, "a batch holds one height");
        let (kind, code) = (
            usize::from(vote.vote_type == VoteType::Precommit),
            code(vote.value),
        );
        let packed = pack(vote.round, kind, vote.validator, code, &mut self.wide);
        self.votes.push(packed);
    }

    /// Add to the batch begun last the votes of type index `kind` that `held` (round `round`
    /// of the batch's height) has and the set whose words are `known` lacks, by validator
    /// ascending, and add them to `known`: word by word, as the votes routine sends them.
    pub fn push_missing(
        &mut self,
        held: &RoundVotes,
        round: Round,
        kind: usize,
        known: &mut [u64],
    ) {
        let (have, slots, values) = (&held.have[kind].0, &held.slots[kind], &held.values[kind]);
        for (i, (known, &have)) in known.iter_mut().zip(have.iter()).enumerate() {
            let mut w = have & !*known;
            *known |= w;
            while w != 0 {
                let v = i * 64 + w.trailing_zeros() as usize;
                w &= w - 1;
                let code = code(values[usize::from(slots[v])]);
                let packed = pack(round, kind, v as u16, code, &mut self.wide);
                self.votes.push(packed);
            }
        }
    }

    /// Batch `id`'s votes, in order (`None` for a free or unknown id).
    #[inline]
    pub fn batch(&self, id: u32) -> Option<BatchVotes<'_>> {
        let run = self.run(id)?;
        let start = run.start as usize;
        Some(BatchVotes {
            height: run.height,
            votes: &self.votes[start..start + run.len as usize],
            wide: &self.wide,
        })
    }

    /// End batch `id` (the one begun last); false, and the id freed, when it is empty.
    pub fn finish(&mut self, id: u32) -> bool {
        let start = self.runs[id as usize].start;
        let len = self.votes.len() as u32 - start;
        if len == 0 {
            self.release(id);
            return false;
        }
        self.runs[id as usize].len = len;
        self.live += len as usize;
        true
    }

    /// The live run of batch `id`.
    fn run(&self, id: u32) -> Option<Run> {
        self.runs
            .get(id as usize)
            .copied()
            .filter(|r| r.start != FREE)
    }

    /// Number of votes in batch `id` (0 for a free or unknown id).
    pub fn len(&self, id: u32) -> usize {
        self.run(id).map_or(0, |r| r.len as usize)
    }

    /// Whether batch `id` has no votes.
    pub fn is_empty(&self, id: u32) -> bool {
        self.len(id) == 0
    }

    /// Vote `i` of batch `id`.
    pub fn vote(&self, id: u32, i: usize) -> Option<Vote> {
        let batch = self.batch(id)?;
        batch.get(i).map(|v| v.vote(batch.height))
    }

    /// The votes of batch `id`, in order.
    pub fn votes(&self, id: u32) -> impl Iterator<Item = Vote> + '_ {
        (0..self.len(id)).filter_map(move |i| self.vote(id, i))
    }

    /// Free batch `id` (delivered or lost).
    pub fn release(&mut self, id: u32) {
        let Some(run) = self.runs.get_mut(id as usize) else {
            return;
        };
        if run.start == FREE {
            return;
        }
        let (start, len) = (run.start, run.len);
        run.start = FREE;
        run.len = 0;
        self.live -= len as usize;
        self.free.push(id);
        // The last run: its space is reused at once.
        if (start + len) as usize == self.votes.len() {
            self.votes.truncate(start as usize);
        }
    }

    /// Move the live runs down over the gaps, keeping their order.
    fn compact(&mut self) {
        self.order.clear();
        self.order
            .extend((0..self.runs.len() as u32).filter(|&id| self.runs[id as usize].start != FREE));
        let runs = &self.runs;
        self.order
            .sort_unstable_by_key(|&id| runs[id as usize].start);
        let mut to = 0u32;
        for &id in &self.order {
            let Run { start, len, .. } = self.runs[id as usize];
            self.votes
                .copy_within(start as usize..(start + len) as usize, to as usize);
            self.runs[id as usize].start = to;
            to += len;
        }
        self.votes.truncate(to as usize);
        if !self.wide.is_empty() {
            // Keep the live wide votes' entries only, renumbered in order.
            let old = std::mem::take(&mut self.wide);
            for packed in &mut self.votes {
                let w = packed.0;
                if w >> 17 & WIDE == WIDE {
                    self.wide.push(old[(w >> 32) as usize]);
                    *packed = Packed(w & 0xffff_ffff | ((self.wide.len() - 1) as u64) << 32);
                }
            }
        }
    }

    /// Votes in live batches.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Length of the buffer, gaps included.
    pub fn buffered(&self) -> usize {
        self.votes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consensus::VoteType;

    fn vote(validator: u16) -> Vote {
        Vote {
            height: 1,
            round: u32::from(validator % 5),
            vote_type: if validator.is_multiple_of(2) {
                VoteType::Prevote
            } else {
                VoteType::Precommit
            },
            value: (!validator.is_multiple_of(3)).then_some(ValueId(u64::from(validator % 4))),
            validator,
        }
    }

    #[test]
    fn batches_keep_their_votes_through_compaction() {
        let mut b = VoteBatches::default();
        let mut ids = Vec::new();
        // 40 batches of 3,000 votes (120,000).
        for i in 0..40u16 {
            let id = b.begin(1);
            for j in 0..3000u16 {
                b.push(vote(i.wrapping_mul(3000).wrapping_add(j)));
            }
            assert!(b.finish(id));
            ids.push((id, i));
        }
        assert_eq!(b.live(), 120_000);
        // The empty batch is dropped.
        let empty = b.begin(1);
        assert!(!b.finish(empty));
        assert!(b.is_empty(empty));
        // The last batch's space is reused at once.
        b.release(ids[39].0);
        assert_eq!(b.buffered(), 117_000);
        // Even batches and the odd ones up to 29 delivered: batch 38, now the last run, gives
        // its space back (114,000 buffered), and 12,000 live in 114,000 is more than twice the
        // live votes plus the slack, so the next begin compacts.
        for &(id, i) in &ids[..39] {
            if i % 2 == 0 || i <= 29 {
                b.release(id);
            }
        }
        b.release(ids[0].0); // twice: no effect
        assert_eq!(b.live(), 12_000);
        assert_eq!(b.buffered(), 114_000);
        let id = b.begin(1);
        assert_eq!(b.buffered(), 12_000);
        b.push(vote(7));
        assert!(b.finish(id));
        assert_eq!(b.votes(id).collect::<Vec<_>>(), vec![vote(7)]);
        for &(id, i) in &ids[..39] {
            if i % 2 == 1 && i > 29 {
                let got: Vec<Vote> = b.votes(id).collect();
                let want: Vec<Vote> = (0..3000u16)
                    .map(|j| vote(i.wrapping_mul(3000).wrapping_add(j)))
                    .collect();
                assert_eq!(got, want, "batch {i}");
            }
        }
        assert_eq!(b.vote(id, 0), Some(vote(7)));
        assert_eq!(b.vote(id, 1), None);
        assert_eq!(b.len(ids[0].0), 0, "released");
        assert_eq!(std::mem::size_of::<Packed>(), 8);
    }

    #[test]
    fn wide_votes_keep_their_round_and_value_through_compaction() {
        // A round or a value id too large for the packed word.
        let wide = |validator: u16| Vote {
            height: 2,
            round: if validator.is_multiple_of(2) {
                40_000 + u32::from(validator)
            } else {
                3
            },
            vote_type: VoteType::Precommit,
            value: Some(ValueId(u64::from(u32::MAX) + u64::from(validator))),
            validator,
        };
        let narrow = |validator: u16| Vote {
            height: 2,
            ..vote(validator)
        };
        let mut b = VoteBatches::default();
        let early = b.begin(2);
        for j in 0..10u16 {
            b.push(wide(j));
        }
        for j in 0..70_000u32 {
            b.push(narrow(j as u16));
        }
        assert!(b.finish(early));
        let kept = b.begin(2);
        let want: Vec<Vote> = (0..20u16)
            .map(|j| if j % 3 == 0 { wide(j) } else { narrow(j) })
            .collect();
        want.iter().for_each(|&v| b.push(v));
        assert!(b.finish(kept));
        assert_eq!(b.votes(kept).collect::<Vec<_>>(), want);
        assert_eq!(b.wide.len(), 17);
        // The early batch delivered: 20 live in 70,030 buffered, so the next begin compacts,
        // and only the kept batch's wide votes keep their entries.
        b.release(early);
        let next = b.begin(2);
        assert_eq!(b.buffered(), 20);
        assert_eq!(b.wide.len(), 7);
        assert_eq!(b.votes(kept).collect::<Vec<_>>(), want);
        assert!(!b.finish(next));
    }
}
