//! Real GitHub texts round-trip exactly: pull → file → an edit of one thing → push sends that
//! one thing, and every byte the user did not touch is GitHub's again (issue 13).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use roadmap_model::{Milestone, MilestoneState, Priority};
use serde_json::json;

use super::*;

/// Bodies of the shapes real issues have: CRLF or LF or mixed line endings, with or without a
/// final newline, null, empty, trailing spaces, `---` lines, code fences, HTML, emoji, CJK.
/// Every non-empty one holds the word `edit-me` once.
fn body() -> impl Strategy<Value = Option<String>> {
    let line = prop_oneof![
        Just("plain words".to_owned()),
        Just("---".to_owned()),
        Just("trailing spaces   ".to_owned()),
        Just("```rust\nfn main() {}\n```".to_owned()),
        Just("<details><summary>x</summary>y</details>".to_owned()),
        Just("emoji 🎉 and 中文 and RTL \u{202e}x".to_owned()),
        Just(String::new()),
        "[a-z ]{0,12}",
    ];
    let eol = prop_oneof![Just("\n"), Just("\r\n"), Just("mixed")];
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(String::new())),
        8 => (prop::collection::vec(line, 0..6), eol, any::<bool>(), any::<bool>()).prop_map(
            |(lines, eol, final_newline, mixed_end)| {
                let mut all = vec!["edit-me here".to_owned()];
                all.extend(lines);
                let mut text = String::new();
                for (k, l) in all.iter().enumerate() {
                    if k > 0 {
                        text.push_str(match eol {
                            "mixed" if k % 2 == 0 => "\r\n",
                            "mixed" => "\n",
                            e => e,
                        });
                    }
                    text.push_str(l);
                }
                if final_newline {
                    text.push_str(if eol == "\r\n" || mixed_end { "\r\n" } else { "\n" });
                }
                Some(text)
            }
        ),
    ]
}

fn remote_repo(p: &Project) -> roadmap_sim::Repo {
    p.sim
        .with_world(|w| w.repos.values().find(|r| r.name == "demo").unwrap().clone())
}

async fn round_trip(bodies: Vec<Option<String>>) {
    let n = bodies.len() as u64;
    let p = project(spec(n, 0, 0)).await;
    // Real texts on GitHub, for issues and for milestone descriptions.
    p.sim.with_world(|w| {
        let r = w.repos.values_mut().find(|r| r.name == "demo").unwrap();
        for (k, b) in bodies.iter().enumerate() {
            let i = r.issues.get_mut(&(k as u64 + 1)).unwrap();
            i.body = b.clone();
            i.labels.clear();
        }
        let first = r.milestones.keys().copied().min();
        for (k, b) in bodies.iter().take(4).enumerate() {
            let number = 100 + k as u64;
            let mut m = first
                .and_then(|f| r.milestones.get(&f).cloned())
                .unwrap_or_else(|| roadmap_sim::MilestoneRec {
                    id: 900_000 + number,
                    number,
                    title: String::new(),
                    description: None,
                    state: "open".into(),
                    due_on: None,
                    created_at: 1_700_000_000,
                    updated_at: 1_700_000_000,
                    closed_at: None,
                    creator: "octocat".into(),
                });
            m.id = 900_000 + number;
            m.number = number;
            m.title = format!("milestone {number}");
            m.description = b.clone();
            r.milestones.insert(number, m);
        }
    });
    p.pull().await;
    let before = remote_repo(&p);

    // Odd issues: one word of the body; even ones: the title. Milestones: the title.
    let mut expected_body = BTreeMap::new();
    let mut body_edited = BTreeMap::new();
    for k in 1..=n {
        let original = before.issues[&k].body.clone();
        let edit_body = k % 2 == 1 && original.as_deref().is_some_and(|b| b.contains("edit-me"));
        body_edited.insert(k, edit_body);
        if edit_body {
            p.edit(k, |i| i.body = i.body.replacen("edit-me", "EDITED", 1));
            expected_body.insert(k, original.map(|b| b.replacen("edit-me", "EDITED", 1)));
        } else {
            p.edit(k, |i| i.title = format!("retitled {k}"));
            expected_body.insert(k, original);
        }
    }
    for f in p.store.load_all::<Milestone>().unwrap().items {
        let mut f = f;
        if f.item().title.starts_with("milestone 1") {
            f.item_mut().title = format!("{} (renamed)", f.item().title);
            assert_eq!(f.item().state, MilestoneState::Open);
            p.store.save(&mut f).unwrap();
        }
    }
    p.sim.reset_metrics();
    let report = p.push().await;
    assert!(
        report.push.failures.is_empty(),
        "{:?}",
        report.push.failures
    );

    // Exactly one PATCH per edit, carrying exactly the edited field.
    let writes = p.sim.writes();
    let after = remote_repo(&p);
    for k in 1..=n {
        let path = format!("/repos/octo/demo/issues/{k}");
        let sent: Vec<_> = writes.iter().filter(|w| w.path == path).collect();
        assert_eq!(sent.len(), 1, "issue {k}: {sent:?}");
        assert_eq!(sent[0].method, "PATCH");
        let want = if body_edited[&k] {
            json!({"body": expected_body[&k]})
        } else {
            json!({"title": format!("retitled {k}")})
        };
        assert_eq!(
            sent[0].body, want,
            "issue {k}, GitHub body {:?}",
            before.issues[&k].body
        );
        assert_eq!(
            after.issues[&k].body, expected_body[&k],
            "issue {k}: every other byte kept"
        );
    }
    for (number, m) in &before.milestones {
        if *number < 100 {
            continue;
        }
        let path = format!("/repos/octo/demo/milestones/{number}");
        let sent: Vec<_> = writes.iter().filter(|w| w.path == path).collect();
        assert_eq!(sent.len(), 1, "milestone {number}");
        assert_eq!(
            sent[0].body,
            json!({"title": format!("{} (renamed)", m.title)})
        );
        assert_eq!(after.milestones[number].description, m.description);
    }
    assert_eq!(writes.len() as u64, n + 4, "nothing else was sent");

    // And a sync right after sends nothing.
    p.sim.reset_metrics();
    p.pull().await;
    let report = p.push().await;
    assert!(
        p.sim.writes().is_empty(),
        "{:?} {:?}",
        p.sim.writes(),
        report.push
    );
}

#[test]
fn pull_edit_push_sends_exactly_the_edit_for_every_shape_of_text() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases: 6,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(body(), 12..24), |bodies| {
            rt.block_on(round_trip(bodies));
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_in_real_spellings_keep_their_spelling_and_a_change_replaces_one_label() {
    let p = project(spec(6, 0, 0)).await;
    let spellings: [&[&str]; 6] = [
        &["Priority: High", "bug"],
        &["priority: medium", "Status: In Progress"],
        &["priority:low", "Priority: High"],
        &["P-high", "STATUS:blocked"],
        &["Priority: High"],
        &[],
    ];
    p.sim.with_world(|w| {
        let r = w.repos.values_mut().find(|r| r.name == "demo").unwrap();
        r.labels.clear();
        let mut id = 5_000;
        for name in spellings.iter().flat_map(|s| s.iter()) {
            if !r.labels.iter().any(|l| l.name == *name) {
                id += 1;
                r.labels.push(roadmap_sim::LabelRec {
                    id,
                    name: (*name).to_owned(),
                    color: "ededed".into(),
                    description: None,
                    default: false,
                });
            }
        }
        for (k, s) in spellings.iter().enumerate() {
            let i = r.issues.get_mut(&(k as u64 + 1)).unwrap();
            i.labels = s.iter().map(|x| (*x).to_owned()).collect();
            i.state = "open".into();
        }
    });
    p.pull().await;
    let local = p.local();
    assert_eq!(local[&1].priority, Priority::High);
    assert_eq!(local[&1].labels, vec!["bug".to_owned()]);
    assert_eq!(local[&2].priority, Priority::Medium);
    assert_eq!(local[&2].status, Status::InProgress);
    assert_eq!(local[&3].priority, Priority::Low);
    assert_eq!(
        local[&3].labels,
        vec!["Priority: High".to_owned()],
        "a second one stays a label"
    );
    assert_eq!(local[&4].status, Status::Blocked);
    assert_eq!(
        local[&4].labels,
        vec!["P-high".to_owned()],
        "not this project's prefix"
    );

    p.edit(1, |i| i.title = "only the title".into());
    p.edit(2, |i| i.priority = Priority::High);
    p.edit(3, |i| i.labels.push("docs".into()));
    p.edit(4, |i| i.status = Status::Review);
    p.edit(5, |i| i.priority = Priority::Medium);
    p.edit(6, |i| i.priority = Priority::Low);
    p.sim.reset_metrics();
    let report = p.push().await;
    assert!(
        report.push.failures.is_empty(),
        "{:?}",
        report.push.failures
    );
    let writes = p.sim.writes();
    let sent = |k: u64| {
        let w: Vec<_> = writes
            .iter()
            .filter(|w| w.path == format!("/repos/octo/demo/issues/{k}"))
            .collect();
        assert_eq!(w.len(), 1, "issue {k}: {writes:?}");
        w[0].body.clone()
    };
    let labels_of = |v: serde_json::Value| {
        let mut l: Vec<String> = serde_json::from_value(v["labels"].clone()).unwrap();
        l.sort();
        l
    };
    assert_eq!(
        sent(1),
        json!({"title": "only the title"}),
        "labels untouched"
    );
    // `priority: medium` → the repository's own spelling of high; the status label is kept.
    assert_eq!(
        labels_of(sent(2)),
        ["Priority: High", "Status: In Progress"]
    );
    assert_eq!(
        labels_of(sent(3)),
        ["Priority: High", "docs", "priority:low"]
    );
    // No `status:review` label exists: the project's spelling is created for it.
    assert_eq!(labels_of(sent(4)), ["P-high", "status:review"]);
    assert_eq!(
        labels_of(sent(5)),
        Vec::<String>::new(),
        "medium is no label"
    );
    assert_eq!(labels_of(sent(6)), ["priority:low"]);
    let created: Vec<_> = writes
        .iter()
        .filter(|w| w.method == "POST" && w.path.ends_with("/labels"))
        .map(|w| w.body["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        created,
        ["docs", "status:review"],
        "only the labels asked for are created"
    );
    // Nothing drifts: a sync right after sends nothing.
    p.sim.reset_metrics();
    p.pull().await;
    p.push().await;
    assert!(p.sim.writes().is_empty(), "{:?}", p.sim.writes());
}
