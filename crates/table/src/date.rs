//! A calendar date without time zone, stored as days since 1970-01-01, with the small
//! `strftime` subset data dictionaries use (`%Y`, `%m`, `%d` and literal characters).

use std::fmt;

/// A proleptic Gregorian calendar date, stored as the number of days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// Builds a date from year, month (1–12) and day (1–31); `None` if it does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        if !(-9999..=9999).contains(&year) {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days(self) -> i32 {
        self.0
    }

    /// The date `days` days after 1970-01-01.
    pub fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// Parses `text` with `format` (`%Y` four-digit year, `%m` month, `%d` day, other characters
    /// literal). Months and days accept one or two digits. Returns a message naming what failed.
    pub fn parse(text: &str, format: &str) -> Result<Date, String> {
        let mut s = text;
        let (mut y, mut m, mut d) = (None, None, None);
        let mut f = format.chars();
        while let Some(c) = f.next() {
            if c == '%' {
                let spec = f
                    .next()
                    .ok_or_else(|| format!("date format {format:?} ends with '%'"))?;
                let (max_digits, slot) = match spec {
                    'Y' => (4, &mut y),
                    'm' => (2, &mut m),
                    'd' => (2, &mut d),
                    other => return Err(format!("date format {format:?} has unsupported directive %{other}")),
                };
                let n = s.bytes().take(max_digits).take_while(u8::is_ascii_digit).count();
                if n == 0 || (spec == 'Y' && n != 4) {
                    return Err(format!("{text:?} does not match date format {format:?}"));
                }
                let v: i32 = s[..n]
                    .parse()
                    .map_err(|_| format!("{text:?} does not match date format {format:?}"))?;
                *slot = Some(v);
                s = &s[n..];
            } else {
                let mut chars = s.chars();
                if chars.next() != Some(c) {
                    return Err(format!("{text:?} does not match date format {format:?}"));
                }
                s = chars.as_str();
            }
        }
        if !s.is_empty() {
            return Err(format!(
                "{text:?} does not match date format {format:?} (trailing {s:?})"
            ));
        }
        let (Some(y), Some(m), Some(d)) = (y, m, d) else {
            return Err(format!("date format {format:?} must contain %Y, %m and %d"));
        };
        Date::from_ymd(y, m as u32, d as u32).ok_or_else(|| format!("{text:?} is not a calendar date"))
    }

    /// Formats with the same directives as [`Date::parse`]; months and days are zero-padded.
    pub fn format(self, format: &str) -> String {
        let (y, m, d) = self.ymd();
        let mut out = String::with_capacity(10);
        let mut f = format.chars();
        while let Some(c) = f.next() {
            if c == '%' {
                match f.next() {
                    Some('Y') => out.push_str(&format!("{y:04}")),
                    Some('m') => out.push_str(&format!("{m:02}")),
                    Some('d') => out.push_str(&format!("{d:02}")),
                    Some(o) => {
                        out.push('%');
                        out.push(o)
                    }
                    None => out.push('%'),
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Checks that `format` is one [`Date::parse`] understands.
    pub fn check_format(format: &str) -> Result<(), String> {
        let mut seen = (false, false, false);
        let mut f = format.chars();
        while let Some(c) = f.next() {
            if c == '%' {
                match f.next() {
                    Some('Y') => seen.0 = true,
                    Some('m') => seen.1 = true,
                    Some('d') => seen.2 = true,
                    Some(o) => return Err(format!("unsupported directive %{o} (use %Y, %m, %d)")),
                    None => return Err("format ends with '%'".into()),
                }
            }
        }
        if seen != (true, true, true) {
            return Err("a date format must contain %Y, %m and %d".into());
        }
        Ok(())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format("%Y-%m-%d"))
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's civil-date algorithms (public domain, "chrono-Compatible Low-Level Date
// Algorithms").
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i32 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    // In i64: every i32 day number converts without overflow (years stay within i32).
    let z = i64::from(z) + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (y as i32, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(Date::from_ymd(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(Date::from_ymd(2000, 3, 1).unwrap().days(), 11017);
        assert_eq!(Date::from_ymd(2024, 2, 29).unwrap().to_string(), "2024-02-29");
        assert!(Date::from_ymd(2023, 2, 29).is_none());
        assert!(Date::from_ymd(2023, 13, 1).is_none());
    }

    #[test]
    fn parse_formats() {
        let d = Date::parse("31/12/2020", "%d/%m/%Y").unwrap();
        assert_eq!(d.ymd(), (2020, 12, 31));
        assert_eq!(d.format("%d.%m.%Y"), "31.12.2020");
        assert!(
            Date::parse("2020-02-30", "%Y-%m-%d")
                .unwrap_err()
                .contains("not a calendar date")
        );
        assert!(Date::parse("2020-01-01x", "%Y-%m-%d").is_err());
        assert!(Date::parse("20-01-01", "%Y-%m-%d").is_err());
        assert!(Date::check_format("%Y-%m").is_err());
    }

    #[test]
    fn extreme_day_numbers_do_not_panic() {
        for days in [i32::MIN, i32::MAX, -1, 0] {
            let (y, m, d) = Date::from_days(days).ymd();
            assert!((1..=12).contains(&m) && (1..=31).contains(&d), "{days}: {y}-{m}-{d}");
        }
        assert_eq!(Date::from_days(i32::MAX).ymd().0, 5881580);
    }

    proptest! {
        #[test]
        fn days_round_trip(days in -700_000i32..700_000) {
            let d = Date::from_days(days);
            let (y, m, dd) = d.ymd();
            prop_assert_eq!(Date::from_ymd(y, m, dd), Some(d));
            prop_assert_eq!(Date::parse(&d.format("%Y-%m-%d"), "%Y-%m-%d"), Ok(d));
        }
    }
}
