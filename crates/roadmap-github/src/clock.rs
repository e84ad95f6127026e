//! The client's clocks, all read from tokio's, so that a test which pauses tokio's clock
//! (`tokio::time::pause`, `#[tokio::test(start_paused = true)]`) moves every one of them:
//! the waits for a reset, the write spacing, the points log and the governor quotas.
//! Unpaused, they are the system's clocks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Governor's clock: tokio's monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TokioClock;

impl governor::clock::Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> std::time::Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// A direct (unkeyed) governor limiter on [`TokioClock`].
pub(crate) type Limiter = governor::RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    TokioClock,
    governor::middleware::NoOpMiddleware<std::time::Instant>,
>;

/// A limiter of `quota` on [`TokioClock`].
pub(crate) fn limiter(quota: governor::Quota) -> Limiter {
    governor::RateLimiter::direct_with_clock(quota, TokioClock)
}

/// How long until `limiter` lets one more through (zero: it took it).
pub(crate) fn not_before(limiter: &Limiter) -> Duration {
    match limiter.check() {
        Ok(()) => Duration::ZERO,
        Err(not_until) => not_until.wait_time_from(governor::clock::Clock::now(&TokioClock)),
    }
}

/// The wall clock now: the system's, moved by however far tokio's clock stands from the
/// real one (nothing unless it is paused).
fn wall() -> SystemTime {
    let (tokio_now, real_now) = (
        tokio::time::Instant::now().into_std(),
        std::time::Instant::now(),
    );
    let now = SystemTime::now();
    match tokio_now.checked_duration_since(real_now) {
        Some(ahead) => now + ahead,
        None => now
            .checked_sub(real_now.duration_since(tokio_now))
            .unwrap_or(UNIX_EPOCH),
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    wall().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The wall clock now, as chrono's.
pub(crate) fn utc_now() -> chrono::DateTime<chrono::Utc> {
    wall().into()
}
