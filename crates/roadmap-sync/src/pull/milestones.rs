//! Milestones: a conditional full listing, merged whole; a renamed milestone is renamed in
//! the issues that name it.

use super::*;

pub(super) fn local_milestone_titles(store: &Store) -> Result<HashMap<u64, String>, SyncError> {
    let all = store.load_all::<Milestone>()?;
    Ok(all
        .items
        .iter()
        .filter_map(|f| Some((f.item().remote.as_ref()?.number, f.item().title.clone())))
        .collect())
}

/// The description GitHub should hold for a milestone file (`None`: null).
pub(crate) fn milestone_description(m: &Milestone) -> Option<String> {
    m.remote
        .as_ref()
        .map(|r| r.body_form)
        .unwrap_or_default()
        .join(&m.body)
}

pub(crate) fn milestone_fingerprint(m: &Milestone) -> String {
    let mut h = Sha256::new();
    for part in [
        m.title.as_str(),
        m.state.as_str(),
        &m.due.map(|d| d.to_string()).unwrap_or_default(),
        &milestone_description(m).unwrap_or_default(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

pub(super) struct MilestoneChanges {
    pub(super) fresh: Vec<(u64, String)>,
    pub(super) renamed: Vec<(String, String)>,
}

pub(super) async fn pull_milestones(
    tracker: &dyn Tracker,
    store: &Store,
    index: &Index<'_>,
    opts: &PullOptions,
    report: &mut PullReport,
) -> Result<MilestoneChanges, TrackerError> {
    let mut local: HashMap<u64, ItemFile<Milestone>> = HashMap::new();
    // Milestones made here whose create was not recorded: linked by title (unique on GitHub).
    let mut unsynced: HashMap<String, ItemFile<Milestone>> = HashMap::new();
    if let Ok(all) = store.load_all::<Milestone>() {
        for f in all.items {
            match f.item().remote.as_ref().map(|r| r.number) {
                Some(n) => {
                    local.insert(n, f);
                }
                None => {
                    unsynced.insert(f.item().title.clone(), f);
                }
            }
        }
    }
    let mut counts = Counts::default();
    let mut changes = MilestoneChanges {
        fresh: Vec::new(),
        renamed: Vec::new(),
    };
    let mut written = Vec::new();
    let mut pages = tracker.list_milestones();
    while let Some(page) = pages.next().await {
        for rm in counts.book(page?, "milestone", &mut report.failures) {
            counts.fetched += 1;
            changes.fresh.push((rm.number, rm.title.clone()));
            let found = local
                .remove(&rm.number)
                .or_else(|| unsynced.remove(&rm.title));
            match found {
                None => {
                    let mut m =
                        Milestone::new(ItemId::for_remote_milestone(rm.number), rm.title.clone());
                    apply_milestone(&mut m, &rm);
                    if opts.dry_run {
                        counts.created += 1;
                        continue;
                    }
                    match store.create_synced(m) {
                        Ok(f) => {
                            counts.created += 1;
                            report.files_written += 1;
                            written.push(f);
                        }
                        Err(e) => {
                            counts.failed += 1;
                            report.failures.push(ItemFailure {
                                what: format!("milestone {}", rm.number),
                                reason: e.to_string(),
                            });
                        }
                    }
                }
                Some(mut f) => {
                    let edited = f
                        .item()
                        .remote
                        .as_ref()
                        .and_then(|r| r.hash.as_deref())
                        .is_some_and(|h| h != milestone_fingerprint(f.item()));
                    let old_title = f.item().title.clone();
                    let mut next = f.item().clone();
                    apply_milestone(&mut next, &rm);
                    let remote_changed = f.item().remote.as_ref().and_then(|r| r.hash.clone())
                        != next.remote.as_ref().and_then(|r| r.hash.clone());
                    if edited && remote_changed {
                        counts.conflicts += 1;
                        report.conflicts.push(f.item().id.to_string());
                        continue;
                    }
                    if edited {
                        counts.local_pending += 1;
                        continue;
                    }
                    *f.item_mut() = next;
                    if opts.dry_run {
                        counts.unchanged += 1;
                        continue;
                    }
                    match store.save_synced(&mut f) {
                        Ok(true) => {
                            counts.updated += 1;
                            report.files_written += 1;
                            if old_title != rm.title {
                                changes.renamed.push((old_title, rm.title.clone()));
                            }
                            written.push(f);
                        }
                        Ok(false) => counts.unchanged += 1,
                        Err(e) => {
                            counts.failed += 1;
                            report.failures.push(ItemFailure {
                                what: f.path.display().to_string(),
                                reason: e.to_string(),
                            });
                        }
                    }
                }
            }
        }
    }
    if !written.is_empty() {
        index
            .upsert_milestones(&written)
            .await
            .map_err(index_failure)?;
    }
    report.resources.insert("milestones", counts);
    Ok(changes)
}

pub(crate) fn apply_milestone(m: &mut Milestone, rm: &RemoteMilestone) {
    m.title = rm.title.clone();
    m.state = if rm.state == RemoteState::Closed {
        MilestoneState::Closed
    } else {
        MilestoneState::Open
    };
    m.due = rm.due_on;
    m.created = Some(rm.created_at);
    m.updated = Some(rm.updated_at);
    // The description exactly: null, CRLF and a missing final newline are recorded, not lost.
    let (body, form) = roadmap_model::TextForm::split(rm.description.as_deref());
    m.body = body;
    m.remote = Some(RemoteRef {
        number: rm.number,
        node_id: Some(rm.node_id.clone()).filter(|s| !s.is_empty()),
        url: Some(rm.html_url.clone()).filter(|s| !s.is_empty()),
        state: Some(rm.state.as_str().into()),
        updated_at: Some(rm.updated_at),
        body_form: form,
        ..RemoteRef::default()
    });
    let h = milestone_fingerprint(m);
    if let Some(r) = m.remote.as_mut() {
        r.hash = Some(h);
    }
}

/// A renamed milestone: its issues follow (GitHub does not bump them, so they are not re-listed).
pub(super) async fn rename_in_issues(
    store: &Store,
    index: &Index<'_>,
    renamed: &[(String, String)],
    report: &mut PullReport,
) -> Result<(), SyncError> {
    for (old, new) in renamed {
        let mut written = Vec::new();
        for path in index.issues_in_milestone(old).await? {
            let Ok(mut f) = store.load::<Issue>(&path) else {
                continue;
            };
            let edited = locally_edited(f.item());
            f.item_mut().milestone = Some(new.clone());
            if !edited {
                let h = fingerprint(f.item());
                if let Some(r) = f.item_mut().remote.as_mut() {
                    r.hash = Some(h);
                }
            }
            if store.save(&mut f)? {
                report.files_written += 1;
                written.push(f);
            }
        }
        index.upsert_issues(&written).await?;
    }
    Ok(())
}
