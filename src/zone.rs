//! Time zones, as the machine's tz database stores them (TZif files, RFC 8536), read by
//! hand: the scheduler needs only "which UTC offset applies at this instant", and a date
//! library would cost the binary far more than this file does.
//!
//! A zone is its list of transitions plus the POSIX `TZ` rule of the file's footer, which
//! gives the offsets after the last transition (slim TZif files stop in the present).

use crate::calendar::{civil_from_days, days_from_civil};
use std::path::Path;

/// Where IANA zone names are looked up.
pub(crate) const ZONEINFO: &str = "/usr/share/zoneinfo";

/// A time zone: which offset from UTC applies when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Zone {
    /// `UTC`, the IANA name, or how the local zone was found (`/etc/localtime`).
    pub(crate) name: String,
    /// Transition instants (Unix seconds), ascending.
    transitions: Vec<i64>,
    /// The offset (seconds east of UTC) in force from each transition on.
    offsets_after: Vec<i32>,
    /// The offset before the first transition.
    initial: i32,
    /// The rule after the last transition, if the file has one.
    rule: Option<Rule>,
}

/// Why a zone cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ZoneError {
    #[error("\"{0}\" is not a time zone name: write UTC or an IANA name such as Europe/Paris")]
    BadName(String),
    #[error("cannot read time zone \"{name}\" ({path}): {why}")]
    Unreadable {
        name: String,
        path: String,
        why: String,
    },
    #[error("time zone \"{name}\" ({path}) is not a TZif file: {why}")]
    Malformed {
        name: String,
        path: String,
        why: &'static str,
    },
}

impl Zone {
    pub(crate) fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            transitions: Vec::new(),
            offsets_after: Vec::new(),
            initial: 0,
            rule: None,
        }
    }

    /// A zone by the name lucky.yaml gives: `UTC` or an IANA name under [`ZONEINFO`].
    pub(crate) fn named(name: &str) -> Result<Zone, ZoneError> {
        Zone::named_in(Path::new(ZONEINFO), name)
    }

    /// As [`Zone::named`], with the tz database at `root`.
    pub(crate) fn named_in(root: &Path, name: &str) -> Result<Zone, ZoneError> {
        check_name(name)?;
        if name == "UTC" {
            return Ok(Zone::utc());
        }
        Zone::from_file(name, &root.join(name))
    }

    /// The machine's local zone, as cron finds it: the `TZ` variable if set (a zone name,
    /// a TZif path, or a POSIX rule such as `CET-1CEST,M3.5.0,M10.5.0/3`), else
    /// `/etc/localtime`, else UTC.
    pub(crate) fn local() -> Result<Zone, ZoneError> {
        Zone::local_from(std::env::var("TZ").ok().as_deref(), Path::new(ZONEINFO))
    }

    fn local_from(tz: Option<&str>, root: &Path) -> Result<Zone, ZoneError> {
        if let Some(tz) = tz.map(|t| t.strip_prefix(':').unwrap_or(t))
            && !tz.is_empty()
        {
            if tz.starts_with('/') {
                return Zone::from_file(tz, Path::new(tz));
            }
            if check_name(tz).is_ok() && root.join(tz).is_file() {
                return Zone::named_in(root, tz);
            }
            if let Some(rule) = Rule::parse(tz) {
                return Ok(Zone {
                    name: tz.into(),
                    initial: rule.std,
                    rule: Some(rule),
                    ..Zone::utc()
                });
            }
            return Zone::named_in(root, tz);
        }
        let localtime = Path::new("/etc/localtime");
        if localtime.exists() {
            return Zone::from_file("/etc/localtime", localtime);
        }
        Ok(Zone::utc())
    }

    fn from_file(name: &str, path: &Path) -> Result<Zone, ZoneError> {
        let bytes = std::fs::read(path).map_err(|e| ZoneError::Unreadable {
            name: name.into(),
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        Zone::parse(name, &bytes).map_err(|why| ZoneError::Malformed {
            name: name.into(),
            path: path.display().to_string(),
            why,
        })
    }

    /// Reads TZif data (versions 1 to 4; leap-second records are skipped).
    pub(crate) fn parse(name: &str, bytes: &[u8]) -> Result<Zone, &'static str> {
        let (header, mut rest) = Header::read(bytes)?;
        let mut time_size = 4;
        let mut header = header;
        if header.version >= b'2' {
            // Skip the 32-bit block: the 64-bit one follows, with its own header.
            rest = rest.get(header.data_len(4)..).ok_or("truncated")?;
            (header, rest) = Header::read(rest)?;
            time_size = 8;
        }
        let mut r = Reader(rest);
        let transitions = (0..header.timecnt)
            .map(|_| r.int(time_size))
            .collect::<Result<Vec<i64>, _>>()?;
        let kinds = r.take(header.timecnt)?.to_vec();
        let mut types = Vec::with_capacity(header.typecnt);
        for _ in 0..header.typecnt {
            let offset = r.int(4)? as i32;
            r.take(2)?; // is-dst, abbreviation index
            types.push(offset);
        }
        if types.is_empty() {
            return Err("no local time types");
        }
        r.take(header.charcnt + header.leapcnt * (time_size + 4))?;
        r.take(header.isstdcnt + header.isutcnt)?;
        let offsets_after = kinds
            .iter()
            .map(|&k| types.get(usize::from(k)).copied().ok_or("bad type index"))
            .collect::<Result<Vec<i32>, _>>()?;
        if transitions.windows(2).any(|w| w[0] >= w[1]) {
            return Err("transitions out of order");
        }
        let rule = if time_size == 8 {
            let footer = std::str::from_utf8(r.0).map_err(|_| "footer is not text")?;
            let footer = footer.strip_prefix('\n').unwrap_or(footer);
            let footer = footer.split('\n').next().unwrap_or("");
            if footer.is_empty() {
                None
            } else {
                Some(Rule::parse(footer).ok_or("footer is not a POSIX TZ rule")?)
            }
        } else {
            None
        };
        Ok(Zone {
            name: name.into(),
            transitions,
            offsets_after,
            initial: types[0],
            rule,
        })
    }

    /// Seconds east of UTC at instant `t` (Unix seconds).
    pub(crate) fn offset_at(&self, t: i64) -> i32 {
        let after = self.transitions.partition_point(|&x| x <= t);
        match (after, &self.rule) {
            (n, Some(rule)) if n == self.transitions.len() => rule.offset_at(t),
            (0, _) => self.initial,
            (n, _) => self.offsets_after[n - 1],
        }
    }

    /// The UTC instants at which the local wall-clock time `local` (seconds since
    /// 1970-01-01 00:00 local) happens, ascending: none in a gap (clocks jumped over it),
    /// two when clocks went back over it, else one.
    pub(crate) fn instants_of(&self, local: i64) -> Vec<i64> {
        // Transitions are days apart: the offsets a day either side cover both readings.
        let mut out: Vec<i64> = [local - 86_400, local + 86_400]
            .iter()
            .map(|&t| i64::from(self.offset_at(t)))
            .map(|offset| local - offset)
            .filter(|&u| i64::from(self.offset_at(u)) == local - u)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// `UTC`, or an IANA-style name: path components of letters, digits, `_`, `-`, `+`,
/// never `.`/`..` or absolute (the name is data, never a path of the user's choosing).
pub(crate) fn check_name(name: &str) -> Result<(), ZoneError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.split('/').all(|part| {
            !part.is_empty()
                && !part.starts_with(['.', '-'])
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        });
    if ok {
        Ok(())
    } else {
        Err(ZoneError::BadName(name.into()))
    }
}

struct Header {
    version: u8,
    isutcnt: usize,
    isstdcnt: usize,
    leapcnt: usize,
    timecnt: usize,
    typecnt: usize,
    charcnt: usize,
}

impl Header {
    fn read(bytes: &[u8]) -> Result<(Header, &[u8]), &'static str> {
        let mut r = Reader(bytes);
        if r.take(4)? != b"TZif" {
            return Err("no TZif magic");
        }
        let version = r.take(16)?[0];
        let mut count = || -> Result<usize, &'static str> {
            usize::try_from(r.int(4)?).map_err(|_| "bad count")
        };
        let header = Header {
            version,
            isutcnt: count()?,
            isstdcnt: count()?,
            leapcnt: count()?,
            timecnt: count()?,
            typecnt: count()?,
            charcnt: count()?,
        };
        if header.typecnt > 256 || header.timecnt > 100_000 || header.leapcnt > 10_000 {
            return Err("implausible counts");
        }
        Ok((header, r.0))
    }

    fn data_len(&self, time_size: usize) -> usize {
        self.timecnt * (time_size + 1)
            + self.typecnt * 6
            + self.charcnt
            + self.leapcnt * (time_size + 4)
            + self.isstdcnt
            + self.isutcnt
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.0.len() < n {
            return Err("truncated");
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    /// A big-endian signed integer of 4 or 8 bytes.
    fn int(&mut self, size: usize) -> Result<i64, &'static str> {
        let b = self.take(size)?;
        Ok(if size == 4 {
            i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        } else {
            i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
        })
    }
}

/// A POSIX `TZ` rule: a standard offset and, optionally, a daylight offset with the yearly
/// dates and local times it starts and ends.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    /// Seconds east of UTC.
    std: i32,
    dst: Option<(i32, DateRule, i32, DateRule, i32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateRule {
    /// `Jn`: day 1-365, 29 February never counted.
    Julian(u32),
    /// `n`: day 0-365, counting 29 February.
    Zero(u32),
    /// `Mm.w.d`: weekday d (0 = Sunday) of week w (5 = last) of month m.
    Month(u32, u32, u32),
}

impl Rule {
    fn parse(text: &str) -> Option<Rule> {
        let mut s = text;
        name(&mut s)?;
        // POSIX offsets count west of UTC: `CET-1` is one hour east.
        let std = -hms(&mut s)?;
        if s.is_empty() {
            return Some(Rule { std, dst: None });
        }
        name(&mut s)?;
        let dst_offset = if s.starts_with(',') {
            std + 3600
        } else {
            -hms(&mut s)?
        };
        let mut s = s.strip_prefix(',')?;
        let start = date_rule(&mut s)?;
        let start_time = time_part(&mut s)?;
        let mut s = s.strip_prefix(',')?;
        let end = date_rule(&mut s)?;
        let end_time = time_part(&mut s)?;
        s.is_empty().then_some(Rule {
            std,
            dst: Some((dst_offset, start, start_time, end, end_time)),
        })
    }

    fn offset_at(&self, t: i64) -> i32 {
        let Some((dst, start, start_time, end, end_time)) = self.dst else {
            return self.std;
        };
        let (year, _, _) = civil_from_days((t + i64::from(self.std)).div_euclid(86_400));
        let year = i64::from(year);
        // Start is written in standard time, end in daylight time.
        let begins = start.day(year) * 86_400 + i64::from(start_time) - i64::from(self.std);
        let ends = end.day(year) * 86_400 + i64::from(end_time) - i64::from(dst);
        let in_dst = if begins < ends {
            (begins..ends).contains(&t)
        } else {
            t < ends || t >= begins
        };
        if in_dst { dst } else { self.std }
    }
}

impl DateRule {
    /// Days since the epoch of this rule's day in `year`.
    fn day(self, year: i64) -> i64 {
        let jan1 = days_from_civil(year, 1, 1);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        match self {
            DateRule::Julian(n) => {
                let n = i64::from(n);
                jan1 + n - 1 + i64::from(leap && n >= 60)
            }
            DateRule::Zero(n) => jan1 + i64::from(n),
            DateRule::Month(m, w, d) => {
                let first = days_from_civil(year, m, 1);
                let first_weekday = (first + 4).rem_euclid(7); // 0 = Sunday
                let mut day = first + (i64::from(d) - first_weekday).rem_euclid(7);
                day += 7 * (i64::from(w) - 1);
                let next_month = if m == 12 {
                    days_from_civil(year + 1, 1, 1)
                } else {
                    days_from_civil(year, m + 1, 1)
                };
                while day >= next_month {
                    day -= 7;
                }
                day
            }
        }
    }
}

/// A zone abbreviation: `CET`, or `<+0330>` in angle brackets.
fn name(s: &mut &str) -> Option<()> {
    let len = if let Some(rest) = s.strip_prefix('<') {
        rest.find('>')? + 2
    } else {
        s.find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(s.len())
    };
    if len < 3 {
        return None;
    }
    *s = &s[len..];
    Some(())
}

/// `[+-]hh[:mm[:ss]]` in seconds (hours up to 167, as TZif version 3 allows).
fn hms(s: &mut &str) -> Option<i32> {
    let sign = match s.as_bytes().first() {
        Some(b'-') => {
            *s = &s[1..];
            -1
        }
        Some(b'+') => {
            *s = &s[1..];
            1
        }
        _ => 1,
    };
    let mut total = 0;
    for (i, scale) in [3600, 60, 1].into_iter().enumerate() {
        if i > 0 {
            match s.strip_prefix(':') {
                Some(rest) => *s = rest,
                None => break,
            }
        }
        let n = number(s)?;
        if n > if i == 0 { 167 } else { 59 } {
            return None;
        }
        total += n as i32 * scale;
    }
    Some(sign * total)
}

fn number(s: &mut &str) -> Option<u32> {
    let len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if len == 0 || len > 3 {
        return None;
    }
    let n = s[..len].parse().ok()?;
    *s = &s[len..];
    Some(n)
}

fn date_rule(s: &mut &str) -> Option<DateRule> {
    if let Some(rest) = s.strip_prefix('M') {
        *s = rest;
        let m = number(s)?;
        *s = s.strip_prefix('.')?;
        let w = number(s)?;
        *s = s.strip_prefix('.')?;
        let d = number(s)?;
        ((1..=12).contains(&m) && (1..=5).contains(&w) && d <= 6)
            .then_some(DateRule::Month(m, w, d))
    } else if let Some(rest) = s.strip_prefix('J') {
        *s = rest;
        let n = number(s)?;
        (1..=365).contains(&n).then_some(DateRule::Julian(n))
    } else {
        let n = number(s)?;
        (n <= 365).then_some(DateRule::Zero(n))
    }
}

/// The optional `/time` after a date (default 02:00, may be negative).
fn time_part(s: &mut &str) -> Option<i32> {
    match s.strip_prefix('/') {
        Some(rest) => {
            *s = rest;
            hms(s)
        }
        None => Some(7200),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> Zone {
        Zone::named(name).unwrap_or_else(|e| panic!("{e} (is tzdata installed?)"))
    }

    /// Unix seconds of a UTC date and time.
    fn utc(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60
    }

    #[test]
    fn offsets_from_real_tzif_files() {
        let paris = zone("Europe/Paris");
        assert_eq!(paris.offset_at(utc(2026, 1, 15, 12, 0)), 3600);
        assert_eq!(paris.offset_at(utc(2026, 7, 15, 12, 0)), 7200);
        // 2026-03-29 01:00 UTC clocks go from 02:00 to 03:00.
        assert_eq!(paris.offset_at(utc(2026, 3, 29, 0, 59)), 3600);
        assert_eq!(paris.offset_at(utc(2026, 3, 29, 1, 0)), 7200);
        // Far beyond any fat file's transitions: the footer rule.
        assert_eq!(paris.offset_at(utc(2090, 7, 1, 0, 0)), 7200);
        assert_eq!(paris.offset_at(utc(2090, 12, 1, 0, 0)), 3600);
        let ny = zone("America/New_York");
        assert_eq!(ny.offset_at(utc(2026, 1, 15, 12, 0)), -5 * 3600);
        assert_eq!(ny.offset_at(utc(2026, 7, 15, 12, 0)), -4 * 3600);
        // Southern hemisphere: daylight time across the new year.
        let sydney = zone("Australia/Sydney");
        assert_eq!(sydney.offset_at(utc(2026, 1, 15, 0, 0)), 11 * 3600);
        assert_eq!(sydney.offset_at(utc(2026, 7, 15, 0, 0)), 10 * 3600);
        assert_eq!(sydney.offset_at(utc(2095, 1, 15, 0, 0)), 11 * 3600);
        assert_eq!(
            zone("Asia/Kolkata").offset_at(utc(2026, 1, 1, 0, 0)),
            19_800
        );
        assert_eq!(zone("UTC").offset_at(utc(2026, 1, 1, 0, 0)), 0);
        assert_eq!(zone("Etc/UTC").offset_at(utc(2026, 1, 1, 0, 0)), 0);
    }

    #[test]
    fn the_footer_rule_agrees_with_the_transitions() {
        for name in ["Europe/Paris", "America/New_York", "Australia/Sydney"] {
            let z = zone(name);
            let rule = z.rule.clone().expect("footer");
            // Every hour of 2030 (within the transitions of a fat file, or not).
            let from = utc(2030, 1, 1, 0, 0);
            for hour in 0..(365 * 24) {
                let t = from + hour * 3600;
                assert_eq!(z.offset_at(t), rule.offset_at(t), "{name} at {t}");
            }
        }
    }

    #[test]
    fn local_times_in_gaps_and_overlaps() {
        let paris = zone("Europe/Paris");
        let local = |y, mo, d, h, mi| utc(y, mo, d, h, mi);
        // 02:30 on 2026-03-29 does not exist in Paris.
        assert_eq!(
            paris.instants_of(local(2026, 3, 29, 2, 30)),
            Vec::<i64>::new()
        );
        assert_eq!(
            paris.instants_of(local(2026, 3, 29, 3, 30)),
            vec![utc(2026, 3, 29, 1, 30)]
        );
        // 02:30 on 2026-10-25 happens twice (CEST, then CET).
        assert_eq!(
            paris.instants_of(local(2026, 10, 25, 2, 30)),
            vec![utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)]
        );
        assert_eq!(
            paris.instants_of(local(2026, 10, 25, 12, 0)),
            vec![utc(2026, 10, 25, 11, 0)]
        );
    }

    #[test]
    fn names_are_checked_and_never_paths() {
        for bad in [
            "",
            "../etc/passwd",
            "/etc/localtime",
            "Europe/../UTC",
            "Europe//Paris",
            "a b",
            ".hidden",
        ] {
            assert!(
                matches!(Zone::named(bad), Err(ZoneError::BadName(_))),
                "{bad:?}"
            );
        }
        let e = Zone::named("Mars/Olympus_Mons").expect_err("no such zone");
        assert!(matches!(e, ZoneError::Unreadable { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("cannot read time zone \"Mars/Olympus_Mons\""),
            "{e}"
        );
        // A file that is not TZif data.
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Bogus"), "not a zone").expect("write");
        let e = Zone::named_in(dir.path(), "Bogus").expect_err("not TZif");
        assert!(matches!(e, ZoneError::Malformed { .. }), "{e}");
    }

    #[test]
    fn tz_variable_names_a_zone_or_a_rule() {
        let root = Path::new(ZONEINFO);
        let z = Zone::local_from(Some("Europe/Paris"), root).expect("name");
        assert_eq!(z.offset_at(utc(2026, 7, 1, 0, 0)), 7200);
        let z = Zone::local_from(Some(":America/New_York"), root).expect("colon name");
        assert_eq!(z.offset_at(utc(2026, 7, 1, 0, 0)), -4 * 3600);
        let z = Zone::local_from(Some("CET-1CEST,M3.5.0,M10.5.0/3"), root).expect("rule");
        assert_eq!(z.offset_at(utc(2026, 3, 29, 0, 59)), 3600);
        assert_eq!(z.offset_at(utc(2026, 3, 29, 1, 0)), 7200);
        assert_eq!(z.offset_at(utc(2026, 10, 25, 0, 59)), 7200);
        assert_eq!(z.offset_at(utc(2026, 10, 25, 1, 0)), 3600);
        let z = Zone::local_from(Some("<+0330>-3:30"), root).expect("fixed");
        assert_eq!(z.offset_at(0), 12_600);
        assert!(Zone::local_from(Some("Nowhere/Atall"), root).is_err());
    }

    #[test]
    fn malformed_data_is_refused_not_a_panic() {
        let good = std::fs::read(Path::new(ZONEINFO).join("Europe/Paris")).expect("read");
        for len in 0..good.len() {
            // Every truncation either parses (a footer cut short may still be a rule) or
            // is refused; none panics.
            let _ = Zone::parse("cut", &good[..len]);
        }
        assert!(Zone::parse("x", b"TZif2").is_err());
    }
}
