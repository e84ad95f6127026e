//! Issue relations: dependencies (`…/dependencies/blocked_by`, `…/dependencies/blocking`) and
//! sub-issues (`…/sub_issues`, `…/sub_issue`, `…/sub_issues/priority`).
//!
//! Writes name the other issue by its database id, as GitHub's do. A write is not sent
//! twice blindly: after any failure (a 422 for a relation that already exists, or a 5xx
//! that may have acted), the relation listing says whether the change is in place, and a
//! change that is in place is a success. So "add" and "remove" are idempotent for the sync
//! engine, which may repeat them after an interrupted run.

use futures::stream::StreamExt;
use http::Method;
use roadmap_model::{RemoteIssue, SubIssuePlace, TrackerError};
use serde_json::{Value, json};

use crate::{GitHub, parse};

const BLOCKED_BY: &str = "GET /repos/{owner}/{repo}/issues/{n}/dependencies/blocked_by";
const BLOCKING: &str = "GET /repos/{owner}/{repo}/issues/{n}/dependencies/blocking";
const SUB_ISSUES: &str = "GET /repos/{owner}/{repo}/issues/{n}/sub_issues";

/// Which relation listing.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Listing {
    BlockedBy,
    Blocking,
    SubIssues,
}

impl Listing {
    fn tail(self) -> &'static str {
        match self {
            Listing::BlockedBy => "dependencies/blocked_by",
            Listing::Blocking => "dependencies/blocking",
            Listing::SubIssues => "sub_issues",
        }
    }
    fn endpoint(self) -> &'static str {
        match self {
            Listing::BlockedBy => BLOCKED_BY,
            Listing::Blocking => BLOCKING,
            Listing::SubIssues => SUB_ISSUES,
        }
    }
}

impl GitHub {
    /// Every issue of a relation listing of issue `number`, all pages. Each page is asked for
    /// conditionally like every listing: a 304 proves the list unchanged (the ETag is the
    /// list's own, whatever the issue's `updated_at` says).
    pub(crate) async fn related(
        &self,
        number: u64,
        which: Listing,
    ) -> Result<Vec<RemoteIssue>, TrackerError> {
        let what = format!("{} of {}#{number}", which.tail(), self.what);
        let first = format!("{}/{}?per_page=100", self.issue_path(number), which.tail());
        let mut pages = self.list(first, which.endpoint(), parse::issue, false);
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page?;
            if let Some((item, why)) = page.rejected.first() {
                // A relation dropped here would be removed by the next push: refuse the list.
                return Err(TrackerError::Other {
                    what,
                    message: format!("{item}: {why}"),
                });
            }
            out.extend(page.items);
        }
        Ok(out)
    }

    /// Sends a relation write; after a failure, `in_place` (which reads the relation
    /// listing) decides: a change already in place is a success.
    async fn relation_write<F, Fut>(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        endpoint: &str,
        what: &str,
        in_place: F,
    ) -> Result<(), TrackerError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<bool, TrackerError>>,
    {
        match self
            .core
            .send(method, path, body, endpoint, what, true)
            .await
        {
            Ok(_) => Ok(()),
            Err(f) => match &f.error {
                TrackerError::Validation { .. }
                | TrackerError::NotFound { .. }
                | TrackerError::Transient { .. }
                | TrackerError::Other { .. } => match in_place().await {
                    Ok(true) => Ok(()),
                    // The listing failed too (a host without the endpoints: 404), or the
                    // change is not there: the write's own error says why.
                    Ok(false) | Err(_) if f.ambiguous => Err(TrackerError::Ambiguous {
                        what: what.into(),
                        message: f.error.to_string(),
                    }),
                    Ok(false) | Err(_) => Err(f.error),
                },
                _ => Err(f.error),
            },
        }
    }

    pub(crate) async fn set_blocked_by(
        &self,
        number: u64,
        blocker_id: u64,
        on: bool,
    ) -> Result<(), TrackerError> {
        let base = format!("{}/dependencies/blocked_by", self.issue_path(number));
        let what = format!(
            "{} dependency of {}#{number} on issue id {blocker_id}",
            if on { "new" } else { "removed" },
            self.what
        );
        let in_place = || async move {
            let now = self.related(number, Listing::BlockedBy).await?;
            Ok(now.iter().any(|i| i.id == blocker_id) == on)
        };
        if on {
            let body = json!({ "issue_id": blocker_id });
            self.relation_write(
                Method::POST,
                &base,
                Some(&body),
                "POST /repos/{owner}/{repo}/issues/{n}/dependencies/blocked_by",
                &what,
                in_place,
            )
            .await
        } else {
            self.relation_write(
                Method::DELETE,
                &format!("{base}/{blocker_id}"),
                None,
                "DELETE /repos/{owner}/{repo}/issues/{n}/dependencies/blocked_by/{id}",
                &what,
                in_place,
            )
            .await
        }
    }

    pub(crate) async fn set_sub_issue(
        &self,
        parent: u64,
        child_id: u64,
        on: Option<bool>,
    ) -> Result<(), TrackerError> {
        let what = format!(
            "{} sub-issue id {child_id} of {}#{parent}",
            if on.is_some() { "new" } else { "removed" },
            self.what
        );
        let in_place = || async move {
            let now = self.related(parent, Listing::SubIssues).await?;
            Ok(now.iter().any(|i| i.id == child_id) == on.is_some())
        };
        match on {
            Some(replace_parent) => {
                let body = json!({ "sub_issue_id": child_id, "replace_parent": replace_parent });
                self.relation_write(
                    Method::POST,
                    &format!("{}/sub_issues", self.issue_path(parent)),
                    Some(&body),
                    "POST /repos/{owner}/{repo}/issues/{n}/sub_issues",
                    &what,
                    in_place,
                )
                .await
            }
            None => {
                let body = json!({ "sub_issue_id": child_id });
                self.relation_write(
                    Method::DELETE,
                    &format!("{}/sub_issue", self.issue_path(parent)),
                    Some(&body),
                    "DELETE /repos/{owner}/{repo}/issues/{n}/sub_issue",
                    &what,
                    in_place,
                )
                .await
            }
        }
    }

    pub(crate) async fn place_sub_issue(
        &self,
        parent: u64,
        child_id: u64,
        place: SubIssuePlace,
    ) -> Result<(), TrackerError> {
        let what = format!("order of sub-issue id {child_id} of {}#{parent}", self.what);
        let body = match place {
            SubIssuePlace::After(a) => json!({ "sub_issue_id": child_id, "after_id": a }),
            SubIssuePlace::Before(b) => json!({ "sub_issue_id": child_id, "before_id": b }),
        };
        self.core
            .send(
                Method::PATCH,
                &format!("{}/sub_issues/priority", self.issue_path(parent)),
                Some(&body),
                "PATCH /repos/{owner}/{repo}/issues/{n}/sub_issues/priority",
                &what,
                true,
            )
            .await
            .map(|_| ())
            .map_err(|f| f.error)
    }
}
