//! Comments: the repository-wide listing since the watermark, into each issue's comments file.

use super::*;

pub(super) async fn pull_comments(
    store: &Store,
    index: &Index<'_>,
    opts: &PullOptions,
    since: Option<Timestamp>,
    mut pages: BoxStream<'_, Result<Page<RemoteComment>, TrackerError>>,
    report: &mut PullReport,
) -> Result<Option<Timestamp>, TrackerError> {
    let numbers = index.issue_numbers().await.map_err(index_failure)?;
    let mut counts = Counts::default();
    let mut max_seen = since;
    let mut failed = false;
    let mut split: Option<Resume> = None;
    while let Some(page) = pages.next().await {
        let mut page = page?;
        let resume = page.resume.take();
        let rejected_before = counts.failed;
        let items = counts.book(page, "comment", &mut report.failures);
        failed |= counts.failed > rejected_before;
        let mut by_issue: HashMap<u64, Vec<RemoteComment>> = HashMap::new();
        for c in items {
            counts.fetched += 1;
            max_seen = max_seen.max(Some(c.updated_at));
            by_issue.entry(c.issue_number).or_default().push(c);
        }
        let mut jobs = Vec::new();
        for (number, list) in by_issue {
            let Some(path) = numbers.get(&number) else {
                // A pull request's comments, or an issue we do not hold.
                counts.skipped += list.len() as u64;
                continue;
            };
            let Some(id) = crate::id_of(path) else {
                continue;
            };
            jobs.push((id, list));
        }
        if opts.dry_run {
            continue;
        }
        let checkpoint_after = resume;
        let per = jobs.len().div_ceil(opts.workers.max(1)).max(1);
        let mut tasks = Vec::new();
        for chunk in jobs.chunks(per) {
            let chunk = chunk.to_vec();
            let store = store.clone();
            tasks.push(tokio::task::spawn_blocking(move || {
                chunk
                    .iter()
                    .map(|(id, list)| (id.clone(), comments::merge(&store, id, list)))
                    .collect::<Vec<_>>()
            }));
        }
        for t in tasks {
            for (id, r) in t.await.unwrap_or_default() {
                match r {
                    Ok(true) => {
                        counts.updated += 1;
                        report.files_written += 1;
                    }
                    Ok(false) => counts.unchanged += 1,
                    Err(e) => {
                        counts.failed += 1;
                        failed = true;
                        report.failures.push(ItemFailure {
                            what: format!("comments of {id}"),
                            reason: e.to_string(),
                        });
                    }
                }
            }
        }
        if let Some(r) = checkpoint_after {
            if let Err(e) = checkpoint::save(store, "comments", &r) {
                report.failures.push(ItemFailure {
                    what: "the pull's checkpoint".into(),
                    reason: e.to_string(),
                });
            }
            split = Some(r);
        }
    }
    report.resources.insert("comments", counts);
    if failed {
        return Ok(None);
    }
    Ok(match split {
        Some(r) => Some(r.began),
        None => max_seen,
    })
}
