//! The facility register (设施) and childcare classes (托育班级).

use laoxiao_model::register::parse_cell;
use laoxiao_model::{ChildcareClass, FACILITIES, Facility, FacilityKind, Record};
use serde::{Deserialize, Serialize};

use crate::activity::{self, ActivityRecord};
use crate::db::{Conn, Value};
use crate::error::{Result, StoreError};
use crate::registry::Filter;
use crate::scope::{Perm, Scope};
use crate::{Page, Reference, Upserted, audit, like_contains, now_rfc3339, path_upper, row_hash};

/// The facility's columns, from its declaration.
fn cols() -> String {
    Facility::cols().join(", ")
}

/// The parameters of an upsert: the declared columns in order, then
/// area_path and row_hash.
pub fn params(f: &Facility, area_path: &str) -> Vec<Value> {
    let mut p = f.params();
    p.push(area_path.into());
    p.push(row_hash(&f.cells()).into());
    p
}

/// The upsert statement: inserts, or updates only when the content changed, so
/// re-importing the same file leaves every row (and its `updated_at`) alone.
/// A soft-deleted facility that is imported again comes back.
pub fn upsert_sql() -> String {
    let cols = Facility::cols();
    let n = cols.len();
    let ph: Vec<String> = (1..=n + 2).map(|i| format!("${i}")).collect();
    let sets: Vec<String> = cols
        .iter()
        .skip(1)
        .copied()
        .chain(["area_path", "row_hash"])
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO facility ({}, area_path, row_hash, created_at, updated_at) VALUES ({}, ${now}, ${now}) \
         ON CONFLICT (id) DO UPDATE SET {}, updated_at = excluded.updated_at, deleted_at = NULL \
         WHERE facility.row_hash <> excluded.row_hash OR facility.deleted_at IS NOT NULL",
        cols.join(", "),
        ph.join(", "),
        sets.join(", "),
        now = n + 3
    )
}

/// Inserts or updates one facility (already validated).
pub fn upsert(conn: &mut Conn, reference: &Reference, f: &Facility, now: &str) -> Result<Upserted> {
    let path = area_path(reference, &f.area_code)?;
    let existed = conn.query_opt(
        "SELECT row_hash, deleted_at FROM facility WHERE id = $1",
        &[f.id.as_str().into()],
    )?;
    let mut p = params(f, &path);
    let hash = p.last().cloned().unwrap_or(Value::Null);
    p.push(now.into());
    conn.execute(&upsert_sql(), &p)?;
    crate::versions::bump(conn, crate::versions::FACILITY)?;
    Ok(match existed {
        None => Upserted::Inserted,
        Some(r)
            if Value::Text(r.get("row_hash")?) == hash
                && r.get::<Option<String>>("deleted_at")?.is_none() =>
        {
            Upserted::Unchanged
        }
        Some(_) => Upserted::Updated,
    })
}

/// The materialised path of an area, from the reference tree.
pub fn area_path(reference: &Reference, code: &str) -> Result<String> {
    reference
        .areas
        .get(code)
        .map(|a| a.path.clone())
        .ok_or_else(|| {
            StoreError::Invalid(vec![laoxiao_model::FieldError::new(
                "area_code",
                format!("unknown area code {code:?}"),
            )])
        })
}

fn validate(reference: &Reference, f: &Facility) -> Result<()> {
    let errs = f.validate(&reference.checker(), chrono::Local::now().date_naive());
    if errs.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errs))
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "facility",
        id: id.to_string(),
    }
}

fn check_in_scope(reference: &Reference, scope: &Scope, f: &Facility) -> Result<()> {
    let path = area_path(reference, &f.area_code)?;
    if scope.contains_facility(&f.id, &path) {
        Ok(())
    } else {
        Err(StoreError::Invalid(vec![laoxiao_model::FieldError::new(
            "area_code",
            "the area lies outside your own",
        )]))
    }
}

/// A fresh id for a facility created through the API or console.
pub fn new_id() -> String {
    format!("F-{}", crate::crypto::random_hex(8))
}

/// A fresh id for a childcare class added through the API.
pub fn new_class_id() -> String {
    format!("C-{}", crate::crypto::random_hex(8))
}

/// Refuses an id held by any facility, live or deleted: creating never
/// revives a record (only a city-wide import does). A row outside the scope is
/// a conflict that names nothing.
fn check_id_free(conn: &mut Conn, scope: &Scope, id: &str) -> Result<()> {
    let Some(r) = conn.query_opt(
        "SELECT area_path, deleted_at FROM facility WHERE id = $1",
        &[id.into()],
    )?
    else {
        return Ok(());
    };
    Err(StoreError::Conflict(
        if scope.contains_facility(id, &r.get::<String>("area_path")?) {
            match r.get::<Option<String>>("deleted_at")? {
                None => format!("facility {id:?} already exists"),
                Some(_) => format!("facility {id:?} exists (deleted); import it to restore it"),
            }
        } else {
            "this id is not available; leave it out to have one assigned".to_string()
        },
    ))
}

/// Creates a facility in the scope; an id held by any facility (live or
/// deleted) is a conflict. One transaction with its audit entry.
pub fn create(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    f: &Facility,
) -> Result<Facility> {
    conn.transaction(|c| create_in(c, reference, scope, f))
}

/// [`create`] with the facility's classes (new ones with ids from
/// [`new_class_id`], listed in `assigned`): one transaction, with the audit
/// entries of both.
pub fn create_with_classes(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    f: &Facility,
    classes: &[ChildcareClass],
    assigned: &[String],
) -> Result<Facility> {
    conn.transaction(|c| {
        let after = create_in(c, reference, scope, f)?;
        write_classes_in(c, scope, &after.id, classes, assigned, false)?;
        Ok(after)
    })
}

pub(crate) fn create_in(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    f: &Facility,
) -> Result<Facility> {
    scope.require(Perm::WriteFacilities)?;
    if scope.facility().is_some() {
        return Err(StoreError::Forbidden(
            "a facility operator cannot register new facilities".into(),
        ));
    }
    validate(reference, f)?;
    check_in_scope(reference, scope, f)?;
    check_id_free(conn, scope, &f.id)?;
    upsert(conn, reference, f, &now_rfc3339())?;
    let after = get(conn, scope, &f.id)?;
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "create",
            entity: "facility",
            entity_id: Some(&f.id),
            before: None,
            after: audit::snapshot(&after),
        },
    )?;
    Ok(after)
}

/// Replaces a live facility's fields (old and new area in the scope). One
/// transaction with its audit entry.
pub fn update(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    f: &Facility,
) -> Result<Facility> {
    conn.transaction(|c| update_in(c, reference, scope, f))
}

/// [`update`] that also replaces the facility's classes with `classes` (its
/// live classes not listed are removed; new ones carry ids from
/// [`new_class_id`], listed in `assigned`): one transaction, with the audit
/// entries of both.
pub fn update_with_classes(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    f: &Facility,
    classes: &[ChildcareClass],
    assigned: &[String],
) -> Result<Facility> {
    conn.transaction(|c| {
        let after = update_in(c, reference, scope, f)?;
        write_classes_in(c, scope, &after.id, classes, assigned, true)?;
        Ok(after)
    })
}

pub(crate) fn update_in(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    f: &Facility,
) -> Result<Facility> {
    scope.require(Perm::WriteFacilities)?;
    let before = get(conn, scope, &f.id)?;
    validate(reference, f)?;
    check_in_scope(reference, scope, f)?;
    upsert(conn, reference, f, &now_rfc3339())?;
    let after = get(conn, scope, &f.id)?;
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "update",
            entity: "facility",
            entity_id: Some(&f.id),
            before: audit::snapshot(&before),
            after: audit::snapshot(&after),
        },
    )?;
    Ok(after)
}

/// Marks a facility in the scope and its classes deleted; they disappear from
/// lists and lookups. One transaction with its audit entry.
pub fn soft_delete(conn: &mut Conn, scope: &Scope, id: &str) -> Result<()> {
    conn.transaction(|c| soft_delete_in(c, scope, id))
}

fn soft_delete_in(conn: &mut Conn, scope: &Scope, id: &str) -> Result<()> {
    scope.require(Perm::WriteFacilities)?;
    if scope.facility().is_some() {
        return Err(StoreError::Forbidden(
            "a facility operator cannot delete facilities".into(),
        ));
    }
    let before = get(conn, scope, id)?;
    let now = now_rfc3339();
    let n = conn.execute(
        "UPDATE facility SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
        &[now.as_str().into(), id.into()],
    )?;
    if n == 0 {
        return Err(not_found(id));
    }
    conn.execute(
        "UPDATE childcare_class SET deleted_at = $1, updated_at = $1 WHERE facility_id = $2 AND deleted_at IS NULL",
        &[now.as_str().into(), id.into()],
    )?;
    crate::versions::bump(conn, crate::versions::FACILITY)?;
    crate::versions::bump(conn, crate::versions::ACTIVITY)?;
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "delete",
            entity: "facility",
            entity_id: Some(id),
            before: audit::snapshot(&before),
            after: None,
        },
    )?;
    Ok(())
}

/// One live facility in the scope (outside it: not found).
pub fn get(conn: &mut Conn, scope: &Scope, id: &str) -> Result<Facility> {
    scope.require(Perm::ReadFacilities)?;
    let mut p = vec![Value::from(id)];
    let mut w = String::from("id = $1 AND deleted_at IS NULL");
    scope.push_sql(&mut w, &mut p, "area_path", Some("id"));
    let row = conn
        .query_opt(&format!("SELECT {} FROM facility WHERE {w}", cols()), &p)?
        .ok_or_else(|| not_found(id))?;
    Facility::from_db(&row)
}

/// Filters for listing facilities. Every field is optional.
#[derive(Debug, Clone, Default)]
pub struct FacilityQuery {
    /// Area code: the facility's area must lie in this area's subtree.
    pub area: Option<String>,
    /// Filters on the declared fields that offer one (`Field::filter`):
    /// equality, or a range for dates and numbers.
    pub filters: Vec<Filter>,
    /// Text contained in the name, address or operator (case-insensitive).
    pub q: Option<String>,
    /// The order of the list (default: by id).
    pub sort: FacilitySort,
    /// Largest first.
    pub descending: bool,
    /// Cursor: the `next_cursor` of the previous page (in the id order, the
    /// last id).
    pub after: Option<String>,
    /// Page size (1–1000, default 50).
    pub limit: Option<u32>,
}

impl FacilityQuery {
    /// Adds an equality filter on the declared field `key`, its value as a
    /// file or form writes it (an identifier, 是/否, a date).
    pub fn with(mut self, key: &str, value: &str) -> Result<Self> {
        let invalid = |r: String| StoreError::Invalid(vec![laoxiao_model::FieldError::new(key, r)]);
        let f = FACILITIES
            .field(key)
            .filter(|f| f.filter)
            .ok_or_else(|| invalid("facilities are not filtered by this field".into()))?;
        let c = parse_cell(f, value).map_err(invalid)?;
        self.filters.push(Filter::Eq(f, activity::cell_value(f, c)));
        Ok(self)
    }
}

/// The orders a facility list offers: by one column, then by id. A list
/// takes only these, never an expression from its caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilitySort {
    #[default]
    Id,
    Name,
    Kind,
    Beds,
    Slots,
    OpeningDate,
}

impl FacilitySort {
    /// Every order, in the order a list page offers them.
    pub const ALL: &'static [FacilitySort] = &[
        FacilitySort::Id,
        FacilitySort::Name,
        FacilitySort::Kind,
        FacilitySort::Beds,
        FacilitySort::Slots,
        FacilitySort::OpeningDate,
    ];

    /// The key in URLs and messages (`facility.sort_{code}`).
    pub fn code(self) -> &'static str {
        match self {
            FacilitySort::Id => "id",
            FacilitySort::Name => "name",
            FacilitySort::Kind => "kind",
            FacilitySort::Beds => "beds",
            FacilitySort::Slots => "slots",
            FacilitySort::OpeningDate => "opening_date",
        }
    }

    /// The declared field sorted on (by its key), if the order is by one.
    pub fn field(self) -> Option<&'static str> {
        match self {
            FacilitySort::Id => Some("id"),
            FacilitySort::Name => Some("name"),
            FacilitySort::Kind => Some("kind"),
            FacilitySort::Beds => Some("beds"),
            FacilitySort::Slots => Some("approved_slots"),
            FacilitySort::OpeningDate => Some("opening_date"),
        }
    }

    pub fn parse(s: &str) -> Option<FacilitySort> {
        FacilitySort::ALL.iter().copied().find(|x| x.code() == s)
    }

    /// The expression sorted on (blanks first, ascending) and whether it is a
    /// number (so a cursor's value is read back as one).
    fn expr(self) -> (&'static str, bool) {
        match self {
            FacilitySort::Id => ("id", false),
            FacilitySort::Name => ("name", false),
            FacilitySort::Kind => ("kind", false),
            FacilitySort::Beds => ("COALESCE(beds, -1)", true),
            FacilitySort::Slots => ("COALESCE(approved_slots, -1)", true),
            FacilitySort::OpeningDate => ("COALESCE(opening_date, '')", false),
        }
    }
}

/// A cursor of an order other than by id: the last row's sort value and id,
/// hex-encoded (opaque, and safe in a URL).
fn encode_cursor(sort_value: &str, id: &str) -> String {
    format!("{sort_value}\u{1f}{id}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_cursor(c: &str) -> Option<(String, String)> {
    if !c.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..c.len())
        .step_by(2)
        .map(|i| c.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    let s = String::from_utf8(bytes?).ok()?;
    let (v, id) = s.split_once('\u{1f}')?;
    Some((v.to_string(), id.to_string()))
}

fn bad_cursor() -> StoreError {
    StoreError::Invalid(vec![laoxiao_model::FieldError::new(
        "after",
        "not a cursor of this list; start again from the first page",
    )])
}

/// Builds the WHERE clause shared by list and count.
fn where_clause(
    reference: &Reference,
    scope: &Scope,
    q: &FacilityQuery,
    p: &mut Vec<Value>,
) -> Result<String> {
    let mut w = String::from("deleted_at IS NULL");
    scope.push_sql(&mut w, p, "area_path", Some("id"));
    let add = |w: &mut String, cond: &str, v: Value, p: &mut Vec<Value>| {
        p.push(v);
        w.push_str(&format!(
            " AND {}",
            cond.replace("$?", &format!("${}", p.len()))
        ));
    };
    if let Some(area) = &q.area {
        let a = reference
            .areas
            .get(area)
            .ok_or_else(|| StoreError::NotFound {
                what: "area",
                id: area.clone(),
            })?;
        add(&mut w, "area_path >= $?", a.path.clone().into(), p);
        add(&mut w, "area_path < $?", path_upper(&a.path).into(), p);
    }
    for f in &q.filters {
        match f {
            Filter::Eq(field, v) => add(&mut w, &format!("{} = $?", field.column), v.clone(), p),
            Filter::Range(field, lo, hi) => {
                if let Some(lo) = lo {
                    add(&mut w, &format!("{} >= $?", field.column), lo.clone(), p);
                }
                if let Some(hi) = hi {
                    add(&mut w, &format!("{} <= $?", field.column), hi.clone(), p);
                }
            }
        }
    }
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        p.push(like_contains(text).into());
        let n = p.len();
        w.push_str(&format!(
            " AND (lower(name) LIKE ${n} ESCAPE '\\' OR lower(COALESCE(address, '')) LIKE ${n} ESCAPE '\\' \
             OR lower(COALESCE(operator_name, '')) LIKE ${n} ESCAPE '\\' OR lower(id) LIKE ${n} ESCAPE '\\')"
        ));
    }
    Ok(w)
}

/// A page of live facilities in the query's order (by id unless it says
/// otherwise).
pub fn list(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    q: &FacilityQuery,
) -> Result<Page<Facility>> {
    scope.require(Perm::ReadFacilities)?;
    let mut p = Vec::new();
    let mut w = where_clause(reference, scope, q, &mut p)?;
    let (expr, numeric) = q.sort.expr();
    let (cmp, dir) = if q.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(after) = &q.after {
        if q.sort == FacilitySort::Id {
            p.push(after.as_str().into());
            w.push_str(&format!(" AND id {cmp} ${}", p.len()));
        } else {
            let (v, id) = decode_cursor(after).ok_or_else(bad_cursor)?;
            p.push(if numeric {
                v.parse::<i64>().map_err(|_| bad_cursor())?.into()
            } else {
                v.into()
            });
            let a = p.len();
            p.push(id.into());
            let b = p.len();
            w.push_str(&format!(
                " AND ({expr} {cmp} ${a} OR ({expr} = ${a} AND id {cmp} ${b}))"
            ));
        }
    }
    let order = if q.sort == FacilitySort::Id {
        format!("id {dir}")
    } else {
        format!("{expr} {dir}, id {dir}")
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 1000) as usize;
    let sql = format!(
        "SELECT {}, {expr} AS sort_key FROM facility WHERE {w} ORDER BY {order} LIMIT {}",
        cols(),
        limit + 1
    );
    let rows = conn.query(&sql, &p)?;
    let mut items: Vec<Facility> = rows.iter().map(Facility::from_db).collect::<Result<_>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        match (items.last(), rows.get(limit - 1)) {
            (Some(f), _) if q.sort == FacilitySort::Id => Some(f.id.clone()),
            (Some(f), Some(r)) => {
                let v = match r.get::<Value>("sort_key")? {
                    Value::Int(n) => n.to_string(),
                    Value::Text(t) => t,
                    other => {
                        return Err(StoreError::Database(format!(
                            "column sort_key: expected text or an integer, found {other:?}"
                        )));
                    }
                };
                Some(encode_cursor(&v, &f.id))
            }
            _ => None,
        }
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// How many live facilities match (ignores `after` and `limit`).
pub fn count(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    q: &FacilityQuery,
) -> Result<i64> {
    if !scope.can(Perm::ReadFacilities) {
        scope.require(Perm::Aggregates)?;
        if q.q.is_some() {
            // The text search covers operators and ids, which are not public.
            return Err(StoreError::Forbidden("aggregates only".into()));
        }
    }
    let mut p = Vec::new();
    let w = where_clause(reference, scope, q, &mut p)?;
    conn.query_i64(&format!("SELECT COUNT(*) FROM facility WHERE {w}"), &p)
}

/// A facility as a point on a map: public fields only (see the table of
/// public facility fields in docs/security.md), and the register id only for
/// callers who may read facilities (it links to the record).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MapPoint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub kind: FacilityKind,
    pub lng: f64,
    pub lat: f64,
}

/// At most this many facility points go on a map.
pub const MAX_POINTS: usize = 3000;

/// Live facilities with coordinates in the area subtree `path`, within the
/// scope, in id order (at most [`MAX_POINTS`]). Readers of facilities or of
/// aggregates may ask.
pub fn map_points(conn: &mut Conn, scope: &Scope, path: &str) -> Result<Vec<MapPoint>> {
    if !scope.can(Perm::ReadFacilities) {
        scope.require(Perm::Aggregates)?;
    }
    let with_id = scope.can(Perm::ReadFacilities);
    let mut p: Vec<Value> = vec![path.into(), path_upper(path).into()];
    let mut w = String::from(
        "deleted_at IS NULL AND area_path >= $1 AND area_path < $2 AND lng IS NOT NULL AND lat IS NOT NULL",
    );
    scope.push_sql(&mut w, &mut p, "area_path", Some("id"));
    conn.query(
        &format!(
            "SELECT id, name, kind, lng, lat FROM facility WHERE {w} ORDER BY id LIMIT {MAX_POINTS}"
        ),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok(MapPoint {
            id: if with_id { Some(r.get("id")?) } else { None },
            name: r.get("name")?,
            kind: r.parse("kind")?,
            lng: r.get("lng")?,
            lat: r.get("lat")?,
        })
    })
    .collect()
}

/// [`map_points`] turned into something by `make` (the console's JSON),
/// kept until the next facility write (crate::cache). The permission is
/// checked first, on every call; the key holds what the scope decides (its
/// subtree, its facility, whether ids are shown) and `what` names `make`.
pub fn map_points_kept<T, F>(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    path: &str,
    what: &str,
    make: F,
) -> Result<T>
where
    T: Clone + Send + Sync + 'static,
    F: FnOnce(Vec<MapPoint>) -> Result<T>,
{
    if !scope.can(Perm::ReadFacilities) {
        scope.require(Perm::Aggregates)?;
    }
    let key = format!(
        "map_points\u{1f}{what}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{path}",
        scope.area_path().unwrap_or_default(),
        scope.facility().unwrap_or_default(),
        scope.can(Perm::ReadFacilities)
    );
    reference
        .cache
        .get_or(conn, &key, crate::cache::Reads::FACILITIES, |c| {
            make(map_points(c, scope, path)?)
        })
}

/// Inserts or updates a class (already validated); its facility must exist.
pub fn upsert_class(conn: &mut Conn, c: &ChildcareClass, now: &str) -> Result<Upserted> {
    activity::upsert(conn, c, now)
}

/// Writes the classes of a facility in the scope; with `replace`, its live
/// classes not listed are removed. Audited as one `childcare_classes` entry
/// when they changed, in the same transaction.
///
/// A class id held by a class of another facility — live or deleted, in any
/// area — is refused: a class never moves between facilities, and a deleted
/// one is revived only by its own facility. Callers that are not city-wide
/// may name only their facility's own classes (new ones get
/// [`new_class_id`], listed in `assigned`), so the answer is the same whether
/// the id exists elsewhere or not.
pub fn write_classes(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
    classes: &[ChildcareClass],
    assigned: &[String],
    replace: bool,
) -> Result<()> {
    conn.transaction(|c| write_classes_in(c, scope, facility_id, classes, assigned, replace))
}

fn write_classes_in(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
    classes: &[ChildcareClass],
    assigned: &[String],
    replace: bool,
) -> Result<()> {
    scope.require(Perm::WriteFacilities)?;
    let before = classes_of(conn, scope, facility_id)?;
    let now = now_rfc3339();
    let mut errs = Vec::new();
    for (i, class) in classes.iter().enumerate() {
        let owner = conn.query_opt(
            "SELECT facility_id FROM childcare_class WHERE id = $1",
            &[class.id.as_str().into()],
        )?;
        let fresh = assigned.contains(&class.id);
        match owner {
            // A random id that happens to be taken: never overwrite.
            Some(_) if fresh => {
                return Err(StoreError::Conflict(
                    "an assigned class id was taken; send the request again".into(),
                ));
            }
            Some(row) if row.get::<String>("facility_id")? == facility_id => {}
            None if fresh || scope.is_city_wide() => {}
            Some(_) if scope.is_city_wide() => {
                return Err(StoreError::Conflict(format!(
                    "class {:?} belongs to another facility",
                    class.id
                )));
            }
            _ => errs.push(laoxiao_model::FieldError::new(
                format!("classes[{i}].id"),
                "not a class of this facility; leave the id out to add a class",
            )),
        }
    }
    if !errs.is_empty() {
        return Err(StoreError::Invalid(errs));
    }
    for class in classes {
        upsert_class(conn, class, &now)?;
    }
    if replace {
        let mut params: Vec<Value> = vec![now.as_str().into(), facility_id.into()];
        let mut sql = String::from(
            "UPDATE childcare_class SET deleted_at = $1, updated_at = $1 \
             WHERE facility_id = $2 AND deleted_at IS NULL",
        );
        if !classes.is_empty() {
            let mut ph = Vec::with_capacity(classes.len());
            for class in classes {
                params.push(class.id.as_str().into());
                ph.push(format!("${}", params.len()));
            }
            sql.push_str(&format!(" AND id NOT IN ({})", ph.join(", ")));
        }
        conn.execute(&sql, &params)?;
        crate::versions::bump(conn, crate::versions::ACTIVITY)?;
    }
    let after = classes_of(conn, scope, facility_id)?;
    if before != after {
        audit::append(
            conn,
            scope,
            audit::Event {
                action: "update",
                entity: "childcare_classes",
                entity_id: Some(facility_id),
                before: audit::snapshot(&before),
                after: audit::snapshot(&after),
            },
        )?;
    }
    Ok(())
}

/// The live classes of a facility.
pub fn classes_of(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
) -> Result<Vec<ChildcareClass>> {
    get(conn, scope, facility_id)?;
    conn.query(
        &format!(
            "SELECT {} FROM childcare_class WHERE facility_id = $1 AND deleted_at IS NULL ORDER BY id",
            ChildcareClass::cols().join(", ")
        ),
        &[facility_id.into()],
    )?
    .iter()
    .map(ChildcareClass::from_db)
    .collect()
}

/// Every live class, in id order (for export).
pub fn all_classes(conn: &mut Conn, scope: &Scope) -> Result<Vec<ChildcareClass>> {
    scope.require(Perm::ReadFacilities)?;
    let mut p = Vec::new();
    let mut w = String::new();
    scope.push_sql(&mut w, &mut p, "f.area_path", Some("f.id"));
    let cols: Vec<String> = ChildcareClass::cols()
        .iter()
        .map(|c| format!("c.{c}"))
        .collect();
    conn.query(
        &format!(
            "SELECT {} FROM childcare_class c JOIN facility f ON f.id = c.facility_id \
             WHERE c.deleted_at IS NULL AND f.deleted_at IS NULL{w} ORDER BY c.id",
            cols.join(", ")
        ),
        &p,
    )?
    .iter()
    .map(ChildcareClass::from_db)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = encode_cursor("养老院 A", "F-1");
        assert!(c.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(decode_cursor(&c), Some(("养老院 A".into(), "F-1".into())));
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("616"), None);
    }

    #[test]
    fn sorts_parse_their_codes_only() {
        for s in FacilitySort::ALL {
            assert_eq!(FacilitySort::parse(s.code()), Some(*s));
        }
        assert_eq!(FacilitySort::parse("beds; DROP TABLE facility"), None);
    }
}
