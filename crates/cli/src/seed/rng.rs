//! The seed's random numbers: SplitMix64, written here rather than taken from `rand`, whose
//! generators may change between versions. The same `--seed` must give the same company on
//! every build, so every draw comes from a stream named by the seed and a purpose.

/// A deterministic stream of numbers.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The stream for `purpose` (and `index`, e.g. a mail's number) under `seed`: streams of
    /// different purposes do not shift each other when one draws more.
    pub fn stream(seed: u64, purpose: &str, index: u64) -> Rng {
        // FNV-1a of the purpose, mixed with the seed and the index.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in purpose.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut r = Rng(seed ^ h.rotate_left(17) ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        r.next_u64();
        r
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // The modulo bias is below 2^-40 for the small ranges used here.
        usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn by weight (a zero total picks 0).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        if total == 0 {
            return 0;
        }
        let mut at = self.next_u64() % total;
        for (i, w) in weights.iter().enumerate() {
            let w = u64::from(*w);
            if at < w {
                return i;
            }
            at -= w;
        }
        weights.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn the_same_stream_gives_the_same_numbers_and_purposes_differ() {
        let a: Vec<u64> = (0..4)
            .map(|_| Rng::stream(1, "mail", 7).next_u64())
            .collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(
            Rng::stream(1, "mail", 7).next_u64(),
            Rng::stream(1, "mail", 8).next_u64()
        );
        assert_ne!(
            Rng::stream(1, "mail", 7).next_u64(),
            Rng::stream(2, "mail", 7).next_u64()
        );
        let mut r = Rng::stream(3, "x", 0);
        for _ in 0..1000 {
            assert!(r.below(7) < 7);
            let v = r.range(5, 9);
            assert!((5..=9).contains(&v));
            assert!(r.weighted(&[0, 3, 0]) == 1);
        }
    }
}
