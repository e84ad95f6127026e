//! Which GitHub the simulator plays, and how its listings page.
//!
//! github.com today pages `/repos/{o}/{r}/issues` by keyset cursor (`after=`/`before=` in the
//! `Link` URLs, `next`/`prev` only, never `last`), and refuses a hand-built `page=N` on large
//! listings with a 422. Older hosts and GitHub Enterprise Server page by number with a
//! `last` link. Whether the other listings (comments, milestones, labels) use cursors on
//! github.com is not established, so each is selectable. See docs/simulator.md.

use axum::http::StatusCode;
use serde_json::{Value, json};

/// How one listing pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PageStyle {
    /// Keyset cursors: `Link` with `rel="next"` (`after=`) and `rel="prev"` (`before=`), no
    /// `last` or `first`; as github.com pages its issue listing today.
    Cursor,
    /// Page numbers: `next`, `last`, `prev`, `first` links with `page=N`; as the REST docs
    /// describe and GitHub Enterprise Server answers.
    Numbered,
}

impl PageStyle {
    /// Parses `cursor` or `page`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cursor" => Some(PageStyle::Cursor),
            "page" | "numbered" => Some(PageStyle::Numbered),
            _ => None,
        }
    }
}

/// The behaviours of the GitHub being simulated. [`Wire::github`] (the default) is
/// github.com as recorded in 2025-2026; [`Wire::enterprise_server`] is a GitHub Enterprise
/// Server with its defaults; the fields let a test pick each behaviour on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Wire {
    /// `GET /repos/{o}/{r}/issues` (default: cursor).
    pub issues: PageStyle,
    /// `GET /repos/{o}/{r}/issues/comments` (default: numbered; not established).
    pub comments: PageStyle,
    /// `GET /repos/{o}/{r}/milestones` (default: numbered; not established).
    pub milestones: PageStyle,
    /// `GET /repos/{o}/{r}/labels` (default: numbered; not established).
    pub labels: PageStyle,
    /// A hand-built `page=N` (no cursor) above this answers 422 "Pagination with the page
    /// parameter is not supported for large datasets" on a cursor listing (default 10; the
    /// real threshold is undocumented and varies).
    pub page_cap: u32,
    /// Cursor listings also advertise a `rel="last"` page number (that the cap then refuses),
    /// as a host midway between the two styles might (default false).
    pub cursor_with_last: bool,
    /// A 304 repeats the `Link` header of its 200 (default false: RFC 9110 §15.4.5 does not
    /// require it and github.com's behaviour is not established).
    pub link_on_304: bool,
    /// Listing ETags are weak, `W/"…"`, as recorded on github.com (default true).
    pub weak_list_etags: bool,
    /// A secondary-limit answer carries `Retry-After` (default true; octokit notes it is
    /// sometimes missing).
    pub secondary_retry_after: bool,
    /// Secondary limits answer with the older "abuse detection mechanism" wording (default
    /// false).
    pub abuse_wording: bool,
    /// Primary rate limiting on (default true). GitHub Enterprise Server has it off by
    /// default: no `x-ratelimit-*` headers, and `GET /rate_limit` answers 404.
    pub rate_limiting: bool,
    /// A repeated singleton header (User-Agent, Host, Content-Type, Content-Length,
    /// Authorization, X-GitHub-Api-Version) is a 400, as strict servers and proxies answer
    /// (default true).
    pub strict_headers: bool,
    /// Issue relations: the dependency and sub-issue endpoints, and the summaries every
    /// issue carries (`issue_dependencies_summary`, `sub_issues_summary`), as github.com has
    /// them (default true). False: a host from before them (an older GitHub Enterprise
    /// Server): no summaries, and the endpoints answer 404.
    pub relations: bool,
    /// A sub-issue names its parent in every issue object (`parent_issue_url`, in GitHub's
    /// OpenAPI description and seen live on a single issue; default true). Whether listings
    /// carry it too is not established: false leaves the key out everywhere.
    pub parent_urls: bool,
}

impl Default for Wire {
    fn default() -> Self {
        Wire::github()
    }
}

impl Wire {
    /// github.com as recorded in 2025-2026.
    pub fn github() -> Self {
        Wire {
            issues: PageStyle::Cursor,
            comments: PageStyle::Numbered,
            milestones: PageStyle::Numbered,
            labels: PageStyle::Numbered,
            page_cap: 10,
            cursor_with_last: false,
            link_on_304: false,
            weak_list_etags: true,
            secondary_retry_after: true,
            abuse_wording: false,
            rate_limiting: true,
            strict_headers: true,
            relations: true,
            parent_urls: true,
        }
    }

    /// Every listing paged by number with `last`, as the REST docs describe and older hosts
    /// answer (GitHub Enterprise Server's paging, with github.com's rate limits).
    pub fn numbered() -> Self {
        Wire {
            issues: PageStyle::Numbered,
            ..Wire::github()
        }
    }

    /// Every listing paged by cursor (a possible github.com for the listings whose style is
    /// not established).
    pub fn all_cursor() -> Self {
        Wire {
            issues: PageStyle::Cursor,
            comments: PageStyle::Cursor,
            milestones: PageStyle::Cursor,
            labels: PageStyle::Cursor,
            ..Wire::github()
        }
    }

    /// GitHub Enterprise Server with its defaults: numbered pages, rate limiting off.
    pub fn enterprise_server() -> Self {
        Wire {
            rate_limiting: false,
            ..Wire::numbered()
        }
    }
}

/// The position of an item in a listing's order: (sort key, tie breaker).
pub(crate) type Key = (i64, u64);

fn encode_cursor(k: Key) -> String {
    crate::render::b64(&format!("cursor:v2:[{},{}]", k.0, k.1))
}

fn decode_cursor(s: &str) -> Option<Key> {
    let raw = crate::render::unb64(s)?;
    let inner = raw.strip_prefix("cursor:v2:[")?.strip_suffix(']')?;
    let (a, b) = inner.split_once(',')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// What a listing answered: the rendered page and its `Link`, or an error status and body.
pub(crate) enum Paged {
    Page {
        items: Vec<Value>,
        link: Option<String>,
    },
    Refused(StatusCode, Value),
}

/// Pages `items` (already filtered and in listing order, each with its key) in `style`.
/// `ascending` says whether keys grow along the order (cursors compare keys).
pub(crate) fn paginate<T>(
    items: Vec<(Key, T)>,
    ascending: bool,
    q: &[(String, String)],
    link_base: &str,
    style: PageStyle,
    wire: &Wire,
    render: impl Fn(T) -> Value,
) -> Paged {
    let param = |k: &str| {
        q.iter()
            .rev()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    };
    let per_page = param("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = param("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let url = |extra: &[(&str, String)]| {
        let mut pairs: Vec<(String, String)> = q
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "page" | "after" | "before"))
            .cloned()
            .collect();
        pairs.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let qs = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{link_base}?{qs}")
    };
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    // Position of a key in the order: the first item strictly after it.
    let after_pos =
        |c: Key| items.partition_point(|(k, _)| if ascending { *k <= c } else { *k >= c });
    let before_pos =
        |c: Key| items.partition_point(|(k, _)| if ascending { *k < c } else { *k > c });
    let cursor = |name: &str| -> Result<Option<Key>, Paged> {
        match param(name) {
            None => Ok(None),
            Some(v) => decode_cursor(v).map(Some).ok_or_else(|| {
                Paged::Refused(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"message": format!("`{v}` does not appear to be a valid cursor."), "documentation_url": "https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api"}),
                )
            }),
        }
    };
    let (after, before) = match (cursor("after"), cursor("before")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let (start, end) = match (style, after, before) {
        (PageStyle::Cursor, Some(c), _) => {
            let s = after_pos(c);
            (s, (s + per_page).min(total))
        }
        (PageStyle::Cursor, None, Some(c)) => {
            let e = before_pos(c);
            (e.saturating_sub(per_page), e)
        }
        (PageStyle::Cursor, None, None) if page > wire.page_cap as usize => {
            return Paged::Refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"message": "Pagination with the page parameter is not supported for large datasets, please use cursor based pagination (after/before)", "documentation_url": "https://docs.github.com/rest/issues/issues#list-repository-issues", "status": "422"}),
            );
        }
        _ => {
            let s = ((page - 1) * per_page).min(total);
            (s, (s + per_page).min(total))
        }
    };
    let mut links = Vec::new();
    match style {
        PageStyle::Cursor => {
            // The page number GitHub writes beside the cursor; informational only.
            let here = if after.is_some() || before.is_some() {
                page
            } else {
                page.max(1)
            };
            if start > 0 && end > start {
                let first_key = items[start].0;
                links.push(format!(
                    "<{}>; rel=\"prev\"",
                    url(&[
                        ("before", encode_cursor(first_key)),
                        ("page", here.saturating_sub(1).max(1).to_string())
                    ])
                ));
            }
            if end < total && end > start {
                let last_key = items[end - 1].0;
                links.push(format!(
                    "<{}>; rel=\"next\"",
                    url(&[
                        ("after", encode_cursor(last_key)),
                        ("page", (here + 1).to_string())
                    ])
                ));
                if wire.cursor_with_last {
                    links.push(format!(
                        "<{}>; rel=\"last\"",
                        url(&[("page", last.to_string())])
                    ));
                }
            }
        }
        PageStyle::Numbered if last > 1 => {
            let u = |p: usize| url(&[("page", p.to_string())]);
            if page > 1 {
                links.push(format!("<{}>; rel=\"prev\"", u(page - 1)));
            }
            if page < last {
                links.push(format!("<{}>; rel=\"next\"", u(page + 1)));
                links.push(format!("<{}>; rel=\"last\"", u(last)));
            }
            if page > 1 {
                links.push(format!("<{}>; rel=\"first\"", u(1)));
            }
        }
        PageStyle::Numbered => {}
    }
    let items = items
        .into_iter()
        .skip(start)
        .take(end - start)
        .map(|(_, t)| render(t))
        .collect();
    Paged::Page {
        items,
        link: (!links.is_empty()).then(|| links.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for k in [(0, 0), (-5, 7), (1_700_000_000, u64::MAX)] {
            assert_eq!(decode_cursor(&encode_cursor(k)), Some(k));
        }
        assert_eq!(decode_cursor("bm90IGEgY3Vyc29y"), None);
    }
}
