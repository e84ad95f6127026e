//! The stages behind a pull's file writer, run beside it instead of after each page: the
//! index writer (one transaction for whatever pages have arrived) and the flusher (a deferred
//! store's writes made durable in the background, each checkpoint recorded only after a flush
//! that covers every file it counts).
//!
//! Both are safe to leave behind: the index is derived (the next reconcile reads any file it
//! does not know yet) and a checkpoint that was not saved only means a resumed pull reads a
//! few pages again.

use roadmap_index::Index;
use roadmap_model::{Issue, Resume, TrackerError};
use roadmap_store::{ItemFile, Store};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::ItemFailure;
use crate::state::checkpoint;

/// Rows the index writer puts in one transaction at most.
const INDEX_BATCH_MAX: usize = 1000;

/// Pages of written files the index writer may fall behind by before the file writer waits.
const INDEX_BACKLOG: usize = 8;

/// The sending side of an index writer: files written, to be recorded in the index.
pub(crate) struct IndexFeed(mpsc::Sender<Vec<ItemFile<Issue>>>);

impl IndexFeed {
    /// Hands written files to the index writer; waits while it is [`INDEX_BACKLOG`] behind.
    pub(crate) async fn send(&self, files: Vec<ItemFile<Issue>>) {
        if !files.is_empty() {
            // The writer only stops after the feed is dropped.
            let _ = self.0.send(files).await;
        }
    }
}

/// An index writer: run its future beside the file writer (`tokio::join!`) and drop the
/// [`IndexFeed`] when done; the future ends once it has recorded everything sent.
pub(crate) fn index_writer<'a>(
    index: &'a Index<'_>,
    batch_size: usize,
) -> (IndexFeed, impl Future<Output = Vec<ItemFailure>> + 'a) {
    let (tx, mut rx) = mpsc::channel::<Vec<ItemFile<Issue>>>(INDEX_BACKLOG);
    let min = batch_size.max(1);
    let run = async move {
        let mut failures = Vec::new();
        while let Some(mut batch) = rx.recv().await {
            // Whatever else has arrived goes into the same transaction: the writer keeps up by
            // committing less often when it falls behind, never fewer than `batch_size` rows
            // when that many are waiting.
            while batch.len() < INDEX_BATCH_MAX.max(min) {
                match rx.try_recv() {
                    Ok(more) => batch.extend(more),
                    Err(_) => break,
                }
            }
            if let Err(e) = index.upsert_issues(&batch).await {
                failures.push(ItemFailure {
                    what: "the index".into(),
                    reason: e.to_string(),
                });
            }
        }
        failures
    };
    (IndexFeed(tx), run)
}

type FlushOutcome = (Result<(), String>, Option<ItemFailure>);

/// Flushes a deferring store in the background while the pull writes on, then records the
/// listing's checkpoint for what that flush covered.
pub(crate) struct Flusher {
    /// The deferring store whose writes are flushed.
    fast: Store,
    /// Writes checkpoints (durably).
    store: Store,
    kind: &'static str,
    running: Option<JoinHandle<FlushOutcome>>,
    /// Pages were written since the running flush began; the newest position, if the listing
    /// is split.
    pending: Option<Option<Resume>>,
    failures: Vec<ItemFailure>,
}

impl Flusher {
    pub(crate) fn new(fast: Store, store: Store, kind: &'static str) -> Flusher {
        Flusher {
            fast,
            store,
            kind,
            running: None,
            pending: None,
            failures: Vec::new(),
        }
    }

    /// A page's files are all written (not yet flushed); `resume` is where the listing stands
    /// with them. Starts a flush unless one is running: the next one starts when it ends.
    pub(crate) async fn page_done(&mut self, resume: Option<Resume>) -> Result<(), TrackerError> {
        self.pending = Some(resume);
        if self.running.as_ref().is_some_and(|h| !h.is_finished()) {
            return Ok(());
        }
        self.reap().await?;
        self.start();
        Ok(())
    }

    /// Waits until everything written so far is flushed and the newest checkpoint saved;
    /// returns the checkpoints that could not be saved.
    pub(crate) async fn finish(mut self) -> Result<Vec<ItemFailure>, TrackerError> {
        self.reap().await?;
        if self.pending.is_some() {
            self.start();
            self.reap().await?;
        }
        Ok(self.failures)
    }

    fn start(&mut self) {
        let Some(resume) = self.pending.take() else {
            return;
        };
        let (fast, store, kind) = (self.fast.clone(), self.store.clone(), self.kind);
        self.running = Some(tokio::task::spawn_blocking(move || {
            if let Err(e) = fast.flush() {
                return (Err(e.to_string()), None);
            }
            let saved = resume.and_then(|r| {
                checkpoint::save(&store, kind, &r)
                    .err()
                    .map(|e| ItemFailure {
                        what: "the pull's checkpoint".into(),
                        reason: e.to_string(),
                    })
            });
            (Ok(()), saved)
        }));
    }

    async fn reap(&mut self) -> Result<(), TrackerError> {
        let Some(h) = self.running.take() else {
            return Ok(());
        };
        let (flushed, failure) = h.await.unwrap_or_else(|e| (Err(e.to_string()), None));
        self.failures.extend(failure);
        flushed.map_err(|message| TrackerError::Other {
            what: "flushing pulled files to disk".into(),
            message,
        })
    }
}
