//! Generic reads and writes of every declared register (登记册): list with
//! filters, search, sort, keyset pages and a bounded count; get (a full read
//! of a register with personal fields is audited); create, update and delete,
//! each one transaction with its audit entry. The SQL follows from the
//! declaration (table, columns by name, scope rule); nothing here is written
//! per register.

use chrono::NaiveDate;
use laoxiao_model::Checker;
use laoxiao_model::FieldError;
use laoxiao_model::refs::KnownRefs;
use laoxiao_model::register::{Cell, Field, FieldType, Register, ScopeRule};

use crate::activity::{self, ActivityRecord};
use crate::audit;
use crate::db::{Conn, Value};
use crate::error::{Result, StoreError};
use crate::scope::Scope;
use crate::{now_rfc3339, path_upper};

/// Counts stop here: above it a list says "more than 10,000".
pub const COUNT_CAP: i64 = 10_000;
/// Largest page.
pub const MAX_LIMIT: usize = 500;

/// One list filter on a declared field.
#[derive(Debug, Clone)]
pub enum Filter {
    /// The field equals the value (enums, references, booleans, integers).
    Eq(&'static Field, Value),
    /// The field lies in the inclusive range (dates, integers); either end open.
    Range(&'static Field, Option<Value>, Option<Value>),
}

/// A list request, already checked against the declaration.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    /// Prefix of any search field.
    pub search: Option<String>,
    /// Area path the records' scope (facility or person) must lie in.
    pub area_path: Option<String>,
    /// Sort field (a required field), then id; `None`: by id.
    pub sort: Option<&'static Field>,
    pub desc: bool,
    /// Keyset cursor from the previous page's `next`.
    pub after: Option<Cursor>,
    pub limit: usize,
}

/// Where the previous page ended: its last sort value and id.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    pub value: Value,
    pub id: String,
}

impl Cursor {
    /// The opaque text form: `i:<int>`, `t:<text>` or `b:<0|1>`, a unit
    /// separator, the id.
    pub fn encode(&self) -> String {
        let v = match &self.value {
            Value::Int(n) => format!("i:{n}"),
            Value::Bool(b) => format!("b:{}", u8::from(*b)),
            Value::Text(t) => format!("t:{t}"),
            Value::Real(x) => format!("r:{x}"),
            Value::Null => "n:".to_string(),
        };
        format!("{v}\u{1f}{}", self.id)
    }

    /// Parses [`Cursor::encode`]'s form; `None` for anything else.
    pub fn decode(s: &str) -> Option<Cursor> {
        let (v, id) = s.split_once('\u{1f}')?;
        let (tag, rest) = v.split_once(':')?;
        let value = match tag {
            "i" => Value::Int(rest.parse().ok()?),
            "b" => Value::Bool(rest == "1"),
            "t" => Value::Text(rest.to_string()),
            "r" => Value::Real(rest.parse().ok()?),
            "n" if rest.is_empty() => Value::Null,
            _ => return None,
        };
        Some(Cursor {
            value,
            id: id.to_string(),
        })
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next: Option<String>,
    /// Matching records, exact up to [`COUNT_CAP`].
    pub total: i64,
    /// False when there are more than [`COUNT_CAP`].
    pub total_exact: bool,
}

/// The `FROM` of a scoped read (the table is `t`, the scoping parent `s`),
/// the scope's conditions and the area-path column an area filter uses.
fn scoped<T: ActivityRecord>(
    backend: crate::Backend,
    scope: &Scope,
    q: &ListQuery,
    p: &mut Vec<Value>,
) -> (String, String, Option<&'static str>) {
    let mut w = String::new();
    let table = T::table();
    // A city-wide caller with no area asked needs no join to the record's
    // person or facility: every record is in the city. The join would cost
    // a lookup in a million-row table per record read (a city's service
    // records filtered by kind took 12 s, docs/benchmarks.md).
    let whole_city = scope.is_city_wide() && q.area_path.is_none();
    match T::register().scope {
        ScopeRule::Facility(_) | ScopeRule::Person(_) if whole_city => {
            (format!("{table} t"), w, None)
        }
        ScopeRule::Facility(col) => {
            if scope.role().is_some() {
                scope.push_sql(&mut w, p, "s.area_path", Some("s.id"));
            }
            (
                format!("{table} t JOIN facility s ON s.id = t.{col}"),
                w,
                Some("s.area_path"),
            )
        }
        ScopeRule::Person(col) => {
            // A city-wide scope adds no bound: with two lower bounds on the
            // area path SQLite seeks by the first (the city's) and reads it all.
            if scope.role().is_some() && !scope.is_city_wide() {
                scope.push_sql(&mut w, p, "s.area_path", None);
            }
            // Within a town or a village, walk its people (the list index)
            // and their records, not every record of the city with a lookup
            // of its person each (a town's service records: 1.1 s → 4 ms).
            // The list index holds live people: records of a person deleted
            // from the register leave the lists of towns and villages.
            let depth = |path: &str| path.matches('/').count().saturating_sub(1);
            let deepest = scope
                .area_path()
                .filter(|_| !scope.is_city_wide())
                .into_iter()
                .chain(q.area_path.as_deref())
                .map(depth)
                .max()
                .unwrap_or(0);
            if deepest >= 3 {
                // Live people: the list index holds them (both databases).
                w.push_str(" AND s.deleted_at IS NULL");
                // SQLite keeps a CROSS JOIN's written order of the loops;
                // PostgreSQL would hash-join the whole table to the town's
                // people (180 ms) unless the records come from a lateral
                // subquery it cannot flatten (OFFSET 0): 15 ms.
                let from = match backend {
                    crate::Backend::Sqlite => {
                        format!("person s CROSS JOIN {table} t ON t.{col} = s.id")
                    }
                    crate::Backend::Postgres => format!(
                        "person s CROSS JOIN LATERAL \
                         (SELECT * FROM {table} WHERE {col} = s.id OFFSET 0) t"
                    ),
                };
                (from, w, Some("s.area_path"))
            } else {
                (
                    format!("{table} t JOIN person s ON s.id = t.{col}"),
                    w,
                    Some("s.area_path"),
                )
            }
        }
        ScopeRule::AreaPath(col) => {
            if scope.role().is_some() {
                scope.push_sql(&mut w, p, &format!("t.{col}"), None);
            }
            (format!("{table} t"), w, Some(col))
        }
        ScopeRule::City => (format!("{table} t"), w, None),
    }
}

fn cols<T: ActivityRecord>() -> String {
    T::cols()
        .iter()
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The `WHERE` conditions of a list (after `t.deleted_at IS NULL`), without
/// the keyset.
fn conditions<T: ActivityRecord>(
    backend: crate::Backend,
    scope: &Scope,
    q: &ListQuery,
    p: &mut Vec<Value>,
) -> Result<(String, String)> {
    let (from, mut w, area_col) = scoped::<T>(backend, scope, q, p);
    // With an equality too, SQLite drives by the equality's (column, id)
    // index and checks ranges row by row (`+` keeps a column from choosing
    // the index): a page of a kind of service record since a date then reads
    // a few rows in list order instead of sorting every match (190 → 0.1 ms).
    let unindexed = if backend == crate::Backend::Sqlite
        && q.filters.iter().any(|f| matches!(f, Filter::Eq(..)))
    {
        "+"
    } else {
        ""
    };
    for f in &q.filters {
        match f {
            Filter::Eq(field, v) => {
                p.push(v.clone());
                w.push_str(&format!(" AND t.{} = ${}", field.column, p.len()));
            }
            Filter::Range(field, lo, hi) => {
                if let Some(lo) = lo {
                    p.push(lo.clone());
                    w.push_str(&format!(
                        " AND {unindexed}t.{} >= ${}",
                        field.column,
                        p.len()
                    ));
                }
                if let Some(hi) = hi {
                    p.push(hi.clone());
                    w.push_str(&format!(
                        " AND {unindexed}t.{} <= ${}",
                        field.column,
                        p.len()
                    ));
                }
            }
        }
    }
    if let Some(path) = &q.area_path {
        let Some(col) = area_col else {
            return Err(StoreError::Invalid(vec![FieldError::new(
                "area",
                format!("{} are city-wide; they have no area", T::register().en),
            )]));
        };
        p.push(path.as_str().into());
        w.push_str(&format!(" AND {col} >= ${}", p.len()));
        p.push(path_upper(path).into());
        w.push_str(&format!(" AND {col} < ${}", p.len()));
    }
    if let Some(text) = q.search.as_deref().filter(|s| !s.is_empty()) {
        let searched: Vec<&Field> = T::register().fields.iter().filter(|f| f.search).collect();
        if searched.is_empty() {
            return Err(StoreError::Invalid(vec![FieldError::new(
                "q",
                format!("{} have no searchable field", T::register().en),
            )]));
        }
        p.push(escape_like(text).into());
        let n = p.len();
        let ors: Vec<String> = searched
            .iter()
            .map(|f| format!("t.{} LIKE ${n} ESCAPE '\\'", f.column))
            .collect();
        w.push_str(&format!(" AND ({})", ors.join(" OR ")));
    }
    Ok((from, w))
}

/// A page of live records in the scope matching the query, with the count.
pub fn list<T: ActivityRecord>(
    conn: &mut Conn,
    scope: &Scope,
    q: &ListQuery,
) -> Result<ListPage<T>> {
    scope.require(T::read_perm())?;
    let limit = q.limit.clamp(1, MAX_LIMIT);
    let mut p = Vec::new();
    let (from, w) = conditions::<T>(conn.backend(), scope, q, &mut p)?;
    let total = conn.query_i64(
        &format!(
            "SELECT COUNT(*) AS n FROM (SELECT 1 FROM {from} WHERE t.deleted_at IS NULL{w} LIMIT {}) c",
            COUNT_CAP + 1
        ),
        &p,
    )?;
    let sort_col = q.sort.map_or("id", |f| f.column);
    let (cmp, dir) = if q.desc { ("<", "DESC") } else { (">", "ASC") };
    let mut keyset = String::new();
    if let Some(c) = &q.after {
        if q.sort.is_some() {
            p.push(c.value.clone());
            let v = p.len();
            p.push(c.id.as_str().into());
            let i = p.len();
            keyset = format!(
                " AND (t.{sort_col} {cmp} ${v} OR (t.{sort_col} = ${v} AND t.id {cmp} ${i}))"
            );
        } else {
            p.push(c.id.as_str().into());
            keyset = format!(" AND t.id {cmp} ${}", p.len());
        }
    }
    let order = if q.sort.is_some() {
        format!("t.{sort_col} {dir}, t.id {dir}")
    } else {
        format!("t.id {dir}")
    };
    let rows = conn.query(
        &format!(
            "SELECT {} FROM {from} WHERE t.deleted_at IS NULL{w}{keyset} ORDER BY {order} LIMIT {}",
            cols::<T>(),
            limit + 1
        ),
        &p,
    )?;
    let more = rows.len() > limit;
    let mut items = Vec::with_capacity(limit);
    let mut last = None;
    for r in rows.iter().take(limit) {
        let x = T::from_db(r)?;
        last = Some(Cursor {
            value: match q.sort {
                Some(f) => r.value(f.column)?.clone(),
                None => Value::Null,
            },
            id: x.id().to_string(),
        });
        items.push(x);
    }
    Ok(ListPage {
        items,
        next: if more { last.map(|c| c.encode()) } else { None },
        total: total.min(COUNT_CAP),
        total_exact: total <= COUNT_CAP,
    })
}

fn not_found<T: ActivityRecord>(id: &str) -> StoreError {
    StoreError::NotFound {
        what: T::register().key,
        id: id.to_string(),
    }
}

/// One live record in the scope, or not found under the register's own name.
fn live<T: ActivityRecord>(conn: &mut Conn, scope: &Scope, id: &str) -> Result<T> {
    activity::get::<T>(conn, scope, id).map_err(|e| match e {
        StoreError::NotFound { .. } => not_found::<T>(id),
        e => e,
    })
}

/// One live record in the scope (outside it: not found). A register with
/// personal fields audits the read.
pub fn get<T: ActivityRecord>(conn: &mut Conn, scope: &Scope, id: &str) -> Result<T> {
    let x = live::<T>(conn, scope, id)?;
    if T::register().has_personal() && scope.role().is_some() {
        audit::append(
            conn,
            scope,
            audit::Event {
                action: "read",
                entity: T::table(),
                entity_id: Some(id),
                before: None,
                after: None,
            },
        )?;
    }
    Ok(x)
}

/// Every failing field of a record about to be written: the declaration's
/// checks, the record's rules, and its references, which must be live and
/// inside the caller's scope (a reference outside it reads as "not found in
/// your area", the same as a missing one).
fn check<T: ActivityRecord>(
    conn: &mut Conn,
    ck: &Checker<'_>,
    scope: &Scope,
    x: &T,
    today: NaiveDate,
) -> Result<()> {
    let mut errs = x.validate(ck, today);
    let reg = T::register();
    // The references' rules see only what the caller may see: a record outside
    // the scope reads exactly like one that does not exist.
    let mut refs = KnownRefs::default().with_class_ages(ck.class_limits);
    for (f, c) in reg.fields.iter().zip(x.to_cells()) {
        if let (FieldType::Ref(target), Cell::Text(id)) = (&f.ty, c) {
            know_ref(conn, scope, target, &id, &mut refs)?;
        }
    }
    errs.extend(x.references(&refs));
    if reg.scope == ScopeRule::City && !scope.is_city_wide() {
        return Err(StoreError::Forbidden(format!(
            "{} are city-wide: only city-level accounts change them",
            reg.en
        )));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errs))
    }
}

/// [`check`] for a record a workflow is about to write (an offer checks the
/// enrolment it would make): the same refusals, naming the same rules.
pub(crate) fn check_record<T: ActivityRecord>(
    conn: &mut Conn,
    ck: &Checker<'_>,
    scope: &Scope,
    x: &T,
    today: NaiveDate,
) -> Result<()> {
    check(conn, ck, scope, x, today)
}

/// Adds the record `id` of register `target` to `refs` when it is live and in
/// the scope.
fn know_ref(
    conn: &mut Conn,
    scope: &Scope,
    target: &str,
    id: &str,
    refs: &mut KnownRefs,
) -> Result<()> {
    let mut p = vec![Value::from(id)];
    let mut w = String::new();
    match target {
        "facilities" => {
            scope.push_sql(&mut w, &mut p, "area_path", Some("id"));
            let sql = format!("SELECT kind FROM facility WHERE id = $1 AND deleted_at IS NULL{w}");
            if let Some(r) = conn.query_opt(&sql, &p)? {
                refs.facilities.insert(id.to_string(), r.parse("kind")?);
            }
        }
        "people" | "elderly" | "infants" => {
            scope.push_sql(&mut w, &mut p, "area_path", None);
            let sql = format!(
                "SELECT role, birth_date FROM person WHERE id = $1 AND deleted_at IS NULL{w}"
            );
            if let Some(r) = conn.query_opt(&sql, &p)? {
                refs.people.insert(id.to_string(), r.parse("role")?);
                refs.birth_dates
                    .insert(id.to_string(), r.get::<NaiveDate>("birth_date")?);
            }
        }
        "classes" => {
            scope.push_sql(&mut w, &mut p, "f.area_path", Some("f.id"));
            let sql = format!(
                "SELECT c.facility_id AS facility_id, c.class_type AS class_type FROM childcare_class c \
                 JOIN facility f ON f.id = c.facility_id \
                 WHERE c.id = $1 AND c.deleted_at IS NULL AND f.deleted_at IS NULL{w}"
            );
            if let Some(r) = conn.query_opt(&sql, &p)? {
                refs.classes.insert(id.to_string(), r.get("facility_id")?);
                refs.class_types
                    .insert(id.to_string(), r.parse("class_type")?);
            }
        }
        other => {
            return Err(StoreError::Database(format!(
                "a reference to the unknown register {other:?}"
            )));
        }
    }
    Ok(())
}

/// Refuses an id held by any record (live or deleted). Inside the scope the
/// answer says so; outside it, only that the id is not available, so the
/// answer does not reveal a record the caller may not see.
fn check_id_free<T: ActivityRecord>(conn: &mut Conn, scope: &Scope, id: &str) -> Result<()> {
    let taken = conn
        .query_opt(
            &format!("SELECT id FROM {} WHERE id = $1", T::table()),
            &[id.into()],
        )?
        .is_some();
    if !taken {
        return Ok(());
    }
    let visible = match activity::get_any::<T>(conn, scope, id) {
        Ok(found) => found,
        Err(StoreError::NotFound { .. }) => false,
        Err(e) => return Err(e),
    };
    Err(StoreError::Conflict(if visible {
        format!("{} {id:?} already exists", T::register().key)
    } else {
        "this id is not available; leave it out to have one assigned".to_string()
    }))
}

/// A fresh id for a record created without one: the register's key and the
/// time in microseconds (unique enough; a clash is a conflict to retry).
pub fn new_id(reg: &Register) -> String {
    let now = chrono::Utc::now();
    format!(
        "{}-{}",
        reg.key.to_ascii_uppercase(),
        now.timestamp_micros()
    )
}

/// Creates a record (its references in the scope). One transaction with its
/// audit entry.
pub fn create<T: ActivityRecord>(
    conn: &mut Conn,
    ck: &Checker<'_>,
    scope: &Scope,
    x: &T,
    today: NaiveDate,
) -> Result<T> {
    scope.require(activity::write_perm(T::register()))?;
    conn.transaction(|c| {
        check(c, ck, scope, x, today)?;
        check_id_free::<T>(c, scope, x.id())?;
        activity::upsert(c, x, &now_rfc3339())?;
        let after = activity::get::<T>(c, scope, x.id())?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "create",
                entity: T::table(),
                entity_id: Some(x.id()),
                before: None,
                after: audit::snapshot(&after),
            },
        )?;
        Ok(after)
    })
}

/// Replaces a live record in the scope (old and new references in the scope).
/// One transaction with its audit entry.
pub fn update<T: ActivityRecord>(
    conn: &mut Conn,
    ck: &Checker<'_>,
    scope: &Scope,
    x: &T,
    today: NaiveDate,
) -> Result<T> {
    scope.require(activity::write_perm(T::register()))?;
    conn.transaction(|c| {
        let before = live::<T>(c, scope, x.id())?;
        check(c, ck, scope, x, today)?;
        activity::upsert(c, x, &now_rfc3339())?;
        let after = activity::get::<T>(c, scope, x.id())?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "update",
                entity: T::table(),
                entity_id: Some(x.id()),
                before: audit::snapshot(&before),
                after: audit::snapshot(&after),
            },
        )?;
        Ok(after)
    })
}

/// Marks a live record in the scope deleted. One transaction with its audit entry.
pub fn delete<T: ActivityRecord>(conn: &mut Conn, scope: &Scope, id: &str) -> Result<()> {
    scope.require(activity::write_perm(T::register()))?;
    if T::register().scope == ScopeRule::City && !scope.is_city_wide() {
        return Err(StoreError::Forbidden(format!(
            "{} are city-wide: only city-level accounts change them",
            T::register().en
        )));
    }
    conn.transaction(|c| {
        let before = live::<T>(c, scope, id)?;
        let now = now_rfc3339();
        c.execute(
            &format!(
                "UPDATE {} SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
                T::table()
            ),
            &[now.as_str().into(), id.into()],
        )?;
        crate::versions::bump(c, crate::versions::of_table(T::table()))?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "delete",
                entity: T::table(),
                entity_id: Some(id),
                before: audit::snapshot(&before),
                after: None,
            },
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        for v in [
            Value::Null,
            Value::Int(-3),
            Value::Text("2022-01-01".into()),
            Value::Bool(true),
        ] {
            let c = Cursor {
                value: v,
                id: "S-1".into(),
            };
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        assert_eq!(Cursor::decode("junk"), None);
        assert_eq!(Cursor::decode("x:1\u{1f}id"), None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(escape_like("a%b_c\\"), "a\\%b\\_c\\\\%");
    }
}
