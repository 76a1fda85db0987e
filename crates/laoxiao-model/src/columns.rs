//! The import/export formats: for each record kind, its columns with an English
//! key, a Chinese header, a type and whether it is required; and the mapping
//! between a row of text cells and a typed record. CSV, XLSX, templates, exports
//! and the synthetic-city generator all go through these tables, so a format is
//! defined once.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;

use crate::activity::{
    Enrolment, HomeCareContract, InsuranceEnrolment, Residence, ServiceRecord, Staff, StudentCohort,
};
use crate::error::FieldError;
use crate::facility::{ChildcareClass, Facility};
use crate::person::{PEOPLE, Person, PersonRole};
use laoxiao_spatial::{CoordSystem, to_wgs84};

crate::code_enum! {
    /// A kind of record that can be imported and exported.
    pub enum RecordKind {
        Facilities = ("facilities", "设施", "Facilities"),
        Classes = ("classes", "托育班级", "Childcare classes"),
        Elderly = ("elderly", "老年人", "Elderly people"),
        Infants = ("infants", "婴幼儿", "Infants"),
        Staff = ("staff", "从业人员", "Staff"),
        Services = ("services", "服务记录", "Service records"),
        Enrolments = ("enrolments", "入托", "Childcare enrolments"),
        Residences = ("residences", "入住", "Care-home residences"),
        StudentCohorts = ("student_cohorts", "养老服务相关专业学生", "Eldercare students"),
        Insurance = ("insurance", "参保登记", "Insurance enrolments"),
        Catalogue = ("catalogue", "服务目录", "Service catalogue"),
        HomeCareBeds = ("home_care_beds", "家庭养老床位", "Home-care beds"),
        Devices = ("devices", "智能设备", "Smart devices"),
    }
}

use crate::register::{Cell, Record, Register, format_cell, parse_cell};
pub use crate::register::{ColType, Field as Column};

pub use crate::person::{ELDERLY, INFANTS};

impl RecordKind {
    /// The declaration of the kind's register.
    pub fn register(self) -> &'static Register {
        match self {
            RecordKind::Facilities => &crate::facility::FACILITIES,
            RecordKind::Classes => &crate::facility::CLASSES,
            RecordKind::Elderly => &ELDERLY,
            RecordKind::Infants => &INFANTS,
            RecordKind::Staff => &crate::activity::STAFF,
            RecordKind::Services => &crate::activity::SERVICES,
            RecordKind::Enrolments => &crate::activity::ENROLMENTS,
            RecordKind::Residences => &crate::activity::RESIDENCES,
            RecordKind::StudentCohorts => &crate::activity::STUDENT_COHORTS,
            RecordKind::Insurance => &crate::activity::INSURANCE,
            RecordKind::Catalogue => &crate::family::CATALOGUE,
            RecordKind::HomeCareBeds => &crate::activity::HOME_CARE_CONTRACTS,
            RecordKind::Devices => &crate::alarms::DEVICES,
        }
    }
}

/// The columns of a record kind, in file order.
pub fn columns(kind: RecordKind) -> &'static [Column] {
    kind.register().fields
}

/// Which header language a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderLang {
    English,
    Chinese,
}

/// Maps a file's header row to column positions. Headers may be the English
/// keys or the Chinese names, in any order; unknown headers are an error so that
/// a misspelt column is not silently dropped.
#[derive(Debug, Clone)]
pub struct HeaderMap {
    pub kind: RecordKind,
    index: HashMap<&'static str, usize, BuildHasherDefault<KeyHasher>>,
    /// For each field of the kind's register, in declaration order, its
    /// column in the file: a million-row import reads cells by position,
    /// not by hashing each key again.
    by_field: Vec<Option<usize>>,
}

/// FNV-1a for the few short, fixed column keys looked up for every cell of a
/// file (SipHash's protection against chosen keys is not needed here).
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

impl HeaderMap {
    pub fn new(kind: RecordKind, headers: &[String]) -> Result<Self, Vec<FieldError>> {
        let cols = columns(kind);
        let mut index = HashMap::default();
        let mut errs = Vec::new();
        for (i, h) in headers.iter().enumerate() {
            let h = h.trim().trim_start_matches('\u{feff}');
            if h.is_empty() {
                continue;
            }
            match cols
                .iter()
                .find(|c| c.file_key.eq_ignore_ascii_case(h) || c.zh == h)
            {
                Some(c) => {
                    if index.insert(c.key, i).is_some() {
                        errs.push(FieldError::new(
                            c.key,
                            format!("column {h:?} appears twice"),
                        ));
                    }
                }
                None => errs.push(FieldError::new(
                    h,
                    format!("unknown column for {}", kind.code()),
                )),
            }
        }
        for c in cols.iter().filter(|c| c.required) {
            if !index.contains_key(c.key) {
                errs.push(FieldError::new(
                    c.key,
                    format!("required column missing ({} / {})", c.file_key, c.zh),
                ));
            }
        }
        if errs.is_empty() {
            let by_field = cols.iter().map(|c| index.get(c.key).copied()).collect();
            Ok(HeaderMap {
                kind,
                index,
                by_field,
            })
        } else {
            Err(errs)
        }
    }

    /// The Chinese or English header of a key, as the file spelt it.
    pub fn has(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// A row view for reading cells by key.
    pub fn row<'a>(&'a self, cells: &'a [String], default_coords: CoordSystem) -> Row<'a> {
        Row {
            map: self,
            cells,
            coords: default_coords,
            errs: Vec::new(),
        }
    }
}

/// One data row being read; collects every field error.
pub struct Row<'a> {
    map: &'a HeaderMap,
    cells: &'a [String],
    coords: CoordSystem,
    errs: Vec<FieldError>,
}

/// Parses a boolean cell.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "是" | "t" => Some(true),
        "false" | "0" | "no" | "n" | "否" | "f" => Some(false),
        _ => None,
    }
}

/// Parses a date cell: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, or an ISO date-time.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    let t = t.split(['T', ' ']).next().unwrap_or(t);
    if let Some(d) = parse_iso_date(t) {
        return Some(d);
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y/%m/%d"))
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y%m%d"))
        .ok()
}

/// `YYYY-MM-DD` exactly, without chrono's format interpreter: dates are most of
/// a million-row file's cells.
fn parse_iso_date(t: &str) -> Option<NaiveDate> {
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = i32::try_from(num(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, num(5..7)?, num(8..10)?)
}

impl<'a> Row<'a> {
    fn raw(&self, key: &str) -> Option<&'a str> {
        let i = *self.map.index.get(key)?;
        let v = self.cells.get(i)?.trim();
        if v.is_empty() { None } else { Some(v) }
    }

    /// The cell of the register's `j`-th field (declaration order), trimmed;
    /// blank or absent is `None`.
    fn raw_at(&self, j: usize) -> Option<&'a str> {
        let i = (*self.map.by_field.get(j)?)?;
        let v = self.cells.get(i)?.trim();
        if v.is_empty() { None } else { Some(v) }
    }

    fn fail(&mut self, key: &str, reason: impl Into<String>) {
        self.errs.push(FieldError::new(key, reason));
    }

    pub fn text(&mut self, key: &str) -> Option<String> {
        self.raw(key).map(str::to_string)
    }

    pub fn req_text(&mut self, key: &str) -> String {
        match self.raw(key) {
            Some(v) => v.to_string(),
            None => {
                self.fail(key, "required");
                String::new()
            }
        }
    }

    pub fn int(&mut self, key: &str) -> Option<i64> {
        let v = self.raw(key)?;
        // Spreadsheets write whole numbers as "12.0".
        let t = v.strip_suffix(".0").unwrap_or(v);
        match t.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.fail(key, format!("{v:?} is not a whole number"));
                None
            }
        }
    }

    pub fn req_int(&mut self, key: &str) -> i64 {
        if self.raw(key).is_none() {
            self.fail(key, "required");
            return 0;
        }
        self.int(key).unwrap_or(0)
    }

    pub fn decimal(&mut self, key: &str) -> Option<f64> {
        let v = self.raw(key)?;
        match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                self.fail(key, format!("{v:?} is not a number"));
                None
            }
        }
    }

    pub fn date(&mut self, key: &str) -> Option<NaiveDate> {
        let v = self.raw(key)?;
        match parse_date(v) {
            Some(d) => Some(d),
            None => {
                self.fail(key, format!("{v:?} is not a date (YYYY-MM-DD)"));
                None
            }
        }
    }

    pub fn req_date(&mut self, key: &str) -> NaiveDate {
        if self.raw(key).is_none() {
            self.fail(key, "required");
            return NaiveDate::MIN;
        }
        self.date(key).unwrap_or(NaiveDate::MIN)
    }

    pub fn bool(&mut self, key: &str) -> bool {
        match self.raw(key) {
            None => false,
            Some(v) => parse_bool(v).unwrap_or_else(|| {
                self.fail(key, format!("{v:?} is not true/false (是/否)"));
                false
            }),
        }
    }

    pub fn enum_<T: std::str::FromStr<Err = String>>(&mut self, key: &str) -> Option<T> {
        let v = self.raw(key)?;
        match v.parse::<T>() {
            Ok(x) => Some(x),
            Err(e) => {
                self.fail(key, e);
                None
            }
        }
    }

    pub fn req_enum<T: std::str::FromStr<Err = String>>(&mut self, key: &str) -> Option<T> {
        if self.raw(key).is_none() {
            self.fail(key, "required");
            return None;
        }
        self.enum_(key)
    }

    pub fn enum_list<T: std::str::FromStr<Err = String>>(&mut self, key: &str) -> Vec<T> {
        let Some(v) = self.raw(key) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for part in v
            .split([';', '；', '、', '|'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match part.parse::<T>() {
                Ok(x) => out.push(x),
                Err(e) => self.fail(key, e),
            }
        }
        out
    }

    /// Longitude and latitude converted to WGS-84 from the row's `coord_system`
    /// (or the file's default).
    pub fn point(&mut self) -> (Option<f64>, Option<f64>) {
        let cs = self
            .enum_::<CoordSystem>("coord_system")
            .unwrap_or(self.coords);
        match (self.decimal("lng"), self.decimal("lat")) {
            (Some(x), Some(y)) => {
                let (x, y) = to_wgs84(cs, x, y);
                (Some(x), Some(y))
            }
            other => other,
        }
    }

    /// The errors collected so far.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.errs.is_empty() {
            Ok(value)
        } else {
            Err(self.errs)
        }
    }
}

/// Reads a facility from a row (coordinates converted to WGS-84).
pub fn facility_from_row(r: Row<'_>) -> Result<Facility, Vec<FieldError>> {
    record_from_row(r)
}

/// Writes a facility as cells in [`columns`] order (identifiers, WGS-84).
pub fn facility_to_row(f: &Facility) -> Vec<String> {
    record_to_row(f)
}

/// Reads a childcare class from a row; the fee column is yuan, held as fen.
pub fn class_from_row(r: Row<'_>) -> Result<ChildcareClass, Vec<FieldError>> {
    record_from_row(r)
}

/// Writes a class as cells in [`columns`] order.
pub fn class_to_row(c: &ChildcareClass) -> Vec<String> {
    record_to_row(c)
}

/// Reads a person of `role` from a row: each column of the role's register
/// parsed by its declared type (blank cells take the field's default), the
/// fields of the other register left at their defaults, the coordinates
/// converted to WGS-84 from the row's `coord_system`.
pub fn person_from_row(mut r: Row<'_>, role: PersonRole) -> Result<Person, Vec<FieldError>> {
    let (lng, lat) = r.point();
    // The role and the other register's fields at their defaults, worked out
    // once: a million-row import only fills in the file's columns.
    static BASE: std::sync::LazyLock<[Vec<Cell>; 2]> = std::sync::LazyLock::new(|| {
        [PersonRole::Elderly, PersonRole::Infant].map(|role| {
            let plan = role.file_plan();
            PEOPLE
                .fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    if f.key == "role" {
                        Cell::Text(role.code().to_string())
                    } else if plan.contains(&Some(i)) {
                        Cell::Null
                    } else {
                        // The other register's field: its default (false, an empty list).
                        parse_cell(f, f.default).unwrap_or(Cell::Null)
                    }
                })
                .collect()
        })
    });
    let mut cells = BASE[usize::from(role == PersonRole::Infant)].clone();
    let same = std::ptr::eq(r.map.kind.register(), role.register());
    for (j, (f, at)) in role
        .register()
        .fields
        .iter()
        .zip(role.file_plan())
        .enumerate()
    {
        let Some(i) = *at else { continue };
        cells[i] = match f.ty {
            ColType::Decimal { .. } if f.key == "lng" => lng.map_or(Cell::Null, Cell::Real),
            ColType::Decimal { .. } if f.key == "lat" => lat.map_or(Cell::Null, Cell::Real),
            _ => {
                let raw = if same { r.raw_at(j) } else { r.raw(f.key) };
                let raw = raw.unwrap_or(f.default);
                match parse_cell(f, raw) {
                    Ok(Cell::Null) if f.required => {
                        r.fail(f.key, "required");
                        Cell::Null
                    }
                    Ok(c) => c,
                    Err(e) => {
                        r.fail(f.key, e);
                        Cell::Null
                    }
                }
            }
        };
    }
    if !r.errs.is_empty() {
        return Err(r.errs);
    }
    Person::from_cells(cells).map_err(|e| vec![e])
}

/// Writes a person as cells in [`columns`] order for its role. `id_number` is
/// written as given: callers pass a masked copy unless full numbers are allowed.
pub fn person_to_row(p: &Person) -> Vec<String> {
    let cells = p.to_cells();
    p.role
        .register()
        .fields
        .iter()
        .zip(p.role.file_plan())
        .map(|(f, at)| match at {
            Some(i) => format_cell(f, &cells[*i]),
            // The coordinate system: what the store holds is WGS-84.
            None if p.lng.is_some() => "wgs84".to_string(),
            None => String::new(),
        })
        .collect()
}

/// Reads a record of a declared register from a row: each cell parsed by its
/// field's type (blank cells take the field's default), every failing cell
/// and every missing required value reported.
pub fn record_from_row<R: Record>(mut r: Row<'_>) -> Result<R, Vec<FieldError>> {
    let reg = R::register();
    let mut cells = Vec::with_capacity(reg.fields.len());
    let mut coords = r.coords;
    // Cells by position when the file is of this register (always, in practice).
    let same = std::ptr::eq(r.map.kind.register(), reg);
    for (j, f) in reg.fields.iter().enumerate() {
        let raw = if same { r.raw_at(j) } else { r.raw(f.key) };
        let raw = raw.unwrap_or(f.default);
        match parse_cell(f, raw) {
            Ok(Cell::Null) if f.required => {
                r.fail(f.file_key, "required");
                cells.push(Cell::Null);
            }
            Ok(Cell::Text(code)) if f.file_only() => {
                coords = code.parse().unwrap_or(coords);
                cells.push(Cell::Null);
            }
            Ok(c) => cells.push(c),
            Err(e) => {
                r.fail(f.file_key, e);
                cells.push(Cell::Null);
            }
        }
    }
    if !r.errs.is_empty() {
        return Err(r.errs);
    }
    to_wgs84_cells(reg, &mut cells, coords);
    R::from_cells(cells).map_err(|e| vec![e])
}

/// Writes a record of a declared register as cells in field order. Personal
/// fields are written as given: callers mask them where they must not be shown.
pub fn record_to_row<R: Record>(x: &R) -> Vec<String> {
    let reg = R::register();
    let cells = x.to_cells();
    let has_point = point_of(reg, &cells).is_some();
    reg.fields
        .iter()
        .zip(&cells)
        .map(|(f, c)| match f.ty {
            // Records hold WGS-84: say so beside coordinates.
            ColType::CoordSystem if has_point => "wgs84".to_string(),
            _ => format_cell(f, c),
        })
        .collect()
}

/// The positions of a register's `lng` and `lat` fields, when both are set.
fn point_of(reg: &Register, cells: &[Cell]) -> Option<(usize, usize)> {
    let at = |k: &str| reg.fields.iter().position(|f| f.key == k);
    let (i, j) = (at("lng")?, at("lat")?);
    match (cells.get(i)?, cells.get(j)?) {
        (Cell::Real(_), Cell::Real(_)) => Some((i, j)),
        _ => None,
    }
}

/// Converts a record's `lng`/`lat` cells from `cs` to WGS-84.
fn to_wgs84_cells(reg: &Register, cells: &mut [Cell], cs: CoordSystem) {
    if let Some((i, j)) = point_of(reg, cells)
        && let (Cell::Real(x), Cell::Real(y)) = (&cells[i], &cells[j])
    {
        let (x, y) = to_wgs84(cs, *x, *y);
        cells[i] = Cell::Real(x);
        cells[j] = Cell::Real(y);
    }
}

/// Reads a staff member from a row.
pub fn staff_from_row(r: Row<'_>) -> Result<Staff, Vec<FieldError>> {
    record_from_row(r)
}
/// Writes a staff member as cells in [`columns`] order.
pub fn staff_to_row(s: &Staff) -> Vec<String> {
    record_to_row(s)
}
/// Reads a service record from a row.
pub fn service_from_row(r: Row<'_>) -> Result<ServiceRecord, Vec<FieldError>> {
    record_from_row(r)
}
/// Writes a service record as cells in [`columns`] order.
pub fn service_to_row(s: &ServiceRecord) -> Vec<String> {
    record_to_row(s)
}
/// Reads an enrolment from a row.
pub fn enrolment_from_row(r: Row<'_>) -> Result<Enrolment, Vec<FieldError>> {
    record_from_row(r)
}
/// Writes an enrolment as cells in [`columns`] order.
pub fn enrolment_to_row(e: &Enrolment) -> Vec<String> {
    record_to_row(e)
}
/// Reads a care-home residence from a row.
pub fn residence_from_row(r: Row<'_>) -> Result<Residence, Vec<FieldError>> {
    record_from_row(r)
}
/// Writes a residence as cells in [`columns`] order.
pub fn residence_to_row(v: &Residence) -> Vec<String> {
    record_to_row(v)
}
/// Reads a student cohort from a row.
pub fn cohort_from_row(r: Row<'_>) -> Result<StudentCohort, Vec<FieldError>> {
    record_from_row(r)
}
/// Writes a student cohort as cells in [`columns`] order.
pub fn cohort_to_row(c: &StudentCohort) -> Vec<String> {
    record_to_row(c)
}
/// Reads an insurance enrolment (参保登记) from a row.
pub fn insurance_from_row(r: Row<'_>) -> Result<InsuranceEnrolment, Vec<FieldError>> {
    record_from_row(r)
}
/// Writes an insurance enrolment as cells in [`columns`] order.
pub fn insurance_to_row(x: &InsuranceEnrolment) -> Vec<String> {
    record_to_row(x)
}
/// Reads a catalogue item (服务目录项目) from a row.
pub fn catalogue_from_row(r: Row<'_>) -> Result<crate::family::ServiceItem, Vec<FieldError>> {
    record_from_row(r)
}
/// Writes a catalogue item as cells in [`columns`] order.
pub fn catalogue_to_row(x: &crate::family::ServiceItem) -> Vec<String> {
    record_to_row(x)
}
/// Reads a home-care bed contract (家庭养老床位) from a row.
pub fn home_care_from_row(r: Row<'_>) -> Result<HomeCareContract, Vec<FieldError>> {
    record_from_row(r)
}
/// Writes a home-care bed contract as cells in [`columns`] order.
pub fn home_care_to_row(x: &HomeCareContract) -> Vec<String> {
    record_to_row(x)
}

/// Errors that name fields by their keys, renamed to the columns of a file
/// (`monthly_fee_fen` → `monthly_fee_yuan`), for import reports.
pub fn file_fields(reg: &Register, errs: Vec<FieldError>) -> Vec<FieldError> {
    errs.into_iter()
        .map(|e| match reg.field(&e.field) {
            Some(f) if f.file_key != f.key => FieldError::new(f.file_key, e.reason),
            _ => e,
        })
        .collect()
}

/// The header row of a kind in a language.
pub fn headers(kind: RecordKind, lang: HeaderLang) -> Vec<&'static str> {
    columns(kind)
        .iter()
        .map(|c| match lang {
            HeaderLang::English => c.file_key,
            HeaderLang::Chinese => c.zh,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinate_systems_match_the_spatial_crate() {
        let ours: Vec<(&str, &str, &str)> =
            COORD_VALUES.iter().map(|v| (v.code, v.zh, v.en)).collect();
        let theirs: Vec<(&str, &str, &str)> = CoordSystem::ALL
            .iter()
            .map(|c| (c.code(), c.label_zh(), c.label_en()))
            .collect();
        assert_eq!(ours, theirs);
    }
    use crate::activity::{ServiceKind, SkillGrade, StaffRole};
    use crate::facility::{FacilityKind, Ownership, Rating};
    use crate::person::AbilityLevel;
    use crate::register::COORD_VALUES;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rows_round_trip_through_each_format() {
        for kind in RecordKind::ALL {
            let n = columns(*kind).len();
            let keys: Vec<&str> = columns(*kind).iter().map(|c| c.key).collect();
            let mut uniq = keys.clone();
            uniq.sort();
            uniq.dedup();
            assert_eq!(uniq.len(), n, "duplicate key in {kind}");
        }
        let f = Facility {
            ownership: Some(Ownership::Public),
            lng: Some(120.75),
            lat: Some(30.75),
            beds: Some(100),
            nursing_beds: Some(60),
            rating: Some(Rating::Star3),
            smart: true,
            opening_date: parse_date("2019-05-01"),
            ..Facility::blank(
                "F1",
                "南湖区社会福利中心",
                FacilityKind::ElderlyInstitution,
                "330402001",
            )
        };
        let cells = facility_to_row(&f);
        assert_eq!(cells.len(), columns(RecordKind::Facilities).len());
        let hdr = HeaderMap::new(
            RecordKind::Facilities,
            &strings(&headers(RecordKind::Facilities, HeaderLang::Chinese)),
        )
        .expect("headers");
        let back = facility_from_row(hdr.row(&cells, CoordSystem::Wgs84)).expect("row");
        assert_eq!(back, f);
    }

    fn round_trip<T: PartialEq + std::fmt::Debug>(
        kind: RecordKind,
        value: &T,
        to: fn(&T) -> Vec<String>,
        from: fn(Row<'_>) -> Result<T, Vec<FieldError>>,
    ) {
        let cells = to(value);
        assert_eq!(cells.len(), columns(kind).len(), "{kind}");
        for lang in [HeaderLang::Chinese, HeaderLang::English] {
            let hdr = HeaderMap::new(kind, &strings(&headers(kind, lang))).expect("headers");
            let back = from(hdr.row(&cells, CoordSystem::Wgs84)).expect("row");
            assert_eq!(&back, value, "{kind} {lang:?}");
        }
    }

    #[test]
    fn activity_rows_round_trip() {
        let d = |s: &str| parse_date(s).expect("date");
        round_trip(
            RecordKind::Staff,
            &Staff {
                id: "S1".into(),
                facility_id: "F1".into(),
                role: StaffRole::CareWorker,
                name: "王秀英".into(),
                certified: true,
                certificate: Some("养老护理员职业技能等级证书".into()),
                skill_grade: SkillGrade::Technician,
                hired_date: d("2019-03-01"),
                left_date: Some(d("2022-06-30")),
                health_check_date: None,
            },
            staff_to_row,
            staff_from_row,
        );
        let visit = ServiceRecord {
            id: "V1".into(),
            person_id: "E1".into(),
            kind: ServiceKind::Visit,
            date: d("2022-05-06"),
            facility_id: Some("F2".into()),
            ability_level: None,
            note: Some("电话".into()),
        };
        round_trip(
            RecordKind::Services,
            &visit,
            service_to_row,
            service_from_row,
        );
        round_trip(
            RecordKind::Services,
            &ServiceRecord {
                kind: ServiceKind::AbilityAssessment,
                ability_level: Some(AbilityLevel::Severe),
                facility_id: None,
                note: None,
                ..visit
            },
            service_to_row,
            service_from_row,
        );
        round_trip(
            RecordKind::Enrolments,
            &Enrolment {
                id: "N1".into(),
                infant_id: "I1".into(),
                facility_id: "F3".into(),
                class_id: Some("C1".into()),
                start_date: d("2022-09-01"),
                end_date: None,
                care_type: Some(crate::facility::CareType::HalfDay),
            },
            enrolment_to_row,
            enrolment_from_row,
        );
        round_trip(
            RecordKind::Residences,
            &Residence {
                id: "R1".into(),
                person_id: "E1".into(),
                facility_id: "F4".into(),
                admitted_date: d("2021-01-10"),
                discharged_date: Some(d("2022-02-01")),
            },
            residence_to_row,
            residence_from_row,
        );
        round_trip(
            RecordKind::StudentCohorts,
            &StudentCohort {
                id: "K1".into(),
                institution: "嘉兴职业学校".into(),
                program: "智慧健康养老服务与管理".into(),
                intake_year: 2019,
                enrolled: 42,
                graduated: 40,
            },
            cohort_to_row,
            cohort_from_row,
        );
        round_trip(
            RecordKind::Insurance,
            &InsuranceEnrolment {
                id: "A1".into(),
                person_id: "E1".into(),
                kind: crate::activity::InsuranceKind::LongTermCare,
                start_date: d("2021-01-01"),
                end_date: Some(d("2021-12-31")),
                note: Some("年度".into()),
            },
            insurance_to_row,
            insurance_from_row,
        );
        round_trip(
            RecordKind::Catalogue,
            &crate::family::ServiceItem {
                id: "S1".into(),
                facility_id: "F1".into(),
                category: crate::family::ServiceCategory::Bathing,
                name: "上门助浴".into(),
                price_fen: 8_050,
                unit: "次".into(),
                areas_served: "330402;330411001".into(),
                active: true,
            },
            catalogue_to_row,
            catalogue_from_row,
        );
        // Chinese labels from the template's dropdowns are read too.
        let hdr = HeaderMap::new(
            RecordKind::Services,
            &strings(&[
                "编号",
                "服务对象编号",
                "服务类型",
                "服务日期",
                "评估能力等级",
            ]),
        )
        .expect("headers");
        let cells = strings(&["A1", "E1", "能力评估", "2022/03/04", "重度失能"]);
        let r = service_from_row(hdr.row(&cells, CoordSystem::Wgs84)).expect("row");
        assert_eq!(r.kind, ServiceKind::AbilityAssessment);
        assert_eq!(r.ability_level, Some(AbilityLevel::Severe));
    }

    #[test]
    fn people_registers_keep_their_file_columns() {
        let cols = |k: RecordKind| -> Vec<(&str, &str)> {
            columns(k).iter().map(|c| (c.key, c.zh)).collect()
        };
        let common = [
            ("id", "编号"),
            ("id_number", "身份证号码"),
            ("name", "姓名"),
            ("sex", "性别"),
            ("birth_date", "出生日期"),
            ("hukou_area_code", "户籍区划代码"),
            ("residence_area_code", "居住区划代码"),
            ("address", "居住地址"),
            ("lng", "经度"),
            ("lat", "纬度"),
            ("coord_system", "坐标系"),
        ];
        let tail = [
            ("status", "状态"),
            ("death_date", "死亡日期"),
            ("moved_out_date", "迁出日期"),
        ];
        let mut elderly = common.to_vec();
        elderly.extend([
            ("living_arrangement", "居住状况"),
            ("special_difficulty", "特殊困难类别"),
            ("ability_level", "能力等级"),
            ("dementia", "失智"),
            ("care_insurance", "享受长护险待遇"),
        ]);
        elderly.extend(tail);
        let mut infants = common.to_vec();
        infants.extend([
            ("birth_order", "孩次"),
            ("guardian_name", "监护人姓名"),
            ("guardian_phone", "监护人电话"),
        ]);
        infants.extend(tail);
        assert_eq!(cols(RecordKind::Elderly), elderly);
        assert_eq!(cols(RecordKind::Infants), infants);
        assert_eq!(ELDERLY.table, "person");
        assert_eq!(INFANTS.table, "person");
    }

    #[test]
    fn people_rows_round_trip() {
        use crate::person::{
            AbilityLevel, LivingArrangement, PersonStatus, Sex, SpecialDifficulty,
        };
        let d = |s: &str| parse_date(s).expect("date");
        let old = Person {
            id: "E1".into(),
            role: PersonRole::Elderly,
            id_number: "33040219491231123X".into(),
            name: "张三".into(),
            sex: Sex::Male,
            birth_date: d("1949-12-31"),
            residence_area_code: "330402001".into(),
            lng: Some(120.75),
            lat: Some(30.75),
            living_arrangement: Some(LivingArrangement::LivingAlone),
            special_difficulty: vec![
                SpecialDifficulty::ExtremePoverty,
                SpecialDifficulty::SevereDisability,
            ],
            ability_level: Some(AbilityLevel::Severe),
            dementia: true,
            care_insurance: true,
            ..Person::default()
        };
        let read = |kind, p: &Person| {
            person_from_row(
                HeaderMap::new(kind, &strings(&headers(kind, HeaderLang::Chinese)))
                    .expect("headers")
                    .row(&person_to_row(p), CoordSystem::Wgs84),
                p.role,
            )
            .expect("row")
        };
        assert_eq!(read(RecordKind::Elderly, &old), old);
        let row = person_to_row(&old);
        assert_eq!(row.len(), ELDERLY.fields.len());
        assert_eq!(row[10], "wgs84");
        assert_eq!(row[12], "extreme_poverty;severe_disability");
        let baby = Person {
            id: "I1".into(),
            role: PersonRole::Infant,
            id_number: "330402202401010012".into(),
            name: "李四".into(),
            birth_date: d("2024-01-01"),
            residence_area_code: "330402001".into(),
            birth_order: Some(2),
            guardian_phone: Some("13800000000".into()),
            status: PersonStatus::Active,
            ..Person::default()
        };
        assert_eq!(read(RecordKind::Infants, &baby), baby);
        // A lower-case check character is upper-cased; blank status is active.
        let hdr = HeaderMap::new(
            RecordKind::Elderly,
            &strings(&[
                "编号",
                "身份证号码",
                "姓名",
                "性别",
                "出生日期",
                "居住区划代码",
            ]),
        )
        .expect("headers");
        let cells = strings(&[
            "E2",
            "33040219491231123x",
            "王五",
            "男",
            "1949-12-31",
            "330402001",
        ]);
        let p =
            person_from_row(hdr.row(&cells, CoordSystem::Wgs84), PersonRole::Elderly).expect("row");
        assert_eq!(p.id_number, "33040219491231123X");
        assert_eq!(p.status, PersonStatus::Active);
        assert!(!p.dementia);
        let bad = strings(&["E3", "x", "王五", "男", "1949-13-31", ""]);
        let errs = person_from_row(hdr.row(&bad, CoordSystem::Wgs84), PersonRole::Elderly)
            .expect_err("bad row");
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["birth_date", "residence_area_code"]);
    }

    #[test]
    fn errors_name_each_bad_field() {
        let hdr = HeaderMap::new(
            RecordKind::Classes,
            &strings(&["id", "设施编号", "class_type", "capacity", "enrolled"]),
        )
        .expect("headers");
        let cells = strings(&["C1", "F1", "大班", "x", "3"]);
        let errs = class_from_row(hdr.row(&cells, CoordSystem::Wgs84)).expect_err("bad row");
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["class_type", "capacity"]);
    }

    #[test]
    fn unknown_and_missing_headers_are_reported() {
        let errs = HeaderMap::new(RecordKind::Classes, &strings(&["id", "colour"]))
            .expect_err("bad header");
        assert!(errs.iter().any(|e| e.field == "colour"));
        assert!(
            errs.iter()
                .any(|e| e.field == "facility_id" && e.reason.contains("required"))
        );
    }

    #[test]
    fn cells_parse_leniently_but_strictly() {
        assert_eq!(parse_bool("是"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
        assert_eq!(
            parse_date("2021/03/04"),
            NaiveDate::from_ymd_opt(2021, 3, 4)
        );
        assert_eq!(parse_date("2021-02-30"), None);
        assert_eq!(
            parse_date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(
            parse_date(" 1949-10-01T08:00:00 "),
            NaiveDate::from_ymd_opt(1949, 10, 1)
        );
        for bad in [
            "2021-13-01",
            "2021-00-10",
            "2021-1a-01",
            "20x1-01-01",
            "2021_01_01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
