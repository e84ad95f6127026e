//! The simulator's clock is tokio's: in a test that pauses tokio's clock
//! (`#[tokio::test(start_paused = true)]`, the simulator in the same runtime), rate-limit
//! windows, resets, `Retry-After` and `updated_at` all move with it, so a wait for a reset
//! takes no real time. Unpaused, it is the system's clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub(crate) use tokio::time::Instant;

/// The wall clock now: the system's, moved by however far tokio's clock stands from the
/// real one (nothing unless it is paused).
fn wall() -> Duration {
    let (tokio_now, real_now) = (Instant::now().into_std(), std::time::Instant::now());
    let now = SystemTime::now();
    let at = match tokio_now.checked_duration_since(real_now) {
        Some(ahead) => now + ahead,
        None => now
            .checked_sub(real_now.duration_since(tokio_now))
            .unwrap_or(UNIX_EPOCH),
    };
    at.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// Unix seconds now.
pub(crate) fn unix_now() -> i64 {
    wall().as_secs() as i64
}

/// Unix seconds `d` from now, rounded up.
pub(crate) fn unix_after(d: Duration) -> u64 {
    let at = wall() + d;
    at.as_secs() + u64::from(at.subsec_nanos() > 0)
}
