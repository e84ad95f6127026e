//! How many GETs may be in flight: additive increase, multiplicative decrease (as TCP's
//! congestion control). The limit starts at `max` (the workers, never above GitHub's 100
//! concurrent requests), halves on every secondary-limit answer, and grows back by one per
//! `limit` successful answers.

use std::sync::Mutex;

use tokio::sync::Notify;

pub(crate) struct Aimd {
    max: f64,
    state: Mutex<State>,
    freed: Notify,
}

struct State {
    limit: f64,
    inflight: usize,
    peak: usize,
}

/// A slot; gives itself back when dropped.
pub(crate) struct Slot<'a>(&'a Aimd);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.lock().inflight -= 1;
        self.0.freed.notify_waiters();
    }
}

impl Aimd {
    pub fn new(max: usize) -> Self {
        let max = max.clamp(1, 100) as f64;
        Aimd {
            max,
            state: Mutex::new(State {
                limit: max,
                inflight: 0,
                peak: 0,
            }),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a slot.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            // Registered before the check: a slot freed in between still wakes us.
            let freed = self.freed.notified();
            {
                let mut s = self.lock();
                if s.inflight < (s.limit as usize).max(1) {
                    s.inflight += 1;
                    s.peak = s.peak.max(s.inflight);
                    return Slot(self);
                }
            }
            freed.await;
        }
    }

    /// An answer that was not a secondary limit: grow by one per `limit` of them.
    pub fn success(&self) {
        let mut s = self.lock();
        s.limit = (s.limit + 1.0 / s.limit).min(self.max);
        drop(s);
        self.freed.notify_waiters();
    }

    /// A secondary-limit answer: halve.
    pub fn backoff(&self) {
        let mut s = self.lock();
        let before = s.limit;
        s.limit = (s.limit / 2.0).max(1.0);
        tracing::info!(
            from = before as usize,
            to = s.limit as usize,
            "secondary rate limit: fewer requests at once"
        );
    }

    /// The limit now, and the most requests ever in flight at once.
    pub fn stats(&self) -> (usize, usize) {
        let s = self.lock();
        (s.limit as usize, s.peak)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_on_backoff_and_grows_back_slowly() {
        let a = Aimd::new(8);
        a.backoff();
        assert_eq!(a.stats().0, 4);
        a.backoff();
        a.backoff();
        a.backoff();
        assert_eq!(a.stats().0, 1, "never below one");
        for _ in 0..3 {
            a.success();
        }
        assert_eq!(a.stats().0, 2, "one more after `limit` successes");
        let s1 = a.acquire().await;
        let s2 = a.acquire().await;
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(20), a.acquire())
                .await
                .is_err(),
            "a third waits"
        );
        drop(s1);
        let _s3 = a.acquire().await;
        drop(s2);
        assert_eq!(a.stats().1, 2);
    }
}
