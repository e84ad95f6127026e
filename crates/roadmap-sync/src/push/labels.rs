//! Labels: created on GitHub before an issue that carries a new one is sent.

use super::*;

pub(super) fn read_labels(store: &Store) -> Vec<String> {
    let path = store.layout().dir().join("labels.yml");
    store
        .read_file(&path)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| serde_saphyr::from_str::<Vec<roadmap_model::Label>>(&t).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.name)
        .collect()
}

pub(super) async fn create_label(p: &mut Pusher<'_>, name: String) -> Result<(), SyncError> {
    p.plan("create-label", format!("label {name}"), Vec::new());
    if p.opts.dry_run {
        return Ok(());
    }
    let label = NewLabel {
        name: name.clone(),
        color: p.opts.label_color.clone(),
        description: None,
    };
    match p.tracker.create_label(label).await {
        Ok(l) => {
            *p.report.created.entry("labels").or_default() += 1;
            let path = p.store.layout().dir().join("labels.yml");
            let mut all: Vec<roadmap_model::Label> = p
                .store
                .read_file(&path)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| serde_saphyr::from_str(&t).ok())
                .unwrap_or_default();
            all.push(roadmap_model::Label {
                name: l.name,
                color: l.color,
                description: l.description,
            });
            let text = serde_saphyr::to_string(&all).unwrap_or_default();
            p.store.write_atomic(&path, text.as_bytes())?;
            p.report.files_written += 1;
        }
        // Made by someone else (or by our earlier, interrupted run): it exists, which is all
        // we need.
        Err(TrackerError::Validation { message, .. }) if message.contains("already_exists") => {}
        Err(e) => {
            let _ = p.fail(format!("label {name}"), &e);
        }
    }
    Ok(())
}
