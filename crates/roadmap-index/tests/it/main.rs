//! Integration tests of the index through its public API, against real files.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod deps;

use std::collections::BTreeSet;

use proptest::prelude::*;
use roadmap_index::{Index, IssueQuery, SortKey, StatusFilter, collect_rows, scan_issues};
use roadmap_model::{Issue, ItemId, Priority, Status};
use roadmap_store::{Kind, Store};

fn project() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), "").unwrap();
    (dir, store)
}

const LOGINS: &[&str] = &["alice", "bob", "carol"];
const LABELS: &[&str] = &["bug", "ui", "perf", "Docs"];
const MILESTONES: &[&str] = &["v1", "v2"];
const WORDS: &[&str] = &["login", "crash", "render", "slow", "button", "cache"];

/// A deterministic tree of `n` issues spread over every filter value.
fn populate(store: &Store, n: usize) {
    for i in 0..n {
        let mut issue = Issue::new(
            ItemId::new(format!("i{i:04}")).unwrap(),
            format!("{} issue {i}", WORDS[i % WORDS.len()]),
        );
        issue.status = Status::ALL[i % Status::ALL.len()];
        issue.priority = Priority::ALL[(i / 3) % Priority::ALL.len()];
        issue.assignees = (0..(i % 3))
            .map(|k| LOGINS[(i + k) % LOGINS.len()].to_owned())
            .collect();
        issue.labels = (0..(i % 4))
            .map(|k| LABELS[(i * 7 + k) % LABELS.len()].to_owned())
            .collect();
        issue.labels.dedup();
        issue.milestone = (i % 5 != 0).then(|| MILESTONES[i % 2].to_owned());
        issue.body = format!("Body mentions {}.\n", WORDS[(i * 5) % WORDS.len()]);
        store.create(issue).unwrap();
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn ids(rows: &[roadmap_index::IssueRow]) -> Vec<String> {
    rows.iter().map(|r| r.id.clone()).collect()
}

fn query_strategy() -> impl Strategy<Value = IssueQuery> {
    let status = prop_oneof![
        Just(StatusFilter::Open),
        Just(StatusFilter::Closed),
        prop::sample::select(Status::ALL.to_vec()).prop_map(StatusFilter::Is),
    ];
    (
        prop::collection::vec(status, 0..3),
        prop::option::of(prop::sample::select(Priority::ALL.to_vec())),
        prop::option::of(prop::sample::select(vec![
            "alice", "BOB", "carol", "nobody",
        ])),
        prop::option::of(prop::sample::select(vec!["v1", "v2", "v3"])),
        prop::collection::vec(
            prop::sample::select(vec!["bug", "UI", "perf", "docs"]),
            0..3,
        ),
        prop::sample::select(vec![SortKey::Id, SortKey::Priority, SortKey::Title]),
        prop::option::of(1u64..30),
    )
        .prop_map(
            |(status, priority, assignee, milestone, labels, sort, limit)| IssueQuery {
                status,
                priority,
                assignee: assignee.map(str::to_owned),
                milestone: milestone.map(str::to_owned),
                labels: labels.into_iter().map(str::to_owned).collect(),
                text: None,
                sort,
                limit,
            },
        )
}

#[test]
fn index_answers_equal_a_plain_scan_for_many_filters() {
    let (_d, store) = project();
    populate(&store, 240);
    let rt = rt();
    let index = rt.block_on(Index::open(&store)).unwrap();
    let report = index.opened().clone();
    assert_eq!(report.updated, 240);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(200));
    runner
        .run(&query_strategy(), |q| {
            let from_index = rt.block_on(collect_rows(index.list_issues(&q))).unwrap();
            let (from_scan, skipped) = scan_issues(&store, &q).unwrap();
            assert!(skipped.is_empty());
            prop_assert_eq!(ids(&from_index), ids(&from_scan), "{:?}", q);
            prop_assert_eq!(from_index, from_scan);
            Ok(())
        })
        .unwrap();
}

#[test]
fn full_text_search_finds_words_in_title_and_body() {
    let (_d, store) = project();
    populate(&store, 60);
    let rt = rt();
    let index = rt.block_on(Index::open(&store)).unwrap();
    for word in WORDS {
        let q = IssueQuery {
            text: Some((*word).to_owned()),
            ..IssueQuery::default()
        };
        let got: BTreeSet<String> = ids(&rt.block_on(collect_rows(index.list_issues(&q))).unwrap())
            .into_iter()
            .collect();
        let want: BTreeSet<String> = ids(&scan_issues(&store, &q).unwrap().0)
            .into_iter()
            .collect();
        assert_eq!(got, want, "{word}");
        assert!(!got.is_empty());
        let hits = rt.block_on(index.search(word, 100)).unwrap();
        assert_eq!(hits.len(), got.len());
        assert!(hits.iter().all(|h| h.snippet.to_lowercase().contains(word)));
    }
    // FTS syntax in user text is treated as words, never as an error.
    assert!(rt.block_on(index.search("\"AND OR* NEAR(", 10)).is_ok());
}

#[test]
fn search_matches_word_prefixes_and_cjk_substrings() {
    let (_d, store) = project();
    let make = |id: &str, title: &str, body: &str| {
        let mut i = Issue::new(ItemId::new(id).unwrap(), title);
        i.body = body.to_owned();
        store.create(i).unwrap();
    };
    make("0000aaa1", "Login crashes on Safari", "");
    make("0000aaa2", "修复登录崩溃", "用户无法登录系统");
    make("0000aaa3", "ログイン画面が表示されない", "");
    make("0000aaa4", "Catalog export", "the catalogue is slow");
    let rt = rt();
    let index = rt.block_on(Index::open(&store)).unwrap();
    let found = |text: &str| -> Vec<String> {
        let q = IssueQuery {
            text: Some(text.to_owned()),
            ..IssueQuery::default()
        };
        let mut listed = ids(&rt.block_on(collect_rows(index.list_issues(&q))).unwrap());
        let mut searched: Vec<String> = rt
            .block_on(index.search(text, 10))
            .unwrap()
            .into_iter()
            .map(|h| h.row.id)
            .collect();
        listed.sort();
        searched.sort();
        assert_eq!(listed, searched, "list and search agree on {text:?}");
        listed
    };
    // A prefix finds the word; not the middle of another word.
    assert_eq!(found("log"), ["0000aaa1"]);
    assert_eq!(found("crash"), ["0000aaa1"]);
    // CJK: a word inside a run of characters, in the title or the body, two or more characters.
    assert_eq!(found("登录"), ["0000aaa2"]);
    assert_eq!(found("崩溃"), ["0000aaa2"]);
    assert_eq!(found("无法登录"), ["0000aaa2"]);
    assert_eq!(found("ログイン"), ["0000aaa3"]);
    assert!(found("登录 safari").is_empty(), "every word must match");
    assert_eq!(found("catalog"), ["0000aaa4"]);
    let hit = rt.block_on(index.search("登录", 1)).unwrap();
    assert!(hit[0].snippet.contains("[登录]"), "{:?}", hit[0].snippet);
}

#[test]
fn reconcile_sees_external_edits_adds_and_deletes() {
    let (_d, store) = project();
    populate(&store, 30);
    let rt = rt();
    let index = rt.block_on(Index::open(&store)).unwrap();
    let dir = store.layout().kind_dir(Kind::Issue);
    // Edit by hand (different size), delete one, add one.
    let p = dir.join("i0003.md");
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("status: done", "status: blocked");
    let text = text.replace("title: ", "title: edited ");
    std::fs::write(&p, text).unwrap();
    std::fs::remove_file(dir.join("i0004.md")).unwrap();
    std::fs::write(
        dir.join("new1.md"),
        "---\nid: new1\ntitle: brand new\nassignees: [zed]\n---\n",
    )
    .unwrap();
    let report = rt.block_on(index.reconcile()).unwrap();
    assert_eq!(
        (report.updated, report.removed, report.unchanged),
        (2, 1, 28)
    );
    let all = rt
        .block_on(collect_rows(index.list_issues(&IssueQuery::default())))
        .unwrap();
    assert_eq!(all.len(), 30);
    assert!(all.iter().any(|r| r.id == "new1"));
    assert!(!all.iter().any(|r| r.id == "i0004"));
    let q = IssueQuery {
        assignee: Some("zed".into()),
        ..IssueQuery::default()
    };
    assert_eq!(
        ids(&rt.block_on(collect_rows(index.list_issues(&q))).unwrap()),
        vec!["new1"]
    );
    let edited = all.iter().find(|r| r.id == "i0003").unwrap();
    assert!(edited.title.starts_with("edited"));
    // Nothing changed: nothing read.
    let again = rt.block_on(index.reconcile()).unwrap();
    assert_eq!((again.updated, again.removed), (0, 0));
}

#[test]
fn bad_files_are_skipped_and_reported_until_fixed() {
    let (_d, store) = project();
    populate(&store, 5);
    let dir = store.layout().kind_dir(Kind::Issue);
    std::fs::write(
        dir.join("bad.md"),
        "---\nid: bad\ntitle: x\nstatus: wip\n---\n",
    )
    .unwrap();
    let rt = rt();
    let index = rt.block_on(Index::open(&store)).unwrap();
    let report = index.opened().clone();
    assert_eq!(report.skipped.len(), 1);
    assert!(
        report.skipped[0].contains("bad.md:4:") && report.skipped[0].contains("wip"),
        "{:?}",
        report.skipped
    );
    let again = rt.block_on(index.reconcile()).unwrap();
    assert_eq!(again.skipped.len(), 1, "still reported while unfixed");
    std::fs::write(
        dir.join("bad.md"),
        "---\nid: bad\ntitle: x\nstatus: blocked\n---\n",
    )
    .unwrap();
    let fixed = rt.block_on(index.reconcile()).unwrap();
    assert!(fixed.skipped.is_empty());
    assert_eq!(rt.block_on(index.counts()).unwrap().issues, 6);
}

#[test]
fn duplicate_ids_differing_in_case_are_reported() {
    let (_d, store) = project();
    let dir = store.layout().kind_dir(Kind::Issue);
    std::fs::write(dir.join("abc.md"), "---\nid: abc\ntitle: one\n---\n").unwrap();
    std::fs::write(dir.join("ABC.md"), "---\nid: ABC\ntitle: two\n---\n").unwrap();
    let rt = rt();
    let _index = rt.block_on(Index::open(&store)).unwrap();
    let report = _index.opened().clone();
    assert_eq!(report.skipped.len(), 1, "{:?}", report.skipped);
    assert!(report.skipped[0].contains("duplicate id"));
}

#[test]
fn a_corrupt_truncated_or_old_index_is_rebuilt_from_the_files() {
    let (_d, store) = project();
    populate(&store, 25);
    let rt = rt();
    let db = store.layout().index();
    let count = |store: &Store| {
        let index = rt.block_on(Index::open(store)).unwrap();
        let report = index.opened().clone();
        let n = rt.block_on(index.counts()).unwrap().issues;
        rt.block_on(index.close());
        (n, report)
    };
    assert_eq!(count(&store).0, 25);

    // Garbage over the file.
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    std::fs::write(&db, b"this is not a database at all, not even close.......").unwrap();
    let (n, report) = count(&store);
    assert_eq!(n, 25);
    assert!(report.rebuilt, "{report:?}");

    // Truncated.
    let len = std::fs::metadata(&db).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 3)
        .unwrap();
    assert_eq!(count(&store).0, 25);

    // Deleted.
    std::fs::remove_file(&db).unwrap();
    assert_eq!(count(&store).0, 25);

    // An older schema version.
    rt.block_on(async {
        let index = Index::open(&store).await.unwrap();
        index.close().await;
        let pool = sqlx_pool(&db).await;
        sqlx_exec(
            &pool,
            "PRAGMA user_version = 0; DROP TABLE issues_fts; PRAGMA user_version = 99;",
        )
        .await;
    });
    let (n, report) = count(&store);
    assert_eq!(n, 25);
    assert!(
        report
            .rebuild_reason
            .unwrap_or_default()
            .contains("schema version 99")
    );
}

async fn sqlx_pool(db: &std::path::Path) -> sqlx_lite::Pool {
    sqlx_lite::Pool::connect(db).await
}
async fn sqlx_exec(pool: &sqlx_lite::Pool, sql: &'static str) {
    pool.exec(sql).await;
}

/// A tiny raw-SQLite helper so the test can damage the schema like an old version would.
mod sqlx_lite {
    pub struct Pool(sqlx::SqlitePool);
    impl Pool {
        pub async fn connect(db: &std::path::Path) -> Self {
            let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
            Pool(sqlx::SqlitePool::connect_with(opts).await.unwrap())
        }
        pub async fn exec(&self, sql: &'static str) {
            sqlx::raw_sql(sql).execute(&self.0).await.unwrap();
            self.0.close().await;
        }
    }
}

#[test]
fn the_watcher_keeps_the_index_in_step_with_edits() {
    let (_d, store) = project();
    populate(&store, 3);
    let rt = rt();
    rt.block_on(async {
        let index = Index::open(&store).await.unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let _w = roadmap_index::IndexWatcher::start(
            store.clone(),
            std::time::Duration::from_millis(50),
            tx,
        )
        .unwrap();
        let dir = store.layout().kind_dir(Kind::Issue);
        std::fs::write(dir.join("w1.md"), "---\nid: w1\ntitle: watched\n---\n").unwrap();
        let q = IssueQuery {
            text: Some("watched".into()),
            ..IssueQuery::default()
        };
        // The write is a create and then its bytes: under load the watcher may reconcile the
        // empty file first and the full one on the next event. Wait for events until the
        // index has it; the bound is for liveness only (not a performance assertion).
        let mut events = 0;
        let found = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                // An event, or a look every 100 ms in case the event came before the rows.
                if let Ok(ev) =
                    tokio::time::timeout(std::time::Duration::from_millis(100), rx.recv()).await
                {
                    match ev.expect("the watcher runs") {
                        roadmap_index::WatchEvent::Reconciled(_) => events += 1,
                        other => panic!("{other:?}"),
                    }
                }
                let rows = collect_rows(index.list_issues(&q)).await.unwrap();
                if !rows.is_empty() {
                    break ids(&rows);
                }
            }
        })
        .await
        .expect("the index gets the new file");
        assert_eq!(found, vec!["w1"]);
        if events == 0 {
            // The rows came first; the watcher still says it caught up.
            let ev = tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
                .await
                .expect("a reconcile event")
                .unwrap();
            assert!(
                matches!(ev, roadmap_index::WatchEvent::Reconciled(_)),
                "{ev:?}"
            );
        }
    });
}
