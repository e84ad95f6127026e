//! Comments live beside the issue, in `.roadmap/comments/<id>.yml`: a YAML list ordered by
//! comment id, so that a new comment is an append in git and never touches the issue body a
//! user may be editing.

use std::path::{Path, PathBuf};

use roadmap_model::{Comment, ItemId, RemoteComment};
use roadmap_store::Store;

/// A comments file that cannot be used, or a comment GitHub would refuse.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommentsError {
    /// The comment itself (empty, over-long): what `validate` says.
    #[error("the comment {0}")]
    Invalid(String),
    /// The file does not parse (not UTF-8, not YAML, not a list of comments).
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong, on one line.
        message: String,
    },
    /// It cannot be read or written (a symlink is refused here).
    #[error(transparent)]
    Store(#[from] roadmap_store::StoreError),
}

/// The comments file of an issue.
pub fn path(store: &Store, id: &ItemId) -> PathBuf {
    store.layout().comments_dir().join(format!("{id}.yml"))
}

/// Reads a comments file (missing: none); never through a symlink, which a clone could point
/// at any file whose text a push would then post.
pub fn read(store: &Store, path: &Path) -> Result<Vec<Comment>, CommentsError> {
    let bytes = match store.read_file(path) {
        Ok(b) => b,
        Err(roadmap_store::StoreError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.into()),
    };
    let bad = |message: String| CommentsError::File {
        path: path.to_owned(),
        message,
    };
    let t = String::from_utf8(bytes).map_err(|_| bad("not UTF-8".into()))?;
    // A byte order mark some editors write is not text.
    let t = t.strip_prefix('\u{feff}').unwrap_or(&t);
    if t.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_saphyr::from_str(t)
        .map_err(|e| bad(e.to_string().lines().next().unwrap_or_default().to_owned()))
}

/// Adds a local comment to an issue's file (sent by the next push); returns the file.
pub fn add(store: &Store, id: &ItemId, body: &str) -> Result<PathBuf, CommentsError> {
    if let Some(why) = crate::validate::comment_problem(body) {
        return Err(CommentsError::Invalid(why));
    }
    let p = path(store, id);
    let mut list = read(store, &p)?;
    list.push(Comment {
        id: None,
        author: String::new(),
        created: roadmap_model::Timestamp::from_unix(chrono::Utc::now().timestamp()),
        updated: None,
        body: body.to_owned(),
    });
    let text = serde_saphyr::to_string(&list).map_err(|e| CommentsError::File {
        path: p.clone(),
        message: e.to_string(),
    })?;
    store.write_atomic(&p, text.as_bytes())?;
    Ok(p)
}

/// Merges remote comments into an issue's file; writes only if something changed. Returns
/// whether it wrote.
pub fn merge(
    store: &Store,
    id: &ItemId,
    incoming: &[RemoteComment],
) -> Result<bool, CommentsError> {
    let p = path(store, id);
    let mut list = read(store, &p)?;
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
    let text = serde_saphyr::to_string(&list).map_err(|e| CommentsError::File {
        path: p.clone(),
        message: e.to_string(),
    })?;
    store.write_atomic(&p, text.as_bytes())?;
    Ok(true)
}
