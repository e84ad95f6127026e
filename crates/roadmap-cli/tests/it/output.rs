//! What a person sees: help with examples (snapshots), short and detailed reports, `--quiet`,
//! no colour codes in pipes, numeric order, the rendered `issue show`, the editor on a copy,
//! completions and the man page.

use std::path::Path;
use std::process::Command;

use roadmap::simulator::{RepoSpec, SimConfig, Simulator};

use crate::{ok, roadmap};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_roadmap"));
    c.env("ROADMAP_CONFIG", "/nonexistent/roadmap-user.toml")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .env("COLUMNS", "100");
    c
}

fn help(path: &[&str]) -> String {
    let out = bin().args(path).arg("--help").output().unwrap();
    assert!(out.status.success(), "{path:?} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// Subcommand names listed under `Commands:` in a help text.
fn subcommands(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_has_help_with_an_example_and_the_help_is_snapshotted() {
    let mut queue: Vec<Vec<String>> = vec![vec![]];
    let mut seen = 0;
    while let Some(path) = queue.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&args);
        let subs = subcommands(&text);
        if !path.is_empty() {
            assert!(
                text.contains("\nExample:\n") || text.contains("\nExamples:\n"),
                "`roadmap {}` has no example in its help",
                path.join(" ")
            );
        }
        let name = if path.is_empty() {
            "roadmap".to_owned()
        } else {
            format!("roadmap-{}", path.join("-"))
        };
        insta::assert_snapshot!(name, text);
        seen += 1;
        for s in subs {
            let mut p = path.clone();
            p.push(s);
            queue.push(p);
        }
    }
    assert!(seen > 30, "{seen} help texts");
}

fn sim(issues: u64) -> (tokio::runtime::Runtime, Simulator) {
    crate::simulator(SimConfig::default().repo(RepoSpec::sample("octo", "demo", issues)))
}

fn run(p: &Path, args: &[&str]) -> (String, String, i32) {
    let out = bin().current_dir(p).args(args).output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn reports_are_short_by_default_detailed_with_v_silent_with_quiet_and_never_coloured_in_a_pipe() {
    let (_rt, sim) = sim(30);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let url = sim.url();
    // No token: a warning on stderr, which is a pipe here.
    let (stdout, stderr, code) = run(p, &["sync", "pull", "--api-url", &url]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("Pull (full): "), "{stdout}");
    assert!(
        stdout.lines().count() <= 5,
        "one line per resource: {stdout}"
    );
    assert!(stdout.contains("  issues     "), "{stdout}");
    // In the order a pull reads them, not by name.
    let names: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let rank = |n: &str| {
        ["milestones", "labels", "issues", "comments"]
            .iter()
            .position(|o| *o == n)
    };
    assert!(names.len() >= 3, "{stdout}");
    assert!(
        names.windows(2).all(|w| rank(w[0]) < rank(w[1])),
        "{stdout}"
    );
    assert!(stderr.contains("no token found"), "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains('\u{1b}'),
            "no escape codes in a pipe: {text:?}"
        );
    }
    // Nothing happened since: one line.
    let (stdout, _, _) = run(p, &["sync", "pull", "--api-url", &url]);
    assert!(
        stdout.trim_end().ends_with("nothing changed") && stdout.lines().count() == 1,
        "{stdout}"
    );
    let (stdout, stderr, _) = run(p, &["-v", "sync", "pull", "--api-url", &url]);
    assert!(
        stdout.contains("API calls") && stdout.contains("rate limit"),
        "{stdout}"
    );
    assert!(
        stderr.contains("issues: started"),
        "-v logs progress lines: {stderr}"
    );
    let (stdout, stderr, code) = run(p, &["--quiet", "sync", "--api-url", &url]);
    assert_eq!((stdout.as_str(), stderr.as_str(), code), ("", "", 0));
}

#[test]
fn issues_list_by_number_as_numbers_with_new_ones_last() {
    let (_rt, sim) = sim(12);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    ok(p, &["sync", "pull", "--api-url", &sim.url()]);
    ok(p, &["issue", "create", "Not on GitHub yet"]);
    let list = ok(p, &["issue", "list"]);
    let numbers: Vec<String> = list
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned())
        .collect();
    let on_github: Vec<u64> = numbers
        .iter()
        .filter_map(|n| n.strip_prefix('#')?.parse().ok())
        .collect();
    assert!(on_github.windows(2).all(|w| w[0] < w[1]), "{list}");
    assert!(on_github.contains(&10) && on_github.contains(&2), "{list}");
    assert!(
        list.lines()
            .last()
            .unwrap_or_default()
            .ends_with("Not on GitHub yet"),
        "a new issue comes last: {list}"
    );
}

#[test]
fn the_editor_edits_a_copy_and_a_bad_edit_leaves_the_issue_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init"]);
    let created = ok(p, &["issue", "create", "Edit me", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&created).unwrap();
    let (id, path) = (v["id"].as_str().unwrap(), v["path"].as_str().unwrap());
    let before = std::fs::read_to_string(path).unwrap();
    // An "editor" that breaks the front matter.
    let breaker = p.join("break.sh");
    std::fs::write(
        &breaker,
        "#!/bin/sh\nprintf -- '---\\ntitle: [unclosed\\n' > \"$1\"\n",
    )
    .unwrap();
    let fixer = p.join("fix.sh");
    std::fs::write(
        &fixer,
        "#!/bin/sh\nsed -i 's/^title: Edit me$/title: Edited by hand/' \"$1\"\n",
    )
    .unwrap();
    for f in [&breaker, &fixer] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = bin()
        .current_dir(p)
        .env("ROADMAP_EDITOR", &breaker)
        .args(["issue", "edit", id])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("unchanged") && err.contains("kept in"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(path).unwrap(), before);
    assert!(
        ok(p, &["issue", "list"]).contains("Edit me"),
        "still listed"
    );
    let out = bin()
        .current_dir(p)
        .env("ROADMAP_EDITOR", &fixer)
        .args(["issue", "edit", id])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ok(p, &["issue", "list"]).contains("Edited by hand"));
}

#[test]
fn completions_and_the_man_page_are_generated() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert!(out.status.success() && out.stdout.len() > 1000, "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("milestone"), "{shell}");
    }
    let man = bin().arg("man").output().unwrap();
    let text = String::from_utf8_lossy(&man.stdout);
    assert!(man.status.success() && text.starts_with(".ie") && text.contains(".SH NAME"));
    // A usage error exits 2, as clap's do.
    assert_eq!(
        roadmap(Path::new("/"), &["completions", "tcsh"])
            .status
            .code(),
        Some(2)
    );
}

/// A report with every run of digits made `9`: times, counts of requests and rate-limit
/// figures vary between runs, the shape must not.
fn shape(text: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('9');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    out
}

#[test]
fn the_default_and_detailed_reports_keep_their_shape() {
    let (_rt, sim) = sim(30);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let url = sim.url();
    let (full, _, _) = run(p, &["sync", "pull", "--api-url", &url]);
    insta::assert_snapshot!("report-full-pull", shape(&full));
    sim.edit_issue("octo", "demo", 3, |i| i.title = "Changed on GitHub".into());
    ok(p, &["issue", "edit", "#4", "--title", "Changed here"]);
    let (two_way, _, _) = run(p, &["sync", "--api-url", &url]);
    insta::assert_snapshot!("report-sync", shape(&two_way));
    let (detailed, _, _) = run(p, &["-v", "sync", "--api-url", &url]);
    insta::assert_snapshot!("report-sync-detailed", shape(&detailed));
}
