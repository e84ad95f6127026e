//! Walking a listing: by page numbers in parallel when the server numbers its pages (a
//! `last` link), else by following `next` links one after another (github.com's cursors).
//!
//! Nothing the server says about pages is trusted blindly: a `last` beyond `max_pages` is
//! ignored in favour of `next`; a 422 on a page number we built falls back to following
//! `next` from the page before; a `next` that repeats a URL, an endless chain, or pages
//! that bring nothing new stop the listing with an error. A listing ends without error only
//! when its `next` chain ended: the caller may then treat it as complete.

use std::collections::HashSet;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, FuturesOrdered, StreamExt};
use roadmap_model::{Page, TrackerError};

use crate::{Fetched, GitHub, Parser};

/// Pages in a row that may bring no new item (empty, or only items already listed) before
/// the listing is taken to be looping.
const STALE_PAGES: u32 = 3;

type PageFuture<T> = BoxFuture<'static, (u32, Result<Fetched<T>, TrackerError>)>;

enum Mode<T> {
    Start(String),
    /// Following `next` links; `number` is the page about to be read.
    Chain {
        next: String,
        number: u32,
    },
    /// Numbered pages `2..=last` fetched `workers` at a time, handed out in order.
    Fanout {
        last: u32,
        last_url: String,
        next_k: u32,
        inflight: FuturesOrdered<PageFuture<T>>,
        /// The `next` link of the last page handed out: where to continue if the server
        /// refuses a page number.
        prev_next: Option<String>,
    },
    Done,
}

struct Walk<T> {
    gh: GitHub,
    endpoint: &'static str,
    parse: Parser<T>,
    skip_prs: bool,
    what: Arc<str>,
    visited: HashSet<String>,
    seen_ids: HashSet<u64>,
    stale: u32,
    pages: u32,
    mode: Mode<T>,
}

impl<T: Send + 'static> Walk<T> {
    fn fail(&mut self, message: String) -> Option<Result<Page<T>, TrackerError>> {
        self.mode = Mode::Done;
        Some(Err(TrackerError::Other {
            what: self.what.to_string(),
            message,
        }))
    }

    fn fetch(&self, url: String, number: u32) -> PageFuture<T> {
        let page = self
            .gh
            .spawn_page(url, number, self.endpoint, self.parse, self.skip_prs);
        Box::pin(async move { (number, page.await) })
    }

    /// Bookkeeping for a page read: counts it, and says whether the listing loops.
    fn check(&mut self, f: &Fetched<T>) -> Result<(), String> {
        self.pages += 1;
        let mut fresh = false;
        for id in &f.ids {
            fresh |= self.seen_ids.insert(*id);
        }
        if fresh || f.next.is_none() {
            self.stale = 0;
        } else {
            self.stale += 1;
            if self.stale >= STALE_PAGES {
                return Err(format!(
                    "the server's pages stopped bringing new items ({} pages in a row empty or repeated, page {}); its pagination loops",
                    self.stale, f.page.number
                ));
            }
        }
        if self.pages >= self.gh.core.settings.max_pages && f.next.is_some() {
            return Err(format!(
                "the listing goes on past {} pages (max_pages); stopping",
                self.gh.core.settings.max_pages
            ));
        }
        Ok(())
    }

    /// Continues with `next` (absolute, from a `Link`), refusing a URL read before.
    fn follow(&mut self, next: String, number: u32) -> Result<(), String> {
        let rel = self.gh.core.relative(&next).map_err(|e| e.to_string())?;
        if !self.visited.insert(rel.clone()) {
            return Err(format!(
                "the server's `next` link leads back to a page already read ({rel}); its pagination loops"
            ));
        }
        self.mode = Mode::Chain { next: rel, number };
        Ok(())
    }

    async fn step(&mut self) -> Option<Result<Page<T>, TrackerError>> {
        match std::mem::replace(&mut self.mode, Mode::Done) {
            Mode::Done => None,
            Mode::Start(first) => {
                self.visited.insert(first.clone());
                let mut f = match self.fetch(first, 1).await.1 {
                    Ok(f) => f,
                    Err(e) => return Some(Err(e)),
                };
                if let Err(m) = self.check(&f) {
                    return self.fail(m);
                }
                let max = self.gh.core.settings.max_pages;
                let last = f.last.as_deref().and_then(crate::page_of);
                match (last, f.last.take(), f.next.take()) {
                    (Some(last), Some(last_url), next) if last > 1 && last <= max => {
                        f.page.last = Some(last);
                        self.mode = Mode::Fanout {
                            last,
                            last_url,
                            next_k: 2,
                            inflight: FuturesOrdered::new(),
                            prev_next: next,
                        };
                    }
                    (last, _, Some(next)) => {
                        if let Some(l) = last.filter(|l| *l > max) {
                            tracing::warn!(
                                what = %self.what,
                                "ignoring rel=\"last\" page {l} (over max_pages); following next links"
                            );
                        }
                        if let Err(m) = self.follow(next, 2) {
                            return self.fail(m);
                        }
                    }
                    (_, _, None) => f.page.last = Some(1),
                }
                Some(Ok(f.page))
            }
            Mode::Chain { next, number } => {
                let mut f = match self.fetch(next, number).await.1 {
                    Ok(f) => f,
                    Err(e) => return Some(Err(e)),
                };
                if let Err(m) = self.check(&f) {
                    return self.fail(m);
                }
                if let Some(n) = f.next.take()
                    && let Err(m) = self.follow(n, number + 1)
                {
                    return self.fail(m);
                }
                Some(Ok(f.page))
            }
            Mode::Fanout {
                last,
                last_url,
                mut next_k,
                mut inflight,
                prev_next,
            } => {
                let workers = self.gh.core.settings.workers;
                while inflight.len() < workers && next_k <= last {
                    let url =
                        crate::with_page(&last_url, next_k).and_then(|u| self.gh.core.relative(&u));
                    match url {
                        Ok(u) => {
                            self.visited.insert(u.clone());
                            inflight.push_back(self.fetch(u, next_k));
                        }
                        Err(e) => return Some(Err(e)),
                    }
                    next_k += 1;
                }
                let (k, result) = inflight.next().await?;
                match result {
                    Ok(mut f) => {
                        if let Err(m) = self.check(&f) {
                            return self.fail(m);
                        }
                        f.page.last = Some(last);
                        let next = f.next.take();
                        if k == last {
                            // Items added while listing can make a page past `last`.
                            if let Some(n) = next
                                && let Err(m) = self.follow(n, k + 1)
                            {
                                return self.fail(m);
                            }
                        } else {
                            self.mode = Mode::Fanout {
                                last,
                                last_url,
                                next_k,
                                inflight,
                                prev_next: next,
                            };
                        }
                        Some(Ok(f.page))
                    }
                    // A host that numbers its pages yet refuses deep page numbers (422
                    // "Pagination with the page parameter is not supported for large
                    // datasets"): continue from the page before by its `next` link.
                    Err(TrackerError::Validation { message, .. }) if prev_next.is_some() => {
                        tracing::info!(
                            what = %self.what,
                            page = k,
                            %message,
                            "page numbers refused; following next links instead"
                        );
                        drop(inflight);
                        let n = prev_next.unwrap_or_default();
                        if let Err(m) = self.follow(n, k) {
                            return self.fail(m);
                        }
                        Box::pin(self.step()).await
                    }
                    Err(e) => Some(Err(e)),
                }
            }
        }
    }
}

/// Streams every page of a listing, in order; a failed page ends the stream with its error.
pub(crate) fn walk<T: Send + 'static>(
    gh: GitHub,
    first: String,
    endpoint: &'static str,
    parse: Parser<T>,
    skip_prs: bool,
) -> BoxStream<'static, Result<Page<T>, TrackerError>> {
    let what: Arc<str> = format!(
        "{} {}",
        gh.what,
        endpoint.rsplit('/').next().unwrap_or("items")
    )
    .into();
    let walk = Walk {
        gh,
        endpoint,
        parse,
        skip_prs,
        what,
        visited: HashSet::new(),
        seen_ids: HashSet::new(),
        stale: 0,
        pages: 0,
        mode: Mode::Start(first),
    };
    stream::unfold(walk, |mut w| async move {
        let item = w.step().await?;
        if item.is_err() {
            w.mode = Mode::Done;
        }
        Some((item, w))
    })
    .boxed()
}
