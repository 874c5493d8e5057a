//! Timestamp helpers shared by the parsers: hand-rolled (no allocation, no regex) readers for the
//! shapes seen in logs, year inference for year-less syslog dates, and local-time resolution.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::Context;

/// Month number (1-12) of a three-letter English month abbreviation, case-insensitive.
pub(crate) fn month_abbr(b: &[u8]) -> Option<u32> {
    let [a, b, c] = *b.get(..3)? else {
        return None;
    };
    let key = [a.to_ascii_lowercase(), b.to_ascii_lowercase(), c.to_ascii_lowercase()];
    Some(match &key {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// Whether `b` starts with a three-letter English day-of-week abbreviation.
pub(crate) fn is_day_abbr(b: &[u8]) -> bool {
    let Some(d) = b.get(..3) else { return false };
    let key = [d[0].to_ascii_lowercase(), d[1].to_ascii_lowercase(), d[2].to_ascii_lowercase()];
    matches!(&key, b"mon" | b"tue" | b"wed" | b"thu" | b"fri" | b"sat" | b"sun")
}

/// Parse exactly `n` ASCII digits at `b[at..]`.
#[inline]
pub(crate) fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(n)?)?;
    let mut v: u32 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Count leading ASCII digits of `b` from `at`.
#[inline]
pub(crate) fn digit_run(b: &[u8], at: usize) -> usize {
    b.get(at..).map_or(0, |s| s.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// Nanoseconds from a fraction-of-second digit string (extra digits beyond 9 are dropped).
pub(crate) fn frac_nanos(frac: &[u8]) -> u32 {
    let mut v: u32 = 0;
    let mut n = 0;
    for &c in frac.iter().take(9) {
        v = v * 10 + u32::from(c.wrapping_sub(b'0') % 10);
        n += 1;
    }
    while n < 9 {
        v *= 10;
        n += 1;
    }
    v
}

/// Resolve a local wall-clock time in `tz` to UTC (DST gaps move forward an hour, ambiguous
/// times take the earlier instant).
pub(crate) fn resolve_local(tz: Tz, naive: NaiveDateTime) -> DateTime<Utc> {
    if tz == Tz::UTC {
        return naive.and_utc();
    }
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        LocalResult::None => match tz.from_local_datetime(&(naive + Duration::hours(1))) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => naive.and_utc(),
        },
    }
}

/// Infer the year of a year-less date (`Nov 26 10:00:00`) from the received time: the most recent
/// year in which the date is not more than a day in the future of `ctx.received`.
pub(crate) fn infer_year(
    ctx: &Context,
    month: u32,
    day: u32,
    time: NaiveTime,
) -> Option<DateTime<Utc>> {
    let received_local_year = ctx.received.with_timezone(&ctx.timezone).year();
    let limit = ctx.received + Duration::days(1);
    // Feb 29 may need going back a few years to a leap year.
    for back in 0..=8 {
        let year = received_local_year + 1 - back;
        let Some(date) = NaiveDate::from_ymd_opt(year, month, day) else { continue };
        let t = resolve_local(ctx.timezone, date.and_time(time));
        if t <= limit {
            return Some(t);
        }
    }
    None
}

/// A timestamp as found in a log line, before the context (zone, year) is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTime {
    /// Complete, with a UTC offset.
    Zoned(DateTime<FixedOffset>),
    /// Date and time without zone (the context's time zone applies).
    Local(NaiveDateTime),
    /// Month, day and time without year or zone (year inferred from the received time).
    YearLess {
        /// Month 1-12.
        month: u32,
        /// Day of month.
        day: u32,
        /// Time of day.
        time: NaiveTime,
    },
    /// Like `YearLess`, but the line said the time is UTC.
    YearLessUtc {
        /// Month 1-12.
        month: u32,
        /// Day of month.
        day: u32,
        /// Time of day.
        time: NaiveTime,
    },
}

impl LogTime {
    /// Resolve to UTC with the context's time zone and received time.
    pub fn resolve(&self, ctx: &Context) -> Option<DateTime<Utc>> {
        match *self {
            LogTime::Zoned(t) => Some(t.with_timezone(&Utc)),
            LogTime::Local(n) => Some(resolve_local(ctx.timezone, n)),
            LogTime::YearLess { month, day, time } => infer_year(ctx, month, day, time),
            LogTime::YearLessUtc { month, day, time } => {
                let utc = Context { timezone: Tz::UTC, ..ctx.clone() };
                infer_year(&utc, month, day, time)
            }
        }
    }

    /// The same wall-clock time, declared UTC.
    pub fn in_utc(self) -> LogTime {
        match self {
            LogTime::Local(n) => LogTime::Zoned(n.and_utc().fixed_offset()),
            LogTime::YearLess { month, day, time } => LogTime::YearLessUtc { month, day, time },
            other => other,
        }
    }
}

/// Why a strict RFC 3339 timestamp was rejected, with the byte offset of the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeErr(pub usize);

/// Strict RFC 3339 as RFC 5424 wants it (`T` and `Z` upper case, 1-6 fraction digits, offset
/// hours 00-23). Returns the time and the bytes consumed.
pub(crate) fn rfc3339_strict(b: &[u8]) -> Result<(DateTime<FixedOffset>, usize), TimeErr> {
    let year = digits(b, 0, 4).ok_or(TimeErr(digit_run(b, 0).min(4)))?;
    expect(b, 4, b'-')?;
    let month = digits(b, 5, 2).filter(|m| (1..=12).contains(m)).ok_or(TimeErr(6))?;
    expect(b, 7, b'-')?;
    let day = digits(b, 8, 2).filter(|d| (1..=31).contains(d)).ok_or(TimeErr(9))?;
    expect(b, 10, b'T')?;
    let hour = digits(b, 11, 2).filter(|h| *h <= 23).ok_or(TimeErr(12))?;
    expect(b, 13, b':')?;
    let minute = digits(b, 14, 2).filter(|m| *m <= 59).ok_or(TimeErr(15))?;
    expect(b, 16, b':')?;
    let second = digits(b, 17, 2).filter(|s| *s <= 59).ok_or(TimeErr(18))?;
    let mut p = 19;
    let mut nanos = 0;
    if b.get(p) == Some(&b'.') {
        let n = digit_run(b, p + 1);
        if n == 0 || n > 6 {
            return Err(TimeErr(p + 1 + n.min(6)));
        }
        nanos = frac_nanos(&b[p + 1..p + 1 + n]);
        p += 1 + n;
    }
    let offset = match b.get(p) {
        Some(b'Z') => {
            p += 1;
            0
        }
        Some(&s @ (b'+' | b'-')) => {
            let oh = digits(b, p + 1, 2).filter(|h| *h <= 23).ok_or(TimeErr(p + 2))?;
            expect(b, p + 3, b':')?;
            let om = digits(b, p + 4, 2).filter(|m| *m <= 59).ok_or(TimeErr(p + 5))?;
            p += 6;
            let secs = (oh * 3600 + om * 60) as i32;
            if s == b'-' { -secs } else { secs }
        }
        _ => return Err(TimeErr(p)),
    };
    let date = NaiveDate::from_ymd_opt(year as i32, month, day).ok_or(TimeErr(p))?;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos).ok_or(TimeErr(p))?;
    let off = FixedOffset::east_opt(offset).ok_or(TimeErr(p))?;
    let t = off.from_local_datetime(&date.and_time(time)).single().ok_or(TimeErr(p))?;
    Ok((t, p))
}

#[inline]
fn expect(b: &[u8], at: usize, c: u8) -> Result<(), TimeErr> {
    if b.get(at) == Some(&c) { Ok(()) } else { Err(TimeErr(at)) }
}

/// Lenient ISO 8601: `YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|±hh:mm|±hhmm|±hh]`. Returns the time and the
/// bytes consumed.
pub(crate) fn iso8601(b: &[u8]) -> Option<(LogTime, usize)> {
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let (time, mut p) = hms_frac(b, 11)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let naive = date.and_time(time);
    let offset = match b.get(p) {
        Some(b'Z' | b'z') => {
            p += 1;
            Some(0)
        }
        Some(&s @ (b'+' | b'-')) => {
            let oh = digits(b, p + 1, 2)?;
            let (om, used) = if b.get(p + 3) == Some(&b':') {
                (digits(b, p + 4, 2)?, 6)
            } else if let Some(m) = digits(b, p + 3, 2) {
                (m, 5)
            } else {
                (0, 3)
            };
            if oh > 23 || om > 59 {
                return None;
            }
            p += used;
            let secs = (oh * 3600 + om * 60) as i32;
            Some(if s == b'-' { -secs } else { secs })
        }
        _ => None,
    };
    let t = match offset {
        Some(o) => LogTime::Zoned(FixedOffset::east_opt(o)?.from_local_datetime(&naive).single()?),
        None => LogTime::Local(naive),
    };
    Some((t, p))
}

/// `hh:mm:ss[.frac]` (also `,frac`) at `b[at..]`; returns the time and the end offset.
pub(crate) fn hms_frac(b: &[u8], at: usize) -> Option<(NaiveTime, usize)> {
    let h = digits(b, at, 2)?;
    if b.get(at + 2) != Some(&b':') || b.get(at + 5) != Some(&b':') {
        return None;
    }
    let m = digits(b, at + 3, 2)?;
    let s = digits(b, at + 6, 2)?;
    let mut p = at + 8;
    let mut nanos = 0;
    if matches!(b.get(p), Some(b'.' | b',')) {
        let n = digit_run(b, p + 1);
        if n > 0 {
            nanos = frac_nanos(b.get(p + 1..p + 1 + n)?);
            p += 1 + n;
        }
    }
    // Leap second: clamp to :59.999…
    let t = if s == 60 {
        NaiveTime::from_hms_nano_opt(h, m, 59, 999_999_999)?
    } else {
        NaiveTime::from_hms_nano_opt(h, m, s, nanos)?
    };
    Some((t, p))
}

/// Common Log Format time: `10/Oct/2000:13:55:36 -0700` (the part inside the brackets).
pub(crate) fn clf(s: &str) -> Option<DateTime<FixedOffset>> {
    let b = s.as_bytes();
    // Day may be one or two digits.
    let dlen = digit_run(b, 0);
    if dlen == 0 || dlen > 2 {
        return None;
    }
    let day = digits(b, 0, dlen)?;
    let mut p = dlen;
    if b.get(p) != Some(&b'/') {
        return None;
    }
    let month = month_abbr(b.get(p + 1..)?)?;
    p += 4;
    if b.get(p) != Some(&b'/') {
        return None;
    }
    let year = digits(b, p + 1, 4)?;
    p += 5;
    if b.get(p) != Some(&b':') {
        return None;
    }
    let (time, mut p) = hms_frac(b, p + 1)?;
    while b.get(p) == Some(&b' ') {
        p += 1;
    }
    let offset = match b.get(p) {
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, p + 1, 2)?;
            let om = if b.get(p + 3) == Some(&b':') {
                digits(b, p + 4, 2)?
            } else {
                digits(b, p + 3, 2)?
            };
            let secs = (oh * 3600 + om * 60) as i32;
            if sign == b'-' { -secs } else { secs }
        }
        Some(b'Z') => 0,
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    FixedOffset::east_opt(offset)?.from_local_datetime(&date.and_time(time)).single()
}

/// ctime-like: `Sun Dec 04 04:47:44[.frac] 2005` (day-of-week optional).
pub(crate) fn ctime(s: &str) -> Option<NaiveDateTime> {
    let mut b = s.as_bytes();
    if is_day_abbr(b) && b.get(3) == Some(&b' ') {
        b = b.get(4..)?;
    }
    let month = month_abbr(b)?;
    let mut p = 3;
    while b.get(p) == Some(&b' ') {
        p += 1;
    }
    let dlen = digit_run(b, p);
    if dlen == 0 || dlen > 2 {
        return None;
    }
    let day = digits(b, p, dlen)?;
    p += dlen;
    if b.get(p) != Some(&b' ') {
        return None;
    }
    let (time, mut p) = hms_frac(b, p + 1)?;
    if b.get(p) != Some(&b' ') {
        return None;
    }
    p += 1;
    let year = digits(b, p, 4)?;
    if p + 4 != b.len() {
        return None;
    }
    Some(NaiveDate::from_ymd_opt(year as i32, month, day)?.and_time(time))
}

/// `Mmm dd[ yyyy] hh:mm:ss[.frac]` at the start of `b` (BSD syslog and CEF `rt` style). Returns the
/// month, day, optional year, time and bytes consumed.
pub(crate) fn bsd(b: &[u8]) -> Option<(u32, u32, Option<i32>, NaiveTime, usize)> {
    let month = month_abbr(b)?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let mut p = 4;
    while b.get(p) == Some(&b' ') && p < 6 {
        p += 1;
    }
    let dlen = digit_run(b, p);
    if dlen == 0 || dlen > 2 {
        return None;
    }
    let day = digits(b, p, dlen)?;
    if !(1..=31).contains(&day) {
        return None;
    }
    p += dlen;
    if b.get(p) != Some(&b' ') {
        return None;
    }
    p += 1;
    let mut year = None;
    if digit_run(b, p) == 4 && b.get(p + 4) == Some(&b' ') {
        year = Some(digits(b, p, 4)? as i32);
        p += 5;
    }
    let (time, p) = hms_frac(b, p)?;
    Some((month, day, year, time, p))
}

/// Epoch seconds or milliseconds as text (CEF `rt`, LEEF `devTime`).
pub(crate) fn epoch(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: i64 = int.parse().ok()?;
    if frac.is_some_and(|f| !f.bytes().all(|c| c.is_ascii_digit())) {
        return None;
    }
    if v >= 100_000_000_000 {
        DateTime::from_timestamp_millis(v)
    } else {
        let nanos = frac.map_or(0, |f| frac_nanos(f.as_bytes()));
        DateTime::from_timestamp(v, nanos)
    }
}

/// A date written in one of the common device formats (CEF `rt`/`start`/`end`, LEEF `devTime`
/// without a format): epoch millis/seconds, RFC 3339/ISO 8601, `MMM dd yyyy HH:mm:ss[.SSS][ zone]`,
/// `MMM dd HH:mm:ss`.
pub(crate) fn device_time(s: &str, ctx: &Context) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(t) = epoch(s) {
        return Some(t);
    }
    let b = s.as_bytes();
    if let Some((t, n)) = iso8601(b)
        && n == b.len()
    {
        return t.resolve(ctx);
    }
    if let Some((month, day, year, time, n)) = bsd(b) {
        let rest = s.get(n..)?.trim();
        let zone = if rest.is_empty() { None } else { Some(zone_offset(rest)?) };
        let t = match year {
            Some(y) => {
                let naive = NaiveDate::from_ymd_opt(y, month, day)?.and_time(time);
                match zone {
                    Some(z) => z.from_local_datetime(&naive).single()?.with_timezone(&Utc),
                    None => resolve_local(ctx.timezone, naive),
                }
            }
            None => LogTime::YearLess { month, day, time }.resolve(ctx)?,
        };
        return Some(t);
    }
    None
}

/// A zone written after a time: `Z`, `UTC`, `GMT`, `+hh:mm`, `+hhmm`, `GMT+hh:mm`.
pub(crate) fn zone_offset(z: &str) -> Option<FixedOffset> {
    let z = z.trim();
    let rest = z
        .strip_prefix("UTC")
        .or_else(|| z.strip_prefix("GMT"))
        .or_else(|| z.strip_prefix('Z'))
        .unwrap_or(z);
    if rest.is_empty() {
        return FixedOffset::east_opt(0);
    }
    let b = rest.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let oh = digits(b, 1, 2)?;
    let om = match b.len() {
        3 => 0,
        5 => digits(b, 3, 2)?,
        6 if b.get(3) == Some(&b':') => digits(b, 4, 2)?,
        _ => return None,
    };
    FixedOffset::east_opt(sign * (oh * 3600 + om * 60) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(received: &str) -> Context {
        Context::new(DateTime::parse_from_rfc3339(received).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn year_inference_rolls_back_across_new_year() {
        let c = ctx("2026-01-01T00:10:00Z");
        let t = infer_year(&c, 12, 31, NaiveTime::from_hms_opt(23, 59, 0).unwrap()).unwrap();
        assert_eq!(t.to_rfc3339(), "2025-12-31T23:59:00+00:00");
        // A little in the future (clock skew) stays in the current year.
        let t = infer_year(&c, 1, 1, NaiveTime::from_hms_opt(12, 0, 0).unwrap()).unwrap();
        assert_eq!(t.year(), 2026);
        // Feb 29 finds the previous leap year.
        let t = infer_year(&ctx("2026-03-01T00:00:00Z"), 2, 29, NaiveTime::MIN).unwrap();
        assert_eq!(t.year(), 2024);
    }

    #[test]
    fn year_inference_uses_timezone() {
        let mut c = ctx("2026-06-01T12:00:00Z");
        c.timezone = chrono_tz::Europe::Paris;
        let t = infer_year(&c, 6, 1, NaiveTime::from_hms_opt(10, 0, 0).unwrap()).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-06-01T08:00:00+00:00");
    }

    #[test]
    fn strict_rfc3339() {
        assert!(rfc3339_strict(b"2003-10-11T22:14:15.003Z").is_ok());
        assert!(rfc3339_strict(b"2018-12-31T23:59:59.999999-23:59").is_ok());
        assert!(rfc3339_strict(b"2006-01-02t15:04:05Z").is_err());
        assert!(rfc3339_strict(b"2003-09-29T22:09:01.000000000009Z").is_err());
        assert!(rfc3339_strict(b"2003-09-31T22:14:16Z").is_err());
        assert!(rfc3339_strict(b"2003-08-24T05:14:15.000003-24:00").is_err());
        assert!(rfc3339_strict(b"2003-09-29T22:09:01.Z").is_err());
    }

    #[test]
    fn other_shapes() {
        assert_eq!(
            clf("10/Oct/2000:13:55:36 -0700").unwrap().to_rfc3339(),
            "2000-10-10T13:55:36-07:00"
        );
        assert!(ctime("Sun Dec 04 04:47:44 2005").is_some());
        assert!(ctime("Tue Jun 08 11:54:08.929301 2021").is_some());
        assert_eq!(epoch("1543270652000").unwrap().to_rfc3339(), "2018-11-26T22:17:32+00:00");
        let c = ctx("2026-06-01T12:00:00Z");
        assert_eq!(
            device_time("Nov 26 2018 22:17:32 UTC", &c).unwrap().to_rfc3339(),
            "2018-11-26T22:17:32+00:00"
        );
        assert_eq!(
            device_time("2018-11-26T22:17:32.5+01:00", &c).unwrap().to_rfc3339(),
            "2018-11-26T21:17:32.500+00:00"
        );
    }
}
