//! A bundle (DESIGN §4): the directory the robot deploys. `scenario.yaml`, the policy pairs
//! `policies/<subtask>.{safetensors,contract.yaml}`, and once verified `certificate.yaml`,
//! `report.md` and `plots/`.
//!
//! [`Bundle`] opens one; [`BundleWriter`] is the only code that writes one (and so the only code
//! that spells the layout); a [`Deployment`] is a bundle whose seal and certificate cleared it to
//! drive the robot, with the certified routes per goal and the [`RoutePreference`]s that may
//! reorder them.

pub mod deployment;
mod writer;

pub use deployment::{Deployment, RoutePreference};
pub use writer::BundleWriter;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use policies::PolicyFile;

use crate::control::observation::check_contract;
use crate::scenario::{Scenario, ScenarioError};

/// File name of the scenario inside a bundle.
pub(crate) const SCENARIO_FILE: &str = "scenario.yaml";
/// Folder of the policy pairs inside a bundle.
pub(crate) const POLICIES_DIR: &str = "policies";

/// Why a bundle could not be opened or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bundle's scenario is missing or invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The policies folder could not be listed.
    #[error("{}: cannot list: {source}", dir.display())]
    List {
        /// The folder.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file in the policies folder that belongs to no subtask or pair.
    #[error("{}: {reason}", file.display())]
    Stray {
        /// The file.
        file: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A policy pair that does not load or save (corrupt, mismatched shapes, ...).
    #[error(transparent)]
    Policy(#[from] policies::Error),
    /// A file to copy into the bundle could not be read.
    #[error("{}: cannot read: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A policy contract disagrees with the bundle's scenario on how it senses or acts.
    #[error("{}: {reason}", file.display())]
    Contract {
        /// The contract file.
        file: PathBuf,
        /// The field that disagrees, and how.
        reason: String,
    },
    /// A bundle file or folder could not be written or removed.
    #[error("{}: cannot write: {source}", file.display())]
    Write {
        /// The file or folder.
        file: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The certificate could not be written.
    #[error(transparent)]
    Certificate(#[from] verification::Error),
}

/// An opened bundle: its validated scenario and every policy it holds, by subtask index.
#[derive(Debug)]
pub struct Bundle {
    dir: PathBuf,
    scenario: Scenario,
    policies: BTreeMap<usize, PolicyFile>,
}

impl Bundle {
    /// Loads `dir/scenario.yaml` and every pair in `dir/policies/`. Each pair must be named
    /// after a subtask of the scenario and load cleanly; a lone weights or contract file is an
    /// error naming it. A bundle without a policies folder has no policies.
    pub fn open(dir: &Path) -> Result<Bundle, BundleError> {
        let scenario = Scenario::load(&dir.join(SCENARIO_FILE))?;
        let policy_dir = dir.join(POLICIES_DIR);
        let mut policies = BTreeMap::new();
        if policy_dir.is_dir() {
            let list = |source| BundleError::List { dir: policy_dir.clone(), source };
            let mut names: Vec<String> = Vec::new();
            for entry in std::fs::read_dir(&policy_dir).map_err(list)? {
                names.push(entry.map_err(list)?.file_name().to_string_lossy().into_owned());
            }
            names.sort();
            for name in &names {
                let stray = |reason: String| BundleError::Stray { file: policy_dir.join(name), reason };
                let (stem, partner) = if let Some(stem) = name.strip_suffix(".safetensors") {
                    (stem, format!("{stem}.contract.yaml"))
                } else if let Some(stem) = name.strip_suffix(".contract.yaml") {
                    (stem, format!("{stem}.safetensors"))
                } else {
                    return Err(stray(
                        "not a policy file (expected <subtask>.safetensors or .contract.yaml)".into(),
                    ));
                };
                if !names.contains(&partner) {
                    return Err(stray(format!("its partner {partner} is missing")));
                }
                let index = scenario
                    .subtask_index(stem)
                    .ok_or_else(|| stray(format!("the scenario has no subtask `{stem}`")))?;
                // Each pair is listed twice (weights, contract); load it once.
                if let std::collections::btree_map::Entry::Vacant(slot) = policies.entry(index) {
                    let policy = PolicyFile::load(&policy_dir, stem)?;
                    check_contract(scenario.rays(), &scenario.action_scale(), policy.contract()).map_err(
                        |reason| BundleError::Contract {
                            file: policy_dir.join(format!("{stem}.contract.yaml")),
                            reason,
                        },
                    )?;
                    slot.insert(policy);
                }
            }
        }
        Ok(Bundle { dir: dir.to_path_buf(), scenario, policies })
    }

    /// The scenario file of the bundle at `dir`.
    pub fn scenario_file(dir: &Path) -> PathBuf {
        dir.join(SCENARIO_FILE)
    }

    /// The bundle directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bundle's scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The learned policy of subtask `index`, if the bundle holds one.
    pub fn policy(&self, index: usize) -> Option<&PolicyFile> {
        self.policies.get(&index)
    }

    /// Whether the bundle holds any learned policy.
    pub fn has_policies(&self) -> bool {
        !self.policies.is_empty()
    }
}
