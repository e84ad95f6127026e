//! A tracker of your own: a project pulls from and pushes to anything that implements
//! `roadmap::Tracker`, here a list of issues held in memory (as an import from another system
//! or a test double would hold them).
#![allow(clippy::print_stdout)]
use std::sync::Mutex;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use roadmap::model::{
    IssuePatch, ListOptions, MilestonePatch, NewComment, NewIssue, NewLabel, NewMilestone, Page,
    RemoteComment, RemoteIssue, RemoteLabel, RemoteMilestone, RemoteState, TrackerMetrics,
};
use roadmap::{IssueEdit, Project, PullSpec, Timestamp, Tracker, TrackerError};

/// Issues in memory; milestones, labels and comments are not kept.
#[derive(Debug)]
struct Memory {
    issues: Mutex<Vec<RemoteIssue>>,
}

fn now() -> Timestamp {
    Timestamp::parse("2026-12-01T12:00:00Z").expect("a timestamp")
}

fn issue(number: u64, title: &str) -> RemoteIssue {
    RemoteIssue {
        number,
        id: number,
        node_id: format!("I_{number}"),
        title: title.into(),
        body: Some(format!("Imported ticket {number}.\n")),
        state: RemoteState::Open,
        state_reason: None,
        labels: vec!["imported".into()],
        assignees: Vec::new(),
        milestone: None,
        author: "importer".into(),
        comments: 0,
        html_url: format!("https://tracker.example/{number}"),
        repository_url: "https://tracker.example/acme/legacy".into(),
        created_at: now(),
        updated_at: now(),
        closed_at: None,
        relations: Default::default(),
        parent_url: None,
        links: None,
    }
}

/// A listing of one page.
fn one<'a, T: Send + 'a>(items: Vec<T>) -> BoxStream<'a, Result<Page<T>, TrackerError>> {
    let page = Page {
        number: 1,
        last: Some(1),
        items,
        skipped: 0,
        rejected: Vec::new(),
        not_modified: false,
        resume: None,
    };
    stream::iter([Ok(page)]).boxed()
}

/// What this tracker does not do.
fn refused<'a, T: Send + 'a>(what: &str) -> BoxFuture<'a, Result<T, TrackerError>> {
    let e = TrackerError::Validation {
        what: what.into(),
        message: "not supported by this tracker".into(),
    };
    Box::pin(async move { Err(e) })
}

impl Tracker for Memory {
    fn full_name(&self) -> &str {
        "acme/legacy"
    }
    fn list_issues(
        &self,
        o: ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteIssue>, TrackerError>> {
        let all = self.issues.lock().expect("lock").clone();
        one(all
            .into_iter()
            .filter(|i| o.since.is_none_or(|s| i.updated_at >= s))
            .collect())
    }
    fn list_milestones(&self) -> BoxStream<'_, Result<Page<RemoteMilestone>, TrackerError>> {
        one(Vec::new())
    }
    fn list_labels(&self) -> BoxStream<'_, Result<Page<RemoteLabel>, TrackerError>> {
        one(Vec::new())
    }
    fn list_comments(
        &self,
        _: ListOptions,
    ) -> BoxStream<'_, Result<Page<RemoteComment>, TrackerError>> {
        one(Vec::new())
    }
    fn get_issue(&self, number: u64) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        let found = self
            .issues
            .lock()
            .expect("lock")
            .iter()
            .find(|i| i.number == number)
            .cloned();
        let what = format!("issue #{number}");
        Box::pin(async move { found.ok_or(TrackerError::NotFound { what }) })
    }
    fn create_issue(&self, _: NewIssue) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        refused("a new issue")
    }
    fn update_issue(
        &self,
        number: u64,
        patch: IssuePatch,
    ) -> BoxFuture<'_, Result<RemoteIssue, TrackerError>> {
        let mut issues = self.issues.lock().expect("lock");
        let Some(i) = issues.iter_mut().find(|i| i.number == number) else {
            return refused("an unknown issue");
        };
        if let Some(t) = patch.title {
            i.title = t;
        }
        if let Some(b) = patch.body {
            i.body = Some(b);
        }
        if let Some(s) = patch.state {
            i.state = s;
        }
        if let Some(l) = patch.labels {
            i.labels = l;
        }
        if let Some(a) = patch.assignees {
            i.assignees = a;
        }
        i.updated_at = Timestamp::parse("2026-12-01T12:05:00Z").expect("a timestamp");
        let updated = i.clone();
        Box::pin(async move { Ok(updated) })
    }
    fn create_milestone(
        &self,
        _: NewMilestone,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>> {
        refused("a milestone")
    }
    fn update_milestone(
        &self,
        _: u64,
        _: MilestonePatch,
    ) -> BoxFuture<'_, Result<RemoteMilestone, TrackerError>> {
        refused("a milestone")
    }
    fn create_label(&self, _: NewLabel) -> BoxFuture<'_, Result<RemoteLabel, TrackerError>> {
        refused("a label")
    }
    fn create_comment(
        &self,
        _: u64,
        _: NewComment,
    ) -> BoxFuture<'_, Result<RemoteComment, TrackerError>> {
        refused("a comment")
    }
    fn metrics(&self) -> TrackerMetrics {
        TrackerMetrics::default()
    }
}

#[tokio::main]
pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tracker = Memory {
        issues: Mutex::new(vec![
            issue(1, "Import the legacy tickets"),
            issue(2, "Map their states"),
        ]),
    };
    let dir = tempfile::tempdir()?;
    let project = Project::init(dir.path(), Some(&"acme/legacy".parse()?))?;
    let pulled = project
        .pull(&tracker, &PullSpec::default(), &|_| {})
        .await?;
    println!(
        "pulled {} issues into {}",
        pulled.resources["issues"].created,
        project.dir().display()
    );

    let edit = IssueEdit {
        title: Some("Map their states to ours".into()),
        ..IssueEdit::default()
    };
    project.edit_issue("#2", &edit).await?;
    let pushed = project.push(&tracker, false, &|_| {}).await?;
    let title = tracker.issues.lock().expect("lock")[1].title.clone();
    println!(
        "pushed {} write(s); the tracker now says {title:?}",
        pushed.push.writes
    );
    assert_eq!(title, "Map their states to ours");
    Ok(())
}
