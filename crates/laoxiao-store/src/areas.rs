//! The area register (行政区划): read-only reference data loaded at init.

use laoxiao_model::{Area, AreaLevel, AreaTree};

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};

const COLS: &str = "code, name, level, parent_code, path, urban_rural_code, lng, lat";

/// Inserts the reference areas when the table is empty; returns how many were inserted.
pub fn load_reference(conn: &mut Conn, tree: &AreaTree) -> Result<usize> {
    if conn.query_i64("SELECT COUNT(*) FROM area", &[])? > 0 {
        return Ok(0);
    }
    conn.transaction(|c| {
        for a in tree.all() {
            c.execute(
                &format!("INSERT INTO area ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
                &[
                    a.code.as_str().into(),
                    a.name.as_str().into(),
                    a.level.code().into(),
                    a.parent_code.clone().into(),
                    a.path.as_str().into(),
                    a.urban_rural_code.map(i64::from).into(),
                    a.centre.map(|c| c.0).into(),
                    a.centre.map(|c| c.1).into(),
                ],
            )?;
        }
        Ok(tree.len())
    })
}

fn from_row(r: &Row) -> Result<Area> {
    let level: String = r.get("level")?;
    let level = AreaLevel::parse(&level)
        .ok_or_else(|| StoreError::Database(format!("column level: bad area level {level:?}")))?;
    let urban_rural_code = r
        .get::<Option<i64>>("urban_rural_code")?
        .map(|n| {
            u16::try_from(n).map_err(|_| {
                StoreError::Database(format!("column urban_rural_code: {n} is out of range"))
            })
        })
        .transpose()?;
    Ok(Area {
        code: r.get("code")?,
        name: r.get("name")?,
        level,
        parent_code: r.get("parent_code")?,
        path: r.get("path")?,
        urban_rural_code,
        centre: match (r.get("lng")?, r.get("lat")?) {
            (Some(x), Some(y)) => Some((x, y)),
            (None, None) => None,
            _ => {
                return Err(StoreError::Database(
                    "columns lng, lat: one is NULL and the other is not".into(),
                ));
            }
        },
    })
}

/// One area by code.
pub fn get(conn: &mut Conn, code: &str) -> Result<Area> {
    let row = conn
        .query_opt(
            &format!("SELECT {COLS} FROM area WHERE code = $1"),
            &[code.into()],
        )?
        .ok_or_else(|| StoreError::NotFound {
            what: "area",
            id: code.to_string(),
        })?;
    from_row(&row)
}

/// How many areas lie directly below an area.
pub fn child_count(conn: &mut Conn, code: &str) -> Result<i64> {
    conn.query_i64(
        "SELECT COUNT(*) FROM area WHERE parent_code = $1",
        &[code.into()],
    )
}

/// Areas filtered by parent and/or level and/or subtree, in code order.
pub fn list(
    conn: &mut Conn,
    parent: Option<&str>,
    level: Option<AreaLevel>,
    within: Option<&str>,
) -> Result<Vec<Area>> {
    let mut sql = format!("SELECT {COLS} FROM area WHERE 1=1");
    let mut p: Vec<Value> = Vec::new();
    if let Some(parent) = parent {
        p.push(parent.into());
        sql.push_str(&format!(" AND parent_code = ${}", p.len()));
    }
    if let Some(level) = level {
        p.push(level.code().into());
        sql.push_str(&format!(" AND level = ${}", p.len()));
    }
    if let Some(root) = within {
        let root = get(conn, root)?;
        p.push(root.path.clone().into());
        sql.push_str(&format!(" AND path >= ${}", p.len()));
        p.push(crate::path_upper(&root.path).into());
        sql.push_str(&format!(" AND path < ${}", p.len()));
    }
    sql.push_str(" ORDER BY code");
    conn.query(&sql, &p)?.iter().map(from_row).collect()
}
