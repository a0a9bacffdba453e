//! The dates of log queries and `mail/newcount` (EXMAIL_API.md §4.7, §4.8): `YYYY-MM-DD` days and
//! ranges of them.

use super::{Checked, typed};
use crate::cgi::Code;
use crate::cgi::fields::Fields;

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month.
    pub day: u8,
}

impl Day {
    /// Parses `YYYY-MM-DD` (a real date of the Gregorian calendar).
    pub fn parse(s: &str) -> Option<Day> {
        let mut parts = s.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let day: u8 = parts.next()?.parse().ok()?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1000..=9999).contains(&year) && (1..=days).contains(&day)).then_some(Day {
            year,
            month,
            day,
        })
    }
}

/// A log query's range: `begin_date` and `end_date`, both required, begin ≤ end (601001).
pub fn day_range(f: &Fields) -> Checked<(Day, Day)> {
    let day = |name: &str| -> Checked<Day> {
        let t = typed(f.text(name), Code::InvalidDate)?.ok_or(Code::InvalidDate)?;
        Day::parse(&t).ok_or(Code::InvalidDate)
    };
    let (begin, end) = (day("begin_date")?, day("end_date")?);
    if begin > end {
        return Err(Code::InvalidDate);
    }
    Ok((begin, end))
}

/// `mail/newcount`'s optional range: both or neither; a malformed date is 40092.
pub fn optional_day_range(f: &Fields) -> Checked<Option<(Day, Day)>> {
    let day = |name: &str| -> Checked<Option<Day>> {
        typed(f.text(name), Code::InvalidParameter)?
            .map(|t| Day::parse(&t).ok_or(Code::InvalidParameter))
            .transpose()
    };
    Ok(match (day("begin_date")?, day("end_date")?) {
        (None, None) => None,
        (b, e) => Some((
            b.unwrap_or(Day {
                year: 1970,
                month: 1,
                day: 1,
            }),
            e.unwrap_or(Day {
                year: 9999,
                month: 12,
                day: 31,
            }),
        )),
    })
}
