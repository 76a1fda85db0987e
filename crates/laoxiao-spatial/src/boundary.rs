//! Boundaries: multipolygons read from GeoJSON, point-in-polygon (plain and
//! strip-indexed), area and centroid. Coordinates are WGS-84 `(lng, lat)`.

use serde_json::Value;

use crate::coords::EARTH_RADIUS_M;

/// A multipolygon boundary (outer rings with holes), WGS-84.
#[derive(Debug, Clone, Default)]
pub struct Boundary {
    /// Polygons, each a list of rings; ring 0 is the outer ring.
    pub polygons: Vec<Vec<Vec<(f64, f64)>>>,
}

type Ring = Vec<(f64, f64)>;

/// `(min_lng, min_lat, max_lng, max_lat)` of some rings; min > max when empty.
fn rings_bbox<'a>(rings: impl IntoIterator<Item = &'a Ring>) -> (f64, f64, f64, f64) {
    let mut b = (
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NEG_INFINITY,
    );
    for &(x, y) in rings.into_iter().flatten() {
        b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
    }
    b
}

/// Whether a horizontal ray from `(x, y)` towards +lng crosses `ring` an odd
/// number of times. Works with or without the repeated closing point.
fn ray_crosses_odd(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    if n < 3 {
        return false;
    }
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        // Half-open test on y so a vertex exactly at the ray's height counts once.
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// Signed ring area on the sphere, m² (positive when counter-clockwise). This is
/// the formula of Chamberlain & Duquette (JPL 07-03), as used by d3 and turf;
/// it is well within 0.5% at a city's scale.
fn ring_area_m2(ring: &[(f64, f64)]) -> f64 {
    let n = ring.len();
    if n < 3 {
        return 0.0;
    }
    let mut s = 0.0;
    for i in 0..n {
        let (x1, y1) = ring[i];
        let (x2, y2) = ring[(i + 1) % n];
        s += (x2 - x1).to_radians() * (2.0 + y1.to_radians().sin() + y2.to_radians().sin());
    }
    s * EARTH_RADIUS_M * EARTH_RADIUS_M / 2.0
}

fn parse_position(v: &Value) -> Result<(f64, f64), String> {
    let a = v.as_array().ok_or("position is not an array")?;
    if a.len() < 2 {
        return Err(format!(
            "position has {} numbers, expected at least 2 (lng, lat)",
            a.len()
        ));
    }
    // A third number (altitude) is allowed by GeoJSON and ignored.
    let lng = a[0].as_f64().ok_or("longitude is not a number")?;
    let lat = a[1].as_f64().ok_or("latitude is not a number")?;
    if !(-180.0..=180.0).contains(&lng) || !(-90.0..=90.0).contains(&lat) {
        return Err(format!(
            "position ({lng}, {lat}) is out of range, expected lng −180…180 and lat −90…90"
        ));
    }
    Ok((lng, lat))
}

fn parse_polygon(v: &Value) -> Result<Vec<Ring>, String> {
    let rings = v.as_array().ok_or("polygon is not an array of rings")?;
    if rings.is_empty() {
        return Err("polygon has no rings, expected an outer ring".into());
    }
    rings
        .iter()
        .map(|r| {
            let pts = r.as_array().ok_or("ring is not an array of positions")?;
            let ring: Ring = pts.iter().map(parse_position).collect::<Result<_, _>>()?;
            if ring.len() < 3 {
                return Err(format!(
                    "ring has {} positions, expected at least 3",
                    ring.len()
                ));
            }
            Ok(ring)
        })
        .collect()
}

impl Boundary {
    /// A boundary from polygons (each a list of rings, ring 0 the outer ring).
    pub fn new(polygons: Vec<Vec<Vec<(f64, f64)>>>) -> Boundary {
        Boundary { polygons }
    }

    /// Reads a GeoJSON Polygon or MultiPolygon geometry, a Feature holding one,
    /// or the first Feature of a FeatureCollection.
    pub fn from_geojson(value: &Value) -> Result<Boundary, String> {
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or("GeoJSON object has no \"type\"")?;
        match kind {
            "FeatureCollection" => {
                let first = value
                    .get("features")
                    .and_then(Value::as_array)
                    .and_then(|f| f.first())
                    .ok_or("FeatureCollection has no features, expected at least one")?;
                Boundary::from_geojson(first)
            }
            "Feature" => match value.get("geometry") {
                Some(g) if !g.is_null() => Boundary::from_geojson(g),
                _ => Err("Feature has no geometry, expected a Polygon or MultiPolygon".into()),
            },
            "Polygon" | "MultiPolygon" => {
                let coords = value
                    .get("coordinates")
                    .ok_or_else(|| format!("{kind} has no coordinates"))?;
                let polygons = if kind == "Polygon" {
                    vec![parse_polygon(coords)?]
                } else {
                    let ps = coords
                        .as_array()
                        .ok_or("MultiPolygon coordinates are not an array")?;
                    ps.iter()
                        .map(parse_polygon)
                        .collect::<Result<Vec<_>, _>>()?
                };
                if polygons.is_empty() {
                    return Err("MultiPolygon has no polygons, expected at least one".into());
                }
                Ok(Boundary { polygons })
            }
            other => Err(format!(
                "GeoJSON type {other}, expected Polygon, MultiPolygon, Feature or FeatureCollection"
            )),
        }
    }

    /// Whether `(lng, lat)` lies inside: even-odd ray casting over every ring of
    /// every polygon, so holes (and islands within holes) come out right.
    /// Points exactly on an edge may fall either way.
    pub fn contains(&self, lng: f64, lat: f64) -> bool {
        if !lng.is_finite() || !lat.is_finite() {
            return false;
        }
        let mut inside = false;
        for polygon in &self.polygons {
            // A ray cannot cross any ring of a polygon whose box misses the point,
            // so skipping it leaves the parity unchanged; this spares most islands.
            let (x0, y0, x1, y1) = rings_bbox(polygon);
            if lng < x0 || lng > x1 || lat < y0 || lat > y1 {
                continue;
            }
            for ring in polygon {
                if ray_crosses_odd(ring, lng, lat) {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// `(min_lng, min_lat, max_lng, max_lat)`. For an empty boundary the minima
    /// are +∞ and the maxima −∞, so nothing lies within.
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        rings_bbox(self.polygons.iter().flatten())
    }

    /// Area in km²: each outer ring's area less its holes', on a spherical Earth.
    pub fn area_km2(&self) -> f64 {
        let m2: f64 = self
            .polygons
            .iter()
            .map(|p| {
                let mut rings = p.iter().map(|r| ring_area_m2(r).abs());
                let outer = rings.next().unwrap_or(0.0);
                (outer - rings.sum::<f64>()).max(0.0)
            })
            .sum();
        m2 / 1e6
    }

    /// Area-weighted centroid `(lng, lat)` (holes subtracted), computed in a local
    /// plane with longitudes scaled by cos(latitude) so east–west degrees weigh
    /// what they measure. `None` for an empty or zero-area boundary. For a
    /// concave shape the centroid may lie outside it.
    pub fn centroid(&self) -> Option<(f64, f64)> {
        let (_, y0, _, y1) = self.bbox();
        if y0 > y1 {
            return None;
        }
        let k = ((y0 + y1) / 2.0).to_radians().cos();
        let (mut a_sum, mut x_sum, mut y_sum) = (0.0, 0.0, 0.0);
        for polygon in &self.polygons {
            for (i, ring) in polygon.iter().enumerate() {
                let n = ring.len();
                let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
                for j in 0..n {
                    let (xa, ya) = (ring[j].0 * k, ring[j].1);
                    let (xb, yb) = (ring[(j + 1) % n].0 * k, ring[(j + 1) % n].1);
                    let cross = xa * yb - xb * ya;
                    a += cross;
                    cx += (xa + xb) * cross;
                    cy += (ya + yb) * cross;
                }
                // Outer rings add and holes subtract, whatever their winding.
                let sign = if (a >= 0.0) == (i == 0) { 1.0 } else { -1.0 };
                a_sum += sign * a / 2.0;
                x_sum += sign * cx / 6.0;
                y_sum += sign * cy / 6.0;
            }
        }
        if a_sum.abs() < 1e-18 {
            return None;
        }
        Some((x_sum / a_sum / k, y_sum / a_sum))
    }
}

/// One edge of a ring as [`ray_crosses_odd`] sees it: `(xi, yi)` is the ring's
/// point i and `(xj, yj)` the point before it, so the crossing test below is the
/// very same arithmetic.
#[derive(Debug, Clone, Copy)]
struct Edge {
    xi: f64,
    yi: f64,
    xj: f64,
    yj: f64,
    /// Index of the polygon the edge belongs to.
    polygon: u32,
}

/// A [`Boundary`] with a horizontal-strip index for fast point-in-polygon tests.
///
/// The boundary's latitude span is cut into strips; each strip lists the edges
/// whose latitude range overlaps it (plus a margin), grouped by polygon. A point
/// is tested against the edges of its strip only, with the same half-open
/// crossing test and the same per-polygon bounding-box skip as
/// [`Boundary::contains`]. An edge outside the strip cannot satisfy the test's
/// latitude condition for any point in the strip, so it never changes the parity:
/// the answers are exactly those of [`Boundary::contains`], at a few dozen edge
/// tests per point instead of every vertex of the outline.
///
/// It dereferences to the [`Boundary`] it indexes.
#[derive(Debug, Clone, Default)]
pub struct IndexedBoundary {
    boundary: Boundary,
    bbox: (f64, f64, f64, f64),
    polygon_bbox: Vec<(f64, f64, f64, f64)>,
    /// Strips per degree of latitude.
    scale: f64,
    strips: usize,
    /// Edges of strip k are `edges[start[k]..start[k + 1]]`.
    start: Vec<u32>,
    edges: Vec<Edge>,
}

impl From<Boundary> for IndexedBoundary {
    fn from(b: Boundary) -> Self {
        IndexedBoundary::new(b)
    }
}

impl std::ops::Deref for IndexedBoundary {
    type Target = Boundary;
    fn deref(&self) -> &Boundary {
        &self.boundary
    }
}

impl IndexedBoundary {
    /// Indexes a boundary (a few milliseconds for a city outline).
    pub fn new(boundary: Boundary) -> IndexedBoundary {
        let bbox = boundary.bbox();
        let polygon_bbox: Vec<_> = boundary.polygons.iter().map(rings_bbox).collect();
        let mut all = Vec::new();
        for (p, polygon) in boundary.polygons.iter().enumerate() {
            for ring in polygon {
                let n = ring.len();
                if n < 3 {
                    // ray_crosses_odd ignores such rings.
                    continue;
                }
                let mut j = n - 1;
                for i in 0..n {
                    let (xi, yi) = ring[i];
                    let (xj, yj) = ring[j];
                    // A level edge never satisfies `(yi > y) != (yj > y)`.
                    if yi != yj {
                        all.push(Edge {
                            xi,
                            yi,
                            xj,
                            yj,
                            polygon: p as u32,
                        });
                    }
                    j = i;
                }
            }
        }
        let span = bbox.3 - bbox.1;
        if all.is_empty() || span.is_nan() || span <= 0.0 {
            return IndexedBoundary {
                boundary,
                bbox,
                polygon_bbox,
                scale: 0.0,
                strips: 0,
                start: vec![0],
                edges: all,
            };
        }
        // About four edges per strip on average; a horizontal line meets only
        // the edges it crosses, so most strips hold a few dozen.
        let strips = (all.len() / 4).clamp(16, 1 << 16);
        let scale = strips as f64 / span;
        // A margin of a hundredth of a strip on both sides absorbs any rounding
        // in the strip computation; extra edges cannot change the answer.
        let strip_of = |y: f64| -> usize {
            let k = ((y - bbox.1) * scale).floor();
            if k <= 0.0 {
                0
            } else {
                (k as usize).min(strips - 1)
            }
        };
        let margin = 0.01 / scale;
        let range = |e: &Edge| {
            let (lo, hi) = if e.yi < e.yj {
                (e.yi, e.yj)
            } else {
                (e.yj, e.yi)
            };
            (strip_of(lo - margin), strip_of(hi + margin))
        };
        let mut count = vec![0u32; strips + 1];
        for e in &all {
            let (a, b) = range(e);
            for c in &mut count[a..=b] {
                *c += 1;
            }
        }
        let mut start = Vec::with_capacity(strips + 1);
        let mut acc = 0u32;
        for c in &count[..strips] {
            start.push(acc);
            acc += c;
        }
        start.push(acc);
        let mut fill: Vec<u32> = start[..strips].to_vec();
        let mut edges = vec![all[0]; acc as usize];
        // `all` is in polygon order, so each strip's edges stay grouped by polygon.
        for e in &all {
            let (a, b) = range(e);
            for f in &mut fill[a..=b] {
                edges[*f as usize] = *e;
                *f += 1;
            }
        }
        IndexedBoundary {
            boundary,
            bbox,
            polygon_bbox,
            scale,
            strips,
            start,
            edges,
        }
    }

    /// The boundary indexed.
    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// Whether `(lng, lat)` lies inside; always the same answer as
    /// [`Boundary::contains`].
    pub fn contains(&self, lng: f64, lat: f64) -> bool {
        if !lng.is_finite() || !lat.is_finite() || self.strips == 0 {
            return false;
        }
        let (x0, y0, x1, y1) = self.bbox;
        if lng < x0 || lng > x1 || lat < y0 || lat > y1 {
            return false;
        }
        let k = (((lat - y0) * self.scale).floor() as usize).min(self.strips - 1);
        let (a, b) = (self.start[k] as usize, self.start[k + 1] as usize);
        let (x, y) = (lng, lat);
        let mut inside = false;
        let mut current = u32::MAX;
        let mut in_box = false;
        for e in &self.edges[a..b] {
            if e.polygon != current {
                current = e.polygon;
                let (px0, py0, px1, py1) = self.polygon_bbox[current as usize];
                in_box = !(x < px0 || x > px1 || y < py0 || y > py1);
            }
            if in_box
                && (e.yi > y) != (e.yj > y)
                && x < (e.xj - e.xi) * (y - e.yi) / (e.yj - e.yi) + e.xi
            {
                inside = !inside;
            }
        }
        inside
    }
}

impl Boundary {
    /// This boundary with a strip index for fast [`IndexedBoundary::contains`].
    pub fn indexed(&self) -> IndexedBoundary {
        IndexedBoundary::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coords::gcj02_to_wgs84;
    use serde_json::json;

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> Ring {
        vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    }

    #[test]
    fn contains_square_with_hole() {
        let b = Boundary::new(vec![vec![
            square(0.0, 0.0, 10.0, 10.0),
            square(4.0, 4.0, 6.0, 6.0),
        ]]);
        assert!(b.contains(1.0, 1.0));
        assert!(b.contains(5.0, 8.0));
        assert!(!b.contains(5.0, 5.0), "in the hole");
        assert!(!b.contains(11.0, 5.0));
        assert!(!b.contains(-1.0, 5.0));
        assert!(!b.contains(5.0, f64::NAN));
        // A ray through a vertex's height is counted once.
        assert!(b.contains(2.0, 4.0));
        assert!(b.contains(2.0, 6.0));
        assert_eq!(b.bbox(), (0.0, 0.0, 10.0, 10.0));
        assert!(!Boundary::default().contains(0.0, 0.0));
        // Unclosed rings work too.
        let open = Boundary::new(vec![vec![vec![
            (0.0, 0.0),
            (1.0, 0.0),
            (1.0, 1.0),
            (0.0, 1.0),
        ]]]);
        assert!(open.contains(0.5, 0.5) && !open.contains(1.5, 0.5));
    }

    #[test]
    fn area_and_centroid() {
        // 1° × 1° at the equator: (π/180 · R)² ≈ 12,364 km², slightly less on the sphere.
        let b = Boundary::new(vec![vec![square(0.0, 0.0, 1.0, 1.0)]]);
        let a = b.area_km2();
        assert!((a - 12_364.0).abs() < 15.0, "{a}");
        // Holes are subtracted whatever their winding.
        let holed = Boundary::new(vec![vec![
            square(0.0, 0.0, 1.0, 1.0),
            square(0.25, 0.25, 0.75, 0.75),
        ]]);
        let mut reversed = square(0.25, 0.25, 0.75, 0.75);
        reversed.reverse();
        let holed2 = Boundary::new(vec![vec![square(0.0, 0.0, 1.0, 1.0), reversed]]);
        assert!((holed.area_km2() - a * 0.75).abs() < 5.0);
        assert!((holed2.area_km2() - holed.area_km2()).abs() < 1e-6);
        let (cx, cy) = holed.centroid().expect("centroid");
        assert!((cx - 0.5).abs() < 1e-9 && (cy - 0.5).abs() < 1e-9);
        // An L made of a square and a smaller square to its east.
        let two = Boundary::new(vec![
            vec![square(0.0, 0.0, 2.0, 2.0)],
            vec![square(2.0, 0.0, 3.0, 1.0)],
        ]);
        let (cx, cy) = two.centroid().expect("centroid");
        assert!(
            (cx - 1.3).abs() < 1e-3 && (cy - 0.9).abs() < 1e-3,
            "({cx}, {cy})"
        );
        assert_eq!(Boundary::default().centroid(), None);
        assert_eq!(Boundary::default().area_km2(), 0.0);
    }

    #[test]
    fn from_geojson_multipolygon() {
        let g = json!({
            "type": "MultiPolygon",
            "coordinates": [
                [[[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]],
                 [[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]]],
                [[[20.0, 0.0, 5.0], [21.0, 0.0, 5.0], [21.0, 1.0, 5.0], [20.0, 0.0, 5.0]]]
            ]
        });
        let b = Boundary::from_geojson(&g).expect("multipolygon");
        assert_eq!(b.polygons.len(), 2);
        assert!(
            b.contains(1.0, 1.0)
                && !b.contains(5.0, 5.0)
                && b.contains(20.9, 0.5)
                && !b.contains(15.0, 0.5)
        );
        assert_eq!(b.bbox(), (0.0, 0.0, 21.0, 10.0));

        let feature = json!({"type": "Feature", "properties": {}, "geometry": g});
        assert_eq!(
            Boundary::from_geojson(&feature).expect("feature").polygons,
            b.polygons
        );
        let fc = json!({"type": "FeatureCollection", "features": [feature, {"type": "Feature", "geometry": null}]});
        assert_eq!(
            Boundary::from_geojson(&fc).expect("collection").polygons,
            b.polygons
        );
        let poly = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]});
        assert_eq!(
            Boundary::from_geojson(&poly)
                .expect("polygon")
                .polygons
                .len(),
            1
        );
    }

    #[test]
    fn from_geojson_errors() {
        let cases = [
            (
                json!({"type": "Point", "coordinates": [0, 0]}),
                "expected Polygon",
            ),
            (json!({"coordinates": []}), "no \"type\""),
            (
                json!({"type": "FeatureCollection", "features": []}),
                "no features",
            ),
            (json!({"type": "Feature", "geometry": null}), "no geometry"),
            (
                json!({"type": "MultiPolygon", "coordinates": []}),
                "no polygons",
            ),
            (json!({"type": "Polygon", "coordinates": []}), "no rings"),
            (
                json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]}),
                "at least 3",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0, 0], [1, "a"], [1, 1]]]}),
                "latitude is not a number",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1]]]}),
                "at least 2",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1]]]}),
                "out of range",
            ),
        ];
        for (v, want) in cases {
            let e = Boundary::from_geojson(&v).expect_err("invalid");
            assert!(e.contains(want), "{v}: {e}");
        }
    }

    #[test]
    fn indexed_boundary_agrees_with_ray_casting() {
        let text = include_str!("../../../data/jiaxing/boundaries_county_wgs84.geojson");
        let fc: Value = serde_json::from_str(text).expect("json");
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for f in fc["features"].as_array().expect("features") {
            let b = Boundary::from_geojson(f).expect("boundary");
            let ix = b.indexed();
            let (x0, y0, x1, y1) = b.bbox();
            let (w, h) = (x1 - x0, y1 - y0);
            let mut inside = 0;
            for _ in 0..5_000 {
                // The bounding box and a tenth around it.
                let x = x0 - w * 0.1 + next() * w * 1.2;
                let y = y0 - h * 0.1 + next() * h * 1.2;
                let want = b.contains(x, y);
                assert_eq!(ix.contains(x, y), want, "({x}, {y})");
                inside += usize::from(want);
            }
            assert!(inside > 250, "{inside} of 5000 inside");
            // The awkward cases: vertices, points at a vertex's latitude, and
            // points a hair away from edges.
            for ring in b.polygons.iter().flatten() {
                for (k, &(vx, vy)) in ring.iter().enumerate() {
                    let (nx, ny) = ring[(k + 1) % ring.len()];
                    for (x, y) in [
                        (vx, vy),
                        (vx - 1e-9, vy),
                        (vx + 1e-9, vy),
                        (vx, vy + 1e-12),
                        ((vx + nx) / 2.0, (vy + ny) / 2.0),
                        ((vx + nx) / 2.0 + 1e-10, (vy + ny) / 2.0),
                        (x0 + next() * w, vy),
                    ] {
                        assert_eq!(ix.contains(x, y), b.contains(x, y), "({x}, {y})");
                    }
                }
            }
            for (x, y) in [(x0, y0), (x1, y1), (x0, y1), (x1, y0), (f64::NAN, y0)] {
                assert_eq!(ix.contains(x, y), b.contains(x, y));
            }
            // It dereferences to the plain boundary.
            assert_eq!(ix.bbox(), b.bbox());
        }
        // Holes, unclosed rings and the empty boundary.
        let holed = Boundary::new(vec![vec![
            square(0.0, 0.0, 10.0, 10.0),
            square(4.0, 4.0, 6.0, 6.0),
        ]]);
        let ix = holed.indexed();
        for (x, y) in [(1.0, 1.0), (5.0, 5.0), (2.0, 4.0), (2.0, 6.0), (11.0, 5.0)] {
            assert_eq!(ix.contains(x, y), holed.contains(x, y), "({x}, {y})");
        }
        assert!(!Boundary::default().indexed().contains(0.0, 0.0));
    }

    #[test]
    fn jiaxing_city_boundary() {
        let text = include_str!("../../../data/jiaxing/boundaries_county_wgs84.geojson");
        let fc: Value = serde_json::from_str(text).expect("json");
        let features = fc["features"].as_array().expect("features");
        let city = features
            .iter()
            .find(|f| f["properties"]["code"] == "330400" && f["properties"]["level"] == "city")
            .expect("city feature");
        let b = Boundary::from_geojson(city).expect("city boundary");

        let (lng, lat) = gcj02_to_wgs84(120.75547, 30.746191);
        assert!(b.contains(lng, lat), "city centre");
        assert!(!b.contains(121.47, 31.23), "Shanghai");
        assert!(!b.contains(120.15, 30.28), "Hangzhou");
        let area = b.area_km2();
        // Jiaxing's official (land) area is about 4,237 km². This Amap outline
        // measures about 4,610 km²: its 海盐 (946 km²) and 平湖 (582 km²) parts are
        // well above their official land areas, so it apparently takes in coastal
        // water of Hangzhou Bay. Hence the wider upper bound.
        assert!((3_500.0..5_000.0).contains(&area), "{area} km²");
        let (x0, y0, x1, y1) = b.bbox();
        assert!(
            x0 > 120.2 && x1 < 121.4 && y0 > 30.2 && y1 < 31.1,
            "{:?}",
            b.bbox()
        );
        let (cx, cy) = b.centroid().expect("centroid");
        assert!(b.contains(cx, cy), "centroid ({cx}, {cy})");

        // The counties tile the city: their areas add up to the city's.
        let counties: f64 = features
            .iter()
            .filter(|f| f["properties"]["level"] == "county")
            .map(|f| Boundary::from_geojson(f).expect("county").area_km2())
            .sum();
        assert!(
            (counties - area).abs() / area < 0.02,
            "counties {counties} vs city {area}"
        );
        // The first feature of the collection is the city.
        assert_eq!(
            Boundary::from_geojson(&fc).expect("collection").polygons,
            b.polygons
        );
    }
}
