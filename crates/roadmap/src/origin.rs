//! The GitHub repository a git checkout was cloned from, for a project initialised without
//! naming its repository.
//!
//! Read from `.git/config` as text: no `git` is run, because a cloned folder's git config can
//! name programs for git to run (`core.fsmonitor`, `core.sshCommand`), and a project folder
//! must never decide what command runs.

use std::path::{Path, PathBuf};

/// Where `origin` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The host, lower-cased (`github.com`).
    pub host: String,
    /// `OWNER/NAME`.
    pub repo: String,
}

/// The `origin` remote of the checkout holding `root` (or one above it), if it names a
/// repository as `HOST/OWNER/NAME`.
pub fn of(root: &Path) -> Option<Origin> {
    let text = fs_err::read_to_string(config_path(root)?).ok()?;
    parse_url(&origin_url(&text)?)
}

/// The checkout's config file: `.git/config`, or for a linked worktree or a submodule (whose
/// `.git` is a file saying `gitdir: PATH`) the config of the repository it belongs to.
fn config_path(root: &Path) -> Option<PathBuf> {
    for dir in root.ancestors() {
        let dot = dir.join(".git");
        if dot.is_dir() {
            return Some(dot.join("config"));
        }
        if dot.is_file() {
            let text = fs_err::read_to_string(&dot).ok()?;
            let gitdir = dir.join(text.trim().strip_prefix("gitdir:")?.trim());
            let common = fs_err::read_to_string(gitdir.join("commondir"))
                .map(|c| gitdir.join(c.trim()))
                .unwrap_or(gitdir);
            return Some(common.join("config"));
        }
    }
    None
}

/// The `url` of `[remote "origin"]` in a git config file.
fn origin_url(text: &str) -> Option<String> {
    let mut inside = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            let header: String = l.split_whitespace().collect::<Vec<_>>().join(" ");
            inside = header.eq_ignore_ascii_case("[remote \"origin\"]");
            continue;
        }
        if !inside {
            continue;
        }
        let Some((key, value)) = l.split_once('=') else {
            continue;
        };
        if key.trim().eq_ignore_ascii_case("url") {
            let v = value.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            return Some(v.to_owned());
        }
    }
    None
}

/// `https://github.com/o/n(.git)`, `ssh://git@github.com[:22]/o/n.git`, `git@github.com:o/n.git`.
fn parse_url(url: &str) -> Option<Origin> {
    let (host, path) = match url.split_once("://") {
        Some((_, rest)) => {
            let (authority, path) = rest.split_once('/')?;
            let host = authority.rsplit('@').next()?;
            let host = host.split(':').next()?;
            (host, path)
        }
        // scp-like: [user@]host:path (a colon before any slash)
        None => {
            let (authority, path) = url.split_once(':')?;
            if authority.contains('/') {
                return None;
            }
            (authority.rsplit('@').next()?, path)
        }
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let mut parts = path.split('/');
    let (owner, name) = (parts.next()?, parts.next()?);
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if parts.next().is_some() || !ok(owner) || !ok(name) || host.is_empty() {
        return None;
    }
    Some(Origin {
        host: host.to_ascii_lowercase(),
        repo: format!("{owner}/{name}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_form_git_writes_names_the_repository() {
        for url in [
            "https://github.com/octo/demo.git",
            "https://github.com/octo/demo",
            "https://user@github.com/octo/demo/",
            "ssh://git@github.com/octo/demo.git",
            "ssh://git@github.com:22/octo/demo.git",
            "git@github.com:octo/demo.git",
            "git@GitHub.com:octo/demo",
        ] {
            assert_eq!(
                parse_url(url),
                Some(Origin {
                    host: "github.com".into(),
                    repo: "octo/demo".into()
                }),
                "{url}"
            );
        }
        for url in [
            "/srv/git/demo.git",
            "../demo",
            "https://gitlab.com/group/sub/demo.git",
            "file:///tmp/x",
        ] {
            assert!(
                parse_url(url).is_none_or(|o| o.host != "github.com"),
                "{url}"
            );
        }
    }

    #[test]
    fn the_origin_section_is_found_among_others() {
        let text = "[core]\n\trepositoryformatversion = 0\n[remote \"upstream\"]\n\turl = git@github.com:up/stream.git\n[remote \"origin\"]\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n\turl = \"https://github.com/octo/demo.git\"\n";
        assert_eq!(
            origin_url(text).as_deref(),
            Some("https://github.com/octo/demo.git")
        );
        assert_eq!(origin_url("[remote \"upstream\"]\nurl = x\n"), None);
    }
}
