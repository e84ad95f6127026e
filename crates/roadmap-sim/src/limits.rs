//! GitHub's rate limits: primary (per token, per hour), and the secondary ones
//! (concurrency, points per minute, content creation). Every duration is configurable so
//! that tests can run on a compressed clock.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::clock::{Instant, unix_after};

/// Limit settings. Defaults are GitHub's published numbers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests per window for an authenticated token (5,000).
    pub primary: u64,
    /// Requests per window without a token (60).
    pub unauthenticated: u64,
    /// Length of the primary window (1 hour).
    pub primary_window: Duration,
    /// Answer primary exhaustion with 429 instead of 403.
    pub primary_status_429: bool,
    /// Concurrent requests before a secondary limit (100).
    pub concurrent: u64,
    /// Points per minute (900); GET costs 1, writes 5.
    pub points_per_minute: u64,
    /// Content-creating requests per minute (80).
    pub content_per_minute: u64,
    /// Content-creating requests per hour (500).
    pub content_per_hour: u64,
    /// Length of the "minute" of the secondary limits.
    pub minute: Duration,
    /// Length of the "hour" of the content-creation limit.
    pub hour: Duration,
    /// `retry-after` sent with a secondary limit when the window does not say otherwise (60 s).
    pub secondary_retry_after: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            primary: 5_000,
            unauthenticated: 60,
            primary_window: Duration::from_secs(3_600),
            primary_status_429: false,
            concurrent: 100,
            points_per_minute: 900,
            content_per_minute: 80,
            content_per_hour: 500,
            minute: Duration::from_secs(60),
            hour: Duration::from_secs(3_600),
            secondary_retry_after: Duration::from_secs(60),
        }
    }
}

impl Limits {
    /// No limit will ever trip (for benchmarks of raw speed).
    pub fn unlimited() -> Self {
        Limits {
            primary: u64::MAX / 2,
            unauthenticated: u64::MAX / 2,
            concurrent: u64::MAX / 2,
            points_per_minute: u64::MAX / 2,
            content_per_minute: u64::MAX / 2,
            content_per_hour: u64::MAX / 2,
            ..Limits::default()
        }
    }
}

#[derive(Debug)]
struct Bucket {
    window_start: Instant,
    reset_epoch: u64,
    used: u64,
}

/// Live counters of every limit.
#[derive(Debug, Default)]
pub struct LimitState {
    primary: HashMap<String, Bucket>,
    points: HashMap<String, VecDeque<(Instant, u64)>>,
    content_minute: HashMap<String, VecDeque<Instant>>,
    content_hour: HashMap<String, VecDeque<Instant>>,
}

/// The primary limit as the headers show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrimaryStatus {
    /// `x-ratelimit-limit`
    pub limit: u64,
    /// `x-ratelimit-remaining`
    pub remaining: u64,
    /// `x-ratelimit-used`
    pub used: u64,
    /// `x-ratelimit-reset`, epoch seconds.
    pub reset: u64,
}

/// Why a request was refused by a secondary limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secondary {
    /// Too many concurrent requests.
    Concurrency,
    /// Too many points this minute.
    Points(Duration),
    /// Too much content created.
    Content(Duration),
}

impl LimitState {
    fn bucket(&mut self, key: &str, limits: &Limits) -> &mut Bucket {
        let now = Instant::now();
        let b = self
            .primary
            .entry(key.to_owned())
            .or_insert_with(|| Bucket {
                window_start: now,
                reset_epoch: unix_after(limits.primary_window),
                used: 0,
            });
        if now.duration_since(b.window_start) >= limits.primary_window {
            b.window_start = now;
            b.reset_epoch = unix_after(limits.primary_window);
            b.used = 0;
        }
        b
    }

    /// The primary status of a key (`token:...` or `ip`), without using any.
    pub fn primary(&mut self, key: &str, authenticated: bool, limits: &Limits) -> PrimaryStatus {
        let limit = if authenticated {
            limits.primary
        } else {
            limits.unauthenticated
        };
        let b = self.bucket(key, limits);
        PrimaryStatus {
            limit,
            remaining: limit.saturating_sub(b.used),
            used: b.used,
            reset: b.reset_epoch,
        }
    }

    /// Counts one request against the primary limit.
    pub fn use_primary(&mut self, key: &str, limits: &Limits) {
        self.bucket(key, limits).used += 1;
    }

    /// Adds a request's points; refuses if the minute's budget is spent.
    pub fn points(&mut self, key: &str, cost: u64, limits: &Limits) -> Result<(), Secondary> {
        let now = Instant::now();
        let q = self.points.entry(key.to_owned()).or_default();
        while q
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) >= limits.minute)
        {
            q.pop_front();
        }
        let spent: u64 = q.iter().map(|(_, c)| c).sum();
        if spent + cost > limits.points_per_minute {
            let wait = q.front().map_or(limits.minute, |(t, _)| {
                limits.minute.saturating_sub(now.duration_since(*t))
            });
            return Err(Secondary::Points(wait));
        }
        q.push_back((now, cost));
        Ok(())
    }

    /// Counts a content-creating request; refuses past 80/minute or 500/hour.
    pub fn content(&mut self, key: &str, limits: &Limits) -> Result<(), Secondary> {
        let now = Instant::now();
        for (map, window, max) in [
            (
                &mut self.content_minute,
                limits.minute,
                limits.content_per_minute,
            ),
            (&mut self.content_hour, limits.hour, limits.content_per_hour),
        ] {
            let q = map.entry(key.to_owned()).or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
            if q.len() as u64 >= max {
                let wait = q
                    .front()
                    .map_or(window, |t| window.saturating_sub(now.duration_since(*t)));
                return Err(Secondary::Content(wait));
            }
        }
        for map in [&mut self.content_minute, &mut self.content_hour] {
            map.entry(key.to_owned()).or_default().push_back(now);
        }
        Ok(())
    }
}
