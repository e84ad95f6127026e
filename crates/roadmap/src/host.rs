//! Which API host a project talks to, and whether it may receive the user's token.
//!
//! A token goes to github.com, or to another host only when the user named that host
//! themselves: a flag, the environment, their own config file, or `allowed_hosts` there. A host
//! named only by a project's committed `.roadmap/config.toml` gets no token (a clone must never
//! decide where a token goes). Plain `http://` is refused but for loopback.

use crate::config::{Config, Source};

/// The API host a run talks to, and who named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// `api.github.com`, `ghe.example.com`, `127.0.0.1:4321`.
    pub name: String,
    /// github.com itself.
    pub github_com: bool,
    /// The user named it (flag, environment, own config, `allowed_hosts`).
    pub named_by_user: bool,
}

impl Host {
    /// Whether the user's token may be sent there.
    pub fn may_have_token(&self) -> bool {
        self.github_com || self.named_by_user
    }

    /// The host of `config`'s `api_url`, checked.
    pub fn of(config: &Config) -> Result<Host, HostError> {
        let api_url = config
            .get("api_url")
            .unwrap_or(roadmap_github::DEFAULT_API_URL);
        let url = url::Url::parse(api_url).map_err(|e| HostError::BadUrl {
            url: redact(api_url),
            message: e.to_string(),
        })?;
        let Some(h) = url.host() else {
            return Err(HostError::BadUrl {
                url: redact(api_url),
                message: "no host".into(),
            });
        };
        if url.scheme() == "http" && !is_loopback(&h) {
            return Err(HostError::PlainHttp(h.to_string()));
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
}

/// An API URL that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// Not a URL with a host.
    #[error("invalid API URL `{url}`: {message}")]
    BadUrl {
        /// The URL, credentials redacted.
        url: String,
        /// Why.
        message: String,
    },
    /// `http://` to a host that is not loopback.
    #[error(
        "refusing plain http:// to {0}: the token and your data would travel unencrypted; use https:// (plain http is only for loopback)"
    )]
    PlainHttp(String),
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
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
