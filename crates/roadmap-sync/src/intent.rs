//! Intent records: exactly-once creates across crashes.
//!
//! Before a create is sent, an intent naming what is about to be created is written (durably)
//! to `.roadmap/sync/intents/`; once the created item is recorded locally, the intent is
//! removed. An intent found at the start of a run means the previous run stopped somewhere in
//! between: the remote is searched for the item (by the local id in its hidden block, or by
//! its exact title and body), and a find is linked instead of created again.

use std::path::PathBuf;

use roadmap_model::Timestamp;
use roadmap_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What kind of item an intent creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum IntentKind {
    Issue,
    Comment,
}

/// A create about to be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Intent {
    pub kind: IntentKind,
    /// The local issue id (the issue created, or the one commented on).
    pub issue: String,
    /// The GitHub number of the issue commented on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// The exact title sent (issues).
    #[serde(default)]
    pub title: String,
    /// The exact body sent.
    pub body: String,
    /// The listing watermark when the create began: the item, if made, is listed since then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// When the intent was recorded (local clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
}

/// Clocks differ: a remote item counts as made after an intent if it was created no more than
/// this long before the intent's local time.
const CLOCK_SKEW: i64 = 300;

impl Intent {
    /// Whether `created_at` (GitHub's clock) can be the create this intent recorded: not before
    /// the intent was written. An issue made earlier, by anyone, is never taken for ours.
    pub(crate) fn could_have_made(&self, created_at: Timestamp) -> bool {
        let after_since = self.since.is_none_or(|s| created_at >= s);
        let after_at = self
            .at
            .is_none_or(|a| created_at.0.timestamp() >= a.0.timestamp() - CLOCK_SKEW);
        after_since && after_at
    }

    /// Whether `remote` may be linked to this intent's local issue: made after the intent, and
    /// by the user this client acts as when that is known (`viewer`). Anyone can write a
    /// hidden block or copy a title; only a create of ours is taken for ours.
    pub(crate) fn may_link(
        &self,
        remote: &roadmap_model::RemoteIssue,
        viewer: Option<&str>,
    ) -> bool {
        self.could_have_made(remote.created_at)
            && viewer.is_none_or(|v| v.eq_ignore_ascii_case(&remote.author))
    }
}

impl Intent {
    fn file_name(&self) -> String {
        match self.kind {
            IntentKind::Issue => format!("issue-{}.json", self.issue),
            IntentKind::Comment => {
                let h = Sha256::digest(self.body.as_bytes());
                format!("comment-{}-{}.json", self.issue, hex::encode(&h[..6]))
            }
        }
    }
}

/// Writes an intent; returns its file.
pub(crate) fn begin(store: &Store, intent: &Intent) -> Result<PathBuf, StoreError> {
    let p = store.layout().intents_dir().join(intent.file_name());
    let mut intent = intent.clone();
    intent.at = intent
        .at
        .or_else(|| Timestamp::from_unix(chrono::Utc::now().timestamp()));
    let text = serde_json::to_string_pretty(&intent).unwrap_or_default();
    store.write_atomic(&p, text.as_bytes())?;
    Ok(p)
}

/// Removes a fulfilled intent.
pub(crate) fn done(store: &Store, path: &std::path::Path) -> Result<(), StoreError> {
    if path.exists() {
        store.remove(path)?;
    }
    Ok(())
}

/// The intents left by an interrupted run; unreadable ones are returned as errors to report.
pub(crate) fn pending(store: &Store) -> Vec<(PathBuf, Result<Intent, String>)> {
    let mut out: Vec<_> = std::fs::read_dir(store.layout().intents_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let r = store
                .read_file(&p)
                .map_err(|e| e.to_string())
                .and_then(|b| String::from_utf8(b).map_err(|e| e.to_string()))
                .and_then(|t| serde_json::from_str::<Intent>(&t).map_err(|e| e.to_string()));
            (p, r)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}
