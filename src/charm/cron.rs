//! Seconds-first cron expressions, as lucky.yaml's `cron-jobs` keys write them.
//!
//! The syntax is the one the earlier project took from the `cron` crate, so its charms keep
//! their schedules: `sec min hour day-of-month month day-of-week [year]`, each field `*`,
//! `?` (day fields only), a value, a range `a-b`, a step `*/n`, `a/n` or `a-b/n`, or a
//! comma list of those. Months and weekdays also take names (`JAN`, `MON`); weekdays are
//! 1-7 with 1 = Sunday. `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly` are shortcuts.
//! Parsed here (not with the crate): the field sets are all the scheduler needs to find the
//! next run (`next_after_in`), and the crate would pull in chrono for it. One parser serves
//! both lucky.yaml validation and the daemon's scheduler, so they cannot disagree.

use crate::calendar::{civil_from_days, weekday_from_days};
use crate::zone::Zone;

/// The allowed values of each field, as bit sets (bit n = value n).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronSchedule {
    pub(crate) seconds: u64,
    pub(crate) minutes: u64,
    pub(crate) hours: u64,
    pub(crate) days_of_month: u64,
    pub(crate) months: u64,
    /// 1 = Sunday … 7 = Saturday.
    pub(crate) days_of_week: u64,
    /// Years allowed, `None` for every year.
    pub(crate) years: Option<Vec<(u32, u32, u32)>>,
}

impl CronSchedule {
    fn year_allowed(&self, year: u32) -> bool {
        self.years.as_ref().is_none_or(|ranges| {
            ranges.iter().any(|&(lo, hi, step)| {
                (lo..=hi).contains(&year) && (year - lo).is_multiple_of(step.max(1))
            })
        })
    }

    fn day_allowed(&self, days_since_epoch: i64) -> bool {
        let (year, month, day) = civil_from_days(days_since_epoch);
        let weekday = weekday_from_days(days_since_epoch);
        self.year_allowed(year)
            && self.months & (1 << month) != 0
            && self.days_of_month & (1 << day) != 0
            && self.days_of_week & (1 << weekday) != 0
    }

    /// [`CronSchedule::next_after_in`] in UTC, as the tests read a schedule.
    #[cfg(test)]
    pub(crate) fn next_after(&self, after: i64) -> Option<i64> {
        self.next_after_in(after, &Zone::utc())
    }

    /// The first time (Unix seconds) strictly after `after` that the schedule matches, its
    /// fields read as wall-clock time in `zone`, or `None` if it never does again (e.g. a
    /// past year, or 30 February).
    ///
    /// Where clocks jump forward, a time in the gap never happens and is skipped. Where
    /// they go back, a time that happens twice runs once, at its first occurrence, unless
    /// the schedule runs every hour (`*` in the hours field): such a job keeps its pace
    /// through the repeated hour instead of pausing for an hour (as cron does).
    pub(crate) fn next_after_in(&self, after: i64, zone: &Zone) -> Option<i64> {
        let start = after.checked_add(1)?;
        let offset = |t: i64| i64::from(zone.offset_at(t));
        // Near a change, the wall clock reads earlier times again: scan from the earliest
        // reading of `start`, and keep the earliest instant found.
        let local_start = start.checked_add(offset(start).min(offset(start + 86_400)))?;
        let first_day = local_start.div_euclid(86_400);
        let every_hour = self.hours & 0xFF_FFFF == 0xFF_FFFF;
        let runs = if every_hour { 2 } else { 1 };
        // (earliest instant, the last wall-clock reading that could still beat it)
        let mut best: Option<(i64, i64)> = None;
        // Every schedule that can match repeats within 28 years (the leap-year and weekday
        // cycles); years end at 2100, so this bound only stops impossible schedules.
        for day in first_day..first_day + 366 * 30 {
            if best.is_some_and(|(_, bound)| day * 86_400 > bound) {
                break;
            }
            if !self.day_allowed(day) {
                continue;
            }
            let mut from = if day == first_day {
                local_start.rem_euclid(86_400)
            } else {
                0
            };
            while let Some(second) = self.first_second_of_day_from(from) {
                let local = day * 86_400 + second;
                if best.is_some_and(|(_, bound)| local > bound) {
                    break;
                }
                let instants = zone.instants_of(local);
                if let Some(at) = instants.into_iter().take(runs).find(|&at| at > after)
                    && best.is_none_or(|(earliest, _)| at < earliest)
                {
                    best = Some((at, at + offset(start).max(offset(at))));
                }
                from = second + 1;
            }
        }
        best.map(|(at, _)| at)
    }

    /// The first second of a day at or after `from` (seconds since midnight) that matches.
    fn first_second_of_day_from(&self, from: i64) -> Option<i64> {
        if from >= 86_400 {
            return None;
        }
        let (h0, m0, s0) = (from / 3600, from / 60 % 60, from % 60);
        for h in h0..24 {
            if self.hours & (1 << h) == 0 {
                continue;
            }
            let m_start = if h == h0 { m0 } else { 0 };
            for m in m_start..60 {
                if self.minutes & (1 << m) == 0 {
                    continue;
                }
                let s_start = if h == h0 && m == m0 { s0 } else { 0 };
                if let Some(s) = (s_start..60).find(|s| self.seconds & (1 << s) != 0) {
                    return Some(h * 3600 + m * 60 + s);
                }
            }
        }
        None
    }
}

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    question_mark: bool,
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const FIELDS: [Field; 7] = [
    Field {
        name: "seconds",
        min: 0,
        max: 59,
        names: &[],
        question_mark: false,
    },
    Field {
        name: "minutes",
        min: 0,
        max: 59,
        names: &[],
        question_mark: false,
    },
    Field {
        name: "hours",
        min: 0,
        max: 23,
        names: &[],
        question_mark: false,
    },
    Field {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
        question_mark: true,
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: MONTHS,
        question_mark: false,
    },
    Field {
        name: "day of week",
        min: 1,
        max: 7,
        names: WEEKDAYS,
        question_mark: true,
    },
    Field {
        name: "year",
        min: 1970,
        max: 2100,
        names: &[],
        question_mark: false,
    },
];

/// Parses a cron expression; the error says which field is wrong and why, on one line.
pub(crate) fn parse(expression: &str) -> Result<CronSchedule, String> {
    let expanded = match expression.trim() {
        "@yearly" | "@annually" => "0 0 0 1 1 *",
        "@monthly" => "0 0 0 1 * *",
        "@weekly" => "0 0 0 * * 1",
        "@daily" | "@midnight" => "0 0 0 * * *",
        "@hourly" => "0 0 * * * *",
        other => other,
    };
    let parts: Vec<&str> = expanded.split_whitespace().collect();
    if !(6..=7).contains(&parts.len()) {
        return Err(format!(
            "invalid cron expression \"{expression}\": it has {} fields, expected 6 (sec min hour day-of-month month day-of-week) or 7 (and year)",
            parts.len()
        ));
    }
    let mut sets = [0u64; 6];
    for (i, part) in parts.iter().take(6).enumerate() {
        sets[i] = field_set(&FIELDS[i], part)
            .map_err(|e| format!("invalid cron expression \"{expression}\": {e}"))?;
    }
    let years = match parts.get(6) {
        Some(part) if *part != "*" => Some(
            year_ranges(part)
                .map_err(|e| format!("invalid cron expression \"{expression}\": {e}"))?,
        ),
        _ => None,
    };
    Ok(CronSchedule {
        seconds: sets[0],
        minutes: sets[1],
        hours: sets[2],
        days_of_month: sets[3],
        months: sets[4],
        days_of_week: sets[5],
        years,
    })
}

fn field_set(field: &Field, text: &str) -> Result<u64, String> {
    let mut set = 0u64;
    for (lo, hi, step) in items(field, text)? {
        let mut v = lo;
        while v <= hi {
            set |= 1 << v;
            v += step;
        }
    }
    Ok(set)
}

/// Years do not fit a u64 bit set: kept as (from, to, step).
fn year_ranges(text: &str) -> Result<Vec<(u32, u32, u32)>, String> {
    items(&FIELDS[6], text)
}

/// Each comma-separated item of a field as (from, to, step), checked against its bounds.
fn items(field: &Field, text: &str) -> Result<Vec<(u32, u32, u32)>, String> {
    let mut out = Vec::new();
    for item in text.split(',') {
        let bad = |why: &str| format!("{} field \"{text}\": {why}", field.name);
        if item.is_empty() {
            return Err(bad("empty list item"));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .map_err(|_| bad(&format!("step \"{step}\" is not a number")))?;
                if step == 0 {
                    return Err(bad("a step of 0 never advances"));
                }
                (range, Some(step))
            }
            None => (item, None),
        };
        let (lo, hi) = if range == "*" || (range == "?" && field.question_mark) {
            (field.min, field.max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(field, a).map_err(|e| bad(&e))?,
                value(field, b).map_err(|e| bad(&e))?,
            )
        } else {
            let v = value(field, range).map_err(|e| bad(&e))?;
            // `a/n` runs from a to the end of the field.
            (v, if step.is_some() { field.max } else { v })
        };
        if lo > hi {
            return Err(bad(&format!("range {lo}-{hi} runs backwards")));
        }
        out.push((lo, hi, step.unwrap_or(1)));
    }
    Ok(out)
}

fn value(field: &Field, text: &str) -> Result<u32, String> {
    let upper = text.to_ascii_uppercase();
    if let Some(i) = field.names.iter().position(|n| *n == upper) {
        return Ok(field.min + i as u32);
    }
    let v: u32 = text.parse().map_err(|_| {
        if field.names.is_empty() {
            format!("\"{text}\" is not a number")
        } else {
            format!(
                "\"{text}\" is neither a number nor one of {}",
                field.names.join(", ")
            )
        }
    })?;
    if !(field.min..=field.max).contains(&v) {
        return Err(format!("{v} is outside {}-{}", field.min, field.max));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_expressions() {
        let s = parse("0 */5 * * * *").expect("valid");
        assert_eq!(s.seconds, 1);
        assert_eq!(s.minutes.count_ones(), 12);
        assert_eq!(s.hours.count_ones(), 24);
        let s = parse("*/10 0-30/15 9-17 ? JAN,jul MON-FRI 2030").expect("valid");
        assert_eq!(s.seconds.count_ones(), 6);
        assert_eq!(s.minutes, (1 << 0) | (1 << 15) | (1 << 30));
        assert_eq!(s.months, (1 << 1) | (1 << 7));
        assert_eq!(s.days_of_week, 0b1111100); // MON=2 … FRI=6
        assert_eq!(s.years, Some(vec![(2030, 2030, 1)]));
        assert!(parse("@hourly").is_ok());
        assert!(parse("5/20 * * * * *").is_ok());
    }

    #[test]
    fn invalid_expressions_say_why() {
        for (expr, needle) in [
            ("* * * * *", "5 fields"),
            ("61 * * * * *", "seconds field \"61\": 61 is outside 0-59"),
            ("* * 24 * * *", "hours"),
            ("* * * 0 * *", "day of month"),
            ("* * * * FOO *", "neither a number nor one of JAN"),
            ("*/0 * * * * *", "step of 0"),
            ("* 30-10 * * * *", "backwards"),
            ("* * * * * 1,,2", "empty list item"),
            ("? * * * * *", "seconds"),
            ("every minute", "2 fields"),
        ] {
            let e = parse(expr).expect_err(expr);
            assert!(e.contains(needle), "{expr}: {e}");
            assert!(
                e.starts_with(&format!("invalid cron expression \"{expr}\"")),
                "{e}"
            );
        }
    }

    #[test]
    fn next_runs() {
        // 2026-11-25 09:00:00 UTC, a Wednesday.
        let t = 1_795_597_200;
        assert_eq!(civil_from_days(t / 86_400), (2026, 11, 25));
        let every_second = parse("* * * * * *").expect("parse");
        assert_eq!(every_second.next_after(t), Some(t + 1));
        let five_minutes = parse("0 */5 * * * *").expect("parse");
        assert_eq!(five_minutes.next_after(t), Some(t + 300));
        assert_eq!(five_minutes.next_after(t + 1), Some(t + 300));
        let daily = parse("@daily").expect("parse");
        assert_eq!(daily.next_after(t), Some(1_795_651_200)); // 2026-11-26 00:00
        // Sundays at 03:30:15 (1 = Sunday): 2026-11-29.
        let sunday = parse("15 30 3 * * 1").expect("parse");
        assert_eq!(sunday.next_after(t), Some(1_795_923_015));
        // 29 February: next in 2028.
        let leap = parse("0 0 0 29 2 *").expect("parse");
        assert_eq!(leap.next_after(t), Some(1_835_395_200));
        assert_eq!(parse("0 0 0 30 2 *").expect("parse").next_after(t), None);
        assert_eq!(
            parse("0 0 0 * * * 2020").expect("parse").next_after(t),
            None
        );
    }

    /// Unix seconds of a UTC date and time.
    fn utc(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
        crate::calendar::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60
    }

    fn paris() -> Zone {
        Zone::named("Europe/Paris").expect("tzdata's Europe/Paris")
    }

    #[test]
    fn schedules_follow_the_local_clock() {
        let paris = paris();
        let daily = parse("0 30 3 * * *").expect("parse");
        // Winter: 03:30 in Paris is 02:30 UTC; summer: 01:30 UTC.
        let jan = utc(2026, 1, 10, 12, 0);
        assert_eq!(
            daily.next_after_in(jan, &paris),
            Some(utc(2026, 1, 11, 2, 30))
        );
        let jul = utc(2026, 7, 10, 12, 0);
        assert_eq!(
            daily.next_after_in(jul, &paris),
            Some(utc(2026, 7, 11, 1, 30))
        );
        let ny = Zone::named("America/New_York").expect("tzdata's America/New_York");
        assert_eq!(daily.next_after_in(jan, &ny), Some(utc(2026, 1, 11, 8, 30)));
        // The local day decides the weekday and date: Sundays 23:00 in New York are Monday
        // 04:00 UTC in winter.
        let sunday = parse("0 0 23 * * SUN").expect("parse");
        let wed = utc(2026, 1, 14, 12, 0);
        assert_eq!(sunday.next_after_in(wed, &ny), Some(utc(2026, 1, 19, 4, 0)));
    }

    #[test]
    fn a_time_clocks_skip_does_not_run() {
        let paris = paris();
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let at_0230 = parse("0 30 2 * * *").expect("parse");
        let before = utc(2026, 3, 28, 12, 0);
        // Not on the 29th (02:30 never happens there): the 30th, 02:30 CEST.
        assert_eq!(
            at_0230.next_after_in(before, &paris),
            Some(utc(2026, 3, 30, 0, 30))
        );
        // Every 30 minutes: 01:30 CET, then 03:00 CEST; 02:00 and 02:30 do not exist.
        let half_hourly = parse("0 0,30 * * * *").expect("parse");
        let t = utc(2026, 3, 29, 0, 0); // 01:00 CET
        let runs: Vec<i64> = std::iter::successors(half_hourly.next_after_in(t, &paris), |&t| {
            half_hourly.next_after_in(t, &paris)
        })
        .take(3)
        .collect();
        assert_eq!(
            runs,
            vec![
                utc(2026, 3, 29, 0, 30),
                utc(2026, 3, 29, 1, 0),
                utc(2026, 3, 29, 1, 30)
            ]
        );
    }

    #[test]
    fn a_time_clocks_repeat_runs_once() {
        let paris = paris();
        // 2026-10-25: 03:00 CEST goes back to 02:00 CET (01:00 UTC): 02:30 happens at
        // 00:30 and 01:30 UTC.
        let at_0230 = parse("0 30 2 * * *").expect("parse");
        let before = utc(2026, 10, 24, 12, 0);
        let first = at_0230.next_after_in(before, &paris);
        assert_eq!(first, Some(utc(2026, 10, 25, 0, 30)));
        // Not again at the second 02:30: the next run is the 26th, 02:30 CET.
        assert_eq!(
            at_0230.next_after_in(utc(2026, 10, 25, 0, 30), &paris),
            Some(utc(2026, 10, 26, 1, 30))
        );
        // An hourly job keeps its pace through the repeated hour: every UTC hour.
        let hourly = parse("0 30 * * * *").expect("parse");
        let runs: Vec<i64> = std::iter::successors(
            hourly.next_after_in(utc(2026, 10, 24, 23, 0), &paris),
            |&t| hourly.next_after_in(t, &paris),
        )
        .take(4)
        .collect();
        assert_eq!(
            runs,
            vec![
                utc(2026, 10, 24, 23, 30),
                utc(2026, 10, 25, 0, 30),
                utc(2026, 10, 25, 1, 30),
                utc(2026, 10, 25, 2, 30)
            ]
        );
    }
}
