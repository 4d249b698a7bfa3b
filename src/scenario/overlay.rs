//! Scenario overlays: a perturbed variant of a base scenario (mud after rain, a blocked lane, a
//! weaker motor) written as a small YAML file that patches named fields of the base.
//!
//! ```yaml
//! name: rain_gravel_road
//! description: mud after rain on the gravel road
//! conditions: [rain]                         # tags the tips planner reasons with
//! set:                                       # field path → new value
//!   world.terrain.gravel_road.friction: 0.2  # list items are addressed by their `id`
//!   robot.motor_force_max_n: 400
//! add:                                       # list path → items appended to it
//!   world.obstacles:
//!     - {id: parked_truck, box: {center: [58, 86], half_extents_m: [1.5, 4]}, height_m: 3}
//! ```
//!
//! [`Overlay::apply`] patches the base file's YAML value and then runs the ordinary scenario
//! parsing and validation on the result, so an overlay is held to the same schema as a scenario.
//! Every error names the overlay file and the field in id form (`world.terrain.gravel_road.friction`,
//! not `world.terrain[1].friction`): an unknown field, an unknown id, a wrong type, a value out of
//! range.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml_ng::{Mapping, Value};

use super::{Problem, Scenario, ScenarioError, parse_yaml, read_file};

/// The overlay file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverlay {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    conditions: Vec<String>,
    #[serde(default)]
    set: Mapping,
    #[serde(default)]
    add: Mapping,
}

/// A validated overlay: what to patch, not yet applied to a base.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    file: PathBuf,
    name: String,
    description: String,
    conditions: Vec<String>,
    set: Vec<(String, Value)>,
    add: Vec<(String, Vec<Value>)>,
}

fn is_tag(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn overlay_error(file: &Path, field: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Overlay { file: file.into(), field: field.into(), message: message.into() }
}

impl Overlay {
    /// Reads and checks an overlay file (its patches are checked against a base in [`apply`]).
    ///
    /// [`apply`]: Overlay::apply
    pub fn load(path: &Path) -> Result<Overlay, ScenarioError> {
        Self::parse(&read_file(path)?, path)
    }

    /// Parses overlay text; `file` names the source in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Overlay, ScenarioError> {
        let raw: RawOverlay = parse_yaml(text, file)?;
        if !is_tag(&raw.name) {
            return Err(overlay_error(
                file,
                "name",
                format!("must be lower-case letters, digits and `_` (got `{}`)", raw.name),
            ));
        }
        for (i, c) in raw.conditions.iter().enumerate() {
            if !is_tag(c) {
                let msg = format!("must be lower-case letters, digits and `_` (got `{c}`)");
                return Err(overlay_error(file, format!("conditions[{i}]"), msg));
            }
        }
        let key = |k: &Value, section: &str| -> Result<String, ScenarioError> {
            match k.as_str() {
                Some(s) if !s.is_empty() && s.split('.').all(|p| !p.is_empty()) => Ok(s.to_string()),
                _ => {
                    Err(overlay_error(file, section, format!("keys must be dotted field paths (got {k:?})")))
                }
            }
        };
        let mut set = Vec::new();
        for (k, v) in &raw.set {
            set.push((key(k, "set")?, v.clone()));
        }
        let mut add = Vec::new();
        for (k, v) in &raw.add {
            let path = key(k, "add")?;
            let Value::Sequence(items) = v else {
                return Err(overlay_error(file, format!("add.{path}"), "must be a list of items to append"));
            };
            add.push((path, items.clone()));
        }
        if set.is_empty() && add.is_empty() {
            return Err(overlay_error(file, "set", "an overlay must patch something (`set` or `add`)"));
        }
        Ok(Overlay {
            file: file.into(),
            name: raw.name,
            description: raw.description.trim().to_string(),
            conditions: raw.conditions,
            set,
            add,
        })
    }

    /// The file it was read from.
    pub fn file(&self) -> &Path {
        &self.file
    }
    /// Name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// What it changes, in words.
    pub fn description(&self) -> &str {
        &self.description
    }
    /// Condition tags (`rain`, `blocked`, `weak_motor`, ...).
    pub fn conditions(&self) -> &[String] {
        &self.conditions
    }

    /// The base scenario file with this overlay applied, parsed and validated.
    pub fn apply_to_file(&self, base: &Path) -> Result<Scenario, ScenarioError> {
        self.apply(&read_file(base)?, base)
    }

    /// Base scenario text with this overlay applied, parsed and validated; `base_file` names the
    /// base in errors about the base itself.
    pub fn apply(&self, base_text: &str, base_file: &Path) -> Result<Scenario, ScenarioError> {
        let mut value: Value = parse_yaml(base_text, base_file)?;
        for (path, v) in &self.set {
            let slot = resolve(&mut value, path).map_err(|m| overlay_error(&self.file, path.as_str(), m))?;
            *slot = v.clone();
        }
        for (path, items) in &self.add {
            let slot = resolve(&mut value, path).map_err(|m| overlay_error(&self.file, path.as_str(), m))?;
            match slot {
                Value::Sequence(list) => list.extend(items.iter().cloned()),
                Value::Null => *slot = Value::Sequence(items.clone()),
                _ => return Err(overlay_error(&self.file, path.as_str(), "is not a list")),
            }
        }
        let text = serde_yaml_ng::to_string(&value).map_err(|e| {
            overlay_error(&self.file, ".", format!("cannot re-encode the patched scenario: {e}"))
        })?;
        match Scenario::parse(&text, &self.file) {
            Ok(s) => Ok(s),
            Err(ScenarioError::Syntax { path, message, .. }) => {
                // Line and column refer to the re-encoded text, which nobody sees: drop them.
                let message = match message.find(" at line ") {
                    Some(i) => message[..i].to_string(),
                    None => message,
                };
                Err(overlay_error(&self.file, id_path(&value, &path), message))
            }
            Err(ScenarioError::Invalid { problems, .. }) => Err(ScenarioError::Invalid {
                file: self.file.clone(),
                problems: problems
                    .into_iter()
                    .map(|p| Problem { path: id_path(&value, &p.path), ..p })
                    .collect(),
            }),
            Err(e) => Err(e),
        }
    }
}

/// The slot at a dotted path: mapping keys by name (created when absent, so the schema decides
/// whether the field exists), list items by their `id`.
fn resolve<'a>(root: &'a mut Value, path: &str) -> Result<&'a mut Value, String> {
    let mut here = root;
    let mut walked = String::new();
    for seg in path.split('.') {
        here = match here {
            Value::Mapping(m) => m.entry(Value::String(seg.to_string())).or_insert(Value::Null),
            Value::Sequence(items) => {
                let known: Vec<String> = items.iter().filter_map(item_id).collect();
                let i = known.iter().position(|id| id == seg).ok_or_else(|| {
                    format!("no item with id `{seg}` in `{walked}` (ids: {})", known.join(", "))
                })?;
                &mut items[i]
            }
            Value::Null => {
                *here = Value::Mapping(Mapping::new());
                match here {
                    Value::Mapping(m) => m.entry(Value::String(seg.to_string())).or_insert(Value::Null),
                    _ => unreachable!("just made a mapping"),
                }
            }
            _ => return Err(format!("`{walked}` is a value, it has no field `{seg}`")),
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(seg);
    }
    Ok(here)
}

fn item_id(v: &Value) -> Option<String> {
    v.as_mapping()?.get("id")?.as_str().map(str::to_string)
}

/// Rewrites a field path with list indices (`world.terrain[1].friction`) into the id form the
/// overlay uses (`world.terrain.gravel_road.friction`) wherever the item has an id.
fn id_path(root: &Value, path: &str) -> String {
    let mut out = String::new();
    let mut here = Some(root);
    for part in path.split('.') {
        let (key, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(key);
        here = here.and_then(|v| v.as_mapping()).and_then(|m| m.get(key));
        for idx in indices.split('[').filter(|s| !s.is_empty()) {
            let idx = idx.trim_end_matches(']');
            let item = idx.parse::<usize>().ok().and_then(|i| here.and_then(|v| v.as_sequence()?.get(i)));
            match item.and_then(item_id) {
                Some(id) => {
                    out.push('.');
                    out.push_str(&id);
                }
                None => {
                    out.push('[');
                    out.push_str(idx);
                    out.push(']');
                }
            }
            here = item;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/warthog_yard/scenario.yaml")
    }

    fn apply(text: &str) -> Result<Scenario, ScenarioError> {
        let overlay = Overlay::parse(text, Path::new("variants/test.yaml"))?;
        overlay.apply_to_file(&base())
    }

    fn err(text: &str) -> String {
        apply(text).expect_err("must fail").to_string()
    }

    #[test]
    fn patches_a_list_item_by_id_and_adds_an_obstacle() {
        let s = apply(
            "name: t\nconditions: [rain]\nset:\n  world.terrain.gravel_road.friction: 0.2\n  robot.motor_force_max_n: 400\nadd:\n  world.obstacles:\n    - {id: truck, disc: {center: [50, 86], radius_m: 2}, height_m: 3}\n",
        )
        .expect("valid overlay");
        let i = (0..s.world().terrain.len()).find(|&i| s.terrain_id(i) == "gravel_road").expect("patch");
        assert_eq!(s.world().terrain[i].friction, 0.2);
        assert_eq!(s.robot().motor_force_max_n, 400.0);
        let n = s.world().obstacles.len();
        assert_eq!(s.obstacle_id(n - 1), "truck");
    }

    #[test]
    fn errors_name_the_overlay_file_and_the_field() {
        let e = err("name: t\nset:\n  world.terrain.gravel_rod.friction: 0.2\n");
        assert!(e.contains("variants/test.yaml") && e.contains("world.terrain.gravel_rod.friction"), "{e}");
        assert!(e.contains("no item with id `gravel_rod`") && e.contains("gravel_road"), "{e}");

        let e = err("name: t\nset:\n  world.terrain.gravel_road.frictoin: 0.2\n");
        assert!(e.contains("variants/test.yaml") && e.contains("world.terrain.gravel_road"), "{e}");
        assert!(e.contains("unknown field `frictoin`"), "{e}");

        let e = err("name: t\nset:\n  world.terrain.gravel_road.friction: slippery\n");
        assert!(e.contains("variants/test.yaml") && e.contains("world.terrain.gravel_road.friction"), "{e}");
        assert!(e.contains("invalid type"), "{e}");

        let e = err("name: t\nset:\n  world.terrain.gravel_road.friction: -1\n");
        assert!(e.contains("variants/test.yaml") && e.contains("world.terrain.gravel_road.friction"), "{e}");

        let e = err("name: t\nset:\n  robot.motor_force_max_n: .nan\n");
        assert!(e.contains("robot.motor_force_max_n"), "{e}");

        let e = err("name: t\nset:\n  name.first: x\n");
        assert!(e.contains("`name` is a value"), "{e}");

        let e = err("name: t\nsett:\n  robot.mass_kg: 300\n");
        assert!(e.contains("variants/test.yaml") && e.contains("unknown field `sett`"), "{e}");

        let e = err("name: t\nconditions: [Rain]\nset:\n  robot.mass_kg: 300\n");
        assert!(e.contains("conditions[0]"), "{e}");

        let e = err(
            "name: t\nadd:\n  world.obstacles:\n    - {id: truck, disc: {center: [50, 86]}, height_m: 3}\n",
        );
        assert!(e.contains("world.obstacles.truck.disc"), "{e}");
    }
}
