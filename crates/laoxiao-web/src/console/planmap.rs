//! The planning pages' maps (规划地图), drawn server-side as SVG in the
//! planning projection (metres, so cells are squares and service radii are
//! circles): the county boundaries of the overview map, shaded cells, facility
//! points with their radius rings on hover and keyboard focus (CSS, no
//! script), and numbered markers. The tables beside each map carry the same
//! figures (the map's text alternative).

use std::fmt::Write as _;
use std::sync::OnceLock;

use laoxiao_spatial::{Xy, project};

/// Cells drawn at most (beyond, the page says to choose a smaller area or a
/// coarser grid; the tables still hold every figure).
pub const MAX_DRAWN_CELLS: usize = 40_000;
/// Facility markers that take keyboard focus at most (more would make the
/// page a long tab stop; beyond, they show their ring on hover only).
pub const MAX_FOCUSABLE: usize = 400;

/// XML text and attribute escaping.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A county outline as an SVG path in projected metres (y up, drawn as −y).
struct Outline {
    code: String,
    name: String,
    /// (min x, min y, max x, max y).
    bbox: (f64, f64, f64, f64),
    d: String,
}

fn outlines() -> &'static [Outline] {
    static O: OnceLock<Vec<Outline>> = OnceLock::new();
    O.get_or_init(|| {
        let Ok(all) = laoxiao_model::jiaxing::boundaries() else {
            return Vec::new();
        };
        all.into_iter()
            .map(|b| {
                let mut d = String::new();
                let mut bbox = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for poly in &b.boundary.polygons {
                    for ring in poly {
                        for (i, (lng, lat)) in ring.iter().enumerate() {
                            let p = project(*lng, *lat);
                            bbox = (
                                bbox.0.min(p.x),
                                bbox.1.min(p.y),
                                bbox.2.max(p.x),
                                bbox.3.max(p.y),
                            );
                            let _ = write!(
                                d,
                                "{}{:.0} {:.0}",
                                if i == 0 { "M" } else { "L" },
                                p.x,
                                -p.y
                            );
                        }
                        d.push('Z');
                    }
                }
                Outline {
                    code: b.code,
                    name: b.name,
                    bbox,
                    d,
                }
            })
            .collect()
    })
}

/// The extent of a county (or the city) outline, projected.
pub fn outline_bbox(code: &str) -> Option<(f64, f64, f64, f64)> {
    outlines().iter().find(|o| o.code == code).map(|o| o.bbox)
}

/// A shaded cell.
pub struct Cell {
    pub col: i32,
    pub row: i32,
    /// Class of the legend (0 = lightest); `None`: the hatch.
    pub class: Option<usize>,
    /// Its tooltip.
    pub title: String,
}

/// A facility point.
pub struct Point {
    pub at: Xy,
    pub title: String,
    /// Ring radii in metres shown on hover and focus.
    pub rings: Vec<f64>,
    pub planned: bool,
}

/// A numbered marker (a proposed site, a cluster).
pub struct Marker {
    pub at: Xy,
    pub label: String,
    pub title: String,
}

/// What a map shows.
pub struct MapSpec<'a> {
    /// The map's accessible name.
    pub title: &'a str,
    /// The extent to show, projected.
    pub bbox: (f64, f64, f64, f64),
    pub cell_m: f64,
    pub cells: &'a [Cell],
    pub points: &'a [Point],
    pub markers: &'a [Marker],
    /// The county outline to emphasise (the area's county), if any.
    pub county: Option<&'a str>,
}

/// The extent around some points, at least `min_side` metres wide, with a margin.
pub fn bbox_of(
    points: impl IntoIterator<Item = Xy>,
    min_side: f64,
) -> Option<(f64, f64, f64, f64)> {
    let mut b = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    let mut any = false;
    for p in points {
        any = true;
        b = (b.0.min(p.x), b.1.min(p.y), b.2.max(p.x), b.3.max(p.y));
    }
    if !any {
        return None;
    }
    let (cx, cy) = ((b.0 + b.2) / 2.0, (b.1 + b.3) / 2.0);
    let half = ((b.2 - b.0).max(b.3 - b.1) / 2.0 * 1.1).max(min_side / 2.0);
    Some((cx - half, cy - half, cx + half, cy + half))
}

/// The SVG of a map.
pub fn svg(spec: &MapSpec) -> String {
    svg_scaled(spec, 1.0)
}

/// The SVG of a map with points and markers `dot_scale` times their usual
/// size (the portal's maps are drawn a phone's width wide).
pub fn svg_scaled(spec: &MapSpec, dot_scale: f64) -> String {
    let (x0, y0, x1, y1) = spec.bbox;
    let pad = ((x1 - x0).max(y1 - y0) * 0.02).max(200.0);
    let (x0, y0, x1, y1) = (x0 - pad, y0 - pad, x1 + pad, y1 + pad);
    let (w, h) = (x1 - x0, y1 - y0);
    // Marker and stroke sizes follow the extent (the drawing is in metres).
    let unit = w.max(h) / 700.0;
    let mut s = String::with_capacity(64 * 1024 + spec.cells.len() * 64);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="plan-svg" viewBox="{:.0} {:.0} {:.0} {:.0}" role="group" aria-label="{}" preserveAspectRatio="xMidYMid meet">"#,
        x0,
        -y1,
        w,
        h,
        esc(spec.title)
    );
    let _ = write!(
        s,
        r#"<defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="{p:.0}" height="{p:.0}" patternTransform="rotate(45)"><rect width="{p:.0}" height="{p:.0}" class="hatch-bg"/><line x1="0" y1="0" x2="0" y2="{p:.0}" class="hatch-line" stroke-width="{sw:.0}"/></pattern></defs>"#,
        p = (spec.cell_m / 2.0).max(unit * 4.0),
        sw = (spec.cell_m / 6.0).max(unit * 1.2),
    );
    s.push_str(r#"<g class="outlines" aria-hidden="true">"#);
    for o in outlines().iter().filter(|o| o.code != "330400") {
        let class = if spec.county == Some(o.code.as_str()) {
            "county focus"
        } else {
            "county"
        };
        let _ = write!(
            s,
            r#"<path class="{class}" d="{}"><title>{}</title></path>"#,
            o.d,
            esc(&o.name)
        );
    }
    s.push_str("</g>");
    if !spec.cells.is_empty() {
        s.push_str(r#"<g class="cells" aria-hidden="true">"#);
        for c in spec.cells.iter().take(MAX_DRAWN_CELLS) {
            let cx = (f64::from(c.col) + 0.5) * spec.cell_m;
            let cy = (f64::from(c.row) + 0.5) * spec.cell_m;
            // A cell is drawn at least a few pixels wide: a 100 m cell on a
            // county's map would otherwise be a speck (its title says its size).
            let side = spec.cell_m.max(unit * 3.0);
            let half = side / 2.0;
            let class = match c.class {
                Some(k) => format!("c{k}"),
                None => "none".into(),
            };
            let _ = write!(
                s,
                r#"<rect class="{class}" x="{:.0}" y="{:.0}" width="{:.0}" height="{:.0}"><title>{}</title></rect>"#,
                cx - half,
                -(cy + half),
                side,
                side,
                esc(&c.title)
            );
        }
        s.push_str("</g>");
    }
    if !spec.points.is_empty() {
        let focusable = spec.points.len() <= MAX_FOCUSABLE;
        s.push_str(r#"<g class="facilities">"#);
        for p in spec.points {
            let cls = if p.planned { "fac planned" } else { "fac" };
            if focusable {
                let _ = write!(
                    s,
                    r#"<g class="{cls}" tabindex="0" role="img" aria-label="{}">"#,
                    esc(&p.title)
                );
            } else {
                let _ = write!(s, r#"<g class="{cls}" aria-hidden="true">"#);
            }
            for r in &p.rings {
                let _ = write!(
                    s,
                    r#"<circle class="ring" cx="{:.0}" cy="{:.0}" r="{:.0}"/>"#,
                    p.at.x, -p.at.y, r
                );
            }
            let _ = write!(
                s,
                r#"<circle class="dot" cx="{:.0}" cy="{:.0}" r="{:.0}"><title>{}</title></circle></g>"#,
                p.at.x,
                -p.at.y,
                unit * 3.2 * dot_scale,
                esc(&p.title)
            );
        }
        s.push_str("</g>");
    }
    if !spec.markers.is_empty() {
        s.push_str(r#"<g class="markers" aria-hidden="true">"#);
        for m in spec.markers {
            let r = unit * 9.0 * dot_scale;
            let _ = write!(
                s,
                r#"<g class="marker"><title>{}</title><circle cx="{:.0}" cy="{:.0}" r="{:.0}" stroke-width="{:.0}"/><text x="{:.0}" y="{:.0}" font-size="{:.0}" text-anchor="middle">{}</text></g>"#,
                esc(&m.title),
                m.at.x,
                -m.at.y,
                r,
                unit * 1.5,
                m.at.x,
                -m.at.y + r * 0.4,
                r * 1.1,
                esc(&m.label)
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</svg>");
    s
}

/// Class breaks: the lower bounds of up to five classes by quantile,
/// rounded down to `digits` decimals.
pub fn breaks(values: &mut Vec<f64>, digits: usize) -> Vec<f64> {
    values.retain(|v| v.is_finite());
    if values.is_empty() {
        return Vec::new();
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let mut out: Vec<f64> = Vec::new();
    let f = 10f64.powi(digits as i32);
    for q in [0.0, 0.2, 0.4, 0.6, 0.8] {
        let i = ((values.len() - 1) as f64 * q).round() as usize;
        let v = (values[i] * f).floor() / f;
        if out.last().is_none_or(|l| v > *l) {
            out.push(v);
        }
    }
    out
}

/// The class of a value under breaks.
pub fn class_of(breaks: &[f64], v: f64) -> usize {
    breaks.iter().rposition(|b| v >= *b).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breaks_rise_and_classes_follow() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        let b = breaks(&mut v, 0);
        assert_eq!(b.len(), 5);
        assert!(b.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(class_of(&b, 1.0), 0);
        assert_eq!(class_of(&b, 100.0), 4);
        let mut same = vec![3.0; 10];
        assert_eq!(breaks(&mut same, 0), vec![3.0]);
    }

    #[test]
    fn outlines_are_projected_and_names_escaped() {
        assert!(outline_bbox("330402").is_some());
        let svg = svg(&MapSpec {
            title: "a<b",
            bbox: (0.0, 0.0, 1000.0, 1000.0),
            cell_m: 100.0,
            cells: &[Cell {
                col: 1,
                row: 2,
                class: None,
                title: "x&y".into(),
            }],
            points: &[],
            markers: &[],
            county: None,
        });
        assert!(svg.contains("a&lt;b") && svg.contains("x&amp;y"));
        assert!(svg.contains(r#"class="none""#));
    }
}
