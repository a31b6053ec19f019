//! One link's latency distribution, sampled in whole nanoseconds.
//!
//! The samplers use only IEEE arithmetic and the pure-Rust `libm` for `ln`, `exp` and `sqrt`,
//! never the platform's maths library, so a seed draws the same latencies on every machine.

use super::NetError;
use crate::config::LatencySpec;
use crate::sim::SimRng;
use crate::sim::time::saturating_nanos;
use rand::Rng;
use rand::distr::{Distribution, Uniform};
use std::time::Duration;

/// A ready-to-sample latency distribution (parameters in nanoseconds).
#[derive(Clone, Debug)]
pub enum LinkLatency {
    /// Always this many nanoseconds; draws nothing.
    Constant(u64),
    /// Uniform over `[min, max]` nanoseconds, inclusive.
    Uniform {
        /// The distribution.
        dist: Uniform<u64>,
        /// Its lower bound.
        min: u64,
    },
    /// Normal, clamped at zero.
    Normal(Gaussian),
    /// `exp` of a normal with these `mu` and `sigma` (the log-normal of the spec's mean and
    /// standard deviation).
    Lognormal(Gaussian),
    /// Exponential with this mean, nanoseconds.
    Exponential(f64),
}

/// Normal draws with mean `mean` and standard deviation `sd` by Marsaglia's polar method, which
/// yields two per logarithm: the second is kept for the next draw.
#[derive(Clone, Debug)]
pub struct Gaussian {
    mean: f64,
    sd: f64,
    spare: Option<f64>,
}

impl Gaussian {
    fn new(mean: f64, sd: f64) -> Result<Self, String> {
        if !(mean.is_finite() && sd.is_finite() && sd >= 0.0) {
            return Err(format!("mean {mean} and standard deviation {sd}"));
        }
        Ok(Gaussian {
            mean,
            sd,
            spare: None,
        })
    }

    /// The standard normal (mean 0, standard deviation 1).
    pub(super) fn standard() -> Self {
        Gaussian {
            mean: 0.0,
            sd: 1.0,
            spare: None,
        }
    }

    /// One draw (inlined into the link's sampler: a call is a tenth of its cost).
    #[inline(always)]
    pub(super) fn sample(&mut self, rng: &mut SimRng) -> f64 {
        if let Some(z) = self.spare.take() {
            return self.mean + self.sd * z;
        }
        loop {
            let u = 2.0 * rng.random::<f64>() - 1.0;
            let v = 2.0 * rng.random::<f64>() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let factor = libm::sqrt(-2.0 * libm::log(s) / s);
                self.spare = Some(v * factor);
                return self.mean + self.sd * u * factor;
            }
        }
    }
}

impl LinkLatency {
    /// The sampler for `spec`; degenerate spreads (zero stddev, zero mean) become constants.
    pub fn new(spec: &LatencySpec) -> Result<LinkLatency, NetError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            NetError(format!("latency: {what} distribution is invalid: {e}"))
        };
        Ok(match *spec {
            LatencySpec::Constant { mean } => LinkLatency::Constant(saturating_nanos(mean)),
            LatencySpec::Uniform { min, max } => {
                let (lo, hi) = (saturating_nanos(min), saturating_nanos(max));
                if lo > hi {
                    return Err(NetError(format!(
                        "latency: uniform min {min:?} is above max {max:?}"
                    )));
                }
                if lo == hi {
                    LinkLatency::Constant(lo)
                } else {
                    LinkLatency::Uniform {
                        dist: Uniform::new_inclusive(lo, hi).map_err(|e| bad("uniform", &e))?,
                        min: lo,
                    }
                }
            }
            LatencySpec::Normal { mean, stddev } => {
                if stddev.is_zero() {
                    LinkLatency::Constant(saturating_nanos(mean))
                } else {
                    LinkLatency::Normal(
                        Gaussian::new(nanos_f64(mean), nanos_f64(stddev))
                            .map_err(|e| bad("normal", &e))?,
                    )
                }
            }
            LatencySpec::Lognormal { mean, stddev } => {
                if stddev.is_zero() || mean.is_zero() {
                    LinkLatency::Constant(saturating_nanos(mean))
                } else {
                    let (m, s) = (nanos_f64(mean), nanos_f64(stddev));
                    let sigma2 = libm::log(1.0 + (s * s) / (m * m));
                    let mu = libm::log(m) - sigma2 / 2.0;
                    LinkLatency::Lognormal(
                        Gaussian::new(mu, libm::sqrt(sigma2)).map_err(|e| bad("lognormal", &e))?,
                    )
                }
            }
            LatencySpec::Exponential { mean } => {
                if mean.is_zero() {
                    LinkLatency::Constant(0)
                } else {
                    LinkLatency::Exponential(nanos_f64(mean))
                }
            }
        })
    }

    /// One hop's latency in nanoseconds (rounded to the nearest, never negative).
    #[inline(always)]
    pub fn sample(&mut self, rng: &mut SimRng) -> u64 {
        match self {
            LinkLatency::Constant(ns) => *ns,
            LinkLatency::Uniform { dist, .. } => dist.sample(rng),
            LinkLatency::Normal(g) => round_nanos(g.sample(rng)),
            LinkLatency::Lognormal(g) => round_exp_nanos(g.sample(rng)),
            // Inverse transform of a uniform in (0, 1].
            LinkLatency::Exponential(mean) => {
                round_nanos(-libm::log(1.0 - rng.random::<f64>()) * *mean)
            }
        }
    }

    /// The smallest latency a hop can take, in nanoseconds.
    pub fn min_nanos(&self) -> u64 {
        match self {
            LinkLatency::Constant(ns) => *ns,
            LinkLatency::Uniform { min, .. } => *min,
            LinkLatency::Normal(_) | LinkLatency::Lognormal(_) | LinkLatency::Exponential(_) => 0,
        }
    }
}

fn nanos_f64(d: Duration) -> f64 {
    d.as_nanos() as f64
}

/// Nearest whole nanosecond, halves away from zero; negative (normal tail) and NaN become 0,
/// huge values saturate: exactly `x.round() as u64` for every `x` (the test
/// `round_nanos_is_round_then_cast` pins it), without the call to the software `round` a
/// baseline x86-64 build makes (a sixth of a lognormal draw's cost).
#[inline]
pub(super) fn round_nanos(x: f64) -> u64 {
    // `as` truncates toward zero, saturates and maps NaN to 0. Below 2^53 the truncation and
    // the fraction `x - whole` are exact; from there on `x` is a whole number, so the
    // fraction is 0 (or, past `u64::MAX`, positive and the sum saturates as the cast does).
    let whole = x as u64;
    if x - whole as f64 >= 0.5 {
        whole.saturating_add(1)
    } else {
        whole
    }
}

/// `round_nanos(libm::exp(x))`, exactly, for every `x`, mostly without `libm::exp` (two
/// thirds of a log-normal draw's cost; the test `round_exp_nanos_is_libm_exp_rounded` pins
/// it). It rounds [`fast_exp`] instead, whose relative error is below 2^-42 on `(-600, 35)`
/// (its comment derives the bound), and `libm::exp` is within one ulp, so the two are within
/// `y * 2^-40` of each other. Only a half-integer in that interval around `fast_exp`'s `y`
/// could round them apart; when `y` is that close to one (about once in ten thousand
/// 50 ms draws), or `x` is outside the range, the exact value is computed.
#[inline]
fn round_exp_nanos(x: f64) -> u64 {
    if x > FAST_EXP_MIN
        && x < FAST_EXP_MAX
        && let Some(ns) = sure_rounding(fast_exp(x))
    {
        return ns;
    }
    round_nanos(libm::exp(x))
}

/// The nearest whole number to every value within `y * FAST_EXP_MARGIN` of `y` (for `0 <= y <
/// 2^51`), or `None` when a half-integer lies that close and the neighbours round apart.
#[inline]
fn sure_rounding(y: f64) -> Option<u64> {
    // Adding 2^52 rounds `y` to the nearest integer `n`, which the sum's mantissa holds; `n`
    // and `y - n` are exact. Rounding changes only at the half-integers, and the nearest one is
    // `0.5 - |y - n|` away (a tie, where `n` could be the even neighbour, fails the test).
    const TWO_52: f64 = 4503599627370496.0;
    let big = y + TWO_52;
    let distance = 0.5 - (y - (big - TWO_52)).abs();
    (distance > y * FAST_EXP_MARGIN).then_some(big.to_bits() & ((1 << 52) - 1))
}

/// The range of arguments [`round_exp_nanos`] gives [`fast_exp`]: its results there are
/// normal numbers below 2^51, where the bound on its error holds and rounding is exact.
const FAST_EXP_MIN: f64 = -600.0;
const FAST_EXP_MAX: f64 = 35.0;
/// Relative distance within which [`fast_exp`] and `libm::exp` lie (2^-40, 4.6 times the bound
/// derived at `fast_exp` at the range's ends and 90 times it near the 50 ms draws, ln y ≈ 17.7).
const FAST_EXP_MARGIN: f64 = 1.0 / (1u64 << 40) as f64;

/// `exp(x)` for `x` in `(FAST_EXP_MIN, FAST_EXP_MAX)`, within a relative 2^-42 of the true value:
/// `x = k ln2/64 + r` with `k` the nearest integer to `64 x / ln2`, and `exp(x) = 2^(k div 64) *
/// 2^((k mod 64)/64) * exp(r)`, from a table of the 64 powers and a degree-5 Taylor polynomial.
/// The error bound, relative:
/// - `r` is `x - k * (ln2/64)` in floating point: the rounded constant and the rounded product
///   are each off by at most 2^-53 |x|, so `r` by at most 2^-52 |x| + one rounding of `r`:
///   below 1.4e-13 at |x| = 600 and 8e-15 at |x| = 35; exp(r) inherits that as relative error;
/// - |r| <= ln2/128 (0.0054), so the polynomial's remainder r^6/720 e^r is below 4e-17, and its
///   six roundings below 1e-15;
/// - the table entries are within 2^-49 (the test `exp2_table_is_within_a_few_ulps` checks it),
///   and the final products add two roundings and an exact power of two.
///
/// In all below 1.5e-13 < 2^-42.
#[inline]
fn fast_exp(x: f64) -> f64 {
    const SIXTY_FOUR_OVER_LN2: f64 = 64.0 / std::f64::consts::LN_2;
    const LN2_OVER_SIXTY_FOUR: f64 = std::f64::consts::LN_2 / 64.0;
    // Adding and subtracting 1.5 * 2^52 rounds to the nearest integer (|t| < 2^51 here).
    const SHIFTER: f64 = 6755399441055744.0;
    // The sum's low mantissa bits hold `k` in two's complement.
    let shifted = x * SIXTY_FOUR_OVER_LN2 + SHIFTER;
    let kf = shifted - SHIFTER;
    let k = shifted.to_bits() as i32;
    let r = x - kf * LN2_OVER_SIXTY_FOUR;
    let p =
        1.0 + r * (1.0 + r * (1.0 / 2.0 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0)))));
    // `k >> 6` rounds toward minus infinity, so `k & 63` is the non-negative remainder.
    let scale = f64::from_bits((((k >> 6) + 1023) as u64) << 52);
    EXP2_64THS[(k & 63) as usize] * p * scale
}

/// `2^(j/64)` for `j` in `0..64`, computed at compile time by the Taylor series of `exp(j ln2
/// / 64)` (25 terms, far past where they fall below an ulp).
const EXP2_64THS: [f64; 64] = exp2_64ths();

const fn exp2_64ths() -> [f64; 64] {
    let mut table = [0.0; 64];
    let mut j = 0;
    while j < 64 {
        let y = j as f64 * (std::f64::consts::LN_2 / 64.0);
        let (mut term, mut sum, mut i) = (1.0, 1.0, 1);
        while i < 25 {
            term = term * y / i as f64;
            sum += term;
            i += 1;
        }
        table[j] = sum;
        j += 1;
    }
    table
}

/// Nanoseconds rounded up: exactly `x.ceil() as u64` for every `x` (the test
/// `ceil_nanos_is_ceil_then_cast` pins it), without the call to the software `ceil` a baseline
/// x86-64 build makes. Send and receive times of the gossip layer (bytes times ns per byte)
/// round up with it: 2.6 million calls in 10 s of the QA-shaped bench.
#[inline]
pub(crate) fn ceil_nanos(x: f64) -> u64 {
    // `as` truncates toward zero, saturates and maps NaN to 0; below 2^53 the truncation is
    // exact, so a positive fraction is what it dropped (from there on `x` is whole, and past
    // `u64::MAX` the sum saturates as the cast does).
    let whole = x as u64;
    if (whole as f64) < x {
        whole.saturating_add(1)
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::{Stream, stream};

    fn draws(spec: LatencySpec, count: usize) -> Vec<u64> {
        let mut lat = LinkLatency::new(&spec).unwrap();
        let mut rng = stream(11, Stream::Network);
        (0..count).map(|_| lat.sample(&mut rng)).collect()
    }

    fn mean_sd(xs: &[u64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = xs.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    const MS: f64 = 1e6;

    #[test]
    fn uniform_samples_stay_in_bounds_and_average_the_middle() {
        let xs = draws(
            LatencySpec::Uniform {
                min: Duration::from_millis(10),
                max: Duration::from_millis(20),
            },
            20_000,
        );
        assert!(xs.iter().all(|&x| (10_000_000..=20_000_000).contains(&x)));
        let (mean, _) = mean_sd(&xs);
        assert!((mean - 15.0 * MS).abs() < 0.01 * 15.0 * MS, "mean {mean}");
        // Both ends are reached (within 0.1 ms).
        assert!(xs.iter().any(|&x| x < 10_100_000));
        assert!(xs.iter().any(|&x| x > 19_900_000));
    }

    /// Every awkward `f64` the roundings meet: zeros, halves, the neighbours of whole and half
    /// numbers at every scale, the edges of `u64`, infinities, NaN, and random values.
    fn rounding_cases() -> Vec<f64> {
        let mut cases = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            -0.5,
            -0.7,
            0.49999999999999994,
            4503599627370495.5,
            4503599627370496.0,
            9007199254740993.0,
            18446744073709549568.0,
            18446744073709551616.0,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        // Every half and its neighbours, at every scale; and lognormal-sized draws.
        for e in 0..64 {
            let h = 2f64.powi(e) + 0.5;
            cases.extend([
                h,
                libm::nextafter(h, 0.0),
                libm::nextafter(h, f64::INFINITY),
            ]);
        }
        let mut rng = stream(3, Stream::Network);
        for _ in 0..200_000 {
            let x: f64 = rng.random::<f64>() * 1e8;
            cases.extend([x, x.trunc() + 0.5, -x]);
            cases.push(f64::from_bits(rng.random::<u64>()));
        }
        for e in 0..66 {
            let w = 2f64.powi(e);
            cases.extend([
                w,
                libm::nextafter(w, 0.0),
                libm::nextafter(w, f64::INFINITY),
                w + 1.0,
                libm::nextafter(w + 1.0, 0.0),
            ]);
        }
        cases
    }

    #[test]
    fn ceil_nanos_is_ceil_then_cast() {
        for x in rounding_cases() {
            assert_eq!(ceil_nanos(x), x.ceil() as u64, "{x:e} ({:#x})", x.to_bits());
        }
    }

    #[test]
    fn round_nanos_is_round_then_cast() {
        for x in rounding_cases() {
            assert_eq!(
                round_nanos(x),
                x.round() as u64,
                "{x:e} ({:#x})",
                x.to_bits()
            );
        }
    }

    #[test]
    fn exp2_table_is_within_a_few_ulps() {
        for (j, &t) in EXP2_64THS.iter().enumerate() {
            let exact = libm::exp2(j as f64 / 64.0);
            assert!(
                (t - exact).abs() <= t * 2f64.powi(-49),
                "2^({j}/64): {t:e} vs {exact:e}"
            );
        }
        assert_eq!(EXP2_64THS[0], 1.0);
    }

    #[test]
    fn fast_exp_is_within_its_bound() {
        let mut rng = stream(5, Stream::Network);
        let mut worst = 0f64;
        for i in 0..400_000 {
            // The whole range, and the log-normal draws' (ln 1 ms to ln 10 s).
            let x = if i % 2 == 0 {
                FAST_EXP_MIN + rng.random::<f64>() * (FAST_EXP_MAX - FAST_EXP_MIN)
            } else {
                13.8 + rng.random::<f64>() * 9.2
            };
            let (fast, exact) = (fast_exp(x), libm::exp(x));
            worst = worst.max((fast - exact).abs() / exact);
        }
        assert!(worst < 2f64.powi(-42), "worst relative error {worst:e}");
        assert!(worst > 0.0);
    }

    #[test]
    fn round_exp_nanos_is_libm_exp_rounded() {
        let mut rng = stream(7, Stream::Network);
        let cases = [
            FAST_EXP_MIN,
            FAST_EXP_MAX,
            0.0,
            -0.0,
            -1e-300,
            35.3,
            40.0,
            43.7,
            44.4,
            700.0,
            709.9,
            -700.0,
            -750.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            libm::log(0.5),
        ];
        // Log-normal-sized arguments (ln 22 µs to ln 26 s), and the logarithms of half-integers
        // with their neighbours: the cases the fast rounding must hand to libm.
        let draws: Vec<f64> = (0..200_000)
            .map(|_| 10.0 + rng.random::<f64>() * 14.0)
            .collect();
        let mut halves = Vec::new();
        for _ in 0..100_000 {
            let mut x = libm::log((rng.random::<u64>() >> 24) as f64 + 0.5);
            for _ in 0..4 {
                halves.push(x);
                x = libm::nextafter(x, f64::INFINITY);
            }
        }
        for &x in cases.iter().chain(&draws).chain(&halves) {
            assert_eq!(
                round_exp_nanos(x),
                round_nanos(libm::exp(x)),
                "{x:e} ({:#x})",
                x.to_bits()
            );
        }
        let unsure = |xs: &[f64]| {
            xs.iter()
                .filter(|&&x| sure_rounding(fast_exp(x)).is_none())
                .count()
        };
        // Nearly every half-integer's logarithm reaches the exact path, and few draws do (the
        // window is 2 y 2^-40 wide: 4.7 % of the values at 26 s, 0.009 % at 50 ms).
        assert!(unsure(&halves) > 390_000, "{} of 400000", unsure(&halves));
        let drawn = unsure(&draws);
        assert!(
            (1..2_000).contains(&drawn),
            "{drawn} of 200000 draws unsure"
        );
    }

    #[test]
    fn lognormal_matches_requested_mean_and_stddev() {
        let xs = draws(
            LatencySpec::Lognormal {
                mean: Duration::from_millis(100),
                stddev: Duration::from_millis(50),
            },
            20_000,
        );
        let (mean, sd) = mean_sd(&xs);
        assert!((mean - 100.0 * MS).abs() < 0.02 * 100.0 * MS, "mean {mean}");
        assert!((sd - 50.0 * MS).abs() < 0.05 * 50.0 * MS, "sd {sd}");
    }

    #[test]
    fn exponential_matches_requested_mean() {
        let xs = draws(
            LatencySpec::Exponential {
                mean: Duration::from_millis(80),
            },
            20_000,
        );
        let (mean, sd) = mean_sd(&xs);
        assert!((mean - 80.0 * MS).abs() < 0.03 * 80.0 * MS, "mean {mean}");
        assert!((sd - 80.0 * MS).abs() < 0.05 * 80.0 * MS, "sd {sd}");
    }

    #[test]
    fn normal_matches_mean_and_never_goes_negative() {
        let xs = draws(
            LatencySpec::Normal {
                mean: Duration::from_millis(50),
                stddev: Duration::from_millis(10),
            },
            20_000,
        );
        let (mean, sd) = mean_sd(&xs);
        assert!((mean - 50.0 * MS).abs() < 0.01 * 50.0 * MS, "mean {mean}");
        assert!((sd - 10.0 * MS).abs() < 0.05 * 10.0 * MS, "sd {sd}");
        // A wide normal is clamped at zero, not wrapped around.
        let wide = draws(
            LatencySpec::Normal {
                mean: Duration::from_millis(1),
                stddev: Duration::from_millis(10),
            },
            2_000,
        );
        let zeros = wide.iter().filter(|&&x| x == 0).count();
        assert!((800..1_100).contains(&zeros), "zeros {zeros}");
        assert!(wide.iter().all(|&x| x < 100_000_000));
    }

    #[test]
    fn degenerate_spreads_are_constant_and_min_is_the_support_floor() {
        let mut c = LinkLatency::new(&LatencySpec::Normal {
            mean: Duration::from_millis(7),
            stddev: Duration::ZERO,
        })
        .unwrap();
        assert_eq!(c.sample(&mut stream(1, Stream::Network)), 7_000_000);
        assert_eq!(c.min_nanos(), 7_000_000);
        let u = LinkLatency::new(&LatencySpec::Uniform {
            min: Duration::from_millis(3),
            max: Duration::from_millis(9),
        })
        .unwrap();
        assert_eq!(u.min_nanos(), 3_000_000);
        assert!(
            LinkLatency::new(&LatencySpec::Uniform {
                min: Duration::from_millis(9),
                max: Duration::from_millis(3),
            })
            .is_err()
        );
    }
}
