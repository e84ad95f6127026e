//! A cloned project folder is untrusted: it cannot send the token to a host of its choosing or
//! choose a program to run (issue 15, parts 1 and 2).

use std::path::Path;
use std::process::{Command, Output};

use roadmap_sim::{Latency, RepoSpec, SimConfig, Simulator};

use crate::ok;

const TOKEN: &str = "ghp_SECURITY_TEST_TOKEN_0123";

fn sim() -> (tokio::runtime::Runtime, Simulator) {
    let mut spec = RepoSpec::new("octo", "demo");
    spec.issues = 5;
    crate::simulator(SimConfig::default().repo(spec).latency(Latency::default()))
}

fn run(p: &Path, user_config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_roadmap"))
        .args(args)
        .current_dir(p)
        .env("ROADMAP_CONFIG", user_config)
        .env("GITHUB_TOKEN", TOKEN)
        .env_remove("GH_TOKEN")
        .env_remove("GH_ENTERPRISE_TOKEN")
        .env_remove("ROADMAP_API_URL")
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap()
}

/// The primary limit the pull saw: 5,000 with the token, 60 without.
fn rate_limit_seen(out: &Output) -> u64 {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    r["api"]["rate_limit"].as_u64().unwrap()
}

#[test]
fn a_host_named_only_by_the_project_file_gets_no_token() {
    let (_rt, sim) = sim();
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let user = p.join("user.toml");
    ok(p, &["init", "--repo", "octo/demo"]);
    // What a malicious clone would commit.
    std::fs::write(
        p.join(".roadmap/config.toml"),
        format!("repo = \"octo/demo\"\napi_url = \"{}\"\n", sim.url()),
    )
    .unwrap();
    let out = run(p, &user, &["sync", "pull", "--json"]);
    assert_eq!(rate_limit_seen(&out), 60, "unauthenticated: no token sent");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("have not approved"), "{err}");
    assert!(!err.contains(TOKEN));
    let doctor = String::from_utf8_lossy(&run(p, &user, &["doctor"]).stdout).into_owned();
    assert!(doctor.contains("not sent to 127.0.0.1"), "{doctor}");

    // The user names the host: by flag, or once in their own config.
    let out = run(
        p,
        &user,
        &["sync", "pull", "--json", "--api-url", &sim.url()],
    );
    assert_eq!(rate_limit_seen(&out), 5_000);
    let host = sim.url().trim_start_matches("http://").to_owned();
    ok(p, &["config", "set", "--user", "allowed_hosts", &host]);
    let allowed = p.join("no-user-config.toml");
    std::fs::copy(&allowed, &user).unwrap();
    let out = run(p, &user, &["sync", "pull", "--json"]);
    assert_eq!(rate_limit_seen(&out), 5_000);
    let doctor = String::from_utf8_lossy(&run(p, &user, &["doctor"]).stdout).into_owned();
    assert!(doctor.contains(&format!("sent to {host}")), "{doctor}");

    // A project file cannot approve hosts itself.
    std::fs::remove_file(&user).unwrap();
    std::fs::write(
        p.join(".roadmap/config.toml"),
        format!(
            "repo = \"octo/demo\"\napi_url = \"{}\"\nallowed_hosts = \"{host}\"\n",
            sim.url()
        ),
    )
    .unwrap();
    let out = run(p, &user, &["sync", "pull", "--json"]);
    assert_eq!(rate_limit_seen(&out), 60);
}

#[test]
fn plain_http_to_another_host_and_passwords_in_urls_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let user = p.join("user.toml");
    ok(p, &["init", "--repo", "octo/demo"]);
    let out = run(
        p,
        &user,
        &["sync", "pull", "--api-url", "http://evil.example:9999"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing plain http://"), "{err}");
    let out = run(
        p,
        &user,
        &[
            "doctor",
            "--api-url",
            "https://alice:hunter2@127.0.0.1:9/api/v3",
        ],
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("hunter2"), "{all}");
}

#[test]
fn the_project_file_cannot_choose_the_editor() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let user = p.join("user.toml");
    ok(p, &["init", "--repo", "octo/demo"]);
    std::fs::write(p.join("payload.sh"), "touch pwned\n").unwrap();
    std::fs::write(
        p.join(".roadmap/config.toml"),
        "repo = \"octo/demo\"\neditor = \"sh ./payload.sh\"\n",
    )
    .unwrap();
    let created: serde_json::Value =
        serde_json::from_str(&ok(p, &["issue", "create", "x", "--json"])).unwrap();
    let id = created["id"].as_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_roadmap"))
        .args(["issue", "edit", id])
        .current_dir(p)
        .env("ROADMAP_CONFIG", &user)
        .env("VISUAL", "true")
        .env("EDITOR", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!p.join("pwned").exists(), "the project's editor never runs");
    assert!(String::from_utf8_lossy(&out.stderr).contains("ignoring `editor`"));
}

#[test]
fn no_symlink_under_roadmap_is_followed_for_reads_or_writes() {
    let (_rt, sim) = sim();
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let user = p.join("user.toml");
    ok(p, &["init", "--repo", "octo/demo"]);
    let pull = |p: &Path| run(p, &user, &["sync", "pull", "--api-url", &sim.url()]);
    assert!(pull(p).status.success());
    // A secret outside the project, and a comments file that points at it.
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.yml");
    std::fs::write(&secret, "- body: \"SECRET-FROM-OUTSIDE\"\n").unwrap();
    let comments = p.join(".roadmap/comments/gh-1.yml");
    let _ = std::fs::remove_file(&comments);
    std::os::unix::fs::symlink(&secret, &comments).unwrap();
    let out = run(p, &user, &["sync", "push", "--api-url", &sim.url()]);
    let err =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        sim.writes()
            .iter()
            .all(|w| !w.body.to_string().contains("SECRET")),
        "the outside file's text was never posted"
    );
    assert!(err.contains("symlink"), "reported: {err}");
    std::fs::remove_file(&comments).unwrap();

    // A symlinked issue file is reported, not read.
    let md = outside.path().join("x.md");
    std::fs::write(&md, "---\nid: gh-999\ntitle: outside\n---\n").unwrap();
    std::os::unix::fs::symlink(&md, p.join(".roadmap/issues/gh-999.md")).unwrap();
    let out = run(p, &user, &["sync", "status"]);
    let all =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(all.contains("symlink"), "{all}");
    std::fs::remove_file(p.join(".roadmap/issues/gh-999.md")).unwrap();

    // The lock and the cache folder as symlinks: refused, nothing written outside.
    let target = outside.path().join("victim");
    std::fs::write(&target, "keep me").unwrap();
    let lock = p.join(".roadmap/lock");
    let _ = std::fs::remove_file(&lock);
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    let out = pull(p);
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
    std::fs::remove_file(&lock).unwrap();
    let cache = p.join(".roadmap/cache");
    std::fs::remove_dir_all(&cache).unwrap();
    std::os::unix::fs::symlink(outside.path(), &cache).unwrap();
    let out = pull(p);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("symlink"));
    assert!(
        !outside.path().join("v1").exists(),
        "nothing cached outside"
    );
}

#[test]
fn a_project_owned_by_another_user_is_refused_unless_trusted() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let roadmap = p.join(".roadmap");
    let sub = p.join("src");
    std::fs::create_dir_all(&sub).unwrap();
    // Only root can hand a folder to another user; elsewhere this case cannot be set up.
    let chown = Command::new("chown")
        .args(["65534", roadmap.to_str().unwrap()])
        .output()
        .unwrap();
    if !chown.status.success() {
        eprintln!("skipped: cannot chown here");
        return;
    }
    let list = |extra: Option<&Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_roadmap"));
        c.args(["issue", "list"])
            .current_dir(&sub)
            .env("ROADMAP_CONFIG", p.join("user.toml"))
            .env_remove("ROADMAP_SAFE_DIRECTORY");
        if let Some(x) = extra {
            c.env("ROADMAP_SAFE_DIRECTORY", x);
        }
        c.output().unwrap()
    };
    let out = list(None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("belongs to another user") && err.contains("ROADMAP_SAFE_DIRECTORY"),
        "{err}"
    );
    assert!(list(Some(p)).status.success(), "trusted on purpose");
}

#[test]
fn bad_values_are_refused_naming_the_key_and_a_bom_file_is_read() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    // A file saved with a byte order mark is read like any other.
    std::fs::write(
        p.join(".roadmap/issues/0000b0b0.md"),
        "\u{feff}---\nid: 0000b0b0\ntitle: with a BOM\n---\nbody\n",
    )
    .unwrap();
    // `progress: 255` is refused, naming the key and the file.
    std::fs::write(
        p.join(".roadmap/issues/0000bad0.md"),
        "---\nid: 0000bad0\ntitle: too far\nprogress: 255\n---\n",
    )
    .unwrap();
    let list = ok(p, &["issue", "list", "--json"]);
    assert!(list.contains("with a BOM"), "{list}");
    assert!(!list.contains("too far"));
    let out = crate::roadmap(p, &["sync", "status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0000bad0.md") && text.contains("`progress` must be 0 to 100"),
        "{text}"
    );
    // Out-of-range settings.
    let out = crate::roadmap(p, &["config", "set", "workers", "100000"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`workers` must be between 1 and 100"));
    std::fs::write(
        p.join(".roadmap/config.toml"),
        "repo = \"octo/demo\"\nworkers = 100000\n",
    )
    .unwrap();
    let out = crate::roadmap(p, &["issue", "list"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("config.toml") && err.contains("workers"),
        "{err}"
    );
}

#[test]
fn files_follow_the_umask() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let out = Command::new("sh")
        .args([
            "-c",
            &format!(
                "umask 022; '{}' issue create umasked --json",
                env!("CARGO_BIN_EXE_roadmap")
            ),
        ])
        .current_dir(p)
        .env("ROADMAP_CONFIG", p.join("user.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(v["path"].as_str().unwrap())
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o644, "{mode:o}");
}

/// Parts 4 and 5: a create whose answer was lost is never sent twice, and the issue found for
/// it later is ours: opened by the token's user after the create began, not merely naming the
/// local id in its hidden block.
#[test]
fn a_lost_create_is_found_later_and_an_impostor_naming_its_id_is_kept_apart() {
    let (_rt, sim) = sim();
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let user = p.join("user.toml");
    let url = sim.url();
    ok(p, &["init", "--repo", "octo/demo"]);
    let push = || run(p, &user, &["sync", "push", "--json", "--api-url", &url]);
    assert!(push().status.success());
    let created: serde_json::Value =
        serde_json::from_str(&ok(p, &["issue", "create", "mine", "--json"])).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    // A slow write: GitHub makes the issue, answers 502, and lists it only after the client has
    // stopped looking for it (7.5 s).
    let lag = std::time::Duration::from_millis(9_000);
    sim.set_listing_lag(lag);
    let mut f = roadmap_sim::ScriptedFault::next("/issues", roadmap_sim::FaultKind::Status502);
    f.method = Some("POST".into());
    f.after_commit = true;
    sim.script_fault(f);
    sim.reset_metrics();
    let out = push();
    let posts = |sim: &Simulator| {
        sim.writes()
            .iter()
            .filter(|w| w.method == "POST" && w.path.ends_with("/issues"))
            .count()
    };
    assert_eq!(posts(&sim), 1, "sent once in the run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("may have been created"), "{text}");
    let ours = sim
        .with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").unwrap();
            r.issues
                .values()
                .find(|i| i.title == "mine")
                .map(|i| i.number)
        })
        .expect("GitHub made it");

    // Meanwhile someone else opens an issue naming the same local id, and ours is edited after
    // it, so that the impostor comes first in the listing.
    let impostor = sim.create_issue("octo", "demo", "mine").unwrap();
    sim.edit_issue("octo", "demo", impostor, |i| {
        i.body = Some(format!("<!-- roadmap: {{\"id\":\"{id}\"}} -->\n"));
    });
    sim.edit_issue("octo", "demo", ours, |i| {
        i.updated_at = chrono::Utc::now().timestamp() + 2;
    });
    sim.end_listing_lag();
    sim.reset_metrics();
    let out = push();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(posts(&sim), 0, "found, not created again");
    let show: serde_json::Value =
        serde_json::from_str(&ok(p, &["issue", "show", &id, "--json"])).unwrap();
    assert_eq!(
        show["remote"]["number"].as_u64(),
        Some(ours),
        "linked to the issue we opened, not to #{impostor}: {show}"
    );
    let list = ok(p, &["issue", "list", "--json"]);
    assert!(
        list.contains(&format!("gh-{impostor}")),
        "the impostor is kept as its own issue: {list}"
    );
}

/// Part 7: error text from a hostile server reaches the terminal without control characters.
#[test]
fn a_hostile_servers_text_is_printed_without_control_characters() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let body = br#"{"message":"Resource not accessible\u001b[2J\u001b]0;pwned\u0007 now"}"#;
            let head = format!(
                "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body);
        }
    });
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    ok(p, &["init", "--repo", "octo/demo"]);
    let out = run(
        p,
        &p.join("user.toml"),
        &["sync", "pull", "--api-url", &format!("http://{addr}")],
    );
    assert!(!out.status.success());
    let all =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(all.contains("now"), "the text is shown: {all}");
    assert!(
        !all.contains('\u{1b}') && !all.contains('\u{7}'),
        "no escape sequence reaches the terminal: {all:?}"
    );
}

/// Part 7: a pull waits for another writer of the index (within the busy timeout) instead of
/// failing at once with "database is locked".
#[test]
fn a_pull_waits_for_another_writer_of_the_index() {
    use sqlx::Connection;
    let (rt, sim) = sim();
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let user = p.join("user.toml");
    ok(p, &["init", "--repo", "octo/demo"]);
    ok(p, &["issue", "list"]); // creates the index
    let db = p.join(".roadmap/index.db");
    let mut conn = rt
        .block_on(sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            db.display()
        )))
        .unwrap();
    // Another process writes and holds the lock for a while.
    rt.block_on(sqlx::query("BEGIN IMMEDIATE").execute(&mut conn))
        .unwrap();
    rt.block_on(sqlx::query("CREATE TABLE other_writer(x)").execute(&mut conn))
        .unwrap();
    let bin = env!("CARGO_BIN_EXE_roadmap");
    let child = Command::new(bin)
        .args(["sync", "pull", "--api-url", &sim.url()])
        .current_dir(p)
        .env("ROADMAP_CONFIG", &user)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GH_TOKEN")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1_000));
    rt.block_on(sqlx::query("DROP TABLE other_writer").execute(&mut conn))
        .unwrap();
    rt.block_on(sqlx::query("COMMIT").execute(&mut conn))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = ok(p, &["issue", "list", "--json"]);
    assert!(list.contains("gh-5"), "{list}");
}
