//! Push and two-way sync scenarios against the simulator, each ending in files, index and
//! remote that agree field by field.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use roadmap_model::{
    Comment, IssuePatch, ItemId, Milestone, NewComment, NewIssue, NewLabel, NewMilestone, Page,
    Priority, RemoteComment, RemoteIssue, RemoteLabel, RemoteMilestone, Tracker, TrackerError,
    TrackerMetrics,
};
use roadmap_sync::merge::Side;
use roadmap_sync::{PushOptions, SyncReport, conflicts};
use tokio::sync::Notify;

use super::*;

impl Project {
    async fn push_with(&self, tracker: &dyn Tracker, opts: PushOptions) -> SyncReport {
        let index = Index::open(&self.store).await.unwrap();
        let r = roadmap_sync::push(tracker, &index, &opts, &|_| {})
            .await
            .unwrap();
        index.close().await;
        r
    }

    pub(crate) async fn push(&self) -> SyncReport {
        self.push_with(&self.client(), PushOptions::default()).await
    }

    pub(crate) fn new_issue(&self, id: &str, f: impl FnOnce(&mut Issue)) {
        let mut i = Issue::new(ItemId::new(id).unwrap(), format!("new issue {id}"));
        i.body = format!("Body of {id}.\n");
        f(&mut i);
        self.store.create(i).unwrap();
    }

    pub(crate) fn issue(&self, id: &str) -> Issue {
        self.store
            .get::<Issue>(&ItemId::new(id).unwrap())
            .unwrap()
            .item()
            .clone()
    }

    fn remote_titles(&self) -> Vec<String> {
        self.sim.with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").unwrap();
            r.issues
                .values()
                .filter(|i| !i.is_pr)
                .map(|i| i.title.clone())
                .collect()
        })
    }

    fn remote_issue(&self, n: u64) -> roadmap_sim::IssueRec {
        self.sim.with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").unwrap();
            r.issues[&n].clone()
        })
    }
}

fn closed_number(p: &Project) -> u64 {
    p.local()
        .iter()
        .find(|(n, i)| i.status == Status::Done && **n > 5)
        .map(|(n, _)| *n)
        .unwrap()
}

/// The `k`-th open issue.
fn open_number(p: &Project, k: usize) -> u64 {
    p.local()
        .iter()
        .filter(|(n, i)| i.status != Status::Done && **n > 5)
        .map(|(n, _)| *n)
        .nth(k)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_edit_close_reopen_locally_then_push() {
    let p = project(spec(30, 2, 3)).await;
    p.pull().await;
    let reopen = closed_number(&p);
    p.new_issue("0000aaaa", |i| {
        i.labels = vec!["fresh".into()];
        i.status = Status::InProgress;
        i.priority = Priority::High;
        i.estimate = Some(3.0);
        i.assignees = vec!["alice".into()];
        i.milestone = Some("Brand new milestone".into());
    });
    p.new_issue("0000bbbb", |i| i.status = Status::Done);
    let mut ms = Milestone::new(ItemId::new("0000cccc").unwrap(), "Local milestone");
    ms.body = "Made here.\n".into();
    p.store.create(ms).unwrap();
    p.new_issue("0000dddd", |i| i.milestone = Some("Local milestone".into()));
    p.edit(1, |i| i.title = "edited title".into());
    let close = open_number(&p, 0);
    p.edit(close, |i| i.status = Status::Done);
    p.edit(reopen, |i| i.status = Status::Todo);
    p.edit(3, |i| i.labels = vec!["relabelled".into()]);
    p.edit(4, |i| i.assignees = vec!["bob".into()]);
    assert!(![1, 3, 4].contains(&close) && ![1, 3, 4].contains(&reopen));
    let cpath = roadmap_sync::comments::path(&p.store, &ItemId::for_remote_issue(5));
    let mut list = roadmap_sync::comments::read(&p.store, &cpath).unwrap();
    list.push(Comment {
        id: None,
        author: String::new(),
        created: None,
        updated: None,
        body: "A local comment.".into(),
    });
    std::fs::write(&cpath, serde_saphyr::to_string(&list).unwrap()).unwrap();

    let before = p.remote_titles().len();
    let r = p.push().await;
    let push = &r.push;
    assert!(push.failures.is_empty(), "{:?}", push.failures);
    assert_eq!(push.created.get("issues"), Some(&3));
    assert_eq!(push.created.get("milestones"), Some(&2));
    assert_eq!(push.created.get("comments"), Some(&1));
    assert_eq!(push.closed, 2, "#{close} and the new done issue");
    assert_eq!(push.reopened, 1);
    assert_eq!(p.remote_titles().len(), before + 3);

    // New files keep their names and gain the remote number.
    let a = p.issue("0000aaaa");
    let n = a.number().expect("linked");
    let remote = p.remote_issue(n);
    let mut labels = remote.labels.clone();
    labels.sort();
    assert_eq!(labels, vec!["fresh", "priority:high", "status:in-progress"]);
    assert!(
        remote
            .body
            .as_deref()
            .unwrap()
            .contains("<!-- roadmap: {\"id\":\"0000aaaa\",\"estimate\":3.0} -->")
    );
    assert_eq!(p.issue("0000bbbb").status, Status::Done);
    assert_eq!(
        p.remote_issue(p.issue("0000bbbb").number().unwrap())
            .state_reason
            .as_deref(),
        Some("completed")
    );
    assert_eq!(p.remote_issue(reopen).state, "open");
    let m = p.issue("0000dddd");
    assert_eq!(m.milestone.as_deref(), Some("Local milestone"));
    p.assert_matches_remote().await;

    // A second run finds nothing to send, and its pull changes no synced field: no drift.
    // (It may record a newer `updated_at`: posting a comment bumps its issue's.)
    let fingerprints = |p: &Project| {
        p.local()
            .into_iter()
            .map(|(n, i)| (n, roadmap_sync::map::fingerprint(&i)))
            .collect::<BTreeMap<_, _>>()
    };
    let synced = fingerprints(&p);
    let again = p.push().await;
    assert_eq!(again.push.writes, 0, "{:?}", again.push.plan);
    assert_eq!(fingerprints(&p), synced);
    assert_eq!(again.pull.resources["issues"].merged, 0);
    assert!(again.pull.conflicts.is_empty());
    p.assert_matches_remote().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_on_both_sides_merge_and_conflicts_resolve_each_way() {
    let p = project(spec(20, 0, 2)).await;
    p.pull().await;
    // Different fields: merged.
    p.edit(1, |i| i.title = "ours".into());
    p.sim.edit_issue("octo", "demo", 1, |i| {
        i.body = Some("theirs\n".into());
    });
    // Relabel on both sides: merged as sets (GitHub only holds labels the repository has).
    let names = p.sim.with_world(|w| {
        let r = w.repos.values().find(|r| r.name == "demo").unwrap();
        r.labels
            .iter()
            .map(|l| l.name.clone())
            .filter(|n| !n.contains(':'))
            .take(2)
            .collect::<Vec<_>>()
    });
    let (keep, theirs) = (names[0].clone(), names[1].clone());
    p.edit(2, |i| {
        i.labels = vec![keep.clone(), "ours-added".into()];
    });
    p.sim.edit_issue("octo", "demo", 2, |i| {
        i.labels = vec![keep.clone(), theirs.clone()];
    });
    // Same field: conflicts, resolved three ways.
    for n in [3, 4, 5] {
        p.edit(n, |i| {
            i.title = format!("ours {n}");
            i.body = "a\nours\nc\n".into();
        });
        p.sim.edit_issue("octo", "demo", n, |i| {
            i.title = format!("theirs {n}");
            i.body = Some("a\ntheirs\nc\n".into());
        });
    }
    let r = p.push().await;
    assert_eq!(r.pull.resources["issues"].merged, 2);
    assert_eq!(r.push.conflicts, vec!["gh-3", "gh-4", "gh-5"]);
    assert_eq!(
        r.push.updated.get("issues"),
        Some(&2),
        "only the merged ones"
    );
    let one = p.remote_issue(1);
    assert_eq!(
        (one.title.as_str(), one.body.as_deref()),
        ("ours", Some("theirs\n"))
    );
    let mut two = p.remote_issue(2).labels;
    two.sort();
    let mut want = vec![keep, theirs, "ours-added".to_owned()];
    want.sort();
    assert_eq!(two, want);
    assert_eq!(
        p.remote_issue(3).title,
        "theirs 3",
        "nothing in conflict is pushed"
    );

    let listed = conflicts::list(&p.store).unwrap();
    assert_eq!(listed.len(), 3);
    let fields: Vec<_> = listed[0].fields.iter().map(|f| f.field).collect();
    assert_eq!(fields, vec!["title", "body"]);

    conflicts::resolve(&p.store, "gh-3", Side::Ours).unwrap();
    conflicts::resolve(&p.store, "gh-4", Side::Theirs).unwrap();
    let (path, fields) = conflicts::prepare_edit(&p.store, "gh-5").unwrap();
    assert_eq!(fields.len(), 2);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("<<<<<<<") && text.contains("theirs"));
    assert!(matches!(
        conflicts::finish_edit(&p.store, "gh-5"),
        Err(conflicts::ConflictError::Markers(_))
    ));
    // The edit happens on the copy; the issue's own file never holds markers.
    assert!(
        !std::fs::read_to_string(p.store.path_of(Kind::Issue, &ItemId::new("gh-5").unwrap()))
            .unwrap()
            .contains("<<<<<<<")
    );
    let mut copy = p.store.load::<roadmap_model::Issue>(&path).unwrap();
    copy.item_mut().body = "a\nboth\nc\n".into();
    p.store.save(&mut copy).unwrap();
    conflicts::finish_edit(&p.store, "gh-5").unwrap();
    assert!(!path.exists(), "the copy is removed once taken");
    assert!(conflicts::ids(&p.store).is_empty());

    let r = p.push().await;
    assert!(r.push.conflicts.is_empty());
    assert_eq!(p.remote_issue(3).title, "ours 3");
    assert_eq!(p.remote_issue(3).body.as_deref(), Some("a\nours\nc\n"));
    assert_eq!(p.remote_issue(4).title, "theirs 4");
    assert_eq!(p.remote_issue(5).title, "ours 5");
    assert_eq!(p.remote_issue(5).body.as_deref(), Some("a\nboth\nc\n"));
    assert_eq!(p.issue("gh-4").title, "theirs 4");
    p.assert_matches_remote().await;
    let state = SyncState::load(&p.store, "octo/demo").unwrap();
    assert!(state.conflicts.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_prints_the_plan_and_sends_nothing() {
    let p = project(spec(10, 0, 1)).await;
    p.pull().await;
    p.new_issue("0000aaaa", |_| {});
    let close = open_number(&p, 0);
    p.edit(close, |i| i.status = Status::Done);
    let files = snapshot(p.store.layout().dir());
    let before = p.sim.metrics();
    let r = p
        .push_with(
            &p.client(),
            PushOptions {
                dry_run: true,
                ..PushOptions::default()
            },
        )
        .await;
    let actions: Vec<_> = r.push.plan.iter().map(|x| x.action).collect();
    assert_eq!(actions, vec!["create", "close"]);
    assert_eq!(r.push.plan[1].fields, vec!["state"]);
    assert_eq!(r.push.writes, 0);
    assert_eq!(snapshot(p.store.layout().dir()), files);
    let after = p.sim.metrics();
    assert_eq!(
        after.calls("POST /repos/{owner}/{repo}/issues"),
        before.calls("POST /repos/{owner}/{repo}/issues")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_is_reported_and_the_rest_goes_on() {
    let p = project(spec(10, 0, 1)).await;
    p.pull().await;
    p.edit(1, |i| i.assignees = vec!["nobody-by-that-name".into()]);
    p.edit(2, |i| i.title = "fine".into());
    let r = p.push().await;
    assert_eq!(r.push.failures.len(), 1);
    assert!(r.push.failures[0].what.contains("#1"));
    assert!(
        r.push.failures[0].reason.contains("assignees"),
        "{}",
        r.push.failures[0].reason
    );
    assert_eq!(p.remote_issue(2).title, "fine");
    assert!(
        roadmap_sync::map::locally_edited(&p.issue("gh-1")),
        "still pending"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_spaced_and_stay_under_githubs_limits() {
    let p = project(spec(20, 0, 1)).await;
    p.pull().await;
    for n in 1..=8 {
        p.edit(n, |i| i.title = format!("spaced {n}"));
    }
    for k in 0..4 {
        p.new_issue(&format!("0000000{k}"), |_| {});
    }
    let spacing = Duration::from_millis(40);
    let gh = GitHub::builder("octo", "demo")
        .api_url(p.sim.url())
        .token(Some(SecretString::from("ghp_sync_test")))
        .write_spacing(spacing)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let r = p.push_with(&gh, PushOptions::default()).await;
    assert_eq!(r.push.writes, 12);
    // Each write waited for the one before it: a lower bound, so never flaky.
    assert!(started.elapsed() >= spacing * 11);
    assert!(r.push.api.wait_time > Duration::ZERO);
    assert_eq!(p.sim.metrics().rate_limited, 0, "no secondary limit hit");
    p.assert_matches_remote().await;
}

/// Lets `allow` writes through, then "dies" on the next one: before sending it, or after
/// GitHub committed it (the answer is lost).
struct Killer<'a> {
    inner: &'a GitHub,
    allow: usize,
    after_commit: bool,
    writes: AtomicUsize,
    dead: Arc<Notify>,
}

impl Killer<'_> {
    fn gate<'s, T: Send + 'static>(
        &'s self,
        call: BoxFuture<'s, Result<T, TrackerError>>,
    ) -> BoxFuture<'s, Result<T, TrackerError>> {
        let k = self.writes.fetch_add(1, Ordering::SeqCst);
        let dead = self.dead.clone();
        let die = k >= self.allow;
        let after = self.after_commit;
        Box::pin(async move {
            if die && !after {
                dead.notify_one();
                return futures::future::pending().await;
            }
            let r = call.await;
            if die {
                dead.notify_one();
                return futures::future::pending().await;
            }
            r
        })
    }
}

impl Tracker for Killer<'_> {
    fn full_name(&self) -> &str {
        self.inner.full_name()
    }
    fn list_issues(
        &self,
        opts: roadmap_model::ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteIssue>, TrackerError>> {
        self.inner.list_issues(opts)
    }
    fn list_milestones(&self) -> BoxStream<'_, Result<Page<RemoteMilestone>, TrackerError>> {
        self.inner.list_milestones()
    }
    fn list_labels(&self) -> BoxStream<'_, Result<Page<RemoteLabel>, TrackerError>> {
        self.inner.list_labels()
    }
    fn list_comments(
        &self,
        opts: roadmap_model::ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteComment>, TrackerError>> {
        self.inner.list_comments(opts)
    }
    fn get_issue(&self, number: u64) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        self.inner.get_issue(number)
    }
    fn create_issue(&self, issue: NewIssue) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        self.gate(self.inner.create_issue(issue))
    }
    fn update_issue(
        &self,
        number: u64,
        patch: IssuePatch,
    ) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        self.gate(self.inner.update_issue(number, patch))
    }
    fn create_milestone(
        &self,
        m: NewMilestone,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>> {
        self.gate(self.inner.create_milestone(m))
    }
    fn update_milestone(
        &self,
        number: u64,
        patch: roadmap_model::MilestonePatch,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>> {
        self.gate(self.inner.update_milestone(number, patch))
    }
    fn create_label(&self, label: NewLabel) -> BoxFuture<'_, Result<RemoteLabel, TrackerError>> {
        self.gate(self.inner.create_label(label))
    }
    fn create_comment(
        &self,
        n: u64,
        c: NewComment,
    ) -> BoxFuture<'_, Result<RemoteComment, TrackerError>> {
        self.gate(self.inner.create_comment(n, c))
    }
    fn metrics(&self) -> TrackerMetrics {
        self.inner.metrics()
    }
}

/// The local changes of the kill test: new issues (one closed, one with a new label and
/// milestone), edits, and comments, one of them on a new issue.
fn stage(p: &Project) {
    p.new_issue("00000001", |i| {
        i.labels = vec!["kill-test".into()];
        i.milestone = Some("Kill milestone".into());
    });
    p.new_issue("00000002", |i| i.status = Status::Done);
    p.new_issue("00000003", |i| i.priority = Priority::Critical);
    p.edit(1, |i| i.title = "edited 1".into());
    let close = open_number(p, 1);
    p.edit(close, |i| i.status = Status::Done);
    for id in ["gh-3", "00000003"] {
        let path = roadmap_sync::comments::path(&p.store, &ItemId::new(id).unwrap());
        let mut list = roadmap_sync::comments::read(&p.store, &path).unwrap();
        list.push(Comment {
            id: None,
            author: String::new(),
            created: None,
            updated: None,
            body: format!("comment on {id}"),
        });
        std::fs::write(&path, serde_saphyr::to_string(&list).unwrap()).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_killed_at_any_write_resumes_without_duplicates_or_loss() {
    // The uninterrupted run, for its write count and its final state.
    let reference = project(spec(12, 0, 1)).await;
    reference.pull().await;
    stage(&reference);
    let full = reference.push().await;
    assert!(full.push.failures.is_empty(), "{:?}", full.push.failures);
    let writes = full.push.writes as usize;
    assert!(writes >= 10, "{writes}");
    let titles_after = {
        let mut t = reference.remote_titles();
        t.sort();
        t
    };

    let mut tried = 0;
    for allow in 0..writes {
        for after_commit in [false, true] {
            let p = project(spec(12, 0, 1)).await;
            p.pull().await;
            stage(&p);
            let gh = p.client();
            let killer = Killer {
                inner: &gh,
                allow,
                after_commit,
                writes: AtomicUsize::new(0),
                dead: Arc::new(Notify::new()),
            };
            let dead = killer.dead.clone();
            {
                let index = Index::open(&p.store).await.unwrap();
                let opts = PushOptions::default();
                let run = roadmap_sync::push(&killer, &index, &opts, &|_| {});
                tokio::select! {
                    r = run => panic!("the run was not killed at write {allow}: {:?}", r.map(|r| r.push.writes)),
                    () = dead.notified() => {}
                }
                index.close().await;
            }
            // Rerun to completion.
            let r = p.push().await;
            assert!(
                r.push.failures.is_empty(),
                "kill at {allow} ({after_commit}): {:?}",
                r.push.failures
            );
            let mut titles = p.remote_titles();
            titles.sort();
            assert_eq!(
                titles, titles_after,
                "kill at write {allow} (after commit: {after_commit}): same issues, none twice"
            );
            let comments = p.sim.with_world(|w| {
                let r = w.repos.values().find(|r| r.name == "demo").unwrap();
                r.comments
                    .values()
                    .filter(|c| c.body.starts_with("comment on"))
                    .count()
            });
            assert_eq!(comments, 2, "kill at write {allow} ({after_commit})");
            let milestones = p.sim.with_world(|w| {
                let r = w.repos.values().find(|r| r.name == "demo").unwrap();
                r.milestones
                    .values()
                    .filter(|m| m.title == "Kill milestone")
                    .count()
            });
            assert_eq!(milestones, 1);
            assert!(
                std::fs::read_dir(p.store.layout().intents_dir())
                    .map(|d| d.count())
                    .unwrap_or(0)
                    == 0,
                "no intent left"
            );
            p.assert_matches_remote().await;
            let again = p.push().await;
            assert_eq!(
                again.push.writes, 0,
                "kill at {allow}: {:?}",
                again.push.plan
            );
            tried += 1;
        }
    }
    assert_eq!(tried, writes * 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_milestone_edited_on_both_sides_is_not_pushed_over_githubs_edit() {
    let p = project(spec(5, 0, 2)).await;
    p.pull().await;
    let id = ItemId::for_remote_milestone(1);
    let mut f = p.store.get::<Milestone>(&id).unwrap();
    f.item_mut().body = "local description\n".into();
    p.store.save(&mut f).unwrap();
    p.sim
        .rename_milestone("octo", "demo", 1, "Renamed on GitHub");
    let r = p.push().await;
    assert!(
        r.push.conflicts.contains(&"ms-1".to_owned()),
        "{:?}",
        r.push
    );
    let title = p.sim.with_world(|w| {
        let r = w.repos.values().find(|r| r.name == "demo").unwrap();
        r.milestones[&1].title.clone()
    });
    assert_eq!(title, "Renamed on GitHub");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_served_with_wrong_types_is_reported_and_pulled_once_it_parses() {
    let p = project(spec(30, 0, 1)).await;
    p.pull().await;
    // Edited later than everything else, and served broken.
    p.sim
        .edit_issue("octo", "demo", 7, |i| i.title = "broken for a while".into());
    p.sim.with_world(|w| {
        let r = w.repos.values_mut().find(|r| r.name == "demo").unwrap();
        r.mangled.insert(7);
    });
    p.sim
        .edit_issue("octo", "demo", 9, |i| i.title = "fine".into());
    let r = p.pull().await;
    assert!(
        r.failures.iter().any(|f| f.what.contains("#7")),
        "{:?}",
        r.failures
    );
    assert_eq!(
        p.issue("gh-9").title,
        "fine",
        "the rest of the page went on"
    );
    p.sim.with_world(|w| {
        let r = w.repos.values_mut().find(|r| r.name == "demo").unwrap();
        r.mangled.clear();
    });
    // No remote change since: only a watermark held before #7 brings it in.
    p.pull().await;
    assert_eq!(p.issue("gh-7").title, "broken for a while");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ambiguous_create_is_never_repeated_in_the_run_and_is_found_by_the_next() {
    let p = project(spec(5, 0, 1)).await;
    p.pull().await;
    // A slow write: the 502 comes after GitHub made the issue, which it lists 1.5 s later.
    p.sim
        .set_listing_lag(std::time::Duration::from_millis(1_500));
    let mut f = roadmap_sim::ScriptedFault::next("/issues", roadmap_sim::FaultKind::Status502);
    f.method = Some("POST".into());
    f.after_commit = true;
    p.sim.script_fault(f);
    p.new_issue("0000eeee", |_| {});
    p.sim.reset_metrics();
    let report = p.push().await;
    let posts = |p: &Project| {
        p.sim
            .writes()
            .iter()
            .filter(|w| w.method == "POST" && w.path.ends_with("/issues"))
            .count()
    };
    assert_eq!(posts(&p), 1, "sent once");
    assert!(
        report
            .push
            .failures
            .iter()
            .any(|f| f.reason.contains("may have been created")),
        "{:?}",
        report.push.failures
    );
    let intents = std::fs::read_dir(p.store.layout().intents_dir())
        .unwrap()
        .count();
    assert_eq!(intents, 1, "the intent is kept for the next run");
    let made = |p: &Project| {
        p.remote_titles()
            .iter()
            .filter(|t| *t == "new issue 0000eeee")
            .count()
    };
    assert_eq!(made(&p), 1);

    // The next run, once GitHub lists it: found by its intent, not created again.
    p.sim.end_listing_lag();
    p.sim.reset_metrics();
    let report = p.push().await;
    assert!(
        report.push.failures.is_empty(),
        "{:?}",
        report.push.failures
    );
    assert_eq!(posts(&p), 0, "not created again");
    assert_eq!(made(&p), 1);
    assert!(p.issue("0000eeee").remote.is_some(), "linked to it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_issue_naming_a_local_id_is_not_linked_without_a_pending_create() {
    let p = project(spec(5, 0, 1)).await;
    p.pull().await;
    p.new_issue("0000ffff", |_| {});
    // Someone else opens an issue whose hidden block names the committed local id.
    let n = p
        .sim
        .create_issue("octo", "demo", "new issue 0000ffff")
        .unwrap();
    p.sim.edit_issue("octo", "demo", n, |i| {
        i.body = Some("Body of 0000ffff.\n<!-- roadmap: {\"id\":\"0000ffff\"} -->\n".into())
    });
    p.pull().await;
    assert!(
        p.issue("0000ffff").remote.is_none(),
        "the user's issue is not taken over"
    );
    assert!(
        p.local().contains_key(&n),
        "the other issue is kept as its own file"
    );
    // The user's issue is still created.
    let report = p.push().await;
    assert!(
        report.push.failures.is_empty(),
        "{:?}",
        report.push.failures
    );
    let mine = p.issue("0000ffff").remote.expect("created").number;
    assert_ne!(mine, n);
}
