//! The listeners' hours: a window per weekday, public holidays closed, in one time zone
//! (Europe/Paris by default). Parsed from a short text such as
//! `"mon-sun 09:00-19:00"` or `"mon-fri 09:00-19:00; sat 10:00-16:00"`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone as _, Utc, Weekday};
use chrono_tz::Tz;
use relais_core::helpline::model::Language;

#[derive(Clone, Debug)]
pub struct Hours {
    tz: Tz,
    /// Monday first; `None` is closed all day. An end of 00:00 means midnight.
    days: [Option<(NaiveTime, NaiveTime)>; 7],
    holidays: Vec<NaiveDate>,
}

#[derive(Debug, thiserror::Error)]
#[error("helpline hours {0}")]
pub struct HoursError(String);

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn parse_time(s: &str) -> Result<NaiveTime, HoursError> {
    if s == "24:00" {
        return Ok(NaiveTime::MIN);
    }
    NaiveTime::parse_from_str(s, "%H:%M").map_err(|_| HoursError(format!("time {s:?} is not HH:MM")))
}

impl Hours {
    pub fn parse(spec: &str, timezone: &str, holidays: &str) -> Result<Self, HoursError> {
        let tz: Tz = timezone
            .parse()
            .map_err(|_| HoursError(format!("time zone {timezone:?} is unknown")))?;
        let mut days = [None; 7];
        let spec = spec.trim();
        if spec != "closed" && !spec.is_empty() {
            for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                let (range, window) = part
                    .split_once(' ')
                    .ok_or_else(|| HoursError(format!("{part:?} is not `days HH:MM-HH:MM`")))?;
                let (from, to) = match range.split_once('-') {
                    Some((a, b)) => (a, b),
                    None => (range, range),
                };
                let index = |d: &str| {
                    DAYS.iter()
                        .position(|x| *x == d)
                        .ok_or_else(|| HoursError(format!("day {d:?} is not mon…sun")))
                };
                let (a, b) = (index(from)?, index(to)?);
                let (start, end) = window
                    .trim()
                    .split_once('-')
                    .ok_or_else(|| HoursError(format!("{window:?} is not HH:MM-HH:MM")))?;
                let (start, end) = (parse_time(start)?, parse_time(end)?);
                if end != NaiveTime::MIN && end <= start {
                    return Err(HoursError(format!("{window:?} ends before it starts")));
                }
                let mut i = a;
                loop {
                    days[i] = Some((start, end));
                    if i == b {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
        }
        let holidays = holidays
            .split([',', ' '])
            .filter(|d| !d.is_empty())
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| HoursError(format!("holiday {d:?} is not YYYY-MM-DD")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { tz, days, holidays })
    }

    fn window(&self, date: NaiveDate) -> Option<(NaiveTime, NaiveTime)> {
        if self.holidays.contains(&date) {
            return None;
        }
        self.days[date.weekday().num_days_from_monday() as usize]
    }

    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        let local = now.with_timezone(&self.tz);
        match self.window(local.date_naive()) {
            Some((start, end)) => local.time() >= start && (end == NaiveTime::MIN || local.time() < end),
            None => false,
        }
    }

    /// When the line next opens, if it ever does within two weeks.
    pub fn next_open(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&self.tz);
        for offset in 0..15 {
            let date = local.date_naive() + Duration::days(offset);
            let Some((start, _)) = self.window(date) else { continue };
            let candidate = self.tz.from_local_datetime(&date.and_time(start)).earliest()?;
            if candidate > now {
                return Some(candidate.with_timezone(&Utc));
            }
        }
        None
    }

    /// "tous les jours de 9 h à 19 h" / "every day from 9:00 to 19:00", or per day.
    pub fn describe(&self, language: Language) -> String {
        let fmt = |t: NaiveTime| match language {
            Language::French if t == NaiveTime::MIN => "minuit".to_owned(),
            Language::French => {
                let (h, m) = (t.format("%-H").to_string(), t.format("%M").to_string());
                if m == "00" {
                    format!("{h} h")
                } else {
                    format!("{h} h {m}")
                }
            }
            Language::English if t == NaiveTime::MIN => "midnight".to_owned(),
            Language::English => t.format("%H:%M").to_string(),
        };
        let window = |(s, e): (NaiveTime, NaiveTime)| match language {
            Language::French => format!("de {} à {}", fmt(s), fmt(e)),
            Language::English => format!("from {} to {}", fmt(s), fmt(e)),
        };
        if let Some(first) = self.days[0]
            && self.days.iter().all(|d| *d == Some(first))
        {
            return match language {
                Language::French => format!("tous les jours {}", window(first)),
                Language::English => format!("every day {}", window(first)),
            };
        }
        let names_fr = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
        let names_en = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        let parts: Vec<String> = self
            .days
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                d.map(|w| match language {
                    Language::French => format!("le {} {}", names_fr[i], window(w)),
                    Language::English => format!("on {} {}", names_en[i], window(w)),
                })
            })
            .collect();
        if parts.is_empty() {
            return match language {
                Language::French => "à des horaires qui seront bientôt annoncés".to_owned(),
                Language::English => "at hours to be announced soon".to_owned(),
            };
        }
        parts.join(", ")
    }

    /// "demain à 9 h" / "tomorrow at 09:00".
    pub fn describe_next_open(&self, now: DateTime<Utc>, language: Language) -> String {
        let Some(next) = self.next_open(now) else {
            return match language {
                Language::French => "dès que possible".to_owned(),
                Language::English => "as soon as possible".to_owned(),
            };
        };
        let local = next.with_timezone(&self.tz);
        let today = now.with_timezone(&self.tz).date_naive();
        let days = (local.date_naive() - today).num_days();
        let time = match language {
            Language::French => {
                let m = local.format("%M").to_string();
                if m == "00" {
                    format!("{} h", local.format("%-H"))
                } else {
                    format!("{} h {m}", local.format("%-H"))
                }
            }
            Language::English => local.format("%H:%M").to_string(),
        };
        let weekday = local.weekday();
        match (language, days) {
            (Language::French, 0) => format!("aujourd'hui à {time}"),
            (Language::French, 1) => format!("demain à {time}"),
            (Language::French, _) => format!("{} à {time}", french_day(weekday)),
            (Language::English, 0) => format!("today at {time}"),
            (Language::English, 1) => format!("tomorrow at {time}"),
            (Language::English, _) => format!("on {weekday:?} at {time}"),
        }
    }
}

fn french_day(d: Weekday) -> &'static str {
    ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"][d.num_days_from_monday() as usize]
}

impl Default for Hours {
    fn default() -> Self {
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN);
        let seven_pm = NaiveTime::from_hms_opt(19, 0, 0).unwrap_or(NaiveTime::MIN);
        Self {
            tz: chrono_tz::Europe::Paris,
            days: [Some((nine, seven_pm)); 7],
            holidays: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("date").with_timezone(&Utc)
    }

    #[test]
    fn default_hours_are_nine_to_seven_in_paris() {
        let h = Hours::default();
        assert!(h.is_open(at("2026-11-27T08:30:00Z")), "09:30 in Paris (UTC+1)");
        assert!(!h.is_open(at("2026-11-27T18:30:00Z")), "19:30 in Paris");
        assert!(
            h.is_open(at("2026-07-01T07:30:00Z")),
            "09:30 in Paris summer time (UTC+2)"
        );
        assert!(!h.is_open(at("2026-07-01T06:30:00Z")), "08:30 in Paris summer time");
        assert_eq!(h.describe(Language::French), "tous les jours de 9 h à 19 h");
        assert_eq!(
            h.describe_next_open(at("2026-11-27T18:30:00Z"), Language::French),
            "demain à 9 h"
        );
        assert_eq!(
            h.describe_next_open(at("2026-11-27T18:30:00Z"), Language::English),
            "tomorrow at 09:00"
        );
    }

    #[test]
    fn holidays_and_partial_weeks() {
        let h = Hours::parse("mon-fri 09:00-19:00; sat 10:00-16:00", "Europe/Paris", "2026-12-25").expect("valid");
        assert!(!h.is_open(at("2026-12-25T10:00:00Z")), "Christmas");
        assert!(!h.is_open(at("2026-11-29T10:00:00Z")), "Sunday");
        assert!(h.is_open(at("2026-11-28T10:00:00Z")), "Saturday 11:00");
        assert_eq!(
            h.describe_next_open(at("2026-11-28T16:00:00Z"), Language::French),
            "lundi à 9 h"
        );
        assert!(Hours::parse("mon 19:00-09:00", "Europe/Paris", "").is_err());
        assert!(Hours::parse("mon-sun 09:00-19:00", "Mars/Base", "").is_err());
        let closed = Hours::parse("closed", "Europe/Paris", "").expect("valid");
        assert!(!closed.is_open(at("2026-11-27T10:00:00Z")));
        let always = Hours::parse("mon-sun 00:00-24:00", "Europe/Paris", "").expect("valid");
        assert!(always.is_open(at("2026-11-27T23:59:00Z")));
    }
}
