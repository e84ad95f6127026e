//! New comments: posted in order, each recorded in its issue's comments file.

use super::*;

pub(super) fn fill_comment(local: &mut Comment, remote: &roadmap_model::RemoteComment) {
    local.id = Some(remote.id);
    local.author = remote.author.clone();
    local.created = Some(remote.created_at);
    local.updated = Some(remote.updated_at);
}

pub(super) fn write_comments(
    store: &Store,
    path: &std::path::Path,
    list: &[Comment],
) -> Result<(), SyncError> {
    let text = serde_saphyr::to_string(&list).map_err(|e| SyncError::State {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    store.write_atomic(path, text.as_bytes())?;
    Ok(())
}

pub(super) async fn push_comments(p: &mut Pusher<'_>) -> Result<(), SyncError> {
    let dir = p.store.layout().comments_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|x| x.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    for path in files {
        if p.stopped() {
            break;
        }
        // A symlink is refused (and reported) by `comments::read`, never followed here.
        let text = p
            .store
            .read_file(&path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|_| "- refused".into());
        if !may_have_local(&text) {
            continue;
        }
        let Some(id) = crate::id_of(&path) else {
            continue;
        };
        let mut list = match comments::read(p.store, &path) {
            Ok(l) => l,
            Err(e) => {
                p.report.failures.push(ItemFailure {
                    what: path.display().to_string(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let Some(number) = p
            .store
            .get::<Issue>(&id)
            .ok()
            .and_then(|f| f.item().number())
        else {
            // The issue is not on GitHub yet (its create failed): its comments wait for it.
            p.report.pending += list.iter().filter(|c| c.id.is_none()).count() as u64;
            continue;
        };
        for i in 0..list.len() {
            if list[i].id.is_some() {
                continue;
            }
            if p.stopped() {
                p.report.pending += 1;
                continue;
            }
            let body = list[i].body.clone();
            p.plan("comment", format!("comment on issue #{number}"), Vec::new());
            if p.opts.dry_run {
                continue;
            }
            let intent_path = intent::begin(
                p.store,
                &Intent {
                    kind: IntentKind::Comment,
                    issue: id.to_string(),
                    number: Some(number),
                    title: String::new(),
                    body: body.clone(),
                    since: p.comments_since,
                    at: None,
                },
            )?;
            match p
                .tracker
                .create_comment(number, NewComment { body: body.clone() })
                .await
            {
                Ok(c) => {
                    fill_comment(&mut list[i], &c);
                    write_comments(p.store, &path, &list)?;
                    p.report.files_written += 1;
                    *p.report.created.entry("comments").or_default() += 1;
                }
                Err(e) => {
                    let _ = p.fail(format!("comment on issue #{number}"), &e);
                    if matches!(e, TrackerError::Ambiguous { .. }) {
                        // Looked for again, before anything is created, next run.
                        continue;
                    }
                }
            }
            intent::done(p.store, &intent_path)?;
        }
    }
    Ok(())
}
