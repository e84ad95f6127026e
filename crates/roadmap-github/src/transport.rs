//! The HTTP stack under octocrab: hyper with rustls (webpki roots), redirects followed with
//! credentials dropped across origins, and the base URI. Built with octocrab's custom builder
//! rather than its default client, because the default one appends its own `User-Agent:
//! octocrab` beside ours and a second `X-GitHub-Api-Version` beside the one every request
//! carries: strict servers and proxies refuse a repeated singleton field (RFC 9110 §5.3).
//! Every request's headers are set by [`crate::client::Core`] with `insert`, once each.

use std::time::Duration;

use octocrab::Octocrab;
use octocrab::service::middleware::base_uri::BaseUriLayer;

/// Builds the octocrab client for `base` (scheme, host, port and path prefix).
pub(crate) fn octocrab(base: &url::Url, connect_timeout: Duration) -> Result<Octocrab, String> {
    let uri: http::Uri = base
        .as_str()
        .trim_end_matches('/')
        .parse()
        .map_err(|e: http::uri::InvalidUri| e.to_string())?;
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    http.enforce_http(false);
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(provider)
        .map_err(|e| e.to_string())?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(60))
        .build(connector);
    // The standard policy follows at most 20 redirects and removes `Authorization` (and
    // cookies) when one leads to another origin.
    let stack = octocrab::OctocrabBuilder::new_empty()
        .with_service(client)
        .with_layer(&tower_http::follow_redirect::FollowRedirectLayer::new())
        .with_layer(&BaseUriLayer::new(uri))
        .with_auth(octocrab::AuthState::None);
    stack.build().map_err(|e| match e {})
}
