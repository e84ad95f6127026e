//! Finding the token: `GITHUB_TOKEN`, `GH_TOKEN`, then `gh auth token`. The token is held as a
//! `SecretString` from here on and never printed.

use secrecy::SecretString;

/// Where the token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    GithubToken,
    GhToken,
    GhCli,
}

impl TokenSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenSource::GithubToken => "GITHUB_TOKEN",
            TokenSource::GhToken => "GH_TOKEN",
            TokenSource::GhCli => "gh auth token",
        }
    }
}

pub fn find_token() -> Option<(SecretString, TokenSource)> {
    for (var, src) in [
        ("GITHUB_TOKEN", TokenSource::GithubToken),
        ("GH_TOKEN", TokenSource::GhToken),
    ] {
        if let Ok(v) = std::env::var(var) {
            let v = v.trim().to_owned();
            if !v.is_empty() {
                return Some((SecretString::from(v), src));
            }
        }
    }
    let out = std::process::Command::new("gh")
        .args(["auth", "token"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let t = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!t.is_empty()).then(|| (SecretString::from(t), TokenSource::GhCli))
}
