//! Statistics of verification campaigns: exact and approximate confidence bounds on a
//! success probability, campaign sizes, the Bonferroni split, a sequential test with an
//! alpha-spending schedule, and Fisher's exact test; with the special functions they need.

mod bounds;
mod fisher;
mod sequential;
mod special;

pub use bounds::{
    ConfidenceInterval, MAX_CAMPAIGN_TRIALS, Sides, clopper_pearson, hoeffding_trials, split_confidence,
    trials_needed, trials_needed_with_failures, wilson,
};
pub use fisher::fisher_exact;
pub use sequential::{Decision, SequentialTest};
pub use special::{inv_reg_inc_beta, ln_gamma, normal_cdf, normal_quantile, reg_inc_beta, reg_upper_gamma};
