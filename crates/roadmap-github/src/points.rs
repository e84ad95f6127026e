//! GitHub's secondary limit on points: at most `per_minute` points (a GET costs 1, a write 5)
//! in any minute. A log of what was spent in the last [`SPAN`] admits a request as soon as
//! the rule allows it, and no sooner: a pull of a few hundred pages goes at full speed, a pull
//! of thousands settles at `per_minute` a minute. (A token bucket would have to trade its
//! burst against its rate to keep the same promise: 50 at once then 850 a minute, for 900.)

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The span the log covers: a minute, and a margin for a request that reaches GitHub a
/// little after it was admitted here (it is admitted once it holds its connection slot, so
/// the margin covers the network only).
pub(crate) const SPAN: Duration = Duration::from_secs(61);

/// Points spent in the last [`SPAN`], oldest first.
#[derive(Debug)]
pub(crate) struct Log {
    per_minute: u32,
    spent: VecDeque<(Instant, u32)>,
    total: u32,
}

impl Log {
    pub(crate) fn new(per_minute: u32) -> Log {
        Log {
            per_minute,
            spent: VecDeque::new(),
            total: 0,
        }
    }

    /// Spends `cost` points at `now` if the rule allows it; otherwise says when it will.
    pub(crate) fn admit(&mut self, now: Instant, cost: u32) -> Result<(), Instant> {
        while let Some(&(at, c)) = self.spent.front() {
            if now.saturating_duration_since(at) < SPAN {
                break;
            }
            self.spent.pop_front();
            self.total -= c;
        }
        // A request costing more than the whole budget goes alone.
        let cost_in = cost.min(self.per_minute);
        if self.total + cost_in <= self.per_minute {
            self.spent.push_back((now, cost));
            self.total += cost;
            return Ok(());
        }
        // The earliest moment enough of the log has aged out.
        let mut freed = 0;
        for &(at, c) in &self.spent {
            freed += c;
            if self.total - freed + cost_in <= self.per_minute {
                return Err(at + SPAN);
            }
        }
        Err(now + SPAN)
    }
}

/// A [`Log`] shared by a client's requests.
#[derive(Debug)]
pub(crate) struct Pacer(Mutex<Log>);

impl Pacer {
    pub(crate) fn new(per_minute: u32) -> Pacer {
        Pacer(Mutex::new(Log::new(per_minute.max(1))))
    }

    /// Waits until `cost` points may be spent, spends them; returns how long it waited.
    pub(crate) async fn spend(&self, cost: u32) -> Duration {
        let began = Instant::now();
        loop {
            let admitted = self
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .admit(Instant::now(), cost);
            match admitted {
                Ok(()) => return began.elapsed(),
                Err(at) => tokio::time::sleep_until(at).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Requests that arrive every `gap`, admitted as the log allows: what was spent in any
    /// 60 seconds never exceeds the limit, and the log never waits longer than it must.
    fn run(per_minute: u32, costs: &[u32], gap: Duration) -> Vec<(Instant, u32)> {
        let t0 = Instant::now();
        let mut log = Log::new(per_minute);
        let mut now = t0;
        let mut out = Vec::new();
        for &c in costs {
            loop {
                match log.admit(now, c) {
                    Ok(()) => break,
                    Err(at) => {
                        assert!(at > now, "a wait goes forward");
                        now = at;
                    }
                }
            }
            out.push((now, c));
            now += gap;
        }
        out
    }

    fn most_in_a_minute(sent: &[(Instant, u32)]) -> u32 {
        let mut most = 0;
        for (i, (a, _)) in sent.iter().enumerate() {
            let in_minute: u32 = sent[i..]
                .iter()
                .take_while(|(b, _)| b.duration_since(*a) < Duration::from_secs(60))
                .map(|(_, c)| c)
                .sum();
            most = most.max(in_minute);
        }
        most
    }

    #[test]
    fn never_more_than_the_limit_in_any_minute() {
        for (per_minute, gap_ms) in [(900, 20), (900, 100), (120, 5), (10, 1), (2_000, 3)] {
            let costs: Vec<u32> = (0..3_000).map(|i| if i % 7 == 3 { 5 } else { 1 }).collect();
            let sent = run(per_minute, &costs, Duration::from_millis(gap_ms));
            let most = most_in_a_minute(&sent);
            assert!(
                most <= per_minute,
                "{per_minute}/min, every {gap_ms} ms: {most}"
            );
        }
    }

    #[test]
    fn a_short_listing_is_not_slowed_and_a_long_one_runs_at_the_limit() {
        // 900 GETs at 18 a second (8 at once, 440 ms each): never waits.
        let sent = run(900, &[1; 900], Duration::from_millis(55));
        let span = sent[899].0.duration_since(sent[0].0);
        assert!(span < Duration::from_millis(55 * 900), "{span:?}");
        assert_eq!(span, Duration::from_millis(55 * 899));
        // 1,000: the 901st waits for the first to age out, the last goes 61 s after the 100th.
        let sent = run(900, &[1; 1_000], Duration::from_millis(55));
        assert_eq!(sent[900].0, sent[0].0 + SPAN);
        assert_eq!(sent[999].0, sent[99].0 + SPAN);
    }

    #[test]
    fn a_write_larger_than_the_budget_still_goes() {
        let sent = run(3, &[5, 5, 1], Duration::ZERO);
        assert_eq!(sent.len(), 3);
        assert!(sent[1].0 >= sent[0].0 + SPAN);
    }
}
