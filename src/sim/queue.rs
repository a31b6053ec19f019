//! The event queue: a binary heap ordered by `(time, sequence)`, so events at the same virtual
//! time run in the order they were scheduled (FIFO), which keeps every run deterministic.

use super::SimTime;
use crate::consensus::{Height, Round, TimeoutKind};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Something that happens at a point in virtual time. Small and `Copy`: message payloads live in
/// the message arena and are referred to by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Message `msg` (an arena index) reaches validator `to`.
    Deliver {
        /// Receiving validator.
        to: u16,
        /// Arena index of the message.
        msg: u32,
    },
    /// Validator `validator`'s uplink is free to send the next copy of a block it serves.
    Serve {
        /// The serving validator.
        validator: u16,
    },
    /// A timer of validator `validator` fires.
    Timeout {
        /// Whose timer.
        validator: u16,
        /// Which timer.
        kind: TimeoutKind,
        /// Round it was scheduled for.
        round: Round,
        /// Height it was scheduled for.
        height: Height,
    },
}

/// A queued event; `key` is `time << 64 | seq`, so one integer comparison orders entries by
/// time and then by scheduling order.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u128,
    event: Event,
}

impl Entry {
    fn time(&self) -> SimTime {
        SimTime((self.key >> 64) as u64)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Reversed, so the max-heap pops the earliest `(time, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// Pending events in `(time, sequence)` order.
#[derive(Debug, Default)]
pub struct EventQueue {
    heap: BinaryHeap<Entry>,
    next_seq: u64,
}

impl EventQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Schedule `event` at `time`, after every event already scheduled at that time.
    pub fn push(&mut self, time: SimTime, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry {
            key: u128::from(time.0) << 64 | u128::from(seq),
            event,
        });
    }

    /// The earliest event, if any.
    pub fn pop(&mut self) -> Option<(SimTime, Event)> {
        self.heap.pop().map(|e| (e.time(), e.event))
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(Entry::time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Bytes one pending event occupies in the queue.
    pub const fn bytes_per_event() -> usize {
        std::mem::size_of::<Entry>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deliver(to: u16) -> Event {
        Event::Deliver { to, msg: 0 }
    }

    #[test]
    fn pops_in_time_order_and_fifo_among_equal_times() {
        let mut q = EventQueue::new();
        q.push(SimTime(30), deliver(3));
        q.push(SimTime(10), deliver(1));
        q.push(SimTime(20), deliver(20));
        q.push(SimTime(20), deliver(21));
        q.push(SimTime(20), deliver(22));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (SimTime(10), deliver(1)),
                (SimTime(20), deliver(20)),
                (SimTime(20), deliver(21)),
                (SimTime(20), deliver(22)),
                (SimTime(30), deliver(3)),
            ]
        );
    }

    #[test]
    fn pops_every_event_in_key_order_whatever_the_push_order() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut q = EventQueue::new();
        let mut pending = Vec::new();
        for round in 0..3 {
            for i in 0..3_000u32 {
                let time = SimTime(rng.random_range(0..300));
                q.push(time, Event::Deliver { to: round, msg: i });
                pending.push((time, round, i));
            }
            // Pop part of the queue between rounds of pushes.
            for _ in 0..1_500 {
                let (time, event) = q.pop().unwrap();
                let Event::Deliver { to, msg } = event else {
                    unreachable!()
                };
                let position = pending.iter().position(|e| *e == (time, to, msg)).unwrap();
                let earliest = pending.iter().map(|e| e.0).min().unwrap();
                assert_eq!(time, earliest, "popped a later time than one pending");
                let pushed_earlier_same_time = pending[..position].iter().any(|e| e.0 == time);
                assert!(!pushed_earlier_same_time, "FIFO among equal times broken");
                pending.remove(position);
            }
        }
        assert_eq!(q.len(), pending.len());
    }

    #[test]
    fn a_pending_event_takes_at_most_48_bytes() {
        assert!(
            EventQueue::bytes_per_event() <= 48,
            "{}",
            EventQueue::bytes_per_event()
        );
    }
}
