//! Aggregate figures: an area's headline figures grouped by child area (the
//! console's overview), and how many rows the main registers hold.
//!
//! Aggregates run over the registers' `area_path` (a subtree is
//! `area_path >= $1 AND area_path < $2`), grouped by the child area's code,
//! which is the fixed-width segment of the path right after the area's own
//! path. People are counted through the tally ([`crate::tally`]), facilities
//! (a few thousand rows) directly. Which kinds, ratings and statuses count
//! comes from the model's enumerations, passed as parameters.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use laoxiao_model::bounds::{APPROVED_SLOTS, BEDS, Bound, DEMENTIA_BEDS, NURSING_BEDS};
use laoxiao_model::facility::{FilingStatus, Rating};
use laoxiao_model::person::PersonStatus;
use laoxiao_model::{AreaLevel, FacilityKind, FacilityStatus, PersonRole};
use serde::Serialize;

use crate::db::{Conn, Value};
use crate::error::Result;
use crate::path_upper;
use crate::scope::Scope;
use crate::tally::{self, Band};

/// Figures of one area (or one child of it).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    /// Active people aged 60 or over.
    pub elderly_60: i64,
    /// …of them aged 80 or over.
    pub elderly_80: i64,
    /// Active infants under three.
    pub infants: i64,
    /// Operating care homes (elderly institutions).
    pub care_homes: i64,
    /// Beds of operating care homes and town home-care centres.
    pub beds: i64,
    pub nursing_beds: i64,
    pub dementia_beds: i64,
    /// Operating village care stations.
    pub stations: i64,
    /// …of them rated 3A or above.
    pub stations_3a: i64,
    /// Operating childcare institutions.
    pub childcare: i64,
    /// …of them filed with the health commission.
    pub childcare_filed: i64,
    /// Approved slots of operating childcare institutions and nursery classes.
    pub slots: i64,
    /// …of inclusive (普惠) ones.
    pub inclusive_slots: i64,
}

impl Figures {
    /// Adds another area's figures. Saturating: totals of bounded values
    /// cannot overflow, but a figure is better capped than a page lost should
    /// a bound ever be raised too far.
    pub fn add(&mut self, o: &Figures) {
        for (a, b) in [
            (&mut self.elderly_60, o.elderly_60),
            (&mut self.elderly_80, o.elderly_80),
            (&mut self.infants, o.infants),
            (&mut self.care_homes, o.care_homes),
            (&mut self.beds, o.beds),
            (&mut self.nursing_beds, o.nursing_beds),
            (&mut self.dementia_beds, o.dementia_beds),
            (&mut self.stations, o.stations),
            (&mut self.stations_3a, o.stations_3a),
            (&mut self.childcare, o.childcare),
            (&mut self.childcare_filed, o.childcare_filed),
            (&mut self.slots, o.slots),
            (&mut self.inclusive_slots, o.inclusive_slots),
        ] {
            *a = a.saturating_add(b);
        }
    }

    /// Share of nursing beds among beds, percent.
    pub fn nursing_share(&self) -> Option<f64> {
        ratio(self.nursing_beds, self.beds, 100.0)
    }

    /// Dementia beds per 10,000 elderly people (60+).
    pub fn dementia_per_10k(&self) -> Option<f64> {
        ratio(self.dementia_beds, self.elderly_60, 10_000.0)
    }

    /// Share of inclusive slots, percent.
    pub fn inclusive_share(&self) -> Option<f64> {
        ratio(self.inclusive_slots, self.slots, 100.0)
    }

    /// Slots per 1,000 residents.
    pub fn slots_per_1000(&self, residents: Option<i64>) -> Option<f64> {
        residents.and_then(|r| ratio(self.slots, r, 1000.0))
    }
}

fn ratio(a: i64, b: i64, scale: f64) -> Option<f64> {
    (b > 0).then(|| a as f64 * scale / b as f64)
}

/// The same day `years` years earlier (28 February for 29 February).
pub fn years_before(d: NaiveDate, years: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year() - years, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(d.year() - years, d.month(), 28))
        .unwrap_or(d)
}

/// Width of the code of the level below `level` (6 county, 9 town, 12 village).
fn child_code_len(level: AreaLevel) -> usize {
    match level {
        AreaLevel::City => 6,
        AreaLevel::County => 9,
        AreaLevel::Town | AreaLevel::Village => 12,
    }
}

/// Ratings that count as "3A or above" (the A-scale starts at 3A).
fn rated_3a_or_above(r: Rating) -> bool {
    r.is_a_scale() && r >= Rating::A3
}

/// Figures of the subtree at `path` (an area of `level`) grouped by child
/// code (`""` for records placed on the area itself), as of `today`. These
/// are aggregates: every console user sees them, whatever their scope.
pub fn by_child(
    conn: &mut Conn,
    path: &str,
    level: AreaLevel,
    today: NaiveDate,
) -> Result<BTreeMap<String, Figures>> {
    let start = path.len() + 1;
    let len = child_code_len(level);
    let mut out = people_by_child(conn, None, path, level, today)?;
    for (child, f) in facility_figures(conn, path, start, len)? {
        out.entry(child).or_default().add(&f);
    }
    Ok(out)
}

/// The people figures of [`by_child`]: from the people index when it is
/// current, else from the tally — a city's figures without a scan of its
/// million people either way.
fn people_by_child(
    conn: &mut Conn,
    reference: Option<&crate::Reference>,
    path: &str,
    level: AreaLevel,
    today: NaiveDate,
) -> Result<BTreeMap<String, Figures>> {
    let start = path.len() + 1;
    let len = child_code_len(level);
    let mut out: BTreeMap<String, Figures> = BTreeMap::new();
    let bands = [
        Band {
            role: PersonRole::Elderly,
            after: None,
            until: Some(years_before(today, 60)),
        },
        Band {
            role: PersonRole::Elderly,
            after: None,
            until: Some(years_before(today, 80)),
        },
        Band {
            role: PersonRole::Infant,
            after: Some(years_before(today, 3)),
            until: None,
        },
    ];
    let at = tally::Where {
        path,
        child: Some((start, len)),
        status: Some(PersonStatus::Active),
    };
    let from_index = match reference {
        Some(r) => r.people_index.tally(conn, &at, &bands)?,
        None => None,
    };
    let counts = match from_index {
        Some(c) => c,
        None => tally::count(conn, &Scope::system("overview"), &at, &bands)?,
    };
    for (i, by_child) in counts.into_iter().enumerate() {
        for (child, n) in by_child {
            let f = out.entry(child).or_default();
            let slot = match i {
                0 => &mut f.elderly_60,
                1 => &mut f.elderly_80,
                _ => &mut f.infants,
            };
            *slot = slot.saturating_add(n);
        }
    }
    Ok(out)
}

/// [`by_child`], its people figures kept until the next people write and
/// its facility figures until the next facility write (crate::cache): the
/// overview at city level without recounting.
pub fn by_child_kept(
    conn: &mut Conn,
    reference: &crate::Reference,
    path: &str,
    level: AreaLevel,
    today: NaiveDate,
) -> Result<BTreeMap<String, Figures>> {
    use crate::cache::Reads;
    let mut out = reference.cache.get_or(
        conn,
        &format!("people_figures\u{1f}{path}\u{1f}{level:?}\u{1f}{today}"),
        Reads::PEOPLE,
        |c| people_by_child(c, Some(reference), path, level, today),
    )?;
    let facilities = reference.cache.get_or(
        conn,
        &format!("facility_figures\u{1f}{path}\u{1f}{level:?}"),
        Reads::FACILITIES,
        |c| facility_figures(c, path, path.len() + 1, child_code_len(level)),
    )?;
    for (child, f) in facilities {
        out.entry(child).or_default().add(&f);
    }
    Ok(out)
}

/// The facility figures of a subtree by child code (the child code is the
/// path's `len` characters from `start`, 1-based).
fn facility_figures(
    conn: &mut Conn,
    path: &str,
    start: usize,
    len: usize,
) -> Result<Vec<(String, Figures)>> {
    // Integer literals for substr, not parameters: they are computed here,
    // and PostgreSQL wants to know substr's argument types.
    let child = format!("substr(area_path, {start}, {len})");
    let mut p: Vec<Value> = vec![path.into(), path_upper(path).into()];
    let mut param = |v: &str| {
        p.push(v.into());
        format!("${}", p.len())
    };
    let inst = param(FacilityKind::ElderlyInstitution.code());
    let town = param(FacilityKind::TownHomeCareCenter.code());
    let station = param(FacilityKind::VillageCareStation.code());
    let childcare = param(FacilityKind::ChildcareInstitution.code());
    let nursery = param(FacilityKind::KindergartenNurseryClass.code());
    let operating = param(FacilityStatus::Operating.code());
    let filed = param(FilingStatus::Filed.code());
    let rated: Vec<String> = Rating::ALL
        .iter()
        .filter(|r| rated_3a_or_above(**r))
        .map(|r| param(r.code()))
        .collect();
    let rated = rated.join(", ");
    let beds_kinds = format!("kind IN ({inst}, {town})");
    let slot_kinds = format!("kind IN ({childcare}, {nursery})");
    let sum = |cond: &str, expr: &str, name: &str| {
        format!("CAST(SUM(CASE WHEN {cond} THEN {expr} ELSE 0 END) AS BIGINT) AS {name}")
    };
    // Each value is clamped into its plausible range before it is summed: a
    // row stored before the ranges were enforced (beds = i64::MAX) would
    // otherwise overflow SQLite's SUM and PostgreSQL's cast back to BIGINT.
    // Bounded values summed over any number of facilities stay far below
    // i64::MAX.
    let clamped = |col: &str, b: Bound| {
        format!(
            "CASE WHEN {col} IS NULL OR {col} < {min} THEN {min} WHEN {col} > {max} THEN {max} \
             ELSE {col} END",
            min = b.min,
            max = b.max
        )
    };
    let beds = clamped("beds", BEDS);
    let nursing = clamped("nursing_beds", NURSING_BEDS);
    let dementia = clamped("dementia_beds", DEMENTIA_BEDS);
    let slots = clamped("approved_slots", APPROVED_SLOTS);
    let columns = [
        sum(&format!("kind = {inst}"), "1", "care_homes"),
        sum(&beds_kinds, &beds, "beds"),
        sum(&beds_kinds, &nursing, "nursing_beds"),
        sum(&beds_kinds, &dementia, "dementia_beds"),
        sum(&format!("kind = {station}"), "1", "stations"),
        sum(
            &format!("kind = {station} AND rating IN ({rated})"),
            "1",
            "stations_3a",
        ),
        sum(&format!("kind = {childcare}"), "1", "childcare"),
        sum(
            &format!("kind = {childcare} AND filing_status = {filed}"),
            "1",
            "childcare_filed",
        ),
        sum(&slot_kinds, &slots, "slots"),
        sum(
            &format!("{slot_kinds} AND inclusive"),
            &slots,
            "inclusive_slots",
        ),
    ];
    let sql = format!(
        "SELECT {child} AS child, {} FROM facility WHERE deleted_at IS NULL AND status = {operating} \
         AND area_path >= $1 AND area_path < $2 GROUP BY {child}",
        columns.join(", ")
    );
    conn.query(&sql, &p)?
        .iter()
        .map(|r| {
            Ok((
                r.get("child")?,
                Figures {
                    care_homes: r.get("care_homes")?,
                    beds: r.get("beds")?,
                    nursing_beds: r.get("nursing_beds")?,
                    dementia_beds: r.get("dementia_beds")?,
                    stations: r.get("stations")?,
                    stations_3a: r.get("stations_3a")?,
                    childcare: r.get("childcare")?,
                    childcare_filed: r.get("childcare_filed")?,
                    slots: r.get("slots")?,
                    inclusive_slots: r.get("inclusive_slots")?,
                    ..Figures::default()
                },
            ))
        })
        .collect()
}

/// How many rows the main registers hold, deleted ones included: what the
/// database holds, not what is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoredRows {
    pub people: i64,
    pub facilities: i64,
}

/// See [`StoredRows`].
pub fn stored_rows(conn: &mut Conn) -> Result<StoredRows> {
    Ok(StoredRows {
        people: conn.query_i64("SELECT COUNT(*) FROM person", &[])?,
        facilities: conn.query_i64("SELECT COUNT(*) FROM facility", &[])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_a_or_above_is_the_a_scale() {
        let rated: Vec<&str> = Rating::ALL
            .iter()
            .filter(|r| rated_3a_or_above(**r))
            .map(|r| r.code())
            .collect();
        assert_eq!(rated, ["3a", "4a", "5a"]);
    }

    #[test]
    fn ratios_need_a_denominator() {
        let f = Figures {
            beds: 100,
            nursing_beds: 60,
            slots: 80,
            inclusive_slots: 20,
            ..Figures::default()
        };
        assert_eq!(f.nursing_share(), Some(60.0));
        assert_eq!(f.inclusive_share(), Some(25.0));
        assert_eq!(f.dementia_per_10k(), None);
        assert_eq!(f.slots_per_1000(Some(8000)), Some(10.0));
        assert_eq!(f.slots_per_1000(None), None);
        let mut g = f.clone();
        g.beds = i64::MAX;
        g.add(&f);
        assert_eq!(g.beds, i64::MAX);
    }

    #[test]
    fn a_year_before_29_february_is_28_february() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).expect("date");
        assert_eq!(
            years_before(d, 1),
            NaiveDate::from_ymd_opt(2023, 2, 28).expect("date")
        );
    }
}
