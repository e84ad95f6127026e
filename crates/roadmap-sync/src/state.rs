//! Sync state (`.roadmap/sync/state.json`, text) and the project lock.

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
    /// The last pull.
    #[serde(default)]
    pub last_run: Option<LastRun>,
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
        let text = match fs_err::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(fresh),
            Err(e) => return Err(SyncError::Io(e)),
        };
        match serde_json::from_str::<SyncState>(&text) {
            Ok(s) if s.version == STATE_VERSION && s.repo.eq_ignore_ascii_case(repo) => Ok(s),
            Ok(_) => Ok(fresh),
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
        store.write_atomic(&path(store), text.as_bytes())?;
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
