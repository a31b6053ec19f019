//! Mean and 95 % confidence interval of a metric across seeds.
//!
//! The interval is Student's t: `mean ± t(0.975, k-1) · s / √k`, with `s` the sample standard
//! deviation (divisor `k-1`). Seeds are few (3 by default), where the normal approximation
//! `1.96 · s / √k` would be far too narrow (t(0.975, 2) = 4.303).

use serde::{Deserialize, Serialize};

/// Mean of a metric across seeds with its 95 % confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Number of samples (seeds).
    pub n: usize,
    /// Arithmetic mean, summed in sample order.
    pub mean: f64,
    /// Half-width of the 95 % interval; `None` with fewer than two samples.
    pub half_width: Option<f64>,
}

impl Interval {
    /// Mean and 95 % interval of `samples` (mean 0, no interval, when empty).
    pub fn of(samples: &[f64]) -> Interval {
        let n = samples.len();
        let mean = mean(samples);
        let half_width = (n >= 2).then(|| {
            let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            t_critical_95(n - 1) * var.sqrt() / (n as f64).sqrt()
        });
        Interval {
            n,
            mean,
            half_width,
        }
    }

    /// Lower end of the interval (the mean when there is none).
    pub fn low(&self) -> f64 {
        self.mean - self.half_width.unwrap_or(0.0)
    }

    /// Upper end of the interval (the mean when there is none).
    pub fn high(&self) -> f64 {
        self.mean + self.half_width.unwrap_or(0.0)
    }

    /// `mean ± half` with `decimals` digits, or just the mean with one sample.
    pub fn display(&self, decimals: usize) -> String {
        match self.half_width {
            Some(h) => format!("{:.*} ± {:.*}", decimals, self.mean, decimals, h),
            None => format!("{:.*}", decimals, self.mean),
        }
    }
}

/// Arithmetic mean, summed in order (0 for no samples).
pub fn mean(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        0.0
    } else {
        samples.iter().sum::<f64>() / samples.len() as f64
    }
}

/// Two-sided 95 % critical value of Student's t with `df` degrees of freedom: exact table to
/// 30, then the Cornish-Fisher expansion around z = 1.959964 (error below 1e-4).
pub fn t_critical_95(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => {
            let z: f64 = 1.959_964;
            let v = df as f64;
            z + (z.powi(3) + z) / (4.0 * v)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_expansion_joins_the_table_and_tends_to_z() {
        assert!((t_critical_95(40) - 2.021).abs() < 1e-3);
        assert!((t_critical_95(60) - 2.000).abs() < 1e-3);
        assert!((t_critical_95(120) - 1.980).abs() < 1e-3);
        assert!((t_critical_95(1_000_000) - 1.960).abs() < 1e-3);
    }
}
