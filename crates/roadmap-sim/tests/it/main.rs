//! The simulator, tested over HTTP as a client would see it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod behaviour;
mod conformance;
mod relations;
mod today;

use std::time::Duration;

use roadmap_sim::{RepoSpec, SimConfig, Simulator};

pub const TOKEN: &str = "ghp_testtoken";

/// A running simulator and the runtime that drives it; requests are made from the test thread.
#[allow(missing_debug_implementations)]
pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub sim: Simulator,
    pub agent: ureq::Agent,
}

impl Env {
    pub fn start(config: SimConfig) -> Env {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sim = rt.block_on(Simulator::start(config)).unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(20)))
            .max_redirects(0)
            .build()
            .into();
        Env { rt, sim, agent }
    }

    pub fn repo(issues: u64, prs: u64) -> Env {
        let mut spec = RepoSpec::new("octo", "demo");
        spec.issues = issues;
        spec.prs = prs;
        spec.milestones = 7;
        spec.labels = 12;
        spec.comments = 2;
        Env::start(SimConfig::default().repo(spec))
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.sim.url())
        }
    }

    /// GET with the token; returns (status, headers, body).
    pub fn get(&self, path: &str) -> Reply {
        self.get_with(path, &[("Authorization", &format!("Bearer {TOKEN}"))])
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = self
            .agent
            .get(&self.url(path))
            .header("User-Agent", "roadmap-sim-test");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        Reply::from(req.call().expect("request"))
    }

    pub fn send(&self, method: &str, path: &str, body: serde_json::Value) -> Reply {
        let url = self.url(path);
        let auth = format!("Bearer {TOKEN}");
        if method == "DELETE" && body.is_null() {
            return Reply::from(
                self.agent
                    .delete(&url)
                    .header("User-Agent", "t")
                    .header("Authorization", &auth)
                    .call()
                    .expect("request"),
            );
        }
        let req = match method {
            "POST" => self.agent.post(&url),
            "PATCH" => self.agent.patch(&url),
            // GitHub's `DELETE …/sub_issue` takes a body.
            "DELETE" => self.agent.delete(&url).force_send_body(),
            other => panic!("{other}"),
        };
        Reply::from(
            req.header("User-Agent", "t")
                .header("Authorization", &auth)
                .send(body.to_string())
                .expect("request"),
        )
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Reply {
    fn from(mut r: http::Response<ureq::Body>) -> Reply {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            headers,
            body,
        }
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    pub fn header(&self, k: &str) -> Option<String> {
        self.headers.get(k).map(|v| v.to_str().unwrap().to_owned())
    }
    /// The URL of a `Link` relation.
    pub fn link(&self, rel: &str) -> Option<String> {
        let l = self.header("link")?;
        l.split(", ")
            .find(|p| p.ends_with(&format!("rel=\"{rel}\"")))
            .map(|p| p[1..p.find('>').unwrap()].to_owned())
    }
}
