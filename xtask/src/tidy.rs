//! Repository rules checked under `cargo test`: the crate dependency edges match the table in
//! docs/ARCHITECTURE.md, every dependency is used, every test file runs.

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

/// `cargo metadata` of the workspace members (no dependencies).
fn metadata() -> serde_json::Value {
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
    serde_json::from_slice(&out.stdout).expect("metadata json")
}

/// (crate, dependency, kind) for every dependency between workspace members.
fn actual_edges() -> Vec<(String, String, String)> {
    let meta = metadata();
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
                || from == to
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

fn rust_files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Normal dependencies a crate's sources never name: a dependency nobody uses still costs
/// every build. (Names are matched as `name::` or `use name`, which is how every crate here
/// is used, derive macros and attributes included.)
#[test]
fn every_dependency_is_used() {
    let meta = metadata();
    let mut unused = Vec::new();
    for p in meta["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().unwrap_or_default();
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest.parent().expect("crate folder");
        let mut files = Vec::new();
        for sub in ["src", "benches", "examples"] {
            rust_files(&dir.join(sub), &mut files);
        }
        let text: String = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap_or_default())
            .collect();
        for d in p["dependencies"].as_array().into_iter().flatten() {
            if !d["kind"].is_null() || d["optional"].as_bool() == Some(true) {
                continue;
            }
            let dep = d["rename"]
                .as_str()
                .or(d["name"].as_str())
                .unwrap_or_default()
                .replace('-', "_");
            if !text.contains(&format!("{dep}::")) && !text.contains(&format!("use {dep}")) {
                unused.push(format!("{name} -> {dep}"));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "dependencies no source names (remove them from Cargo.toml): {unused:?}"
    );
}

/// One integration-test binary per crate (`tests/it/main.rs`), and every file in it declared
/// as a module: a file left out is a test that never runs.
#[test]
fn every_test_file_is_compiled() {
    let mut forgotten = Vec::new();
    for entry in std::fs::read_dir(workspace_root().join("crates")).expect("crates/") {
        let tests = entry.expect("entry").path().join("tests");
        let Ok(listing) = std::fs::read_dir(&tests) else {
            continue;
        };
        for f in listing.flatten() {
            let p = f.path();
            if p.is_file() && p.extension().is_some_and(|x| x == "rs") {
                forgotten.push(format!("{} (a test binary of its own)", p.display()));
            }
        }
        let main = tests.join("it").join("main.rs");
        let Ok(text) = std::fs::read_to_string(&main) else {
            continue;
        };
        let mut files = Vec::new();
        rust_files(&tests.join("it"), &mut files);
        for f in files {
            let stem = f
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            if stem != "main" && !text.contains(&format!("mod {stem};")) {
                forgotten.push(f.display().to_string());
            }
        }
    }
    assert!(
        forgotten.is_empty(),
        "test files that never run: {forgotten:?}"
    );
}

/// Every library crate's front page shows a runnable example (not `no_run`, not `ignore`):
/// `cargo test` runs it, so it stays true.
#[test]
fn every_library_crate_has_a_runnable_crate_level_example() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(workspace_root().join("crates")).expect("crates/") {
        let dir = entry.expect("entry").path();
        let Ok(text) = std::fs::read_to_string(dir.join("src/lib.rs")) else {
            continue;
        };
        let runnable = text
            .lines()
            .take_while(|l| l.starts_with("//!") || l.starts_with("#!") || l.is_empty())
            .any(|l| matches!(l.trim_end(), "//! ```" | "//! ```rust"));
        if !runnable {
            missing.push(dir.display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "crates without a runnable example in their crate docs: {missing:?}"
    );
}

/// Library error messages say what is wrong, not which command to type: an embedding program
/// has no `roadmap` binary. The CLI adds its advice by matching error variants (`hint` in
/// roadmap-cli's main.rs). Checked on every `#[error("…")]` of the library crates.
#[test]
fn library_errors_name_no_cli_command() {
    let root = workspace_root();
    let mut found = Vec::new();
    for dir in std::fs::read_dir(root.join("crates"))
        .expect("crates")
        .flatten()
    {
        if dir.file_name() == "roadmap-cli" {
            continue;
        }
        let mut files = Vec::new();
        rust_files(&dir.path().join("src"), &mut files);
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[error(") && line.contains("`roadmap ") {
                    found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "library errors naming a CLI command:\n{}",
        found.join("\n")
    );
}

/// The client and the simulator read time only through their `clock` modules (tokio's
/// clock), so a test on a paused clock moves every wait, window and reset together: a
/// stray `std::time::Instant::now()` or `SystemTime::now()` would wait in real time (or
/// never) under `start_paused`.
#[test]
fn the_client_and_the_simulator_read_time_through_their_clock() {
    let root = workspace_root();
    let mut found = Vec::new();
    for krate in ["roadmap-github", "roadmap-sim"] {
        let mut files = Vec::new();
        rust_files(&root.join("crates").join(krate).join("src"), &mut files);
        for f in files.iter().filter(|f| !f.ends_with("clock.rs")) {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let std_instant = text
                .lines()
                .any(|l| l.starts_with("use std::time::") && l.contains("Instant"));
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if ["SystemTime::now", "Utc::now", "std::time::Instant::now"]
                    .iter()
                    .any(|p| code.contains(p))
                    || (std_instant && code.contains("Instant::now"))
                {
                    found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "time read outside the clock modules:\n{}",
        found.join("\n")
    );
}
