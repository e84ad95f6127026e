//! Relations through GitHub's dependencies and sub-issues, both ways, against the simulator:
//! what a pull costs (a request per related issue's list, none for the rest), a round trip
//! of local edits through a sync (added, removed, between issues created in the same push),
//! edits made on GitHub, a host without relations, one whose listings do not name parents,
//! and the migration of hidden blocks written before relations travelled natively.

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use roadmap_model::{
    IssuePatch, NewComment, NewIssue, NewLabel, NewMilestone, Page, RemoteComment, RemoteIssue,
    RemoteLabel, RemoteMilestone, Tracker, TrackerError, TrackerMetrics,
};
use roadmap_sync::{PushOptions, RelationsMode, SyncReport};

use super::*;

const GET_BLOCKED_BY: &str = "GET /repos/{owner}/{repo}/issues/{n}/dependencies/blocked_by";
const GET_BLOCKING: &str = "GET /repos/{owner}/{repo}/issues/{n}/dependencies/blocking";
const GET_SUB_ISSUES: &str = "GET /repos/{owner}/{repo}/issues/{n}/sub_issues";

fn calls(r: &PullReport, endpoint: &str) -> u64 {
    r.api.endpoints.get(endpoint).map_or(0, |e| e.calls)
}

/// A repository of `n` issues (no pull requests, no comments), so that every number names an
/// issue.
fn plain(n: u64) -> RepoSpec {
    let mut s = RepoSpec::new("octo", "demo");
    s.issues = n;
    s.prs = 0;
    s.milestones = 2;
    s.labels = 4;
    s.comments = 0;
    s
}

impl Project {
    async fn sync(&self) -> SyncReport {
        let index = Index::open(&self.store).await.unwrap();
        let r = roadmap_sync::sync(
            &self.client(),
            &index,
            &PullOptions::default(),
            &PushOptions::default(),
            &|_| {},
        )
        .await
        .unwrap();
        index.close().await;
        r
    }

    async fn full_pull(&self) -> PullReport {
        self.pull_with(PullOptions {
            full: true,
            ..PullOptions::default()
        })
        .await
    }

    /// GitHub's dependencies of the demo repository: (waiting, blocker) numbers.
    fn remote_deps(&self) -> Vec<(u64, u64)> {
        self.sim.with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").unwrap();
            let mut v: Vec<(u64, u64)> = r
                .blocked_by
                .iter()
                .flat_map(|(n, bs)| bs.iter().map(move |b| (*n, *b)))
                .collect();
            v.sort_unstable();
            v
        })
    }

    /// GitHub's sub-issues of the demo repository: (parent, child) numbers.
    fn remote_subs(&self) -> Vec<(u64, u64)> {
        self.sim.with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").unwrap();
            let mut v: Vec<(u64, u64)> = r
                .sub_issues
                .iter()
                .flat_map(|(p, cs)| cs.iter().map(move |c| (*p, *c)))
                .collect();
            v.sort_unstable();
            v
        })
    }

    fn remote_body(&self, n: u64) -> String {
        self.sim.with_world(|w| {
            let r = w.repos.values().find(|r| r.name == "demo").unwrap();
            r.issues[&n].body.clone().unwrap_or_default()
        })
    }

    fn state(&self) -> SyncState {
        SyncState::load(&self.store, "octo/demo").unwrap()
    }

    /// Every issue file's bytes, by path.
    fn bytes(&self) -> BTreeMap<std::path::PathBuf, Vec<u8>> {
        std::fs::read_dir(self.store.layout().kind_dir(Kind::Issue))
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let b = std::fs::read(&p).unwrap();
                (p, b)
            })
            .collect()
    }

    fn issue_no(&self, n: u64) -> Issue {
        self.local()[&n].clone()
    }
}

/// Database ids by number, through the client.
async fn ids(gh: &GitHub, numbers: &[u64]) -> BTreeMap<u64, u64> {
    let mut out = BTreeMap::new();
    for n in numbers {
        out.insert(*n, gh.get_issue(*n).await.unwrap().id);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_reads_relations_only_for_related_issues() {
    let p = project(plain(300)).await;
    let gh = p.client();
    // 15 dependencies among 30 issues (#2k waits for #2k-1), and 5 sub-issues of #100.
    let numbers: Vec<u64> = (1..=30).chain(100..=105).collect();
    let id = ids(&gh, &numbers).await;
    for k in 1..=15u64 {
        gh.add_blocked_by(2 * k, id[&(2 * k - 1)]).await.unwrap();
    }
    for c in 101..=105 {
        gh.add_sub_issue(100, id[&c], false).await.unwrap();
    }

    let r = p.pull().await;
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(r.relations, Some(RelationsMode::Native));
    // One list per side of each dependency, whatever the number of issues; the parents come
    // with the listing.
    assert_eq!(calls(&r, GET_BLOCKED_BY), 15);
    assert_eq!(calls(&r, GET_BLOCKING), 15);
    assert_eq!(calls(&r, GET_SUB_ISSUES), 0);
    let local = p.local();
    assert_eq!(local[&4].depends_on, ["#3"]);
    assert_eq!(local[&3].blocks, ["#4"]);
    assert!(local[&3].depends_on.is_empty() && local[&4].blocks.is_empty());
    assert_eq!(local[&103].parent.as_deref(), Some("#100"));
    assert_eq!(local[&100].parent, None);
    assert!(
        local
            .values()
            .filter(|i| i.number() > Some(30))
            .all(|i| i.depends_on.is_empty() && i.blocks.is_empty())
    );
    // The index sees them: each open #2k waits for an open #2k-1; #100's tree holds its five
    // sub-issues.
    let index = Index::open(&p.store).await.unwrap();
    let open = |n: u64| local[&n].status != Status::Done;
    let want: Vec<i64> = (1..=15u64)
        .filter(|k| open(2 * k) && open(2 * k - 1))
        .map(|k| 2 * k as i64)
        .collect();
    let mut got: Vec<i64> = index
        .blocked()
        .await
        .unwrap()
        .iter()
        .filter(|b| !b.blockers.is_empty())
        .filter_map(|b| b.issue.number)
        .collect();
    got.sort_unstable();
    assert_eq!(got, want);
    let tree = index.trees(Some("#100")).await.unwrap().unwrap();
    assert_eq!(tree[0].children.len(), 5);
    index.close().await;

    // Nothing changed: an incremental pull lists nothing and reads no relation.
    let r = p.pull().await;
    assert_eq!(calls(&r, GET_BLOCKED_BY) + calls(&r, GET_BLOCKING), 0);
    // A full pull reads them again, and changes no file.
    let before = p.bytes();
    let r = p.full_pull().await;
    assert_eq!(calls(&r, GET_BLOCKED_BY) + calls(&r, GET_BLOCKING), 30);
    assert_eq!(p.bytes(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relations_edited_here_travel_natively_and_come_back_unchanged() {
    let p = project(plain(12)).await;
    p.pull().await;
    assert_eq!(p.state().relations, Some(RelationsMode::Native));
    // #5 waits for #2 and for #3 (spelled as a local id would be: gh-3); #6 blocks #7;
    // #8 is a sub-issue of #9.
    p.edit(5, |i| i.depends_on = vec!["#2".into(), "gh-3".into()]);
    p.edit(6, |i| i.blocks = vec!["#7".into()]);
    p.edit(8, |i| i.parent = Some("#9".into()));
    // Two new issues, one waiting for the other, and a sub-issue of #9.
    p.new_issue("aa000001", |_| {});
    p.new_issue("aa000002", |i| {
        i.depends_on = vec!["aa000001".into()];
        i.parent = Some("#9".into());
    });
    let r = p.sync().await;
    assert!(r.push.failures.is_empty(), "{:?}", r.push.failures);
    let a1 = p.issue("aa000001").number().unwrap();
    let a2 = p.issue("aa000002").number().unwrap();
    let mut want = vec![(5, 2), (5, 3), (7, 6), (a2, a1)];
    want.sort_unstable();
    assert_eq!(p.remote_deps(), want);
    assert_eq!(p.remote_subs(), vec![(9, 8), (9, a2)]);
    // Natively only: no hidden block carries them.
    for n in [5, 6, 8, a2] {
        assert!(
            !p.remote_body(n).contains("depends_on"),
            "{}",
            p.remote_body(n)
        );
        assert!(!p.remote_body(n).contains("parent"), "{}", p.remote_body(n));
    }
    // Every file is in sync, in its own spelling.
    for f in p.store.load_all::<Issue>().unwrap().items {
        assert!(
            !roadmap_sync::map::locally_edited(f.item()),
            "{}",
            f.item().id
        );
    }
    assert_eq!(p.issue_no(5).depends_on, ["#2", "gh-3"]);
    assert_eq!(p.issue("aa000002").depends_on, ["aa000001"]);

    // Pulled again in full: the files of the edited issues keep their bytes; the other ends
    // learn the relation (#2 now blocks #5, #7 depends on #6).
    let edited: Vec<_> = [5u64, 6, 8]
        .iter()
        .map(|n| std::fs::read(p.store.path_of(Kind::Issue, &p.issue_no(*n).id)).unwrap())
        .collect();
    let r = p.full_pull().await;
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    let again: Vec<_> = [5u64, 6, 8]
        .iter()
        .map(|n| std::fs::read(p.store.path_of(Kind::Issue, &p.issue_no(*n).id)).unwrap())
        .collect();
    assert_eq!(again, edited);
    assert_eq!(p.issue_no(2).blocks, ["#5"]);
    assert_eq!(p.issue_no(7).depends_on, ["#6"]);

    // Removed here, from either end: #3 no longer blocks #5 (from #3's side is not enough,
    // #5 still says so: both ends), #6 no longer blocks #7 (from #7's side), #8 leaves #9.
    p.edit(5, |i| i.depends_on = vec!["#2".into()]);
    p.edit(7, |i| i.depends_on.clear());
    p.edit(8, |i| i.parent = None);
    let r = p.sync().await;
    assert!(r.push.failures.is_empty(), "{:?}", r.push.failures);
    let mut want = vec![(5, 2), (a2, a1)];
    want.sort_unstable();
    assert_eq!(p.remote_deps(), want);
    assert_eq!(p.remote_subs(), vec![(9, a2)]);
    p.full_pull().await;
    assert!(
        p.issue_no(6).blocks.is_empty(),
        "{:?}",
        p.issue_no(6).blocks
    );
    assert!(p.issue_no(3).blocks.is_empty());
    assert_eq!(p.issue_no(8).parent, None);
    for f in p.store.load_all::<Issue>().unwrap().items {
        assert!(
            !roadmap_sync::map::locally_edited(f.item()),
            "{}",
            f.item().id
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relation_that_cannot_be_sent_is_reported_and_stays_to_push() {
    let p = project(plain(6)).await;
    p.pull().await;
    // #999 is no issue; #2 is.
    p.edit(3, |i| i.depends_on = vec!["#2".into(), "#999".into()]);
    let r = p.sync().await;
    assert_eq!(p.remote_deps(), vec![(3, 2)], "the rest is sent");
    let f = &r.push.failures;
    assert!(
        f.len() == 1 && f[0].what.contains("#3") && f[0].reason.contains("#999"),
        "{f:?}"
    );
    // The file keeps both; only what was sent counts as synced.
    let three = p.issue_no(3);
    assert_eq!(three.depends_on, ["#2", "#999"]);
    assert!(roadmap_sync::map::locally_edited(&three));
    // A pull does not take it away.
    p.full_pull().await;
    assert_eq!(p.issue_no(3).depends_on, ["#2", "#999"]);
    // Mended, the next sync sends it and the file is in sync.
    p.edit(3, |i| i.depends_on = vec!["#2".into(), "#4".into()]);
    let r = p.sync().await;
    assert!(r.push.failures.is_empty(), "{:?}", r.push.failures);
    assert_eq!(p.remote_deps(), vec![(3, 2), (3, 4)]);
    assert!(!roadmap_sync::map::locally_edited(&p.issue_no(3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relations_edited_on_github_reach_the_files_and_local_edits_merge_with_them() {
    let p = project(plain(12)).await;
    p.pull().await;
    let gh = p.client();
    let id = ids(&gh, &[1, 2, 3, 4, 5, 6]).await;
    gh.add_blocked_by(2, id[&1]).await.unwrap();
    gh.add_sub_issue(6, id[&5], false).await.unwrap();
    // Meanwhile #2 gains a local dependency on #3 (not yet pushed).
    p.edit(2, |i| i.depends_on = vec!["#3".into()]);
    // A relation change does not move `updated_at`: a full pull sees it.
    let r = p.full_pull().await;
    assert!(r.conflicts.is_empty(), "{:?}", r.conflicts);
    let two = p.issue_no(2);
    let mut deps = two.depends_on.clone();
    deps.sort();
    assert_eq!(deps, ["#1", "#3"], "merged: GitHub's and ours");
    assert!(
        roadmap_sync::map::locally_edited(&two),
        "ours still to push"
    );
    assert_eq!(p.issue_no(5).parent.as_deref(), Some("#6"));
    // The push sends ours only.
    let r = p.sync().await;
    assert!(r.push.failures.is_empty(), "{:?}", r.push.failures);
    assert_eq!(p.remote_deps(), vec![(2, 1), (2, 3)]);
    // Removed on GitHub: gone from the files at the next full pull.
    gh.remove_blocked_by(2, id[&1]).await.unwrap();
    gh.remove_sub_issue(6, id[&5]).await.unwrap();
    p.full_pull().await;
    assert_eq!(p.issue_no(2).depends_on, ["#3"]);
    assert_eq!(p.issue_no(1).blocks, Vec::<String>::new());
    assert_eq!(p.issue_no(5).parent, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_without_relations_keeps_them_in_the_hidden_block() {
    let wire = Wire {
        relations: false,
        ..Wire::github()
    };
    let p = project_on(plain(6), wire).await;
    let r = p.pull().await;
    assert_eq!(r.relations, Some(RelationsMode::Hidden));
    assert_eq!(
        calls(&r, GET_BLOCKED_BY) + calls(&r, GET_BLOCKING) + calls(&r, GET_SUB_ISSUES),
        0
    );
    p.edit(2, |i| {
        i.depends_on = vec!["#1".into()];
        i.parent = Some("#3".into());
    });
    let r = p.sync().await;
    assert!(r.push.failures.is_empty(), "{:?}", r.push.failures);
    assert!(
        p.remote_body(2)
            .ends_with("<!-- roadmap: {\"depends_on\":[\"#1\"],\"parent\":\"#3\"} -->\n"),
        "{:?}",
        p.remote_body(2)
    );
    assert_eq!(p.remote_deps(), Vec::new());
    let before = p.bytes();
    p.full_pull().await;
    assert_eq!(p.bytes(), before, "a round trip changes nothing");
    assert_eq!(p.issue_no(2).depends_on, ["#1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_parent_urls_a_pull_keeps_the_parent_it_last_synced() {
    let wire = Wire {
        parent_urls: false,
        ..Wire::github()
    };
    let p = project_on(plain(6), wire).await;
    p.pull().await;
    p.edit(2, |i| i.parent = Some("#1".into()));
    let r = p.sync().await;
    assert!(r.push.failures.is_empty(), "{:?}", r.push.failures);
    assert_eq!(p.remote_subs(), vec![(1, 2)]);
    // The listing does not say #2's parent: the file keeps it, and no request asks.
    let r = p.full_pull().await;
    assert_eq!(calls(&r, GET_SUB_ISSUES), 0);
    assert_eq!(p.issue_no(2).parent.as_deref(), Some("#1"));
    assert!(!roadmap_sync::map::locally_edited(&p.issue_no(2)));
    p.edit(2, |i| i.parent = None);
    p.sync().await;
    assert_eq!(p.remote_subs(), Vec::new());
    p.full_pull().await;
    assert_eq!(p.issue_no(2).parent, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_blocks_from_before_are_migrated_by_the_next_push() {
    let p = project(plain(6)).await;
    let gh = p.client();
    // #4's body as an older roadmap wrote it: relations in the hidden block.
    let legacy = "Text.\n<!-- roadmap: {\"estimate\":2.0,\"depends_on\":[\"#1\"],\"blocks\":[\"#5\"],\"parent\":\"#6\"} -->\n";
    gh.update_issue(
        4,
        IssuePatch {
            body: Some(legacy.into()),
            ..IssuePatch::default()
        },
    )
    .await
    .unwrap();
    // The pull takes them (nothing is lost while GitHub's own lists are empty).
    p.pull().await;
    let four = p.issue_no(4);
    assert_eq!(four.depends_on, ["#1"]);
    assert_eq!(four.blocks, ["#5"]);
    assert_eq!(four.parent.as_deref(), Some("#6"));
    assert!(four.remote.as_ref().unwrap().legacy_relations);
    // The push writes them natively, then the body without them (the estimate stays).
    let r = p.sync().await;
    assert!(r.push.failures.is_empty(), "{:?}", r.push.failures);
    assert_eq!(p.remote_deps(), vec![(4, 1), (5, 4)]);
    assert_eq!(p.remote_subs(), vec![(6, 4)]);
    assert_eq!(
        p.remote_body(4),
        "Text.\n<!-- roadmap: {\"estimate\":2.0} -->\n"
    );
    let four = p.issue_no(4);
    assert!(!four.remote.as_ref().unwrap().legacy_relations);
    assert!(!roadmap_sync::map::locally_edited(&four));
    // And they come back from GitHub's lists.
    p.full_pull().await;
    let four = p.issue_no(4);
    assert_eq!(
        (four.depends_on, four.blocks, four.parent, four.estimate),
        (
            vec!["#1".to_owned()],
            vec!["#5".to_owned()],
            Some("#6".to_owned()),
            Some(2.0)
        )
    );
}

/// GitHub with the relation endpoints turned off (the `Tracker` defaults: 404), while its
/// issues still carry the summaries.
struct NoRelationEndpoints<'a>(&'a GitHub);

impl Tracker for NoRelationEndpoints<'_> {
    fn full_name(&self) -> &str {
        self.0.full_name()
    }
    fn list_issues(
        &self,
        opts: roadmap_model::ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteIssue>, TrackerError>> {
        self.0.list_issues(opts)
    }
    fn list_milestones(&self) -> BoxStream<'_, Result<Page<RemoteMilestone>, TrackerError>> {
        self.0.list_milestones()
    }
    fn list_labels(&self) -> BoxStream<'_, Result<Page<RemoteLabel>, TrackerError>> {
        self.0.list_labels()
    }
    fn list_comments(
        &self,
        opts: roadmap_model::ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteComment>, TrackerError>> {
        self.0.list_comments(opts)
    }
    fn get_issue(&self, number: u64) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        self.0.get_issue(number)
    }
    fn create_issue(&self, issue: NewIssue) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        self.0.create_issue(issue)
    }
    fn update_issue(
        &self,
        number: u64,
        patch: IssuePatch,
    ) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        self.0.update_issue(number, patch)
    }
    fn create_milestone(
        &self,
        m: NewMilestone,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>> {
        self.0.create_milestone(m)
    }
    fn update_milestone(
        &self,
        number: u64,
        patch: roadmap_model::MilestonePatch,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>> {
        self.0.update_milestone(number, patch)
    }
    fn create_label(&self, label: NewLabel) -> BoxFuture<'_, Result<RemoteLabel, TrackerError>> {
        self.0.create_label(label)
    }
    fn create_comment(
        &self,
        n: u64,
        c: NewComment,
    ) -> BoxFuture<'_, Result<RemoteComment, TrackerError>> {
        self.0.create_comment(n, c)
    }
    fn metrics(&self) -> TrackerMetrics {
        self.0.metrics()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relation_endpoints_that_answer_404_switch_to_the_hidden_block() {
    let p = project(plain(6)).await;
    let gh = p.client();
    let id = ids(&gh, &[1]).await;
    gh.add_blocked_by(2, id[&1]).await.unwrap();
    let off = NoRelationEndpoints(&gh);
    let index = Index::open(&p.store).await.unwrap();
    let r = pull(&off, &index, &PullOptions::default(), &|_| {})
        .await
        .unwrap();
    // The relations of #1 and #2 could not be read: reported, left for the next run; the rest
    // is pulled.
    assert_eq!(r.relations, Some(RelationsMode::Unavailable));
    let mut failed: Vec<&str> = r.failures.iter().map(|f| f.what.as_str()).collect();
    failed.sort_unstable();
    assert_eq!(failed, ["issue #1", "issue #2"], "{:?}", r.failures);
    assert_eq!(p.local().len(), 4);
    // Remembered: the next run reads no relation and takes #2 as its body says.
    let r = roadmap_sync::sync(
        &off,
        &index,
        &PullOptions::default(),
        &PushOptions::default(),
        &|_| {},
    )
    .await
    .unwrap();
    assert!(r.pull.failures.is_empty(), "{:?}", r.pull.failures);
    assert_eq!(p.local().len(), 6);
    p.edit(3, |i| i.depends_on = vec!["#1".into()]);
    let r = roadmap_sync::sync(
        &off,
        &index,
        &PullOptions::default(),
        &PushOptions::default(),
        &|_| {},
    )
    .await
    .unwrap();
    index.close().await;
    assert!(r.push.failures.is_empty(), "{:?}", r.push.failures);
    assert!(
        p.remote_body(3)
            .trim_end()
            .ends_with("<!-- roadmap: {\"depends_on\":[\"#1\"]} -->"),
        "{:?}",
        p.remote_body(3)
    );
    assert_eq!(p.state().relations, Some(RelationsMode::Unavailable));
}
