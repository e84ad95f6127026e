//! The library as an embedding program uses it, against the in-process simulator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

#[path = "../../examples/custom_tracker.rs"]
mod custom_tracker;
#[path = "../../examples/quickstart.rs"]
mod quickstart;
#[path = "../../examples/two_way.rs"]
mod two_way;

use roadmap::simulator::{RepoSpec, SimConfig, Simulator};
use roadmap::{Error, IssueEdit, Project, PullSpec, Source};

#[test]
fn the_quickstart_example_runs() {
    quickstart::main().expect("the example runs");
}

#[test]
fn the_custom_tracker_example_runs() {
    custom_tracker::main().expect("the example runs");
}

#[test]
fn the_two_way_example_runs() {
    two_way::main().expect("the example runs");
}

async fn pulled(issues: u64) -> (Simulator, tempfile::TempDir, Project) {
    let mut spec = RepoSpec::new("octo", "lib");
    spec.issues = issues;
    spec.milestones = 3;
    let sim = Simulator::start(SimConfig::default().repo(spec))
        .await
        .expect("sim");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut project =
        Project::init(dir.path(), Some(&"octo/lib".parse().expect("repo"))).expect("init");
    project
        .config_mut()
        .set("api_url", &sim.url(), Source::Flag)
        .expect("api_url");
    let gh = project.github(Some("t".into())).expect("client");
    project
        .pull(&gh, &PullSpec::default(), &|_| {})
        .await
        .expect("pull");
    (sim, dir, project)
}

#[tokio::test]
async fn a_mistyped_milestone_is_refused_with_the_nearest_title() {
    let (_sim, _dir, project) = pulled(5).await;
    let title = project
        .store()
        .load_all::<roadmap::Milestone>()
        .expect("milestones")
        .items[0]
        .item()
        .title
        .clone();
    let typo = format!("{title}x");
    let edit = IssueEdit {
        milestone: Some(Some(typo.clone())),
        ..IssueEdit::default()
    };
    match project.create_issue("New", &edit) {
        Err(Error::UnknownMilestone { name, nearest }) => {
            assert_eq!(name, typo);
            assert_eq!(nearest.as_deref(), Some(title.as_str()));
        }
        other => panic!("expected UnknownMilestone, got {other:?}"),
    }
    let create = IssueEdit {
        create_milestone: true,
        ..edit
    };
    let made = project.create_issue("New", &create).expect("created");
    assert_eq!(made.item().milestone.as_deref(), Some(typo.as_str()));
}

#[tokio::test]
async fn issues_are_found_by_number_and_by_a_unique_id_prefix() {
    let (_sim, _dir, project) = pulled(3).await;
    let by_number = project.find_issue("#2").await.expect("#2");
    assert_eq!(by_number.item().number(), Some(2));
    let id = by_number.item().id.to_string();
    let by_prefix = project.find_issue(&id[..id.len() - 1]).await;
    // Remote issues' ids share a prefix: either one match, or an ambiguity naming the ids.
    match by_prefix {
        Ok(f) => assert_eq!(f.item().id.to_string(), id),
        Err(Error::Ambiguous { candidates, .. }) => assert!(candidates.contains(&id)),
        Err(e) => panic!("{e}"),
    }
    assert!(matches!(
        project.find_issue("zz-none").await,
        Err(Error::NotFound { kind: "issue", .. })
    ));
}

#[tokio::test]
async fn a_host_named_only_by_the_project_file_gets_no_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    Project::init(dir.path(), Some(&"o/r".parse().expect("repo"))).expect("init");
    std::fs::write(
        dir.path().join(".roadmap/config.toml"),
        "repo = \"o/r\"\napi_url = \"https://evil.example/api\"\nallowed_hosts = \"evil.example\"\n",
    )
    .expect("write");
    let project = Project::open(dir.path()).expect("open");
    let host = project.host().expect("host");
    assert_eq!(host.name, "evil.example");
    assert!(!host.may_have_token(), "{host:?}");
    let mut named = roadmap::Config::defaults();
    named
        .set("api_url", "https://ghe.example/api/v3", Source::Flag)
        .expect("flag");
    let project = Project::open_with(dir.path(), named).expect("open");
    assert!(project.host().expect("host").may_have_token());
}

#[tokio::test]
async fn a_tracker_for_another_repository_is_refused_before_anything_is_written() {
    let (sim, _dir, project) = pulled(3).await;
    let other = roadmap::GitHub::builder("octo", "other")
        .api_url(sim.url())
        .build()
        .expect("client");
    let before = sim.metrics().requests;
    let err = project
        .pull(&other, &PullSpec::default(), &|_| {})
        .await
        .expect_err("another repository");
    assert!(
        matches!(&err, Error::OtherRepository { project, tracker }
            if project == "octo/lib" && tracker == "octo/other"),
        "{err}"
    );
    let err = project
        .push(&other, false, &|_| {})
        .await
        .expect_err("another repository");
    assert!(matches!(err, Error::OtherRepository { .. }), "{err}");
    assert_eq!(sim.metrics().requests, before, "nothing was asked");
}
