//! Labels: a conditional full listing into `labels.yml`.

use super::*;

pub(super) async fn pull_labels(
    tracker: &dyn Tracker,
    store: &Store,
    opts: &PullOptions,
    report: &mut PullReport,
) -> Result<(), TrackerError> {
    let mut counts = Counts::default();
    let mut labels = Vec::new();
    let mut pages = tracker.list_labels();
    while let Some(page) = pages.next().await {
        let items = counts.book(page?, "label", &mut report.failures);
        counts.fetched += items.len() as u64;
        labels.extend(items.into_iter().map(|l| Label {
            name: l.name,
            color: l.color,
            description: l.description,
        }));
    }
    let path = store.layout().dir().join("labels.yml");
    let text = serde_saphyr::to_string(&labels).unwrap_or_default();
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
        counts.unchanged = counts.fetched;
    } else if !opts.dry_run {
        match store.write_atomic(&path, text.as_bytes()) {
            Ok(_) => {
                counts.updated = counts.fetched;
                report.files_written += 1;
            }
            Err(e) => {
                counts.failed += 1;
                report.failures.push(ItemFailure {
                    what: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
        }
    }
    report.resources.insert("labels", counts);
    Ok(())
}
