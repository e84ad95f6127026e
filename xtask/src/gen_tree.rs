//! A generator of realistic local trees for benchmarks: N issues over M milestones, about 3 %
//! of them waiting for an earlier issue and 8 % of them sub-issues of an epic.

use std::path::Path;

use anyhow::Result;
use roadmap_model::{Issue, ItemId, Milestone, Priority, Status, Timestamp};
use roadmap_store::Store;

const WORDS: &[&str] = &[
    "login", "crash", "render", "slow", "button", "cache", "sync", "token", "window", "scroll",
    "export", "import", "search", "index", "memory", "leak", "timeout", "retry", "label", "theme",
];
pub const LOGINS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];

/// Writes `issues` issues and `milestones` milestones under `dir/.roadmap/`.
pub fn generate(dir: &Path, issues: usize, milestones: usize) -> Result<()> {
    let store = Store::init(dir, "")?;
    let base = 1_700_000_000i64;
    for m in 0..milestones {
        let mut ms = Milestone::new(
            ItemId::new(format!("ms-{}", m + 1))?,
            format!("v{}.{}", m / 10, m % 10),
        );
        ms.due = Timestamp::from_unix(base + m as i64 * 86_400 * 7);
        store.create(ms)?;
    }
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..issues {
        let r = next();
        let w = |k: u64| WORDS[((r >> (k * 5)) % WORDS.len() as u64) as usize];
        let mut issue = Issue::new(
            ItemId::for_remote_issue(i as u64 + 1),
            format!("{} {} when {} {}", w(0), w(1), w(2), w(3)),
        );
        issue.status = Status::ALL[(r % 5) as usize];
        issue.priority = Priority::ALL[((r >> 8) % 4) as usize];
        issue.assignees = vec![LOGINS[((r >> 12) % LOGINS.len() as u64) as usize].to_owned()];
        issue.labels = vec![w(4).to_owned(), w(5).to_owned()];
        issue.labels.dedup();
        if milestones > 0 {
            issue.milestone = Some(format!(
                "v{}.{}",
                (r >> 20) as usize % milestones / 10,
                (r >> 20) as usize % milestones % 10
            ));
        }
        issue.estimate = Some(((r >> 30) % 16) as f64);
        issue.created = Timestamp::from_unix(base + i as i64 * 60);
        issue.updated = Timestamp::from_unix(base + i as i64 * 60 + (r % 10_000) as i64);
        if issue.status == Status::Done {
            issue.closed = issue.updated;
        }
        if i % 33 == 5 {
            // Waits for an earlier issue, at most 200 back: chains form.
            let k = i - 1 - (r >> 40) as usize % i.min(200);
            issue.depends_on = vec![format!("gh-{}", k + 1)];
        }
        if i % 50 > 0 && i % 50 <= 4 {
            issue.parent = Some(format!("gh-{}", i - i % 50 + 1));
        }
        issue.body = format!(
            "## Steps\n\n1. open the {}\n2. press {}\n\nExpected {} but saw {}.\n",
            w(6),
            w(7),
            w(8),
            w(9)
        );
        store.create(issue)?;
    }
    Ok(())
}
