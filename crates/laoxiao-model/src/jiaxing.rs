//! Jiaxing's real reference data, embedded from `data/jiaxing/` (see its SOURCES.md):
//! the NBS 2023 division codes, 2016 urban-rural codes and centre points, and the
//! county boundaries.

use std::collections::HashMap;

use crate::area::{Area, AreaLevel, AreaTree, child_path};
use crate::error::ModelError;
use laoxiao_spatial::{Boundary, gcj02_to_wgs84};

/// The city's own code.
pub const CITY_CODE: &str = "330400";

const DIVISIONS_CSV: &str = include_str!("../../../data/jiaxing/admin_divisions.csv");
const DIVISIONS_2016_CSV: &str =
    include_str!("../../../data/jiaxing/admin_divisions_2016_urban_rural.csv");
const BOUNDARIES_WGS84: &str =
    include_str!("../../../data/jiaxing/boundaries_county_wgs84.geojson");

/// The county boundaries GeoJSON (WGS-84), as embedded, for maps.
pub fn boundaries_geojson() -> &'static str {
    BOUNDARIES_WGS84
}

fn bad(file: &'static str, reason: String) -> ModelError {
    ModelError::ReferenceData { file, reason }
}

/// The division table: 1 city, 7 counties, 72 towns, 1,202 villages, parents first,
/// with urban-rural codes and, where the 2016 table has them, centre points converted
/// from GCJ-02 to WGS-84.
pub fn areas() -> Result<AreaTree, ModelError> {
    const F: &str = "admin_divisions.csv";
    // Centre points from the 2016 table, matched by code and name.
    let mut centres: HashMap<(&str, &str), (f64, f64)> = HashMap::new();
    for (i, line) in DIVISIONS_2016_CSV.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 7 {
            return Err(bad(
                "admin_divisions_2016_urban_rural.csv",
                format!("line {}: {} fields", i + 1, f.len()),
            ));
        }
        if let (Ok(lng), Ok(lat)) = (f[5].parse::<f64>(), f[6].parse::<f64>()) {
            centres.insert((f[0], f[1]), gcj02_to_wgs84(lng, lat));
        }
    }
    let mut rows: Vec<(AreaLevel, Vec<&str>)> = Vec::new();
    for (i, line) in DIVISIONS_CSV.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 5 {
            return Err(bad(F, format!("line {}: {} fields", i + 1, f.len())));
        }
        let level = AreaLevel::parse(f[2])
            .ok_or_else(|| bad(F, format!("line {}: level {}", i + 1, f[2])))?;
        rows.push((level, f));
    }
    // Parents first, so each path can be built from its parent's.
    rows.sort_by_key(|(l, f)| (l.depth(), f[0].to_string()));
    let mut paths: HashMap<String, String> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for (level, f) in rows {
        let parent = if level == AreaLevel::City {
            None
        } else {
            Some(f[3].to_string())
        };
        let parent_path = match &parent {
            Some(p) => Some(
                paths
                    .get(p)
                    .ok_or_else(|| bad(F, format!("{}: unknown parent {p}", f[0])))?
                    .clone(),
            ),
            None => None,
        };
        let path = child_path(parent_path.as_deref(), f[0]);
        paths.insert(f[0].to_string(), path.clone());
        let urban_rural_code = if f[4].is_empty() {
            None
        } else {
            Some(
                f[4].parse::<u16>()
                    .map_err(|e| bad(F, format!("{}: urban_rural_code: {e}", f[0])))?,
            )
        };
        out.push(Area {
            code: f[0].to_string(),
            name: f[1].to_string(),
            level,
            parent_code: parent,
            path,
            urban_rural_code,
            centre: centres.get(&(f[0], f[1])).copied(),
        });
    }
    Ok(AreaTree::new(out))
}

/// One county-level unit's boundary, or the city outline (code 330400).
#[derive(Debug, Clone)]
pub struct AreaBoundary {
    pub code: String,
    pub name: String,
    pub boundary: Boundary,
}

/// The city outline and the 7 county boundaries, WGS-84.
pub fn boundaries() -> Result<Vec<AreaBoundary>, ModelError> {
    const F: &str = "boundaries_county_wgs84.geojson";
    let v: serde_json::Value =
        serde_json::from_str(BOUNDARIES_WGS84).map_err(|e| bad(F, e.to_string()))?;
    let feats = v
        .get("features")
        .and_then(|f| f.as_array())
        .ok_or_else(|| bad(F, "no features".into()))?;
    let mut out = Vec::new();
    for feat in feats {
        let props = feat
            .get("properties")
            .ok_or_else(|| bad(F, "feature without properties".into()))?;
        let s = |k: &str| {
            props
                .get(k)
                .and_then(|x| x.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let boundary = Boundary::from_geojson(feat).map_err(|e| bad(F, e))?;
        out.push(AreaBoundary {
            code: s("code"),
            name: s("name"),
            boundary,
        });
    }
    Ok(out)
}

/// The city outline alone.
pub fn city_boundary() -> Result<Boundary, ModelError> {
    boundaries()?
        .into_iter()
        .find(|b| b.code == CITY_CODE)
        .map(|b| b.boundary)
        .ok_or_else(|| bad("boundaries_county_wgs84.geojson", "no city outline".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn division_counts_match_the_nbs_table() {
        let t = areas().expect("areas");
        assert_eq!(t.at_level(AreaLevel::City).count(), 1);
        assert_eq!(t.at_level(AreaLevel::County).count(), 7);
        assert_eq!(t.at_level(AreaLevel::Town).count(), 72);
        assert_eq!(t.at_level(AreaLevel::Village).count(), 1202);
        let nanhu = t.get("330402").expect("南湖区");
        assert_eq!(nanhu.name, "南湖区");
        assert_eq!(nanhu.path, "/330400/330402/");
        let villages_with_code = t
            .at_level(AreaLevel::Village)
            .filter(|a| a.urban_rural_code.is_some())
            .count();
        assert_eq!(villages_with_code, 1014);
        // Every village's path runs through its town and county.
        for v in t.at_level(AreaLevel::Village) {
            assert!(
                v.path
                    .starts_with(&format!("/330400/{}/{}/", &v.code[..6], &v.code[..9])),
                "{}",
                v.code
            );
        }
    }
}
