//! From complete evidence to the certificate: per fidelity, one Clopper-Pearson claim per
//! campaigned subtask (Bonferroni over the claims); per goal, the routes whose product of lower
//! bounds meets certified θ, ranked.

use std::collections::BTreeMap;

use verification::{
    Certificate, Fidelity, GoalRecord, RouteRecord, Sides, SubtaskEvidence, SubtaskRecord, clopper_pearson,
    fidelity_gap, split_confidence,
};

use super::{Campaign, Trials};

impl Campaign {
    /// The certificate this complete campaign supports (see the module docs). `certified`
    /// needs a passing interface check and, from high-fidelity evidence, a route meeting θ
    /// for every goal.
    pub fn certificate(&self) -> Result<Certificate, verification::Error> {
        let mut records = Vec::new();
        let mut goals = Vec::new();
        let fidelities: Vec<Fidelity> = {
            let mut f: Vec<Fidelity> = self.trials.iter().map(|t| t.fidelity).collect();
            f.dedup();
            f
        };
        for &fidelity in &fidelities {
            let runs: Vec<&Trials> = self.trials.iter().filter(|t| t.fidelity == fidelity).collect();
            let claim_error = split_confidence(self.delta, runs.len())?;
            // A sequential campaign's bound is valid under its stopping rule at error
            // claim_error / looks (Bonferroni over the looks).
            let confidence = |t: &Trials| 1.0 - claim_error / t.looks.max(1) as f64;
            let lower: BTreeMap<&str, f64> = runs
                .iter()
                .map(|t| {
                    let lb = clopper_pearson(t.successes, t.trials, confidence(t), Sides::Lower)?.lower;
                    Ok((t.subtask.as_str(), lb))
                })
                .collect::<Result<_, verification::Error>>()?;
            let bound = |route: &[String]| {
                route.iter().map(|id| lower.get(id.as_str()).copied().unwrap_or(0.0)).product::<f64>()
            };
            for t in &runs {
                let required = self
                    .goals
                    .iter()
                    .flat_map(|g| &g.routes)
                    .filter(|r| r.contains(&t.subtask))
                    .map(|r| {
                        let others: f64 = r
                            .iter()
                            .filter(|id| **id != t.subtask)
                            .map(|id| lower.get(id.as_str()).copied().unwrap_or(0.0))
                            .product();
                        if others > 0.0 { (self.theta / others).min(1.0) } else { 1.0 }
                    })
                    .fold(1.0, f64::min);
                let evidence = SubtaskEvidence { trials: t.trials, successes: t.successes };
                let mut record = SubtaskRecord::new(
                    t.subtask.clone(),
                    t.controller,
                    fidelity,
                    evidence,
                    confidence(t),
                    required,
                )?;
                record.failures = t.failures.clone();
                records.push(record);
            }
            // The certificate's routes rest on the last (highest) fidelity that ran.
            if Some(&fidelity) == fidelities.last() {
                goals = self
                    .goals
                    .iter()
                    .map(|g| {
                        let mut routes: Vec<RouteRecord> = g
                            .routes
                            .iter()
                            .map(|r| RouteRecord {
                                subtasks: r.clone(),
                                lower_bound: bound(r),
                                theta: self.theta,
                                confidence: 1.0 - self.delta,
                                fidelity,
                            })
                            .filter(RouteRecord::meets_theta)
                            .collect();
                        // Best first; equal bounds keep the shorter, then earlier, route.
                        routes.sort_by(|a, b| b.lower_bound.total_cmp(&a.lower_bound));
                        routes.truncate(self.routes_per_goal as usize);
                        GoalRecord { goal: g.goal.clone(), routes }
                    })
                    .collect();
            }
        }
        let fidelity_gaps = self
            .trials
            .iter()
            .filter(|t| t.fidelity == Fidelity::Low)
            .filter_map(|low| {
                let high =
                    self.trials.iter().find(|h| h.fidelity == Fidelity::High && h.subtask == low.subtask)?;
                let ev = |t: &Trials| SubtaskEvidence { trials: t.trials, successes: t.successes };
                let verdict = fidelity_gap(ev(low), ev(high), self.delta).ok()?;
                verdict.flagged.then(|| low.subtask.clone())
            })
            .collect();
        let certified = self.interface.passed
            && fidelities.last() == Some(&Fidelity::High)
            && goals.iter().all(|g| !g.routes.is_empty());
        Ok(Certificate {
            tool_version: self.tool_version.clone(),
            scenario: self.scenario.clone(),
            seed: self.seed,
            files: self.files.clone(),
            subtasks: records,
            goals,
            interface: self.interface.clone(),
            fidelity_gaps,
            certified,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::campaign::Shard;
    use crate::campaign::test_support::{campaign, trials};
    use verification::Fidelity;

    #[test]
    fn certificate_lists_routes_meeting_theta_best_first_with_exact_requirements() {
        let runs = vec![
            trials("a", Fidelity::Low, 300, 300, 300),
            trials("b", Fidelity::Low, 300, 300, 300),
            trials("c", Fidelity::Low, 300, 300, 300),
            trials("a", Fidelity::High, 300, 300, 270),
            trials("b", Fidelity::High, 300, 300, 299),
            trials("c", Fidelity::High, 300, 300, 300),
        ];
        let cert = campaign(Shard::WHOLE, runs).certificate().expect("certificate");
        assert!(cert.certified);
        let routes = &cert.goals[0].routes;
        assert_eq!(routes.len(), 2);
        assert_eq!(routes[0].subtasks, ["b", "c"], "the better bound first");
        assert!(routes[0].lower_bound > routes[1].lower_bound && routes[1].lower_bound >= 0.8);
        assert!(routes.iter().all(|r| r.fidelity == Fidelity::High && r.confidence == 0.95));
        // Three claims per fidelity at δ/3 each.
        assert!(cert.subtasks.iter().all(|r| (r.confidence - (1.0 - 0.05 / 3.0)).abs() < 1e-12));
        let high = |id: &str| {
            cert.subtasks.iter().find(|r| r.subtask == id && r.fidelity == Fidelity::High).unwrap()
        };
        // Requirement of b: θ over c's bound, so b passes exactly when route [b, c] does.
        assert!((high("b").required_p - 0.8 / high("c").lower_bound).abs() < 1e-12);
        assert_eq!(high("a").required_p, 0.8);
        assert!(cert.subtasks.iter().all(|r| r.pass));
        // 300/300 low vs 270/300 high: the gap is flagged.
        assert_eq!(cert.fidelity_gaps, ["a"]);
    }

    #[test]
    fn low_fidelity_evidence_alone_never_certifies() {
        let runs = vec![
            trials("a", Fidelity::Low, 300, 300, 300),
            trials("b", Fidelity::Low, 300, 300, 300),
            trials("c", Fidelity::Low, 300, 300, 300),
        ];
        let cert = campaign(Shard::WHOLE, runs).certificate().expect("certificate");
        assert!(!cert.goals[0].routes.is_empty(), "the routes do meet θ on low-fidelity evidence");
        assert!(!cert.certified, "but deployment relies on high fidelity");
    }

    #[test]
    fn a_route_below_theta_is_not_listed_and_its_subtasks_fail() {
        let runs = vec![
            trials("a", Fidelity::High, 50, 50, 40),
            trials("b", Fidelity::High, 50, 50, 50),
            trials("c", Fidelity::High, 50, 50, 45),
        ];
        let cert = campaign(Shard::WHOLE, runs).certificate().expect("certificate");
        assert!(cert.goals[0].routes.is_empty());
        assert!(!cert.certified);
        assert!(cert.subtasks.iter().all(|r| !r.pass));
        assert_eq!(cert.subtasks[0].failures.get("timeout"), Some(&10));
    }
}
