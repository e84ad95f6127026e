//! The report through its public API, on real files and a real index: what it shows for a
//! small plan, that the burn-up the index groups agrees with a plain count over the files,
//! and that hostile titles, labels and milestone names stay text in HTML and in Mermaid.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use chrono::NaiveDate;
use proptest::prelude::*;
use roadmap_index::Index;
use roadmap_model::{Issue, ItemId, Milestone, MilestoneState, RemoteRef, Status, Timestamp};
use roadmap_report::Report;
use roadmap_store::Store;

fn project() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::init(dir.path(), "").unwrap();
    (dir, store)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
}

fn milestone(store: &Store, id: &str, title: &str, due: Option<&str>, state: MilestoneState) {
    let mut m = Milestone::new(ItemId::new(id).unwrap(), title);
    m.due = due.map(ts);
    m.state = state;
    store.create(m).unwrap();
}

struct Spec<'a> {
    id: &'a str,
    number: Option<u64>,
    title: &'a str,
    milestone: Option<&'a str>,
    status: Status,
    depends_on: &'a [&'a str],
    parent: Option<&'a str>,
    estimate: Option<f64>,
    created: &'a str,
    closed: Option<&'a str>,
}

fn issue(store: &Store, s: Spec<'_>) {
    let mut i = Issue::new(ItemId::new(s.id).unwrap(), s.title);
    i.status = s.status;
    i.milestone = s.milestone.map(str::to_owned);
    i.depends_on = s.depends_on.iter().map(|d| (*d).to_owned()).collect();
    i.parent = s.parent.map(str::to_owned);
    i.estimate = s.estimate;
    i.created = Some(ts(s.created));
    i.closed = s.closed.map(ts);
    i.labels = vec!["Priority: High".into()];
    i.assignees = vec!["alice".into()];
    if let Some(n) = s.number {
        i.remote = Some(RemoteRef {
            number: n,
            ..RemoteRef::default()
        });
    }
    store.create(i).unwrap();
}

/// An epic (#1) in v1 with four sub-issues: #3 waits for #2, #4 for #3, #5 for #2; #6 is
/// done. v1 is overdue on 2026-12-02; v2 is due later; "Later" has no due date.
fn plan(store: &Store) {
    milestone(
        store,
        "m1",
        "v1",
        Some("2026-11-20T00:00:00Z"),
        MilestoneState::Open,
    );
    milestone(
        store,
        "m2",
        "v2",
        Some("2026-12-20T00:00:00Z"),
        MilestoneState::Open,
    );
    milestone(store, "m3", "Later", None, MilestoneState::Open);
    let base = Spec {
        id: "",
        number: None,
        title: "",
        milestone: Some("v1"),
        status: Status::Todo,
        depends_on: &[],
        parent: Some("#1"),
        estimate: None,
        created: "2026-11-01T10:00:00Z",
        closed: None,
    };
    issue(
        store,
        Spec {
            id: "epic",
            number: Some(1),
            title: "The epic",
            parent: None,
            ..base
        },
    );
    issue(
        store,
        Spec {
            id: "a",
            number: Some(2),
            title: "Schema",
            estimate: Some(3.0),
            ..base
        },
    );
    issue(
        store,
        Spec {
            id: "b",
            number: Some(3),
            title: "Writer",
            depends_on: &["#2"],
            estimate: Some(5.0),
            ..base
        },
    );
    issue(
        store,
        Spec {
            id: "c",
            number: Some(4),
            title: "Reader",
            depends_on: &["B"],
            created: "2026-11-03T09:00:00Z",
            ..base
        },
    );
    issue(
        store,
        Spec {
            id: "d",
            number: Some(5),
            title: "Docs",
            depends_on: &["a"],
            milestone: Some("v2"),
            parent: None,
            ..base
        },
    );
    issue(
        store,
        Spec {
            id: "e",
            number: Some(6),
            title: "Spike",
            status: Status::Done,
            created: "2026-11-02T08:00:00Z",
            closed: Some("2026-11-05T12:00:00Z"),
            ..base
        },
    );
}

fn load(store: &Store) -> Report {
    rt().block_on(async {
        let index = Index::open(store).await.unwrap();
        let r = Report::load(&index, "acme/widgets", today()).await.unwrap();
        index.close().await;
        r
    })
}

#[test]
fn a_plan_shows_its_milestones_graph_critical_path_trees_and_burnup() {
    let (_d, store) = project();
    plan(&store);
    let r = load(&store);

    // The dependency graph of open work: #2, #3, #4, #5 (the epic and the done spike wait
    // for nothing and hold nothing up).
    let nodes: Vec<_> = r
        .graph
        .nodes
        .iter()
        .map(|n| n.row.number.unwrap())
        .collect();
    assert_eq!(nodes, vec![2, 3, 4, 5]);
    assert_eq!(r.graph.edges.len(), 3);
    // The critical path: #2 (3 h) → #3 (5 h) → #4 (1: no estimate) outweighs #2 → #5.
    let l = roadmap_report::layout(r.graph.nodes.len(), &r.graph.edges, |i| {
        r.graph.nodes[i].estimate.unwrap_or(1.0)
    });
    let path: Vec<_> = l
        .critical
        .iter()
        .map(|i| r.graph.nodes[*i].row.number.unwrap())
        .collect();
    assert_eq!(path, vec![2, 3, 4]);

    // The burn-up, grouped by the index: v1 gained 4 issues on 11-01 (the epic, #2, #3, and
    // #6 on 11-02), #4 on 11-03; #6 was closed on 11-05.
    let v1: Vec<_> = r
        .burnup
        .iter()
        .filter(|d| d.milestone == "v1")
        .map(|d| (d.day.as_str(), d.opened, d.closed))
        .collect();
    assert_eq!(
        v1,
        vec![
            ("2026-11-01", 3, 0),
            ("2026-11-02", 1, 0),
            ("2026-11-03", 1, 0),
            ("2026-11-05", 0, 1)
        ]
    );

    let html = r.html();
    for want in [
        "<title>Roadmap: acme/widgets</title>",
        // Milestones, in due order, v1 overdue.
        r#"<g class="milestone overdue" data-m="v1">"#,
        r#"data-m="v2""#,
        r#"data-m="Later""#,
        // The graph's nodes, the critical ones marked.
        r#"<g class="node crit st-todo""#,
        "Critical path (3 issues): #2 → #3 → #4.",
        // The sub-issue tree with its progress.
        "The epic",
        "1/4 done",
        // Filters offer every label and assignee.
        r#"<option value="Priority: High">"#,
        r#"<option value="alice">"#,
    ] {
        assert!(html.contains(want), "the HTML lacks {want:?}");
    }
    assert_eq!(html.matches("<script>").count(), 1);
    assert!(!html.contains(" src="), "nothing is loaded from elsewhere");

    let md = r.markdown();
    for want in [
        "# Roadmap: acme/widgets",
        "| v1 | 2026-11-20 | open | 1/5 | **overdue** |",
        "```mermaid\ngantt\n",
        "    v1 (1/5) :crit, m0, 2026-11-01, 2026-11-20",
        "    v2 (0/1) :active, m1, 2026-11-01, 2026-12-20",
        "```mermaid\ngraph LR\n",
        "    n0 ==> n1",
        "    n0 --> n3",
        "    class n0,n1,n2 crit",
        "- [ ] #1 The epic (1/4 done)\n  - [ ] #2 Schema\n",
        "  - [x] #6 Spike\n",
    ] {
        assert!(md.contains(want), "the Markdown lacks {want:?}:\n{md}");
    }
    // Pure: the same report renders the same bytes.
    assert_eq!(html, r.html());
    assert_eq!(md, r.markdown());
}

#[test]
fn an_empty_project_renders_without_sections_failing() {
    let (_d, store) = project();
    let r = load(&store);
    let html = r.html();
    assert!(html.contains("No milestones."));
    assert!(html.contains("No open issue waits for another."));
    assert!(html.contains("No issue has sub-issues."));
    let md = r.markdown();
    assert!(!md.contains("```mermaid"), "{md}");
}

#[test]
fn a_cycle_is_drawn_marked_and_has_no_critical_path_through_it() {
    let (_d, store) = project();
    let base = Spec {
        id: "",
        number: None,
        title: "t",
        milestone: None,
        status: Status::Todo,
        depends_on: &[],
        parent: None,
        estimate: None,
        created: "2026-11-01T00:00:00Z",
        closed: None,
    };
    issue(
        &store,
        Spec {
            id: "x",
            depends_on: &["y"],
            ..base
        },
    );
    issue(
        &store,
        Spec {
            id: "y",
            depends_on: &["x"],
            ..base
        },
    );
    let r = load(&store);
    let html = r.html();
    assert!(html.contains("2 issues wait on a cycle"), "{html}");
    assert_eq!(html.matches(r#"class="node cycle st-todo""#).count(), 2);
    assert!(!html.contains("Critical path"));
}

/// Any text, with the characters HTML, Markdown and Mermaid give meaning to.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z<>&\"'`#:;|\\[\\](){}\n\r ]{1,24}",
        Just("</script><script>alert(1)</script>".to_owned()),
        Just("\"]; click n0 call alert(1); %%".to_owned()),
        Just("a --> b\nclassDef x fill:#f00".to_owned()),
        any::<String>().prop_filter("non-empty", |s| !s.trim().is_empty()),
    ]
}

/// A project of two issues (the second waits for and is part of the first) whose title,
/// label, assignee and milestone are the texts given, and its report.
fn hostile_project(title: &str, label: &str, ms: &str) -> (tempfile::TempDir, Report) {
    let (d, store) = project();
    let mut m = Milestone::new(ItemId::new("m1").unwrap(), ms.to_owned());
    m.due = Some(ts("2026-12-24T00:00:00Z"));
    store.create(m).unwrap();
    for (id, dep) in [("h1", None), ("h2", Some("h1"))] {
        let mut i = Issue::new(ItemId::new(id).unwrap(), title.to_owned());
        i.labels = vec![label.to_owned()];
        i.assignees = vec![label.to_owned()];
        i.milestone = Some(ms.to_owned());
        i.depends_on = dep.into_iter().map(str::to_owned).collect();
        i.parent = dep.map(str::to_owned);
        i.created = Some(ts("2026-11-01T00:00:00Z"));
        store.create(i).unwrap();
    }
    let r = load(&store);
    (d, r)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever the titles, labels, assignees and milestone names hold, the HTML has one
    /// script (ours) and every text escaped, and Mermaid labels hold none of its syntax.
    #[test]
    fn hostile_text_stays_text(title in hostile(), label in hostile(), ms in hostile()) {
        let ms = ms.replace(['\n', '\r'], " ").trim().to_owned();
        prop_assume!(!ms.is_empty());
        let title = title.replace(['\n', '\r'], " ");
        let (_d, r) = hostile_project(&title, &label, &ms);
        let html = r.html();
        prop_assert_eq!(html.matches("<script").count(), 1);
        prop_assert_eq!(html.matches("</script").count(), 1);
        // Unescaped, a text would appear more often than in the same report made of plain
        // words (a text such as `<` is in every tag: counted, not just looked for).
        let (_p, plain) = hostile_project("plain title", "plain-label", "plain milestone");
        let plain = plain.html();
        for text in [&title, &label, &ms] {
            if text.contains('<') {
                prop_assert!(
                    html.matches(text.as_str()).count() <= plain.matches(text.as_str()).count(),
                    "{text:?} unescaped"
                );
            }
        }
        let md = r.markdown();
        let mut in_mermaid = false;
        for line in md.lines() {
            if line.starts_with("```") {
                in_mermaid = line == "```mermaid";
                continue;
            }
            if !in_mermaid {
                continue;
            }
            if let Some(rest) = line.trim_start().strip_prefix('n').and_then(|l| l.split_once("[\"")) {
                // A node: n0["…"], nothing inside that ends it early.
                let label = rest.1.strip_suffix("\"]").expect("a node label ends with \"]");
                prop_assert!(!label.contains(['"', '[', ']', '<', '>']), "{line}");
            }
            if line.contains(", m0, ") {
                // The gantt task: its name holds no `:` (which starts the task's data).
                prop_assert_eq!(line.matches(':').count(), 1, "{}", line);
            }
        }
    }
}
