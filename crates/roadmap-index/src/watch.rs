//! Keeps an index in step with its files as they change (for `roadmap watch`, editors and
//! long-running embedders).

use std::time::Duration;

use notify::{RecursiveMode, Watcher};
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

/// A running watcher; dropping it stops watching.
#[derive(Debug)]
pub struct IndexWatcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for IndexWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl IndexWatcher {
    /// Watches the project's item folders and reconciles `index` after each burst of changes
    /// (events within `debounce` are coalesced). Must be called inside a tokio runtime.
    pub fn start(
        index: Index,
        debounce: Duration,
        events: mpsc::UnboundedSender<WatchEvent>,
    ) -> Result<Self, notify::Error> {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                if let Ok(ev) = res {
                    let relevant = ev.paths.iter().any(|p| {
                        p.extension().is_some_and(|e| e == "md")
                            && !p
                                .file_name()
                                .is_some_and(|n| n.to_string_lossy().starts_with(".tmp-"))
                    });
                    if relevant {
                        let _ = tx.send(());
                    }
                }
            })?;
        let layout = index.store().layout().clone();
        for kind in [
            roadmap_store::Kind::Issue,
            roadmap_store::Kind::Milestone,
            roadmap_store::Kind::Roadmap,
        ] {
            let dir = layout.kind_dir(kind);
            if dir.is_dir() {
                watcher.watch(&dir, RecursiveMode::NonRecursive)?;
            }
        }
        let task = tokio::spawn(async move {
            while rx.recv().await.is_some() {
                // Coalesce a burst (an editor's save, a `git pull`).
                tokio::time::sleep(debounce).await;
                while rx.try_recv().is_ok() {}
                let ev = match index.reconcile().await {
                    Ok(r) => WatchEvent::Reconciled(r),
                    Err(e) => WatchEvent::Failed(e),
                };
                if events.send(ev).is_err() {
                    break;
                }
            }
        });
        Ok(IndexWatcher {
            _watcher: watcher,
            task,
        })
    }
}
