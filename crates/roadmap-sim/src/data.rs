//! The simulated world: repositories with issues, pull requests, milestones, labels and
//! comments, generated deterministically from a seed.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What a generated repository holds.
#[derive(Debug, Clone)]
pub struct RepoSpec {
    /// Owner login.
    pub owner: String,
    /// Repository name.
    pub name: String,
    /// Issues (not counting pull requests).
    pub issues: u64,
    /// Pull requests, interleaved in the issue numbering.
    pub prs: u64,
    /// Milestones.
    pub milestones: u64,
    /// Labels.
    pub labels: u64,
    /// Comments per issue (and per pull request).
    pub comments: u64,
    /// Seed of the generator.
    pub seed: u64,
    /// When the generated history starts, Unix seconds ([`EPOCH`] unless set): issue `n` is
    /// created `n` × 10 minutes later, milestone `m` `m` days later and due 30 days after that.
    pub epoch: i64,
}

impl RepoSpec {
    /// A repository `owner/name` with `issues` generated issues, one pull request for every
    /// 20, 4 milestones, 8 labels and a comment on each issue.
    pub fn sample(owner: &str, name: &str, issues: u64) -> Self {
        RepoSpec {
            issues,
            prs: issues / 20,
            milestones: 4,
            labels: 8,
            comments: 1,
            ..RepoSpec::new(owner, name)
        }
    }

    /// A repository `owner/name` with nothing in it.
    pub fn new(owner: &str, name: &str) -> Self {
        RepoSpec {
            owner: owner.into(),
            name: name.into(),
            issues: 0,
            prs: 0,
            milestones: 0,
            labels: 0,
            comments: 0,
            seed: 1,
            epoch: EPOCH,
        }
    }
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login.
    pub login: String,
    /// Database id.
    pub id: u64,
}

/// An issue or pull request.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueRec {
    /// Database id.
    pub id: u64,
    /// Number in the repository.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Body (`None` is served as `null`).
    pub body: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// `completed`, `not_planned`, `reopened`, `duplicate` or none.
    pub state_reason: Option<String>,
    /// Label names.
    pub labels: Vec<String>,
    /// Assignee logins.
    pub assignees: Vec<String>,
    /// Milestone number.
    pub milestone: Option<u64>,
    /// Author login.
    pub user: String,
    /// Whether this is a pull request.
    pub is_pr: bool,
    /// Created, seconds since the epoch.
    pub created_at: i64,
    /// Updated, seconds since the epoch.
    pub updated_at: i64,
    /// Closed, seconds since the epoch.
    pub closed_at: Option<i64>,
    /// Locked.
    pub locked: bool,
}

/// A milestone.
#[derive(Debug, Clone, PartialEq)]
pub struct MilestoneRec {
    /// Database id.
    pub id: u64,
    /// Number.
    pub number: u64,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// `open` or `closed`.
    pub state: String,
    /// Due, seconds since the epoch.
    pub due_on: Option<i64>,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
    /// Closed.
    pub closed_at: Option<i64>,
    /// Creator login.
    pub creator: String,
}

/// A label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRec {
    /// Database id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// Colour.
    pub color: String,
    /// Description.
    pub description: Option<String>,
    /// A default label.
    pub default: bool,
}

/// A comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentRec {
    /// Database id.
    pub id: u64,
    /// Issue number.
    pub issue: u64,
    /// Author login.
    pub user: String,
    /// Body.
    pub body: String,
    /// Created.
    pub created_at: i64,
    /// Updated.
    pub updated_at: i64,
}

/// Where an issue went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Deleted: 410.
    Deleted,
    /// Transferred: 301 to this repository id and number.
    Transferred {
        /// Repository id.
        repo_id: u64,
        /// Full name `owner/name`.
        full_name: String,
        /// Number there.
        number: u64,
    },
}

/// One repository.
#[derive(Debug, Clone)]
pub struct Repo {
    /// Database id (links use `/repositories/{id}`).
    pub id: u64,
    /// Owner login.
    pub owner: String,
    /// Name.
    pub name: String,
    /// Issues and pull requests by number.
    pub issues: BTreeMap<u64, IssueRec>,
    /// Milestones by number.
    pub milestones: BTreeMap<u64, MilestoneRec>,
    /// Labels, in creation order.
    pub labels: Vec<LabelRec>,
    /// Comments by id.
    pub comments: BTreeMap<u64, CommentRec>,
    /// Issues deleted or transferred away.
    pub fates: HashMap<u64, Fate>,
    /// Next issue number.
    pub next_number: u64,
    /// Next milestone number.
    pub next_milestone: u64,
    /// Created.
    pub created_at: i64,
    /// Issues served with wrong JSON types (`number` a string, `labels` a string, `user` a
    /// number): hostile input for tests. GitHub itself never does this.
    pub mangled: std::collections::BTreeSet<u64>,
    /// Issue dependencies: an issue's number → the numbers of the issues blocking it, in the
    /// order they were added.
    pub blocked_by: BTreeMap<u64, Vec<u64>>,
    /// Sub-issues: a parent's number → its sub-issues' numbers, in their order.
    pub sub_issues: BTreeMap<u64, Vec<u64>>,
}

/// Everything the simulator serves.
#[derive(Debug, Default)]
pub struct World {
    /// Repositories by id.
    pub repos: BTreeMap<u64, Repo>,
    /// Known users (assignable).
    pub users: Vec<User>,
    next_id: u64,
    /// The host has no issue relations ([`Wire::relations`](crate::Wire::relations) off):
    /// issues carry no relation summaries.
    pub(crate) without_relations: bool,
    /// A sub-issue names its parent (`parent_issue_url`; [`Wire::parent_urls`](crate::Wire::parent_urls)).
    pub(crate) parent_urls: bool,
}

/// Users the generator draws from; all can be assigned.
pub const LOGINS: &[&str] = &[
    "octocat",
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "renovate-bot",
];

const WORDS: &[&str] = &[
    "crash",
    "login",
    "render",
    "slow",
    "button",
    "cache",
    "sync",
    "token",
    "window",
    "scroll",
    "export",
    "import",
    "search",
    "index",
    "memory",
    "leak",
    "timeout",
    "retry",
    "label",
    "theme",
    "Ünïcödé",
    "日本語",
    "emoji 🚀",
    "naïve",
];

const LABELS: &[(&str, &str)] = &[
    ("bug", "d73a4a"),
    ("enhancement", "a2eeef"),
    ("documentation", "0075ca"),
    ("good first issue", "7057ff"),
    ("help wanted", "008672"),
    ("area: ui", "c5def5"),
    ("area: sync", "c5def5"),
    ("priority/high", "b60205"),
    ("priority/low", "0e8a16"),
    ("🚀 feature", "fbca04"),
    ("needs, triage", "e4e669"),
    ("wontfix", "ffffff"),
];

/// The fixed epoch generated data starts at: 2024-01-01T00:00:00Z.
pub const EPOCH: i64 = 1_704_067_200;

impl World {
    /// A fresh database id.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The login's user, created on first sight.
    pub fn user_id(&self, login: &str) -> u64 {
        self.users.iter().find(|u| u.login == login).map_or_else(
            || {
                1_000_000
                    + login
                        .bytes()
                        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
                        % 1_000_000
            },
            |u| u.id,
        )
    }

    /// Finds a repository by owner and name (case-insensitive, as GitHub).
    pub fn repo_id(&self, owner: &str, name: &str) -> Option<u64> {
        self.repos
            .values()
            .find(|r| r.owner.eq_ignore_ascii_case(owner) && r.name.eq_ignore_ascii_case(name))
            .map(|r| r.id)
    }

    /// Adds a generated repository; returns its id.
    pub fn add_repo(&mut self, spec: &RepoSpec) -> u64 {
        if self.users.is_empty() {
            for (i, l) in LOGINS.iter().enumerate() {
                self.users.push(User {
                    login: (*l).to_owned(),
                    id: 100 + i as u64,
                });
            }
        }
        let mut rng = StdRng::seed_from_u64(spec.seed);
        let repo_id = 1000 + self.repos.len() as u64;
        let mut repo = Repo {
            id: repo_id,
            owner: spec.owner.clone(),
            name: spec.name.clone(),
            issues: BTreeMap::new(),
            milestones: BTreeMap::new(),
            labels: Vec::new(),
            comments: BTreeMap::new(),
            fates: HashMap::new(),
            next_number: 1,
            next_milestone: 1,
            created_at: spec.epoch - 86_400 * 365,
            mangled: std::collections::BTreeSet::new(),
            blocked_by: BTreeMap::new(),
            sub_issues: BTreeMap::new(),
        };
        for i in 0..spec.labels {
            let (name, color) = LABELS.get(i as usize).map_or_else(
                || (format!("label-{i}"), "ededed".to_owned()),
                |(n, c)| ((*n).to_owned(), (*c).to_owned()),
            );
            let id = self.next_id();
            repo.labels.push(LabelRec {
                id,
                name,
                color,
                description: (i % 2 == 0).then(|| format!("Label number {i}")),
                default: i < 3,
            });
        }
        for m in 0..spec.milestones {
            let id = self.next_id();
            let created = spec.epoch + m as i64 * 86_400;
            let closed = rng.random_ratio(1, 4);
            repo.milestones.insert(
                m + 1,
                MilestoneRec {
                    id,
                    number: m + 1,
                    title: format!("v{}.{}", m / 10 + 1, m % 10),
                    description: (m % 3 != 0).then(|| {
                        format!(
                            "Milestone {m}: ship the {} work",
                            WORDS[m as usize % WORDS.len()]
                        )
                    }),
                    state: if closed { "closed" } else { "open" }.into(),
                    due_on: (m % 2 == 0).then_some(created + 86_400 * 30),
                    created_at: created,
                    updated_at: created + 3_600,
                    closed_at: closed.then_some(created + 86_400 * 20),
                    creator: LOGINS[m as usize % LOGINS.len()].into(),
                },
            );
        }
        repo.next_milestone = spec.milestones + 1;
        let total = spec.issues + spec.prs;
        // Spread pull requests evenly but unpredictably over the numbers.
        let mut is_pr = vec![false; total as usize];
        let mut placed = 0;
        while placed < spec.prs {
            let k = rng.random_range(0..total) as usize;
            if !is_pr[k] {
                is_pr[k] = true;
                placed += 1;
            }
        }
        for n in 1..=total {
            let id = self.next_id();
            let created = spec.epoch + n as i64 * 600 + rng.random_range(0..600);
            // Comments bump `updated_at`, as on GitHub.
            let updated = created + 60 * spec.comments as i64 + rng.random_range(0..86_400 * 30);
            let closed = rng.random_ratio(1, 3);
            let w = |r: &mut StdRng| WORDS[r.random_range(0..WORDS.len())];
            let title = format!("{} {} when {}", w(&mut rng), w(&mut rng), w(&mut rng));
            let body = match n % 50 {
                0 => Some(format!(
                    "# Long report\n\n{}",
                    "Line with some text and `code`.\n".repeat(600)
                )),
                7 => None,
                // The shapes real bodies have (61 % of them end without a newline, about
                // half use CRLF from the web editor): generated here, not copied.
                3 | 13 | 23 | 33 | 43 => Some(format!(
                    "Steps:\r\n1. open {}\r\n2. press {}\r\n\r\nExpected: {}",
                    w(&mut rng),
                    w(&mut rng),
                    w(&mut rng)
                )),
                5 | 15 | 25 | 35 | 45 => Some(format!("{} fails  ", w(&mut rng))),
                9 | 29 => Some(String::new()),
                11 => Some("---\ntitle: not front matter\n---\nemoji 🎉, 中文, \u{202e}RTL".into()),
                17 | 37 => Some(format!("mixed\r\nline endings\n{}\r\n", w(&mut rng))),
                _ => Some(format!(
                    "Steps:\n1. open {}\n2. press {}\n\n---\n\nExpected: {}\n",
                    w(&mut rng),
                    w(&mut rng),
                    w(&mut rng)
                )),
            };
            let mut labels = Vec::new();
            if !repo.labels.is_empty() {
                for _ in 0..rng.random_range(0..3) {
                    let l = repo.labels[rng.random_range(0..repo.labels.len())]
                        .name
                        .clone();
                    if !labels.contains(&l) {
                        labels.push(l);
                    }
                }
            }
            let mut assignees = Vec::new();
            for _ in 0..rng.random_range(0..3) {
                let a = LOGINS[rng.random_range(0..LOGINS.len())].to_owned();
                if !assignees.contains(&a) {
                    assignees.push(a);
                }
            }
            let milestone = (spec.milestones > 0 && rng.random_ratio(2, 3))
                .then(|| rng.random_range(1..=spec.milestones));
            repo.issues.insert(
                n,
                IssueRec {
                    id,
                    number: n,
                    title,
                    body,
                    state: if closed { "closed" } else { "open" }.into(),
                    state_reason: closed.then(|| {
                        if rng.random_ratio(1, 4) {
                            "not_planned"
                        } else {
                            "completed"
                        }
                        .to_owned()
                    }),
                    labels,
                    assignees,
                    milestone,
                    user: LOGINS[rng.random_range(0..LOGINS.len())].into(),
                    is_pr: is_pr[(n - 1) as usize],
                    created_at: created,
                    updated_at: updated,
                    closed_at: closed.then_some(updated),
                    locked: false,
                },
            );
            for c in 0..spec.comments {
                let cid = self.next_id();
                let at = created + 60 * (c as i64 + 1);
                repo.comments.insert(
                    cid,
                    CommentRec {
                        id: cid,
                        issue: n,
                        user: LOGINS[rng.random_range(0..LOGINS.len())].into(),
                        body: format!("Comment {c} on #{n}: {}", w(&mut rng)),
                        created_at: at,
                        updated_at: at,
                    },
                );
            }
        }
        repo.next_number = total + 1;
        self.repos.insert(repo_id, repo);
        repo_id
    }
}
