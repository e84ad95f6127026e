//! Where the token comes from, and which host may receive it.
//!
//! A token goes to github.com, or to another host only when the user named that host
//! themselves: the `--api-url` flag, `ROADMAP_API_URL`, their own config file, or
//! `allowed_hosts` there. A host named only by a project's committed `.roadmap/config.toml`
//! gets no token (a clone must never decide where a token goes). `GITHUB_TOKEN`, `GH_TOKEN`
//! and `gh auth token` are github.com tokens; an Enterprise host can take `GH_ENTERPRISE_TOKEN`
//! or `gh auth token --hostname HOST`. Plain `http://` is refused but for loopback. The token
//! is held as a `SecretString` from here on and never printed.

use anyhow::{Result, bail};
use secrecy::SecretString;

use crate::config::{Config, Source};

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

/// The API host a run talks to, and whether it may have the user's token.
#[derive(Debug, Clone)]
pub struct Host {
    /// `api.github.com`, `ghe.example.com`, `127.0.0.1:4321`.
    pub name: String,
    /// github.com itself.
    pub github_com: bool,
    /// The user named it (flag, environment, own config, `allowed_hosts`).
    pub named_by_user: bool,
}

impl Host {
    pub fn may_have_token(&self) -> bool {
        self.github_com || self.named_by_user
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

/// Checks `api_url` and says who named its host.
pub fn host(config: &Config, api_url: &str) -> Result<Host> {
    let url = url::Url::parse(api_url)
        .map_err(|e| anyhow::anyhow!("invalid API URL `{}`: {e}", redact(api_url)))?;
    let Some(h) = url.host() else {
        bail!("invalid API URL `{}`: no host", redact(api_url));
    };
    if url.scheme() == "http" && !is_loopback(&h) {
        bail!(
            "refusing plain http:// to {h}: the token and your data would travel unencrypted; use https:// (plain http is only for loopback)"
        );
    }
    let name = match url.port() {
        Some(p) => format!("{h}:{p}"),
        None => h.to_string(),
    };
    let github_com = url.scheme() == "https" && name.eq_ignore_ascii_case("api.github.com");
    let allowed = config
        .get_trusted("allowed_hosts")
        .unwrap_or_default()
        .split([',', ' '])
        .any(|a| !a.is_empty() && a.eq_ignore_ascii_case(&name));
    let named_by_user = config
        .source("api_url")
        .is_some_and(|s| !matches!(s, Source::Project | Source::Default))
        || allowed;
    Ok(Host {
        name,
        github_com,
        named_by_user,
    })
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

/// A URL with any user and password replaced by `***`.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("***");
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_owned(),
    }
}
