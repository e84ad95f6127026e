use std::process::Command;

use crate::ok;

#[test]
fn sync_pull_against_the_simulator_then_status_and_queries() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut spec = roadmap_sim::RepoSpec::new("octo", "demo");
    spec.issues = 150;
    spec.prs = 5;
    spec.milestones = 3;
    spec.labels = 5;
    spec.comments = 1;
    let sim = rt
        .block_on(roadmap_sim::Simulator::start(
            roadmap_sim::SimConfig::default().repo(spec),
        ))
        .unwrap();
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let secret = "ghp_PLANTED_SECRET_0123456789";
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_roadmap"))
            .args(args)
            .args(["--api-url", &sim.url()])
            .current_dir(p)
            .env("ROADMAP_CONFIG", p.join("none.toml"))
            .env("GITHUB_TOKEN", secret)
            .env("ROADMAP_LOG", "debug")
            .output()
            .unwrap()
    };
    let out = run(&["sync", "pull", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["resources"]["issues"]["created"], 150);
    assert_eq!(
        report["api"]["endpoints"]["GET /repos/{owner}/{repo}/issues"]["calls"],
        2
    );
    let list = ok(p, &["issue", "list", "--json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&list)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        150
    );
    let show = ok(p, &["issue", "show", "#7"]);
    assert!(show.contains("number: 7"), "{show}");
    let status = run(&["sync", "status"]);
    let status = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(status.contains("watermark    issues"), "{status}");
    // Seed 000's flags are accepted.
    let again = run(&[
        "sync",
        "pull",
        "--high-performance",
        "--workers",
        "4",
        "--batch-size",
        "25",
    ]);
    assert!(again.status.success());
    // The token never appears in anything the runs produced (debug logging on).
    for o in [&out, &again] {
        assert!(!String::from_utf8_lossy(&o.stdout).contains(secret));
        assert!(!String::from_utf8_lossy(&o.stderr).contains(secret));
    }
    for entry in walk(p) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "token found in {}",
            entry.display()
        );
    }
    let doctor = run(&["doctor"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        text.contains("authenticated as octocat") && text.contains("rate limit"),
        "{text}"
    );
    let cache = ok(p, &["cache", "stats"]);
    assert!(cache.contains("entries"));
    assert!(ok(p, &["cache", "clear"]).contains("removed"));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
