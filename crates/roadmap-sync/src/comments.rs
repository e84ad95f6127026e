//! Comments live beside the issue, in `.roadmap/comments/<id>.yml`: a YAML list ordered by
//! comment id, so that a new comment is an append in git and never touches the issue body a
//! user may be editing.

use std::path::{Path, PathBuf};

use roadmap_model::{Comment, ItemId, RemoteComment};
use roadmap_store::Store;

/// The comments file of an issue.
pub fn path(store: &Store, id: &ItemId) -> PathBuf {
    store.layout().comments_dir().join(format!("{id}.yml"))
}

/// Reads a comments file (missing: none).
pub fn read(path: &Path) -> Result<Vec<Comment>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) if t.trim().is_empty() => Ok(Vec::new()),
        Ok(t) => serde_saphyr::from_str(&t).map_err(|e| {
            format!(
                "{}: {}",
                path.display(),
                e.to_string().lines().next().unwrap_or_default()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Merges remote comments into an issue's file; writes only if something changed. Returns
/// whether it wrote.
pub fn merge(store: &Store, id: &ItemId, incoming: &[RemoteComment]) -> Result<bool, String> {
    let p = path(store, id);
    let mut list = read(&p)?;
    let before = list.clone();
    for c in incoming {
        let new = Comment {
            id: Some(c.id),
            author: c.author.clone(),
            created: Some(c.created_at),
            updated: Some(c.updated_at),
            body: c.body.clone(),
        };
        match list.iter_mut().find(|x| x.id == Some(c.id)) {
            Some(existing) => *existing = new,
            None => list.push(new),
        }
    }
    // Synced comments by id; local, unpushed ones (no id) stay last in their order.
    list.sort_by_key(|c| c.id.unwrap_or(u64::MAX));
    if list == before {
        return Ok(false);
    }
    let text = serde_saphyr::to_string(&list).map_err(|e| format!("{}: {e}", p.display()))?;
    store
        .write_atomic(&p, text.as_bytes())
        .map_err(|e| e.to_string())?;
    Ok(true)
}
