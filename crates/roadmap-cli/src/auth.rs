//! Where the token comes from (which host may receive it is the library's call:
//! [`roadmap::Host`]).
//!
//! A token goes to github.com, or to another host only when the user named that host
//! themselves: the `--api-url` flag, `ROADMAP_API_URL`, their own config file, or
//! `allowed_hosts` there. A host named only by a project's committed `.roadmap/config.toml`
//! gets no token (a clone must never decide where a token goes). `GITHUB_TOKEN`, `GH_TOKEN`
//! and `gh auth token` are github.com tokens; an Enterprise host can take `GH_ENTERPRISE_TOKEN`
//! or `gh auth token --hostname HOST`. Plain `http://` is refused but for loopback. The token
//! is held as a `SecretString` from here on and never printed.

use roadmap::{Host, SecretString};

/// Where the token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    GithubToken,
    GhToken,
    GhEnterpriseToken,
    GhCli(Option<String>),
}

impl TokenSource {
    pub fn describe(&self) -> String {
        match self {
            TokenSource::GithubToken => "GITHUB_TOKEN".into(),
            TokenSource::GhToken => "GH_TOKEN".into(),
            TokenSource::GhEnterpriseToken => "GH_ENTERPRISE_TOKEN".into(),
            TokenSource::GhCli(None) => "`gh auth token`".into(),
            TokenSource::GhCli(Some(h)) => format!("`gh auth token --hostname {h}`"),
        }
    }
}

fn env_token(var: &str) -> Option<SecretString> {
    let v = std::env::var(var).ok()?.trim().to_owned();
    (!v.is_empty()).then(|| SecretString::from(v))
}

fn gh_cli(hostname: Option<&str>) -> Option<SecretString> {
    let mut c = std::process::Command::new("gh");
    c.args(["auth", "token"]);
    if let Some(h) = hostname {
        c.args(["--hostname", h]);
    }
    let out = c
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let t = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!t.is_empty()).then(|| SecretString::from(t))
}

/// The token for `host`, if it may have one.
pub fn find_token(host: &Host) -> Option<(SecretString, TokenSource)> {
    if !host.may_have_token() {
        return None;
    }
    if !host.github_com
        && let Some(t) = env_token("GH_ENTERPRISE_TOKEN")
    {
        return Some((t, TokenSource::GhEnterpriseToken));
    }
    if let Some(t) = env_token("GITHUB_TOKEN") {
        return Some((t, TokenSource::GithubToken));
    }
    if let Some(t) = env_token("GH_TOKEN") {
        return Some((t, TokenSource::GhToken));
    }
    if host.github_com {
        gh_cli(None).map(|t| (t, TokenSource::GhCli(None)))
    } else {
        let bare = host.name.split(':').next().unwrap_or(&host.name).to_owned();
        gh_cli(Some(&bare)).map(|t| (t, TokenSource::GhCli(Some(bare))))
    }
}
