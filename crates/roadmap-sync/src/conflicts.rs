//! Issues edited on both sides on the same field.
//!
//! GitHub's version of each such issue is kept as text in `.roadmap/sync/conflicts/<id>.md`
//! (the same format as the issue file, so `diff` shows the conflict); the file itself is left
//! as the user had it. Nothing in conflict is pushed until it is resolved with
//! [`resolve`] (ours, theirs) or [`prepare_edit`] + [`finish_edit`].

use std::path::PathBuf;

use roadmap_model::{Issue, ItemId};
use roadmap_store::{Document, ItemFile, Store, StoreError};
use serde::Serialize;

use crate::map::fingerprint;
use crate::merge::{FieldConflict, Side, body_with_markers, has_markers, merge3};

/// The text of an issue file for `issue`.
pub fn render(issue: &Issue) -> String {
    Document::new(issue.clone(), issue.body.clone()).render()
}

fn path(store: &Store, id: &ItemId) -> PathBuf {
    store.layout().conflicts_dir().join(format!("{id}.md"))
}

/// Records GitHub's version of an issue in conflict.
pub fn record(store: &Store, theirs: &Issue) -> Result<(), StoreError> {
    store.write_atomic(&path(store, &theirs.id), render(theirs).as_bytes())?;
    Ok(())
}

/// Forgets a conflict (no error if there was none).
pub fn clear(store: &Store, id: &ItemId) -> Result<(), StoreError> {
    let p = path(store, id);
    if p.exists() {
        store.remove(&p)?;
    }
    Ok(())
}

/// The ids of the issues in conflict, sorted.
pub fn ids(store: &Store) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(store.layout().conflicts_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".md").map(str::to_owned)
        })
        .collect();
    out.sort();
    out
}

/// One issue in conflict.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// The issue's id.
    pub id: String,
    /// Its GitHub number.
    pub number: Option<u64>,
    /// Its local title.
    pub title: String,
    /// The fields changed differently on both sides.
    pub fields: Vec<FieldConflict>,
    /// The file holding GitHub's version.
    pub theirs_path: PathBuf,
}

/// Why a conflict could not be listed or resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConflictError {
    /// No conflict is recorded for this id.
    #[error("issue {0} is not in conflict")]
    NotInConflict(String),
    /// The edited copy still has conflict markers; the issue's file is unchanged.
    #[error(
        "{0}: the body still has conflict markers (<<<<<<< ... >>>>>>>); the issue's file is unchanged and your edit is kept there: edit it again to finish"
    )]
    Markers(PathBuf),
    /// The issue's file itself holds conflict markers (left by hand or by an older version):
    /// taking a side would keep them.
    #[error(
        "{0}: the file holds conflict markers (<<<<<<< ... >>>>>>>); remove them, or resolve with --edit"
    )]
    MarkersInFile(PathBuf),
    /// A file could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file did not parse.
    #[error(transparent)]
    Load(#[from] roadmap_store::LoadError),
}

struct Sides {
    ours: ItemFile<Issue>,
    theirs: ItemFile<Issue>,
    base: Option<ItemFile<Issue>>,
}

fn sides(store: &Store, id: &str) -> Result<Sides, ConflictError> {
    let id = ItemId::new(id).map_err(|_| ConflictError::NotInConflict(id.into()))?;
    let tp = path(store, &id);
    if !tp.exists() {
        return Err(ConflictError::NotInConflict(id.to_string()));
    }
    let theirs = store.load::<Issue>(&tp)?;
    let ours = store.get::<Issue>(&id)?;
    let hash = ours.item().remote.as_ref().and_then(|r| r.hash.clone());
    let base = store
        .read_base::<Issue>(&id)
        .filter(|b| Some(fingerprint(b.item())) == hash);
    Ok(Sides { ours, theirs, base })
}

/// Every conflict with its fields.
pub fn list(store: &Store) -> Result<Vec<Conflict>, ConflictError> {
    let mut out = Vec::new();
    for id in ids(store) {
        let s = sides(store, &id)?;
        let m = merge3(
            s.base.as_ref().map(ItemFile::item),
            s.ours.item(),
            s.theirs.item(),
            None,
        );
        out.push(Conflict {
            number: s.theirs.item().number(),
            title: s.ours.item().title.clone(),
            fields: m.conflicts,
            theirs_path: s.theirs.path.clone(),
            id,
        });
    }
    Ok(out)
}

/// Resolves a conflict: every field merges as usual and each conflicting one takes `side`.
/// GitHub's version becomes the sync base, so what is ours is pushed by the next push.
pub fn resolve(store: &Store, id: &str, side: Side) -> Result<PathBuf, ConflictError> {
    let Sides {
        mut ours,
        theirs,
        base,
    } = sides(store, id)?;
    if has_markers(&ours.item().body) || title_has_markers(&ours.item().title) {
        return Err(ConflictError::MarkersInFile(ours.path));
    }
    let merged = merge3(
        base.as_ref().map(ItemFile::item),
        ours.item(),
        theirs.item(),
        Some(side),
    );
    *ours.item_mut() = merged.issue;
    finish(store, &mut ours, theirs.item())?;
    Ok(ours.path)
}

/// Prepares a conflict for editing by hand, on a copy (`.roadmap/tmp/conflicts/ID.md`): every
/// field merged, ours where they conflict, and a body with conflict markers where the bodies
/// conflict. The issue's own file is left alone until [`finish_edit`] accepts the copy. A copy
/// left by an edit that did not finish is offered again as it was. Returns the copy and the
/// conflicting fields.
pub fn prepare_edit(
    store: &Store,
    id: &str,
) -> Result<(PathBuf, Vec<FieldConflict>), ConflictError> {
    let Sides {
        mut ours,
        theirs,
        base,
    } = sides(store, id)?;
    let b = base.as_ref().map(ItemFile::item);
    let m = merge3(b, ours.item(), theirs.item(), None);
    let copy = edit_copy(store, &ours.item().id);
    if copy.exists() {
        return Ok((copy, m.conflicts));
    }
    let mut issue = m.issue;
    if m.conflicts.iter().any(|c| c.field == "body") {
        issue.body = body_with_markers(b, ours.item(), theirs.item());
    }
    *ours.item_mut() = issue;
    store.write_atomic(&copy, ours.render().as_bytes())?;
    Ok((copy, m.conflicts))
}

/// Where a conflict is edited by hand.
fn edit_copy(store: &Store, id: &ItemId) -> PathBuf {
    // Named as the issue's own file (a file's name is its id).
    store
        .layout()
        .dir()
        .join("tmp")
        .join("conflicts")
        .join(format!("{id}.md"))
}

/// Ends a resolution by hand: takes the edited copy only if no conflict marker is left (the
/// issue's file stays as it was otherwise), then records GitHub's version as the base.
pub fn finish_edit(store: &Store, id: &str) -> Result<PathBuf, ConflictError> {
    let Sides {
        mut ours, theirs, ..
    } = sides(store, id)?;
    let copy = edit_copy(store, &ours.item().id);
    let edited = store.load::<Issue>(&copy)?;
    if has_markers(&edited.item().body) || title_has_markers(&edited.item().title) {
        return Err(ConflictError::Markers(copy));
    }
    let mut item = edited.item().clone();
    item.id = ours.item().id.clone();
    *ours.item_mut() = item;
    finish(store, &mut ours, theirs.item())?;
    store.remove(&copy)?;
    Ok(ours.path)
}

/// Whether a one-line field holds a conflict marker.
pub fn title_has_markers(title: &str) -> bool {
    title.contains("<<<<<<<") || title.contains(">>>>>>>")
}

fn finish(store: &Store, ours: &mut ItemFile<Issue>, theirs: &Issue) -> Result<(), StoreError> {
    ours.item_mut().remote = theirs.remote.clone();
    ours.item_mut().created = theirs.created;
    ours.item_mut().updated = theirs.updated;
    store.save(ours)?;
    store.write_base(ours, &render(theirs))?;
    clear(store, &theirs.id)
}
