//! Shards: run `index % count == k` of a sweep's runs, so a cluster array job splits it.

use super::SweepError;
use std::fmt;

/// One of `count` shards; `index` is 0-based (written 1-based, `K/N`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard number, below `count`.
    pub index: usize,
    /// Number of shards, at least 1.
    pub count: usize,
}

impl Shard {
    /// Parse `K/N` with 1 <= K <= N.
    pub fn parse(spec: &str) -> Result<Shard, SweepError> {
        let bad = |why: &str| {
            SweepError::Shard(format!(
                "bad shard `{spec}`: {why} (write K/N with 1 <= K <= N, e.g. 2/3)"
            ))
        };
        let (k, n) = spec.split_once('/').ok_or_else(|| bad("no `/`"))?;
        let k: usize = k.trim().parse().map_err(|_| bad("K is not a number"))?;
        let n: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if n == 0 {
            return Err(bad("N must be at least 1"));
        }
        if k == 0 || k > n {
            return Err(bad("K must be between 1 and N"));
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// The shard given by a cluster's environment, read through `var`:
    /// `SLURM_ARRAY_TASK_ID` (made 0-based with `SLURM_ARRAY_TASK_MIN` and
    /// `SLURM_ARRAY_TASK_STEP` when set) out of `SLURM_ARRAY_TASK_COUNT`, or
    /// `JOB_COMPLETION_INDEX` (0-based) out of `CCPERF_SHARDS`. `count` (`--shard-count`)
    /// overrides the environment's count. Returns the shard and the variable it came from.
    pub fn from_env(
        count: Option<usize>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<(Shard, &'static str)>, SweepError> {
        let number = |name: &str| -> Result<Option<usize>, SweepError> {
            var(name)
                .map(|v| {
                    v.trim().parse::<usize>().map_err(|_| {
                        SweepError::Shard(format!("{name}=`{v}` is not a whole number"))
                    })
                })
                .transpose()
        };
        let no_count = |index_var: &str, count_var: &str| {
            SweepError::Shard(format!(
                "{index_var} is set but the number of shards is not: set {count_var}, pass \
                 --shard-count N, or pass --shard K/N"
            ))
        };
        let (index, count, source) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let n = match count {
                Some(n) => n,
                None => number("SLURM_ARRAY_TASK_COUNT")?
                    .ok_or_else(|| no_count("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"))?,
            };
            let offset = id.checked_sub(min).ok_or_else(|| {
                SweepError::Shard(format!(
                    "SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
                ))
            })?;
            (offset / step, n, "SLURM_ARRAY_TASK_ID")
        } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let n = match count {
                Some(n) => n,
                None => number("CCPERF_SHARDS")?
                    .ok_or_else(|| no_count("JOB_COMPLETION_INDEX", "CCPERF_SHARDS"))?,
            };
            (index, n, "JOB_COMPLETION_INDEX")
        } else if count.is_some() {
            return Err(SweepError::Shard(
                "--shard-count needs JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID in the \
                 environment (or pass --shard K/N)"
                    .to_string(),
            ));
        } else {
            return Ok(None);
        };
        if count == 0 {
            return Err(SweepError::Shard(format!(
                "{source}: the number of shards must be at least 1"
            )));
        }
        if index >= count {
            return Err(SweepError::Shard(format!(
                "{source} gives shard {} of {count}: the index is out of range (Slurm ids \
                 starting at 1 need SLURM_ARRAY_TASK_MIN=1)",
                index + 1
            )));
        }
        Ok(Some((Shard { index, count }, source)))
    }

    /// Whether run `index` belongs to this shard.
    pub fn contains(&self, index: usize) -> bool {
        index % self.count == self.index
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}
