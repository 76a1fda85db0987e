//! The overview (概览): the area's headline figures, a map of its children shaded by
//! a chosen figure with the facilities as points, and the same figures as a table.
//! The figures come from the store (`laoxiao_store::figures`).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use laoxiao_model::{AreaLevel, FacilityKind};
use laoxiao_store::figures::{self, Figures};
use laoxiao_store::{Conn, Scope};
use serde::Serialize;
use serde_json::json;

use super::{ConsoleState, Ctx, ctx_or_error};

/// A facility as a map point: public fields only (`laoxiao_store::facilities::map_points`).
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    #[serde(flatten)]
    pub point: laoxiao_store::facilities::MapPoint,
    pub elderly: bool,
}

/// At most this many facility points go on a map.
pub const MAX_POINTS: usize = laoxiao_store::facilities::MAX_POINTS;

/// Facilities with coordinates in the subtree, as the scope may see them, as
/// JSON for the page's map (safe inside a `<script>`), and how many: made
/// once per facility version (thousands of points at city level).
pub fn points_json(
    conn: &mut Conn,
    reference: &laoxiao_store::Reference,
    scope: &Scope,
    path: &str,
) -> laoxiao_store::Result<(std::sync::Arc<str>, usize)> {
    laoxiao_store::facilities::map_points_kept(
        conn,
        reference,
        scope,
        path,
        "console_json",
        |pts| {
            let pts: Vec<Point> = pts
                .into_iter()
                .map(|p| Point {
                    elderly: p.kind.is_elderly(),
                    point: p,
                })
                .collect();
            let json = serde_json::to_string(&pts)
                .map_err(|e| laoxiao_store::StoreError::Database(format!("map points: {e}")))?;
            Ok((script_safe(&json).into(), pts.len()))
        },
    )
}

/// JSON that cannot end a `<script>` element or open a comment or entity in
/// it, as minijinja's `tojson` escapes it.
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\'' => out.push_str("\\u0027"),
            c => out.push(c),
        }
    }
    out
}

/// The figures a map can be shaded by: (key, message key).
pub const MAP_FIGURES: &[(&str, &str)] = &[
    ("elderly_60", "fig.elderly_60"),
    ("elderly_80", "fig.elderly_80"),
    ("infants", "fig.infants"),
    ("care_homes", "fig.care_homes"),
    ("beds", "fig.beds"),
    ("nursing_share", "fig.nursing_share"),
    ("dementia_per_10k", "fig.dementia_per_10k"),
    ("stations_3a", "fig.stations_3a"),
    ("childcare_filed", "fig.childcare_filed"),
    ("slots", "fig.slots"),
    ("slots_per_1000", "fig.slots_per_1000"),
    ("inclusive_share", "fig.inclusive_share"),
];

fn round1(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 10.0).round() / 10.0)
}

/// A figure's value by key, for the map.
fn figure(f: &Figures, key: &str, residents: Option<i64>) -> Option<f64> {
    match key {
        "elderly_60" => Some(f.elderly_60 as f64),
        "elderly_80" => Some(f.elderly_80 as f64),
        "infants" => Some(f.infants as f64),
        "care_homes" => Some(f.care_homes as f64),
        "beds" => Some(f.beds as f64),
        "nursing_share" => round1(f.nursing_share()),
        "dementia_per_10k" => round1(f.dementia_per_10k()),
        "stations_3a" => Some(f.stations_3a as f64),
        "childcare_filed" => Some(f.childcare_filed as f64),
        "slots" => Some(f.slots as f64),
        "slots_per_1000" => round1(f.slots_per_1000(residents)),
        "inclusive_share" => round1(f.inclusive_share()),
        _ => None,
    }
}

/// `GET /console/overview` — the overview (also `/` for the roles it is
/// their home, `super::homes::root`).
pub async fn page(
    state: State<ConsoleState>,
    headers: HeaderMap,
    q: Query<Vec<(String, String)>>,
) -> Response {
    page_at("/console/overview", state, headers, q).await
}

/// The overview at `path`, with the worklist panel for roles that act on records.
pub async fn page_at(
    path: &str,
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, path, headers, q);
    match build(&s, &ctx).await {
        Ok(page) => s.render(&ctx, "overview.html", "overview", page),
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn build(s: &ConsoleState, ctx: &Ctx) -> Result<serde_json::Value, super::PageError> {
    let area = ctx.area.clone();
    let today = chrono::Local::now().date_naive();
    let path = area.path.clone();
    let scope = ctx.scope();
    let (groups, pts, items, waiting) = s
        .db(move |c, r| {
            let g = figures::by_child_kept(c, r, &path, area.level, today)?;
            let p = points_json(c, r, &scope, &path)?;
            let items = super::homes::worklist_of(c, &scope, today)?;
            // Care-home waiting lists (养老机构入住轮候) of the area's homes.
            let w = laoxiao_store::admission::figures_under(c, &scope, Some(&path), today)?;
            Ok((g, p, items, w))
        })
        .await?;
    let mut waits: Vec<i64> = waiting
        .homes
        .iter()
        .filter_map(|h| h.longest_wait_days)
        .collect();
    waits.sort_unstable();
    let mut total = Figures::default();
    for f in groups.values() {
        total.add(f);
    }
    let residents = s.census.get(&ctx.area.code).copied();
    let pct = |x: Option<f64>| round1(x);

    let areas = &s.store.reference.areas;
    let children: Vec<serde_json::Value> = areas
        .children(&ctx.area.code)
        .iter()
        .map(|a| {
            let f = groups.get(&a.code).cloned().unwrap_or_default();
            let res = s.census.get(&a.code).copied();
            let values: serde_json::Map<String, serde_json::Value> = MAP_FIGURES
                .iter()
                .map(|(k, _)| ((*k).to_string(), json!(figure(&f, k, res))))
                .collect();
            json!({
                "code": a.code,
                "name": a.name,
                "url": format!("{}?area={}", ctx.path, a.code),
                "centre": a.centre.map(|c| [c.0, c.1]),
                "f": f,
                "nursing_share": pct(f.nursing_share()),
                "dementia_per_10k": pct(f.dementia_per_10k()),
                "inclusive_share": pct(f.inclusive_share()),
                "slots_per_1000": pct(f.slots_per_1000(res)),
                "values": values,
            })
        })
        .collect();
    // The county whose outline frames a map below the city.
    let county = areas
        .ancestor_at(&ctx.area.code, AreaLevel::County)
        .map(|a| a.code.clone());
    let figures: Vec<serde_json::Value> = MAP_FIGURES
        .iter()
        .map(|(k, label)| json!({"key": k, "label": s.t(ctx, label)}))
        .collect();
    let kinds: serde_json::Map<String, serde_json::Value> = FacilityKind::ALL
        .iter()
        .map(|k| {
            (
                k.code().to_string(),
                json!(s.label(ctx, "facility_kind", k.code())),
            )
        })
        .collect();
    let chosen = ctx
        .param("figure")
        .filter(|f| MAP_FIGURES.iter().any(|(k, _)| k == f))
        .unwrap_or("elderly_60")
        .to_string();
    let map = json!({
        "level": ctx.area.level.code(),
        "area": ctx.area.code,
        "county": county,
        "centre": ctx.area.centre.map(|c| [c.0, c.1]),
        "children": children,
        "kinds": kinds,
        "figure": chosen,
        "figures": figures,
        "geo_url": "/console/static/geo/jiaxing.json",
        "labels": {
            "elderly_points": s.t(ctx, "map.elderly_points"),
            "childcare_points": s.t(ctx, "map.childcare_points"),
            "no_data": s.t(ctx, "map.no_data"),
        },
    });
    Ok(json!({
        "items": super::homes::lines(ctx, &items),
        "total": total,
        "nursing_share": pct(total.nursing_share()),
        "dementia_per_10k": pct(total.dementia_per_10k()),
        "inclusive_share": pct(total.inclusive_share()),
        "slots_per_1000": total.slots_per_1000(residents).map(|v| (v * 100.0).round() / 100.0),
        "residents": residents,
        "children": children,
        "map": map,
        "figure": chosen,
        "figures": figures,
        "points_json": &*pts.0,
        "points_capped": pts.1 >= MAX_POINTS,
        "admission": {
            "waiting": waiting.total_waiting,
            "offers": waiting.open_offers,
            "longest": waits.last(),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::script_safe;

    #[test]
    fn map_json_cannot_close_its_script_element() {
        let s = script_safe(r#"[{"name":"</script><b>A & B's"}]"#);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&') && !s.contains('\''));
        let back: serde_json::Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(back[0]["name"], "</script><b>A & B's");
    }
}
