//! One direction of a peer connection, as CometBFT's `MConnection` times it
//! (p2p/conn/connection.go): messages are written through a rate limiter of `send_rate`
//! bytes per second into a buffered writer that is flushed by a throttle timer every
//! `flush_throttle_timeout`, or at once when a write fills its 64 KiB buffer; the receiver reads
//! through a limiter of `recv_rate`. Messages arrive in the order they were written (TCP).

use crate::net::ceil_nanos;
use crate::sim::SimTime;

/// Size of the connection's buffered writer (`minWriteBufferSize` in connection.go): a write
/// that fills it goes out without waiting for the flush timer.
pub const WRITE_BUFFER_BYTES: u32 = 65_536;

/// Timing settings shared by every connection.
#[derive(Clone, Copy, Debug)]
pub struct ConnParams {
    /// Nanoseconds per byte at `send_rate` (and the link's bandwidth, if lower).
    pub send_ns_per_byte: f64,
    /// Nanoseconds per byte at `recv_rate`.
    pub recv_ns_per_byte: f64,
    /// `flush_throttle_timeout`, nanoseconds.
    pub flush_throttle_ns: u64,
}

/// The timing state of one direction of a connection.
#[derive(Clone, Copy, Debug, Default)]
pub struct Link {
    /// When the send limiter lets the next byte out.
    send_free: SimTime,
    /// When the receiver has read everything that arrived so far.
    recv_free: SimTime,
    /// Latest arrival (TCP keeps order).
    last_arrival: SimTime,
    /// Phase of the flush timer: with gossip, HasVote and transactions always flowing, a
    /// connection's throttle timer is almost always armed, so it fires every
    /// `flush_throttle_timeout` from the first write on.
    flush_phase: u64,
}

impl Link {
    /// A link whose flush timer fires at `flush_phase + k · flush_throttle_timeout`.
    pub fn new(flush_phase: u64) -> Link {
        Link {
            flush_phase,
            ..Link::default()
        }
    }

    /// When the send limiter lets the next byte of consensus traffic out.
    pub fn send_free(&self) -> SimTime {
        self.send_free
    }

    /// Phase of the flush timer: it fires at `flush_phase + k · flush_throttle_timeout`.
    pub fn flush_phase(&self) -> u64 {
        self.flush_phase
    }

    /// Write `bytes` at `now`; `latency_ns` is this transmission's one-way latency. Returns
    /// when the receiver has read the whole message.
    pub fn transmit(
        &mut self,
        params: &ConnParams,
        now: SimTime,
        bytes: u32,
        latency_ns: u64,
    ) -> SimTime {
        let send_ns = ceil_nanos(f64::from(bytes) * params.send_ns_per_byte);
        let start = now.max(self.send_free);
        let written = start.plus_nanos(send_ns);
        self.send_free = written;
        let flushed = if bytes >= WRITE_BUFFER_BYTES || params.flush_throttle_ns == 0 {
            written
        } else {
            next_tick(written, self.flush_phase, params.flush_throttle_ns)
        };
        let last_byte = flushed.plus_nanos(latency_ns);
        // The receiver reads from the first byte on, no faster than `recv_rate`.
        let recv_ns = ceil_nanos(f64::from(bytes) * params.recv_ns_per_byte);
        let first_byte = SimTime(last_byte.as_nanos().saturating_sub(send_ns));
        let read = first_byte.max(self.recv_free).plus_nanos(recv_ns);
        let at = read.max(last_byte).max(self.last_arrival);
        self.recv_free = at;
        self.last_arrival = at;
        at
    }
}

/// The first time `>= t` of the grid `phase + k · period`.
pub fn next_tick(t: SimTime, phase: u64, period: u64) -> SimTime {
    if period == 0 {
        return t;
    }
    let t_ns = t.as_nanos();
    if t_ns <= phase {
        return SimTime(phase);
    }
    let k = (t_ns - phase).div_ceil(period);
    SimTime(phase.saturating_add(k.saturating_mul(period)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ConnParams {
        ConnParams {
            send_ns_per_byte: 1e9 / 5_120_000.0,
            recv_ns_per_byte: 1e9 / 5_120_000.0,
            flush_throttle_ns: 100_000_000,
        }
    }

    #[test]
    fn a_small_message_waits_for_the_flush_timer() {
        let mut link = Link::new(30_000_000);
        // Written at 10 ms (plus 39 µs at 5.12 MB/s), flushed at the timer's 30 ms tick.
        let at = link.transmit(&params(), SimTime(10_000_000), 200, 1_000_000);
        assert_eq!(at, SimTime(31_000_000));
        // After the tick, the next one is 100 ms later.
        let at = link.transmit(&params(), SimTime(40_000_000), 200, 1_000_000);
        assert_eq!(at, SimTime(131_000_000));
    }

    #[test]
    fn a_block_part_goes_out_at_the_send_rate() {
        let mut link = Link::new(0);
        // 16 parts of 64 KiB, written back to back: 12.8 ms each at 5.12 MB/s, no flush wait.
        let mut at = SimTime::ZERO;
        for _ in 0..16 {
            at = link.transmit(&params(), SimTime::ZERO, WRITE_BUFFER_BYTES, 2_000_000);
        }
        let expected = (16.0 * 65_536.0 / 5_120_000.0 * 1e9) as u64 + 2_000_000;
        assert!(
            at.as_nanos().abs_diff(expected) < 100,
            "{at:?} vs {expected}"
        );
    }

    #[test]
    fn arrivals_keep_their_order() {
        let mut link = Link::new(0);
        let a = link.transmit(&params(), SimTime::ZERO, 200, 50_000_000);
        let b = link.transmit(&params(), SimTime(1), 200, 1_000_000);
        assert!(b >= a);
    }
}
