//! Opening hours (开放时间) of a place, in a small subset of the
//! OpenStreetMap `opening_hours` syntax that import files and the portal share:
//!
//! * `24/7`: always open;
//! * rules separated by `;`, each `days times`: days `Mo`…`Su` as a list
//!   (`Sa,Su`) or ranges (`Mo-Fr`), times `HH:MM-HH:MM` as a list
//!   (`08:00-11:30,13:30-17:00`), end after start, `24:00` allowed as an end.
//!
//! A later rule for a day replaces an earlier one (OSM's rule), so
//! `Mo-Su 08:00-17:00; Su 09:00-12:00` keeps Sunday mornings only.

use std::fmt::Write as _;

/// Longest text accepted.
pub const MAX_LEN: usize = 200;
/// Intervals per day at most.
const MAX_INTERVALS: usize = 4;

const DAYS: [&str; 7] = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const DAYS_ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
const DAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A week of opening hours: per day (Monday first) the open intervals in
/// minutes after midnight, `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hours {
    pub days: [Vec<(u16, u16)>; 7],
}

impl Hours {
    /// Parses the text; the error says what is wrong and where.
    pub fn parse(s: &str) -> Result<Hours, String> {
        let s = s.trim();
        if s.len() > MAX_LEN {
            return Err(format!("at most {MAX_LEN} characters"));
        }
        if s == "24/7" {
            let mut h = Hours::default();
            for d in h.days.iter_mut() {
                d.push((0, 24 * 60));
            }
            return Ok(h);
        }
        let mut h = Hours::default();
        let mut any = false;
        for rule in s.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let (days, times) = rule.split_once(char::is_whitespace).ok_or_else(|| {
                format!("{rule:?}: write days then times, e.g. Mo-Fr 08:00-17:00")
            })?;
            let days = parse_days(days.trim())?;
            let times = parse_times(times.trim())?;
            for d in days {
                h.days[d] = times.clone();
            }
            any = true;
        }
        if !any {
            return Err("no rule: write e.g. Mo-Fr 08:00-17:00 or 24/7".into());
        }
        Ok(h)
    }

    /// Whether the place is open on `weekday` (0 = Monday) at `minute` after midnight.
    pub fn open_at(&self, weekday: usize, minute: u16) -> bool {
        self.days
            .get(weekday)
            .is_some_and(|iv| iv.iter().any(|(a, b)| *a <= minute && minute < *b))
    }

    /// Open on Saturday or Sunday.
    pub fn weekend(&self) -> bool {
        !self.days[5].is_empty() || !self.days[6].is_empty()
    }

    /// Open round the clock every day.
    pub fn always(&self) -> bool {
        self.days.iter().all(|d| d == &[(0, 24 * 60)])
    }

    /// The hours for people: consecutive days with the same times grouped,
    /// in Chinese (`zh`) or English.
    pub fn describe(&self, zh: bool) -> String {
        if self.always() {
            return if zh {
                "全天24小时".into()
            } else {
                "Open 24/7".into()
            };
        }
        let names = if zh { &DAYS_ZH } else { &DAYS_EN };
        let mut out = String::new();
        let mut d = 0;
        while d < 7 {
            if self.days[d].is_empty() {
                d += 1;
                continue;
            }
            let mut e = d;
            while e + 1 < 7 && self.days[e + 1] == self.days[d] {
                e += 1;
            }
            if !out.is_empty() {
                out.push_str(if zh { "；" } else { "; " });
            }
            if e == d {
                out.push_str(names[d]);
            } else {
                let _ = write!(
                    out,
                    "{}{}{}",
                    names[d],
                    if zh { "至" } else { "–" },
                    names[e]
                );
            }
            out.push(' ');
            let times: Vec<String> = self.days[d]
                .iter()
                .map(|(a, b)| format!("{}–{}", hhmm(*a), hhmm(*b)))
                .collect();
            out.push_str(&times.join(if zh { "、" } else { ", " }));
            d = e + 1;
        }
        out
    }
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn day_index(s: &str) -> Result<usize, String> {
    DAYS.iter()
        .position(|d| *d == s)
        .ok_or_else(|| format!("{s:?} is not a day (Mo, Tu, We, Th, Fr, Sa, Su)"))
}

fn parse_days(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (day_index(a.trim())?, day_index(b.trim())?);
            if b < a {
                return Err(format!("{part:?}: a day range runs Monday to Sunday"));
            }
            out.extend(a..=b);
        } else {
            out.push(day_index(part)?);
        }
    }
    Ok(out)
}

fn parse_minute(s: &str, end: bool) -> Result<u16, String> {
    let bad = || format!("{s:?} is not a time HH:MM");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m > 59 || h > 24 || (h == 24 && (m != 0 || !end)) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn parse_times(s: &str) -> Result<Vec<(u16, u16)>, String> {
    if s == "off" {
        return Ok(Vec::new());
    }
    let mut out: Vec<(u16, u16)> = Vec::new();
    for part in s.split(',') {
        let part = part.trim();
        let (a, b) = part
            .split_once('-')
            .ok_or_else(|| format!("{part:?}: write a time range HH:MM-HH:MM"))?;
        let (a, b) = (
            parse_minute(a.trim(), false)?,
            parse_minute(b.trim(), true)?,
        );
        if b <= a {
            return Err(format!("{part:?}: the end is not after the start"));
        }
        if out.last().is_some_and(|(_, e)| a < *e) {
            return Err(format!("{part:?}: times overlap or are out of order"));
        }
        out.push((a, b));
    }
    if out.len() > MAX_INTERVALS {
        return Err(format!("at most {MAX_INTERVALS} time ranges a day"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_and_a_saturday_morning() {
        let h = Hours::parse("Mo-Fr 07:30-17:30; Sa 08:00-12:00").expect("parses");
        assert!(h.open_at(0, 7 * 60 + 30));
        assert!(!h.open_at(0, 17 * 60 + 30), "the end is exclusive");
        assert!(h.open_at(5, 9 * 60));
        assert!(!h.open_at(6, 9 * 60));
        assert!(h.weekend());
        assert!(!h.always());
        assert_eq!(h.describe(true), "周一至周五 07:30–17:30；周六 08:00–12:00");
        assert_eq!(h.describe(false), "Mon–Fri 07:30–17:30; Sat 08:00–12:00");
    }

    #[test]
    fn round_the_clock_and_later_rules_replace_earlier_ones() {
        let h = Hours::parse("24/7").expect("parses");
        assert!(h.always() && h.open_at(6, 0) && h.open_at(3, 24 * 60 - 1));
        let h = Hours::parse("Mo-Su 08:00-17:00; Su 09:00-12:00").expect("parses");
        assert!(!h.open_at(6, 13 * 60));
        assert!(h.open_at(5, 13 * 60));
        let h = Hours::parse("Mo-Fr 08:00-11:30,13:30-24:00").expect("parses");
        assert!(!h.open_at(1, 12 * 60) && h.open_at(1, 23 * 60 + 59));
        assert!(!h.weekend());
    }

    #[test]
    fn bad_text_says_what_is_wrong() {
        for (s, want) in [
            ("", "no rule"),
            ("Mo-Fr", "days then times"),
            ("Xx 08:00-09:00", "not a day"),
            ("Fr-Mo 08:00-09:00", "Monday to Sunday"),
            ("Mo 8:00-09:00", "not a time"),
            ("Mo 09:00-08:00", "not after"),
            ("Mo 24:00-24:00", "not a time"),
            ("Mo 08:00-12:00,11:00-13:00", "overlap"),
            (
                "Mo 01:00-02:00,03:00-04:00,05:00-06:00,07:00-08:00,09:00-10:00",
                "at most 4",
            ),
        ] {
            let e = Hours::parse(s).expect_err(s);
            assert!(e.contains(want), "{s}: {e}");
        }
        assert!(Hours::parse(&"Mo 08:00-09:00;".repeat(20)).is_err());
    }
}
