//! The trace hash: a 64-bit fingerprint of every processed event, in order. Two runs with the
//! same hash processed the same events at the same virtual times.

/// Running FNV-1a-style hash over 64-bit words (platform independent).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceHash(u64);

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash(0xcbf2_9ce4_8422_2325)
    }
}

impl TraceHash {
    /// Mix one word into the hash.
    #[inline]
    pub fn mix(&mut self, word: u64) {
        // FNV-1a over the word, then a multiply-xorshift so every bit of the word spreads.
        let mut h = (self.0 ^ word).wrapping_mul(0x0000_0100_0000_01b3);
        h ^= h >> 29;
        self.0 = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }

    /// The hash so far.
    pub fn value(&self) -> u64 {
        self.0
    }

    /// The hash as 16 hex digits, as reports print it.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_and_content_change_the_hash() {
        let hash = |words: &[u64]| {
            let mut h = TraceHash::default();
            words.iter().for_each(|w| h.mix(*w));
            h.value()
        };
        assert_eq!(hash(&[1, 2, 3]), hash(&[1, 2, 3]));
        assert_ne!(hash(&[1, 2, 3]), hash(&[3, 2, 1]));
        assert_ne!(hash(&[1, 2, 3]), hash(&[1, 2, 4]));
        assert_eq!(TraceHash::default().hex().len(), 16);
    }
}
