//! Pull against the simulator through the real GitHub client.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use roadmap_cache::{Cache, CacheOptions};
use roadmap_github::{GitHub, RetryPolicy};
use roadmap_index::{Index, IssueQuery, collect_rows};
use roadmap_model::{Issue, Status};
use roadmap_sim::{RepoSpec, SimConfig, Simulator, Wire};
use roadmap_store::{Kind, Store};
use roadmap_sync::{Mapping, PullOptions, PullReport, SyncState, pull};
use secrecy::SecretString;

struct Project {
    _dir: tempfile::TempDir,
    store: Store,
    sim: Simulator,
}

fn spec(issues: u64, prs: u64, milestones: u64) -> RepoSpec {
    let mut s = RepoSpec::new("octo", "demo");
    s.issues = issues;
    s.prs = prs;
    s.milestones = milestones;
    s.labels = 10;
    s.comments = 1;
    s
}

async fn project(spec: RepoSpec) -> Project {
    project_on(spec, Wire::github()).await
}

/// The paging styles the pull tests run in: github.com's (cursor issues, numbered others),
/// every listing numbered with `last` (Enterprise Server, older hosts), every listing by
/// cursor (github.com if the listings not yet observed page that way too).
fn styles() -> [Wire; 3] {
    [Wire::github(), Wire::numbered(), Wire::all_cursor()]
}

async fn project_on(spec: RepoSpec, wire: Wire) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), "").unwrap();
    let mut other = RepoSpec::new("octo", "other");
    other.issues = 1;
    let sim = Simulator::start(SimConfig::default().repo(spec).repo(other).wire(wire))
        .await
        .unwrap();
    Project {
        _dir: dir,
        store,
        sim,
    }
}

impl Project {
    fn client(&self) -> GitHub {
        let cache = Arc::new(Cache::new(
            Some(self.store.layout().cache_dir()),
            CacheOptions::default(),
        ));
        GitHub::builder("octo", "demo")
            .api_url(self.sim.url())
            .token(Some(SecretString::from("ghp_sync_test")))
            .cache(Some(cache))
            .retry(RetryPolicy {
                max_retries: 5,
                base: Duration::from_millis(5),
                max: Duration::from_millis(20),
            })
            .write_spacing(Duration::ZERO)
            .build()
            .unwrap()
    }

    async fn pull_with(&self, opts: PullOptions) -> PullReport {
        let index = Index::open(&self.store).await.unwrap();
        let gh = self.client();
        let r = pull(&gh, &index, &opts, &|_| {}).await.unwrap();
        index.close().await;
        r
    }

    async fn pull(&self) -> PullReport {
        self.pull_with(PullOptions::default()).await
    }

    /// Edits the file of issue `n` as a user would.
    fn edit(&self, n: u64, f: impl FnOnce(&mut Issue)) {
        let path = self
            .store
            .path_of(Kind::Issue, &roadmap_model::ItemId::for_remote_issue(n));
        let mut file = self.store.load::<Issue>(&path).unwrap();
        f(file.item_mut());
        self.store.save(&mut file).unwrap();
    }

    /// Every local issue file by number.
    fn local(&self) -> BTreeMap<u64, Issue> {
        self.store
            .load_all::<Issue>()
            .unwrap()
            .items
            .into_iter()
            .filter_map(|f| Some((f.item().number()?, f.item().clone())))
            .collect()
    }

    /// Asserts that files (and the index) hold exactly the remote's issues, field by field.
    async fn assert_matches_remote(&self) {
        let local = self.local();
        let remote = self
            .sim
            .with_world(|w| w.repos.values().find(|r| r.name == "demo").unwrap().clone());
        let issues: Vec<_> = remote.issues.values().filter(|i| !i.is_pr).collect();
        let live: Vec<u64> = local
            .iter()
            .filter(|(_, i)| i.remote.as_ref().unwrap().lost.is_none())
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            live,
            issues.iter().map(|i| i.number).collect::<Vec<_>>(),
            "same set of issues"
        );
        for r in issues {
            let l = &local[&r.number];
            let shape = Mapping::default().to_remote(l);
            assert_eq!(shape.title, r.title, "#{} title", r.number);
            let body = r.body.clone().unwrap_or_default();
            assert_eq!(
                shape.body.trim_end_matches('\n'),
                body.trim_end_matches('\n'),
                "#{} body",
                r.number
            );
            assert_eq!(
                l.status == Status::Done,
                r.state == "closed",
                "#{} state",
                r.number
            );
            assert_eq!(
                l.remote.as_ref().unwrap().state_reason,
                r.state_reason,
                "#{} state_reason",
                r.number
            );
            assert_eq!(
                l.closed.map(|t| t.0.timestamp()),
                r.closed_at,
                "#{} closed",
                r.number
            );
            let mut a = shape.labels.clone();
            a.sort();
            let mut b = r.labels.clone();
            b.sort();
            assert_eq!(a, b, "#{} labels", r.number);
            assert_eq!(l.assignees, r.assignees, "#{} assignees", r.number);
            assert!(
                !roadmap_sync::map::locally_edited(l),
                "#{} has nothing left to push",
                r.number
            );
            let ms = r.milestone.map(|n| remote.milestones[&n].title.clone());
            assert_eq!(l.milestone, ms, "#{} milestone", r.number);
            let comments = roadmap_sync::comments::read(
                &self.store,
                &roadmap_sync::comments::path(&self.store, &l.id),
            )
            .unwrap();
            let want: Vec<&str> = remote
                .comments
                .values()
                .filter(|c| c.issue == r.number)
                .map(|c| c.body.as_str())
                .collect();
            assert_eq!(
                comments.iter().map(|c| c.body.as_str()).collect::<Vec<_>>(),
                want,
                "#{} comments",
                r.number
            );
        }
        // The index agrees with the files.
        let index = Index::open(&self.store).await.unwrap();
        let rows = collect_rows(index.list_issues(&IssueQuery::default()))
            .await
            .unwrap();
        assert_eq!(rows.len(), local.len());
        index.close().await;
    }
}

fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    for sub in ["issues", "milestones", "comments"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap().flatten() {
            let m = e.metadata().unwrap();
            out.insert(
                e.path().display().to_string(),
                (std::fs::read(e.path()).unwrap(), m.modified().unwrap()),
            );
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_pull_uses_the_minimum_number_of_calls_and_mirrors_the_remote() {
    for (n, prs, m, wire) in [
        (12u64, 0u64, 6u64, Wire::github()),
        (106, 0, 6, Wire::numbered()),
        (515, 25, 12, Wire::github()),
        (515, 25, 12, Wire::numbered()),
        (250, 0, 130, Wire::all_cursor()),
        (250, 0, 130, Wire::numbered()),
    ] {
        let p = project_on(spec(n, prs, m), wire).await;
        let report = p.pull().await;
        let metrics = p.sim.metrics();
        let issue_pages = (n + prs).div_ceil(100).max(1);
        let comment_pages = (n + prs).div_ceil(100).max(1); // one comment per issue and PR
        // A full listing is split in windows (8 workers): the oldest and newest items, then
        // each window's pages, the last one partly past its end (issue 14's bound).
        let issues = metrics.calls("GET /repos/{owner}/{repo}/issues");
        assert!(
            (issue_pages..=issue_pages + 2 * 8 + 4).contains(&issues),
            "{n} issues: {issues} calls"
        );
        let comments = metrics.calls("GET /repos/{owner}/{repo}/issues/comments");
        assert!(
            (comment_pages..=comment_pages + 2 * 8 + 4).contains(&comments),
            "{n} comments: {comments} calls"
        );
        assert_eq!(
            metrics.calls("GET /repos/{owner}/{repo}/milestones"),
            m.div_ceil(100).max(1)
        );
        assert_eq!(metrics.calls("GET /repos/{owner}/{repo}/labels"), 1);
        assert_eq!(metrics.calls("GET /search/issues"), 1, "the count");
        assert_eq!(
            metrics.requests,
            issues + m.div_ceil(100).max(1) + 1 + comments + 1,
            "no per-issue lookups: {:?}",
            metrics.routes.keys().collect::<Vec<_>>()
        );
        assert_eq!(report.resources["issues"].created, n);
        assert_eq!(report.resources["issues"].skipped, prs);
        assert_eq!(
            report.resources["comments"].skipped, prs,
            "PR comments skipped"
        );
        assert!(report.failures.is_empty(), "{:?}", report.failures);
        p.assert_matches_remote().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_change_pull_is_all_304s_and_touches_no_file() {
    for wire in styles() {
        no_change_pull(wire).await;
    }
}

async fn no_change_pull(wire: Wire) {
    let p = project_on(spec(300, 20, 8), wire).await;
    p.pull().await;
    // The first incremental pull asks `since` the watermark for the first time (one request
    // per resource); from then on an unchanged remote answers 304.
    p.pull().await;
    let before = snapshot(p.store.layout().dir());
    p.sim.reset_metrics();
    let report = p.pull().await;
    let m = p.sim.metrics();
    assert_eq!(m.requests, m.not_modified, "only 304s: {m:?}");
    assert_eq!(m.requests, 4, "one conditional request per resource");
    assert_eq!(report.files_written, 0);
    assert_eq!(
        snapshot(p.store.layout().dir()),
        before,
        "no file content or mtime changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incremental_pulls_follow_scripted_remote_changes() {
    for wire in styles() {
        incremental_pulls(wire).await;
    }
}

async fn incremental_pulls(wire: Wire) {
    let p = project_on(spec(400, 10, 5), wire).await;
    p.pull().await;
    // Edits, closes, relabels, comments, a new issue, a renamed milestone.
    p.sim
        .edit_issue("octo", "demo", 3, |i| i.title = "retitled".into());
    p.sim.edit_issue("octo", "demo", 4, |i| {
        i.state = "closed".into();
        i.state_reason = Some("not_planned".into());
    });
    p.sim.edit_issue("octo", "demo", 5, |i| {
        i.labels = vec!["bug".into(), "area: ui".into()]
    });
    let n = p.sim.create_issue("octo", "demo", "brand new").unwrap();
    p.sim.add_comment("octo", "demo", 6, "a new comment");
    p.sim
        .rename_milestone("octo", "demo", 2, "Renamed milestone");
    p.sim.reset_metrics();
    let report = p.pull().await;
    assert_eq!(
        p.sim.metrics().calls("GET /repos/{owner}/{repo}/issues"),
        1,
        "since the watermark: one page"
    );
    assert_eq!(report.resources["issues"].created, 1);
    assert!(report.resources["issues"].updated >= 4);
    assert!(p.local().contains_key(&n));
    p.assert_matches_remote().await;

    // Deleted and transferred issues are found by a full pull and marked, not deleted.
    p.sim.delete_issue("octo", "demo", 7);
    p.sim.transfer_issue("octo", "demo", 8, "octo", "other");
    let report = p
        .pull_with(PullOptions {
            full: true,
            ..PullOptions::default()
        })
        .await;
    let mut lost = report.lost.clone();
    lost.sort();
    assert_eq!(
        lost,
        vec!["gh-7: gone".to_owned(), "gh-8: transferred".to_owned()]
    );
    let local = p.local();
    assert_eq!(
        local[&7].remote.as_ref().unwrap().lost.as_deref(),
        Some("gone")
    );
    assert_eq!(
        local[&8].remote.as_ref().unwrap().lost.as_deref(),
        Some("transferred")
    );
    p.assert_matches_remote().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_edits_survive_a_pull_and_both_side_edits_merge_or_conflict() {
    let p = project(spec(50, 0, 3)).await;
    p.pull().await;
    p.edit(10, |i| i.title = "local title".into());
    p.edit(11, |i| i.body = "local body\n".into());
    p.edit(13, |i| i.title = "ours".into());
    // Remote edits to 11 (another field: merged), 12 (remote only: applied) and 13 (the same
    // field: conflict).
    p.sim
        .edit_issue("octo", "demo", 11, |i| i.title = "remote title".into());
    p.sim
        .edit_issue("octo", "demo", 12, |i| i.title = "remote only".into());
    p.sim
        .edit_issue("octo", "demo", 13, |i| i.title = "theirs".into());
    let report = p.pull().await;
    assert_eq!(report.conflicts, vec!["gh-13".to_owned()]);
    assert_eq!(report.resources["issues"].merged, 1);
    let local = p.local();
    assert_eq!(local[&10].title, "local title", "local-only edit kept");
    assert_eq!(local[&11].body, "local body\n", "merged: ours");
    assert_eq!(local[&11].title, "remote title", "merged: theirs");
    assert_eq!(local[&12].title, "remote only");
    assert_eq!(local[&13].title, "ours", "a conflict leaves the file alone");
    let state = SyncState::load(&p.store, "octo/demo").unwrap();
    assert_eq!(state.conflicts, vec!["gh-13".to_owned()]);
    let listed = roadmap_sync::conflicts::list(&p.store).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].fields[0].field, "title");
    assert_eq!(listed[0].fields[0].ours, "ours");
    assert_eq!(listed[0].fields[0].theirs, "theirs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_pull_converges_when_rerun() {
    for wire in styles() {
        interrupted_pull(wire).await;
    }
}

async fn interrupted_pull(wire: Wire) {
    let p = project_on(spec(700, 0, 4), wire).await;
    // A pull whose issue listing dies (every retry of a window's page fails): nothing after
    // it is trusted.
    let mut f = roadmap_sim::ScriptedFault::next(
        "issues?state=all&sort=updated&direction=asc&per_page=100&since=",
        roadmap_sim::FaultKind::Status502,
    );
    f.remaining = 50;
    p.sim.script_fault(f);
    let index = Index::open(&p.store).await.unwrap();
    let report = pull(&p.client(), &index, &PullOptions::default(), &|_| {})
        .await
        .unwrap();
    index.close().await;
    assert!(report.partial());
    assert!(report.failures.iter().any(|f| f.what == "issues listing"));
    let state = SyncState::load(&p.store, "octo/demo").unwrap();
    assert!(
        !state.watermarks.contains_key("issues"),
        "no watermark after a failed listing"
    );
    // The network comes back (the scripted failures are used up) and the rerun converges.
    let mut rerun = p.pull().await;
    for _ in 0..10 {
        if !rerun.partial() {
            break;
        }
        rerun = p.pull().await;
    }
    assert!(rerun.failures.is_empty(), "{:?}", rerun.failures);
    p.assert_matches_remote().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_item_is_reported_and_skipped_and_the_rest_is_pulled() {
    let p = project(spec(120, 0, 2)).await;
    // A file that cannot be parsed where issue #9 would be updated.
    p.pull().await;
    let bad = p
        .store
        .path_of(Kind::Issue, &roadmap_model::ItemId::for_remote_issue(9));
    std::fs::write(&bad, "---\nid: gh-9\ntitle: [broken\n---\n").unwrap();
    p.sim
        .edit_issue("octo", "demo", 9, |i| i.title = "nine".into());
    p.sim
        .edit_issue("octo", "demo", 10, |i| i.title = "ten".into());
    let report = p.pull().await;
    assert!(report.partial());
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert!(
        report.failures[0].what.contains("#9") && report.failures[0].reason.contains("gh-9.md:3:"),
        "{:?}",
        report.failures
    );
    assert_eq!(p.local()[&10].title, "ten");
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "---\nid: gh-9\ntitle: [broken\n---\n",
        "the bad file is left as the user wrote it"
    );
    // Fixed by hand, the next pull picks #9 up: the watermark stopped before it.
    std::fs::remove_file(&bad).unwrap();
    let report = p.pull().await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(p.local()[&9].title, "nine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_the_plan_and_writes_nothing() {
    let p = project(spec(30, 0, 2)).await;
    let report = p
        .pull_with(PullOptions {
            dry_run: true,
            ..PullOptions::default()
        })
        .await;
    assert!(report.dry_run);
    assert_eq!(report.resources["issues"].created, 30);
    assert_eq!(report.files_written, 0);
    assert!(p.local().is_empty(), "no issue file written");
    p.pull().await;
    p.sim
        .edit_issue("octo", "demo", 4, |i| i.title = "changed".into());
    let report = p
        .pull_with(PullOptions {
            dry_run: true,
            ..PullOptions::default()
        })
        .await;
    assert_eq!(report.resources["issues"].updated, 1);
    assert_ne!(p.local()[&4].title, "changed");
}

mod push;
mod relations;
mod roundtrip;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_missing_issues_stop_the_lost_check_instead_of_a_get_each() {
    let p = project(spec(200, 0, 2)).await;
    p.pull().await;
    // A mass deletion looks like a listing cut short: neither is checked issue by issue.
    for n in 1..=60 {
        p.sim.delete_issue("octo", "demo", n);
    }
    p.sim.reset_metrics();
    let report = p
        .pull_with(PullOptions {
            full: true,
            ..PullOptions::default()
        })
        .await;
    assert_eq!(
        p.sim
            .metrics()
            .calls("GET /repos/{owner}/{repo}/issues/{n}"),
        0,
        "no single-issue GETs"
    );
    assert!(report.lost.is_empty());
    let f = report
        .failures
        .iter()
        .find(|f| f.what == "lost-issue check")
        .expect("said so");
    assert!(f.reason.contains("60 of the 200 issues"), "{}", f.reason);
    assert!(report.partial());

    // A few missing ones are still looked up and marked.
    let p = project(spec(200, 0, 2)).await;
    p.pull().await;
    for n in 1..=5 {
        p.sim.delete_issue("octo", "demo", n);
    }
    p.sim.reset_metrics();
    let report = p
        .pull_with(PullOptions {
            full: true,
            ..PullOptions::default()
        })
        .await;
    assert_eq!(report.lost.len(), 5);
    assert_eq!(
        p.sim
            .metrics()
            .calls("GET /repos/{owner}/{repo}/issues/{n}"),
        5
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_file_left_empty_by_a_power_loss_is_pulled_again() {
    let p = project(spec(30, 0, 2)).await;
    p.pull().await;
    // Pulled files are flushed once per batch: a power loss before the flush can leave one
    // empty. The next full pull writes it again instead of failing on it.
    let path = p
        .store
        .path_of(Kind::Issue, &roadmap_model::ItemId::for_remote_issue(7));
    std::fs::write(&path, "").unwrap();
    let index = Index::open(&p.store).await.unwrap();
    let report = pull(
        &p.client(),
        &index,
        &PullOptions {
            full: true,
            ..PullOptions::default()
        },
        &|_| {},
    )
    .await
    .unwrap();
    index.close().await;
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert!(std::fs::metadata(&path).unwrap().len() > 0);
    p.assert_matches_remote().await;
}
