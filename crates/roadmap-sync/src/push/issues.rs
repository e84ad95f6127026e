//! Issues: created (after a durable intent), updated field by field, closed and reopened.

use super::relations::{Rels, push_relations};
use super::*;

/// What GitHub should hold for an issue, with a mapped label that the repository lacks
/// spelled as a label it has for the same value (`Priority: High` rather than a new
/// `priority:high`): the project's conventions on GitHub are kept, nothing is created twice.
pub(super) fn shape_of(
    mapping: &Mapping,
    known: &[String],
    issue: &Issue,
) -> crate::map::RemoteShape {
    let mut shape = mapping.to_remote(issue);
    for l in &mut shape.labels {
        if known.iter().any(|k| k.eq_ignore_ascii_case(l)) {
            continue;
        }
        let same = |k: &&String| {
            (mapping.status_of(l).is_some() && mapping.status_of(k) == mapping.status_of(l))
                || (mapping.priority_of(l).is_some()
                    && mapping.priority_of(k) == mapping.priority_of(l))
        };
        if let Some(k) = known.iter().find(same) {
            *l = k.clone();
        }
    }
    shape
}

/// What changed between two shapes, as a patch; the fields named.
pub(super) fn patch_between(
    base: Option<&RemoteShape>,
    ours: &RemoteShape,
    milestone: Option<u64>,
) -> (IssuePatch, Vec<&'static str>) {
    let mut patch = IssuePatch::default();
    let mut fields = Vec::new();
    let set = |v: &[String]| {
        v.iter()
            .map(|s| s.to_lowercase())
            .collect::<std::collections::BTreeSet<_>>()
    };
    if base.is_none_or(|b| b.title != ours.title) {
        patch.title = Some(ours.title.clone());
        fields.push("title");
    }
    if base.is_none_or(|b| b.body != ours.body) {
        patch.body = Some(ours.body.clone());
        fields.push("body");
    }
    // A closed issue whose reason changed (completed -> not planned) is closed again with it.
    if base.is_none_or(|b| b.state != ours.state || b.state_reason != ours.state_reason) {
        patch.state = Some(ours.state);
        patch.state_reason = ours.state_reason.map(str::to_owned);
        fields.push("state");
    }
    if base.is_none_or(|b| set(&b.labels) != set(&ours.labels)) {
        patch.labels = Some(ours.labels.clone());
        fields.push("labels");
    }
    if base.is_none_or(|b| set(&b.assignees) != set(&ours.assignees)) {
        patch.assignees = Some(ours.assignees.clone());
        fields.push("assignees");
    }
    if base.is_none_or(|b| b.milestone != ours.milestone) {
        patch.milestone = Some(milestone);
        fields.push("milestone");
    }
    (patch, fields)
}

pub(super) async fn push_issue(
    p: &mut Pusher<'_>,
    f: &mut ItemFile<Issue>,
) -> Result<(), SyncError> {
    let issue = f.item().clone();
    let shape = shape_of(&p.opts.mapping, &p.label_names, &issue);
    let milestone = match &shape.milestone {
        None => None,
        Some(t) => match p.milestones.get(t) {
            Some(n) => Some(*n),
            None if p.opts.dry_run => Some(0),
            None => {
                p.report.pending += 1;
                p.report.failures.push(ItemFailure {
                    what: describe(&issue),
                    reason: format!("milestone \"{t}\" could not be created on GitHub"),
                });
                return Ok(());
            }
        },
    };
    let Some(number) = issue.number() else {
        return create_issue(p, f, shape, milestone).await;
    };
    let hash = issue.remote.as_ref().and_then(|r| r.hash.clone());
    let base_file = p
        .store
        .read_base::<Issue>(&issue.id)
        .filter(|b| Some(fingerprint(b.item())) == hash);
    let base = base_file
        .as_ref()
        .map(|b| shape_of(&p.opts.mapping, &p.label_names, b.item()));
    let (mut patch, mut fields) = patch_between(base.as_ref(), &shape, milestone);
    // Relations first, then the fields: an issue whose body still holds them in its hidden
    // block (from before they travelled natively) is migrated, written natively and then
    // its body without them.
    let native = p.opts.mapping.native_relations;
    let legacy = native && issue.remote.as_ref().is_some_and(|r| r.legacy_relations);
    if legacy && patch.body.is_none() {
        patch.body = Some(shape.body.clone());
        fields.push("body");
    }
    let synced = if native {
        let from = match (&base_file, legacy) {
            (Some(b), false) => Rels::of(b.item()),
            // No base to tell what GitHub holds: ours are added (an edge in place is no
            // error), nothing is removed.
            _ => Rels::default(),
        };
        let mut waiting = false;
        let now = push_relations(p, &issue, number, &from, &mut waiting).await?;
        if waiting {
            p.waiting.push(issue.id.clone());
        }
        if p.stopped() {
            return Ok(());
        }
        Some(now)
    } else {
        None
    };
    let action = match (&patch.state, base.as_ref().map(|b| b.state)) {
        (Some(RemoteState::Closed), _) => "close",
        (Some(RemoteState::Open), Some(RemoteState::Closed)) => "reopen",
        _ => "update",
    };
    if fields.is_empty() {
        // Only fields that do not travel (or relations, sent above) changed: the file is in
        // sync as it is.
        if !p.opts.dry_run {
            settle(p, f, issue.clone(), synced)?;
        }
        return Ok(());
    }
    p.plan(
        action,
        format!("issue #{number} \"{}\"", issue.title),
        fields,
    );
    if p.opts.dry_run {
        return Ok(());
    }
    match p.tracker.update_issue(number, patch).await {
        Ok(r) => {
            *p.report.updated.entry("issues").or_default() += 1;
            match action {
                "close" => p.report.closed += 1,
                "reopen" => p.report.reopened += 1,
                _ => {}
            }
            record(p, f, &r, synced)?;
        }
        Err(e) => {
            let _ = p.fail(describe(&issue), &e);
        }
    }
    Ok(())
}

pub(super) async fn create_issue(
    p: &mut Pusher<'_>,
    f: &mut ItemFile<Issue>,
    shape: RemoteShape,
    milestone: Option<u64>,
) -> Result<(), SyncError> {
    let issue = f.item().clone();
    p.plan("create", describe(&issue), Vec::new());
    if shape.state == RemoteState::Closed {
        p.plan("close", describe(&issue), vec!["state"]);
    }
    if p.opts.dry_run {
        return Ok(());
    }
    let intent_path = intent::begin(
        p.store,
        &Intent {
            kind: IntentKind::Issue,
            issue: issue.id.to_string(),
            number: None,
            title: shape.title.clone(),
            body: shape.body.clone(),
            since: p.since,
            at: None,
        },
    )?;
    let made = p
        .tracker
        .create_issue(NewIssue {
            title: shape.title.clone(),
            body: shape.body.clone(),
            labels: shape.labels.clone(),
            assignees: shape.assignees.clone(),
            milestone,
        })
        .await;
    let mut r = match made {
        Ok(r) => r,
        Err(e) => {
            // An ambiguous create may exist on GitHub: its intent stays, and the next run looks
            // for it before creating anything. Any other failure made nothing.
            if !matches!(e, TrackerError::Ambiguous { .. }) {
                intent::done(p.store, &intent_path)?;
            }
            let _ = p.fail(describe(&issue), &e);
            return Ok(());
        }
    };
    *p.report.created.entry("issues").or_default() += 1;
    if shape.state == RemoteState::Closed {
        let close = IssuePatch {
            state: Some(RemoteState::Closed),
            state_reason: shape.state_reason.map(str::to_owned),
            ..IssuePatch::default()
        };
        match p.tracker.update_issue(r.number, close).await {
            Ok(closed) => {
                p.report.closed += 1;
                r = closed;
            }
            // Linked as open: the file then differs from its base and the close is retried
            // by the next push.
            Err(e) => {
                let _ = p.fail(format!("issue #{} (close)", r.number), &e);
            }
        }
    }
    p.db_ids.insert(r.number, r.id);
    let synced = if p.opts.mapping.native_relations {
        let mut waiting = false;
        let now = push_relations(p, &issue, r.number, &Rels::default(), &mut waiting).await?;
        if waiting {
            p.waiting.push(issue.id.clone());
        }
        Some(now)
    } else {
        None
    };
    if r.state == shape.state {
        record(p, f, &r, synced)?;
    } else {
        link(p.store, &p.opts.mapping, f, &r, synced)?;
        p.issues_written.push(f.clone());
    }
    intent::done(p.store, &intent_path)?;
    Ok(())
}

/// Records what GitHub now holds as the file's content and base; `synced`: the relations
/// GitHub holds, when they travel natively (a relation not sent stays to push).
pub(super) fn record(
    p: &mut Pusher<'_>,
    f: &mut ItemFile<Issue>,
    r: &RemoteIssue,
    synced: Option<Rels>,
) -> Result<(), SyncError> {
    let mut next = f.item().clone();
    let title = p
        .milestones
        .iter()
        .find(|(_, n)| Some(**n) == r.milestone)
        .map(|(t, _)| t.clone());
    p.opts.mapping.apply_remote(&mut next, r, title);
    p.db_ids.insert(r.number, r.id);
    settle(p, f, next, synced)
}

/// Writes `next` as the file, in sync with GitHub except for the relations GitHub does not
/// hold yet (`synced` says which it does): the base records those, the file keeps its own.
fn settle(
    p: &mut Pusher<'_>,
    f: &mut ItemFile<Issue>,
    mut next: Issue,
    synced: Option<Rels>,
) -> Result<(), SyncError> {
    let hash = fingerprint(&next);
    if let Some(r) = next.remote.as_mut() {
        r.hash = Some(hash);
    }
    match synced.filter(|s| *s != Rels::of(&next)) {
        None => {
            *f.item_mut() = next;
            p.store.save_synced(f)?;
        }
        Some(s) => {
            let mut base = next.clone();
            s.set_on(&mut base);
            let hash = fingerprint(&base);
            for i in [&mut base, &mut next] {
                if let Some(r) = i.remote.as_mut() {
                    r.hash = Some(hash.clone());
                }
            }
            *f.item_mut() = next;
            p.store.save(f)?;
            p.store.write_base(f, &crate::conflicts::render(&base))?;
        }
    }
    p.report.files_written += 1;
    p.issues_written.push(f.clone());
    Ok(())
}

pub(super) fn describe(issue: &Issue) -> String {
    match issue.number() {
        Some(n) => format!("issue #{n} ({})", issue.id),
        None => format!("issue {} \"{}\"", issue.id, issue.title),
    }
}

/// Whether a comments file may hold a comment not yet pushed (one without an id), without
/// parsing it.
pub(super) fn may_have_local(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("- ") && !l.starts_with("- id:"))
}
