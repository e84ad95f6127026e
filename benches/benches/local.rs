//! Criterion micro-benchmarks of the local hot paths: front matter parse and render, an index
//! batch insert, a filtered query, and the roadmap report of 10,000 issues.

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use roadmap_index::{Index, IssueQuery, StatusFilter, collect_rows};
use roadmap_model::{Issue, ItemId, Milestone, Priority, RemoteRef, Status, Timestamp};
use roadmap_report::Report;
use roadmap_store::{Document, Store};

fn sample(i: usize) -> Issue {
    let mut issue = Issue::new(
        ItemId::for_remote_issue(i as u64),
        format!("Crash when {i} windows are open"),
    );
    issue.status = Status::ALL[i % 5];
    issue.priority = Priority::ALL[i % 4];
    issue.labels = vec!["bug".into(), "area: ui".into()];
    issue.assignees = vec![["alice", "bob", "carol"][i % 3].into()];
    issue.milestone = Some(format!("v1.{}", i % 10));
    issue.created = Timestamp::from_unix(1_700_000_000 + i as i64);
    issue.body = "## Steps\n\n1. open\n2. crash\n".repeat(4);
    issue
}

fn front_matter(c: &mut Criterion) {
    let text = Document::new(sample(7), sample(7).body).render();
    c.bench_function("front matter: parse", |b| {
        b.iter(|| Document::<Issue>::parse(std::hint::black_box(&text)).unwrap())
    });
    let doc = Document::<Issue>::parse(&text).unwrap();
    c.bench_function("front matter: render unchanged", |b| {
        b.iter(|| std::hint::black_box(&doc).render())
    });
    c.bench_function("front matter: render after one change", |b| {
        b.iter_batched(
            || {
                let mut d = doc.clone();
                d.value.status = Status::Done;
                d
            },
            |d| d.render(),
            BatchSize::SmallInput,
        )
    });
}

fn index(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), "").unwrap();
    let files: Vec<_> = (0..2000)
        .map(|i| store.create(sample(i)).unwrap())
        .collect();
    let index = rt.block_on(Index::open(&store)).unwrap();
    c.bench_function("index: upsert a batch of 50 issues", |b| {
        let mut k = 0;
        b.iter(|| {
            let batch = &files[(k * 50) % 1950..(k * 50) % 1950 + 50];
            k += 1;
            rt.block_on(index.upsert_issues(batch)).unwrap();
        })
    });
    let q = IssueQuery {
        status: vec![StatusFilter::Open],
        assignee: Some("alice".into()),
        ..IssueQuery::default()
    };
    c.bench_function(
        "index: list open issues of one assignee (2,000 issues)",
        |b| b.iter(|| rt.block_on(collect_rows(index.list_issues(&q))).unwrap()),
    );
    c.bench_function("index: full-text search (2,000 issues)", |b| {
        b.iter(|| rt.block_on(index.search("crash windows", 20)).unwrap())
    });
    c.bench_function("index: reconcile, nothing changed (2,000 files)", |b| {
        b.iter(|| rt.block_on(index.reconcile()).unwrap())
    });
}

/// The report of a 10,000-issue project: 20 milestones with due dates, 300 issues in
/// dependency chains, 30 epics with 10 sub-issues each, a third of the issues done.
fn report(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), "").unwrap();
    for m in 0..20 {
        let mut ms = Milestone::new(ItemId::new(format!("m{m}")).unwrap(), format!("v1.{m}"));
        ms.due = Timestamp::from_unix(1_700_000_000 + 86_400 * (30 + m));
        store.create(ms).unwrap();
    }
    for i in 1..=10_000usize {
        let mut issue = sample(i);
        issue.milestone = Some(format!("v1.{}", i % 20));
        issue.remote = Some(RemoteRef {
            number: i as u64,
            ..RemoteRef::default()
        });
        if issue.status == Status::Done {
            issue.closed = Timestamp::from_unix(1_700_000_000 + 300 * i as i64);
        }
        if i <= 300 && i % 10 != 1 {
            // Chains of ten: each waits for the one before it.
            issue.depends_on = vec![format!("#{}", i - 1)];
        }
        if (1001..1331).contains(&i) && i % 11 != 0 {
            issue.parent = Some(format!("#{}", i - i % 11));
        }
        store.create(issue).unwrap();
    }
    let index = rt.block_on(Index::open(&store)).unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2023, 12, 1).unwrap();
    c.bench_function("report: read from the index (10,000 issues)", |b| {
        b.iter(|| rt.block_on(Report::load(&index, "bench", today)).unwrap())
    });
    let r = rt.block_on(Report::load(&index, "bench", today)).unwrap();
    assert!(r.graph.nodes.len() > 100 && r.trees.len() == 30 && r.issues.len() == 10_000);
    c.bench_function("report: render HTML (10,000 issues)", |b| {
        b.iter(|| std::hint::black_box(&r).html())
    });
    c.bench_function("report: render Markdown (10,000 issues)", |b| {
        b.iter(|| std::hint::black_box(&r).markdown())
    });
}

criterion_group!(benches, front_matter, index, report);
criterion_main!(benches);
