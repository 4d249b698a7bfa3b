//! The layering of DESIGN §2, checked on the source text so a forbidden import fails the tests:
//! the runtime never imports `ros`, `training`, `cli` or the launchers above it; the agents never
//! import the runtime; only `src/mission.rs` picks the transport (imports `ros`); the leaf crates
//! depend on none of ours; ROS types only in `src/ros/`;
//! LLM wire types and the HTTP client only in `src/llm/`; HTTP servers only in `src/console/`.

use std::path::{Path, PathBuf};

/// (files under this folder of `src/`, wings of the root crate they must not import, why).
const FORBIDDEN_WINGS: &[(&str, &[&str], &str)] = &[
    (
        "runtime",
        &["ros", "training", "cli", "mission", "pipeline", "eval", "campaign"],
        "the runtime is ROS-free node logic; transports and launchers sit above it",
    ),
    (
        "agents",
        &["runtime", "mission", "ros", "pipeline", "eval"],
        "agents work on plain data, never on the runtime",
    ),
    ("msg.rs", &["runtime", "ros", "mission"], "the message vocabulary is the bottom of the runtime"),
    ("bundle", &["runtime", "ros", "mission", "cli"], "a bundle is data on disk"),
    (
        "control",
        &["training", "runtime", "ros", "campaign"],
        "what the robot runs must not need training code",
    ),
    (
        "scenario",
        &["runtime", "ros", "training", "campaign", "bundle"],
        "the scenario is the base of everything",
    ),
];

/// (crate paths named in code, the only `src/` folder where they may appear, why).
const CONFINED_CRATES: &[(&str, &str, &str)] = &[
    ("r2r", "ros", "ROS message types live only in the bridge"),
    ("ureq", "llm", "the HTTP client is the LLM backends'"),
    ("llama_cpp_2", "llm", "the in-process model is an LLM backend"),
    ("axum", "console", "HTTP serving is the operator console's"),
    ("hyper", "console", "HTTP serving is the operator console's"),
    ("tower_http", "console", "HTTP serving is the operator console's"),
];

/// The leaf crates (folder, package name); none may depend on another or on the root.
const LEAVES: &[(&str, &str)] =
    &[("sim", "sim2real-sim"), ("policies", "sim2real-policies"), ("verification", "sim2real-verification")];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("list src").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without `//` comments (doc comments included) and string literals' text.
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut in_string = false;
        let mut prev = ' ';
        let mut kept = String::new();
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if !in_string && c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            }
            if c == '"' && prev != '\\' {
                in_string = !in_string;
            } else if !in_string {
                kept.push(c);
            }
            prev = c;
            i += 1;
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The first segment of every `crate::…` path in `code`, grouped imports (`crate::{a, b::c}`)
/// included.
fn crate_wings(code: &str) -> Vec<String> {
    let mut wings = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `sim2real_crate::`, not ours
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ => {}
                }
                if depth == 0 && c != ',' {
                    item.push(c);
                }
            }
            items.push(item);
            wings.extend(items.iter().filter_map(|i| leading_ident(i.trim())));
        } else if let Some(w) = leading_ident(rest) {
            wings.push(w);
        }
    }
    wings
}

fn leading_ident(s: &str) -> Option<String> {
    let ident: String = s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!ident.is_empty()).then_some(ident)
}

/// Whether `code` names crate `name` as a path (`name::…`, `use name;`, `extern crate name`).
fn names_crate(code: &str, name: &str) -> bool {
    code.match_indices(name).any(|(at, _)| {
        let before = code[..at].chars().last();
        let after = &code[at + name.len()..];
        let starts = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
        starts && (after.starts_with("::") || after.trim_start().starts_with(';'))
    })
}

/// Every layering violation of the file at `rel` (relative to `src/`) with text `text`.
fn violations(rel: &str, text: &str) -> Vec<String> {
    let code = code(text);
    let wing = rel.split('/').next().unwrap_or(rel);
    let mut found = Vec::new();
    for (folder, forbidden, why) in FORBIDDEN_WINGS {
        if wing != *folder {
            continue;
        }
        for w in crate_wings(&code) {
            if forbidden.contains(&w.as_str()) {
                found.push(format!("src/{rel} imports crate::{w}: {why}"));
            }
        }
    }
    for (name, home, why) in CONFINED_CRATES {
        if wing != *home && names_crate(&code, name) {
            found.push(format!("src/{rel} names `{name}` outside src/{home}/: {why}"));
        }
    }
    // The transport is chosen in one room: mission.rs (the CLI only passes flags through).
    if !["ros", "mission.rs", "cli", "main.rs"].contains(&wing)
        && crate_wings(&code).iter().any(|w| w == "ros")
    {
        found.push(format!("src/{rel} imports crate::ros: only src/mission.rs picks the transport"));
    }
    if wing != "llm" && crate_wings(&code).iter().any(|w| w == "llm") && code.contains("llm::wire") {
        found.push(format!("src/{rel} uses the LLM wire types outside src/llm/"));
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn the_root_crate_keeps_its_layers() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 50, "found only {} files under src/", files.len());
    let mut all = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src").to_string_lossy().replace('\\', "/");
        all.extend(violations(&rel, &std::fs::read_to_string(file).expect("read")));
    }
    assert!(all.is_empty(), "layering violations:\n{}", all.join("\n"));
}

#[test]
fn no_loose_files_at_the_root_of_src() {
    let allowed = ["lib.rs", "main.rs", "files.rs", "msg.rs", "mission.rs"];
    let loose: Vec<String> = std::fs::read_dir(root().join("src"))
        .expect("list src")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !allowed.contains(&n.as_str()))
        .collect();
    assert!(loose.is_empty(), "loose files at src/: {loose:?} (put them in a wing, DESIGN §2)");
}

/// The README's layout section and `src/lib.rs`'s map name every wing, and name no wing that is
/// gone.
#[test]
fn the_maps_match_the_tree() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let layout = readme.split("## Layout").nth(1).and_then(|s| s.split("```").nth(1)).expect("layout block");
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("lib.rs");
    let mut wings: Vec<String> = std::fs::read_dir(root().join("src"))
        .expect("list src")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    wings.sort();
    for wing in &wings {
        assert!(layout.contains(&format!("  {wing}/")), "README's layout section does not list src/{wing}/");
        // The CLI belongs to the binary; the library's map covers the library's modules.
        if wing != "cli" {
            assert!(lib.contains(&format!("[`{wing}`]")), "src/lib.rs's map does not list {wing}");
        }
    }
    let listed: Vec<&str> = layout
        .lines()
        .skip_while(|l| !l.starts_with("src/"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|w| w.strip_suffix('/'))
        .collect();
    for w in listed {
        assert!(wings.iter().any(|x| x == w), "README's layout lists src/{w}/, which does not exist");
    }
}

#[test]
fn leaf_crates_depend_on_none_of_ours() {
    for (dir, _) in LEAVES {
        let manifest = std::fs::read_to_string(root().join(dir).join("Cargo.toml")).expect("manifest");
        for (other, package) in LEAVES.iter().filter(|(d, _)| d != dir) {
            let deps = manifest.split("[dev-dependencies]").next().unwrap_or_default();
            assert!(
                !deps
                    .lines()
                    .any(|l| l.trim_start().starts_with(&format!("{other} ")) || l.contains(package)),
                "{dir}/Cargo.toml depends on {other}: the leaf crates stay independent (DESIGN §2)"
            );
        }
        assert!(!manifest.contains("\nsim2real ") && !manifest.contains("package = \"sim2real\""));
        let mut files = Vec::new();
        rust_files(&root().join(dir).join("src"), &mut files);
        for file in files {
            let code = code(&std::fs::read_to_string(&file).expect("read"));
            for (_, package) in LEAVES.iter().filter(|(d, _)| d != dir) {
                let name = package.replace('-', "_");
                assert!(!names_crate(&code, &name), "{} names {name}", file.display());
            }
            assert!(!names_crate(&code, "sim2real"), "{} names the root crate", file.display());
        }
    }
}

/// The checker itself: each rule catches a deliberate violation, and leaves comments, strings
/// and lookalike names alone.
#[test]
fn deliberate_violations_are_caught() {
    let caught = |rel: &str, text: &str| !violations(rel, text).is_empty();
    assert!(caught("runtime/nodes/x.rs", "use crate::ros::TwistKind;"));
    assert!(caught("runtime/bus.rs", "use crate::{msg::Msg, training::Learner};"));
    assert!(caught("runtime/registry.rs", "fn f() { crate::cli::run(); }"));
    assert!(caught("agents/tips/mod.rs", "use crate::runtime::Bus;"));
    assert!(caught("pipeline/mod.rs", "use r2r::QosProfile;"));
    assert!(caught("eval/tips.rs", "use crate::ros::TwistKind;"));
    assert!(caught("agents/understanding.rs", "use crate::llm::wire::ChatRequest;"));
    assert!(caught("bundle/mod.rs", "let c = ureq::get(url);"));
    assert!(!caught("runtime/bus.rs", "// crate::ros is what runs this over DDS\nuse crate::msg::Msg;"));
    assert!(!caught("runtime/bus.rs", "let s = \"crate::ros\";"));
    assert!(!caught("ros/mod.rs", "use r2r::QosProfile; use crate::runtime::Node;"));
    assert!(!caught("agents/mod.rs", "use crate::scenario::Scenario; use crate::bundle::RoutePreference;"));
    assert!(!caught("mission.rs", "use crate::ros::TwistKind; use crate::runtime::Bus;"));
}
