//! What GitHub would refuse, or must never get, checked before anything leaves the machine:
//! by the CLI when an issue is created or edited, and again by every push (a file can be
//! edited by hand), so that `sync push --dry-run` reports the same refusals as the real run.

use roadmap_model::Issue;

/// GitHub's longest issue or comment body, in characters (422 "body is too long (maximum is
/// 65536 characters)").
pub const MAX_BODY_CHARS: usize = 65_536;

/// GitHub's longest issue title, in characters.
pub const MAX_TITLE_CHARS: usize = 256;

/// GitHub's longest label name, in characters.
pub const MAX_LABEL_CHARS: usize = 50;

/// Why GitHub would refuse `issue` as it stands, or why it must not be sent; empty when it
/// can go. Each reason says what to do.
pub fn issue_problems(issue: &Issue) -> Vec<String> {
    let mut out = Vec::new();
    let title = issue.title.trim();
    if title.is_empty() {
        out.push("has an empty title, which GitHub refuses; give it one".to_owned());
    } else if issue.title.chars().count() > MAX_TITLE_CHARS {
        out.push(format!(
            "has a title of {} characters, over GitHub's {MAX_TITLE_CHARS}; shorten it",
            issue.title.chars().count()
        ));
    }
    let body = issue.body.chars().count();
    if body > MAX_BODY_CHARS {
        out.push(format!(
            "has a body of {body} characters, over GitHub's {MAX_BODY_CHARS}; shorten it or move part of it to a comment"
        ));
    }
    for l in &issue.labels {
        if let Some(why) = label_problem(l) {
            out.push(why);
        }
    }
    if crate::merge::has_markers(&issue.body) || crate::conflicts::title_has_markers(&issue.title) {
        out.push(
            "holds conflict markers (<<<<<<< ... >>>>>>>); remove them before pushing".to_owned(),
        );
    }
    out
}

/// Why a comment with this body must not be sent, if it must not.
pub fn comment_problem(body: &str) -> Option<String> {
    let chars = body.chars().count();
    if body.trim().is_empty() {
        Some("is empty, which GitHub refuses".to_owned())
    } else if chars > MAX_BODY_CHARS {
        Some(format!(
            "has {chars} characters, over GitHub's {MAX_BODY_CHARS}; shorten it or split it"
        ))
    } else {
        None
    }
}

/// Why GitHub would refuse a label named `name`, if it would.
pub fn label_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("has an empty label name; remove it".to_owned());
    }
    let n = name.chars().count();
    if n > MAX_LABEL_CHARS {
        return Some(format!(
            "has a label `{name}` of {n} characters, over GitHub's {MAX_LABEL_CHARS}; shorten it"
        ));
    }
    if name.chars().any(char::is_control) {
        return Some(format!(
            "has a label {name:?} with a control character; rename it"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use roadmap_model::ItemId;

    fn issue(title: &str) -> Issue {
        Issue::new(ItemId::new("a1").unwrap(), title)
    }

    #[test]
    fn what_github_refuses_is_named() {
        assert!(issue_problems(&issue("fine")).is_empty());
        assert!(issue_problems(&issue("  "))[0].contains("empty title"));
        assert!(issue_problems(&issue(&"é".repeat(257)))[0].contains("257 characters"));
        assert!(issue_problems(&issue(&"é".repeat(256))).is_empty());
        let mut i = issue("t");
        i.body = "ü".repeat(MAX_BODY_CHARS);
        assert!(issue_problems(&i).is_empty(), "characters, not bytes");
        i.body.push('x');
        assert!(issue_problems(&i)[0].contains("65537 characters"));
        let mut i = issue("t");
        i.labels = vec!["Priority: High".into(), "x".repeat(51), " ".into()];
        let p = issue_problems(&i);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("51 characters") && p[1].contains("empty label"));
    }
}
