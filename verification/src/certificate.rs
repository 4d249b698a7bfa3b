//! The certificate of a bundle (`certificate.yaml`): what was verified, with which evidence,
//! and the sha256 of every sealed bundle file, so that a loader refuses a changed bundle.
//!
//! Sealing: the caller fills a [`Certificate`] (with `files` from [`hash_bundle`]) and calls
//! [`Certificate::write`]. Loading: [`Certificate::load_verified`] parses the file and
//! recomputes every hash; it returns the certificate only when the bundle is exactly the
//! sealed one (no file changed, missing or added).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ComposedBound, Error, InterfaceReport, Sides, SubtaskEvidence, clopper_pearson};

/// File name of the certificate inside a bundle.
pub const CERTIFICATE_FILE: &str = "certificate.yaml";
/// File name of the human-readable report inside a bundle (not sealed: DESIGN §9).
pub const REPORT_FILE: &str = "report.md";
/// Folder of plots inside a bundle (not sealed: DESIGN §9).
pub const PLOTS_DIR: &str = "plots";

/// Which simulator produced a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fidelity {
    /// The fast low-fidelity simulator.
    Low,
    /// The high-fidelity (rapier3d) simulator; what deployment relies on.
    High,
}

impl std::fmt::Display for Fidelity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Fidelity::Low => "low",
            Fidelity::High => "high",
        })
    }
}

/// What drove a subtask during its campaign (and so what the runtime must run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Controller {
    /// The bundle's learned policy `policies/<subtask>.{safetensors,contract.yaml}`.
    Policy,
    /// The pure-pursuit baseline along the subtask's via points.
    PurePursuit,
}

impl std::fmt::Display for Controller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Controller::Policy => "policy",
            Controller::PurePursuit => "pure_pursuit",
        })
    }
}

/// A campaign of one subtask in one fidelity and what it certifies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtaskRecord {
    /// Subtask id, as in the scenario.
    pub subtask: String,
    /// What drove the robot in the trials.
    pub controller: Controller,
    /// Simulator of the campaign.
    pub fidelity: Fidelity,
    /// Independent trials run.
    pub trials: u64,
    /// Trials that succeeded.
    pub successes: u64,
    /// Confidence of each bound below (the per-claim share after the Bonferroni split).
    pub confidence: f64,
    /// One-sided Clopper-Pearson lower bound on the success probability at `confidence`.
    pub lower_bound: f64,
    /// Two-sided Clopper-Pearson interval `[lower, upper]` at `confidence` (for reports).
    pub interval: [f64; 2],
    /// Required success probability p* for the certified claim.
    pub required_p: f64,
    /// Whether `lower_bound >= required_p`.
    pub pass: bool,
    /// Failed trials by kind (`timeout`, `collision`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<String, u64>,
}

/// One certified route to a goal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteRecord {
    /// Subtask ids in execution order, from the start to the goal.
    pub subtasks: Vec<String>,
    /// Composed lower bound on Pr(reach goal) along the route (product of the subtasks'
    /// lower bounds).
    pub lower_bound: f64,
    /// Certified θ the bound is compared against.
    pub theta: f64,
    /// Joint confidence 1 − δ of the statement "Pr(goal) ≥ lower_bound".
    pub confidence: f64,
    /// Simulator whose evidence the bound rests on.
    pub fidelity: Fidelity,
}

/// The routes certified for one goal, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalRecord {
    /// Goal waypoint id.
    pub goal: String,
    /// Every route whose composed bound meets certified θ, ranked by bound (DESIGN §9).
    pub routes: Vec<RouteRecord>,
}

/// Result of the interface check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterfaceRecord {
    /// Whether every check passed.
    pub passed: bool,
    /// One-line summary (what failed, when something did).
    pub summary: String,
}

impl SubtaskRecord {
    /// The record of a fixed-N campaign: one-sided and two-sided Clopper-Pearson bounds at
    /// `confidence` (the claim's share after the Bonferroni split), and `pass` when the lower
    /// bound reaches `required_p`. Errors on bad counts or a confidence outside (0, 1).
    pub fn new(
        subtask: String,
        controller: Controller,
        fidelity: Fidelity,
        evidence: SubtaskEvidence,
        confidence: f64,
        required_p: f64,
    ) -> Result<SubtaskRecord, Error> {
        if !(0.0..=1.0).contains(&required_p) {
            return Err(Error::OutOfRange { field: "required_p", range: "[0, 1]", value: required_p });
        }
        let SubtaskEvidence { trials, successes } = evidence;
        let lower_bound = clopper_pearson(successes, trials, confidence, Sides::Lower)?.lower;
        let two = clopper_pearson(successes, trials, confidence, Sides::Two)?;
        Ok(SubtaskRecord {
            subtask,
            controller,
            fidelity,
            trials,
            successes,
            confidence,
            lower_bound,
            interval: [two.lower, two.upper],
            required_p,
            pass: lower_bound >= required_p,
            failures: BTreeMap::new(),
        })
    }
}

impl RouteRecord {
    /// The record of a composed bound, with the route's subtask `ids` (in route order),
    /// certified `theta` and the fidelity of the evidence.
    pub fn new(ids: Vec<String>, bound: &ComposedBound, theta: f64, fidelity: Fidelity) -> RouteRecord {
        RouteRecord {
            subtasks: ids,
            lower_bound: bound.lower_bound,
            theta,
            confidence: bound.confidence,
            fidelity,
        }
    }

    /// Whether the composed bound meets θ.
    pub fn meets_theta(&self) -> bool {
        self.lower_bound >= self.theta
    }
}

impl From<&InterfaceReport> for InterfaceRecord {
    fn from(report: &InterfaceReport) -> InterfaceRecord {
        InterfaceRecord { passed: report.passed(), summary: report.summary() }
    }
}

/// The contents of `certificate.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    /// Version of the tool that wrote it (passed in by the caller).
    pub tool_version: String,
    /// Scenario name.
    pub scenario: String,
    /// Seed of the run that produced the bundle.
    pub seed: u64,
    /// sha256 (lowercase hex) of every sealed bundle file, by bundle-relative `/` path.
    pub files: BTreeMap<String, String>,
    /// Campaigns per subtask and fidelity.
    pub subtasks: Vec<SubtaskRecord>,
    /// Certified routes per goal.
    pub goals: Vec<GoalRecord>,
    /// Interface-check result.
    pub interface: InterfaceRecord,
    /// Subtasks whose low- and high-fidelity success rates differ significantly (Fisher exact).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fidelity_gaps: Vec<String>,
    /// Whether the bundle is certified (deployable).
    pub certified: bool,
}

fn io_error(path: &Path, op: &'static str, e: &std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), op, kind: e.kind(), message: e.to_string() }
}

/// Whether a bundle-relative path is left out of the seal (DESIGN §9): the certificate itself,
/// the report and the plots are written after, or beside, the evidence they describe.
fn unsealed(rel: &str) -> bool {
    rel == CERTIFICATE_FILE || rel == REPORT_FILE || rel == PLOTS_DIR || rel.starts_with("plots/")
}

fn sha256_file(path: &Path) -> Result<String, Error> {
    let mut file = fs::File::open(path).map_err(|e| io_error(path, "open", &e))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| io_error(path, "read", &e))?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, String>) -> Result<(), Error> {
    let entries = fs::read_dir(dir).map_err(|e| io_error(dir, "list", &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, "list", &e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_str().ok_or_else(|| Error::NonUtf8Path { path: path.clone() })?;
        let rel = if prefix.is_empty() { name.to_owned() } else { format!("{prefix}/{name}") };
        if unsealed(&rel) {
            continue;
        }
        // `file_type` does not follow links, so a link is seen as a link.
        let kind = entry.file_type().map_err(|e| io_error(&path, "stat", &e))?;
        if kind.is_symlink() {
            return Err(Error::Symlink { path });
        } else if kind.is_dir() {
            walk(&path, &rel, out)?;
        } else if kind.is_file() {
            out.insert(rel, sha256_file(&path)?);
        } else {
            return Err(Error::NotRegularFile { path });
        }
    }
    Ok(())
}

/// sha256 (lowercase hex) of every regular file under the bundle directory `dir`, by
/// bundle-relative path with `/` separators, sorted; except `certificate.yaml`, `report.md`
/// and everything under `plots/` at the bundle root (DESIGN §9).
///
/// Errors: a symbolic link anywhere in the sealed part ([`Error::Symlink`]), a special file
/// ([`Error::NotRegularFile`]), a name that is not UTF-8, or an I/O failure (naming the path).
pub fn hash_bundle(dir: &Path) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out)?;
    Ok(out)
}

/// Checks that the bundle `dir` holds exactly the sealed files `files` (bundle-relative path →
/// sha256, as [`hash_bundle`] computes them). Errors: [`Error::Tampered`],
/// [`Error::MissingBundleFile`], [`Error::UnlistedBundleFile`] for the first difference in
/// path order, and the errors of [`hash_bundle`].
pub fn check_sealed(files: &BTreeMap<String, String>, dir: &Path) -> Result<(), Error> {
    let actual = hash_bundle(dir)?;
    // Walk both sorted maps together so the first problem in path order is reported.
    let mut names: Vec<&String> = files.keys().chain(actual.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        match (files.get(name), actual.get(name)) {
            (Some(expected), Some(got)) if expected != got => {
                return Err(Error::Tampered {
                    file: name.clone(),
                    expected: expected.clone(),
                    actual: got.clone(),
                });
            }
            (Some(_), None) => return Err(Error::MissingBundleFile { file: name.clone() }),
            (None, Some(_)) => return Err(Error::UnlistedBundleFile { file: name.clone() }),
            _ => {}
        }
    }
    Ok(())
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Creates a fresh temporary file beside the certificate in `dir`. The process id and a
/// counter, with `create_new`, keep concurrent writers (processes or threads) apart and never
/// truncate someone else's file.
fn create_temporary(dir: &Path) -> Result<(PathBuf, fs::File), Error> {
    let mut k = 0u32;
    loop {
        let tmp = dir.join(format!(".{CERTIFICATE_FILE}.{}.{k}.tmp", std::process::id()));
        match fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && k < 1000 => k += 1,
            Err(e) => return Err(io_error(&tmp, "create", &e)),
        }
    }
}

impl Certificate {
    /// Writes `certificate.yaml` into the bundle directory `dir` atomically: to a temporary
    /// file in `dir`, flushed to disk, then renamed over the old one, so a crash leaves either
    /// the old certificate or the new one, never half a file. (A crash can leave a
    /// `.certificate.yaml.*.tmp` file behind; [`Certificate::load_verified`] then names it as
    /// unlisted rather than ignoring an unsealed file.)
    pub fn write(&self, dir: &Path) -> Result<(), Error> {
        let target = dir.join(CERTIFICATE_FILE);
        let yaml = serde_yaml_ng::to_string(self).map_err(|e| Error::MalformedCertificate {
            file: target.clone(),
            line: None,
            column: None,
            message: e.to_string(),
        })?;
        let (tmp, mut file) = create_temporary(dir)?;
        let result = (|| {
            file.write_all(yaml.as_bytes()).map_err(|e| io_error(&tmp, "write", &e))?;
            file.sync_all().map_err(|e| io_error(&tmp, "sync", &e))?;
            fs::rename(&tmp, &target).map_err(|e| io_error(&target, "rename", &e))
        })();
        if result.is_err() {
            // Best effort: the error being returned matters more than a leftover.
            let _ = fs::remove_file(&tmp);
            return result;
        }
        // Make the rename itself durable. Best effort: the new certificate is in place
        // already, and some platforms cannot open a directory.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Parses `dir/certificate.yaml` without checking the bundle (for reports and tools that
    /// inspect a certificate; deployment uses [`Certificate::load_verified`]).
    ///
    /// Errors name the file, the field path and, for parse errors, the line: unknown or
    /// missing fields, wrong types, a recorded hash that is not 64 lowercase hex digits,
    /// successes above trials, and probabilities or confidences outside [0, 1] (NaN included).
    /// The bounds are not recomputed: a sequential campaign records a bound of its own rule.
    pub fn load(dir: &Path) -> Result<Certificate, Error> {
        let file = dir.join(CERTIFICATE_FILE);
        let text = fs::read_to_string(&file).map_err(|e| io_error(&file, "read", &e))?;
        let cert: Certificate = serde_yaml_ng::from_str(&text).map_err(|e| {
            let loc = e.location();
            Error::MalformedCertificate {
                file: file.clone(),
                line: loc.as_ref().map(|l| l.line()),
                column: loc.as_ref().map(|l| l.column()),
                message: e.to_string(),
            }
        })?;
        cert.check().map_err(|message| Error::MalformedCertificate {
            file,
            line: None,
            column: None,
            message,
        })?;
        Ok(cert)
    }

    /// Parses `dir/certificate.yaml` and checks that the bundle is the sealed one: every
    /// listed file exists with the recorded sha256 and no other sealed file exists (see
    /// [`hash_bundle`] for what is sealed).
    ///
    /// Errors: [`Error::MalformedCertificate`] (file, field, line), [`Error::Tampered`] (a
    /// changed file, with both hashes), [`Error::MissingBundleFile`],
    /// [`Error::UnlistedBundleFile`], and the errors of [`hash_bundle`]. When several files
    /// differ, the first in path order is named.
    pub fn load_verified(dir: &Path) -> Result<Certificate, Error> {
        let cert = Certificate::load(dir)?;
        check_sealed(&cert.files, dir)?;
        Ok(cert)
    }

    /// Range checks the parser cannot express; the message names the field path. NaN fails.
    fn check(&self) -> Result<(), String> {
        if let Some((path, hash)) = self.files.iter().find(|(_, h)| !is_sha256_hex(h)) {
            return Err(format!("files.{path}: expected 64 lowercase hex digits (sha256), got {hash:?}"));
        }
        let unit = |field: String, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{field}: must be in [0, 1] (got {v})"))
            }
        };
        for (i, r) in self.subtasks.iter().enumerate() {
            if r.successes > r.trials {
                return Err(format!(
                    "subtasks[{i}].successes: {} successes exceed {} trials",
                    r.successes, r.trials
                ));
            }
            if !(r.confidence > 0.0 && r.confidence < 1.0) {
                return Err(format!("subtasks[{i}].confidence: must be in (0, 1) (got {})", r.confidence));
            }
            unit(format!("subtasks[{i}].lower_bound"), r.lower_bound)?;
            unit(format!("subtasks[{i}].interval[0]"), r.interval[0])?;
            unit(format!("subtasks[{i}].interval[1]"), r.interval[1])?;
            unit(format!("subtasks[{i}].required_p"), r.required_p)?;
            if r.interval[0] > r.interval[1] {
                return Err(format!("subtasks[{i}].interval: lower end above upper end"));
            }
        }
        for (g, goal) in self.goals.iter().enumerate() {
            for (k, route) in goal.routes.iter().enumerate() {
                unit(format!("goals[{g}].routes[{k}].lower_bound"), route.lower_bound)?;
                unit(format!("goals[{g}].routes[{k}].theta"), route.theta)?;
                unit(format!("goals[{g}].routes[{k}].confidence"), route.confidence)?;
            }
        }
        Ok(())
    }

    /// Path of the certificate inside the bundle `dir`.
    pub fn path_in(dir: &Path) -> PathBuf {
        dir.join(CERTIFICATE_FILE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("scenario.yaml"), "name: yard\n").unwrap();
        fs::create_dir_all(d.join("policies")).unwrap();
        fs::write(d.join("policies/dock.safetensors"), [1u8, 2, 3, 4, 5]).unwrap();
        fs::write(d.join("policies/dock.contract.yaml"), "action_scale: [3.0, 1.5]\n").unwrap();
        fs::write(d.join(REPORT_FILE), "# report\n").unwrap();
        fs::create_dir_all(d.join("plots")).unwrap();
        fs::write(d.join("plots/bounds.png"), [0u8; 8]).unwrap();
        dir
    }

    fn certificate(dir: &Path) -> Certificate {
        Certificate {
            tool_version: "0.1.0".into(),
            scenario: "warthog_yard".into(),
            seed: 7,
            files: hash_bundle(dir).unwrap(),
            subtasks: vec![
                SubtaskRecord::new(
                    "dock".into(),
                    Controller::Policy,
                    Fidelity::Low,
                    ev(300, 300),
                    0.99,
                    0.95,
                )
                .unwrap(),
                SubtaskRecord::new(
                    "dock".into(),
                    Controller::Policy,
                    Fidelity::High,
                    ev(290, 300),
                    0.99,
                    0.95,
                )
                .unwrap(),
            ],
            goals: vec![GoalRecord {
                goal: "shed_a".into(),
                routes: vec![RouteRecord {
                    subtasks: vec!["dock".into()],
                    lower_bound: 0.9847,
                    theta: 0.9,
                    confidence: 0.95,
                    fidelity: Fidelity::High,
                }],
            }],
            fidelity_gaps: vec![],
            interface: InterfaceRecord {
                passed: true,
                summary: "3 subtasks, 2 edges, all checks pass".into(),
            },
            certified: true,
        }
    }

    fn ev(successes: u64, trials: u64) -> SubtaskEvidence {
        SubtaskEvidence { trials, successes }
    }

    fn sealed() -> (tempfile::TempDir, Certificate) {
        let dir = bundle();
        let cert = certificate(dir.path());
        cert.write(dir.path()).unwrap();
        (dir, cert)
    }

    #[test]
    fn hashes_cover_sealed_files_only() {
        let dir = bundle();
        let files = hash_bundle(dir.path()).unwrap();
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(names, ["policies/dock.contract.yaml", "policies/dock.safetensors", "scenario.yaml"]);
        // sha256 of the bytes 1..=5, computed independently.
        assert_eq!(
            files["policies/dock.safetensors"],
            "74f81fe167d99b4cb41d6d0ccda82278caee9f3e2f25d5e5a3936ff3dcec60d0"
        );
    }

    #[test]
    fn write_then_load_verified_round_trips() {
        let (dir, cert) = sealed();
        assert_eq!(Certificate::load_verified(dir.path()).unwrap(), cert);
        let text = fs::read_to_string(Certificate::path_in(dir.path())).unwrap();
        assert!(text.contains("fidelity: high") && text.contains("policies/dock.safetensors"), "{text}");
    }

    #[test]
    fn write_leaves_no_temporary_files() {
        let (dir, cert) = sealed();
        // Overwriting works too and still leaves only the certificate.
        cert.write(dir.path()).unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["certificate.yaml", "plots", "policies", "report.md", "scenario.yaml"]);
    }

    #[test]
    fn concurrent_writers_and_failed_writes_leave_no_temporary_files() {
        let (dir, cert) = sealed();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| cert.write(dir.path()).unwrap());
            }
        });
        assert_eq!(Certificate::load_verified(dir.path()).unwrap(), cert);
        let leftovers = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(leftovers, 0);
        let missing = dir.path().join("no_such_dir");
        assert!(matches!(cert.write(&missing), Err(Error::Io { op: "create", .. })));
        assert!(!missing.exists());
    }

    #[test]
    fn one_changed_byte_is_refused_naming_the_file() {
        let (dir, cert) = sealed();
        let p = dir.path().join("policies/dock.safetensors");
        fs::write(&p, [1u8, 2, 3, 4, 6]).unwrap();
        let err = Certificate::load_verified(dir.path()).unwrap_err();
        match &err {
            Error::Tampered { file, expected, actual } => {
                assert_eq!(file, "policies/dock.safetensors");
                assert_eq!(expected, &cert.files["policies/dock.safetensors"]);
                assert_ne!(expected, actual);
            }
            other => panic!("expected Tampered, got {other:?}"),
        }
        assert!(err.to_string().contains("policies/dock.safetensors"), "{err}");
    }

    #[test]
    fn deleted_and_added_files_are_refused() {
        let (dir, _) = sealed();
        fs::remove_file(dir.path().join("policies/dock.contract.yaml")).unwrap();
        assert_eq!(
            Certificate::load_verified(dir.path()),
            Err(Error::MissingBundleFile { file: "policies/dock.contract.yaml".into() })
        );
        let (dir, _) = sealed();
        fs::write(dir.path().join("policies/extra.safetensors"), b"x").unwrap();
        let err = Certificate::load_verified(dir.path()).unwrap_err();
        assert_eq!(err, Error::UnlistedBundleFile { file: "policies/extra.safetensors".into() });
        assert!(err.to_string().contains("not listed"), "{err}");
    }

    #[test]
    fn report_and_plots_are_not_sealed() {
        let (dir, cert) = sealed();
        fs::write(dir.path().join(REPORT_FILE), "# rewritten report\n").unwrap();
        fs::write(dir.path().join("plots/bounds.png"), [9u8; 3]).unwrap();
        fs::create_dir_all(dir.path().join("plots/more")).unwrap();
        fs::write(dir.path().join("plots/more/new.png"), [1u8]).unwrap();
        assert_eq!(Certificate::load_verified(dir.path()).unwrap(), cert);
        // A report.md below the root is an ordinary bundle file.
        fs::write(dir.path().join("policies/report.md"), "x").unwrap();
        assert!(matches!(Certificate::load_verified(dir.path()), Err(Error::UnlistedBundleFile { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_refused() {
        let (dir, _) = sealed();
        let link = dir.path().join("policies/link.safetensors");
        std::os::unix::fs::symlink(dir.path().join("policies/dock.safetensors"), &link).unwrap();
        assert_eq!(hash_bundle(dir.path()), Err(Error::Symlink { path: link.clone() }));
        assert_eq!(Certificate::load_verified(dir.path()), Err(Error::Symlink { path: link }));
    }

    #[test]
    fn malformed_certificate_names_file_and_field() {
        let (dir, _) = sealed();
        let path = Certificate::path_in(dir.path());
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("trials: 300", "trials: many")).unwrap();
        let err = Certificate::load_verified(dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::MalformedCertificate { line: Some(_), .. }), "{err:?}");
        assert!(msg.contains("certificate.yaml") && msg.contains("subtasks[0].trials"), "{msg}");

        fs::write(&path, text.replace("seed: 7\n", "")).unwrap();
        let msg = Certificate::load_verified(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("certificate.yaml") && msg.contains("missing field `seed`"), "{msg}");

        fs::write(&path, format!("{text}extra_field: 1\n")).unwrap();
        let msg = Certificate::load_verified(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("unknown field `extra_field`"), "{msg}");

        fs::write(&path, "files: [unclosed\n").unwrap();
        assert!(matches!(Certificate::load_verified(dir.path()), Err(Error::MalformedCertificate { .. })));
    }

    #[test]
    fn subtask_record_holds_clopper_pearson_bounds() {
        let r =
            SubtaskRecord::new("dock".into(), Controller::Policy, Fidelity::High, ev(300, 300), 0.99, 0.95)
                .unwrap();
        // 300 of 300: lower bound 0.01^(1/300) ≈ 0.98477; two-sided at 0.005 per side.
        assert!((r.lower_bound - 0.01f64.powf(1.0 / 300.0)).abs() < 1e-12);
        assert!((r.interval[0] - 0.005f64.powf(1.0 / 300.0)).abs() < 1e-12 && r.interval[1] == 1.0);
        assert!(r.pass);
        let r =
            SubtaskRecord::new("dock".into(), Controller::Policy, Fidelity::High, ev(280, 300), 0.99, 0.95)
                .unwrap();
        assert!(!r.pass && r.lower_bound < 280.0 / 300.0);
        assert!(
            SubtaskRecord::new("dock".into(), Controller::Policy, Fidelity::High, ev(301, 300), 0.99, 0.95)
                .is_err()
        );
        assert!(
            SubtaskRecord::new("dock".into(), Controller::Policy, Fidelity::High, ev(3, 3), 0.99, f64::NAN)
                .is_err()
        );
    }

    #[test]
    fn out_of_range_values_are_malformed() {
        let (dir, _) = sealed();
        let path = Certificate::path_in(dir.path());
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replacen("successes: 300", "successes: 301", 1)).unwrap();
        let msg = Certificate::load_verified(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("certificate.yaml") && msg.contains("subtasks[0].successes"), "{msg}");
        fs::write(&path, text.replacen("theta: 0.9", "theta: .nan", 1)).unwrap();
        let msg = Certificate::load_verified(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("goals[0].routes[0].theta"), "{msg}");
    }

    #[test]
    fn bad_recorded_hash_is_malformed() {
        let (dir, cert) = sealed();
        let path = Certificate::path_in(dir.path());
        let text = fs::read_to_string(&path).unwrap();
        let good = &cert.files["scenario.yaml"];
        fs::write(&path, text.replace(good.as_str(), &good.to_uppercase())).unwrap();
        let msg = Certificate::load_verified(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("files.scenario.yaml") && msg.contains("hex"), "{msg}");
    }

    #[test]
    fn missing_certificate_is_an_io_error_naming_it() {
        let dir = bundle();
        let err = Certificate::load_verified(dir.path()).unwrap_err();
        assert!(matches!(&err, Error::Io { kind: std::io::ErrorKind::NotFound, .. }), "{err:?}");
        assert!(err.to_string().contains("certificate.yaml"), "{err}");
    }
}
