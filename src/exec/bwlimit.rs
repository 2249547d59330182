//! `--bwlimit`: one byte rate shared by every session, uploads and downloads together, as in
//! rclone: `512k`, `4M` (bytes per second, base 1024), `off`, or a timetable of local times
//! of day, `"08:00,512k 19:00,off"`, each rate holding until the next entry (the last one
//! until the first one the next day).
//!
//! A transfer reports each chunk it moved; the limiter then makes it wait as long as the
//! chunk takes at the rate, less what the last second left unused (a burst of one second).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A rate per time of day; `None` is no limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// (minute of the day it starts, bytes per second), sorted by start.
    entries: Vec<(u32, Option<u64>)>,
}

impl Schedule {
    /// `4M`, `off`, or `HH:MM,RATE HH:MM,RATE ...`.
    pub fn parse(s: &str) -> Result<Schedule, String> {
        let t = s.trim();
        if !t.contains(',') {
            return Ok(Schedule {
                entries: vec![(0, rate(t)?)],
            });
        }
        let mut entries = Vec::new();
        for part in t.split_whitespace() {
            let (at, r) = part
                .split_once(',')
                .ok_or_else(|| format!("'{part}' in '{s}' is not HH:MM,RATE"))?;
            let (h, m) = at
                .split_once(':')
                .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
                .filter(|&(h, m)| h < 24 && m < 60)
                .ok_or_else(|| format!("'{at}' in '{s}' is not a time of day such as 08:00"))?;
            entries.push((h * 60 + m, rate(r)?));
        }
        entries.sort_by_key(|e| e.0);
        if entries.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(format!("'{s}' gives one time of day twice"));
        }
        Ok(Schedule { entries })
    }

    /// The rate at `minute` of the day (0–1439).
    pub fn rate_at(&self, minute: u32) -> Option<u64> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.0 <= minute)
            .or(self.entries.last())
            .and_then(|e| e.1)
    }

    /// Whether it never limits anything.
    pub fn is_off(&self) -> bool {
        self.entries.iter().all(|e| e.1.is_none())
    }
}

/// `512k`, `4M`, `1.5G` bytes per second; `off` or `0` for no limit.
fn rate(s: &str) -> Result<Option<u64>, String> {
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let n = crate::scan::limits::parse_size(s).map_err(|_| {
        format!("'{s}' is not a rate such as 512k or 4M (bytes per second), or off")
    })?;
    Ok((n > 0).then_some(n))
}

/// The shared limit, taken by every transfer of the run.
pub struct Limiter {
    schedule: Schedule,
    bucket: Mutex<Bucket>,
}

struct Bucket {
    /// Bytes that may go without waiting; negative: owed.
    tokens: f64,
    last: Instant,
}

impl Limiter {
    pub fn new(schedule: Schedule) -> Limiter {
        Limiter {
            schedule,
            bucket: Mutex::new(Bucket {
                tokens: 0.0,
                last: Instant::now(),
            }),
        }
    }

    /// Counts `n` bytes that just moved and waits as long as the rate wants. A stop request
    /// (Ctrl-C) ends the wait early.
    pub fn take(&self, n: u64) {
        use chrono::Timelike;
        let now = chrono::Local::now();
        let Some(rate) = self.schedule.rate_at(now.hour() * 60 + now.minute()) else {
            return;
        };
        let rate = rate as f64;
        let wait = {
            let mut b = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
            let t = Instant::now();
            let elapsed = t.duration_since(b.last).as_secs_f64();
            b.last = t;
            b.tokens = (b.tokens + elapsed * rate).min(rate) - n as f64;
            if b.tokens >= 0.0 {
                return;
            }
            Duration::from_secs_f64(-b.tokens / rate)
        };
        let until = Instant::now() + wait;
        while !crate::interrupt::requested() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_timetables_parse() {
        assert_eq!(Schedule::parse("4M").unwrap().rate_at(0), Some(4 << 20));
        assert_eq!(Schedule::parse("off").unwrap().rate_at(600), None);
        assert!(Schedule::parse("0").unwrap().is_off());
        let s = Schedule::parse("08:00,512k 19:00,off").unwrap();
        assert_eq!(s.rate_at(8 * 60), Some(512 << 10));
        assert_eq!(s.rate_at(18 * 60 + 59), Some(512 << 10));
        assert_eq!(s.rate_at(19 * 60), None);
        assert_eq!(
            s.rate_at(3 * 60),
            None,
            "before the first entry: the last one's"
        );
        let s = Schedule::parse("23:00,1M 06:30,100k").unwrap();
        assert_eq!(s.rate_at(2 * 60), Some(1 << 20));
        assert_eq!(s.rate_at(7 * 60), Some(100 << 10));
        for bad in ["fast", "25:00,1M", "08:00", "08:00,1M 08:00,2M", "8h,1M"] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_limiter_holds_the_rate_over_several_threads() {
        let l = Limiter::new(Schedule::parse("1M").unwrap());
        let started = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..4 {
                        l.take(256 << 10);
                    }
                });
            }
        });
        // 2 MiB at 1 MiB/s: at least 2 s (no burst credit at the start).
        assert!(
            started.elapsed() >= Duration::from_millis(1900),
            "{:?}",
            started.elapsed()
        );
    }
}
