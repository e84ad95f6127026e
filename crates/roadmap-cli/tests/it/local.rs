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

    let show = ok(p, &["issue", "show", &a]);
    assert!(
        show.contains("title: Fix the login bug") && show.contains("Fails on Safari"),
        "{show}"
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
    ok(p, &["issue", "close", &a]);
    let done = ok(p, &["issue", "list", "--status", "done", "--json"]);
    assert!(done.contains(&a) && !done.contains(&b));
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
