//! The public places (公开机构信息) the portal searches: every facility on the
//! register that is planned or operating, with exactly the fields
//! docs/security.md ("Public facility fields") makes public, its vacancies
//! counted from the registers, and its latest published inspection result.
//!
//! Read in a few set queries (no query per place), so the portal can hold
//! the whole city in memory and answer searches without the database.

use std::collections::HashMap;

use chrono::NaiveDate;
use laoxiao_model::facility::{ClassType, FacilityKind};
use serde::Serialize;

use crate::db::Conn;
use crate::error::Result;
use crate::{Reference, inspections, public_ref};

/// Places read at most (the city has a few thousand).
pub const MAX_PLACES: usize = 50_000;

/// A class's public part (its type, size, fee and free places).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicClass {
    pub class_type: ClassType,
    pub capacity: i64,
    pub monthly_fee_fen: Option<i64>,
    /// capacity − enrolled − offered or accepted (never below 0).
    pub free: i64,
}

/// A place's latest published inspection result (双随机、一公开).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicInspection {
    pub inspected_on: String,
    /// `pass`, `basic_pass` or `fail`.
    pub verdict: String,
    /// `random`, `unplanned` or `reinspection`.
    pub kind: String,
    pub rectification_status: Option<String>,
}

/// One place as the public may see it. No register id, operator, internal
/// phone, staff or children.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicPlace {
    /// The public reference ([`public_ref`]), in place of the register id.
    pub public_ref: String,
    pub name: String,
    pub kind: FacilityKind,
    pub level: Option<String>,
    pub ownership: Option<String>,
    pub area_code: String,
    pub area_path: String,
    pub address: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub beds: Option<i64>,
    pub nursing_beds: Option<i64>,
    pub dementia_beds: Option<i64>,
    pub approved_slots: Option<i64>,
    pub monthly_fee_fen: Option<i64>,
    pub inclusive: bool,
    pub filing_status: String,
    pub filing_date: Option<String>,
    pub rating: Option<String>,
    pub rating_valid_from: Option<String>,
    pub rating_valid_until: Option<String>,
    pub smart: bool,
    pub demonstration: bool,
    pub opening_date: Option<String>,
    /// `planned` or `operating` (suspended and closed places are not listed).
    pub status: String,
    pub opening_hours: Option<String>,
    pub public_phone: Option<String>,
    /// Free beds: beds − residents today − open offers (kinds with beds).
    pub free_beds: Option<i64>,
    /// Free childcare places over the classes (kinds with slots).
    pub free_slots: Option<i64>,
    pub classes: Vec<PublicClass>,
    pub inspection: Option<PublicInspection>,
}

/// Every public place, ordered by area and name.
pub fn load(conn: &mut Conn, reference: &Reference, today: NaiveDate) -> Result<Vec<PublicPlace>> {
    let day = today.to_string();
    let mut residents: HashMap<String, i64> = HashMap::new();
    for r in conn.query(
        "SELECT facility_id, COUNT(*) AS n FROM residence WHERE deleted_at IS NULL \
         AND admitted_date <= $1 AND (discharged_date IS NULL OR discharged_date > $1) \
         GROUP BY facility_id",
        &[day.clone().into()],
    )? {
        residents.insert(r.get("facility_id")?, r.get("n")?);
    }
    let mut offers: HashMap<String, i64> = HashMap::new();
    for r in conn.query(
        "SELECT facility_id, COUNT(*) AS n FROM admission_application WHERE status = 'offered' \
         GROUP BY facility_id",
        &[],
    )? {
        offers.insert(r.get("facility_id")?, r.get("n")?);
    }
    // Places held in a class: offered or accepted, not yet enrolled (as the
    // offer form counts them, childcare_applications::held).
    let mut held: HashMap<String, i64> = HashMap::new();
    for r in conn.query(
        "SELECT class_id, COUNT(*) AS n FROM childcare_application \
         WHERE status IN ('offered', 'accepted') AND class_id IS NOT NULL GROUP BY class_id",
        &[],
    )? {
        held.insert(r.get("class_id")?, r.get("n")?);
    }
    let mut classes: HashMap<String, Vec<PublicClass>> = HashMap::new();
    for r in conn.query(
        "SELECT c.id, c.facility_id, c.class_type, c.capacity, c.enrolled, c.monthly_fee_fen \
         FROM childcare_class c JOIN facility f ON f.id = c.facility_id \
         WHERE c.deleted_at IS NULL AND f.deleted_at IS NULL ORDER BY c.facility_id, c.class_type, c.id",
        &[],
    )? {
        let id: String = r.get("id")?;
        let capacity: i64 = r.get("capacity")?;
        let enrolled: i64 = r.get("enrolled")?;
        let h = held.get(&id).copied().unwrap_or(0);
        classes
            .entry(r.get("facility_id")?)
            .or_default()
            .push(PublicClass {
                class_type: r.parse("class_type")?,
                capacity,
                monthly_fee_fen: r.get("monthly_fee_fen")?,
                free: (capacity - enrolled - h).max(0),
            });
    }
    // The latest published result of each place (results come newest first).
    let mut results: HashMap<String, PublicInspection> = HashMap::new();
    for p in inspections::published_results(conn, "/")? {
        results.entry(p.facility_id).or_insert(PublicInspection {
            inspected_on: p.inspected_on,
            verdict: p.verdict.code().into(),
            kind: p.kind.code().into(),
            rectification_status: p.rectification_status.map(|s| s.code().into()),
        });
    }
    let keys = reference.keys()?;
    let rows = conn.query(
        &format!(
            "SELECT id, name, kind, level, ownership, area_code, area_path, address, lng, lat, beds, \
             nursing_beds, dementia_beds, approved_slots, monthly_fee, inclusive, filing_status, filing_date, \
             rating, rating_valid_from, rating_valid_until, smart, demonstration, opening_date, status, \
             opening_hours, public_phone \
             FROM facility WHERE deleted_at IS NULL AND status IN ('planned', 'operating') \
             ORDER BY area_path, name, id LIMIT {MAX_PLACES}"
        ),
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: String = r.get("id")?;
        let kind: FacilityKind = r.parse("kind")?;
        let beds: Option<i64> = r.get("beds")?;
        let cls = classes.remove(&id).unwrap_or_default();
        let free_beds = kind.has_beds().then(|| {
            (beds.unwrap_or(0)
                - residents.get(&id).copied().unwrap_or(0)
                - offers.get(&id).copied().unwrap_or(0))
            .max(0)
        });
        let free_slots = kind.has_slots().then(|| cls.iter().map(|c| c.free).sum());
        out.push(PublicPlace {
            public_ref: keys.public_ref(public_ref::FACILITY, &id),
            name: r.get("name")?,
            kind,
            level: r.get("level")?,
            ownership: r.get("ownership")?,
            area_code: r.get("area_code")?,
            area_path: r.get("area_path")?,
            address: r.get("address")?,
            lng: r.get("lng")?,
            lat: r.get("lat")?,
            beds,
            nursing_beds: r.get("nursing_beds")?,
            dementia_beds: r.get("dementia_beds")?,
            approved_slots: r.get("approved_slots")?,
            monthly_fee_fen: r.get("monthly_fee")?,
            inclusive: r.get("inclusive")?,
            filing_status: r.get("filing_status")?,
            filing_date: r.get("filing_date")?,
            rating: r.get("rating")?,
            rating_valid_from: r.get("rating_valid_from")?,
            rating_valid_until: r.get("rating_valid_until")?,
            smart: r.get("smart")?,
            demonstration: r.get("demonstration")?,
            opening_date: r.get("opening_date")?,
            status: r.get("status")?,
            opening_hours: r.get("opening_hours")?,
            public_phone: r.get("public_phone")?,
            free_beds,
            free_slots,
            classes: cls,
            inspection: results.remove(&id),
        });
    }
    Ok(out)
}
