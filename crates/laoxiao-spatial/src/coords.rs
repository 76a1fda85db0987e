//! Coordinate systems and conversions. Stored coordinates are WGS-84.
//!
//! Maps published in China use GCJ-02 (火星坐标, the state-mandated offset of
//! WGS-84) or BD-09 (百度坐标, Baidu's further offset of GCJ-02). Imports declare
//! which one they use and are converted to WGS-84 on the way in.

use std::f64::consts::PI;

/// Coordinate system an import declares. Written out rather than with the
/// model's `code_enum!`, which this crate cannot use (the model depends on it);
/// it offers the same methods: `code`, `label_zh`, `label_en`, `parse`, `ALL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CoordSystem {
    Wgs84,
    Gcj02,
    Bd09,
}

impl CoordSystem {
    /// Every variant, in declaration order.
    pub const ALL: &'static [CoordSystem] =
        &[CoordSystem::Wgs84, CoordSystem::Gcj02, CoordSystem::Bd09];

    /// The glossary identifier used in code, API and files.
    pub fn code(self) -> &'static str {
        match self {
            CoordSystem::Wgs84 => "wgs84",
            CoordSystem::Gcj02 => "gcj02",
            CoordSystem::Bd09 => "bd09",
        }
    }

    /// The label shown in the console and in templates (the same in Chinese).
    pub fn label_zh(self) -> &'static str {
        self.label_en()
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            CoordSystem::Wgs84 => "WGS-84",
            CoordSystem::Gcj02 => "GCJ-02",
            CoordSystem::Bd09 => "BD-09",
        }
    }

    /// Parses the identifier or the label (case-insensitive, surrounding blanks
    /// ignored).
    pub fn parse(s: &str) -> Option<CoordSystem> {
        let t = s.trim();
        CoordSystem::ALL
            .iter()
            .copied()
            .find(|c| t.eq_ignore_ascii_case(c.code()) || t.eq_ignore_ascii_case(c.label_en()))
    }

    /// The accepted identifiers, for error messages.
    pub fn expected() -> String {
        let v: Vec<&str> = CoordSystem::ALL.iter().map(|x| x.code()).collect();
        v.join(", ")
    }
}

impl std::fmt::Display for CoordSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for CoordSystem {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CoordSystem::parse(s).ok_or_else(|| {
            format!(
                "unknown value {s:?}; expected one of: {}",
                CoordSystem::expected()
            )
        })
    }
}

impl serde::Serialize for CoordSystem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for CoordSystem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Semi-major axis of the Krasovsky 1940 ellipsoid, used by the GCJ-02 formula.
const KRASOVSKY_A: f64 = 6_378_245.0;
/// Its first eccentricity squared; the published 0.00669342162296594323 to f64
/// precision.
const KRASOVSKY_EE: f64 = 0.006_693_421_622_965_943;
/// BD-09's angular constant, π·3000/180.
const X_PI: f64 = PI * 3000.0 / 180.0;
/// Mean Earth radius (IUGG), metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// GCJ-02 leaves points outside this rough box unchanged.
fn out_of_china(lng: f64, lat: f64) -> bool {
    !(72.004..=137.8347).contains(&lng) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lng(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS-84 → GCJ-02 (火星坐标), the public forward formula. Points outside China
/// pass through unchanged, as the formula itself specifies.
pub fn wgs84_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    if out_of_china(lng, lat) {
        return (lng, lat);
    }
    let mut dlat = transform_lat(lng - 105.0, lat - 35.0);
    let mut dlng = transform_lng(lng - 105.0, lat - 35.0);
    let radlat = lat / 180.0 * PI;
    let magic = 1.0 - KRASOVSKY_EE * radlat.sin() * radlat.sin();
    let sqrt_magic = magic.sqrt();
    dlat = dlat * 180.0 / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * PI);
    dlng = dlng * 180.0 / (KRASOVSKY_A / sqrt_magic * radlat.cos() * PI);
    (lng + dlng, lat + dlat)
}

/// GCJ-02 (火星坐标) → WGS-84. There is no closed-form inverse, so the forward
/// formula is inverted by fixed-point iteration: the offset varies so slowly that
/// each step gains several digits, reaching ~1e-9° in a few steps.
pub fn gcj02_to_wgs84(lng: f64, lat: f64) -> (f64, f64) {
    if !lng.is_finite() || !lat.is_finite() {
        return (lng, lat);
    }
    let (mut w_lng, mut w_lat) = (lng, lat);
    for _ in 0..20 {
        let (g_lng, g_lat) = wgs84_to_gcj02(w_lng, w_lat);
        let (e_lng, e_lat) = (g_lng - lng, g_lat - lat);
        w_lng -= e_lng;
        w_lat -= e_lat;
        if e_lng.abs() < 1e-10 && e_lat.abs() < 1e-10 {
            break;
        }
    }
    (w_lng, w_lat)
}

/// GCJ-02 → BD-09 (百度坐标), the standard formula.
pub fn gcj02_to_bd09(lng: f64, lat: f64) -> (f64, f64) {
    let z = (lng * lng + lat * lat).sqrt() + 0.000_02 * (lat * X_PI).sin();
    let theta = lat.atan2(lng) + 0.000_003 * (lng * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 (百度坐标) → GCJ-02, the standard approximate inverse, then a few
/// fixed-point corrections against [`gcj02_to_bd09`] so that round trips agree
/// far below 1e-6° (the bare formula is off by up to ~1e-7°).
pub fn bd09_to_gcj02(lng: f64, lat: f64) -> (f64, f64) {
    let x = lng - 0.0065;
    let y = lat - 0.006;
    let z = (x * x + y * y).sqrt() - 0.000_02 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000_003 * (x * X_PI).cos();
    let (mut g_lng, mut g_lat) = (z * theta.cos(), z * theta.sin());
    if !g_lng.is_finite() || !g_lat.is_finite() {
        return (g_lng, g_lat);
    }
    for _ in 0..5 {
        let (b_lng, b_lat) = gcj02_to_bd09(g_lng, g_lat);
        let (e_lng, e_lat) = (b_lng - lng, b_lat - lat);
        g_lng -= e_lng;
        g_lat -= e_lat;
        if e_lng.abs() < 1e-11 && e_lat.abs() < 1e-11 {
            break;
        }
    }
    (g_lng, g_lat)
}

/// BD-09 (百度坐标) → WGS-84, through GCJ-02.
pub fn bd09_to_wgs84(lng: f64, lat: f64) -> (f64, f64) {
    let (g_lng, g_lat) = bd09_to_gcj02(lng, lat);
    gcj02_to_wgs84(g_lng, g_lat)
}

/// WGS-84 → BD-09 (百度坐标), through GCJ-02.
pub fn wgs84_to_bd09(lng: f64, lat: f64) -> (f64, f64) {
    let (g_lng, g_lat) = wgs84_to_gcj02(lng, lat);
    gcj02_to_bd09(g_lng, g_lat)
}

/// Converts a point in `cs` to WGS-84.
pub fn to_wgs84(cs: CoordSystem, lng: f64, lat: f64) -> (f64, f64) {
    match cs {
        CoordSystem::Wgs84 => (lng, lat),
        CoordSystem::Gcj02 => gcj02_to_wgs84(lng, lat),
        CoordSystem::Bd09 => bd09_to_wgs84(lng, lat),
    }
}

/// Converts a WGS-84 point to `cs`, e.g. for display on a GCJ-02 base map.
pub fn from_wgs84(cs: CoordSystem, lng: f64, lat: f64) -> (f64, f64) {
    match cs {
        CoordSystem::Wgs84 => (lng, lat),
        CoordSystem::Gcj02 => wgs84_to_gcj02(lng, lat),
        CoordSystem::Bd09 => wgs84_to_bd09(lng, lat),
    }
}

/// Great-circle distance in metres between two `(lng, lat)` points (haversine,
/// mean Earth radius).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lng1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lng2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lng2 - lng1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcj_round_trip_near_jiaxing() {
        for (lng, lat) in [
            (120.75, 30.75),
            (120.5, 30.4),
            (121.2, 30.9),
            (120.75547, 30.746191),
        ] {
            let (g_lng, g_lat) = wgs84_to_gcj02(lng, lat);
            let (w_lng, w_lat) = gcj02_to_wgs84(g_lng, g_lat);
            assert!(
                (w_lng - lng).abs() < 1e-6 && (w_lat - lat).abs() < 1e-6,
                "({lng}, {lat}) -> ({w_lng}, {w_lat})"
            );
            // And the other way round.
            let (w_lng, w_lat) = gcj02_to_wgs84(lng, lat);
            let (g_lng, g_lat) = wgs84_to_gcj02(w_lng, w_lat);
            assert!((g_lng - lng).abs() < 1e-9 && (g_lat - lat).abs() < 1e-9);
        }
    }

    #[test]
    fn typical_shift_near_jiaxing() {
        let (lng, lat) = (120.75, 30.75);
        let (w_lng, w_lat) = gcj02_to_wgs84(lng, lat);
        let (d_lng, d_lat) = (w_lng - lng, w_lat - lat);
        // About 480 m in all: west by ~0.0043° and north by ~0.0023°.
        assert!((-0.0046..-0.0040).contains(&d_lng), "Δlng {d_lng}");
        assert!((0.0020..0.0026).contains(&d_lat), "Δlat {d_lat}");
        let m = distance_m((lng, lat), (w_lng, w_lat));
        assert!((400.0..600.0).contains(&m), "{m} m");
    }

    #[test]
    fn outside_china_passes_through() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
        assert_eq!(gcj02_to_wgs84(-74.0, 40.7), (-74.0, 40.7));
        assert_eq!(to_wgs84(CoordSystem::Wgs84, 120.0, 30.0), (120.0, 30.0));
    }

    #[test]
    fn bd09_round_trip() {
        for (lng, lat) in [(120.75, 30.75), (120.5, 30.4), (121.2, 30.9)] {
            let (b_lng, b_lat) = wgs84_to_bd09(lng, lat);
            let (w_lng, w_lat) = bd09_to_wgs84(b_lng, b_lat);
            assert!(
                (w_lng - lng).abs() < 1e-6 && (w_lat - lat).abs() < 1e-6,
                "({lng}, {lat}) -> ({w_lng}, {w_lat})"
            );
            let (g_lng, g_lat) = bd09_to_gcj02(b_lng, b_lat);
            assert_eq!(
                gcj02_to_wgs84(g_lng, g_lat),
                to_wgs84(CoordSystem::Bd09, b_lng, b_lat)
            );
            // BD-09 sits roughly 0.0065° east and 0.006° north of GCJ-02.
            let (g0, g1) = wgs84_to_gcj02(lng, lat);
            assert!((b_lng - g0 - 0.0065).abs() < 0.002 && (b_lat - g1 - 0.006).abs() < 0.002);
            let back = from_wgs84(CoordSystem::Bd09, lng, lat);
            assert_eq!(back, (b_lng, b_lat));
        }
    }

    #[test]
    fn distance() {
        assert_eq!(distance_m((120.0, 30.0), (120.0, 30.0)), 0.0);
        // One degree of latitude is ~111.2 km on the mean sphere.
        let d = distance_m((120.0, 30.0), (120.0, 31.0));
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
        // Jiaxing to Hangzhou, ~80 km.
        let d = distance_m((120.755, 30.746), (120.155, 30.274));
        assert!((70_000.0..90_000.0).contains(&d), "{d}");
    }

    #[test]
    fn coord_system_codes_and_labels() {
        for &c in CoordSystem::ALL {
            assert_eq!(CoordSystem::parse(c.code()), Some(c));
            assert_eq!(CoordSystem::parse(c.label_en()), Some(c));
            assert_eq!(c.to_string().parse::<CoordSystem>(), Ok(c));
            let json = serde_json::to_string(&c).expect("serialize");
            assert_eq!(json, format!("\"{}\"", c.code()));
            assert_eq!(
                serde_json::from_str::<CoordSystem>(&json).expect("deserialize"),
                c
            );
        }
        assert_eq!(CoordSystem::parse(" GCJ02 "), Some(CoordSystem::Gcj02));
        assert_eq!(CoordSystem::parse("bd-09"), Some(CoordSystem::Bd09));
        let e = "mercator".parse::<CoordSystem>().expect_err("unknown");
        assert_eq!(
            e,
            "unknown value \"mercator\"; expected one of: wgs84, gcj02, bd09"
        );
        assert!(serde_json::from_str::<CoordSystem>("\"utm\"").is_err());
    }
}
