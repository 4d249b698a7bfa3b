//! [`BundleWriter`]: the one place that knows where each artefact of a bundle goes. Training,
//! the pipeline, verification and the report all write through it, and every file is written
//! atomically (temporary file, fsync, rename), so a reader never sees half a bundle file.

use std::path::{Path, PathBuf};

use policies::PolicyFile;
use verification::{CERTIFICATE_FILE, Certificate, PLOTS_DIR, REPORT_FILE};

use super::{BundleError, POLICIES_DIR, SCENARIO_FILE};
use crate::files;

/// Writes the parts of a bundle into its directory.
#[derive(Debug, Clone)]
pub struct BundleWriter {
    dir: PathBuf,
}

impl BundleWriter {
    /// A writer for the bundle at `dir`, created (with its policies folder) when absent.
    pub fn create(dir: &Path) -> Result<BundleWriter, BundleError> {
        let policies = dir.join(POLICIES_DIR);
        std::fs::create_dir_all(&policies).map_err(|source| BundleError::Write { file: policies, source })?;
        Ok(BundleWriter { dir: dir.to_path_buf() })
    }

    /// The bundle directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Copies the scenario file `source` into the bundle byte for byte (its comments are the
    /// scenario's documentation) and removes a certificate that would describe other files.
    pub fn scenario_from(&self, source: &Path) -> Result<(), BundleError> {
        let bytes = std::fs::read(source)
            .map_err(|source_err| BundleError::Read { file: source.into(), source: source_err })?;
        self.remove_certificate()?;
        self.write(&self.dir.join(SCENARIO_FILE), &bytes)
    }

    /// Writes the policy pair of `subtask`; returns the weights and contract paths.
    pub fn policy(&self, subtask: &str, file: &PolicyFile) -> Result<(PathBuf, PathBuf), BundleError> {
        Ok(file.save(&self.dir.join(POLICIES_DIR), subtask)?)
    }

    /// Removes every policy pair whose subtask is not in `keep` (pairs from an earlier run into
    /// the same directory would otherwise be verified and shipped too).
    pub fn retain_policies(&self, keep: &[&str]) -> Result<(), BundleError> {
        let dir = self.dir.join(POLICIES_DIR);
        let list = |source| BundleError::List { dir: dir.clone(), source };
        for entry in std::fs::read_dir(&dir).map_err(list)? {
            let path = entry.map_err(list)?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let stem = name.strip_suffix(".safetensors").or_else(|| name.strip_suffix(".contract.yaml"));
            if stem.is_none_or(|s| !keep.contains(&s)) {
                std::fs::remove_file(&path).map_err(|source| BundleError::Write { file: path, source })?;
            }
        }
        Ok(())
    }

    /// Writes `certificate.yaml`.
    pub fn certificate(&self, cert: &Certificate) -> Result<PathBuf, BundleError> {
        cert.write(&self.dir)?;
        Ok(self.dir.join(CERTIFICATE_FILE))
    }

    /// Removes `certificate.yaml`, if any.
    pub fn remove_certificate(&self) -> Result<(), BundleError> {
        let file = self.dir.join(CERTIFICATE_FILE);
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(BundleError::Write { file, source: e }),
            _ => Ok(()),
        }
    }

    /// Writes `report.md`.
    pub fn report(&self, markdown: &str) -> Result<PathBuf, BundleError> {
        let file = self.dir.join(REPORT_FILE);
        self.write(&file, markdown.as_bytes())?;
        Ok(file)
    }

    /// The path of plot `name` (a PNG file name) in `plots/`, which is created.
    pub fn plot(&self, name: &str) -> Result<PathBuf, BundleError> {
        let dir = self.dir.join(PLOTS_DIR);
        std::fs::create_dir_all(&dir).map_err(|source| BundleError::Write { file: dir.clone(), source })?;
        Ok(dir.join(name))
    }

    fn write(&self, file: &Path, bytes: &[u8]) -> Result<(), BundleError> {
        files::write_atomic(file, bytes).map_err(|source| BundleError::Write { file: file.into(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_copy_drops_a_stale_certificate_and_retain_removes_strangers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let writer = BundleWriter::create(dir.path()).expect("create");
        std::fs::write(dir.path().join(CERTIFICATE_FILE), "old").expect("write");
        let source = dir.path().join("source.yaml");
        std::fs::write(&source, "# comments kept\nname: x\n").expect("write");
        writer.scenario_from(&source).expect("copy");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(SCENARIO_FILE)).expect("read"),
            "# comments kept\nname: x\n"
        );
        assert!(!dir.path().join(CERTIFICATE_FILE).exists(), "a certificate of other files is removed");

        let policies = dir.path().join(POLICIES_DIR);
        for name in ["a.safetensors", "a.contract.yaml", "b.safetensors", "b.contract.yaml", "notes.txt"] {
            std::fs::write(policies.join(name), "x").expect("write");
        }
        writer.retain_policies(&["a"]).expect("retain");
        let mut left: Vec<String> = std::fs::read_dir(&policies)
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["a.contract.yaml", "a.safetensors"]);

        let missing = writer.scenario_from(&dir.path().join("nope.yaml")).expect_err("missing source");
        assert!(missing.to_string().contains("nope.yaml"), "{missing}");
    }
}
