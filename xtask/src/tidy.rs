//! Repository rules checked under `cargo test`: the crate dependency edges match the table in
//! docs/ARCHITECTURE.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Parses the "Allowed dependency edges" table.
fn allowed_edges() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(workspace_root().join("docs/ARCHITECTURE.md"))
        .expect("docs/ARCHITECTURE.md");
    let section = text
        .split("## Allowed dependency edges")
        .nth(1)
        .expect("an 'Allowed dependency edges' section");
    let mut out = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        if cells.len() < 2 || cells[0] == "crate" || cells[0].starts_with("--") {
            continue;
        }
        let deps = cells[1]
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        out.insert(cells[0].to_owned(), deps);
    }
    out
}

/// (crate, dependency, kind) for every dependency between workspace members.
fn actual_edges() -> Vec<(String, String, String)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let packages = meta["packages"].as_array().expect("packages");
    let members: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let mut edges = Vec::new();
    for p in packages {
        let name = p["name"].as_str().unwrap_or_default().to_owned();
        for d in p["dependencies"].as_array().into_iter().flatten() {
            let dep = d["name"].as_str().unwrap_or_default().to_owned();
            if members.contains(&dep) {
                let kind = d["kind"].as_str().unwrap_or("normal").to_owned();
                edges.push((name.clone(), dep, kind));
            }
        }
    }
    edges
}

#[test]
fn dependency_edges_follow_architecture_md() {
    let allowed = allowed_edges();
    let edges = actual_edges();
    let mut crates: BTreeSet<&str> = BTreeSet::new();
    for (from, to, kind) in &edges {
        crates.insert(from);
        if kind == "dev" {
            let ok = to == "roadmap-sim" && from != "roadmap-sim"
                || from == "roadmap-sync" && (to == "roadmap-github" || to == "roadmap-cache")
                || allowed.get(from).is_some_and(|a| a.contains(to));
            assert!(
                ok,
                "dev-dependency {from} -> {to} is not allowed by docs/ARCHITECTURE.md"
            );
            continue;
        }
        let ok = allowed.get(from).is_some_and(|a| a.contains(to));
        assert!(
            ok,
            "{from} -> {to} is not an allowed edge in docs/ARCHITECTURE.md"
        );
    }
    assert!(
        !edges
            .iter()
            .any(|(f, t, _)| f == "roadmap-sim" && t == "roadmap-github"),
        "the simulator must not depend on the client"
    );
    for c in crates {
        assert!(
            allowed.contains_key(c),
            "{c} is missing from the edge table in docs/ARCHITECTURE.md"
        );
    }
}

#[test]
fn every_workspace_crate_is_described_in_architecture_md() {
    let text = std::fs::read_to_string(workspace_root().join("docs/ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md");
    for entry in std::fs::read_dir(workspace_root().join("crates")).expect("crates/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            text.contains(&format!("| `{name}` |")),
            "crate {name} is not in the crate table of docs/ARCHITECTURE.md"
        );
    }
}
