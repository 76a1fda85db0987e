//! Counting people by area and age band at city scale through `person_tally`
//! (人口统计汇总): live people by area path, register, status and birth year,
//! kept current by triggers (migration 0004) and written once by bulk loads.
//!
//! A band such as "aged 60 or over on a date" is a range of birth dates. The
//! birth years strictly inside the range are summed from the tally; in the one
//! or two years the range cuts through, the smaller part of the year (inside
//! or outside the band, at most half a year's births) is counted exactly from
//! `person` through `person_birth_idx` and added to or taken from the year's
//! tally. An area's figures thus read a few thousand tally rows and a few
//! thousand births, never a scan of a million people.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use laoxiao_model::PersonRole;
use laoxiao_model::person::PersonStatus;

use crate::db::{Backend, Conn, Value};
use crate::error::{Result, StoreError};
use crate::path_upper;
use crate::scope::Scope;

/// People of one register born in `(after, until]` (either end open).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    pub role: PersonRole,
    pub after: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl Band {
    /// Whether every birth in `year` lies inside the band.
    fn holds_year(&self, year: i32) -> bool {
        self.after.is_none_or(|d| year > d.year()) && self.until.is_none_or(|d| year < d.year())
    }

    /// The years the band's ends cut through.
    fn cut_years(&self) -> Vec<i32> {
        let mut v: Vec<i32> = [self.after, self.until]
            .into_iter()
            .flatten()
            .map(|d| d.year())
            .collect();
        v.dedup();
        v
    }
}

/// Where to count: a subtree, optionally grouped by the code of the child
/// area at `child` = (1-based start, length) within the path, and one status
/// or all.
#[derive(Debug, Clone, Copy)]
pub struct Where<'a> {
    pub path: &'a str,
    pub child: Option<(usize, usize)>,
    pub status: Option<PersonStatus>,
}

impl Where<'_> {
    /// The child-area code within a path, as SQL's `substr` would cut it.
    pub fn child_of(&self, path: &str) -> String {
        match self.child {
            Some((start, len)) => path.chars().skip(start - 1).take(len).collect(),
            None => String::new(),
        }
    }

    /// The shared conditions on `area_path`, status and scope.
    fn conditions(&self, scope: &Scope, p: &mut Vec<Value>) -> String {
        p.push(self.path.into());
        p.push(path_upper(self.path).into());
        let mut w = format!("area_path >= ${} AND area_path < ${}", p.len() - 1, p.len());
        if let Some(s) = self.status {
            p.push(s.code().into());
            w.push_str(&format!(" AND status = ${}", p.len()));
        }
        scope.push_sql(&mut w, p, "area_path", None);
        w
    }
}

/// Live people in each band, by child area (key `""` without grouping; areas
/// with nobody in a band are absent). The caller checks the scope's permission.
pub fn count(
    conn: &mut Conn,
    scope: &Scope,
    at: &Where<'_>,
    bands: &[Band],
) -> Result<Vec<BTreeMap<String, i64>>> {
    let mut p = Vec::new();
    let w = at.conditions(scope, &mut p);
    // Integer literals for substr, not parameters: PostgreSQL wants its types.
    // The raw rows (tens of thousands at city level) are summed here: reading
    // them is a few milliseconds, where SQL's GROUP BY sorts them first.
    let years = conn.query(
        &format!("SELECT area_path, role, birth_year, n FROM person_tally WHERE {w}"),
        &p,
    )?;
    let mut out = vec![BTreeMap::new(); bands.len()];
    // Per band, the tally of each year its ends cut through, by child.
    let cuts: Vec<Vec<i32>> = bands.iter().map(Band::cut_years).collect();
    let mut cut_totals: Vec<BTreeMap<(i32, String), i64>> = vec![BTreeMap::new(); bands.len()];
    // Tens of thousands of rows: find the columns once.
    let (c_path, c_role, c_year, c_n) = match years.first() {
        Some(r) => (
            r.index_of("area_path")?,
            r.index_of("role")?,
            r.index_of("birth_year")?,
            r.index_of("n")?,
        ),
        None => (0, 0, 0, 0),
    };
    for r in &years {
        let path: String = r.get_at(c_path)?;
        let role: String = r.get_at(c_role)?;
        let year: i64 = r.get_at(c_year)?;
        let n: i64 = r.get_at(c_n)?;
        let year = i32::try_from(year).map_err(|_| {
            StoreError::Database(format!("column birth_year: {year} is out of range"))
        })?;
        if n == 0 {
            continue;
        }
        for (i, band) in bands.iter().enumerate() {
            if band.role.code() != role {
                continue;
            }
            if band.holds_year(year) {
                *out[i].entry(at.child_of(&path)).or_insert(0) += n;
            } else if cuts[i].contains(&year) {
                *cut_totals[i].entry((year, at.child_of(&path))).or_insert(0) += n;
            }
        }
    }
    for (i, band) in bands.iter().enumerate() {
        for &year in &cuts[i] {
            let (Some(first), Some(last)) = (
                NaiveDate::from_ymd_opt(year, 1, 1),
                NaiveDate::from_ymd_opt(year, 12, 31),
            ) else {
                continue;
            };
            let from = band
                .after
                .and_then(|d| d.succ_opt())
                .map_or(first, |d| d.max(first));
            let to = band.until.map_or(last, |d| d.min(last));
            if from > to {
                continue;
            }
            // Count whichever part of the year is smaller: the days inside
            // the band, or the year's tally less the days outside it.
            if (to - from).num_days() <= 183 {
                for (child, n) in count_range(conn, scope, at, band.role, from, to)? {
                    *out[i].entry(child).or_insert(0) += n;
                }
            } else {
                for ((y, child), n) in &cut_totals[i] {
                    if *y == year {
                        *out[i].entry(child.clone()).or_insert(0) += n;
                    }
                }
                let before = from.pred_opt().filter(|_| from > first);
                let after = to.succ_opt().filter(|_| to < last);
                for (a, b) in [(Some(first), before), (after, Some(last))] {
                    if let (Some(a), Some(b)) = (a, b) {
                        for (child, n) in count_range(conn, scope, at, band.role, a, b)? {
                            *out[i].entry(child).or_insert(0) -= n;
                        }
                    }
                }
            }
        }
        out[i].retain(|_, n| *n != 0);
    }
    Ok(out)
}

/// Live people of a register born in `from..=to`, by child area, through
/// `person_birth_idx` (a few weeks' or months' births, looked up row by row).
fn count_range(
    conn: &mut Conn,
    scope: &Scope,
    at: &Where<'_>,
    role: PersonRole,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, i64>> {
    let mut p = Vec::new();
    let mut w = at.conditions(scope, &mut p);
    p.push(role.code().into());
    w.push_str(&format!(" AND role = ${}", p.len()));
    p.push(from.into());
    w.push_str(&format!(" AND birth_date >= ${}", p.len()));
    p.push(to.into());
    w.push_str(&format!(" AND birth_date <= ${}", p.len()));
    // Without statistics SQLite would walk the list index over the whole
    // subtree; a span of birth dates is far fewer rows.
    let hint = match conn.backend() {
        Backend::Sqlite => " INDEXED BY person_birth_idx",
        Backend::Postgres => "",
    };
    let sql = match at.child {
        None => {
            format!(
                "SELECT '' AS c, COUNT(*) AS n FROM person{hint} WHERE deleted_at IS NULL AND {w}"
            )
        }
        Some((start, len)) => format!(
            "SELECT substr(area_path, {start}, {len}) AS c, COUNT(*) AS n FROM person{hint} \
             WHERE deleted_at IS NULL AND {w} GROUP BY c"
        ),
    };
    let mut out = BTreeMap::new();
    for r in conn.query(&sql, &p)? {
        *out.entry(r.get::<String>("c")?).or_insert(0) += r.get::<i64>("n")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn bands_split_into_whole_and_cut_years() {
        let sixty = Band {
            role: PersonRole::Elderly,
            after: None,
            until: Some(d("1966-11-29")),
        };
        assert!(sixty.holds_year(1965));
        assert!(!sixty.holds_year(1966));
        assert_eq!(sixty.cut_years(), vec![1966]);
        let band = Band {
            role: PersonRole::Elderly,
            after: Some(d("1946-11-29")),
            until: Some(d("1956-03-01")),
        };
        assert!(!band.holds_year(1946) && band.holds_year(1947) && !band.holds_year(1956));
        assert_eq!(band.cut_years(), vec![1946, 1956]);
        let same = Band {
            role: PersonRole::Infant,
            after: Some(d("2024-01-05")),
            until: Some(d("2024-06-30")),
        };
        assert!(!same.holds_year(2024));
        assert_eq!(same.cut_years(), vec![2024]);
    }
}
