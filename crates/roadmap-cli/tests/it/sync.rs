use std::process::Command;

use crate::ok;

/// A simulator serving `octo/demo` as `f` shapes it, on its own runtime (kept alive by the
/// caller).
fn simulator(
    f: impl FnOnce(&mut roadmap_sim::RepoSpec),
) -> (tokio::runtime::Runtime, roadmap_sim::Simulator) {
    let mut spec = roadmap_sim::RepoSpec::new("octo", "demo");
    f(&mut spec);
    crate::simulator(roadmap_sim::SimConfig::default().repo(spec))
}

#[test]
fn sync_pull_against_the_simulator_then_status_and_queries() {
    let (_rt, sim) = simulator(|spec| {
        spec.issues = 150;
        spec.prs = 5;
        spec.milestones = 3;
        spec.labels = 5;
        spec.comments = 1;
    });
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let secret = "ghp_PLANTED_SECRET_0123456789";
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_roadmap"))
            .args(args)
            .env("ROADMAP_API_URL", sim.url())
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
    // Two pages, split in windows: the oldest and newest items, then at most a page and a
    // probe per window (issue 14's bound: pages + 2 per window + 4).
    let calls = report["api"]["endpoints"]["GET /repos/{owner}/{repo}/issues"]["calls"]
        .as_u64()
        .unwrap();
    assert!((2..=2 + 2 * 2 + 4).contains(&calls), "{calls}");
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
    assert!(show.starts_with("gh-7  #7  "), "{show}");
    assert!(show.contains("comments ──"), "the comments follow: {show}");
    let raw = ok(p, &["issue", "show", "#7", "--raw"]);
    assert!(raw.contains("number: 7"), "{raw}");
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

#[test]
fn two_way_sync_dry_run_push_and_each_conflict_resolution() {
    let (_rt, sim) = simulator(|spec| {
        spec.issues = 12;
        spec.milestones = 2;
        spec.labels = 4;
    });
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    ok(p, &["config", "set", "write_spacing_ms", "0"]);
    let editor = p.join("resolve.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\ngrep -v -e '^<<<<<<<' -e '^=======' -e '^>>>>>>>' \"$1\" > \"$1.tmp\" && mv \"$1.tmp\" \"$1\"\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_roadmap"))
            .args(args)
            .env("ROADMAP_API_URL", sim.url())
            .current_dir(p)
            .env("ROADMAP_CONFIG", p.join("none.toml"))
            .env("GITHUB_TOKEN", "ghp_cli_two_way")
            .env("VISUAL", &editor)
            .output()
            .unwrap()
    };
    let text = |o: &std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let remote_title = |n: u64| {
        sim.with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").unwrap();
            (r.issues[&n].title.clone(), r.issues[&n].body.clone())
        })
    };
    text(&run(&["sync"]));
    ok(
        p,
        &["issue", "create", "Made with the CLI", "--priority", "high"],
    );
    ok(
        p,
        &["issue", "edit", "#2", "--title", "Edited with the CLI"],
    );

    // The plan, and nothing sent.
    let plan = text(&run(&["sync", "--dry-run"]));
    assert!(plan.contains("create          issue"), "{plan}");
    assert!(plan.contains("update          issue #2"), "{plan}");
    assert_ne!(remote_title(2).0, "Edited with the CLI");
    let pushed = text(&run(&["sync", "push"]));
    assert!(pushed.contains("created         1 issues"), "{pushed}");
    assert_eq!(remote_title(2).0, "Edited with the CLI");
    assert_eq!(remote_title(13).0, "Made with the CLI");

    // Three conflicts, resolved three ways.
    for n in [3u64, 4, 5] {
        ok(
            p,
            &[
                "issue",
                "edit",
                &format!("#{n}"),
                "--title",
                &format!("ours {n}"),
                "--body",
                "top\nours line\nbottom\n",
            ],
        );
        sim.edit_issue("octo", "demo", n, |i| {
            i.title = format!("theirs {n}");
            i.body = Some("top\ntheirs line\nbottom\n".into());
        });
    }
    let synced = text(&run(&["sync"]));
    assert!(synced.contains("conflict        gh-3"), "{synced}");
    let listed = ok(p, &["conflicts", "list"]);
    assert!(
        listed.contains("ours: ours 3") && listed.contains("theirs: theirs 3"),
        "{listed}"
    );
    let status = text(&run(&["sync", "status"]));
    assert!(
        status.contains("conflict     gh-4: title, body"),
        "{status}"
    );
    ok(p, &["conflicts", "resolve", "#3", "--ours"]);
    ok(p, &["conflicts", "resolve", "gh-4", "--theirs"]);
    let edited = text(&run(&["conflicts", "resolve", "gh-5", "--edit"]));
    assert!(edited.contains("resolved gh-5"), "{edited}");
    assert!(ok(p, &["conflicts", "list"]).contains("no conflicts"));
    text(&run(&["sync"]));
    assert_eq!(remote_title(3).0, "ours 3");
    assert_eq!(remote_title(4).0, "theirs 4");
    let (t5, b5) = remote_title(5);
    assert_eq!(t5, "ours 5");
    let b5 = b5.unwrap();
    assert!(
        b5.contains("ours line") && b5.contains("theirs line"),
        "{b5}"
    );
    // Nothing left either way.
    let last = text(&run(&["sync", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(v["push"]["writes"], 0, "{last}");
}

/// Issue 17, part 1: conflict markers never reach GitHub, and a dry run plans exactly the
/// requests the real run sends.
#[test]
fn conflict_markers_never_reach_github_and_a_dry_run_plans_what_the_run_sends() {
    let (_rt, sim) = simulator(|spec| {
        spec.issues = 8;
        spec.milestones = 1;
        spec.labels = 3;
    });
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    ok(p, &["config", "set", "write_spacing_ms", "0"]);
    let run = |args: &[&str], editor: &str| {
        Command::new(env!("CARGO_BIN_EXE_roadmap"))
            .args(args)
            .env("ROADMAP_API_URL", sim.url())
            .current_dir(p)
            .env("ROADMAP_CONFIG", p.join("none.toml"))
            .env("GITHUB_TOKEN", "ghp_cli_markers")
            .env("VISUAL", editor)
            .output()
            .unwrap()
    };
    let json = |o: &std::process::Output| -> serde_json::Value {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    json(&run(&["sync", "--json"], "true"));

    // A conflict on #3, a plain edit of #2, a new issue.
    ok(
        p,
        &[
            "issue",
            "edit",
            "#3",
            "--title",
            "ours",
            "--body",
            "a\nours\nc\n",
        ],
    );
    sim.edit_issue("octo", "demo", 3, |i| {
        i.title = "theirs".into();
        i.body = Some("a\ntheirs\nc\n".into());
    });
    ok(p, &["issue", "edit", "#2", "--title", "plain edit"]);
    ok(p, &["issue", "create", "brand new"]);

    // The dry run's plan is exactly what the real run sends.
    let dry = json(&run(&["sync", "--dry-run", "--json"], "true"));
    let mut planned: Vec<(String, Option<u64>)> = dry["push"]["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let what = x["what"].as_str().unwrap();
            let number = what
                .split('#')
                .nth(1)
                .and_then(|n| n.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok());
            let method = match x["action"].as_str().unwrap() {
                "create" => "POST",
                _ => "PATCH",
            };
            (method.to_owned(), number)
        })
        .collect();
    sim.reset_metrics();
    let real = json(&run(&["sync", "--json"], "true"));
    let mut sent: Vec<(String, Option<u64>)> = sim
        .writes()
        .iter()
        .filter(|w| w.path.contains("/issues"))
        .map(|w| {
            let n = w.path.rsplit('/').next().and_then(|n| n.parse().ok());
            (w.method.clone(), n)
        })
        .collect();
    planned.sort();
    sent.sort();
    assert_eq!(planned, sent, "dry run {dry}\nreal {real}");
    assert!(
        !sent.contains(&("PATCH".to_owned(), Some(3))),
        "the issue in conflict is not pushed"
    );

    // --edit works on a copy: an editor that leaves the markers changes nothing.
    let file = p.join(".roadmap/issues/gh-3.md");
    let before = std::fs::read_to_string(&file).unwrap();
    let out = run(&["conflicts", "resolve", "#3", "--edit"], "true");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("conflict markers") && err.contains("unchanged"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
    assert!(!before.contains("<<<<<<<"));

    // A file holding markers (written by hand): --ours refuses it, and a push never sends it.
    std::fs::write(
        &file,
        before.replace(
            "a\nours\nc",
            "a\n<<<<<<< ours\nours\n=======\ntheirs\n>>>>>>> theirs\nc",
        ),
    )
    .unwrap();
    let out = run(&["conflicts", "resolve", "#3", "--ours"], "true");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds conflict markers"), "{err}");
    std::fs::write(&file, &before).unwrap();
    ok(p, &["conflicts", "resolve", "#3", "--ours"]);
    // Markers given to `issue edit` are refused; written into the file by hand, the push
    // refuses them.
    let markers = "x\n<<<<<<< ours\na\n=======\nb\n>>>>>>> theirs\n";
    let out = crate::roadmap(p, &["issue", "edit", "#4", "--body", markers]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("conflict markers"));
    let shown: serde_json::Value =
        serde_json::from_str(&ok(p, &["issue", "show", "#4", "--json"])).unwrap();
    let file4 = shown["path"].as_str().unwrap().to_owned();
    let text = std::fs::read_to_string(&file4).unwrap();
    std::fs::write(&file4, format!("{text}{markers}")).unwrap();
    sim.reset_metrics();
    let pushed = run(&["sync", "push", "--json"], "true");
    let v: serde_json::Value = serde_json::from_slice(&pushed.stdout).unwrap();
    let failures = v["push"]["failures"].to_string();
    assert!(
        failures.contains("#4") && failures.contains("conflict markers"),
        "{v}"
    );
    assert!(
        sim.writes().iter().all(|w| !w.path.ends_with("/issues/4")),
        "the body with markers was not sent"
    );
    assert!(
        sim.writes().iter().any(|w| w.path.ends_with("/issues/3")),
        "the resolved conflict was"
    );
}

/// Issue 17, part 3 (titles): an empty title is refused when written, and a file given one by
/// hand is reported by the push, naming it, without sending anything for it.
#[test]
fn an_empty_title_is_refused_at_create_and_never_sent() {
    let (_rt, sim) = simulator(|spec| {
        spec.issues = 3;
    });
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    ok(p, &["config", "set", "write_spacing_ms", "0"]);
    let out = crate::roadmap(p, &["issue", "create", "  "]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty title"));
    let created: serde_json::Value =
        serde_json::from_str(&ok(p, &["issue", "create", "fine", "--json"])).unwrap();
    let out = crate::roadmap(
        p,
        &[
            "issue",
            "edit",
            created["id"].as_str().unwrap(),
            "--title",
            "",
        ],
    );
    assert!(!out.status.success());

    // A title emptied by hand: the push names the file and sends nothing for it.
    let path = created["path"].as_str().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, text.replace("title: fine", "title: ''")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_roadmap"))
        .args(["sync", "push", "--json", "--api-url", &sim.url()])
        .current_dir(p)
        .env("ROADMAP_CONFIG", p.join("none.toml"))
        .env("GITHUB_TOKEN", "ghp_cli_titles")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let failures = v["push"]["failures"].to_string();
    assert!(failures.contains("empty title"), "{v}");
    assert!(
        sim.writes().iter().all(|w| w.method != "POST"),
        "nothing created"
    );
}

#[test]
fn a_mistyped_milestone_or_an_over_long_body_is_refused_before_anything_is_sent() {
    let (_rt, sim) = simulator(|spec| {
        spec.issues = 2;
        spec.milestones = 1;
    });
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    ok(p, &["config", "set", "write_spacing_ms", "0"]);
    // `roadmap ARGS` against the simulator, with a token.
    let github = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_roadmap"))
            .args(args)
            .env("ROADMAP_API_URL", sim.url())
            .current_dir(p)
            .env("ROADMAP_CONFIG", p.join("none.toml"))
            .env("GITHUB_TOKEN", "ghp_cli_checks")
            .output()
            .unwrap()
    };
    let push = |dry: bool| {
        let args: &[&str] = if dry {
            &["sync", "push", "--json", "--dry-run"]
        } else {
            &["sync", "push", "--json"]
        };
        serde_json::from_slice::<serde_json::Value>(&github(args).stdout).unwrap()
    };
    // The project knows GitHub's milestone once pulled.
    let out = github(&["sync", "pull"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let milestones: serde_json::Value =
        serde_json::from_str(&ok(p, &["milestone", "list", "--json"])).unwrap();
    let title = milestones[0]["title"].as_str().unwrap().to_owned();
    let typo = format!("{}x", title);

    // A typo is refused with the nearest title; nothing is written.
    let out = crate::roadmap(p, &["issue", "create", "t", "-m", &typo]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains(&format!("no milestone `{typo}`")), "{err}");
    assert!(err.contains(&format!("did you mean `{title}`")), "{err}");
    assert!(err.contains("--create-milestone"), "{err}");
    // The real title works, and so does a new one asked for on purpose.
    ok(p, &["issue", "create", "on the milestone", "-m", &title]);
    ok(
        p,
        &[
            "issue",
            "create",
            "on a new one",
            "-m",
            "v9",
            "--create-milestone",
        ],
    );
    let milestones: serde_json::Value =
        serde_json::from_str(&ok(p, &["milestone", "list", "--json"])).unwrap();
    assert!(milestones.to_string().contains("\"v9\""), "{milestones}");

    // Over GitHub's 65,536 characters: refused at create, and at push for a file edited by hand.
    let long = "x".repeat(65_537);
    let out = crate::roadmap(p, &["issue", "create", "long", "--body", &long]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("over GitHub's 65536"));
    let created: serde_json::Value =
        serde_json::from_str(&ok(p, &["issue", "create", "short", "--json"])).unwrap();
    let path = created["path"].as_str().unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, format!("{text}{long}\n")).unwrap();
    // The dry run reports what the real run refuses, and the real run sends nothing for it.
    let planned = push(true);
    assert!(
        planned["push"]["failures"]
            .to_string()
            .contains("65538 characters"),
        "{planned}"
    );
    let pushed = push(false);
    assert!(
        pushed["push"]["failures"]
            .to_string()
            .contains("65538 characters"),
        "{pushed}"
    );
    let posts: Vec<String> = sim
        .writes()
        .iter()
        .filter(|w| w.method == "POST")
        .map(|w| w.body.to_string())
        .collect();
    assert!(posts.iter().all(|b| !b.contains("short")), "{posts:?}");
    assert!(
        posts.iter().any(|b| b.contains("on a new one")),
        "{posts:?}"
    );
}

/// Runs `roadmap ARGS` in `p` with `token`; returns (exit code, stdout, stderr lines that are
/// not progress).
fn attempt(p: &std::path::Path, token: Option<&str>, args: &[&str]) -> (i32, String, Vec<String>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_roadmap"));
    c.args(args)
        .current_dir(p)
        .env("ROADMAP_CONFIG", p.join("none.toml"))
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN");
    if let Some(t) = token {
        c.env("GITHUB_TOKEN", t);
    }
    let out = c.output().unwrap();
    let lines = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.ends_with(": started") && !l.ends_with(": done"))
        .map(str::to_owned)
        .collect();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        lines,
    )
}

/// `roadmap sync VERB` against `url` with a working token; it must succeed.
fn sync_ok(p: &std::path::Path, url: &str, verb: &str) {
    let (code, stdout, lines) = attempt(p, Some("ghp_fine"), &["sync", verb, "--api-url", url]);
    assert_eq!(code, 0, "sync {verb}: {stdout} {lines:?}");
}

#[test]
fn a_host_that_cannot_be_used_ends_in_one_line_naming_it_and_the_fix() {
    let (_rt, sim) = simulator(|spec| spec.issues = 3);
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let closed_url = format!("http://127.0.0.1:{closed}");
    let tls_url = sim.url().replace("http://", "https://");
    let cases: Vec<(&str, Vec<&str>, &[&str])> = vec![
        (
            "refused",
            vec!["sync", "pull", "--api-url", &closed_url],
            &["cannot reach 127.0.0.1:", "connection refused", "--api-url"],
        ),
        (
            "no such host",
            vec!["sync", "pull", "--api-url", "https://no-such-host.invalid"],
            &["cannot reach no-such-host.invalid", "no such host"],
        ),
        (
            "TLS",
            vec!["sync", "pull", "--api-url", &tls_url],
            &["cannot reach 127.0.0.1:", "TLS handshake failed"],
        ),
        (
            "push, refused",
            vec!["sync", "push", "--api-url", &closed_url],
            &["cannot reach 127.0.0.1:", "connection refused"],
        ),
    ];
    for (name, args, says) in cases {
        let (code, stdout, lines) = attempt(p, Some("ghp_unreachable_test"), &args);
        assert_eq!(code, 1, "{name}: {lines:?}");
        assert_eq!(lines.len(), 1, "{name}: one line, no report: {lines:?}");
        assert!(stdout.is_empty(), "{name}: no report: {stdout}");
        for s in says {
            assert!(lines[0].contains(s), "{name}: {:?} lacks {s:?}", lines[0]);
        }
        assert!(!lines[0].contains("ghp_"), "{name}: the token never shows");
    }
}

#[test]
fn a_refused_token_or_a_missing_repository_ends_in_one_line_with_the_fix() {
    let mut spec = roadmap_sim::RepoSpec::new("octo", "demo");
    spec.issues = 3;
    let (_rt, sim) = crate::simulator(roadmap_sim::SimConfig {
        revoked_tokens: vec!["ghp_revoked".into()],
        ..roadmap_sim::SimConfig::default().repo(spec)
    });
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let url = sim.url();
    let (code, _, lines) = attempt(p, Some("ghp_revoked"), &["sync", "pull", "--api-url", &url]);
    assert_eq!((code, lines.len()), (1, 1), "{lines:?}");
    assert!(lines[0].contains("refused the token (401"), "{lines:?}");
    assert!(lines[0].contains("GITHUB_TOKEN"), "{lines:?}");
    assert!(!lines[0].contains("ghp_revoked"), "{lines:?}");

    let (code, _, lines) = attempt(
        p,
        Some("ghp_fine"),
        &["sync", "pull", "--api-url", &url, "--repo", "octo/nope"],
    );
    assert_eq!((code, lines.len()), (1, 1), "{lines:?}");
    assert!(
        lines[0].contains("octo/nope was not found on 127.0.0.1:"),
        "{lines:?}"
    );
    assert!(lines[0].contains("--repo"), "{lines:?}");

    // Some items synced and some not: exit 3, with the report naming the one that failed.
    sync_ok(p, &url, "pull");
    sim.edit_issue("octo", "demo", 2, |i| i.title = "broken".into());
    sim.edit_issue("octo", "demo", 3, |i| i.title = "fine".into());
    sim.with_world(|w| {
        let r = w.repos.values_mut().find(|r| r.name == "demo").unwrap();
        r.mangled.insert(2);
    });
    let (code, stdout, _) = attempt(p, Some("ghp_fine"), &["sync", "pull", "--api-url", &url]);
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("#2"), "{stdout}");
}

#[test]
fn a_comment_written_with_issue_comment_is_posted_by_the_next_push() {
    let (_rt, sim) = simulator(|spec| spec.issues = 3);
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let url = sim.url();
    sync_ok(p, &url, "pull");
    let out = ok(
        p,
        &[
            "issue",
            "comment",
            "#2",
            "-m",
            "Fixed in 1a2b3c\r\nno final newline",
        ],
    );
    assert!(out.contains("comment added to issue gh-2"), "{out}");
    // An empty comment is refused, and nothing is added.
    let refused = crate::roadmap(p, &["issue", "comment", "#2", "-m", "  "]);
    assert_eq!(refused.status.code(), Some(1));
    sync_ok(p, &url, "push");
    let posted: Vec<String> = sim.with_world(|w| {
        let r = w.repos.values().find(|r| r.name == "demo").unwrap();
        r.comments
            .values()
            .filter(|c| c.issue == 2)
            .map(|c| c.body.clone())
            .collect()
    });
    assert_eq!(
        posted,
        vec!["Fixed in 1a2b3c\r\nno final newline".to_owned()]
    );
}

#[test]
fn milestone_edit_close_and_reopen_reach_github_and_a_rename_follows_into_issues() {
    let (_rt, sim) = simulator(|spec| {
        spec.issues = 2;
        spec.milestones = 0;
    });
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let url = sim.url();
    let remote = || {
        sim.with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").unwrap();
            r.milestones
                .values()
                .find(|m| m.title.starts_with("v1"))
                .map(|m| (m.title.clone(), m.state.clone(), m.due_on.is_some()))
        })
    };
    ok(p, &["milestone", "create", "v1.0", "--due", "2027-03-31"]);
    let id = ok(p, &["issue", "create", "In v1", "-m", "v1.0"]);
    let id = id.split_whitespace().nth(2).unwrap().to_owned();
    sync_ok(p, &url, "push");
    assert_eq!(remote(), Some(("v1.0".into(), "open".into(), true)));

    let out = ok(
        p,
        &[
            "milestone",
            "edit",
            "v1.0",
            "--title",
            "v1.0 LTS",
            "--due",
            "none",
        ],
    );
    assert!(out.contains("1 issues now name `v1.0 LTS`"), "{out}");
    let shown = ok(p, &["issue", "show", &id, "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["milestone"], "v1.0 LTS", "{shown}");
    sync_ok(p, &url, "push");
    assert_eq!(remote(), Some(("v1.0 LTS".into(), "open".into(), false)));
    // No second milestone was made from the old title.
    assert_eq!(
        sim.with_world(|w| w
            .repos
            .values()
            .find(|r| r.name == "demo")
            .unwrap()
            .milestones
            .len()),
        1
    );

    ok(p, &["milestone", "close", "v1.0 LTS"]);
    sync_ok(p, &url, "push");
    assert_eq!(remote(), Some(("v1.0 LTS".into(), "closed".into(), false)));
    ok(p, &["milestone", "reopen", "v1.0 LTS"]);
    sync_ok(p, &url, "push");
    assert_eq!(remote(), Some(("v1.0 LTS".into(), "open".into(), false)));
}

#[test]
fn a_close_reason_travels_both_ways() {
    let (_rt, sim) = simulator(|spec| spec.issues = 3);
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let url = sim.url();
    let remote = |n: u64| {
        sim.with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").unwrap();
            let i = &r.issues[&n];
            (i.state.clone(), i.state_reason.clone())
        })
    };
    sync_ok(p, &url, "pull");
    // Open issues to start with.
    sim.edit_issue("octo", "demo", 1, |i| i.state = "open".into());
    sim.edit_issue("octo", "demo", 2, |i| i.state = "open".into());
    sync_ok(p, &url, "pull");
    let out = ok(p, &["issue", "close", "#2", "--reason", "not-planned"]);
    assert!(out.contains("done (not-planned)"), "{out}");
    sync_ok(p, &url, "push");
    assert_eq!(remote(2), ("closed".into(), Some("not_planned".into())));

    // Closed as a duplicate on GitHub: the file says so; reopened here: GitHub reopens it.
    sim.edit_issue("octo", "demo", 1, |i| {
        i.state = "closed".into();
        i.state_reason = Some("duplicate".into());
    });
    sync_ok(p, &url, "pull");
    let file = std::fs::read_to_string(p.join(".roadmap/issues/gh-1.md")).unwrap();
    assert!(file.contains("close_reason: duplicate"), "{file}");
    ok(p, &["issue", "reopen", "#1"]);
    let file = std::fs::read_to_string(p.join(".roadmap/issues/gh-1.md")).unwrap();
    assert!(!file.contains("close_reason"), "{file}");
    sync_ok(p, &url, "push");
    assert_eq!(remote(1).0, "open");
}
