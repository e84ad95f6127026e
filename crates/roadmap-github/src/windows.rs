//! A full listing split into key-space windows (decision 0006).
//!
//! github.com pages `/issues` by cursor, with no `last`: one chain of `next` links is as fast
//! as one page after another can go. A listing sorted by `updated` ascending with a `since`
//! lower bound is a chain that starts anywhere in the key space, so the key space is cut into
//! windows `[from, to)`, each listed by its own chain (`since=from`) that stops at the first
//! item at or past `to`. `since` is inclusive and whole-second, so the windows meet exactly;
//! an item edited meanwhile moves past every window and is seen by the last one, or by the
//! next incremental listing (the watermark of a split listing is the server's time when it
//! began, less a margin: see [`Resume::began`]). Duplicates are dropped by number.
//!
//! The first answers set the bounds: the oldest item (and the server's clock), the newest
//! item, and (issues) the search API's count. Without a count (comments) the density is
//! unknown until a page tells, so page 1 itself stands in for the oldest-item probe. The span is cut into `workers` windows of equal
//! expected work; when a window ends, the window with the most work left is cut in two, so
//! skewed `updated_at` distributions stay balanced. Each page handed out carries the state
//! of every window, so the caller can save it with what it wrote and resume from there.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, FuturesUnordered, StreamExt};
use roadmap_model::{Page, RemoteComment, RemoteIssue, Resume, Timestamp, TrackerError, Window};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::{Fetched, GitHub, Parser};

/// The watermark of a split listing is the server's time when it began, less this: answers
/// are built from replicas that can lag behind a write by a little.
const MARGIN_SECS: i64 = 120;

/// A window is cut in two only if it has a page and a half left: a new window costs a
/// request whose page is partly spent on items past its end.
const MIN_SPLIT_ITEMS: f64 = 150.0;

/// What windows need to know of an item.
pub(crate) trait Keyed {
    /// `updated_at`, and what tells two items apart.
    fn key(&self) -> (Timestamp, u64);
}

impl Keyed for RemoteIssue {
    fn key(&self) -> (Timestamp, u64) {
        (self.updated_at, self.number)
    }
}

impl Keyed for RemoteComment {
    fn key(&self) -> (Timestamp, u64) {
        (self.updated_at, self.id)
    }
}

/// How to list one kind of item in windows.
pub(crate) struct Spec<T> {
    pub endpoint: &'static str,
    pub parse: Parser<T>,
    pub skip_prs: bool,
    /// The listing sorted by `updated`, without direction or page size
    /// (`/repos/o/r/issues?state=all&sort=updated`).
    pub listing: String,
    /// A search URL whose `total_count` is the number of items, if there is one.
    pub total: Option<String>,
    /// Called once what is left fits in one round of requests.
    pub last_round: roadmap_model::Hook,
}

impl<T> Spec<T> {
    /// A window's first page: ascending, from `since` when given.
    fn page_url(&self, since: Option<Timestamp>) -> String {
        crate::with_since(
            &format!("{}&direction=asc&per_page=100", self.listing),
            since,
        )
    }

    /// One item: the oldest (ascending) or the newest.
    fn probe_url(&self, ascending: bool) -> String {
        let direction = if ascending { "asc" } else { "desc" };
        format!("{}&direction={direction}&per_page=1", self.listing)
    }
}

struct Win {
    /// Handed out up to here: the next chain starts at `since=from` (inclusive).
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    /// Where the window began and how many items it has handed out: its density.
    origin: Option<Timestamp>,
    items: u64,
    /// Items per second of `updated_at`, inherited until measured.
    density: f64,
    /// The next page's URL (relative); `None` before the first.
    next: Option<String>,
    busy: bool,
    stale: u32,
}

impl Win {
    fn new(from: Option<Timestamp>, to: Option<Timestamp>, density: f64) -> Self {
        Win {
            from,
            to,
            origin: from,
            items: 0,
            density,
            next: None,
            busy: false,
            stale: 0,
        }
    }

    /// Expected items left, up to `newest` for the open-ended window.
    fn work(&self, newest: Option<Timestamp>) -> f64 {
        match self.span(newest) {
            Some((a, b)) => self.density * (b - a) as f64,
            None => 0.0,
        }
    }

    /// The seconds left, `[a, b)`, when known.
    fn span(&self, newest: Option<Timestamp>) -> Option<(i64, i64)> {
        let a = self.from?.0.timestamp();
        let b = match self.to {
            Some(t) => t.0.timestamp(),
            None => newest?.0.timestamp() + 1,
        };
        (b > a).then_some((a, b))
    }
}

type Fetch<T> = BoxFuture<'static, (usize, Result<Fetched<T>, TrackerError>)>;

struct Run<T> {
    gh: GitHub,
    spec: Arc<Spec<T>>,
    wins: Vec<Option<Win>>,
    began: Timestamp,
    newest: Option<Timestamp>,
    total: Option<u64>,
    done: u64,
    pages: u32,
    /// Every item handed out, by key: an item seen again (edited meanwhile) is handed out only
    /// if newer.
    seen: HashMap<u64, Timestamp>,
    ids: HashSet<u64>,
    rejected: HashSet<String>,
    visited: HashSet<String>,
    workers: usize,
}

impl<T: Keyed + Send + 'static> Run<T> {
    fn active(&self) -> usize {
        self.wins.iter().flatten().count()
    }

    /// Whether what is left is expected to fit in one round of requests: a page per worker
    /// at most (a window of unknown density counts as one page).
    fn last_round(&self) -> bool {
        let pages: f64 = self
            .wins
            .iter()
            .flatten()
            .map(|w| (w.work(self.newest) / 100.0).ceil().max(1.0))
            .sum();
        pages <= self.workers as f64
    }

    fn snapshot(&self) -> Resume {
        Resume {
            began: self.began,
            newest: self.newest,
            total: self.total,
            done: self.done,
            windows: self
                .wins
                .iter()
                .flatten()
                .map(|w| Window {
                    from: w.from,
                    to: w.to,
                })
                .collect(),
        }
    }

    fn fetch(&mut self, id: usize) -> Fetch<T> {
        let w = self.wins[id].as_mut().expect("live window");
        w.busy = true;
        let url = w.next.clone().unwrap_or_else(|| self.spec.page_url(w.from));
        self.visited.insert(url.clone());
        let (gh, spec) = (&self.gh, &self.spec);
        let number = self.pages + 1;
        let page = gh.spawn_page(url, number, spec.endpoint, spec.parse, spec.skip_prs);
        Box::pin(async move { (id, page.await) })
    }

    /// Takes a page of window `id`; returns the page to hand out.
    fn take(&mut self, id: usize, f: Fetched<T>) -> Result<Page<T>, TrackerError> {
        self.pages += 1;
        let max = self.gh.core.settings.max_pages;
        let what = format!("{} {}", self.gh.what, self.spec.endpoint);
        let what = || what.clone();
        let fresh = f.ids.iter().fold(false, |a, i| self.ids.insert(*i) | a);
        let w = self.wins[id].as_mut().expect("live window");
        w.busy = false;
        let mut page = f.page;
        let mut past_end = false;
        let mut items = Vec::with_capacity(page.items.len());
        for item in page.items {
            let (at, key) = item.key();
            if w.to.is_some_and(|to| at >= to) {
                past_end = true;
                continue;
            }
            if self.seen.get(&key).is_some_and(|s| *s >= at) {
                continue;
            }
            self.seen.insert(key, at);
            // A window from the start of the key space begins at its first item.
            w.origin = w.origin.or(Some(at));
            w.from = w.from.max(Some(at));
            w.items += 1;
            items.push(item);
        }
        // Measured from the window's own pages once a page went by without ending it.
        if let (Some(o), Some(f)) = (w.origin, w.from) {
            let secs = (f.0.timestamp() - o.0.timestamp() + 1).max(1) as f64;
            w.density = w.items as f64 / secs;
        }
        page.items = items;
        // Pull requests skipped: counted once, in the window they belong to.
        page.skipped = 0;
        for (at, n) in &f.skipped_keys {
            let Some(at) = *at else { continue };
            if w.to.is_some_and(|to| at >= to) || self.seen.get(n).is_some_and(|s| *s >= at) {
                continue;
            }
            self.seen.insert(*n, at);
            page.skipped += 1;
        }
        page.rejected
            .retain(|(what, _)| self.rejected.insert(what.clone()));
        self.done += page.items.len() as u64;
        let ends = past_end || f.next.is_none();
        if ends {
            self.wins[id] = None;
        } else {
            let next = f.next.unwrap_or_default();
            let rel = self.gh.core.relative(&next)?;
            if !self.visited.insert(rel.clone()) {
                return Err(TrackerError::Other {
                    what: what(),
                    message: format!(
                        "the server's `next` link leads back to a page already read ({rel}); its pagination loops"
                    ),
                });
            }
            if self.pages >= max {
                return Err(TrackerError::Other {
                    what: what(),
                    message: format!("the listing goes on past {max} pages (max_pages); stopping"),
                });
            }
            let w = self.wins[id].as_mut().expect("live window");
            w.stale = if fresh { 0 } else { w.stale + 1 };
            if w.stale >= 3 {
                return Err(TrackerError::Other {
                    what: what(),
                    message: "the server's pages stopped bringing new items; its pagination loops"
                        .into(),
                });
            }
            w.next = Some(rel);
        }
        tracing::debug!(
            window = id,
            items = page.items.len(),
            ends,
            active = self.active(),
            "window page"
        );
        page.number = self.pages;
        page.last = None;
        self.balance();
        page.resume = Some(self.snapshot());
        Ok(page)
    }

    /// Keeps `workers` windows going: cuts the window with the most work left in two while
    /// there are fewer, and one is worth cutting.
    fn balance(&mut self) {
        while self.active() < self.workers {
            let newest = self.newest;
            let Some((id, work)) = self
                .wins
                .iter()
                .enumerate()
                .filter_map(|(i, w)| w.as_ref().map(|w| (i, w.work(newest))))
                .max_by(|a, b| a.1.total_cmp(&b.1))
            else {
                return;
            };
            let w = self.wins[id].as_mut().expect("live window");
            let Some((a, b)) = w.span(newest) else { return };
            if work < MIN_SPLIT_ITEMS || b - a < 2 {
                return;
            }
            let mid = Timestamp::from_unix(a + (b - a) / 2);
            tracing::debug!(window = id, work, "window split in two");
            let child = Win::new(mid, w.to, w.density);
            w.to = mid;
            self.wins.push(Some(child));
        }
    }
}

/// Lists every item of `spec` in windows, resuming from `resume` when given.
pub(crate) fn windowed<T: Keyed + Send + 'static>(
    gh: GitHub,
    spec: Spec<T>,
    resume: Option<Resume>,
) -> BoxStream<'static, Result<Page<T>, TrackerError>> {
    let workers = gh.core.settings.workers.clamp(1, 100);
    let (tx, rx) = mpsc::channel(workers);
    let reader = Arc::new(Reader::default());
    let seen = reader.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = drive(gh, Arc::new(spec), resume, workers, &tx, &seen).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    // Dropping the stream stops the listing (no request is sent for a reader who left).
    let guard = tokio_util::task::AbortOnDropHandle::new(task);
    stream::unfold((rx, guard, reader), |(mut rx, guard, reader)| async move {
        let item = rx.recv().await?;
        reader.took();
        Some((item, (rx, guard, reader)))
    })
    .boxed()
}

/// How many pages the reader has taken: a page is taken once the one before is applied.
#[derive(Default)]
struct Reader {
    taken: std::sync::atomic::AtomicU64,
    more: tokio::sync::Notify,
}

impl Reader {
    fn took(&self) {
        self.taken.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.more.notify_one();
    }

    fn taken(&self) -> u64 {
        self.taken.load(std::sync::atomic::Ordering::SeqCst)
    }
}

async fn drive<T: Keyed + Send + 'static>(
    gh: GitHub,
    spec: Arc<Spec<T>>,
    resume: Option<Resume>,
    workers: usize,
    tx: &mpsc::Sender<Result<Page<T>, TrackerError>>,
    reader: &Reader,
) -> Result<(), TrackerError> {
    let mut run = Run {
        gh: gh.clone(),
        spec: spec.clone(),
        wins: Vec::new(),
        began: Timestamp(crate::clock::utc_now()),
        newest: None,
        total: None,
        done: 0,
        pages: 0,
        seen: HashMap::new(),
        ids: HashSet::new(),
        rejected: HashSet::new(),
        visited: HashSet::new(),
        workers,
    };
    let mut inflight = FuturesUnordered::new();
    let mut started = 0u64;
    match resume {
        Some(r) => {
            run.began = r.began;
            run.newest = r.newest;
            run.total = r.total;
            run.done = r.done;
            // Density is unknown again: spread the expected items evenly.
            let span: i64 = r
                .windows
                .iter()
                .filter_map(|w| {
                    Win::new(w.from, w.to, 0.0)
                        .span(r.newest)
                        .map(|(a, b)| b - a)
                })
                .sum();
            let left = r.total.map_or(0.0, |t| t.saturating_sub(r.done) as f64);
            let density = left / span.max(1) as f64;
            run.wins = r
                .windows
                .iter()
                .map(|w| Some(Win::new(w.from, w.to, density)))
                .collect();
            run.balance();
        }
        None if spec.total.is_none() => {
            // No count to set the density by: it is unknown until a page tells. The first
            // page (the oldest items, and the server's clock) stands in for the oldest-item
            // probe; the newest item is asked for beside it.
            run.wins.push(Some(Win::new(None, None, 0.0)));
            let last = spec.probe_url(false);
            let ((id, first), newest) =
                tokio::join!(run.fetch(0), probe(&gh, &last, spec.endpoint));
            let first = first?;
            run.began = began(first.date);
            run.newest = newest.ok().and_then(|(at, _)| at);
            started += 1;
            let page = run.take(id, first)?;
            if tx.send(Ok(page)).await.is_err() {
                return Ok(());
            }
        }
        None => {
            // The oldest item (and the server's clock), the newest item and the count, at once.
            let (first, last) = (spec.probe_url(true), spec.probe_url(false));
            let (oldest, newest, total) = tokio::join!(
                probe(&gh, &first, spec.endpoint),
                probe(&gh, &last, spec.endpoint),
                total_of(&gh, spec.total.as_deref())
            );
            let (oldest, date) = oldest?;
            let newest = newest.ok().and_then(|(at, _)| at);
            run.began = began(date);
            run.newest = newest;
            run.total = total;
            let density = match (total, oldest, newest) {
                (Some(t), Some(a), Some(b)) => {
                    t as f64 / (b.0.timestamp() - a.0.timestamp() + 1).max(1) as f64
                }
                // Unknown: one window until its first page tells.
                _ => 0.0,
            };
            run.wins.push(Some(Win::new(oldest, None, density)));
            run.balance();
        }
    }
    let mut hooked = false;
    loop {
        if !hooked && run.last_round() {
            spec.last_round.call();
            hooked = true;
        }
        let idle: Vec<usize> = run
            .wins
            .iter()
            .enumerate()
            .filter(|(_, w)| w.as_ref().is_some_and(|w| !w.busy))
            .map(|(i, _)| i)
            .collect();
        // Pages fetched but not yet taken are at most one and a half rounds of requests:
        // what a kill wastes (the resumed run reads them again) stays small however slow the
        // writing of files is, while a writer that falls behind for a moment (pages arrive
        // together) does not hold the chains up.
        for id in idle {
            if started - reader.taken() >= (workers + workers.div_ceil(2)) as u64 {
                break;
            }
            inflight.push(run.fetch(id));
            started += 1;
        }
        if inflight.is_empty() {
            if run.active() == 0 {
                return Ok(());
            }
            reader.more.notified().await;
            continue;
        }
        let Some((id, result)) = inflight.next().await else {
            return Ok(());
        };
        let page = run.take(id, result?)?;
        if tx.send(Ok(page)).await.is_err() {
            return Ok(());
        }
    }
}

/// The watermark of a listing that began at the server's `date` (the local clock without).
fn began(date: Option<Timestamp>) -> Timestamp {
    Timestamp(
        date.map_or_else(crate::clock::utc_now, |d| d.0) - chrono::Duration::seconds(MARGIN_SECS),
    )
}

/// The first item's `updated_at` at `url` (one request; `None`: no item), and the server's
/// clock.
async fn probe(
    gh: &GitHub,
    url: &str,
    endpoint: &str,
) -> Result<(Option<Timestamp>, Option<Timestamp>), TrackerError> {
    let what = format!("{} (first item)", gh.what);
    let r = gh
        .core
        .send(http::Method::GET, url, None, endpoint, &what, true)
        .await
        .map_err(|f| f.error)?;
    let date = r.date();
    let v = r.json(&what)?;
    let at = v
        .as_array()
        .and_then(|a| a.first())
        .and_then(|i| i.get("updated_at"))
        .and_then(Value::as_str)
        .and_then(|t| Timestamp::parse(t).ok());
    Ok((at, date))
}

/// The search API's count (its own rate budget), or `None`.
async fn total_of(gh: &GitHub, url: Option<&str>) -> Option<u64> {
    let r = gh
        .core
        .send(
            http::Method::GET,
            url?,
            None,
            "GET /search/issues",
            "the issue count",
            true,
        )
        .await
        .map_err(|f| tracing::debug!("no issue count: {}", f.error))
        .ok()?;
    let v: Value = serde_json::from_slice(&r.body).ok()?;
    if v.get("incomplete_results").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    v.get("total_count").and_then(Value::as_u64)
}
