//! The CLI and a program embedding the `roadmap` library sync a project the same way: the
//! same files from a pull, the same requests from a push (the mapping, the defaults and the
//! edit semantics live once, in the library).

use roadmap::simulator::{RepoSpec, SimConfig, Simulator, WriteRecord};
use roadmap::{IssueEdit, Priority, Project, PullSpec};

use crate::{ok, shared_files as files};

fn writes(sim: &Simulator) -> Vec<(String, String, String)> {
    sim.writes()
        .into_iter()
        .map(|WriteRecord { method, path, body }| (method, path, body.to_string()))
        .collect()
}

#[test]
fn the_cli_and_an_embedding_program_write_the_same_files_and_send_the_same_requests() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let spec = || RepoSpec {
        labels: 3,
        ..RepoSpec::sample("octo", "demo", 60)
    };
    let start = || {
        rt.block_on(Simulator::start(SimConfig::default().repo(spec())))
            .unwrap()
    };
    let (cli_sim, lib_sim) = (start(), start());

    // The CLI, as a user runs it.
    let cli = tempfile::tempdir().unwrap();
    let c = cli.path();
    ok(c, &["init", "--repo", "octo/demo"]);
    let url = cli_sim.url();
    ok(c, &["sync", "pull", "--api-url", &url]);

    // The library, as the quickstart example uses it.
    let lib = tempfile::tempdir().unwrap();
    let mut project = Project::init(lib.path(), Some(&"octo/demo".parse().unwrap())).unwrap();
    project.configure("api_url", &lib_sim.url()).unwrap();
    // The client's connection pool lives on the runtime.
    let _in_runtime = rt.enter();
    let github = project.github(None).unwrap();
    rt.block_on(project.pull(&github, &PullSpec::default(), &|_| {}))
        .unwrap();

    let (a, b) = (files(c), files(lib.path()));
    assert!(a.keys().any(|k| k.starts_with("issues/")), "{:?}", a.keys());
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs");
    }

    // The same edits, then a push each.
    ok(
        c,
        &[
            "issue",
            "edit",
            "#3",
            "--priority",
            "high",
            "--label",
            "Team: Web",
            "--status",
            "in-progress",
        ],
    );
    ok(c, &["issue", "close", "#4", "--reason", "not-planned"]);
    ok(c, &["sync", "push", "--api-url", &url]);
    let edit = IssueEdit {
        priority: Some(Priority::High),
        add_labels: vec!["Team: Web".into()],
        status: Some(roadmap::Status::InProgress),
        ..IssueEdit::default()
    };
    rt.block_on(project.edit_issue("#3", &edit)).unwrap();
    let close = IssueEdit::status(
        roadmap::Status::Done,
        Some(roadmap::CloseReason::NotPlanned),
    );
    rt.block_on(project.edit_issue("#4", &close)).unwrap();
    rt.block_on(project.push(&github, false, &|_| {})).unwrap();

    let (sent_cli, sent_lib) = (writes(&cli_sim), writes(&lib_sim));
    assert!(sent_cli.len() >= 3, "{sent_cli:?}");
    assert_eq!(sent_cli, sent_lib);
}
