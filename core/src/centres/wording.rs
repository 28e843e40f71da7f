//! How a person reads a time: in the centre's own zone, with the zone named, French first.

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::helpline::model::Language;

const DAYS_FR: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const DAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const SHORT_DAYS_FR: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
const SHORT_MONTHS_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.",
];

/// The zone as a person names it.
fn zone_label(tz: chrono_tz::Tz, language: Language) -> String {
    let (fr, en) = match tz.name() {
        "Europe/Paris" => ("heure de Paris", "Paris time"),
        "Indian/Reunion" => ("heure de La Réunion", "Réunion time"),
        "Indian/Mayotte" => ("heure de Mayotte", "Mayotte time"),
        "America/Martinique" => ("heure de la Martinique", "Martinique time"),
        "America/Guadeloupe" => ("heure de la Guadeloupe", "Guadeloupe time"),
        "America/Cayenne" => ("heure de Guyane", "French Guiana time"),
        "America/Miquelon" => ("heure de Saint-Pierre-et-Miquelon", "Saint Pierre and Miquelon time"),
        "Pacific/Noumea" => ("heure de Nouméa", "Nouméa time"),
        "Pacific/Tahiti" => ("heure de Tahiti", "Tahiti time"),
        other => return other.to_owned(),
    };
    match language {
        Language::French => fr.to_owned(),
        Language::English => en.to_owned(),
    }
}

/// "3 novembre 2026" / "3 November 2026".
pub fn long_date(date: chrono::NaiveDate, language: Language) -> String {
    let month = date.month0() as usize;
    match language {
        Language::French => format!("{} {} {}", date.day(), MONTHS_FR[month], date.year()),
        Language::English => format!("{} {} {}", date.day(), MONTHS_EN[month], date.year()),
    }
}

/// "mardi 1 décembre à 14:30 (heure de La Réunion)" / "Tuesday 1 December at 14:30 (Réunion time)".
pub fn local_time(at: DateTime<Utc>, tz: chrono_tz::Tz, language: Language) -> String {
    let local = at.with_timezone(&tz);
    let day = local.weekday().num_days_from_monday() as usize;
    let month = local.month0() as usize;
    let zone = zone_label(tz, language);
    match language {
        Language::French => format!(
            "{} {} {} à {:02}:{:02} ({zone})",
            DAYS_FR[day],
            local.day(),
            MONTHS_FR[month],
            local.hour(),
            local.minute()
        ),
        Language::English => format!(
            "{} {} {} at {:02}:{:02} ({zone})",
            DAYS_EN[day],
            local.day(),
            MONTHS_EN[month],
            local.hour(),
            local.minute()
        ),
    }
}

/// Short form for a list of choices: "mar. 1 déc. 14:30" / "Tue 1 Dec 14:30".
pub fn short_time(at: DateTime<Utc>, tz: chrono_tz::Tz, language: Language) -> String {
    let local = at.with_timezone(&tz);
    let day = local.weekday().num_days_from_monday() as usize;
    let month = local.month0() as usize;
    match language {
        Language::French => format!(
            "{} {} {} {:02}:{:02}",
            SHORT_DAYS_FR[day],
            local.day(),
            SHORT_MONTHS_FR[month],
            local.hour(),
            local.minute()
        ),
        Language::English => format!(
            "{} {} {} {:02}:{:02}",
            &DAYS_EN[day][..3],
            local.day(),
            &MONTHS_EN[month][..3],
            local.hour(),
            local.minute()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn times_are_read_in_the_centres_zone() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 10, 30, 0).unwrap();
        assert_eq!(
            local_time(at, chrono_tz::Indian::Reunion, Language::French),
            "mardi 1 décembre à 14:30 (heure de La Réunion)"
        );
        assert_eq!(
            local_time(at, chrono_tz::Europe::Paris, Language::English),
            "Tuesday 1 December at 11:30 (Paris time)"
        );
        assert_eq!(
            short_time(at, chrono_tz::Europe::Paris, Language::English),
            "Tue 1 Dec 11:30"
        );
        assert_eq!(
            short_time(at, chrono_tz::Europe::Paris, Language::French),
            "mar. 1 déc. 11:30"
        );
    }

    /// Written out by hand (offsets from the zones' rules, not from chrono-tz): Paris in
    /// summer (UTC+2) and winter (UTC+1), on both sides of the 2026 changes (29 March and
    /// 25 October at 01:00 UTC), La Réunion (UTC+4, no summer time), Cayenne (UTC−3).
    #[test]
    fn local_times_written_out_by_hand() {
        let cases = [
            (
                (2026, 7, 14, 12, 30),
                chrono_tz::Europe::Paris,
                Language::French,
                "mardi 14 juillet à 14:30 (heure de Paris)",
            ),
            (
                (2026, 1, 15, 9, 5),
                chrono_tz::Europe::Paris,
                Language::French,
                "jeudi 15 janvier à 10:05 (heure de Paris)",
            ),
            (
                (2026, 3, 29, 0, 59),
                chrono_tz::Europe::Paris,
                Language::French,
                "dimanche 29 mars à 01:59 (heure de Paris)",
            ),
            (
                (2026, 3, 29, 1, 0),
                chrono_tz::Europe::Paris,
                Language::French,
                "dimanche 29 mars à 03:00 (heure de Paris)",
            ),
            (
                (2026, 10, 25, 0, 30),
                chrono_tz::Europe::Paris,
                Language::English,
                "Sunday 25 October at 02:30 (Paris time)",
            ),
            (
                (2026, 10, 25, 1, 30),
                chrono_tz::Europe::Paris,
                Language::English,
                "Sunday 25 October at 02:30 (Paris time)",
            ),
            (
                (2026, 7, 14, 12, 30),
                chrono_tz::Indian::Reunion,
                Language::French,
                "mardi 14 juillet à 16:30 (heure de La Réunion)",
            ),
            (
                (2026, 3, 1, 21, 0),
                chrono_tz::Indian::Reunion,
                Language::French,
                "lundi 2 mars à 01:00 (heure de La Réunion)",
            ),
            (
                (2026, 12, 5, 14, 0),
                chrono_tz::America::Cayenne,
                Language::French,
                "samedi 5 décembre à 11:00 (heure de Guyane)",
            ),
            (
                (2026, 1, 1, 1, 0),
                chrono_tz::America::Cayenne,
                Language::English,
                "Wednesday 31 December at 22:00 (French Guiana time)",
            ),
        ];
        for ((y, mo, d, h, mi), tz, language, expected) in cases {
            let at = Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap();
            assert_eq!(local_time(at, tz, language), expected, "{at} in {tz}");
        }
    }
}
