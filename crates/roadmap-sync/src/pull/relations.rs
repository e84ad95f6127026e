//! Issue relations read through GitHub's dependency endpoints, page by page, before the page
//! is applied: only for issues whose summaries say they have any (a pull of N issues of which
//! R are related costs about R extra requests, not N). A sub-issue's parent comes with the
//! listing (`parent_issue_url`). See docs/decisions/0011-native-relations-sync.md.

use futures::stream::{self, StreamExt};
use roadmap_model::{
    Issue, ItemId, RemoteIssue, RemoteLinks, Timestamp, Tracker, TrackerError,
    reference_of_issue_url,
};

use crate::ItemFailure;
use crate::state::RelationsMode;

/// What a pull learnt of the repository's relations.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Seen {
    /// An issue carried relation summaries.
    pub known: bool,
    /// An issue carried none.
    pub unknown: bool,
    /// A relation endpoint answered 404.
    pub unavailable: bool,
    /// A sub-issue named its parent (in this pull or one before).
    pub parent_urls: bool,
}

impl Seen {
    /// Adds what another part of the same pull saw.
    pub fn merge(&mut self, other: Seen) {
        self.known |= other.known;
        self.unknown |= other.unknown;
        self.unavailable |= other.unavailable;
        self.parent_urls |= other.parent_urls;
    }

    /// The mode for the next run, from the last one's and what this pull saw.
    pub fn mode(self, before: Option<RelationsMode>) -> Option<RelationsMode> {
        if self.unavailable || before == Some(RelationsMode::Unavailable) {
            return Some(RelationsMode::Unavailable);
        }
        if self.known {
            Some(RelationsMode::Native)
        } else if self.unknown {
            Some(RelationsMode::Hidden)
        } else {
            before
        }
    }
}

/// How many relation listings are read at once (each is one request; the client's limiter
/// spaces them).
const READS_AT_ONCE: usize = 8;

/// Fills `links` of the issues whose summaries are known, reading `blocked_by` and `blocking`
/// only where their counts are not zero. An issue whose relations could not be read is
/// taken out of `items` and returned as failed (it is read again next run: applied without
/// them, its file would record relations GitHub does not hold as synced).
pub(crate) async fn read_links(
    tracker: &dyn Tracker,
    items: &mut Vec<RemoteIssue>,
    mode: Option<RelationsMode>,
    seen: &mut Seen,
) -> Vec<(u64, ItemFailure, Timestamp)> {
    for r in items.iter() {
        if r.relations.known {
            seen.known = true;
        } else {
            seen.unknown = true;
        }
        seen.parent_urls |= r.parent_url.is_some();
    }
    if mode == Some(RelationsMode::Unavailable) || seen.unavailable {
        return Vec::new();
    }
    let parent_known = seen.parent_urls;
    let reads = items
        .iter()
        .enumerate()
        .filter(|(_, r)| r.relations.known)
        .map(|(k, r)| async move {
            let from = r.repository_url.as_str();
            let spell = |list: Vec<RemoteIssue>| -> Vec<String> {
                list.iter().map(|o| o.reference_from(from)).collect()
            };
            // Both sides at once: each is one request.
            let (depends_on, blocks) = futures::join!(
                async {
                    if r.relations.blocked_by > 0 {
                        tracker.blocked_by(r.number).await.map(spell)
                    } else {
                        Ok(Vec::new())
                    }
                },
                async {
                    if r.relations.blocking > 0 {
                        tracker.blocking(r.number).await.map(spell)
                    } else {
                        Ok(Vec::new())
                    }
                }
            );
            let links = depends_on.and_then(|depends_on| {
                Ok(RemoteLinks {
                    depends_on,
                    blocks: blocks?,
                    parent: r
                        .parent_url
                        .as_deref()
                        .and_then(|u| reference_of_issue_url(u, from)),
                    parent_known,
                })
            });
            (k, links)
        });
    let mut results: Vec<(usize, Result<RemoteLinks, TrackerError>)> = stream::iter(reads)
        .buffer_unordered(READS_AT_ONCE)
        .collect()
        .await;
    results.sort_by_key(|(k, _)| *k);
    let mut failed = Vec::new();
    let mut drop = Vec::new();
    for (k, links) in results {
        match links {
            Ok(l) => items[k].links = Some(l),
            Err(e) => {
                if matches!(e, TrackerError::NotFound { .. }) {
                    tracing::warn!(
                        "issue #{}: GitHub's relation endpoints answered 404: relations travel in the hidden block from now on",
                        items[k].number
                    );
                    seen.unavailable = true;
                }
                failed.push((
                    items[k].number,
                    ItemFailure {
                        what: format!("issue #{}", items[k].number),
                        reason: format!("its relations could not be read: {e}"),
                    },
                    items[k].updated_at,
                ));
                drop.push(k);
            }
        }
    }
    for k in drop.into_iter().rev() {
        items.remove(k);
    }
    failed
}

/// The number a reference names, if it names an issue of this repository: `#12`, `gh-12`,
/// or a local id that `number_of` knows.
pub(crate) fn number_of_ref(
    reference: &str,
    number_of: impl Fn(&str) -> Option<u64>,
) -> Option<u64> {
    if let Some(n) = reference.strip_prefix('#') {
        return n.parse().ok();
    }
    if reference.contains('#') {
        // `owner/name#12`: another repository's.
        return None;
    }
    if let Some(n) = reference
        .strip_prefix("gh-")
        .and_then(|n| n.parse::<u64>().ok())
    {
        return Some(n);
    }
    ItemId::new(reference).ok()?;
    number_of(&reference.to_ascii_lowercase())
}

/// Spells GitHub's references (`#12`) as the file already spells the same issues (a local id,
/// `gh-12`), so that a relation that did not change is not rewritten.
pub(crate) fn respell(
    links: &mut RemoteLinks,
    spelled: &[&Issue],
    number_of: &dyn Fn(&str) -> Option<u64>,
) {
    let mut names: std::collections::HashMap<u64, String> = std::collections::HashMap::new();
    for issue in spelled {
        for r in issue
            .depends_on
            .iter()
            .chain(&issue.blocks)
            .chain(issue.parent.iter())
        {
            if let Some(n) = number_of_ref(r, number_of) {
                names.entry(n).or_insert_with(|| r.clone());
            }
        }
    }
    let fix = |r: &mut String| {
        if let Some(n) = r.strip_prefix('#').and_then(|n| n.parse::<u64>().ok())
            && let Some(name) = names.get(&n)
        {
            r.clone_from(name);
        }
    };
    links.depends_on.iter_mut().for_each(fix);
    links.blocks.iter_mut().for_each(fix);
    if let Some(p) = links.parent.as_mut() {
        fix(p);
    }
    // And in the file's order where they agree (GitHub's for the rest).
    if let Some(ours) = spelled.first() {
        let at = |list: &[String], r: &String| {
            list.iter()
                .position(|x| x.eq_ignore_ascii_case(r))
                .unwrap_or(usize::MAX)
        };
        links.depends_on.sort_by_key(|r| at(&ours.depends_on, r));
        links.blocks.sort_by_key(|r| at(&ours.blocks, r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_numbers_of_this_repository_only() {
        let ids = |id: &str| (id == "3fa2b1c9").then_some(7);
        assert_eq!(number_of_ref("#12", ids), Some(12));
        assert_eq!(number_of_ref("gh-12", ids), Some(12));
        assert_eq!(number_of_ref("3FA2B1C9", ids), Some(7));
        assert_eq!(number_of_ref("octo/other#12", ids), None);
        assert_eq!(number_of_ref("nothing", ids), None);
    }

    #[test]
    fn github_references_keep_the_file_spelling() {
        let mut ours = Issue::new(ItemId::new("gh-1").unwrap_or_else(|_| unreachable!()), "t");
        ours.depends_on = vec!["3fa2b1c9".into(), "gh-9".into()];
        let mut links = RemoteLinks {
            depends_on: vec!["#9".into(), "#7".into(), "#8".into()],
            blocks: vec!["#7".into()],
            parent: Some("#9".into()),
            parent_known: true,
        };
        respell(&mut links, &[&ours], &|id: &str| {
            (id == "3fa2b1c9").then_some(7)
        });
        assert_eq!(links.depends_on, ["3fa2b1c9", "gh-9", "#8"]);
        assert_eq!(links.blocks, ["3fa2b1c9"]);
        assert_eq!(links.parent.as_deref(), Some("gh-9"));
    }
}
