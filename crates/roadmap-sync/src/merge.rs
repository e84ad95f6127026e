//! The three-way merge of an issue: base (as last synced), ours (the file), theirs (GitHub's
//! version, mapped onto a copy of the file).
//!
//! A field changed on one side only takes that side. Set-valued fields (labels, assignees,
//! dependencies) merge as sets: what either side added is in, what either side removed is out.
//! The body merges line by line when the edits do not overlap. A field changed on both sides
//! differently is a conflict. Without a base, any field that differs is a conflict.

use std::collections::HashSet;

use roadmap_model::{Issue, Status};
use serde::Serialize;

/// Which side wins a conflicting field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The local file.
    Ours,
    /// GitHub.
    Theirs,
}

/// One field changed differently on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldConflict {
    /// The field name, as in the front matter (`body` for the body).
    pub field: &'static str,
    /// The value last synced, when known.
    pub base: Option<String>,
    /// The local value.
    pub ours: String,
    /// GitHub's value.
    pub theirs: String,
}

/// The outcome of a merge.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The merged issue; its `remote` is theirs (the new sync base). Conflicting fields hold
    /// the side asked for, or ours when none was.
    pub issue: Issue,
    /// Fields in conflict (empty when a side was asked for).
    pub conflicts: Vec<FieldConflict>,
}

struct Merger<'a> {
    base: Option<&'a Issue>,
    prefer: Option<Side>,
    conflicts: Vec<FieldConflict>,
}

impl Merger<'_> {
    fn scalar<T: PartialEq + Clone>(
        &mut self,
        field: &'static str,
        get: impl Fn(&Issue) -> &T,
        show: impl Fn(&T) -> String,
        ours: &Issue,
        theirs: &Issue,
    ) -> T {
        let (o, t) = (get(ours), get(theirs));
        if o == t {
            return t.clone();
        }
        match self.base.map(&get) {
            Some(b) if b == o => t.clone(),
            Some(b) if b == t => o.clone(),
            b => self.conflict(field, b.map(&show), o, t, &show),
        }
    }

    fn conflict<T: Clone>(
        &mut self,
        field: &'static str,
        base: Option<String>,
        o: &T,
        t: &T,
        show: impl Fn(&T) -> String,
    ) -> T {
        match self.prefer {
            Some(Side::Ours) => o.clone(),
            Some(Side::Theirs) => t.clone(),
            None => {
                self.conflicts.push(FieldConflict {
                    field,
                    base,
                    ours: show(o),
                    theirs: show(t),
                });
                o.clone()
            }
        }
    }

    fn set(
        &mut self,
        field: &'static str,
        get: impl Fn(&Issue) -> &Vec<String>,
        ours: &Issue,
        theirs: &Issue,
    ) -> Vec<String> {
        let (o, t) = (get(ours), get(theirs));
        let same = |a: &Vec<String>, b: &Vec<String>| {
            a.iter().collect::<HashSet<_>>() == b.iter().collect::<HashSet<_>>()
        };
        if same(o, t) {
            return t.clone();
        }
        let Some(b) = self.base.map(&get) else {
            return self.conflict(field, None, o, t, |v| v.join(", "));
        };
        let base: HashSet<&String> = b.iter().collect();
        let in_t: HashSet<&String> = t.iter().collect();
        let in_o: HashSet<&String> = o.iter().collect();
        // Ours in order, minus what theirs removed; then what theirs added.
        let mut out: Vec<String> = o
            .iter()
            .filter(|x| in_t.contains(x) || !base.contains(x))
            .cloned()
            .collect();
        out.extend(
            t.iter()
                .filter(|x| !in_o.contains(x) && !base.contains(x))
                .cloned(),
        );
        out
    }

    fn body(&mut self, ours: &Issue, theirs: &Issue) -> String {
        let (o, t) = (&ours.body, &theirs.body);
        if o == t {
            return t.clone();
        }
        match self.base.map(|b| &b.body) {
            Some(b) if b == o => t.clone(),
            Some(b) if b == t => o.clone(),
            Some(b) => match diffy::merge(b, o, t) {
                Ok(merged) => merged,
                Err(_) => self.conflict("body", Some(b.clone()), o, t, Clone::clone),
            },
            None => self.conflict("body", None, o, t, Clone::clone),
        }
    }
}

/// Merges `ours` and `theirs` over `base`; with `prefer`, conflicting fields take that side.
pub fn merge3(base: Option<&Issue>, ours: &Issue, theirs: &Issue, prefer: Option<Side>) -> Merged {
    let mut m = Merger {
        base,
        prefer,
        conflicts: Vec::new(),
    };
    let mut out = theirs.clone();
    out.title = m.scalar("title", |i| &i.title, Clone::clone, ours, theirs);
    out.body = m.body(ours, theirs);
    out.status = m.scalar(
        "status",
        |i| &i.status,
        |s| s.as_str().to_owned(),
        ours,
        theirs,
    );
    out.close_reason = m.scalar(
        "close_reason",
        |i| &i.close_reason,
        |r| r.map(|r| r.as_str().to_owned()).unwrap_or_default(),
        ours,
        theirs,
    );
    out.priority = m.scalar(
        "priority",
        |i| &i.priority,
        |p| p.as_str().to_owned(),
        ours,
        theirs,
    );
    out.labels = m.set("labels", |i| &i.labels, ours, theirs);
    out.assignees = m.set("assignees", |i| &i.assignees, ours, theirs);
    out.milestone = m.scalar(
        "milestone",
        |i| &i.milestone,
        |v| v.clone().unwrap_or_default(),
        ours,
        theirs,
    );
    out.estimate = m.scalar(
        "estimate",
        |i| &i.estimate,
        |v| v.map(|e| e.to_string()).unwrap_or_default(),
        ours,
        theirs,
    );
    out.progress = m.scalar(
        "progress",
        |i| &i.progress,
        |v| v.map(|e| e.to_string()).unwrap_or_default(),
        ours,
        theirs,
    );
    out.depends_on = m.set("depends_on", |i| &i.depends_on, ours, theirs);
    out.blocks = m.set("blocks", |i| &i.blocks, ours, theirs);
    out.parent = m.scalar(
        "parent",
        |i| &i.parent,
        |v| v.clone().unwrap_or_default(),
        ours,
        theirs,
    );
    // When it was closed follows the merged status: GitHub's time when GitHub closed it,
    // ours when it was closed here and not yet pushed.
    out.closed = match out.status {
        Status::Done => theirs.closed.or(ours.closed),
        _ => None,
    };
    Merged {
        issue: out,
        conflicts: m.conflicts,
    }
}

/// The body with conflict markers (ours, then theirs), for a user to edit.
pub fn body_with_markers(base: Option<&Issue>, ours: &Issue, theirs: &Issue) -> String {
    let b = base.map(|b| b.body.as_str()).unwrap_or("");
    match diffy::merge(b, &ours.body, &theirs.body) {
        Ok(t) | Err(t) => t,
    }
}

/// Whether a text still holds conflict markers.
pub fn has_markers(text: &str) -> bool {
    let mut open = false;
    for line in text.lines() {
        if line.starts_with("<<<<<<<") {
            open = true;
        } else if open && line.starts_with(">>>>>>>") {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use roadmap_model::{ItemId, Status};

    fn issue(title: &str, body: &str, labels: &[&str]) -> Issue {
        let mut i = Issue::new(ItemId::new("gh-1").unwrap(), title);
        i.body = body.into();
        i.labels = labels.iter().map(|s| s.to_string()).collect();
        i
    }

    #[test]
    fn one_sided_changes_merge_and_sets_merge_as_sets() {
        let base = issue("T", "a\nb\nc\n", &["bug", "ui"]);
        let mut ours = issue("T2", "a\nB\nc\n", &["bug", "ui", "p1"]);
        ours.status = Status::InProgress;
        let theirs = issue("T", "a\nb\nc\nd\n", &["bug"]);
        let m = merge3(Some(&base), &ours, &theirs, None);
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(m.issue.title, "T2");
        assert_eq!(m.issue.body, "a\nB\nc\nd\n");
        assert_eq!(m.issue.labels, vec!["bug", "p1"]);
        assert_eq!(m.issue.status, Status::InProgress);
    }

    #[test]
    fn both_sided_changes_conflict_and_a_side_resolves_them() {
        let base = issue("T", "a\n", &[]);
        let ours = issue("Ours", "x\n", &[]);
        let theirs = issue("Theirs", "y\n", &[]);
        let m = merge3(Some(&base), &ours, &theirs, None);
        let fields: Vec<_> = m.conflicts.iter().map(|c| c.field).collect();
        assert_eq!(fields, vec!["title", "body"]);
        assert_eq!(
            merge3(Some(&base), &ours, &theirs, Some(Side::Theirs))
                .issue
                .title,
            "Theirs"
        );
        let ours_wins = merge3(Some(&base), &ours, &theirs, Some(Side::Ours));
        assert!(ours_wins.conflicts.is_empty());
        assert_eq!(ours_wins.issue.body, "x\n");
        assert!(has_markers(&body_with_markers(Some(&base), &ours, &theirs)));
    }

    #[test]
    fn without_a_base_only_equal_fields_merge() {
        let ours = issue("T", "same\n", &["a"]);
        let theirs = issue("T", "same\n", &["b"]);
        let m = merge3(None, &ours, &theirs, None);
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].field, "labels");
    }
}
