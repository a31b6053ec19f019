//! The event queue: pending events in `(time, sequence)` order, so events at the same virtual
//! time run in the order they were scheduled (FIFO), which keeps every run deterministic.
//!
//! It is a calendar queue keyed by integer nanoseconds: time is cut into buckets of
//! `2^BUCKET_SHIFT` ns, and a ring of `BUCKETS` unsorted buckets holds the events of the next
//! `BUCKETS` buckets (about 134 ms); later events wait in a small binary heap. A bucket is sorted
//! once, when it becomes the earliest, so a push or a pop costs the same whether ten or ten
//! million events are pending (a heap of a million events makes every pop a chain of cache
//! misses). A bucket keeps its events in scheduling order until it is sorted, so a stable sort by
//! time alone gives `(time, sequence)` order without storing the sequence number. Events
//! scheduled into the earliest bucket after it was sorted (a timer of zero delay) wait in a
//! second small heap and run after its sorted events of the same time.

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
    /// Node `node`'s gossip routines wake to send their peers what they lack
    /// (`network.gossip: cometbft`).
    Wake {
        /// The waking node.
        node: u16,
    },
    /// Validator `validator` sends `peer` the commit of the height `peer` is stuck at, if it
    /// still is (a catch-up deferred until `validator` has been at its decision a gossip
    /// interval; `network.gossip: direct`).
    CatchUp {
        /// The validator ahead.
        validator: u16,
        /// The validator behind.
        peer: u16,
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

/// Nanoseconds per bucket, as a power of two (32.8 µs).
const BUCKET_SHIFT: u32 = 15;
/// Buckets in the ring (a power of two): the ring spans `BUCKETS << BUCKET_SHIFT` ns, 134 ms.
const BUCKETS: usize = 1 << 12;
/// Bits of a sort key that hold an event's place in its bucket (below its offset in the
/// bucket's `BUCKET_SHIFT` bits of time): room for 2^48 events a bucket.
const PLACE_BITS: u32 = 64 - BUCKET_SHIFT - 1;
/// Ring slot of absolute bucket `b`.
const SLOT_MASK: u64 = BUCKETS as u64 - 1;
const _: () = assert!(
    BUCKETS.is_power_of_two() && BUCKETS / 64 <= 64,
    "one summary word"
);

/// A pending event in a bucket of the ring, in 16 bytes: its time and the event packed in a
/// word (its place among equal times is its place in the bucket).
#[derive(Clone, Copy, Debug)]
struct Pending {
    time: u64,
    /// See [`Timers::pack`].
    word: u64,
}

/// An event beyond the ring's span, ordered by `key = time << 64 | seq`.
#[derive(Clone, Copy, Debug)]
struct Far {
    key: u128,
    event: Event,
}

impl Far {
    fn time(&self) -> u64 {
        (self.key >> 64) as u64
    }
}

impl PartialEq for Far {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Far {}

impl PartialOrd for Far {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Far {
    /// Reversed, so the max-heap pops the earliest `(time, seq)` first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// Pending events in `(time, sequence)` order.
#[derive(Debug)]
pub struct EventQueue {
    /// Absolute bucket number (`time >> BUCKET_SHIFT`) of the earliest bucket.
    cur: u64,
    /// `ring[b & SLOT_MASK]` holds bucket `b` for `cur < b < cur + BUCKETS` in scheduling order,
    /// and bucket `cur` sorted latest first (the next event is the last).
    ring: Vec<Vec<Pending>>,
    /// Events of bucket `cur` (or, never in a run, earlier) scheduled since it was sorted: they
    /// run after its sorted events of the same time.
    late: BinaryHeap<Far>,
    /// Which ring slots hold events.
    occupied: Occupancy,
    /// Events of bucket `cur + BUCKETS` and later.
    far: BinaryHeap<Far>,
    /// Timer events in the ring (too large for a `Pending` word).
    timers: Timers,
    /// The radix sort's second buffer, as long as the largest bucket sorted by it.
    scratch: Vec<Pending>,
    /// Buffers of small buckets that ran out, for buckets that have none: a run of few
    /// validators touches most of the ring's slots with an event or two each, and would
    /// otherwise allocate (and at the end free) a buffer for every one of them.
    spare: Vec<Vec<Pending>>,
    len: usize,
    next_seq: u64,
}

impl Default for EventQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl EventQueue {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            cur: 0,
            late: BinaryHeap::new(),
            ring: (0..BUCKETS).map(|_| Vec::new()).collect(),
            occupied: Occupancy::default(),
            far: BinaryHeap::new(),
            timers: Timers::default(),
            scratch: Vec::new(),
            spare: Vec::new(),
            len: 0,
            next_seq: 0,
        }
    }

    /// Schedule `event` at `time`, after every event already scheduled at that time. Inlined:
    /// where the event's kind is known (a delivery, in a broadcast's loop), packing it is a few
    /// instructions.
    #[inline(always)]
    pub fn push(&mut self, time: SimTime, event: Event) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let time = time.0;
        let bucket = time >> BUCKET_SHIFT;
        self.len += 1;
        if bucket <= self.cur {
            self.late.push(Far {
                key: u128::from(time) << 64 | u128::from(seq),
                event,
            });
        } else if bucket - self.cur < BUCKETS as u64 {
            let slot = (bucket & SLOT_MASK) as usize;
            let word = self.timers.pack(event);
            self.push_into(slot, Pending { time, word });
        } else {
            self.far.push(Far {
                key: u128::from(time) << 64 | u128::from(seq),
                event,
            });
        }
    }

    /// Schedule the delivery of message `msg` to each `(time, to)` of `deliveries`, in that
    /// order: the same as pushing them one by one, but each write's bucket end is asked of the
    /// cache `PUSH_PREFETCH` (8) deliveries ahead. A broadcast of 1,000 validators writes its
    /// deliveries across a thousand buckets, most of whose ends are no longer cached; one by
    /// one, those writes stalled the loop (a tenth of a 1,000-validator run, `perf record`).
    pub fn push_deliveries(&mut self, deliveries: &[(SimTime, u16)], msg: u32) {
        for (i, &(time, to)) in deliveries.iter().enumerate() {
            if let Some(&(ahead, _)) = deliveries.get(i + PUSH_PREFETCH) {
                self.prefetch_end(ahead);
            }
            self.push(time, Event::Deliver { to, msg });
        }
    }

    /// Hint the cache line that a push at `time` into the ring will write, if it has room.
    #[inline(always)]
    fn prefetch_end(&mut self, time: SimTime) {
        let bucket = time.0 >> BUCKET_SHIFT;
        if bucket > self.cur && bucket - self.cur < BUCKETS as u64 {
            let slot = (bucket & SLOT_MASK) as usize;
            if let Some(end) = self.ring[slot].spare_capacity_mut().first() {
                super::prefetch::prefetch(end);
            }
        }
    }

    /// The earliest event, if any.
    pub fn pop(&mut self) -> Option<(SimTime, Event)> {
        self.pop_until(SimTime(u64::MAX))
    }

    /// The earliest event if it is due at or before `limit` (it stays queued otherwise): one
    /// look at the queue where [`Self::peek_time`] then [`Self::pop`] took two.
    pub fn pop_until(&mut self, limit: SimTime) -> Option<(SimTime, Event)> {
        if self.current().is_empty() && self.late.is_empty() {
            if self.len == 0 {
                return None;
            }
            self.advance();
        }
        let (early, late) = (self.current().last().map(|p| p.time), self.late.peek());
        let late_first = match (early, late) {
            (Some(early), Some(late)) => late.time() < early,
            (None, _) => true,
            (Some(_), None) => false,
        };
        let due = if late_first {
            late.map(Far::time)
        } else {
            early
        };
        if due? > limit.0 {
            return None;
        }
        let next = if late_first {
            self.late.pop().map(|far| (far.time(), far.event))
        } else {
            let slot = (self.cur & SLOT_MASK) as usize;
            let timers = &mut self.timers;
            self.ring[slot]
                .pop()
                .map(|p| (p.time, timers.unpack(p.word)))
        };
        let (time, event) = next?;
        self.len -= 1;
        Some((SimTime(time), event))
    }

    /// The delivery the `k + 1`-th pop from now returns (`k = 0`: the next), as `(to, msg)`, if
    /// it is in the current bucket's sorted run (a look, for cache hints: it changes nothing).
    /// `None` for other events, or when the run is shorter (events scheduled into the current
    /// bucket after it was sorted may still come between; a hint for the wrong event is only a
    /// wasted hint).
    #[inline(always)]
    pub fn delivery_ahead(&self, k: usize) -> Option<(u16, u32)> {
        let run = self.current();
        let p = run.get(run.len().checked_sub(1 + k)?)?;
        (p.word >> 62 == DELIVER).then_some(((p.word >> 32) as u16, p.word as u32))
    }

    /// Time of the earliest event.
    pub fn peek_time(&self) -> Option<SimTime> {
        let early = self.current().last().map(|p| p.time);
        let late = self.late.peek().map(Far::time);
        if let Some(next) = early.into_iter().chain(late).min() {
            return Some(SimTime(next));
        }
        if self.len == 0 {
            return None;
        }
        let earliest = match self.next_occupied() {
            Some(slot) => self.ring[slot].iter().map(|p| p.time).min(),
            None => self.far.peek().map(Far::time),
        };
        earliest.map(SimTime)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes one pending event occupies in the queue: in the ring (where nearly all are) or, if
    /// more, in the heap of far events.
    pub const fn bytes_per_event() -> usize {
        let ring = std::mem::size_of::<Pending>();
        let far = std::mem::size_of::<Far>();
        if ring > far { ring } else { far }
    }

    /// Bytes the queue's buffers have reserved (their capacity, not only what is in use).
    pub fn reserved_bytes(&self) -> usize {
        let pending = std::mem::size_of::<Pending>();
        let ring: usize = self.ring.iter().map(|b| b.capacity() * pending).sum();
        ring + (self.far.capacity() + self.late.capacity()) * std::mem::size_of::<Far>()
            + self.ring.capacity() * std::mem::size_of::<Vec<Pending>>()
            + self.timers.reserved_bytes()
            + self.scratch.capacity() * pending
            + self
                .spare
                .iter()
                .map(|b| b.capacity() * pending)
                .sum::<usize>()
            + self.spare.capacity() * std::mem::size_of::<Vec<Pending>>()
    }

    /// Add `pending` to ring slot `slot` (not the current bucket's), giving the slot a spare
    /// buffer if it has none.
    #[inline(always)]
    fn push_into(&mut self, slot: usize, pending: Pending) {
        let bucket = &mut self.ring[slot];
        if bucket.len() == bucket.capacity() {
            make_room(bucket, &mut self.spare);
        }
        bucket.push(pending);
        self.occupied.set(slot);
    }

    /// The sorted events of bucket `cur`.
    fn current(&self) -> &Vec<Pending> {
        &self.ring[(self.cur & SLOT_MASK) as usize]
    }

    /// The ring slot of the earliest occupied bucket after `cur`, if any.
    fn next_occupied(&self) -> Option<usize> {
        self.occupied
            .next_from(((self.cur + 1) & SLOT_MASK) as usize)
    }

    /// Make the earliest non-empty bucket the current one (when bucket `cur` and `late` are empty
    /// and events are pending elsewhere): move the far events its new span covers into the ring, then sort it.
    fn advance(&mut self) {
        let next = match self.next_occupied() {
            Some(slot) => self.cur + ((slot as u64).wrapping_sub(self.cur) & SLOT_MASK),
            None => match self.far.peek() {
                Some(far) => far.time() >> BUCKET_SHIFT,
                None => return,
            },
        };
        // The bucket that ran out lends its buffer, if small, to a bucket that has none.
        let done = (self.cur & SLOT_MASK) as usize;
        let capacity = self.ring[done].capacity();
        if capacity > 0 && capacity <= SPARE_MAX {
            debug_assert!(self.ring[done].is_empty());
            self.spare.push(std::mem::take(&mut self.ring[done]));
        }
        self.cur = next;
        // Buckets up to `cur + BUCKETS` are now in the ring's span. Nothing was scheduled into
        // them directly yet, so the far events, taken in `(time, seq)` order, go first.
        while let Some(far) = self.far.peek()
            && (far.time() >> BUCKET_SHIFT) - self.cur < BUCKETS as u64
        {
            let slot = ((far.time() >> BUCKET_SHIFT) & SLOT_MASK) as usize;
            let pending = Pending {
                time: far.time(),
                word: self.timers.pack(far.event),
            };
            self.push_into(slot, pending);
            self.far.pop();
        }
        let slot = (self.cur & SLOT_MASK) as usize;
        self.occupied.clear(slot);
        let base = self.cur << BUCKET_SHIFT;
        let bucket = &mut self.ring[slot];
        // A bucket of one event (most of them, at a few validators) is in order as it is.
        if bucket.len() < 2 {
            return;
        }
        if bucket.len() >= RADIX_MIN {
            sort_by_radix(bucket, base, &mut self.scratch);
            return;
        }
        // Each event's key is its offset in the bucket (`BUCKET_SHIFT` bits) then its place in
        // the bucket (scheduling order among equal times): the keys are distinct, so an unstable
        // sort, latest first, is the reverse of a stable sort by time, without its buffer.
        for (place, p) in bucket.iter_mut().enumerate() {
            p.time = (p.time - base) << PLACE_BITS | place as u64;
        }
        bucket.sort_unstable_by_key(|p| std::cmp::Reverse(p.time));
        for p in bucket.iter_mut() {
            p.time = base + (p.time >> PLACE_BITS);
        }
    }
}

/// How many deliveries ahead [`EventQueue::push_deliveries`] hints the bucket end it will write.
const PUSH_PREFETCH: usize = 8;

/// Bucket buffers of at most this many events (the smallest a buffer is made) are lent to
/// other buckets once they ran out; larger ones stay with their slot, so that a busy ring keeps
/// each slot's buffer sized to it (lending those too cost about 1 % more instructions at 100
/// validators, from buffers regrown in their new slots).
const SPARE_MAX: usize = 8;

/// Buckets of at least this many events are sorted by [`sort_by_radix`]; smaller ones by
/// comparison (the radix sort's fixed cost, two tables of counts, is about a hundred events'
/// worth of comparisons).
const RADIX_MIN: usize = 96;
/// Bits of an event's offset in its bucket that the radix sort's first pass orders by; the
/// second pass orders by the other `BUCKET_SHIFT - LOW_DIGIT_BITS`.
const LOW_DIGIT_BITS: u32 = 8;
const LOW_DIGITS: usize = 1 << LOW_DIGIT_BITS;
const HIGH_DIGITS: usize = 1 << (BUCKET_SHIFT - LOW_DIGIT_BITS);

/// Sort `bucket` (the events of the bucket starting at `base` ns, in scheduling order) latest
/// first, equal times latest scheduled first: the order the comparison sort of
/// [`EventQueue::advance`] gives, so that popping from the end yields `(time, sequence)` order.
/// A stable least-significant-digit radix sort on the `BUCKET_SHIFT` bits of offset, in two
/// passes through `scratch`: stability keeps scheduling order among equal times without a
/// sequence number, and the second pass writes each event at the mirror of its ascending
/// position. Linear in the events, where a comparison sort of a 1,000-validator broadcast's
/// bucket costs about a hundred instructions an event.
fn sort_by_radix(bucket: &mut [Pending], base: u64, scratch: &mut Vec<Pending>) {
    let n = bucket.len();
    if scratch.len() < n {
        scratch.resize(n, Pending { time: 0, word: 0 });
    }
    let low = |p: &Pending| ((p.time - base) as usize) & (LOW_DIGITS - 1);
    let high = |p: &Pending| ((p.time - base) as usize) >> LOW_DIGIT_BITS;
    let mut low_at = [0usize; LOW_DIGITS];
    let mut high_at = [0usize; HIGH_DIGITS];
    for p in bucket.iter() {
        low_at[low(p)] += 1;
        high_at[high(p)] += 1;
    }
    // Counts become each digit's first position, ascending.
    let mut sum = 0;
    for at in low_at.iter_mut() {
        (*at, sum) = (sum, sum + *at);
    }
    sum = 0;
    for at in high_at.iter_mut() {
        (*at, sum) = (sum, sum + *at);
    }
    for &p in bucket.iter() {
        let at = &mut low_at[low(&p)];
        scratch[*at] = p;
        *at += 1;
    }
    for &p in &scratch[..n] {
        let at = &mut high_at[high(&p)];
        bucket[n - 1 - *at] = p;
        *at += 1;
    }
}

/// Timer (and catch-up) events waiting in the ring, by index, so that every event there packs
/// into one word.
#[derive(Debug, Default)]
struct Timers {
    slots: Vec<Event>,
    free: Vec<u32>,
}

/// Tags of a packed event word (its top two bits).
const DELIVER: u64 = 0;
const SERVE: u64 = 1;
const TIMER: u64 = 2;
const WAKE: u64 = 3;

impl Timers {
    /// `event` as a word: tag in bits 62-63; a delivery's receiver in bits 32-47 and message in
    /// bits 0-31; a serving validator or a waking node in bits 0-15; a timer's index here in bits 0-31.
    fn pack(&mut self, event: Event) -> u64 {
        match event {
            Event::Deliver { to, msg } => DELIVER << 62 | u64::from(to) << 32 | u64::from(msg),
            Event::Serve { validator } => SERVE << 62 | u64::from(validator),
            Event::Wake { node } => WAKE << 62 | u64::from(node),
            timer @ (Event::Timeout { .. } | Event::CatchUp { .. }) => {
                let index = match self.free.pop() {
                    Some(i) => {
                        self.slots[i as usize] = timer;
                        i
                    }
                    None => {
                        self.slots.push(timer);
                        (self.slots.len() - 1) as u32
                    }
                };
                TIMER << 62 | u64::from(index)
            }
        }
    }

    /// The event `word` packs (a timer's index is freed).
    fn unpack(&mut self, word: u64) -> Event {
        let low = word as u32;
        match word >> 62 {
            DELIVER => Event::Deliver {
                to: (word >> 32) as u16,
                msg: low,
            },
            SERVE => Event::Serve {
                validator: low as u16,
            },
            WAKE => Event::Wake { node: low as u16 },
            _ => {
                self.free.push(low);
                self.slots[low as usize]
            }
        }
    }

    fn reserved_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Event>() + self.free.capacity() * 4
    }
}

/// Room for one more event in `bucket`, which is full: a spare buffer if it has none, else
/// half as much again (at least 8), not double: a bucket keeps its buffer for the next time
/// round the ring, so doubling would waste a quarter of the queue's memory on average.
#[cold]
#[inline(never)]
fn make_room(bucket: &mut Vec<Pending>, spare: &mut Vec<Vec<Pending>>) {
    if bucket.capacity() == 0
        && let Some(buffer) = spare.pop()
    {
        *bucket = buffer;
        return;
    }
    bucket.reserve_exact((bucket.len() / 2).max(8));
}

/// One bit per ring slot, with a summary bit per word, to find the next occupied slot in a few
/// word operations however sparse the ring is.
#[derive(Debug)]
struct Occupancy {
    words: [u64; BUCKETS / 64],
    summary: u64,
}

impl Default for Occupancy {
    fn default() -> Self {
        Occupancy {
            words: [0; BUCKETS / 64],
            summary: 0,
        }
    }
}

impl Occupancy {
    fn set(&mut self, slot: usize) {
        self.words[slot / 64] |= 1 << (slot % 64);
        self.summary |= 1 << (slot / 64);
    }

    fn clear(&mut self, slot: usize) {
        let word = &mut self.words[slot / 64];
        *word &= !(1 << (slot % 64));
        if *word == 0 {
            self.summary &= !(1 << (slot / 64));
        }
    }

    /// The first occupied slot at or after `start`, wrapping around the ring.
    fn next_from(&self, start: usize) -> Option<usize> {
        let (w, bit) = (start / 64, start % 64);
        let here = self.words[w] & (u64::MAX << bit);
        if here != 0 {
            return Some(w * 64 + here.trailing_zeros() as usize);
        }
        // Later words, then (wrapping) earlier ones, then the low bits of word `w`.
        let later = self.summary & ((u64::MAX << w) << 1);
        let wrapped = self.summary & !((u64::MAX << w) << 1);
        let word = if later != 0 { later } else { wrapped };
        if word == 0 {
            return None;
        }
        let i = word.trailing_zeros() as usize;
        Some(i * 64 + self.words[i].trailing_zeros() as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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

    /// `pop_until` takes exactly the events due by its limit, in order, leaves the rest queued
    /// (also after it had to move to a later bucket or past the ring to look), and what is
    /// pushed after it looked still comes out in `(time, sequence)` order.
    #[test]
    fn pop_until_stops_at_the_limit_and_keeps_later_events() {
        let ring_ns = (BUCKETS as u64) << BUCKET_SHIFT;
        let mut q = EventQueue::new();
        for (time, to) in [(5, 1), (5, 2), (ring_ns * 3, 3), (40_000, 4)] {
            q.push(SimTime(time), deliver(to));
        }
        assert_eq!(q.pop_until(SimTime(4)), None);
        assert_eq!(q.pop_until(SimTime(5)), Some((SimTime(5), deliver(1))));
        assert_eq!(q.pop_until(SimTime(5)), Some((SimTime(5), deliver(2))));
        // The next is in a later bucket: looking moves there but takes nothing.
        assert_eq!(q.pop_until(SimTime(39_999)), None);
        assert_eq!(q.len(), 2);
        q.push(SimTime(6), deliver(5));
        q.push(SimTime(40_000), deliver(6));
        assert_eq!(q.peek_time(), Some(SimTime(6)));
        assert_eq!(q.pop_until(SimTime(40_000)), Some((SimTime(6), deliver(5))));
        assert_eq!(
            q.pop_until(SimTime(40_000)),
            Some((SimTime(40_000), deliver(4)))
        );
        assert_eq!(
            q.pop_until(SimTime(40_000)),
            Some((SimTime(40_000), deliver(6)))
        );
        // Beyond the ring: looking pulls it in, a limit short of it still takes nothing.
        assert_eq!(q.pop_until(SimTime(ring_ns * 3 - 1)), None);
        assert_eq!(
            q.pop_until(SimTime(u64::MAX)),
            Some((SimTime(ring_ns * 3), deliver(3)))
        );
        assert!(q.is_empty() && q.pop_until(SimTime(u64::MAX)).is_none());
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

    /// A broadcast queued by `push_deliveries` (with its cache hints) pops exactly as the same
    /// deliveries pushed one by one, among other events, across buckets, the ring's edge and
    /// beyond it, with ties.
    #[test]
    fn push_deliveries_is_pushing_one_by_one() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let ring_ns = (BUCKETS as u64) << BUCKET_SHIFT;
        let (mut batched, mut single) = (EventQueue::new(), EventQueue::new());
        let mut popped = 0;
        for msg in 0..40u32 {
            let now = batched.peek_time().unwrap_or(SimTime(0)).0;
            let deliveries: Vec<(SimTime, u16)> = (0..300u16)
                .map(|to| {
                    let delay = match to % 4 {
                        0 => rng.random_range(0..1_000),
                        1 => rng.random_range(0..ring_ns),
                        2 => rng.random_range(ring_ns..ring_ns * 3),
                        _ => (to as u64 % 7) << BUCKET_SHIFT,
                    };
                    (SimTime(now + delay), to)
                })
                .collect();
            batched.push_deliveries(&deliveries, msg);
            for &(time, to) in &deliveries {
                single.push(time, Event::Deliver { to, msg });
            }
            for _ in 0..200 {
                let next = batched.pop();
                assert_eq!(next, single.pop());
                popped += usize::from(next.is_some());
            }
        }
        assert_eq!(batched.len(), single.len());
        while let Some(next) = batched.pop() {
            assert_eq!(Some(next), single.pop());
            popped += 1;
        }
        assert_eq!((popped, single.pop()), (40 * 300, None));
    }

    /// `delivery_ahead(k)` is the delivery that the `k + 1`-th pop from now returns, while it
    /// is in the current bucket's sorted run; other events and the end of the run give `None`.
    #[test]
    fn delivery_ahead_names_the_deliveries_the_next_pops_return() {
        let mut q = EventQueue::new();
        let base = 5u64 << BUCKET_SHIFT;
        for i in 0..10u32 {
            // Scheduled out of time order within one bucket (the wake below ties with one).
            let time = base + u64::from((i * 7) % 10);
            q.push(
                SimTime(time),
                Event::Deliver {
                    to: i as u16,
                    msg: 100 + i,
                },
            );
        }
        q.push(SimTime(base + 3), Event::Wake { node: 9 });
        q.push(SimTime(base + 1_000_000), deliver(50));
        let (_, first) = q.pop().unwrap();
        assert_eq!(first, Event::Deliver { to: 0, msg: 100 });
        let ahead: Vec<_> = (0..12).map(|k| q.delivery_ahead(k)).collect();
        let mut order = Vec::new();
        while let Some((time, event)) = q.pop() {
            if time.0 >> BUCKET_SHIFT != 5 {
                break;
            }
            order.push(match event {
                Event::Deliver { to, msg } => Some((to, msg)),
                _ => None,
            });
        }
        assert_eq!(
            order.len(),
            10,
            "nine deliveries and the wake are left in the bucket"
        );
        assert!(order.contains(&None));
        order.resize(12, None);
        assert_eq!(ahead, order);
    }

    /// The reference order: a binary heap of `(time, seq)` keys, as the queue once was.
    #[derive(Default)]
    struct Reference {
        heap: BinaryHeap<std::cmp::Reverse<(u64, u64, u32)>>,
        seq: u64,
    }

    impl Reference {
        fn push(&mut self, time: u64, id: u32) {
            self.heap.push(std::cmp::Reverse((time, self.seq, id)));
            self.seq += 1;
        }

        fn pop(&mut self) -> Option<(u64, u32)> {
            self.heap.pop().map(|std::cmp::Reverse((t, _, id))| (t, id))
        }

        fn peek_time(&self) -> Option<u64> {
            self.heap.peek().map(|std::cmp::Reverse((t, _, _))| *t)
        }
    }

    /// Pushes at `now`, within a bucket, across the ring, beyond it, after quiet gaps longer
    /// than the ring, and bursts at one instant: every pop and peek matches the reference.
    #[test]
    fn matches_a_binary_heap_over_every_span_of_delay() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let ring_ns = (BUCKETS as u64) << BUCKET_SHIFT;
        let mut q = EventQueue::new();
        let mut reference = Reference::default();
        let mut now = 0u64;
        let mut next_id = 0u32;
        let mut popped = 0;
        for step in 0..200_000 {
            let pushes = match rng.random_range(0..10) {
                0 => 0,
                1 => 40,
                _ => rng.random_range(0..3),
            };
            let instant = now + rng.random_range(0..3);
            for _ in 0..pushes {
                let delay = match rng.random_range(0..8) {
                    0 => 0,
                    1 => instant - now,
                    2 => rng.random_range(0..1u64 << BUCKET_SHIFT),
                    3 => rng.random_range(0..ring_ns),
                    4 => ring_ns - 1 + rng.random_range(0..3),
                    5 => rng.random_range(ring_ns..20 * ring_ns),
                    _ => rng.random_range(20_000_000..120_000_000),
                };
                q.push(
                    SimTime(now + delay),
                    Event::Deliver {
                        to: 0,
                        msg: next_id,
                    },
                );
                reference.push(now + delay, next_id);
                next_id += 1;
            }
            assert_eq!(q.len(), reference.heap.len());
            assert_eq!(
                q.peek_time().map(|t| t.0),
                reference.peek_time(),
                "step {step}"
            );
            let pops = if step % 1000 == 999 {
                1_000
            } else {
                rng.random_range(0..3)
            };
            for _ in 0..pops {
                let expected = reference.pop();
                let got = q.pop().map(|(t, e)| match e {
                    Event::Deliver { msg, .. } => (t.0, msg),
                    _ => unreachable!(),
                });
                assert_eq!(got, expected, "step {step}");
                if let Some((t, _)) = got {
                    now = t;
                    popped += 1;
                }
            }
        }
        while let Some(expected) = reference.pop() {
            assert_eq!(
                q.pop().map(|(t, e)| (t.0, e)),
                Some((
                    expected.0,
                    Event::Deliver {
                        to: 0,
                        msg: expected.1
                    }
                ))
            );
        }
        assert!(q.is_empty() && q.pop().is_none() && q.peek_time().is_none());
        assert!(popped > 100_000, "{popped} popped");
    }

    /// Buckets large enough for the radix sort, from a few events over `RADIX_MIN` to 20,000,
    /// with many equal times and times at both ends of the bucket, pop in `(time, sequence)`
    /// order like the reference.
    #[test]
    fn large_buckets_pop_in_time_then_fifo_order() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let width = 1u64 << BUCKET_SHIFT;
        let mut q = EventQueue::new();
        let mut reference = Reference::default();
        let mut next_id = 0u32;
        let mut start = width;
        for size in [RADIX_MIN - 1, RADIX_MIN, RADIX_MIN + 3, 1_000, 20_000] {
            for _ in 0..size {
                let offset = match rng.random_range(0..4) {
                    0 => 0,
                    1 => width - 1,
                    2 => rng.random_range(0..8) * 257,
                    _ => rng.random_range(0..width),
                };
                let event = Event::Deliver {
                    to: 0,
                    msg: next_id,
                };
                q.push(SimTime(start + offset), event);
                reference.push(start + offset, next_id);
                next_id += 1;
            }
            start += 3 * width;
        }
        let mut popped = 0u32;
        while let Some(expected) = reference.pop() {
            let got = q.pop().map(|(t, e)| match e {
                Event::Deliver { msg, .. } => (t.0, msg),
                _ => unreachable!(),
            });
            assert_eq!(got, Some(expected));
            popped += 1;
        }
        assert_eq!(popped, next_id);
        assert!(q.is_empty());
    }

    /// Validators broadcasting over 20-120 ms links, 100,000 deliveries pending: the buffers
    /// the queue reserves stay within 48 bytes per pending event at the peak.
    #[test]
    fn broadcasts_reserve_at_most_48_bytes_per_pending_event() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut q = EventQueue::new();
        let mut peak = 0;
        q.push(SimTime(0), deliver(0));
        for _ in 0..600_000 {
            let (now, _) = q.pop().unwrap();
            let fan_out = if q.len() < 100_000 { 2 } else { 0 };
            for _ in 0..fan_out {
                let delay = rng.random_range(20_000_000..120_000_000);
                q.push(now + Duration::from_nanos(delay), deliver(1));
            }
            peak = peak.max(q.len());
        }
        let per_event = q.reserved_bytes() as f64 / peak as f64;
        assert!(peak >= 99_000, "peak {peak}");
        assert!(per_event <= 48.0, "{per_event:.1} bytes per pending event");
    }

    /// Three events at a time, every 50 ms (about 1,500 ring slots apart), 20,000 times: the
    /// ring's slots are all visited, but the buffers of small buckets that ran out are lent
    /// on, so a handful of buffers serve them, where a buffer a slot would have made 4,096
    /// (64 bytes each, 256 KiB in all).
    #[test]
    fn sparse_events_reuse_a_few_bucket_buffers_across_the_ring() {
        let mut q = EventQueue::new();
        let mut popped = Vec::new();
        for i in 0..20_000u64 {
            for k in 0..3 {
                q.push(SimTime(i * 50_000_000 + 7 + k), deliver(k as u16));
            }
            while let Some((time, _)) = q.pop() {
                popped.push(time.0);
            }
        }
        assert_eq!(popped.len(), 60_000);
        assert!(popped.windows(2).all(|w| w[0] <= w[1]), "time order");
        let ring: usize = q.ring.iter().filter(|b| b.capacity() > 0).count();
        assert!(
            ring + q.spare.len() <= 8,
            "{ring} slots and {} spares hold buffers",
            q.spare.len()
        );
        assert!(
            q.reserved_bytes() < 150_000,
            "{} bytes reserved",
            q.reserved_bytes()
        );
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
