//! Summing shards back into the campaign one unsharded run would have produced.

use super::{Campaign, Shard, Trials};

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No shard given.
    #[error("no shard files given")]
    Empty,
    /// Shards of different campaigns (bundle, seed, settings).
    #[error("{file}: {field} differs from the first shard's; shards of different campaigns cannot be merged")]
    Mismatch {
        /// The shard file.
        file: String,
        /// The differing field.
        field: &'static str,
    },
    /// A shard index past the shard count.
    #[error("{file}: shard {index}/{count} out of range")]
    OutOfRange {
        /// The shard file.
        file: String,
        /// Its index.
        index: u64,
        /// The shard count.
        count: u64,
    },
    /// A shard index given twice.
    #[error("{file}: shard {index}/{count} given twice")]
    Duplicate {
        /// The second file with that index.
        file: String,
        /// The index.
        index: u64,
        /// The shard count.
        count: u64,
    },
    /// Shards missing from the set.
    #[error("missing shard(s) {}{}", missing.iter().map(|i| format!("{i}/{count}")).collect::<Vec<_>>().join(", "), if *more { ", …" } else { "" })]
    Missing {
        /// The first missing indices (at most ten).
        missing: Vec<u64>,
        /// The shard count.
        count: u64,
        /// Whether more than these are missing.
        more: bool,
    },
}

impl Campaign {
    /// Sums complete sets of shards (`(file name, campaign)` pairs, any order) into the
    /// campaign one unsharded run would have produced.
    pub fn merge(shards: &[(String, Campaign)]) -> Result<Campaign, MergeError> {
        let ((_, first), rest) = shards.split_first().ok_or(MergeError::Empty)?;
        let count = first.shard.count;
        // Indices seen; a set, not a vector of `count` flags: the count comes from a file.
        let mut seen = std::collections::BTreeSet::new();
        for (file, c) in shards {
            let mismatch = |field| MergeError::Mismatch { file: file.clone(), field };
            let same_settings = [
                ("format", c.format == first.format),
                ("tool_version", c.tool_version == first.tool_version),
                ("scenario", c.scenario == first.scenario),
                ("seed", c.seed == first.seed),
                ("delta", c.delta == first.delta),
                ("theta", c.theta == first.theta),
                ("routes_per_goal", c.routes_per_goal == first.routes_per_goal),
                ("files (the bundle changed)", c.files == first.files),
                ("interface", c.interface == first.interface),
                ("goals", c.goals == first.goals),
                ("shard.count", c.shard.count == count),
                ("trials (plan)", c.trials.len() == first.trials.len()),
            ];
            if let Some((field, _)) = same_settings.iter().find(|(_, same)| !same) {
                return Err(mismatch(field));
            }
            let (file, index) = (file.clone(), c.shard.index);
            if index >= count {
                return Err(MergeError::OutOfRange { file, index, count });
            }
            if !seen.insert(index) {
                return Err(MergeError::Duplicate { file, index, count });
            }
            for (t, f) in c.trials.iter().zip(&first.trials) {
                let plan = |t: &Trials| (t.subtask.clone(), t.controller, t.fidelity, t.planned);
                if plan(t) != plan(f) || t.trials != c.shard.share(t.planned) {
                    return Err(mismatch("trials (plan)"));
                }
            }
        }
        // At most `shards.len()` indices are taken, so the first ten gaps are found quickly.
        let missing: Vec<u64> = (0..count).filter(|i| !seen.contains(i)).take(10).collect();
        if !missing.is_empty() {
            return Err(MergeError::Missing { missing, count, more: count - seen.len() as u64 > 10 });
        }
        let mut merged = first.clone();
        merged.shard = Shard::WHOLE;
        for (_, c) in rest {
            for (m, t) in merged.trials.iter_mut().zip(&c.trials) {
                m.trials += t.trials;
                m.successes += t.successes;
                for (kind, n) in &t.failures {
                    *m.failures.entry(kind.clone()).or_insert(0) += n;
                }
            }
        }
        Ok(merged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::test_support::{campaign, trials};
    use verification::Fidelity;

    #[test]
    fn merge_sums_shards_and_refuses_gaps_duplicates_and_strangers() {
        let shard = |i: u64, seed: u64, s: u64| {
            let share = Shard { index: i, count: 2 }.share(5);
            let run = trials("a", Fidelity::High, 5, share, s.min(share));
            Campaign { seed, ..campaign(Shard { index: i, count: 2 }, vec![run]) }
        };
        let merged =
            Campaign::merge(&[("1".into(), shard(1, 1, 2)), ("0".into(), shard(0, 1, 3))]).expect("merges");
        assert_eq!(merged.shard, Shard::WHOLE);
        assert_eq!((merged.trials[0].trials, merged.trials[0].successes), (5, 5));

        let err = |shards: &[(String, Campaign)]| Campaign::merge(shards).expect_err("refused").to_string();
        assert!(err(&[("0".into(), shard(0, 1, 3))]).contains("missing shard(s) 1/2"));
        assert!(err(&[("0".into(), shard(0, 1, 3)), ("0b".into(), shard(0, 1, 3))]).contains("given twice"));
        assert!(
            err(&[("0".into(), shard(0, 1, 3)), ("x".into(), shard(1, 9, 2))]).contains("x: seed differs")
        );
        assert!(err(&[]).contains("no shard"));
        // A shard count read from a tampered file never sizes an allocation.
        let huge = campaign(Shard { index: 0, count: u64::MAX }, vec![trials("a", Fidelity::High, 5, 1, 1)]);
        assert!(err(&[("h".into(), huge)]).contains("missing shard(s) 1/18446744073709551615, 2/"));
    }
}
