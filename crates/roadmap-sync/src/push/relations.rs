//! Relations pushed through GitHub's dependency and sub-issue endpoints: what an issue's
//! `depends_on`, `blocks` and `parent` gained or lost since they were last synced, sent as
//! edges. Each write is idempotent in the client (a change already in place is a success), an
//! edge already sent by this run (`A blocks B` and `B depends_on A`) is not sent again, and
//! what could not be sent stays pending: the file keeps it, its base does not. Another
//! repository's issues travel in the hidden block instead (see [`travels_natively`]).

use roadmap_model::{Issue, ItemId, TrackerError};

use super::Pusher;
use crate::SyncError;
use crate::map::travels_natively;

/// An issue's relation fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Rels {
    pub depends_on: Vec<String>,
    pub blocks: Vec<String>,
    pub parent: Option<String>,
}

impl Rels {
    pub fn of(i: &Issue) -> Self {
        Rels {
            depends_on: i.depends_on.clone(),
            blocks: i.blocks.clone(),
            parent: i.parent.clone(),
        }
    }

    pub fn set_on(self, i: &mut Issue) {
        i.depends_on = self.depends_on;
        i.blocks = self.blocks;
        i.parent = self.parent;
    }
}

/// One dependency: `waiting` waits for `blocker` (numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Edge {
    waiting: u64,
    blocker: u64,
    add: bool,
}

fn contains(list: &[String], r: &str) -> bool {
    list.iter().any(|x| x.eq_ignore_ascii_case(r))
}

/// What a reference names, for a push.
enum Target {
    /// An issue of this repository, by number.
    Number(u64),
    /// An issue of this project not created on GitHub yet: sent once it is.
    NotYet,
    /// Nothing this project or GitHub knows.
    Nothing,
}

impl Pusher<'_> {
    fn target(&mut self, reference: &str) -> Target {
        if let Some(n) = reference.strip_prefix('#') {
            return n.parse().map_or(Target::Nothing, Target::Number);
        }
        if let Some(n) = reference
            .strip_prefix("gh-")
            .and_then(|n| n.parse::<u64>().ok())
        {
            return Target::Number(n);
        }
        let Ok(id) = ItemId::new(reference) else {
            return Target::Nothing;
        };
        match self.store.get::<Issue>(&id) {
            Ok(f) => match f.item().number() {
                Some(n) => Target::Number(n),
                None => Target::NotYet,
            },
            Err(_) => Target::Nothing,
        }
    }

    /// The database id of issue `number` (the endpoints take ids, not numbers).
    async fn db_id(&mut self, number: u64) -> Result<u64, TrackerError> {
        if let Some(id) = self.db_ids.get(&number) {
            return Ok(*id);
        }
        let id = self.tracker.get_issue(number).await?.id;
        self.db_ids.insert(number, id);
        Ok(id)
    }

    async fn send_edge(&mut self, e: Edge) -> Result<(), TrackerError> {
        if self.edges_sent.contains(&e) {
            return Ok(());
        }
        let blocker = self.db_id(e.blocker).await?;
        if e.add {
            self.tracker.add_blocked_by(e.waiting, blocker).await?;
        } else {
            self.tracker.remove_blocked_by(e.waiting, blocker).await?;
        }
        self.edges_sent.insert(e);
        Ok(())
    }
}

/// Sends the relations of issue `number` that differ from `from` (what GitHub is known to
/// hold) and returns what GitHub holds after: `from` with every change that was sent. A
/// change that failed is reported; one that waits for an issue not created yet is noted in
/// `waiting` (sent again once it is).
pub(super) async fn push_relations(
    p: &mut Pusher<'_>,
    issue: &Issue,
    number: u64,
    from: &Rels,
    waiting: &mut bool,
) -> Result<Rels, SyncError> {
    let ours = Rels::of(issue);
    let mut now = from.clone();
    // Another repository's issues travel in the body: as ours, whatever happens here.
    let foreign = |l: &[String]| -> Vec<String> {
        l.iter().filter(|r| !travels_natively(r)).cloned().collect()
    };
    now.depends_on.retain(|r| travels_natively(r));
    now.depends_on.extend(foreign(&ours.depends_on));
    now.blocks.retain(|r| travels_natively(r));
    now.blocks.extend(foreign(&ours.blocks));
    let describe = super::describe(issue);
    let mut changes: Vec<(bool, &'static str, String)> = Vec::new();
    for (field, o, f) in [
        ("depends_on", &ours.depends_on, &from.depends_on),
        ("blocks", &ours.blocks, &from.blocks),
    ] {
        for r in o.iter().filter(|r| travels_natively(r) && !contains(f, r)) {
            changes.push((true, field, r.clone()));
        }
        for r in f.iter().filter(|r| travels_natively(r) && !contains(o, r)) {
            changes.push((false, field, r.clone()));
        }
    }
    for (add, field, r) in changes {
        let other = match p.target(&r) {
            Target::Number(n) => n,
            Target::NotYet => {
                *waiting = true;
                continue;
            }
            Target::Nothing if !add => {
                // It never named an issue on GitHub: nothing to remove there.
                drop_ref(&mut now, field, &r);
                continue;
            }
            Target::Nothing => {
                p.report.pending += 1;
                p.report.failures.push(crate::ItemFailure {
                    what: describe.clone(),
                    reason: format!("`{field}` names {r}, which is no issue of this project or of GitHub's repository"),
                });
                continue;
            }
        };
        let edge = match field {
            "depends_on" => Edge {
                waiting: number,
                blocker: other,
                add,
            },
            _ => Edge {
                waiting: other,
                blocker: number,
                add,
            },
        };
        p.plan(
            if add {
                "add-dependency"
            } else {
                "remove-dependency"
            },
            format!("#{} waits for #{}", edge.waiting, edge.blocker),
            Vec::new(),
        );
        if p.opts.dry_run {
            continue;
        }
        match p.send_edge(edge).await {
            Ok(()) => {
                if add {
                    match field {
                        "depends_on" => now.depends_on.push(r),
                        _ => now.blocks.push(r),
                    }
                } else {
                    drop_ref(&mut now, field, &r);
                }
            }
            Err(e) => {
                if p.fail(format!("{describe} ({field} {r})"), &e).is_err() {
                    return Ok(now);
                }
            }
        }
    }
    let same_parent = match (&ours.parent, &from.parent) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (a, b) => a == b,
    };
    if !same_parent {
        match (&ours.parent, &from.parent) {
            (Some(r), _) if !travels_natively(r) => now.parent = ours.parent.clone(),
            (None, Some(r)) if !travels_natively(r) => now.parent = None,
            (Some(r), _) => match p.target(r) {
                Target::Number(parent) => {
                    p.plan(
                        "add-sub-issue",
                        format!("#{number} under #{parent}"),
                        Vec::new(),
                    );
                    if !p.opts.dry_run {
                        let sent = match p.db_id(number).await {
                            Ok(id) => p.tracker.add_sub_issue(parent, id, true).await,
                            Err(e) => Err(e),
                        };
                        match sent {
                            Ok(()) => now.parent = ours.parent.clone(),
                            Err(e) => {
                                if p.fail(format!("{describe} (parent {r})"), &e).is_err() {
                                    return Ok(now);
                                }
                            }
                        }
                    }
                }
                Target::NotYet => *waiting = true,
                Target::Nothing => {
                    p.report.pending += 1;
                    p.report.failures.push(crate::ItemFailure {
                        what: describe.clone(),
                        reason: format!(
                            "`parent` names {r}, which is no issue of this project or of GitHub's repository"
                        ),
                    });
                }
            },
            (None, Some(r)) => match p.target(r) {
                Target::Number(parent) => {
                    p.plan(
                        "remove-sub-issue",
                        format!("#{number} from #{parent}"),
                        Vec::new(),
                    );
                    if !p.opts.dry_run {
                        let sent = match p.db_id(number).await {
                            Ok(id) => p.tracker.remove_sub_issue(parent, id).await,
                            Err(e) => Err(e),
                        };
                        match sent {
                            Ok(()) => now.parent = None,
                            Err(e) => {
                                if p.fail(format!("{describe} (parent {r})"), &e).is_err() {
                                    return Ok(now);
                                }
                            }
                        }
                    }
                }
                Target::NotYet | Target::Nothing => now.parent = None,
            },
            (None, None) => {}
        }
    }
    Ok(settle(now, &ours))
}

/// `now` in the file's spelling and order where it holds the same relations, so that a file
/// whose relations were all sent is in sync to the byte.
fn settle(mut now: Rels, ours: &Rels) -> Rels {
    for (n, o) in [
        (&mut now.depends_on, &ours.depends_on),
        (&mut now.blocks, &ours.blocks),
    ] {
        n.sort_by_key(|r| {
            o.iter()
                .position(|x| x.eq_ignore_ascii_case(r))
                .unwrap_or(usize::MAX)
        });
        if n.len() == o.len() && n.iter().zip(o).all(|(a, b)| a.eq_ignore_ascii_case(b)) {
            n.clone_from(o);
        }
    }
    if let (Some(n), Some(o)) = (&now.parent, &ours.parent)
        && n.eq_ignore_ascii_case(o)
    {
        now.parent = ours.parent.clone();
    }
    now
}

fn drop_ref(now: &mut Rels, field: &str, r: &str) {
    let list = match field {
        "depends_on" => &mut now.depends_on,
        _ => &mut now.blocks,
    };
    list.retain(|x| !x.eq_ignore_ascii_case(r));
}
