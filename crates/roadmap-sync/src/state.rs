//! Sync state (`.roadmap/sync/state.json`, text, committed: it changes only when the data
//! does), the statistics of the last run (`.roadmap/sync/last-run.json`, git-ignored: they
//! change with every run) and the project lock.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;

use roadmap_model::Timestamp;
use roadmap_store::Store;
use serde::{Deserialize, Serialize};

use crate::SyncError;

/// The state format version.
pub const STATE_VERSION: u32 = 1;

/// What a sync remembers between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    /// Format version.
    pub version: u32,
    /// `owner/name` the watermarks belong to.
    pub repo: String,
    /// Highest `updated_at` seen per resource (`issues`, `comments`), from GitHub's clock.
    #[serde(default)]
    pub watermarks: BTreeMap<String, Timestamp>,
    /// Issues edited on both sides, left alone until resolved.
    #[serde(default)]
    pub conflicts: Vec<String>,
    /// How issue relations travel to this repository, once a pull has seen (absent: not yet
    /// known; they travel in the hidden block).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relations: Option<RelationsMode>,
    /// Whether the repository's issue listings name a sub-issue's parent
    /// (`parent_issue_url`): until one is seen, a pull leaves `parent` as last synced.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parent_urls: bool,
    /// The last pull, kept apart in `sync/last-run.json` so that a pull that changed nothing
    /// leaves the committed files as they were (older `state.json` files that hold it still
    /// load).
    #[serde(default, skip_serializing)]
    pub last_run: Option<LastRun>,
}

/// How issue relations (`depends_on`, `blocks`, `parent`) travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelationsMode {
    /// Through GitHub's dependencies and sub-issues: its issues carry relation summaries.
    Native,
    /// In the hidden block: the host's issues carry no relation summaries.
    Hidden,
    /// In the hidden block: the host sends summaries, but its relation endpoints answered
    /// 404 (turned off, or not for this token). Kept until the state is reset.
    Unavailable,
}

/// A summary of the last pull.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    /// When it finished (local clock, for display only).
    pub finished: Option<Timestamp>,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// API requests.
    pub api_calls: u64,
    /// Whether some item failed.
    pub partial: bool,
}

fn path(store: &Store) -> PathBuf {
    store.layout().sync_dir().join("state.json")
}

fn last_run_path(store: &Store) -> PathBuf {
    store.layout().sync_dir().join("last-run.json")
}

/// The `.gitignore` line for the run statistics, added to projects made before they moved.
const IGNORE_LAST_RUN: &str = "/sync/last-run.json";

impl SyncState {
    /// Reads the state; a missing file is a fresh state, a state of another repository or
    /// version is discarded (a full pull follows).
    pub fn load(store: &Store, repo: &str) -> Result<SyncState, SyncError> {
        let fresh = SyncState {
            version: STATE_VERSION,
            repo: repo.to_owned(),
            ..SyncState::default()
        };
        let p = path(store);
        let text = match store.read_file(&p) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(roadmap_store::StoreError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(fresh);
            }
            Err(e) => {
                return Err(SyncError::State {
                    path: p,
                    message: e.to_string(),
                });
            }
        };
        match serde_json::from_str::<SyncState>(&text) {
            Ok(mut s) if s.version == STATE_VERSION && s.repo.eq_ignore_ascii_case(repo) => {
                // Statistics are only for display: an unreadable file is no statistics.
                if let Ok(t) = store.read_file(&last_run_path(store))
                    && let Ok(r) = serde_json::from_slice::<LastRun>(&t)
                {
                    s.last_run = Some(r);
                }
                Ok(s)
            }
            Ok(s) => {
                if s.version == STATE_VERSION {
                    // The project changed repository on purpose (a flag, a rename); a facade
                    // refuses a tracker for another repository than the project's.
                    tracing::info!(
                        "{}: the watermarks are for {}, not {repo}: pulling everything again",
                        p.display(),
                        s.repo
                    );
                }
                Ok(fresh)
            }
            Err(e) => Err(SyncError::State {
                path: p,
                message: e.to_string(),
            }),
        }
    }

    /// Writes the state atomically.
    pub fn save(&self, store: &Store) -> Result<(), SyncError> {
        let mut text = serde_json::to_string_pretty(self).map_err(|e| SyncError::State {
            path: path(store),
            message: e.to_string(),
        })?;
        text.push('\n');
        // Rewrite only a changed state: an unchanged file keeps its bytes and its mtime.
        if fs_err::read_to_string(path(store)).ok().as_deref() != Some(text.as_str()) {
            store.write_atomic(&path(store), text.as_bytes())?;
        }
        if let Some(r) = &self.last_run {
            let mut t = serde_json::to_string_pretty(r).map_err(|e| SyncError::State {
                path: last_run_path(store),
                message: e.to_string(),
            })?;
            t.push('\n');
            store.write_atomic(&last_run_path(store), t.as_bytes())?;
            ignore_last_run(store)?;
        }
        Ok(())
    }
}

/// Projects made before the statistics moved out of `state.json` get the ignore line once.
fn ignore_last_run(store: &Store) -> Result<(), SyncError> {
    ensure_ignored(store, IGNORE_LAST_RUN)
}

/// Adds `line` to `.roadmap/.gitignore` unless it is there.
fn ensure_ignored(store: &Store, line: &str) -> Result<(), SyncError> {
    let p = store.layout().gitignore();
    let Ok(text) = fs_err::read_to_string(&p) else {
        return Ok(());
    };
    if text.lines().any(|l| l.trim() == line) {
        return Ok(());
    }
    let mut text = text;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    store.write_atomic(&p, text.as_bytes())?;
    Ok(())
}

/// Where an interrupted full listing of `kind` stands (`.roadmap/sync/pulling/KIND.json`,
/// git-ignored): written with the files of each page, removed when the listing completes.
pub(crate) mod checkpoint {
    use roadmap_model::Resume;
    use roadmap_store::Store;

    use crate::SyncError;

    const IGNORE: &str = "/sync/pulling/";

    fn path(store: &Store, kind: &str) -> std::path::PathBuf {
        store
            .layout()
            .sync_dir()
            .join("pulling")
            .join(format!("{kind}.json"))
    }

    /// The saved position, if any (an unreadable one is reported and ignored: the listing
    /// starts over).
    pub(crate) fn load(store: &Store, kind: &str) -> Option<Resume> {
        let p = path(store, kind);
        let bytes = store.read_file(&p).ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(
                    "{}: unreadable, starting the listing over: {e}",
                    p.display()
                );
                None
            }
        }
    }

    pub(crate) fn save(store: &Store, kind: &str, r: &Resume) -> Result<(), SyncError> {
        let p = path(store, kind);
        if let Some(dir) = p.parent() {
            fs_err::create_dir_all(dir)?;
        }
        let text = serde_json::to_vec(r).map_err(|e| SyncError::State {
            path: p.clone(),
            message: e.to_string(),
        })?;
        store.write_atomic(&p, &text)?;
        super::ensure_ignored(store, IGNORE)
    }

    pub(crate) fn clear(store: &Store, kind: &str) -> Result<(), SyncError> {
        let p = path(store, kind);
        if p.exists() {
            store.remove(&p)?;
        }
        Ok(())
    }
}

/// An exclusive lock on the project for the length of a sync; released on drop (and by the
/// OS if the process dies).
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

impl ProjectLock {
    /// Takes the lock, or fails at once with a clear message if another process holds it.
    pub fn acquire(store: &Store) -> Result<ProjectLock, SyncError> {
        let p = store.layout().lock();
        // Never through a symlink: a clone could point the lock at any file of the user's.
        for x in [store.layout().dir(), p.as_path()] {
            if std::fs::symlink_metadata(x).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(SyncError::Store(roadmap_store::StoreError::UnsafePath(
                    x.to_owned(),
                )));
            }
        }
        let file = fs_err::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)?
            .into_parts()
            .0;
        match file.try_lock() {
            Ok(()) => {
                // Whoever held the lock before may have died mid-write.
                let swept = store.sweep_temp();
                if swept > 0 {
                    tracing::info!(swept, "removed temp files left by an interrupted run");
                }
                Ok(ProjectLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(SyncError::Locked(p)),
            Err(std::fs::TryLockError::Error(e)) => Err(SyncError::Io(e)),
        }
    }
}
