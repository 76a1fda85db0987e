//! The people registers: elderly people (老年人) and infants (婴幼儿).
//! ID numbers leave this module only inside [`Person`]; callers mask them.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use laoxiao_model::columns::person_to_row;
use laoxiao_model::person::{
    AbilityLevel, LivingArrangement, PEOPLE, PersonStatus, SpecialDifficulty,
};
use laoxiao_model::register::FieldType;
use laoxiao_model::{Person, PersonRole};
use serde::Deserialize;

use crate::activity;

use crate::crypto::Keys;
use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::facilities::area_path;
use crate::people_index::Ask;
use crate::scope::{Perm, Scope};
use crate::tally::{self, Band, Where as TallyWhere};
use crate::{
    Page, Reference, Upserted, audit, like_contains, now_rfc3339, path_upper, row_hash, versions,
};

/// The person columns, from the declaration ([`PEOPLE`]) by name.
struct Layout {
    /// Read: each field's column, an ID number's ciphertext in its place.
    read: String,
    /// Written: each field's column (an ID number as its keyed hash), then
    /// `area_path`, `row_hash` and the ciphertexts.
    write: String,
    /// Values written: [`Layout::write`]'s columns.
    n_values: usize,
    /// Where the ID number's keyed hash is among the values.
    hmac_at: usize,
    /// Where the row hash is among the values.
    hash_at: usize,
}

fn layout() -> &'static Layout {
    static LAYOUT: LazyLock<Layout> = LazyLock::new(|| {
        let fields = PEOPLE.fields;
        let read: Vec<String> = fields.iter().map(activity::read_column).collect();
        let mut write: Vec<String> = fields.iter().map(activity::write_column).collect();
        write.push("area_path".into());
        write.push("row_hash".into());
        write.extend(activity::sealed_columns(&PEOPLE));
        Layout {
            read: read.join(", "),
            n_values: write.len(),
            write: write.join(", "),
            hmac_at: fields
                .iter()
                .position(|f| matches!(f.ty, FieldType::IdNumber))
                .unwrap_or(0),
            hash_at: fields.len() + 1,
        }
    });
    &LAYOUT
}

/// The person columns written, in the order of [`params`] (the bulk path
/// writes the same).
pub fn write_columns() -> &'static str {
    &layout().write
}

/// The number of values [`params`] returns.
pub fn n_values() -> usize {
    layout().n_values
}

/// Where [`params`] puts the value of a [`write_columns`] column.
pub fn value_index(column: &str) -> Option<usize> {
    layout().write.split(", ").position(|c| c == column)
}

/// Where [`params`] puts the ID number's keyed hash and the row hash.
pub fn value_positions() -> (usize, usize) {
    (layout().hmac_at, layout().hash_at)
}

fn from_row(keys: &Keys, r: &Row) -> Result<Person> {
    activity::from_sealed_row(keys, r)
}

/// The row hash of a person: over its file cells with the ID number replaced
/// by its keyed hash, so the hash reveals nothing a brute force could use.
pub fn person_row_hash(p: &Person, id_hmac: &str) -> String {
    let mut cells = person_to_row(p);
    for (f, c) in p.role.register().fields.iter().zip(cells.iter_mut()) {
        if matches!(f.ty, FieldType::IdNumber) {
            *c = id_hmac.to_string();
        }
    }
    row_hash(&cells)
}

/// Upsert parameters in [`write_columns`] order: the declared fields (the ID
/// number as its keyed hash), area_path, row_hash and the ciphertext.
pub fn params(keys: &Keys, p: &Person, area_path: &str) -> Result<Vec<Value>> {
    let (mut v, enc) = activity::sealed_values(keys, p)?;
    let hmac = match &v[layout().hmac_at] {
        Value::Text(h) => h.clone(),
        _ => String::new(),
    };
    v.push(area_path.into());
    v.push(person_row_hash(p, &hmac).into());
    v.extend(enc);
    Ok(v)
}

/// The upsert statement (update only when the content changed).
pub fn upsert_sql() -> String {
    let l = layout();
    let ph: Vec<String> = (1..=l.n_values).map(|i| format!("${i}")).collect();
    let sets: Vec<String> = l
        .write
        .split(", ")
        .skip(1)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO person ({}, created_at, updated_at) VALUES ({}, ${n}, ${n}) \
         ON CONFLICT (id) DO UPDATE SET {}, updated_at = excluded.updated_at, deleted_at = NULL \
         WHERE person.row_hash <> excluded.row_hash OR person.deleted_at IS NOT NULL",
        l.write,
        ph.join(", "),
        sets.join(", "),
        n = l.n_values + 1
    )
}

/// Inserts or updates one person (already validated). An ID number already held
/// by another record is a conflict. Not scoped: callers are the scoped functions
/// below and the import (city-wide).
pub fn upsert(conn: &mut Conn, reference: &Reference, p: &Person, now: &str) -> Result<Upserted> {
    let keys = reference.keys()?;
    let path = area_path(reference, &p.residence_area_code)?;
    let mut v = params(&keys, p, &path)?;
    if let Some(other) = conn.query_opt(
        "SELECT id FROM person WHERE id_number_hmac = $1 AND id <> $2",
        &[v[layout().hmac_at].clone(), p.id.as_str().into()],
    )? {
        return Err(StoreError::Conflict(format!(
            "the ID number is already registered as person {:?}",
            other.get::<String>("id")?
        )));
    }
    let existed = conn.query_opt(
        "SELECT row_hash, deleted_at FROM person WHERE id = $1",
        &[p.id.as_str().into()],
    )?;
    let hash = v[layout().hash_at].clone();
    v.push(now.into());
    conn.execute(&upsert_sql(), &v)?;
    stamp(conn, &p.id)?;
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

/// Numbers a write to a person with a new person version, in the writer's
/// transaction, so every server's people index fetches the row at its next
/// query (crate::versions).
fn stamp(conn: &mut Conn, id: &str) -> Result<()> {
    let seq = versions::bump(conn, versions::PERSON)?;
    conn.execute(
        "UPDATE person SET change_seq = $1 WHERE id = $2",
        &[Value::Int(seq), id.into()],
    )?;
    Ok(())
}

/// Hashes and encrypts ID numbers still in plaintext (rows from before migration 3).
pub fn encrypt_pending(conn: &mut Conn, reference: &Reference) -> Result<usize> {
    let keys = reference.keys()?;
    let mut n = 0;
    loop {
        let rows = conn.query(
            "SELECT id, id_number_hmac FROM person WHERE id_number_enc IS NULL ORDER BY id LIMIT 5000",
            &[],
        )?;
        if rows.is_empty() {
            return Ok(n);
        }
        conn.transaction(|c| {
            for r in &rows {
                // Still the plaintext before this runs (see migration 3).
                let plain: String = r.get("id_number_hmac")?;
                c.execute(
                    "UPDATE person SET id_number_hmac = $1, id_number_enc = $2 WHERE id = $3",
                    &[
                        keys.hmac(&plain).into(),
                        keys.encrypt(&plain)?.into(),
                        r.value("id")?.clone(),
                    ],
                )?;
            }
            Ok(())
        })?;
        n += rows.len();
    }
}

/// Re-encrypts every ID number not under the current key; returns how many.
pub fn reencrypt(conn: &mut Conn, reference: &Reference) -> Result<usize> {
    let keys = reference.keys()?;
    let prefix = format!("{}:", keys.current_id());
    let mut n = 0;
    let mut after = String::new();
    loop {
        let rows = conn.query(
            "SELECT id, id_number_enc FROM person WHERE id > $1 AND id_number_enc IS NOT NULL ORDER BY id LIMIT 5000",
            &[after.as_str().into()],
        )?;
        let Some(last) = rows.last() else {
            return Ok(n);
        };
        after = last.get("id")?;
        conn.transaction(|c| {
            for r in &rows {
                let enc: String = r.get("id_number_enc")?;
                if enc.starts_with(&prefix) {
                    continue;
                }
                let plain = keys.decrypt(&enc)?;
                c.execute(
                    "UPDATE person SET id_number_enc = $1 WHERE id = $2",
                    &[keys.encrypt(&plain)?.into(), r.value("id")?.clone()],
                )?;
                n += 1;
            }
            Ok(())
        })?;
    }
}

fn validate(reference: &Reference, p: &Person) -> Result<()> {
    let today = chrono::Local::now().date_naive();
    let errs = p.validate(&reference.checker(), today);
    if errs.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errs))
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "person",
        id: id.to_string(),
    }
}

/// The residence must lie in the scope (else the record "does not exist" for it).
fn check_in_scope(reference: &Reference, scope: &Scope, p: &Person) -> Result<()> {
    let path = area_path(reference, &p.residence_area_code)?;
    if scope.contains_path(&path) {
        Ok(())
    } else {
        Err(StoreError::Invalid(vec![laoxiao_model::FieldError::new(
            "residence_area_code",
            "the area lies outside your own",
        )]))
    }
}

/// A fresh register id for a person created through the API or console
/// (random, so it says nothing about the register's size or other records).
pub fn new_id() -> String {
    format!("P-{}", crate::crypto::random_hex(8))
}

/// Refuses an id held by any row, live or deleted: creating never revives a
/// record (only a city-wide import does). A row outside the scope is a
/// conflict that names nothing.
fn check_id_free(conn: &mut Conn, scope: &Scope, id: &str) -> Result<()> {
    let Some(r) = conn.query_opt(
        "SELECT area_path, deleted_at FROM person WHERE id = $1",
        &[id.into()],
    )?
    else {
        return Ok(());
    };
    Err(StoreError::Conflict(
        if scope.can(Perm::ReadPeople) && scope.contains_path(&r.get::<String>("area_path")?) {
            match r.get::<Option<String>>("deleted_at")? {
                None => format!("person {id:?} already exists"),
                Some(_) => format!("person {id:?} exists (deleted); import it to restore it"),
            }
        } else {
            "this id is not available; leave it out to have one assigned".to_string()
        },
    ))
}

/// Refuses an ID number another record holds (live or deleted). Inside the
/// scope the conflict names that record; outside it says only that the person
/// is registered elsewhere ([`StoreError::RegisteredElsewhere`]), so that the
/// caller can request a transfer — no id, area or name.
fn check_id_number_free(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    p: &Person,
) -> Result<()> {
    let hmac = reference.keys()?.hmac(&p.id_number);
    let Some(other) = conn.query_opt(
        "SELECT id, area_path, deleted_at FROM person WHERE id_number_hmac = $1 AND id <> $2",
        &[hmac.into(), p.id.as_str().into()],
    )?
    else {
        return Ok(());
    };
    if scope.contains_path(&other.get::<String>("area_path")?) {
        Err(StoreError::Conflict(format!(
            "the ID number is already registered as person {:?}{}",
            other.get::<String>("id")?,
            if other.get::<Option<String>>("deleted_at")?.is_some() {
                " (deleted)"
            } else {
                ""
            }
        )))
    } else {
        Err(StoreError::RegisteredElsewhere)
    }
}

/// Creates a person in the scope; an id held by any record (live or deleted)
/// or an ID number registered already is a conflict. One transaction with its
/// audit entry (ID number masked in the snapshot).
pub fn create(conn: &mut Conn, reference: &Reference, scope: &Scope, p: &Person) -> Result<Person> {
    conn.transaction(|c| create_in(c, reference, scope, p))
}

/// [`create`] for a caller who is shown the record's full ID number: the
/// `read_full_id` entry ([`audit_full_read`]) is written in the same
/// transaction as the record and its audit entry.
pub fn create_revealing(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    p: &Person,
) -> Result<Person> {
    conn.transaction(|c| {
        let after = create_in(c, reference, scope, p)?;
        audit_full_read(c, scope, &[after.id.as_str()])?;
        Ok(after)
    })
}

/// Records that the full ID numbers of these people were shown to the caller
/// (one `read_full_id` entry naming them; none for no one).
pub fn audit_full_read(conn: &mut Conn, scope: &Scope, ids: &[&str]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "read_full_id",
            entity: "person",
            entity_id: Some(&ids.join(",")),
            ..Default::default()
        },
    )?;
    Ok(())
}

fn create_in(conn: &mut Conn, reference: &Reference, scope: &Scope, p: &Person) -> Result<Person> {
    scope.require(Perm::WritePeople)?;
    validate(reference, p)?;
    check_in_scope(reference, scope, p)?;
    check_id_free(conn, scope, &p.id)?;
    check_id_number_free(conn, reference, scope, p)?;
    upsert(conn, reference, p, &now_rfc3339())?;
    let after = get(conn, reference, scope, &p.id)?;
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "create",
            entity: "person",
            entity_id: Some(&p.id),
            before: None,
            after: audit::snapshot(&after),
        },
    )?;
    Ok(after)
}

/// Replaces a live person's fields; both the old and the new residence must lie
/// in the scope. One transaction with its audit entry.
pub fn update(conn: &mut Conn, reference: &Reference, scope: &Scope, p: &Person) -> Result<Person> {
    conn.transaction(|c| update_in(c, reference, scope, p))
}

/// [`update`] for a caller who is shown the record's full ID number, with
/// the `read_full_id` entry in the same transaction (see [`create_revealing`]).
pub fn update_revealing(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    p: &Person,
) -> Result<Person> {
    conn.transaction(|c| {
        let after = update_in(c, reference, scope, p)?;
        audit_full_read(c, scope, &[after.id.as_str()])?;
        Ok(after)
    })
}

fn update_in(conn: &mut Conn, reference: &Reference, scope: &Scope, p: &Person) -> Result<Person> {
    scope.require(Perm::WritePeople)?;
    let before = get(conn, reference, scope, &p.id)?;
    validate(reference, p)?;
    check_in_scope(reference, scope, p)?;
    check_id_number_free(conn, reference, scope, p)?;
    upsert(conn, reference, p, &now_rfc3339())?;
    let after = get(conn, reference, scope, &p.id)?;
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "update",
            entity: "person",
            entity_id: Some(&p.id),
            before: audit::snapshot(&before),
            after: audit::snapshot(&after),
        },
    )?;
    Ok(after)
}

/// Marks a person in the scope deleted. One transaction with its audit entry.
pub fn soft_delete(conn: &mut Conn, reference: &Reference, scope: &Scope, id: &str) -> Result<()> {
    conn.transaction(|c| soft_delete_in(c, reference, scope, id))
}

fn soft_delete_in(conn: &mut Conn, reference: &Reference, scope: &Scope, id: &str) -> Result<()> {
    scope.require(Perm::WritePeople)?;
    let before = get(conn, reference, scope, id)?;
    let n = conn.execute(
        "UPDATE person SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
        &[now_rfc3339().into(), id.into()],
    )?;
    if n == 0 {
        return Err(not_found(id));
    }
    stamp(conn, id)?;
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "delete",
            entity: "person",
            entity_id: Some(id),
            before: audit::snapshot(&before),
            after: None,
        },
    )?;
    Ok(())
}

/// One live person in the scope (outside it: not found).
pub fn get(conn: &mut Conn, reference: &Reference, scope: &Scope, id: &str) -> Result<Person> {
    scope.require(Perm::ReadPeople)?;
    let keys = reference.keys()?;
    let mut p = vec![Value::from(id)];
    let mut w = String::from("id = $1 AND deleted_at IS NULL");
    scope.push_sql(&mut w, &mut p, "area_path", None);
    let row = conn
        .query_opt(
            &format!("SELECT {} FROM person WHERE {w}", layout().read),
            &p,
        )?
        .ok_or_else(|| not_found(id))?;
    from_row(&keys, &row)
}

/// Filters for listing people.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PersonQuery {
    /// Area code: residence must lie in this area's subtree.
    pub area: Option<String>,
    pub role: Option<PersonRole>,
    /// Special-difficulty category the person has.
    pub category: Option<SpecialDifficulty>,
    pub ability_level: Option<AbilityLevel>,
    pub living_arrangement: Option<LivingArrangement>,
    pub dementia: Option<bool>,
    pub status: Option<PersonStatus>,
    /// Age band in whole years on `as_of`, inclusive.
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
    /// Reference date for ages (default: today).
    pub as_of: Option<NaiveDate>,
    /// Text in the name, or an exact ID number.
    pub q: Option<String>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

pub(crate) fn years_before(d: NaiveDate, years: u32) -> NaiveDate {
    let y = d.year() - years as i32;
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), 28))
        .unwrap_or(d)
}

fn where_clause(
    reference: &Reference,
    scope: &Scope,
    q: &PersonQuery,
    p: &mut Vec<Value>,
) -> Result<String> {
    let mut w = String::from("deleted_at IS NULL");
    scope.push_sql(&mut w, p, "area_path", None);
    let add = |w: &mut String, cond: &str, v: Value, p: &mut Vec<Value>| {
        p.push(v);
        w.push_str(&format!(
            " AND {}",
            cond.replace("$?", &format!("${}", p.len()))
        ));
    };
    if let Some(role) = q.role {
        add(&mut w, "role = $?", role.code().into(), p);
    }
    if let Some(area) = &q.area {
        let a = asked_area(reference, area)?;
        add(&mut w, "area_path >= $?", a.path.clone().into(), p);
        add(&mut w, "area_path < $?", path_upper(&a.path).into(), p);
    }
    if let Some(c) = q.category {
        add(
            &mut w,
            "special_difficulty LIKE $?",
            format!("%;{};%", c.code()).into(),
            p,
        );
    }
    if let Some(a) = q.ability_level {
        add(
            &mut w,
            "ability_level = $?",
            i64::from(a.number()).into(),
            p,
        );
    }
    if let Some(l) = q.living_arrangement {
        add(&mut w, "living_arrangement = $?", l.code().into(), p);
    }
    if let Some(d) = q.dementia {
        add(&mut w, "dementia = $?", d.into(), p);
    }
    if let Some(s) = q.status {
        add(&mut w, "status = $?", s.code().into(), p);
    }
    let today = q.as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
    if let Some(min) = q.min_age {
        // Aged at least `min`: born on or before today minus `min` years.
        add(
            &mut w,
            "birth_date <= $?",
            years_before(today, min).into(),
            p,
        );
    }
    if let Some(max) = q.max_age {
        // Aged at most `max`: born after today minus `max + 1` years.
        add(
            &mut w,
            "birth_date > $?",
            years_before(today, max + 1).into(),
            p,
        );
    }
    if let Some(text) = id_number_lookup(q) {
        // Exact lookup through the keyed hash: the plaintext is never compared.
        add(
            &mut w,
            "id_number_hmac = $?",
            reference.keys()?.hmac(text).into(),
            p,
        );
    } else if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        // Han characters have no case: no lower() on a million names for them.
        let name = if text.bytes().any(|b| b.is_ascii_alphabetic()) {
            "lower(name)"
        } else {
            "name"
        };
        add(
            &mut w,
            &format!("({name} LIKE $? ESCAPE '\\')"),
            like_contains(text).into(),
            p,
        );
    }
    Ok(w)
}

/// A page of live people in the scope, ordered by area, register and id (the
/// order of `person_list_idx`, so a page at city scale reads one index range).
/// The cursor is the last id of the previous page.
pub fn list(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    q: &PersonQuery,
) -> Result<Page<Person>> {
    scope.require(Perm::ReadPeople)?;
    let keys = reference.keys()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 1000) as usize;
    let cursor = match &q.after {
        Some(after) => Some(cursor_place(conn, scope, after)?),
        None => None,
    };
    if let Some(page) = list_by_index(conn, reference, scope, q, cursor.as_ref(), limit)? {
        return Ok(page);
    }
    let mut p = Vec::new();
    let mut w = where_clause(reference, scope, q, &mut p)?;
    if let Some((path, role)) = cursor {
        let after = q.after.as_deref().unwrap_or_default();
        let n = p.len();
        // After (area path, register, id) of the cursor; the bound on the path
        // comes first: of several lower bounds on one column SQLite seeks by
        // the first.
        w = format!(
            "area_path >= ${a} AND {w} AND (area_path > ${a} OR role > ${r} \
             OR (role = ${r} AND id > ${i}))",
            a = n + 1,
            r = n + 2,
            i = n + 3
        );
        p.extend([path.into(), role.code().into(), after.into()]);
    }
    let sql = format!(
        "SELECT {} FROM person{} WHERE {w} ORDER BY area_path, role, id LIMIT {}",
        layout().read,
        list_hint(conn, q),
        limit + 1
    );
    let mut items: Vec<Person> = conn
        .query(&sql, &p)?
        .iter()
        .map(|r| from_row(&keys, r))
        .collect::<Result<_>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|x| x.id.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Where a list cursor (the last id of the previous page) stands: its area
/// path and register. Soft-deleted rows stay, so a cursor whose person was
/// deleted since still has its place. Looked up within the scope: a cursor
/// must not reveal that an id exists elsewhere.
fn cursor_place(conn: &mut Conn, scope: &Scope, after: &str) -> Result<(String, PersonRole)> {
    let mut cp: Vec<Value> = vec![after.into()];
    let mut cw = String::from("id = $1");
    scope.push_sql(&mut cw, &mut cp, "area_path", None);
    let at = conn.query(
        &format!("SELECT role, area_path FROM person WHERE {cw}"),
        &cp,
    )?;
    // Not found, like any reference to a record that is not there (or not
    // in the scope): the cursor is well-formed, its record is missing.
    let Some(at) = at.first() else {
        return Err(StoreError::NotFound {
            what: "cursor (pass the next_cursor of the previous page)",
            id: after.to_string(),
        });
    };
    Ok((at.get("area_path")?, at.parse("role")?))
}

/// The area a query asks for: not found when the code is unknown.
fn asked_area<'a>(reference: &'a Reference, code: &str) -> Result<&'a laoxiao_model::Area> {
    reference
        .areas
        .get(code)
        .ok_or_else(|| StoreError::NotFound {
            what: "area",
            id: code.to_string(),
        })
}

/// The subtrees a query's matches lie in: the scope's and the asked area's.
fn within<'a>(reference: &'a Reference, scope: &'a Scope, q: &PersonQuery) -> Result<Vec<&'a str>> {
    let mut v: Vec<&str> = scope.area_path().into_iter().collect();
    if let Some(area) = &q.area {
        v.push(asked_area(reference, area)?.path.as_str());
    }
    Ok(v)
}

/// A page from the people index (`None`: not built yet, or a lookup it
/// cannot answer): the ids in list order from memory, the records from the
/// database by id.
fn list_by_index(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    q: &PersonQuery,
    cursor: Option<&(String, PersonRole)>,
    limit: usize,
) -> Result<Option<Page<Person>>> {
    if scope.facility().is_some() {
        return Ok(None);
    }
    let ask = Ask {
        within: within(reference, scope, q)?,
        after: cursor
            .map(|(path, role)| (path.as_str(), *role, q.after.as_deref().unwrap_or_default())),
        query: q,
        today: q.as_of.unwrap_or_else(|| chrono::Local::now().date_naive()),
    };
    let Some(mut ids) = reference.people_index.page(conn, &ask, limit)? else {
        return Ok(None);
    };
    let more = ids.len() > limit;
    ids.truncate(limit);
    let keys = reference.keys()?;
    let mut by_id: std::collections::HashMap<String, Person> = std::collections::HashMap::new();
    if !ids.is_empty() {
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let params: Vec<Value> = ids.iter().map(|i| i.as_str().into()).collect();
        for r in conn.query(
            &format!(
                "SELECT {} FROM person WHERE id IN ({}) AND deleted_at IS NULL",
                layout().read,
                marks.join(", ")
            ),
            &params,
        )? {
            let p = from_row(&keys, &r)?;
            by_id.insert(p.id.clone(), p);
        }
    }
    // A person deleted between the index's read and this one is left out.
    let items: Vec<Person> = ids.iter().filter_map(|id| by_id.remove(id)).collect();
    let next_cursor = if more { ids.last().cloned() } else { None };
    Ok(Some(Page { items, next_cursor }))
}

/// How many live people in the scope match (an aggregate: analysts may ask).
pub fn count(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    q: &PersonQuery,
) -> Result<i64> {
    if !scope.can(Perm::ReadPeople) {
        scope.require(Perm::Aggregates)?;
        if q.q.is_some() {
            // A name or ID-number search is a lookup of a person, not an aggregate.
            return Err(StoreError::Forbidden("aggregates only".into()));
        }
    }
    if scope.facility().is_none() {
        let ask = Ask {
            within: within(reference, scope, q)?,
            after: None,
            query: q,
            today: q.as_of.unwrap_or_else(|| chrono::Local::now().date_naive()),
        };
        if let Some(n) = reference.people_index.count(conn, &ask)? {
            return Ok(n);
        }
    }
    if q.category.is_none()
        && q.ability_level.is_none()
        && q.living_arrangement.is_none()
        && q.dementia.is_none()
        && q.q.is_none()
    {
        return count_by_tally(conn, reference, scope, q);
    }
    let mut p = Vec::new();
    let w = where_clause(reference, scope, q, &mut p)?;
    conn.query_i64(
        &format!(
            "SELECT COUNT(*) FROM person{} WHERE {w}",
            list_hint(conn, q)
        ),
        &p,
    )
}

/// On SQLite, which plans without statistics, lists and counts walk the
/// covering list index, unless the query looks up one ID number: with an age
/// band it would otherwise pick the birth-date index and sort a whole cohort.
fn list_hint(conn: &Conn, q: &PersonQuery) -> &'static str {
    match conn.backend() {
        crate::db::Backend::Sqlite if id_number_lookup(q).is_none() => {
            " INDEXED BY person_list_idx"
        }
        _ => "",
    }
}

/// The query's text when it is a whole citizen ID number (an exact lookup).
fn id_number_lookup(q: &PersonQuery) -> Option<&str> {
    q.q.as_deref()
        .map(str::trim)
        .filter(|t| laoxiao_model::idcard::parse(t).is_ok())
}

/// A count by register, area, status and age only, from `person_tally`.
fn count_by_tally(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    q: &PersonQuery,
) -> Result<i64> {
    let path = match &q.area {
        Some(code) => reference
            .areas
            .get(code)
            .ok_or_else(|| StoreError::NotFound {
                what: "area",
                id: code.clone(),
            })?
            .path
            .clone(),
        // Every path starts with '/', and the scope narrows it.
        None => "/".to_string(),
    };
    let today = q.as_of.unwrap_or_else(|| chrono::Local::now().date_naive());
    let roles = match q.role {
        Some(r) => vec![r],
        None => vec![PersonRole::Elderly, PersonRole::Infant],
    };
    let bands: Vec<Band> = roles
        .into_iter()
        .map(|role| Band {
            role,
            after: q.max_age.map(|m| years_before(today, m + 1)),
            until: q.min_age.map(|m| years_before(today, m)),
        })
        .collect();
    let at = TallyWhere {
        path: &path,
        child: None,
        status: q.status,
    };
    Ok(tally::count(conn, scope, &at, &bands)?
        .iter()
        .flat_map(|m| m.values())
        .sum())
}

/// Every live person of a role in the scope, in id order, streamed to `f` in
/// pages (for export).
pub fn for_each(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    role: PersonRole,
    mut f: impl FnMut(&Person) -> Result<()>,
) -> Result<usize> {
    scope.require(Perm::ReadPeople)?;
    let keys = reference.keys()?;
    let mut after = String::new();
    let mut n = 0;
    loop {
        let mut params: Vec<Value> = vec![role.code().into(), after.as_str().into()];
        let mut w = String::from("role = $1 AND deleted_at IS NULL AND id > $2");
        scope.push_sql(&mut w, &mut params, "area_path", None);
        let rows = conn.query(
            &format!(
                "SELECT {} FROM person WHERE {w} ORDER BY id LIMIT 5000",
                layout().read
            ),
            &params,
        )?;
        if rows.is_empty() {
            return Ok(n);
        }
        for r in &rows {
            let p = from_row(&keys, r)?;
            f(&p)?;
            n += 1;
            after = p.id.clone();
        }
    }
}
