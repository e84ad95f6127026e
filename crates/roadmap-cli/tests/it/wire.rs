//! The CLI against github.com as it answers today: cursor pages, 304s without `Link`.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use roadmap_sim::{Latency, RepoSpec, SimConfig, Simulator, Wire};

use crate::{ok, shared_files};

fn start(spec: RepoSpec, wire: Wire, latency: Latency) -> (tokio::runtime::Runtime, Simulator) {
    crate::simulator(SimConfig::default().repo(spec).wire(wire).latency(latency))
}

fn command(p: &Path, sim: &Simulator, args: &[&str]) -> Command {
    crate::command(p, sim, "ghp_wire_cli_test", args)
}

fn run(p: &Path, sim: &Simulator, args: &[&str]) -> Output {
    command(p, sim, args).output().unwrap()
}

#[test]
fn a_pull_killed_at_many_points_and_rerun_ends_with_the_files_of_a_clean_pull() {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 1_200;
    spec.milestones = 4;
    spec.labels = 8;
    spec.comments = 1;
    // github.com's paging, 304s without `Link` (the default).
    let (_rt, sim) = start(
        spec,
        Wire::github(),
        Latency {
            base: Duration::from_millis(25),
            per_item: Duration::from_micros(500),
            jitter: Duration::ZERO,
        },
    );
    let clean = tempfile::tempdir().unwrap();
    ok(clean.path(), &["init", "--repo", "octo/demo"]);
    let out = run(clean.path(), &sim, &["sync", "pull", "--full"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = shared_files(clean.path());
    assert!(expected.len() > 1_200);

    // Early (milestones, labels, the first pages), mid-listing, late (comments). The
    // reliability suite (`cargo xtask reliability`) kills at many more points.
    for kill_after_ms in [150u64, 450, 800, 1_500] {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        ok(p, &["init", "--repo", "octo/demo"]);
        let mut child = command(p, &sim, &["sync", "pull", "--full"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let out = run(p, &sim, &["sync", "pull", "--full", "--json"]);
        assert!(
            out.status.success(),
            "rerun after a kill at {kill_after_ms} ms: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            report["lost"].as_array().map_or(0, Vec::len),
            0,
            "nothing taken for lost after a kill at {kill_after_ms} ms"
        );
        let got = shared_files(p);
        let missing: Vec<_> = expected
            .keys()
            .filter(|k| !got.contains_key(*k))
            .take(5)
            .collect();
        assert!(
            missing.is_empty(),
            "kill at {kill_after_ms} ms: missing {missing:?}"
        );
        let differ: Vec<_> = expected
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(v))
            .map(|(k, _)| k)
            .take(5)
            .collect();
        assert!(
            differ.is_empty(),
            "kill at {kill_after_ms} ms: differ {differ:?}"
        );
        assert_eq!(got.len(), expected.len());
    }
}

#[test]
fn a_repository_with_250_labels_survives_a_no_change_pull_byte_for_byte() {
    for wire in [Wire::github(), Wire::all_cursor()] {
        let mut spec = RepoSpec::new("octo", "demo");
        spec.issues = 30;
        spec.labels = 250;
        spec.milestones = 2;
        let (_rt, sim) = start(spec, wire, Latency::default());
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        ok(p, &["init", "--repo", "octo/demo"]);
        let labels = p.join(".roadmap/labels.yml");
        let mut texts = Vec::new();
        for _ in 0..3 {
            let out = run(p, &sim, &["sync", "pull"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            texts.push(std::fs::read(&labels).unwrap());
        }
        let names = String::from_utf8_lossy(&texts[0])
            .lines()
            .filter(|l| l.trim_start().starts_with("- name:"))
            .count();
        assert_eq!(names, 250, "every label is kept");
        assert!(texts.iter().all(|t| *t == texts[0]), "labels.yml unchanged");
        assert!(
            sim.metrics().not_modified >= 3,
            "later pulls were answered 304"
        );
        // Nothing to push: no label is created again.
        let plan = run(p, &sim, &["sync", "push", "--dry-run", "--json"]);
        let plan = String::from_utf8_lossy(&plan.stdout);
        assert!(!plan.contains("create-label"), "{plan}");
    }
}

#[test]
fn doctor_works_against_an_enterprise_server_without_rate_limiting() {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 5;
    let (_rt, sim) = start(spec, Wire::enterprise_server(), Latency::default());
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let out = run(p, &sim, &["doctor"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not enabled on this host"), "{text}");
    let out = run(p, &sim, &["sync", "pull"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_pull_that_changes_nothing_leaves_git_status_clean() {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 120;
    spec.milestones = 3;
    spec.labels = 6;
    spec.comments = 1;
    let (_rt, sim) = start(spec, Wire::github(), Latency::default());
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(p)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    git(&["init", "-q"]);
    ok(p, &["init", "--repo", "octo/demo"]);
    let out = run(p, &sim, &["sync", "pull"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(&["add", "-A"]);
    git(&["commit", "-qm", "first pull"]);
    for _ in 0..2 {
        let out = run(p, &sim, &["sync", "pull"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(git(&["status", "--porcelain"]), "", "nothing to commit");
    }
    // `sync status` still shows the last run, from the ignored statistics file.
    let status = String::from_utf8_lossy(&run(p, &sim, &["sync", "status"]).stdout).into_owned();
    assert!(
        status.contains("last pull") && status.contains("API calls"),
        "{status}"
    );
    // A remote change does change the files.
    sim.edit_issue("octo", "demo", 5, |i| i.title = "changed on GitHub".into());
    let out = run(p, &sim, &["sync", "pull"]);
    assert!(out.status.success());
    assert!(git(&["status", "--porcelain"]).contains("gh-5.md"));
}

#[test]
fn json_shapes_are_stable_and_a_closed_pipe_ends_quietly() {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 600;
    spec.milestones = 2;
    let (_rt, sim) = start(spec, Wire::github(), Latency::default());
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    assert!(run(p, &sim, &["sync", "pull"]).status.success());
    let created: serde_json::Value =
        serde_json::from_str(&ok(p, &["issue", "create", "bare", "--json"])).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let shown: serde_json::Value =
        serde_json::from_str(&ok(p, &["issue", "show", &id, "--json"])).unwrap();
    for key in ["labels", "assignees", "depends_on", "blocks"] {
        assert_eq!(shown[key], serde_json::json!([]), "{key}");
    }
    for key in ["milestone", "estimate", "progress", "number", "remote"] {
        assert!(
            shown.get(key).is_some_and(serde_json::Value::is_null),
            "{key}"
        );
    }
    assert_eq!(
        shown.as_object().unwrap().keys().collect::<Vec<_>>(),
        created.as_object().unwrap().keys().collect::<Vec<_>>(),
        "create and show print the same shape"
    );
    let ms: serde_json::Value =
        serde_json::from_str(&ok(p, &["milestone", "list", "--json"])).unwrap();
    assert!(ms[0].get("due").is_some() && ms[0].get("description").is_some());

    // `roadmap issue list --json | head -c 10`: the reader goes away early.
    let mut child = Command::new(env!("CARGO_BIN_EXE_roadmap"))
        .args(["issue", "list", "--json"])
        .current_dir(p)
        .env("ROADMAP_CONFIG", p.join("none.toml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "exit {:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
