//! Milestones: created when an issue names a new one, updated when edited here.

use super::*;

/// Plans a milestone create and, unless this is a dry run (`None`), sends it, closing the new
/// milestone after if asked.
pub(super) async fn create_remote_milestone(
    p: &mut Pusher<'_>,
    new: NewMilestone,
    closed: bool,
) -> Option<Result<roadmap_model::RemoteMilestone, TrackerError>> {
    p.plan(
        "create-milestone",
        format!("milestone \"{}\"", new.title),
        Vec::new(),
    );
    if p.opts.dry_run {
        return None;
    }
    let made = p.tracker.create_milestone(new).await;
    Some(match made {
        Ok(rm) if closed => {
            let patch = MilestonePatch {
                state: Some(RemoteState::Closed),
                ..MilestonePatch::default()
            };
            p.tracker.update_milestone(rm.number, patch).await
        }
        other => other,
    })
}

/// A milestone an issue names that neither GitHub nor a local file has: made on GitHub, then
/// recorded as `ms-<number>`.
pub(super) async fn create_missing_milestone(
    p: &mut Pusher<'_>,
    title: String,
) -> Result<(), SyncError> {
    let new = NewMilestone {
        title: title.clone(),
        ..NewMilestone::default()
    };
    let Some(made) = create_remote_milestone(p, new, false).await else {
        return Ok(());
    };
    match made {
        Ok(rm) => {
            *p.report.created.entry("milestones").or_default() += 1;
            p.milestones.insert(rm.title.clone(), rm.number);
            let mut m = Milestone::new(ItemId::for_remote_milestone(rm.number), &rm.title);
            apply_milestone(&mut m, &rm);
            p.milestones_written.push(p.store.create(m)?);
            p.report.files_written += 1;
        }
        Err(e) => {
            let _ = p.fail(format!("milestone \"{title}\""), &e);
        }
    }
    Ok(())
}

pub(super) async fn push_milestone(
    p: &mut Pusher<'_>,
    f: &mut ItemFile<Milestone>,
) -> Result<(), SyncError> {
    let m = f.item().clone();
    let desc = crate::pull::milestone_description(&m).filter(|d| !d.is_empty());
    let state = match m.state {
        roadmap_model::MilestoneState::Closed => RemoteState::Closed,
        _ => RemoteState::Open,
    };
    let result = match &m.remote {
        None => {
            let new = NewMilestone {
                title: m.title.clone(),
                description: desc.clone(),
                due_on: m.due,
            };
            let closed = state == RemoteState::Closed;
            let Some(made) = create_remote_milestone(p, new, closed).await else {
                return Ok(());
            };
            made.map(|rm| (rm, "created"))
        }
        Some(r) if r.hash.as_deref() != Some(milestone_fingerprint(&m).as_str()) => {
            let (patch, fields) = milestone_patch(p.store, &m, r.hash.as_deref());
            p.plan(
                "update-milestone",
                format!("milestone #{} \"{}\"", r.number, m.title),
                fields,
            );
            if p.opts.dry_run {
                return Ok(());
            }
            p.tracker
                .update_milestone(r.number, patch)
                .await
                .map(|rm| (rm, "updated"))
        }
        Some(_) => return Ok(()),
    };
    match result {
        Ok((rm, how)) => {
            let map = if how == "created" {
                &mut p.report.created
            } else {
                &mut p.report.updated
            };
            *map.entry("milestones").or_default() += 1;
            p.milestones.insert(rm.title.clone(), rm.number);
            let mut next = f.item().clone();
            apply_milestone(&mut next, &rm);
            *f.item_mut() = next;
            if p.store.save_synced(f)? {
                p.report.files_written += 1;
            }
            p.milestones_written.push(f.clone());
        }
        Err(e) => {
            let _ = p.fail(format!("milestone \"{}\"", m.title), &e);
        }
    }
    Ok(())
}

/// The fields of a milestone that differ from its sync base, each as the user wrote it. With
/// no usable base (missing, or not matching `remote.hash`) every field is sent.
pub(super) fn milestone_patch(
    store: &Store,
    m: &Milestone,
    hash: Option<&str>,
) -> (MilestonePatch, Vec<&'static str>) {
    let base = store
        .read_base::<Milestone>(&m.id)
        .map(|f| f.item().clone())
        .filter(|b| hash == Some(milestone_fingerprint(b).as_str()));
    let state = |s: roadmap_model::MilestoneState| match s {
        roadmap_model::MilestoneState::Closed => RemoteState::Closed,
        _ => RemoteState::Open,
    };
    let mut patch = MilestonePatch::default();
    let mut fields = Vec::new();
    let desc = crate::pull::milestone_description(m);
    if base.as_ref().is_none_or(|b| b.title != m.title) {
        patch.title = Some(m.title.clone());
        fields.push("title");
    }
    if base
        .as_ref()
        .is_none_or(|b| crate::pull::milestone_description(b) != desc)
    {
        patch.description = Some(desc.unwrap_or_default());
        fields.push("description");
    }
    if base.as_ref().is_none_or(|b| b.state != m.state) {
        patch.state = Some(state(m.state));
        fields.push("state");
    }
    // Dates compare as calendar dates: GitHub keeps a date, not an instant.
    let day = |d: Option<roadmap_model::Timestamp>| d.map(|t| t.0.date_naive());
    if base.as_ref().is_none_or(|b| day(b.due) != day(m.due)) {
        patch.due_on = Some(m.due);
        fields.push("due");
    }
    (patch, fields)
}
