//! Shard selection: `--shard K/N`, or the shard a batch system (Slurm job array, Kubernetes
//! indexed Job) assigns through the environment; which units shard K of N holds.

use super::{COUNT_VAR, ShardError};

/// Shard `index` of `count`, `index` counted from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `K/N` (0 ≤ K < N).
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError::Spec(text.to_string());
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard a batch system assigns, if any: a Slurm job array task
    /// (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`, or of
    /// [`COUNT_VAR`] when set) or a Kubernetes indexed Job pod (`JOB_COMPLETION_INDEX` of
    /// [`COUNT_VAR`], which must be set). Returns the shard and where it came from.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<(Shard, &'static str)>, ShardError> {
        let number = |name: &'static str| -> Result<Option<u32>, ShardError> {
            match var(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Err(ShardError::Env {
                    var: name,
                    value: v.clone(),
                    message: "is empty; set it to a whole number or leave it unset".into(),
                }),
                Some(v) => v.trim().parse().map(Some).map_err(|_| ShardError::Env {
                    var: name,
                    value: v.clone(),
                    message: "is not a whole number from 0 to 4294967295".into(),
                }),
            }
        };
        let explicit = number(COUNT_VAR)?;
        // Which variable gave the count, for messages.
        let (source, index, count, count_var) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let (count, count_var) = match explicit {
                Some(c) => (c, COUNT_VAR),
                None => match number("SLURM_ARRAY_TASK_COUNT")? {
                    Some(c) => (c, "SLURM_ARRAY_TASK_COUNT"),
                    None => {
                        return Err(ShardError::Env {
                            var: "SLURM_ARRAY_TASK_ID",
                            value: id.to_string(),
                            message: format!(
                                "neither SLURM_ARRAY_TASK_COUNT nor {COUNT_VAR} says how many shards there are; set {COUNT_VAR} or pass --shard K/N"
                            ),
                        });
                    }
                },
            };
            let index = id.checked_sub(min).ok_or_else(|| ShardError::Env {
                var: "SLURM_ARRAY_TASK_ID",
                value: id.to_string(),
                message: format!("is below SLURM_ARRAY_TASK_MIN={min}"),
            })?;
            ("SLURM_ARRAY_TASK_ID", index, count, count_var)
        } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = explicit.ok_or_else(|| ShardError::Env {
                    var: "JOB_COMPLETION_INDEX",
                    value: index.to_string(),
                    message: format!(
                        "this looks like a pod of a Kubernetes indexed Job, but {COUNT_VAR} (the number of shards) is not set; set it to the Job's `completions` in the pod's env (deploy/kubernetes/shards-job.yaml does), or pass --shard K/N"
                    ),
                })?;
            ("JOB_COMPLETION_INDEX", index, count, COUNT_VAR)
        } else {
            return Ok(None);
        };
        if count == 0 {
            let what = if source == "JOB_COMPLETION_INDEX" {
                "the Job's `completions`"
            } else {
                "the job array's size"
            };
            return Err(ShardError::Env {
                var: count_var,
                value: "0".into(),
                message: format!(
                    "a study needs 1 or more shards; set {count_var} to {what}, or pass --shard K/N"
                ),
            });
        }
        if index >= count {
            let last = count - 1;
            let fix = if source == "JOB_COMPLETION_INDEX" {
                format!(
                    "set {count_var} to the Job's `completions` (indexes run 0 to completions − 1)"
                )
            } else {
                format!("use a contiguous array such as --array=0-{last}")
            };
            return Err(ShardError::Env {
                var: source,
                value: index.to_string(),
                message: format!(
                    "gives shard {index} of {count} ({count_var}={count}); shards are numbered 0 to {last}: {fix}"
                ),
            });
        }
        Ok(Some((Shard { index, count }, source)))
    }

    pub fn holds(&self, unit: usize) -> bool {
        unit % self.count as usize == self.index as usize
    }

    /// This shard's units among `total`, in order.
    pub fn select(&self, total: usize) -> Vec<usize> {
        (self.index as usize..total)
            .step_by(self.count as usize)
            .collect()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_units() {
        let shards: Vec<Shard> = (0..3)
            .map(|k| Shard::parse(&format!("{k}/3")).unwrap())
            .collect();
        let mut seen = vec![0; 10];
        for s in &shards {
            for u in s.select(10) {
                assert!(s.holds(u));
                seen[u] += 1;
            }
        }
        assert_eq!(seen, vec![1; 10]);
        assert_eq!(shards[1].select(10), [1, 4, 7]);
        assert!(Shard::parse("4/4").unwrap_err().to_string().contains("K/N"));
        for bad in ["", "1", "a/2", "1/0", "-1/3", "2/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn batch_systems_pick_the_shard() {
        assert_eq!(Shard::from_env(env(&[])).unwrap(), None);
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(
            Shard::from_env(env(&slurm)).unwrap(),
            Some((Shard { index: 2, count: 4 }, "SLURM_ARRAY_TASK_ID"))
        );
        // An array numbered 1-4 is shards 0-3.
        let one_based = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_eq!(
            Shard::from_env(env(&one_based)).unwrap().unwrap().0,
            Shard { index: 3, count: 4 }
        );
        let k8s = [("JOB_COMPLETION_INDEX", "0"), (COUNT_VAR, "5")];
        assert_eq!(
            Shard::from_env(env(&k8s)).unwrap().unwrap().0,
            Shard { index: 0, count: 5 }
        );
        let no_count = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap_err();
        assert!(no_count.to_string().contains(COUNT_VAR), "{no_count}");
        let past = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        let e = Shard::from_env(env(&past)).unwrap_err();
        assert!(e.to_string().contains("--array=0-3"), "{e}");
        let e = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "x")])).unwrap_err();
        assert!(e.to_string().contains("whole number"), "{e}");
    }

    /// No count, a count of 0, an empty count: guidance, never "shard 0 of 0".
    #[test]
    fn a_missing_or_zero_shard_count_is_explained() {
        for (vars, want) in [
            (
                &[("JOB_COMPLETION_INDEX", "0")][..],
                "JOB_COMPLETION_INDEX=0: this looks like a pod of a Kubernetes indexed Job, but MAILFLOW_SHARD_COUNT",
            ),
            (
                &[("JOB_COMPLETION_INDEX", "0"), (COUNT_VAR, "0")][..],
                "MAILFLOW_SHARD_COUNT=0: a study needs 1 or more shards; set MAILFLOW_SHARD_COUNT to the Job's `completions`",
            ),
            (
                &[("JOB_COMPLETION_INDEX", "0"), (COUNT_VAR, " ")][..],
                "MAILFLOW_SHARD_COUNT= : is empty",
            ),
            (
                &[
                    ("SLURM_ARRAY_TASK_ID", "0"),
                    ("SLURM_ARRAY_TASK_COUNT", "0"),
                ][..],
                "SLURM_ARRAY_TASK_COUNT=0: a study needs 1 or more shards",
            ),
            (
                &[("JOB_COMPLETION_INDEX", "8"), (COUNT_VAR, "8")][..],
                "JOB_COMPLETION_INDEX=8: gives shard 8 of 8 (MAILFLOW_SHARD_COUNT=8); shards are numbered 0 to 7: set MAILFLOW_SHARD_COUNT to the Job's `completions`",
            ),
        ] {
            let e = Shard::from_env(env(vars)).unwrap_err().to_string();
            assert!(e.starts_with(want), "{e}\nwant: {want}");
            assert!(!e.contains("of 0") && !e.contains("--array=0-0"), "{e}");
        }
    }
}
