//! `ready`, `blocked` and the dependency check agree with a plain computation over the
//! issues written, for generated graphs: references by id in any case, by `#number`, to no
//! issue, from both `depends_on` and `blocks`, with cycles and self-references.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use roadmap_index::{Blocker, Index, IssueQuery};
use roadmap_model::{Issue, ItemId, Priority, RemoteRef, Status};

use crate::{project, rt};

/// A reference from one generated issue: to issue `k` by id (upper-cased when `upper`), by
/// number, or to nothing.
#[derive(Debug, Clone)]
enum Ref {
    Id(usize, bool),
    Number(usize),
    Nothing(&'static str),
}

#[derive(Debug, Clone)]
struct Gen {
    status: Status,
    priority: Priority,
    numbered: bool,
    depends_on: Vec<Ref>,
    blocks: Vec<Ref>,
}

fn reference(n: usize) -> impl Strategy<Value = Ref> {
    prop_oneof![
        4 => (0..n, any::<bool>()).prop_map(|(k, u)| Ref::Id(k, u)),
        2 => (0..n).prop_map(Ref::Number),
        1 => prop::sample::select(vec!["#999", "nosuch", "#12x"]).prop_map(Ref::Nothing),
    ]
}

fn graph() -> impl Strategy<Value = Vec<Gen>> {
    (1usize..14).prop_flat_map(|n| {
        prop::collection::vec(
            (
                prop::sample::select(Status::ALL.to_vec()),
                prop::sample::select(Priority::ALL.to_vec()),
                any::<bool>(),
                prop::collection::vec(reference(n), 0..3),
                prop::collection::vec(reference(n), 0..2),
            )
                .prop_map(|(status, priority, numbered, depends_on, blocks)| Gen {
                    status,
                    priority,
                    numbered,
                    depends_on,
                    blocks,
                }),
            n,
        )
    })
}

fn id(k: usize) -> String {
    format!("dep{k:04}")
}

/// How a reference is written; issue `k`'s number is `k + 1` when it has one.
fn written(r: &Ref, gens: &[Gen]) -> String {
    match r {
        Ref::Id(k, true) => id(*k).to_uppercase(),
        Ref::Id(k, false) => id(*k),
        Ref::Number(k) if gens[*k].numbered => format!("#{}", k + 1),
        // A number nobody has.
        Ref::Number(k) => format!("#{}", 500 + k),
        Ref::Nothing(s) => (*s).to_owned(),
    }
}

/// The issue a written reference names, as a person reading the files would resolve it.
fn resolve(s: &str, gens: &[Gen]) -> Option<usize> {
    if let Some(k) = (0..gens.len()).find(|k| id(*k).eq_ignore_ascii_case(s)) {
        return Some(k);
    }
    let n: usize = s.strip_prefix('#')?.parse().ok()?;
    (0..gens.len()).find(|k| gens[*k].numbered && k + 1 == n)
}

#[derive(Debug, PartialEq)]
struct Views {
    ready: BTreeSet<String>,
    /// Blocked issue → its blockers (`id` or `?reference`, lower-cased).
    blocked: BTreeMap<String, BTreeSet<String>>,
    in_cycles: BTreeSet<String>,
    unknown: BTreeSet<(String, String, String)>,
}

fn plain(gens: &[Gen]) -> Views {
    let n = gens.len();
    // waits[i]: what issue i waits for (None: a reference to nothing).
    let mut waits: Vec<BTreeSet<Result<usize, String>>> = vec![BTreeSet::new(); n];
    let mut unknown = BTreeSet::new();
    for (i, g) in gens.iter().enumerate() {
        for r in &g.depends_on {
            let w = written(r, gens);
            match resolve(&w, gens) {
                Some(k) => waits[i].insert(Ok(k)),
                None => {
                    unknown.insert((id(i), "depends_on".into(), w.to_lowercase()));
                    waits[i].insert(Err(w.to_lowercase()))
                }
            };
        }
        for r in &g.blocks {
            let w = written(r, gens);
            match resolve(&w, gens) {
                Some(k) => {
                    waits[k].insert(Ok(i));
                }
                None => {
                    unknown.insert((id(i), "blocks".into(), w.to_lowercase()));
                }
            }
        }
    }
    let done = |k: usize| gens[k].status == Status::Done;
    let mut ready = BTreeSet::new();
    let mut blocked = BTreeMap::new();
    for (i, g) in gens.iter().enumerate() {
        if done(i) {
            continue;
        }
        let unmet: BTreeSet<String> = waits[i]
            .iter()
            .filter_map(|w| match w {
                Ok(k) if done(*k) => None,
                Ok(k) => Some(id(*k)),
                Err(r) => Some(format!("?{r}")),
            })
            .collect();
        if unmet.is_empty() && g.status != Status::Blocked {
            ready.insert(id(i));
        } else {
            blocked.insert(id(i), unmet);
        }
    }
    // In a cycle: reaches itself.
    let mut in_cycles = BTreeSet::new();
    for start in 0..n {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = waits[start].iter().filter_map(|w| w.clone().ok()).collect();
        while let Some(v) = stack.pop() {
            if v == start {
                in_cycles.insert(id(start));
                break;
            }
            if seen.insert(v) {
                stack.extend(waits[v].iter().filter_map(|w| w.clone().ok()));
            }
        }
    }
    Views {
        ready,
        blocked,
        in_cycles,
        unknown,
    }
}

/// The issues `k` waits for, directly or not.
fn reach(gens: &[Gen], k: usize) -> BTreeSet<String> {
    let waits_for = |i: usize| -> Vec<usize> {
        let mut out: Vec<usize> = gens[i]
            .depends_on
            .iter()
            .filter_map(|r| resolve(&written(r, gens), gens))
            .collect();
        out.extend((0..gens.len()).filter(|j| {
            gens[*j]
                .blocks
                .iter()
                .any(|r| resolve(&written(r, gens), gens) == Some(i))
        }));
        out
    };
    let mut seen = BTreeSet::new();
    let mut stack = waits_for(k);
    while let Some(v) = stack.pop() {
        if seen.insert(id(v)) {
            stack.extend(waits_for(v));
        }
    }
    seen
}

#[test]
fn ready_blocked_and_cycles_agree_with_a_plain_computation() {
    let rt = rt();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(48));
    runner
        .run(&graph(), |gens| {
            let (_d, store) = project();
            for (k, g) in gens.iter().enumerate() {
                let mut issue = Issue::new(ItemId::new(id(k)).unwrap(), format!("issue {k}"));
                issue.status = g.status;
                issue.priority = g.priority;
                issue.remote = g.numbered.then(|| RemoteRef {
                    number: k as u64 + 1,
                    ..RemoteRef::default()
                });
                issue.depends_on = g.depends_on.iter().map(|r| written(r, &gens)).collect();
                issue.blocks = g.blocks.iter().map(|r| written(r, &gens)).collect();
                store.create(issue).unwrap();
            }
            let want = plain(&gens);
            let (got, check) = rt.block_on(async {
                let index = Index::open(&store).await.unwrap();
                let ready = index.ready(&IssueQuery::ready()).await.unwrap();
                let blocked = index.blocked().await.unwrap();
                let check = index.check_dependencies().await.unwrap();
                index.close().await;
                (
                    Views {
                        ready: ready.iter().map(|r| r.id.clone()).collect(),
                        blocked: blocked
                            .iter()
                            .map(|b| {
                                let on = b
                                    .blockers
                                    .iter()
                                    .map(|x| match x {
                                        Blocker::Issue(i) => i.id.clone(),
                                        Blocker::Unknown { reference } => {
                                            format!("?{}", reference.to_lowercase())
                                        }
                                    })
                                    .collect();
                                (b.issue.id.clone(), on)
                            })
                            .collect(),
                        in_cycles: check
                            .cycles
                            .iter()
                            .flatten()
                            .map(|i| i.id.clone())
                            .collect(),
                        unknown: check
                            .unknown
                            .iter()
                            .map(|u| {
                                (
                                    u.issue.id.clone(),
                                    u.field.clone(),
                                    u.reference.to_lowercase(),
                                )
                            })
                            .collect(),
                    },
                    check,
                )
            });
            prop_assert_eq!(&got, &want);
            // Each group holds issues that all reach each other (and themselves).
            for group in &check.cycles {
                for a in group {
                    let reached = reach(&gens, a.id[3..].parse().unwrap());
                    for b in group {
                        prop_assert!(reached.contains(&b.id), "{} does not reach {}", a.id, b.id);
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}
