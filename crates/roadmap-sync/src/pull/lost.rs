//! Issues that vanished from GitHub (deleted or transferred): found without a request per issue.

use super::*;

/// Missing issues up to this many are always looked up; above it, only while they are at
/// most a tenth of those held.
pub(super) const LOST_CHECK_MIN: usize = 20;

/// After a complete full listing: issues we hold that GitHub no longer lists were deleted or
/// transferred. Ask for each, mark the file, never delete it.
pub(super) async fn find_lost(
    tracker: &dyn Tracker,
    store: &Store,
    index: &Index<'_>,
    opts: &PullOptions,
    seen: &HashSet<u64>,
    report: &mut PullReport,
) -> Result<(), SyncError> {
    let numbers = index.issue_numbers().await?;
    let missing = numbers.keys().filter(|n| !seen.contains(n)).count();
    // A complete listing that lacks many of the issues we hold is far likelier to be a
    // listing cut short than a mass deletion: say so rather than send a GET for each.
    if missing > LOST_CHECK_MIN && missing * 10 > numbers.len() {
        report.failures.push(ItemFailure {
            what: "lost-issue check".into(),
            reason: format!(
                "{missing} of the {} issues held here are missing from GitHub's listing; not looking them up one by one (a listing cut short is likelier than that many deletions: run a full pull again)",
                numbers.len()
            ),
        });
        return Ok(());
    }
    let mut written = Vec::new();
    for (number, path) in numbers {
        if seen.contains(&number) {
            continue;
        }
        let Ok(mut f) = store.load::<Issue>(&path) else {
            continue;
        };
        if f.item().remote.as_ref().is_some_and(|r| r.lost.is_some()) {
            continue;
        }
        let fate = match tracker.get_issue(number).await {
            Err(TrackerError::Gone { .. } | TrackerError::NotFound { .. }) => "gone",
            Err(TrackerError::Moved { .. }) => "transferred",
            Err(e @ TrackerError::RateLimited { .. }) => return Err(e.into()),
            Err(e) => {
                report.failures.push(ItemFailure {
                    what: format!("issue #{number}"),
                    reason: e.to_string(),
                });
                continue;
            }
            Ok(_) => continue,
        };
        report.lost.push(format!("{}: {fate}", f.item().id));
        if opts.dry_run {
            continue;
        }
        if let Some(r) = f.item_mut().remote.as_mut() {
            r.lost = Some(fate.to_owned());
        }
        if store.save(&mut f)? {
            report.files_written += 1;
            written.push(f);
        }
    }
    index.upsert_issues(&written).await?;
    Ok(())
}
