//! The metric projection for planning: CGCS2000 / 3-degree Gauss-Krüger,
//! central meridian 120°E, without the zone prefix (EPSG:4549).
//!
//! Jiaxing lies between 120.3°E and 121.3°E, inside the 3° zone of 120°E
//! (118.5°–121.5°E); the scale error at its eastern edge is about 2 × 10⁻⁴
//! (0.2 m in a kilometre), well under what a 100 m grid resolves. Stored
//! coordinates are WGS-84; CGCS2000 differs from it by centimetres, so the
//! WGS-84 values are projected as they are. The formulas are Krüger's series
//! in the third flattening to n³ (sub-millimetre within a few degrees of the
//! central meridian); tests check them against PROJ's figures and against
//! great-circle distances.

/// The projection's name, for documents and file headers.
pub const PROJECTION: &str = "CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549)";
/// The EPSG code of [`PROJECTION`].
pub const EPSG: u32 = 4549;

/// CGCS2000 semi-major axis (metres) and flattening.
const A: f64 = 6_378_137.0;
const F: f64 = 1.0 / 298.257_222_101;
/// Central meridian (degrees), scale on it, false easting.
const LON0: f64 = 120.0;
const K0: f64 = 1.0;
const E0: f64 = 500_000.0;

/// A point in projected metres: `x` easting, `y` northing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Xy {
    pub x: f64,
    pub y: f64,
}

impl Xy {
    pub const fn new(x: f64, y: f64) -> Xy {
        Xy { x, y }
    }

    /// Euclidean distance in metres.
    pub fn dist(self, o: Xy) -> f64 {
        (self.x - o.x).hypot(self.y - o.y)
    }

    /// Squared distance (no square root), for comparisons.
    pub fn dist2(self, o: Xy) -> f64 {
        let (dx, dy) = (self.x - o.x, self.y - o.y);
        dx * dx + dy * dy
    }
}

struct Series {
    /// Rectifying radius times the scale.
    ka: f64,
    alpha: [f64; 3],
    beta: [f64; 3],
    delta: [f64; 3],
    /// 2√n / (1 + n), the conformal latitude's eccentricity term.
    e2n: f64,
}

fn series() -> Series {
    let n = F / (2.0 - F);
    let (n2, n3) = (n * n, n * n * n);
    Series {
        ka: K0 * A / (1.0 + n) * (1.0 + n2 / 4.0 + n2 * n2 / 64.0),
        alpha: [
            n / 2.0 - 2.0 * n2 / 3.0 + 5.0 * n3 / 16.0,
            13.0 * n2 / 48.0 - 3.0 * n3 / 5.0,
            61.0 * n3 / 240.0,
        ],
        beta: [
            n / 2.0 - 2.0 * n2 / 3.0 + 37.0 * n3 / 96.0,
            n2 / 48.0 + n3 / 15.0,
            17.0 * n3 / 480.0,
        ],
        delta: [
            2.0 * n - 2.0 * n2 / 3.0 - 2.0 * n3,
            7.0 * n2 / 3.0 - 8.0 * n3 / 5.0,
            56.0 * n3 / 15.0,
        ],
        e2n: 2.0 * n.sqrt() / (1.0 + n),
    }
}

/// Projects WGS-84 `(lng, lat)` degrees to metres.
pub fn project(lng: f64, lat: f64) -> Xy {
    let s = series();
    let phi = lat.to_radians();
    let dl = (lng - LON0).to_radians();
    let sp = phi.sin();
    let t = (sp.atanh() - s.e2n * (s.e2n * sp).atanh()).sinh();
    let xi = t.atan2(dl.cos());
    let eta = (dl.sin() / (1.0 + t * t).sqrt()).atanh();
    let (mut e, mut n) = (eta, xi);
    for (j, a) in s.alpha.iter().enumerate() {
        let k = 2.0 * (j as f64 + 1.0);
        e += a * (k * xi).cos() * (k * eta).sinh();
        n += a * (k * xi).sin() * (k * eta).cosh();
    }
    Xy::new(E0 + s.ka * e, s.ka * n)
}

/// The inverse of [`project`]: metres to WGS-84 `(lng, lat)` degrees.
pub fn unproject(p: Xy) -> (f64, f64) {
    let s = series();
    let xi = p.y / s.ka;
    let eta = (p.x - E0) / s.ka;
    let (mut xi1, mut eta1) = (xi, eta);
    for (j, b) in s.beta.iter().enumerate() {
        let k = 2.0 * (j as f64 + 1.0);
        xi1 -= b * (k * xi).sin() * (k * eta).cosh();
        eta1 -= b * (k * xi).cos() * (k * eta).sinh();
    }
    let chi = (xi1.sin() / eta1.cosh()).asin();
    let mut phi = chi;
    for (j, d) in s.delta.iter().enumerate() {
        phi += d * (2.0 * (j as f64 + 1.0) * chi).sin();
    }
    let lng = LON0 + eta1.sinh().atan2(xi1.cos()).to_degrees();
    (lng, phi.to_degrees())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance_m;

    /// PROJ 9 (`pyproj.Transformer.from_crs(4326, 4549, always_xy=True)`)
    /// for points in and around Jiaxing: (lng, lat) → (x, y) metres.
    type Pair = (f64, f64);
    const PROJ_FIGURES: &[(Pair, Pair)] = &[
        ((120.0, 30.0), (500_000.0, 3_320_113.397_8)),
        ((120.755_47, 30.746_191), (572_342.001_0, 3_403_079.041_1)),
        ((121.3, 31.0), (624_160.580_7, 3_431_699.861_6)),
        ((120.3, 30.3), (528_858.489_6, 3_353_408.008_5)),
    ];

    #[test]
    fn matches_proj() {
        for &((lng, lat), (x, y)) in PROJ_FIGURES {
            let p = project(lng, lat);
            assert!(
                (p.x - x).abs() < 0.01 && (p.y - y).abs() < 0.01,
                "({lng}, {lat}) -> ({}, {}), PROJ ({x}, {y})",
                p.x,
                p.y
            );
        }
    }

    #[test]
    fn round_trip() {
        for lng in [120.2, 120.6, 121.0, 121.4] {
            for lat in [30.2, 30.5, 30.8, 31.1] {
                let (l, b) = unproject(project(lng, lat));
                // 1e-8° is about a millimetre: the n³ series of the inverse.
                assert!(
                    (l - lng).abs() < 1e-8 && (b - lat).abs() < 1e-8,
                    "{lng},{lat}: {l} {b}"
                );
            }
        }
    }

    #[test]
    fn distances_agree_with_great_circle() {
        // 500 m and 1,000 m east and north of points across the city: the
        // projected distance and the haversine distance (mean sphere, itself
        // within ~0.3% of the ellipsoid) agree to 0.5%.
        for (lng, lat) in [(120.3, 30.4), (120.75, 30.75), (121.25, 30.9)] {
            let p = project(lng, lat);
            for d in [500.0, 1000.0] {
                for (dx, dy) in [(d, 0.0), (0.0, d)] {
                    let q = Xy::new(p.x + dx, p.y + dy);
                    let (l2, b2) = unproject(q);
                    let gc = distance_m((lng, lat), (l2, b2));
                    assert!((gc - d).abs() / d < 0.005, "{d} m at ({lng},{lat}): {gc}");
                }
            }
        }
        // On the central meridian (scale 1) the projection keeps the meridian
        // arc: 30°N to 31°N is 110,860.926 m on the ellipsoid (PROJ's geodesic).
        let d = project(120.0, 30.0).dist(project(120.0, 31.0));
        assert!((d - 110_860.926).abs() < 0.01, "{d}");
    }
}
