//! Keeps an index in step with its files as they change (for `roadmap watch`, editors and
//! long-running embedders). Events are coalesced by notify-debouncer-mini.

use std::time::Duration;

use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
use roadmap_store::{Kind, Store};
use tokio::sync::mpsc;

use crate::{Index, IndexError, ReconcileReport};

/// What the watcher reports after each reconcile.
#[derive(Debug)]
#[non_exhaustive]
pub enum WatchEvent {
    /// Files changed and the index caught up.
    Reconciled(ReconcileReport),
    /// A reconcile failed; the watcher keeps going.
    Failed(IndexError),
}

/// The file watcher could not start (no inotify watches left, a folder that vanished).
#[derive(Debug, thiserror::Error)]
#[error("cannot watch the project's files: {0}")]
pub struct WatchError(#[from] notify_debouncer_mini::notify::Error);

/// A running watcher; dropping it stops watching.
#[derive(Debug)]
pub struct IndexWatcher {
    _debouncer: Debouncer<RecommendedWatcher>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for IndexWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An item file's change, not a write in progress (the store's `.tmp-` files).
fn relevant(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "md")
        && !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
}

impl IndexWatcher {
    /// Watches the item folders of `store` and reconciles its index after each burst of
    /// changes (changes within `debounce` of each other are one burst). The watcher owns
    /// its own [`Index`] of the store; any other index of it sees the same rows. Must be
    /// called inside a tokio runtime.
    pub fn start(
        store: Store,
        debounce: Duration,
        events: mpsc::UnboundedSender<WatchEvent>,
    ) -> Result<Self, WatchError> {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let mut debouncer = new_debouncer(debounce, move |res: DebounceEventResult| {
            if res.is_ok_and(|evs| evs.iter().any(|e| relevant(&e.path))) {
                let _ = tx.send(());
            }
        })?;
        for kind in [Kind::Issue, Kind::Milestone, Kind::Roadmap] {
            let dir = store.layout().kind_dir(kind);
            if dir.is_dir() {
                debouncer
                    .watcher()
                    .watch(&dir, RecursiveMode::NonRecursive)?;
            }
        }
        let task = tokio::spawn(async move {
            let index = match Index::open(&store).await {
                Ok(index) => index,
                Err(e) => {
                    let _ = events.send(WatchEvent::Failed(e));
                    return;
                }
            };
            let first = index.opened();
            if (first.updated > 0 || first.removed > 0 || first.rebuilt)
                && events.send(WatchEvent::Reconciled(first.clone())).is_err()
            {
                return;
            }
            while rx.recv().await.is_some() {
                while rx.try_recv().is_ok() {}
                let ev = match index.reconcile().await {
                    Ok(r) => WatchEvent::Reconciled(r),
                    Err(e) => WatchEvent::Failed(e),
                };
                if events.send(ev).is_err() {
                    break;
                }
            }
            index.close().await;
        });
        Ok(IndexWatcher {
            _debouncer: debouncer,
            task,
        })
    }
}
