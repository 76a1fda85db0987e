//! The facts the indicators count: the registers' fields that definitions
//! can test, one compact row per record, with the areas as positions in the
//! area tree. The store fills them from the database (one read per
//! register); tests build them by hand. Dates are days from the common era
//! ([`day`]); [`NONE`] marks an absent date or value.
//!
//! Every register keeps its history in dates, and the facts hold those dates,
//! so any day from 2020 on can be asked: births and deaths, move-out dates,
//! hire and leave dates, admission and discharge, filing dates, rating
//! validity, opening and closing dates. What a register keeps only as today's
//! state (a facility's beds and slots, a person's ability level and
//! categories) is taken as it is today for every earlier day; the docs
//! (`docs/indicators.md`) say which values are therefore reconstructed.

use chrono::{Datelike, NaiveDate};

/// An absent date or value.
pub const NONE: i32 = i32::MIN;

/// Days from the common era, the facts' date form.
pub fn day(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

/// The same as `day` for an optional date.
pub fn opt_day(d: Option<NaiveDate>) -> i32 {
    d.map_or(NONE, day)
}

/// One person (老年人 or 婴幼儿).
#[derive(Debug, Clone, Copy)]
pub struct PersonFact {
    /// The residence area's position in the area tree.
    pub area: u32,
    pub infant: bool,
    pub birth: i32,
    /// Death date, or [`NONE`].
    pub death: i32,
    /// Move-out date, or [`NONE`].
    pub moved_out: i32,
    /// Deceased or moved out with no date: off the register on every day
    /// (the register cannot say since when).
    pub gone_undated: bool,
    /// 户籍区划代码 as a number, and its digit count (0: none).
    pub hukou: u64,
    pub hukou_len: u8,
    /// The ability level's number (0–4), or -1.
    pub ability: i8,
    pub dementia: bool,
    pub care_insurance: bool,
    /// Bit i: the i-th special-difficulty category.
    pub difficulty: u8,
    /// Position of the living arrangement, or -1.
    pub living: i8,
}

/// One facility (设施).
#[derive(Debug, Clone, Copy)]
pub struct FacilityFact {
    pub area: u32,
    /// Positions in the model's enumerations (-1: none).
    pub kind: u8,
    pub level: i8,
    pub rating: i8,
    /// Planned, suspended or closed without a closing date: operating on no day.
    pub not_operating: bool,
    pub opening: i32,
    pub closed: i32,
    pub rating_from: i32,
    pub rating_until: i32,
    pub filing_status: u8,
    pub filing_date: i32,
    pub beds: i64,
    pub nursing_beds: i64,
    pub dementia_beds: i64,
    pub approved_slots: i64,
    pub smart: bool,
    pub demonstration: bool,
    pub inclusive: bool,
}

/// One staff member (从业人员).
#[derive(Debug, Clone, Copy)]
pub struct StaffFact {
    /// The employer's position in [`Facts::facilities`].
    pub facility: u32,
    pub role: u8,
    pub certified: bool,
    pub grade: u8,
    pub hired: i32,
    pub left: i32,
}

/// A record tied to a person: a service (kind, date), a care-home stay
/// (from, until) or an insurance enrolment (kind, from, until).
#[derive(Debug, Clone, Copy)]
pub struct PersonEvent {
    /// The person's position in [`Facts::people`].
    pub person: u32,
    pub kind: u8,
    pub from: i32,
    /// Exclusive end (discharge, insurance end + 1), or [`NONE`]; a service's
    /// is its date.
    pub until: i32,
}

/// One intake of eldercare students (养老服务相关专业学生).
#[derive(Debug, Clone, Copy)]
pub struct CohortFact {
    pub intake_year: i32,
    pub enrolled: i64,
    pub graduated: i64,
}

/// The resident population (常住人口) of an area from a year on.
#[derive(Debug, Clone, Copy)]
pub struct ResidentsFact {
    pub area: u32,
    pub year: i32,
    pub residents: i64,
}

/// Everything the indicators count. Build with the fields, then call
/// [`Facts::finish`] once.
#[derive(Debug, Default)]
pub struct Facts {
    pub people: Vec<PersonFact>,
    pub facilities: Vec<FacilityFact>,
    pub staff: Vec<StaffFact>,
    pub services: Vec<PersonEvent>,
    pub residences: Vec<PersonEvent>,
    pub insurance: Vec<PersonEvent>,
    pub cohorts: Vec<CohortFact>,
    pub residents: Vec<ResidentsFact>,
    /// Per person, where its services / residences / insurance start
    /// (filled by `finish`).
    pub(crate) service_at: Vec<u32>,
    pub(crate) residence_at: Vec<u32>,
    pub(crate) insurance_at: Vec<u32>,
}

fn offsets(events: &mut [PersonEvent], people: usize) -> Vec<u32> {
    events.sort_unstable_by_key(|e| (e.person, e.from));
    let mut at = vec![0u32; people + 1];
    for e in events.iter() {
        if let Some(slot) = at.get_mut(e.person as usize + 1) {
            *slot += 1;
        }
    }
    for i in 1..at.len() {
        at[i] += at[i - 1];
    }
    at
}

impl Facts {
    /// Sorts the person-linked records by person and indexes them. Records
    /// naming a person outside `people` are dropped.
    pub fn finish(&mut self) {
        let n = self.people.len();
        for v in [
            &mut self.services,
            &mut self.residences,
            &mut self.insurance,
        ] {
            v.retain(|e| (e.person as usize) < n);
        }
        self.service_at = offsets(&mut self.services, n);
        self.residence_at = offsets(&mut self.residences, n);
        self.insurance_at = offsets(&mut self.insurance, n);
        self.staff
            .retain(|s| (s.facility as usize) < self.facilities.len());
    }

    fn slice<'a>(events: &'a [PersonEvent], at: &[u32], person: usize) -> &'a [PersonEvent] {
        match (at.get(person), at.get(person + 1)) {
            (Some(&a), Some(&b)) => &events[a as usize..b as usize],
            _ => &[],
        }
    }

    pub(crate) fn services_of(&self, person: usize) -> &[PersonEvent] {
        Self::slice(&self.services, &self.service_at, person)
    }

    pub(crate) fn residences_of(&self, person: usize) -> &[PersonEvent] {
        Self::slice(&self.residences, &self.residence_at, person)
    }

    pub(crate) fn insurance_of(&self, person: usize) -> &[PersonEvent] {
        Self::slice(&self.insurance, &self.insurance_at, person)
    }
}

impl PersonFact {
    /// On the register and alive on day `d`: born by then, not dead, not
    /// moved out.
    pub fn present(&self, d: i32) -> bool {
        !self.gone_undated
            && self.birth <= d
            && (self.death == NONE || self.death > d)
            && (self.moved_out == NONE || self.moved_out > d)
    }
}

/// Whole years from `birth` to `d` (both days from the common era).
pub fn age(birth: i32, d: i32) -> i32 {
    let (Some(b), Some(t)) = (
        NaiveDate::from_num_days_from_ce_opt(birth),
        NaiveDate::from_num_days_from_ce_opt(d),
    ) else {
        return -1;
    };
    let mut years = t.year() - b.year();
    if (t.month(), t.day()) < (b.month(), b.day()) {
        years -= 1;
    }
    years
}

impl FacilityFact {
    /// Operating on day `d`: opened by then (an unknown opening date counts
    /// as always open) and not closed.
    pub fn operating(&self, d: i32) -> bool {
        !self.not_operating
            && (self.opening == NONE || self.opening <= d)
            && (self.closed == NONE || self.closed > d)
    }
}

impl StaffFact {
    /// Employed on day `d`: hired by then and not left.
    pub fn employed(&self, d: i32) -> bool {
        self.hired <= d && (self.left == NONE || self.left > d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> i32 {
        day(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date"))
    }

    #[test]
    fn ages_turn_on_the_birthday() {
        assert_eq!(age(d("1960-06-15"), d("2020-06-14")), 59);
        assert_eq!(age(d("1960-06-15"), d("2020-06-15")), 60);
        assert_eq!(age(d("2020-02-29"), d("2023-02-28")), 2);
        assert_eq!(age(d("2020-02-29"), d("2023-03-01")), 3);
    }

    #[test]
    fn events_index_by_person() {
        let mut f = Facts {
            people: vec![
                PersonFact {
                    area: 0,
                    infant: false,
                    birth: d("1950-01-01"),
                    death: NONE,
                    moved_out: NONE,
                    gone_undated: false,
                    hukou: 0,
                    hukou_len: 0,
                    ability: -1,
                    dementia: false,
                    care_insurance: false,
                    difficulty: 0,
                    living: -1,
                };
                3
            ],
            ..Default::default()
        };
        let ev = |person, from| PersonEvent {
            person,
            kind: 0,
            from,
            until: from,
        };
        f.services = vec![ev(2, 5), ev(0, 1), ev(2, 3), ev(9, 1)];
        f.finish();
        assert_eq!(f.services_of(0).len(), 1);
        assert_eq!(f.services_of(1).len(), 0);
        let two: Vec<i32> = f.services_of(2).iter().map(|e| e.from).collect();
        assert_eq!(two, vec![3, 5], "sorted by date");
        assert_eq!(
            f.services.len(),
            3,
            "the record of an unknown person is dropped"
        );
        assert!(f.services_of(7).is_empty());
    }
}
