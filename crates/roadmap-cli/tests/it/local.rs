use crate::{ok, roadmap};

fn created_id(out: &str) -> String {
    out.split_whitespace()
        .nth(2)
        .expect("created issue ID")
        .to_owned()
}

#[test]
fn init_create_list_show_edit_close_search() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    // An issue's milestone must exist first (a typo never makes one).
    ok(p, &["milestone", "create", "v1", "--due", "2030-01-01"]);
    let a = created_id(&ok(
        p,
        &[
            "issue",
            "create",
            "Fix the login bug",
            "-l",
            "bug",
            "-a",
            "alice",
            "-p",
            "high",
            "-m",
            "v1",
            "-b",
            "Fails on Safari",
        ],
    ));
    let b = created_id(&ok(
        p,
        &["issue", "create", "Add dark mode", "-l", "ui", "-a", "bob"],
    ));

    let list = ok(
        p,
        &["issue", "list", "--status", "open", "--assignee", "alice"],
    );
    assert!(list.contains(&a) && !list.contains(&b), "{list}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(p, &["issue", "list", "--json", "--label", "ui"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["id"], b.as_str());

    // Rendered for a person: a header line with the title, the fields that are set, the
    // body; `--raw` is the file itself.
    let show = ok(p, &["issue", "show", &a]);
    let first = show.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(a.as_str()) && first.ends_with("Fix the login bug"),
        "{show}"
    );
    assert!(show.contains("\nFails on Safari"), "{show}");
    assert!(!show.contains("title:"), "{show}");
    let raw = ok(p, &["issue", "show", &a, "--raw"]);
    assert!(
        raw.starts_with("---\n") && raw.contains("title: Fix the login bug"),
        "{raw}"
    );

    ok(
        p,
        &[
            "issue",
            "edit",
            &b,
            "--status",
            "in-progress",
            "--estimate",
            "3",
            "-m",
            "v1",
        ],
    );
    let show = |id: &str| -> serde_json::Value {
        serde_json::from_str(&ok(p, &["issue", "show", id, "--json"])).unwrap()
    };
    assert!(show(&a)["closed"].is_null());
    ok(p, &["issue", "close", &a]);
    let done = ok(p, &["issue", "list", "--status", "done", "--json"]);
    assert!(done.contains(&a) && !done.contains(&b));
    // Closing stamps when (the burn-up's done line); editing a closed issue keeps it.
    let closed = show(&a)["closed"].as_str().unwrap().to_owned();
    ok(p, &["issue", "edit", &a, "--estimate", "2"]);
    assert_eq!(show(&a)["closed"].as_str(), Some(closed.as_str()));
    ok(p, &["issue", "edit", &a, "--status", "todo"]);
    assert!(show(&a)["closed"].is_null(), "reopened");
    ok(p, &["issue", "close", &a]);
    let status = ok(p, &["milestone", "status", "v1", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(
        (v[0]["done"].as_i64(), v[0]["total"].as_i64()),
        (Some(1), Some(2)),
        "{status}"
    );

    let hits = ok(p, &["search", "safari"]);
    assert!(hits.contains(&a) && hits.contains("[Safari]"), "{hits}");
    ok(p, &["roadmap", "create", "2030 plan", "-m", "v1"]);
    assert!(ok(p, &["roadmap", "list"]).contains("2030 plan"));
}

#[test]
fn exit_codes_and_clear_errors() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let out = roadmap(p, &["issue", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("roadmap init"));
    ok(p, &["init"]);
    assert_eq!(
        roadmap(p, &["issue", "list", "--bogus"]).status.code(),
        Some(2)
    );
    let out = roadmap(p, &["issue", "create", "x", "--status", "wip"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown status `wip`"));
    assert_eq!(
        roadmap(p, &["issue", "show", "nope"]).status.code(),
        Some(1)
    );

    std::fs::write(
        p.join(".roadmap/issues/bad.md"),
        "---\nid: bad\ntitle: [x\n---\n",
    )
    .unwrap();
    let out = roadmap(p, &["index", "check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("bad.md:3:"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn config_layers_say_where_values_come_from_and_reject_bad_keys() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    ok(p, &["config", "set", "workers", "4"]);
    let show = ok(p, &["config", "show"]);
    let line = |k: &str| {
        show.lines()
            .find(|l| l.starts_with(k))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(line("workers").contains(".roadmap/config.toml"), "{show}");
    assert!(line("batch_size").contains("default"), "{show}");
    assert!(line("repo").contains("octo/demo"));
    let env = std::process::Command::new(env!("CARGO_BIN_EXE_roadmap"))
        .args(["config", "get", "workers"])
        .current_dir(p)
        .env("ROADMAP_CONFIG", p.join("none.toml"))
        .env("ROADMAP_WORKERS", "16")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&env.stdout).trim(), "16");

    let out = roadmap(p, &["config", "set", "workers", "many"]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::write(p.join(".roadmap/config.toml"), "wrokers = 3\n").unwrap();
    let out = roadmap(p, &["config", "show"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown config key `wrokers`"));
    std::fs::write(p.join(".roadmap/config.toml"), "workers = \"3\"\n").unwrap();
    let out = roadmap(p, &["config", "show"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml") && err.contains("`workers` must be a whole number"),
        "{err}"
    );
}

#[test]
fn init_takes_the_repository_from_the_git_remote_without_running_git() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::create_dir(p.join(".git")).unwrap();
    // A hostile config: were git run here, it would run this program.
    std::fs::write(
        p.join(".git/config"),
        "[core]\n\tfsmonitor = touch ran-git-fsmonitor\n[remote \"origin\"]\n\turl = git@github.com:octo/from-remote.git\n",
    )
    .unwrap();
    let out = ok(p, &["init"]);
    assert!(
        out.contains("repository octo/from-remote (from the git remote origin)"),
        "{out}"
    );
    let config = std::fs::read_to_string(p.join(".roadmap/config.toml")).unwrap();
    assert!(config.contains("repo = \"octo/from-remote\""), "{config}");
    assert!(!p.join("ran-git-fsmonitor").exists());

    // --repo wins; a remote on another host is named, not recorded.
    let d = tempfile::tempdir().unwrap();
    let q = d.path();
    std::fs::create_dir(q.join(".git")).unwrap();
    std::fs::write(
        q.join(".git/config"),
        "[remote \"origin\"]\n\turl = https://ghe.example.com/team/app.git\n",
    )
    .unwrap();
    let out = ok(q, &["init"]);
    assert!(out.contains("ghe.example.com/team/app"), "{out}");
    let config = std::fs::read_to_string(q.join(".roadmap/config.toml")).unwrap();
    assert!(!config.contains("repo ="), "{config}");
    let r = tempfile::tempdir().unwrap();
    std::fs::create_dir(r.path().join(".git")).unwrap();
    std::fs::write(
        r.path().join(".git/config"),
        "[remote \"origin\"]\n\turl = git@github.com:octo/other.git\n",
    )
    .unwrap();
    ok(r.path(), &["init", "--repo", "octo/given"]);
    let config = std::fs::read_to_string(r.path().join(".roadmap/config.toml")).unwrap();
    assert!(config.contains("repo = \"octo/given\""), "{config}");
}

#[test]
fn an_id_prefix_finds_its_issue_or_names_the_candidates() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let id = created_id(&ok(p, &["issue", "create", "Found by a prefix"]));
    let shown = ok(p, &["issue", "show", &id[..4], "--json"]);
    assert!(shown.contains("Found by a prefix"), "{shown}");
    for twin in ["abcd1111", "abcd2222"] {
        std::fs::write(
            p.join(format!(".roadmap/issues/{twin}.md")),
            format!("---\nid: {twin}\ntitle: twin {twin}\n---\n"),
        )
        .unwrap();
    }
    let out = roadmap(p, &["issue", "show", "abcd"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("start of 2 issue ids (abcd1111, abcd2222)"),
        "{err}"
    );
    let shown = ok(p, &["issue", "show", "abcd2", "--json"]);
    assert!(shown.contains("twin abcd2222"), "{shown}");
}

#[test]
fn ready_blocked_and_check_follow_the_dependencies() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    assert_eq!(ok(p, &["blocked"]), "No open issue waits for another.\n");
    let design = created_id(&ok(
        p,
        &[
            "issue",
            "create",
            "Design the schema",
            "-p",
            "high",
            "-a",
            "alice",
        ],
    ));
    let build = created_id(&ok(
        p,
        &[
            "issue",
            "create",
            "Build the importer",
            "--depends-on",
            &design,
        ],
    ));
    // `blocks` on the other side says the same: the docs wait for the importer.
    let docs = created_id(&ok(p, &["issue", "create", "Write the docs"]));
    ok(
        p,
        &["issue", "edit", &build, "--blocks", &docs.to_uppercase()],
    );
    let held = created_id(&ok(
        p,
        &["issue", "create", "Wait for legal", "-s", "blocked"],
    ));

    let ready = ok(p, &["ready"]);
    assert!(ready.contains(&design), "{ready}");
    // With the listing's filters.
    assert!(ok(p, &["ready", "--assignee", "alice"]).contains(&design));
    assert!(!ok(p, &["ready", "--assignee", "bob"]).contains(&design));
    assert!(ok(p, &["ready", "--assignee", "nobody"]).starts_with("No open issue is ready"));
    for waiting in [&build, &docs, &held] {
        assert!(!ready.contains(waiting.as_str()), "{ready}");
    }
    let blocked: serde_json::Value = serde_json::from_str(&ok(p, &["blocked", "--json"])).unwrap();
    let on = |id: &str| -> Vec<String> {
        blocked
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["issue"]["id"] == id)
            .map(|b| {
                b["blockers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["id"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_else(|| panic!("{id} is not blocked: {blocked}"))
    };
    assert_eq!(on(&build), vec![design.as_str()]);
    assert_eq!(on(&docs), vec![build.as_str()]);
    assert!(on(&held).is_empty(), "marked blocked, waiting for nothing");
    assert!(ok(p, &["blocked"]).contains("(marked blocked)"));
    assert!(ok(p, &["check"]).contains("no cycle"));

    // Done, the design lets the importer go.
    ok(p, &["issue", "close", &design]);
    let ready = ok(p, &["ready", "--json"]);
    assert!(ready.contains(&build) && !ready.contains(&docs), "{ready}");

    // A cycle and a reference to nothing: reported, with the files, and exit code 1.
    ok(p, &["issue", "edit", &design, "--depends-on", &docs]);
    ok(p, &["issue", "edit", &docs, "--depends-on", "#404"]);
    let out = roadmap(p, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("wait for each other"), "{text}");
    for id in [&design, &build, &docs] {
        assert!(text.contains(id.as_str()), "{id} in the cycle: {text}");
    }
    assert!(text.contains("`depends_on: #404` names no issue"), "{text}");
    assert!(
        text.contains(&format!("issues/{docs}")),
        "names the file: {text}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&roadmap(p, &["check", "--json"]).stdout).unwrap();
    assert_eq!(json["cycles"].as_array().unwrap().len(), 1);
    assert_eq!(json["unknown"][0]["reference"], "#404");
}

#[test]
fn milestone_status_shows_due_dates_in_order_and_flags_the_overdue() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    ok(p, &["milestone", "create", "later", "--due", "2999-06-01"]);
    ok(p, &["milestone", "create", "someday"]);
    ok(p, &["milestone", "create", "late", "--due", "2001-02-03"]);
    ok(
        p,
        &["milestone", "create", "shipped", "--due", "2001-01-01"],
    );
    ok(p, &["milestone", "close", "shipped"]);
    ok(p, &["issue", "create", "a", "-m", "late"]);
    let v: serde_json::Value =
        serde_json::from_str(&ok(p, &["milestone", "status", "--json"])).unwrap();
    let row = |k: usize| {
        (
            v[k]["title"].as_str().unwrap().to_owned(),
            v[k]["due"].as_str().map(str::to_owned),
            v[k]["overdue"].as_bool().unwrap(),
        )
    };
    // By due date, those without one last; closed is never overdue.
    assert_eq!(
        (0..4).map(row).collect::<Vec<_>>(),
        [
            ("shipped".into(), Some("2001-01-01".into()), false),
            ("late".into(), Some("2001-02-03".into()), true),
            ("later".into(), Some("2999-06-01".into()), false),
            ("someday".into(), None, false),
        ]
    );
    assert_eq!(v[1]["total"], 1);
    let text = ok(p, &["milestone", "status"]);
    assert!(text.contains("2001-02-03 OVERDUE"), "{text}");
    assert!(!text.contains("2001-01-01 OVERDUE"), "{text}");
}

#[test]
fn tree_shows_sub_issues_with_progress_and_check_finds_parent_cycles() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let epic = created_id(&ok(p, &["issue", "create", "Epic: importer"]));
    let parse = created_id(&ok(p, &["issue", "create", "Parse CSV", "--parent", &epic]));
    let map = created_id(&ok(
        p,
        &["issue", "create", "Map fields", "--parent", &epic],
    ));
    let tests = created_id(&ok(p, &["issue", "create", "Tests", "--parent", &map]));
    ok(p, &["issue", "close", &parse]);
    let text = ok(p, &["tree"]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].starts_with(&epic) && lines[0].ends_with("1/2 done"),
        "{text}"
    );
    // Both children of the epic (local issues have no number: in id order), the test under
    // the one that maps fields.
    let line = |id: &str| lines.iter().position(|l| l.contains(id)).unwrap();
    let (parse_at, map_at) = (line(&parse), line(&map));
    assert!(
        lines[parse_at].contains("── ") && lines[parse_at].ends_with("[done]"),
        "{text}"
    );
    assert!(lines[map_at].ends_with("0/1 done"), "{text}");
    assert!(
        lines[1].starts_with("├── ") && lines[3].contains("└── "),
        "{text}"
    );
    let under = if map_at == 1 {
        "│   └── "
    } else {
        "    └── "
    };
    assert!(
        lines[map_at + 1].starts_with(under) && lines[map_at + 1].contains(&tests),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&ok(p, &["tree", &map, "--json"])).unwrap();
    assert_eq!(json[0]["issue"]["id"], map.as_str());
    assert_eq!(json[0]["children"][0]["issue"]["id"], tests.as_str());
    // The parent is in the file, and a parent of itself is refused.
    assert!(ok(p, &["issue", "show", &tests, "--raw"]).contains(&format!("parent: {map}")));
    let own = roadmap(p, &["issue", "edit", &map, "--parent", &map]);
    assert!(!own.status.success());
    assert!(roadmap(p, &["tree", "nosuch"]).status.code() == Some(1));

    // Parts of each other: check says so, and the tree still ends.
    ok(p, &["issue", "edit", &epic, "--parent", &tests]);
    let out = roadmap(p, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("are parts of each other"), "{text}");
    assert_eq!(ok(p, &["tree", &epic]).lines().count(), 4);
    ok(p, &["issue", "edit", &epic, "--parent", ""]);
    assert_eq!(roadmap(p, &["check"]).status.code(), Some(0));
}
