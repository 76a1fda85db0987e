//! The people registers: elderly people (老年人) and infants (婴幼儿).
//! ID numbers leave this module only inside [`Person`]; callers mask them.

use chrono::{Datelike, NaiveDate};
use laoxiao_model::columns::person_to_row;
use laoxiao_model::person::{AbilityLevel, LivingArrangement, PersonStatus, SpecialDifficulty};
use laoxiao_model::{Person, PersonRole};
use serde::Deserialize;

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::facilities::area_path;
use crate::{Page, Reference, Upserted, like_contains, now_rfc3339, path_upper, row_hash};

const COLS: &str = "id, role, id_number, name, sex, birth_date, hukou_area_code, residence_area_code, address, \
    lng, lat, living_arrangement, special_difficulty, ability_level, dementia, birth_order, guardian_name, \
    guardian_phone, status, death_date";
const N_COLS: usize = 20;

/// `;a;b;` so that `LIKE '%;a;%'` finds one category.
fn join_categories(v: &[SpecialDifficulty]) -> Option<String> {
    if v.is_empty() {
        None
    } else {
        Some(format!(
            ";{};",
            v.iter().map(|c| c.code()).collect::<Vec<_>>().join(";")
        ))
    }
}

fn from_row(r: &Row) -> Result<Person> {
    let bad = StoreError::Database;
    let date = |i: usize| {
        r.opt_text(i)
            .and_then(|v| laoxiao_model::columns::parse_date(&v))
    };
    Ok(Person {
        id: r.text(0),
        role: r.text(1).parse().map_err(bad)?,
        id_number: r.text(2),
        name: r.text(3),
        sex: r.text(4).parse().map_err(bad)?,
        birth_date: date(5).unwrap_or(NaiveDate::MIN),
        hukou_area_code: r.opt_text(6),
        residence_area_code: r.text(7),
        address: r.opt_text(8),
        lng: r.opt_real(9),
        lat: r.opt_real(10),
        living_arrangement: r
            .opt_text(11)
            .map(|s| s.parse::<LivingArrangement>())
            .transpose()
            .map_err(bad)?,
        special_difficulty: r
            .opt_text(12)
            .unwrap_or_default()
            .split(';')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<SpecialDifficulty>())
            .collect::<std::result::Result<_, _>>()
            .map_err(bad)?,
        ability_level: r
            .opt_int(13)
            .map(|n| n.to_string().parse::<AbilityLevel>())
            .transpose()
            .map_err(bad)?,
        dementia: r.bool(14),
        birth_order: r.opt_int(15),
        guardian_name: r.opt_text(16),
        guardian_phone: r.opt_text(17),
        status: r.text(18).parse::<PersonStatus>().map_err(bad)?,
        death_date: date(19),
    })
}

/// Upsert parameters in [`COLS`] order, then area_path and row_hash.
pub fn params(p: &Person, area_path: &str) -> Vec<Value> {
    vec![
        p.id.as_str().into(),
        p.role.code().into(),
        p.id_number.as_str().into(),
        p.name.as_str().into(),
        p.sex.code().into(),
        p.birth_date.into(),
        p.hukou_area_code.clone().into(),
        p.residence_area_code.as_str().into(),
        p.address.clone().into(),
        p.lng.into(),
        p.lat.into(),
        p.living_arrangement.map(|x| x.code()).into(),
        join_categories(&p.special_difficulty).into(),
        p.ability_level.map(|a| i64::from(a.number())).into(),
        p.dementia.into(),
        p.birth_order.into(),
        p.guardian_name.clone().into(),
        p.guardian_phone.clone().into(),
        p.status.code().into(),
        p.death_date.into(),
        area_path.into(),
        row_hash(&person_to_row(p)).into(),
    ]
}

/// The upsert statement (update only when the content changed).
pub fn upsert_sql() -> String {
    let ph: Vec<String> = (1..=N_COLS + 2).map(|i| format!("${i}")).collect();
    let sets: Vec<String> = COLS
        .split(", ")
        .skip(1)
        .chain(["area_path", "row_hash"])
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO person ({COLS}, area_path, row_hash, created_at, updated_at) VALUES ({}, ${n}, ${n}) \
         ON CONFLICT (id) DO UPDATE SET {}, updated_at = excluded.updated_at, deleted_at = NULL \
         WHERE person.row_hash <> excluded.row_hash OR person.deleted_at IS NOT NULL",
        ph.join(", "),
        sets.join(", "),
        n = N_COLS + 3
    )
}

/// Inserts or updates one person (already validated). An ID number already held
/// by another record is a conflict.
pub fn upsert(conn: &mut Conn, reference: &Reference, p: &Person, now: &str) -> Result<Upserted> {
    let path = area_path(reference, &p.residence_area_code)?;
    if let Some(other) = conn.query_opt(
        "SELECT id FROM person WHERE id_number = $1 AND id <> $2",
        &[p.id_number.as_str().into(), p.id.as_str().into()],
    )? {
        return Err(StoreError::Conflict(format!(
            "the ID number is already registered as person {:?}",
            other.text(0)
        )));
    }
    let existed = conn.query_opt(
        "SELECT row_hash, deleted_at FROM person WHERE id = $1",
        &[p.id.as_str().into()],
    )?;
    let mut v = params(p, &path);
    let hash = v[N_COLS + 1].clone();
    v.push(now.into());
    conn.execute(&upsert_sql(), &v)?;
    Ok(match existed {
        None => Upserted::Inserted,
        Some(r) if Value::Text(r.text(0)) == hash && r.opt_text(1).is_none() => Upserted::Unchanged,
        Some(_) => Upserted::Updated,
    })
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

/// Creates a person; a live record with the same id is a conflict.
pub fn create(conn: &mut Conn, reference: &Reference, p: &Person) -> Result<Person> {
    validate(reference, p)?;
    let live = conn.query_i64(
        "SELECT COUNT(*) FROM person WHERE id = $1 AND deleted_at IS NULL",
        &[p.id.as_str().into()],
    )?;
    if live > 0 {
        return Err(StoreError::Conflict(format!(
            "person {:?} already exists",
            p.id
        )));
    }
    upsert(conn, reference, p, &now_rfc3339())?;
    get(conn, &p.id)
}

/// Replaces a live person's fields.
pub fn update(conn: &mut Conn, reference: &Reference, p: &Person) -> Result<Person> {
    get(conn, &p.id)?;
    validate(reference, p)?;
    upsert(conn, reference, p, &now_rfc3339())?;
    get(conn, &p.id)
}

/// Marks a person deleted.
pub fn soft_delete(conn: &mut Conn, id: &str) -> Result<()> {
    let n = conn.execute(
        "UPDATE person SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
        &[now_rfc3339().into(), id.into()],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: "person",
            id: id.to_string(),
        });
    }
    Ok(())
}

/// One live person.
pub fn get(conn: &mut Conn, id: &str) -> Result<Person> {
    let row = conn
        .query_opt(
            &format!("SELECT {COLS} FROM person WHERE id = $1 AND deleted_at IS NULL"),
            &[id.into()],
        )?
        .ok_or_else(|| StoreError::NotFound {
            what: "person",
            id: id.to_string(),
        })?;
    from_row(&row)
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

fn years_before(d: NaiveDate, years: u32) -> NaiveDate {
    let y = d.year() - years as i32;
    NaiveDate::from_ymd_opt(y, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), 28))
        .unwrap_or(d)
}

fn where_clause(reference: &Reference, q: &PersonQuery, p: &mut Vec<Value>) -> Result<String> {
    let mut w = String::from("deleted_at IS NULL");
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
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if laoxiao_model::idcard::parse(text).is_ok() {
            add(
                &mut w,
                "id_number = $?",
                text.to_ascii_uppercase().into(),
                p,
            );
        } else {
            add(
                &mut w,
                "(lower(name) LIKE $? ESCAPE '\\')",
                like_contains(text).into(),
                p,
            );
        }
    }
    Ok(w)
}

/// A page of live people in id order.
pub fn list(conn: &mut Conn, reference: &Reference, q: &PersonQuery) -> Result<Page<Person>> {
    let mut p = Vec::new();
    let mut w = where_clause(reference, q, &mut p)?;
    if let Some(after) = &q.after {
        p.push(after.as_str().into());
        w.push_str(&format!(" AND id > ${}", p.len()));
    }
    let limit = q.limit.unwrap_or(50).clamp(1, 1000) as usize;
    let sql = format!(
        "SELECT {COLS} FROM person WHERE {w} ORDER BY id LIMIT {}",
        limit + 1
    );
    let mut items: Vec<Person> = conn
        .query(&sql, &p)?
        .iter()
        .map(from_row)
        .collect::<Result<_>>()?;
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|x| x.id.clone())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// How many live people match.
pub fn count(conn: &mut Conn, reference: &Reference, q: &PersonQuery) -> Result<i64> {
    let mut p = Vec::new();
    let w = where_clause(reference, q, &mut p)?;
    conn.query_i64(&format!("SELECT COUNT(*) FROM person WHERE {w}"), &p)
}

/// Every live person of a role in id order, streamed to `f` in pages (for export).
pub fn for_each(
    conn: &mut Conn,
    role: PersonRole,
    mut f: impl FnMut(&Person) -> Result<()>,
) -> Result<usize> {
    let mut after = String::new();
    let mut n = 0;
    loop {
        let rows = conn.query(
            &format!("SELECT {COLS} FROM person WHERE role = $1 AND deleted_at IS NULL AND id > $2 ORDER BY id LIMIT 5000"),
            &[role.code().into(), after.as_str().into()],
        )?;
        if rows.is_empty() {
            return Ok(n);
        }
        for r in &rows {
            let p = from_row(r)?;
            f(&p)?;
            n += 1;
            after = p.id.clone();
        }
    }
}
