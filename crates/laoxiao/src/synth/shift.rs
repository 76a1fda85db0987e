//! Moving a generated city to another register date: every date moves by the
//! same number of days, ages on the new date are kept exactly, and ID numbers
//! are rebuilt around the moved birth dates.

use std::collections::HashSet;

use chrono::{Datelike, Days, NaiveDate};
use laoxiao_model::idcard;
use laoxiao_model::person::age_on;

use super::{SynthCity, SynthError};

/// The register dates accepted (births stay after 1880, the ID number's floor).
pub(crate) fn check_as_of(d: NaiveDate) -> Result<(), SynthError> {
    let lo = super::util::ymd(2000, 1, 1);
    let hi = super::util::ymd(2099, 12, 31);
    if d < lo || d > hi {
        return Err(SynthError::AsOf(d));
    }
    Ok(())
}

fn moved(d: NaiveDate, days: i64) -> NaiveDate {
    if days >= 0 {
        d.checked_add_days(Days::new(days as u64)).unwrap_or(d)
    } else {
        d.checked_sub_days(Days::new(days.unsigned_abs()))
            .unwrap_or(d)
    }
}

/// Moves `city` so that it describes `to` instead of `city.as_of`.
pub(crate) fn shift_to(city: &mut SynthCity, to: NaiveDate) -> Result<(), SynthError> {
    check_as_of(to)?;
    let from = city.as_of;
    let days = (to - from).num_days();
    if days == 0 {
        return Ok(());
    }
    for f in &mut city.facilities {
        for x in [
            &mut f.opening_date,
            &mut f.filing_date,
            &mut f.rating_valid_from,
            &mut f.rating_valid_until,
        ]
        .into_iter()
        .flatten()
        {
            *x = moved(*x, days);
        }
    }
    for s in &mut city.staff {
        s.hired_date = moved(s.hired_date, days);
        s.left_date = s.left_date.map(|d| moved(d, days));
        s.health_check_date = s.health_check_date.map(|d| moved(d, days));
    }
    for s in &mut city.services {
        s.date = moved(s.date, days);
    }
    for e in &mut city.enrolments {
        e.start_date = moved(e.start_date, days);
        e.end_date = e.end_date.map(|d| moved(d, days));
    }
    for r in &mut city.residences {
        r.admitted_date = moved(r.admitted_date, days);
        r.discharged_date = r.discharged_date.map(|d| moved(d, days));
    }
    for x in &mut city.insurance {
        x.start_date = moved(x.start_date, days);
        x.end_date = x.end_date.map(|d| moved(d, days));
    }
    let years = i64::from(to.year() - from.year());
    for c in &mut city.student_cohorts {
        c.intake_year += years;
        c.id = format!(
            "K{}-{}",
            c.intake_year,
            c.id.rsplit('-').next().unwrap_or("1")
        );
    }
    let mut used: HashSet<u64> = HashSet::with_capacity(city.elderly.len() + city.infants.len());
    for p in city.elderly.iter_mut().chain(city.infants.iter_mut()) {
        let age = age_on(p.birth_date, from);
        let mut b = moved(p.birth_date, days);
        // Leap days can put a birthday one day either side of the new date.
        while age_on(b, to) > age {
            b = b + Days::new(1);
        }
        while age_on(b, to) < age {
            b = b - Days::new(1);
        }
        p.birth_date = b;
        // A leap day may move the birth a day more than the other dates.
        p.death_date = p.death_date.map(|d| moved(d, days).max(b));
        p.moved_out_date = p.moved_out_date.map(|d| moved(d, days).max(b));
        let addr6 = p.id_number.get(..6).unwrap_or("330400").to_string();
        let mut seq: u16 = p
            .id_number
            .get(14..17)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let addr: u64 = addr6.parse().unwrap_or(0);
        let day = (b - super::util::ymd(1880, 1, 1)).num_days().max(0) as u64;
        // A moved number may meet another; step the sequence by 2 (same sex).
        for _ in 0..500 {
            if used.insert((addr << 36) | (day << 10) | u64::from(seq)) {
                break;
            }
            seq = (seq + 2) % 1000;
        }
        p.id_number = idcard::make(&addr6, b, seq);
    }
    city.as_of = to;
    Ok(())
}
