//! Spatial planning in the console (设施布局规划): the gap map (服务半径
//! 覆盖缺口), accessibility (可达性) and the siting tool (选址). Maps are
//! SVG drawn by [`super::planmap`]; every map has its figures in the tables
//! beside it.

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use laoxiao_model::{AreaLevel, FieldError};
use laoxiao_rules::RulesError;
use laoxiao_rules::planning::report::{self, CellFilter};
use laoxiao_rules::planning::siting::{self, SitingReport};
use laoxiao_rules::planning::{Analysis, DensityClass, Layer, Options, Params, SlotStatus};
use laoxiao_spatial::{Xy, project};
use serde_json::{Value as Json, json};

use super::i18n::Lang;
use super::planmap::{self, Cell, MapSpec, Marker, Point};
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error, url_with};

/// Clusters listed on the gap map.
const CLUSTERS: usize = 20;
/// Clusters marked on the map.
const CLUSTER_MARKERS: usize = 10;

fn params() -> Result<&'static Params, PageError> {
    crate::planning::params().map_err(|e| PageError::Internal(e.to_string()))
}

fn today() -> chrono::NaiveDate {
    crate::planning::check_date(None).unwrap_or_default()
}

fn en(ctx: &Ctx) -> bool {
    ctx.lang == Lang::En
}

/// A rules error's reason for the page (a bad parameter), or the page's error.
fn rules_reason(e: RulesError) -> Result<FieldError, PageError> {
    match e {
        RulesError::Parameter { name, reason } => Ok(FieldError::new(name, reason)),
        other => Err(PageError::Internal(other.to_string())),
    }
}

/// The cell side asked (`cell`), else 250 m for the city and 100 m below.
fn cell_of(ctx: &Ctx) -> f64 {
    match ctx.param("cell") {
        Some("100") => 100.0,
        Some("250") => 250.0,
        Some("1000") => 1000.0,
        _ if ctx.area.level == AreaLevel::City => 250.0,
        _ => 100.0,
    }
}

fn cell_options(s: &ConsoleState, ctx: &Ctx, chosen: f64) -> Vec<Json> {
    [100.0, 250.0, 1000.0]
        .iter()
        .map(|c| {
            json!({"value": *c as u32, "label": s.cat.fill(ctx.lang, "planning.cell_m", &[("n", format!("{}", *c as u32))]), "selected": *c == chosen})
        })
        .collect()
}

/// The counties and towns in the caller's scope, for the area select.
fn area_options(s: &ConsoleState, ctx: &Ctx) -> Vec<Json> {
    let areas = &s.store.reference.areas;
    let home = ctx
        .auth
        .principal
        .as_ref()
        .and_then(|p| areas.get(&p.user.area_code))
        .or_else(|| areas.root());
    let Some(home) = home else {
        return Vec::new();
    };
    let scope = ctx.scope();
    areas
        .subtree(&home.code)
        .into_iter()
        .filter(|a| {
            (a.code == home.code || matches!(a.level, AreaLevel::County | AreaLevel::Town))
                && scope.contains_path(&a.path)
        })
        .map(|a| {
            let indent = match a.level {
                AreaLevel::Town => "\u{3000}",
                _ => "",
            };
            json!({"value": a.code, "label": format!("{indent}{}", a.name), "selected": a.code == ctx.area.code})
        })
        .collect()
}

/// The extent of an area's map: the county or city outline, else the
/// area's cells.
fn area_bbox(a: &Analysis, ai: u32, area: &laoxiao_model::Area) -> (f64, f64, f64, f64) {
    let outline = match area.level {
        AreaLevel::City | AreaLevel::County => planmap::outline_bbox(&area.code),
        _ => None,
    };
    outline
        .or_else(|| {
            planmap::bbox_of(
                a.cells_in(ai).into_iter().map(|c| a.grid.centre(c)),
                3_000.0,
            )
        })
        .or_else(|| planmap::outline_bbox("330400"))
        .unwrap_or((0.0, 0.0, 1.0, 1.0))
}

fn inside(b: (f64, f64, f64, f64), p: Xy, margin: f64) -> bool {
    p.x >= b.0 - margin && p.x <= b.2 + margin && p.y >= b.1 - margin && p.y <= b.3 + margin
}

fn county_of(s: &ConsoleState, code: &str) -> Option<String> {
    s.store
        .reference
        .areas
        .ancestor_at(code, AreaLevel::County)
        .map(|a| a.code.clone())
}

fn pct(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| (n as f64 * 1000.0 / d as f64).round() / 10.0)
}

/// Legend entries for class breaks: `lower–upper` ranges, the last open.
fn legend(breaks: &[f64], digits: usize) -> Vec<Json> {
    breaks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let label = match breaks.get(i + 1) {
                Some(next) if digits == 0 && next - b <= 1.0 => format!("{b:.0}"),
                Some(next) if digits == 0 => format!("{b:.0}–{:.0}", next - 1.0),
                Some(next) => format!("{b:.digits$}–{next:.digits$}"),
                None => format!("≥ {b:.digits$}"),
            };
            json!({"class": format!("c{i}"), "label": label})
        })
        .collect()
}

fn facility_title(s: &ConsoleState, ctx: &Ctx, f: &report::FacilityRef) -> String {
    let kind = s.label(ctx, "facility_kind", f.kind);
    if f.planned {
        format!("{}（{kind}，{}）", f.name, s.t(ctx, "planning.planned"))
    } else {
        format!("{}（{kind}）", f.name)
    }
}

/// What the gap map page computes (in one blocking task).
struct Gap {
    analysis: Arc<Analysis>,
    report: Result<report::CoverageReport, RulesError>,
    cells: Result<Vec<report::CellRow>, RulesError>,
    slots: Result<report::SlotsReport, RulesError>,
}

/// `GET /console/planning` — the gap map.
pub async fn gap(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/planning", headers, q);
    match build_gap(&s, &ctx).await {
        Ok(page) => s.render(&ctx, "planning.html", "planning", page),
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn build_gap(s: &ConsoleState, ctx: &Ctx) -> Result<Json, PageError> {
    let p = params()?;
    let rule_code = ctx
        .param("rule")
        .filter(|r| p.rule(r).is_some())
        .unwrap_or("institution")
        .to_string();
    let cell_m = cell_of(ctx);
    let basis = match ctx.param("basis") {
        Some("elderly") => Some(Layer::Elderly),
        _ => None,
    };
    let with_planned = ctx.param("planned") == Some("1");
    let opts = Options {
        cell_m,
        basis,
        with_planned,
    };
    let area = ctx.area.clone();
    let (code, rc) = (area.code.clone(), rule_code.clone());
    let g = s
        .db(move |c, r| {
            let (_, a) = r.planning.analysis(c, &r.areas, today(), p, &opts)?;
            let report = report::coverage_report(&a, &rc, Some(&code), CLUSTERS);
            let cells = report::cells(&a, Some(&code), Some(&rc), CellFilter::Uncovered);
            let slots = report::slots_report(&a, Some(&code));
            Ok(Gap {
                analysis: a,
                report,
                cells,
                slots,
            })
        })
        .await?;
    let a = &g.analysis;
    let report = g.report.map_err(|e| PageError::Internal(e.to_string()))?;
    let rule = a
        .rule(&rule_code)
        .ok_or_else(|| PageError::Internal("rule vanished".into()))?;
    let ai =
        report::area_of(a, Some(&area.code)).map_err(|e| PageError::Internal(e.to_string()))?;
    let bbox = area_bbox(a, ai, &area);

    // The map: uncovered cells by the people not covered.
    let mut notes: Vec<String> = Vec::new();
    let (cells, legend_items) = match &g.cells {
        Ok(rows) => {
            let mut vals: Vec<f64> = rows
                .iter()
                .map(|r| r.rules.first().map_or(0.0, |x| f64::from(x.uncovered)))
                .collect();
            let br = planmap::breaks(&mut vals, 0);
            let cells: Vec<Cell> = rows
                .iter()
                .map(|r| {
                    let n = r.rules.first().map_or(0, |x| x.uncovered);
                    Cell {
                        col: r.col,
                        row: r.row,
                        class: Some(planmap::class_of(&br, f64::from(n))),
                        title: s.cat.fill(
                            ctx.lang,
                            "planning.cell_title",
                            &[("n", n.to_string()), ("class", class_label(ctx, r.class))],
                        ),
                    }
                })
                .collect();
            if cells.len() > planmap::MAX_DRAWN_CELLS {
                notes.push(s.t(ctx, "planning.cells_capped"));
            }
            (cells, legend(&br, 0))
        }
        Err(e) => {
            notes.push(format!("{}: {e}", s.t(ctx, "planning.no_cells")));
            (Vec::new(), Vec::new())
        }
    };
    let mut rings: Vec<f64> = DensityClass::ALL
        .iter()
        .filter_map(|c| rule.rule.threshold(*c))
        .collect();
    rings.sort_by(|x, y| x.total_cmp(y));
    rings.dedup();
    let max_ring = rings.last().copied().unwrap_or(0.0);
    let points: Vec<Point> = rule
        .facilities
        .iter()
        .map(|i| report::facility_ref(a, *i))
        .filter_map(|f| {
            let at = project(f.lng, f.lat);
            inside(bbox, at, max_ring).then(|| Point {
                at,
                title: facility_title(s, ctx, &f),
                rings: rings.clone(),
                planned: f.planned,
            })
        })
        .collect();
    let markers: Vec<Marker> = report
        .clusters
        .iter()
        .take(CLUSTER_MARKERS)
        .map(|c| Marker {
            at: project(c.lng, c.lat),
            label: c.rank.to_string(),
            title: s.cat.fill(
                ctx.lang,
                "planning.cluster_title",
                &[("rank", c.rank.to_string()), ("n", c.people.to_string())],
            ),
        })
        .collect();
    let title = s
        .cat
        .fill(ctx.lang, "planning.map_alt", &[("area", area.name.clone())]);
    let svg = planmap::svg(&MapSpec {
        title: &title,
        bbox,
        cell_m,
        cells: &cells,
        points: &points,
        markers: &markers,
        county: county_of(s, &area.code).as_deref(),
    });

    // The tables.
    let rows: Vec<Json> = report
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = &r.total;
            let mut keep = ctx.keep(&["area"]);
            keep.push(("area".into(), r.area.clone()));
            json!({
                "name": r.name,
                "url": (i > 0).then(|| url_with("/console/planning", &keep)),
                "people": t.people,
                "in_scope": t.in_scope,
                "covered": t.covered,
                "not_covered": t.not_covered,
                "not_assessed": t.not_assessed,
                "share": pct(t.covered, t.in_scope),
                "high": pct(r.by_class[0].covered, r.by_class[0].in_scope),
                "medium": pct(r.by_class[1].covered, r.by_class[1].in_scope),
                "low": r.by_class[2].people,
                "total": i == 0,
            })
        })
        .collect();
    let clusters: Vec<Json> = report
        .clusters
        .iter()
        .map(|c| {
            let mut keep = ctx.keep(&["area"]);
            keep.push(("area".into(), c.area.clone()));
            json!({
                "rank": c.rank,
                "people": c.people,
                "cells": c.cells,
                "area_name": c.area_name,
                "url": url_with("/console/planning", &keep),
                "lng": format!("{:.5}", c.lng),
                "lat": format!("{:.5}", c.lat),
            })
        })
        .collect();
    let slots: Vec<Json> = match &g.slots {
        Ok(t) => t
            .rows
            .iter()
            .map(|r| {
                let status = match r.status {
                    SlotStatus::Met => "met",
                    SlotStatus::Short => "short",
                    SlotStatus::NoResidents => "no_residents",
                };
                json!({
                    "name": r.name,
                    "residents": r.residents.round() as i64,
                    "slots": r.slots.round() as i64,
                    "per_1000": r.per_1000.map(|v| (v * 100.0).round() / 100.0),
                    "norm": r.norm_per_1000,
                    "gap": r.gap.round() as i64,
                    "status": status,
                    "status_label": s.t(ctx, &format!("planning.slot_{status}")),
                })
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let slots_clause = g
        .slots
        .as_ref()
        .map(|t| t.clause.clone())
        .unwrap_or_default();
    let rules: Vec<Json> = p
        .rules
        .iter()
        .map(|r| json!({"value": r.code, "label": if en(ctx) { &r.en } else { &r.zh }, "selected": r.code == rule_code}))
        .collect();
    let ring_text = rings
        .iter()
        .map(|r| format!("{r:.0}"))
        .collect::<Vec<_>>()
        .join(" / ");
    let reading = report::Reading::of(a);
    Ok(json!({
        "rules": rules,
        "rule": {
            "code": rule_code,
            "name": if en(ctx) { &rule.rule.en } else { &rule.rule.zh },
            "clause": rule.rule.clause,
            "rings": ring_text,
        },
        "areas": area_options(s, ctx),
        "cells_opts": cell_options(s, ctx, cell_m),
        "basis": basis.map_or("residents", |b| b.code()),
        "planned": with_planned,
        "svg": svg,
        "legend": legend_items,
        "notes": notes,
        "n_cells": cells.len(),
        "n_points": points.len(),
        "rows": rows,
        "clusters": clusters,
        "clusters_total": report.clusters_total,
        "slots": slots,
        "slots_clause": slots_clause,
        "reading": {
            "date": reading.date,
            "version": reading.params_version,
            "cell_m": reading.cell_m as u32,
            "residents_source": s.t(ctx, &format!("planning.residents_{}", reading.residents_source)),
            "people_without_point": reading.people_without_point,
            "facilities_without_point": reading.facilities_without_point,
        },
        "access_url": url_with("/console/planning/access", &ctx.keep(&["rule", "basis", "planned"])),
        "siting_url": "/console/planning/siting",
    }))
}

fn class_label(ctx: &Ctx, c: &str) -> String {
    let class = DensityClass::ALL.into_iter().find(|x| x.code() == c);
    match class {
        Some(x) if ctx.lang == Lang::En => x.label_en().to_string(),
        Some(x) => x.label_zh().to_string(),
        None => c.to_string(),
    }
}

/// Decay presets offered on the accessibility page.
const DECAYS: &[&str] = &["uniform", "gaussian:500", "step:300=1,600=0.68,1000=0.22"];

/// `GET /console/planning/access` — accessibility.
pub async fn access(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/planning/access", headers, q);
    match build_access(&s, &ctx).await {
        Ok((status, page)) => {
            s.render_status(&ctx, status, "planning_access.html", "planning", page)
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn build_access(s: &ConsoleState, ctx: &Ctx) -> Result<(StatusCode, Json), PageError> {
    let p = params()?;
    let side = match ctx.param("side") {
        Some("slots") => "slots",
        _ => "beds",
    }
    .to_string();
    let radius_raw = ctx
        .param("radius")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:.0}", p.access.radius_m));
    let custom = ctx.param("decay_custom").map(str::to_string);
    let decay = custom
        .clone()
        .or_else(|| ctx.param("decay").map(str::to_string))
        .unwrap_or_else(|| p.access.decay.clone());
    let cell_m = cell_of(ctx);
    let opts = Options {
        cell_m,
        basis: None,
        with_planned: ctx.param("planned") == Some("1"),
    };
    let area = ctx.area.clone();
    let mut errors: Vec<FieldError> = Vec::new();
    let radius = match radius_raw.parse::<f64>() {
        Ok(r) => Some(r),
        Err(_) => {
            errors.push(FieldError::new(
                s.t(ctx, "planning.radius"),
                s.t(ctx, "planning.radius_hint"),
            ));
            None
        }
    };
    let code = area.code.clone();
    let (sd, dc) = (side.clone(), decay.clone());
    type Out = (
        Arc<Analysis>,
        Result<(report::AccessRun, report::AccessReport), RulesError>,
    );
    let (a, run): Out = s
        .db(move |c, r| {
            let (_, a) = r.planning.analysis(c, &r.areas, today(), p, &opts)?;
            let run = radius
                .ok_or_else(|| RulesError::Parameter {
                    name: "radius".into(),
                    reason: String::new(),
                })
                .and_then(|radius| {
                    report::AccessRequest::parse(&a, &sd, Some(radius), Some(&dc), None)
                })
                .and_then(|req| {
                    let run = report::access(&a, &req);
                    let rep = report::access_report(&a, &run, Some(&code))?;
                    Ok((run, rep))
                });
            Ok((a, run))
        })
        .await?;
    let ai =
        report::area_of(&a, Some(&area.code)).map_err(|e| PageError::Internal(e.to_string()))?;
    let bbox = area_bbox(&a, ai, &area);
    let mut result = Json::Null;
    let mut svg = String::new();
    let mut legend_items = Vec::new();
    let mut notes = Vec::new();
    match run {
        Err(e) => {
            let fe = rules_reason(e)?;
            if errors.is_empty() {
                let label = match fe.field.as_str() {
                    "radius" => s.t(ctx, "planning.radius"),
                    "decay" => s.t(ctx, "planning.decay"),
                    other => other.to_string(),
                };
                errors.push(FieldError::new(label, fe.reason));
            }
        }
        Ok((run, rep)) => {
            let ids = a.cells_in(ai);
            let layer = run.request.demand.index();
            let mut vals: Vec<f64> = ids
                .iter()
                .filter_map(|c| run.value[*c].map(|v| v * 1000.0))
                .collect();
            let br = planmap::breaks(&mut vals, 2);
            let no_reach = s.t(ctx, "planning.no_reach");
            let cells: Vec<Cell> = ids
                .iter()
                .map(|c| {
                    let key = a.grid.keys[*c];
                    let v = run.value[*c].map(|v| v * 1000.0);
                    let demand = a.grid.value(*c, layer);
                    Cell {
                        col: key.0,
                        row: key.1,
                        class: v.map(|v| planmap::class_of(&br, v)),
                        title: match v {
                            Some(v) => s.cat.fill(
                                ctx.lang,
                                "planning.access_cell",
                                &[("v", format!("{v:.2}")), ("d", format!("{demand:.1}"))],
                            ),
                            None => format!(
                                "{no_reach}; {}",
                                s.cat.fill(
                                    ctx.lang,
                                    "planning.demand_n",
                                    &[("d", format!("{demand:.1}"))]
                                )
                            ),
                        },
                    }
                })
                .collect();
            if cells.len() > planmap::MAX_DRAWN_CELLS {
                notes.push(s.t(ctx, "planning.cells_capped"));
            }
            legend_items = legend(&br, 2);
            let points: Vec<Point> = run
                .supply
                .iter()
                .map(|i| report::facility_ref(&a, *i))
                .filter_map(|f| {
                    let at = project(f.lng, f.lat);
                    inside(bbox, at, run.request.radius_m).then(|| Point {
                        at,
                        title: facility_title(s, ctx, &f),
                        rings: vec![run.request.radius_m],
                        planned: f.planned,
                    })
                })
                .collect();
            let title = s.cat.fill(
                ctx.lang,
                "planning.access_alt",
                &[("area", area.name.clone())],
            );
            svg = planmap::svg(&MapSpec {
                title: &title,
                bbox,
                cell_m,
                cells: &cells,
                points: &points,
                markers: &[],
                county: county_of(s, &area.code).as_deref(),
            });
            let rows: Vec<Json> = rep
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let mut keep = ctx.keep(&["area"]);
                    keep.push(("area".into(), r.area.clone()));
                    json!({
                        "name": r.name,
                        "url": (i > 0).then(|| url_with("/console/planning/access", &keep)),
                        "demand": r.demand.round() as i64,
                        "without": r.demand_without_access.round() as i64,
                        "without_share": (r.demand > 0.0).then(|| (r.demand_without_access * 1000.0 / r.demand).round() / 10.0),
                        "per_1000": r.mean_per_1000.map(|v| (v * 100.0).round() / 100.0),
                        "total": i == 0,
                    })
                })
                .collect();
            let unserved: Vec<Json> = rep
                .unserved
                .iter()
                .map(|f| {
                    json!({
                        "name": f.name,
                        "kind": s.label(ctx, "facility_kind", f.kind),
                        "capacity": if side == "beds" { f.beds } else { f.slots },
                        "area": super::area_name(s, &f.area),
                    })
                })
                .collect();
            result = json!({
                "rows": rows,
                "unserved": unserved,
                "radius": format!("{:.0}", rep.radius_m),
                "decay": rep.decay,
                "demand": s.t(ctx, &format!("planning.demand_{}", rep.demand)),
                "millis": format!("{:.0}", rep.millis),
                "n_points": points.len(),
            });
        }
    }
    let sides: Vec<Json> = ["beds", "slots"]
        .iter()
        .map(|x| json!({"value": x, "label": s.t(ctx, &format!("planning.side_{x}")), "selected": *x == side}))
        .collect();
    let decays: Vec<Json> = DECAYS
        .iter()
        .map(|d| json!({"value": d, "label": s.t(ctx, &format!("planning.decay_{}", d.split(':').next().unwrap_or(d))) + if d.contains(':') { format!(" ({d})") } else { String::new() }.as_str(), "selected": custom.is_none() && *d == decay}))
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        json!({
            "sides": sides,
            "side": side,
            "radius": radius_raw,
            "decays": decays,
            "decay_custom": custom.unwrap_or_default(),
            "areas": area_options(s, ctx),
            "cells_opts": cell_options(s, ctx, cell_m),
            "planned": ctx.param("planned") == Some("1"),
            "errors": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
            "r": result,
            "svg": svg,
            "legend": legend_items,
            "notes": notes,
            "gap_url": url_with("/console/planning", &ctx.keep(&["side", "radius", "decay", "decay_custom"])),
        }),
    ))
}

/// The counties in the caller's scope, for the siting form.
fn counties(s: &ConsoleState, ctx: &Ctx) -> Vec<(String, String)> {
    let scope = ctx.scope();
    let areas = &s.store.reference.areas;
    areas
        .root()
        .map(|city| areas.children(&city.code))
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a.level == AreaLevel::County && scope.contains_path(&a.path))
        .map(|a| (a.code.clone(), a.name.clone()))
        .collect()
}

/// The siting form's values, as given (or the defaults).
#[derive(Debug, Clone)]
struct SitingForm {
    county: String,
    mode: String,
    rule: String,
    k: String,
    target: String,
    candidates: String,
    spacing: String,
    points: String,
    planned: bool,
}

impl SitingForm {
    fn defaults(s: &ConsoleState, ctx: &Ctx) -> SitingForm {
        let county = county_of(s, &ctx.area.code)
            .or_else(|| counties(s, ctx).first().map(|c| c.0.clone()))
            .unwrap_or_default();
        SitingForm {
            county,
            mode: "count".into(),
            rule: "institution".into(),
            k: "5".into(),
            target: "90".into(),
            candidates: "centres".into(),
            spacing: "250".into(),
            points: String::new(),
            planned: false,
        }
    }

    fn from(form: &FormData) -> SitingForm {
        let f = |k: &str, d: &str| field(form, k).unwrap_or(d).to_string();
        SitingForm {
            county: f("county", ""),
            mode: f("mode", "count"),
            rule: f("rule", "institution"),
            k: f("k", ""),
            target: f("target", ""),
            candidates: f("candidates", "centres"),
            spacing: f("spacing_m", "250"),
            points: form
                .iter()
                .rev()
                .find(|(k, _)| k == "points")
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            planned: field(form, "planned") == Some("1"),
        }
    }

    /// The API's body, or the form's errors (labelled for the page).
    fn body(
        &self,
        s: &ConsoleState,
        ctx: &Ctx,
    ) -> Result<crate::planning::SitingBody, Vec<FieldError>> {
        use crate::planning::{CandidatePoint, CandidateSource, SitingBody, SitingMode};
        let mut errors = Vec::new();
        let label = |k: &str| s.t(ctx, &format!("planning.f_{k}"));
        let mode = match self.mode.as_str() {
            "target" => SitingMode::Target,
            "slots" => SitingMode::Slots,
            _ => SitingMode::Count,
        };
        let k = match (mode, self.k.trim().parse::<u32>()) {
            (SitingMode::Count, Ok(k)) => Some(k),
            (SitingMode::Count, Err(_)) => {
                errors.push(FieldError::new(label("k"), s.t(ctx, "planning.k_hint")));
                None
            }
            _ => None,
        };
        let target = match (mode, self.target.trim().parse::<f64>()) {
            (SitingMode::Target, Ok(t)) => Some(t / 100.0),
            (SitingMode::Target, Err(_)) => {
                errors.push(FieldError::new(
                    label("target"),
                    s.t(ctx, "planning.target_hint"),
                ));
                None
            }
            _ => None,
        };
        let candidates = match self.candidates.as_str() {
            "grid" => CandidateSource::Grid,
            "points" => CandidateSource::Points,
            _ => CandidateSource::Centres,
        };
        let spacing = match (candidates, self.spacing.trim().parse::<f64>()) {
            (CandidateSource::Grid, Ok(x)) => Some(x),
            (CandidateSource::Grid, Err(_)) => {
                errors.push(FieldError::new(
                    label("spacing_m"),
                    s.t(ctx, "planning.spacing_hint"),
                ));
                None
            }
            _ => None,
        };
        let mut points = Vec::new();
        if candidates == CandidateSource::Points {
            for (i, line) in self.points.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let mut parts = line.splitn(3, [',', '，']);
                let lng = parts.next().and_then(|x| x.trim().parse::<f64>().ok());
                let lat = parts.next().and_then(|x| x.trim().parse::<f64>().ok());
                match (lng, lat) {
                    (Some(lng), Some(lat)) => points.push(CandidatePoint {
                        lng,
                        lat,
                        name: parts
                            .next()
                            .map(|x| x.trim().to_string())
                            .filter(|x| !x.is_empty()),
                    }),
                    _ => errors.push(FieldError::new(
                        label("points"),
                        s.cat.fill(
                            ctx.lang,
                            "planning.points_line",
                            &[("n", (i + 1).to_string())],
                        ),
                    )),
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(SitingBody {
            county: self.county.clone(),
            mode,
            rule: Some(self.rule.clone()),
            k,
            target,
            candidates: Some(candidates),
            spacing_m: spacing,
            points: (candidates == CandidateSource::Points).then_some(points),
            max_gap: None,
            with_planned: Some(self.planned),
            cell: None,
        })
    }
}

/// Renders the siting page: the form, and the answer when there is one.
async fn render_siting(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    form: &SitingForm,
    result: Option<(Arc<Analysis>, SitingReport)>,
    errors: &[FieldError],
    saved: &[String],
) -> Response {
    let p = match params() {
        Ok(p) => p,
        Err(e) => return s.error_page(ctx, e),
    };
    let counties: Vec<Json> = counties(s, ctx)
        .into_iter()
        .map(|(c, n)| json!({"value": c, "label": n, "selected": c == form.county}))
        .collect();
    let rules: Vec<Json> = p
        .rules
        .iter()
        .map(|r| json!({"value": r.code, "label": if en(ctx) { &r.en } else { &r.zh }, "selected": r.code == form.rule}))
        .collect();
    let modes: Vec<Json> = ["count", "target", "slots"]
        .iter()
        .map(|m| json!({"value": m, "label": s.t(ctx, &format!("planning.mode_{m}")), "checked": *m == form.mode}))
        .collect();
    let sources: Vec<Json> = ["centres", "grid", "points"]
        .iter()
        .map(|m| json!({"value": m, "label": s.t(ctx, &format!("planning.cand_{m}")), "checked": *m == form.candidates}))
        .collect();
    let mut r = Json::Null;
    let mut svg = String::new();
    if let Some((a, rep)) = result {
        let slots_mode = rep.mode == "slots";
        let rule = rep.rule.as_deref().and_then(|c| a.rule(c));
        let county = rep.area.code.clone();
        let ai = report::area_of(&a, Some(&county)).unwrap_or(0);
        let area = s.store.reference.areas.get(&county).cloned();
        let bbox = area
            .as_ref()
            .map(|x| area_bbox(&a, ai, x))
            .unwrap_or((0.0, 0.0, 1.0, 1.0));
        let mut cells = Vec::new();
        let mut legend_items = Vec::new();
        if let Some(rule) = rule
            && let Ok(rows) = report::cells(
                &a,
                Some(&county),
                Some(&rule.rule.code),
                CellFilter::Uncovered,
            )
        {
            let mut vals: Vec<f64> = rows
                .iter()
                .map(|r| r.rules.first().map_or(0.0, |x| f64::from(x.uncovered)))
                .collect();
            let br = planmap::breaks(&mut vals, 0);
            legend_items = legend(&br, 0);
            cells = rows
                .iter()
                .map(|r| {
                    let n = r.rules.first().map_or(0, |x| x.uncovered);
                    Cell {
                        col: r.col,
                        row: r.row,
                        class: Some(planmap::class_of(&br, f64::from(n))),
                        title: s.cat.fill(
                            ctx.lang,
                            "planning.cell_title",
                            &[("n", n.to_string()), ("class", class_label(ctx, r.class))],
                        ),
                    }
                })
                .collect();
        }
        let facilities: Vec<u32> = match rule {
            Some(rule) => rule.facilities.clone(),
            None => (0..a.inputs.facilities.len() as u32)
                .filter(|i| {
                    a.counted[*i as usize]
                        && a.params
                            .childcare
                            .kinds
                            .contains(&a.inputs.facilities[*i as usize].kind)
                })
                .collect(),
        };
        let mut rings: Vec<f64> = match rule {
            Some(rule) => DensityClass::ALL
                .iter()
                .filter_map(|c| rule.rule.threshold(*c))
                .collect(),
            None => vec![a.params.access.radius_m],
        };
        rings.sort_by(|x, y| x.total_cmp(y));
        rings.dedup();
        let points: Vec<Point> = facilities
            .iter()
            .map(|i| report::facility_ref(&a, *i))
            .filter_map(|f| {
                let at = project(f.lng, f.lat);
                inside(bbox, at, 0.0).then(|| Point {
                    at,
                    title: facility_title(s, ctx, &f),
                    rings: rings.clone(),
                    planned: f.planned,
                })
            })
            .collect();
        let markers: Vec<Marker> = rep
            .sites
            .iter()
            .map(|x| Marker {
                at: project(x.lng, x.lat),
                label: x.rank.to_string(),
                title: format!("{} {}", x.rank, x.name),
            })
            .collect();
        let title = s.cat.fill(
            ctx.lang,
            "planning.siting_alt",
            &[("area", rep.area.name.clone())],
        );
        svg = planmap::svg(&MapSpec {
            title: &title,
            bbox,
            cell_m: a.grid.size,
            cells: &cells,
            points: &points,
            markers: &markers,
            county: Some(&county),
        })
        .replace(r#"<g class="marker">"#, r#"<g class="marker site">"#);
        let sites: Vec<Json> = rep
            .sites
            .iter()
            .map(|x| {
                json!({
                    "rank": x.rank,
                    "name": x.name,
                    "source": s.t(ctx, &format!("planning.src_{}", x.source)),
                    "lng": format!("{:.6}", x.lng),
                    "lat": format!("{:.6}", x.lat),
                    "area": x.area,
                    "area_name": x.area_name,
                    "kind": x.kind,
                    "kind_label": s.label(ctx, "facility_kind", x.kind),
                    "gain": x.gain.round() as i64,
                    "slots": x.slots.map(|v| v.round() as i64),
                    "need": x.need_in_reach.map(|v| (v * 10.0).round() / 10.0),
                })
            })
            .collect();
        let share =
            |n: f64| (rep.in_scope > 0.0).then(|| (n * 1000.0 / rep.in_scope).round() / 10.0);
        r = json!({
            "slots_mode": slots_mode,
            "county": rep.area.name,
            "rule": rule.map(|x| if en(ctx) { x.rule.en.clone() } else { x.rule.zh.clone() }),
            "in_scope": rep.in_scope.round() as i64,
            "before": rep.covered_before.round() as i64,
            "after": rep.covered_after.round() as i64,
            "before_share": if slots_mode { None } else { share(rep.covered_before) },
            "after_share": if slots_mode { None } else { share(rep.covered_after) },
            "upper": rep.upper_bound.map(|v| v.round() as i64),
            "gap": rep.gap.map(|g| format!("{:.2}", g * 100.0)),
            "optimal": rep.optimal,
            "nodes": rep.nodes.map(|n| n.to_string()),
            "needed": rep.slots_needed.map(|v| v.round() as i64),
            "proposed": rep.slots_proposed.map(|v| v.round() as i64),
            "candidates": rep.candidates,
            "millis": format!("{:.1}", rep.millis),
            "sites": sites,
            "legend": legend_items,
            "can_save": ctx.auth.can(laoxiao_store::Perm::WriteFacilities),
        });
    }
    let saved: Vec<Json> = saved
        .iter()
        .map(|id| json!({"id": id, "url": format!("/console/facilities/{}", super::enc(id))}))
        .collect();
    let page = json!({
        "counties": counties,
        "rules": rules,
        "modes": modes,
        "sources": sources,
        "f": {
            "k": form.k, "target": form.target, "spacing": form.spacing, "points": form.points, "planned": form.planned,
        },
        "errors": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
        "r": r,
        "svg": svg,
        "saved": saved,
        "can_read_facilities": ctx.auth.can(laoxiao_store::Perm::ReadFacilities),
        "gap_url": "/console/planning",
    });
    s.render_status(ctx, status, "planning_siting.html", "planning", page)
}

/// `GET /console/planning/siting` — the siting form.
pub async fn siting_form(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/planning/siting", headers, q);
    let form = SitingForm::defaults(&s, &ctx);
    render_siting(&s, &ctx, StatusCode::OK, &form, None, &[], &[]).await
}

/// Labels the API's field names for the page.
fn labelled(s: &ConsoleState, ctx: &Ctx, errors: Vec<FieldError>) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| {
            let key = format!(
                "planning.f_{}",
                e.field.split(['[', '.']).next().unwrap_or("")
            );
            let label = if s.cat.has(&key) {
                s.t(ctx, &key)
            } else {
                e.field.clone()
            };
            FieldError::new(label, e.reason)
        })
        .collect()
}

/// `POST /console/planning/siting` — runs the siting tool.
pub async fn siting_run(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(raw): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/planning/siting", headers, q);
    let form = SitingForm::from(&raw);
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let body = match form.body(&s, &ctx) {
        Ok(b) => b,
        Err(errs) => return render_siting(&s, &ctx, unprocessable, &form, None, &errs, &[]).await,
    };
    let scope = ctx.scope();
    let checked = crate::planning::siting_request(&s.store.reference, &ctx.auth, &scope, &body);
    let (req, opts) = match checked {
        Ok(x) => x,
        Err(errs) => {
            let errs = labelled(&s, &ctx, errs);
            return render_siting(&s, &ctx, unprocessable, &form, None, &errs, &[]).await;
        }
    };
    let p = match params() {
        Ok(p) => p,
        Err(e) => return s.error_page(&ctx, e),
    };
    let out = s
        .db(move |c, r| {
            let (_, a) = r.planning.analysis(c, &r.areas, today(), p, &opts)?;
            let rep = siting::site(&a, &req);
            Ok((a, rep))
        })
        .await;
    match out {
        Ok((a, Ok(rep))) => {
            render_siting(&s, &ctx, StatusCode::OK, &form, Some((a, rep)), &[], &[]).await
        }
        Ok((_, Err(e))) => match rules_reason(e) {
            Ok(fe) => {
                let errs = labelled(&s, &ctx, vec![fe]);
                render_siting(&s, &ctx, unprocessable, &form, None, &errs, &[]).await
            }
            Err(e) => s.error_page(&ctx, e),
        },
        Err(e) => s.error_page(&ctx, e),
    }
}

/// `POST /console/planning/siting/save` — saves the ticked sites as
/// planned facilities (筹建中).
pub async fn siting_save(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(raw): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/planning/siting", headers, q);
    let form = SitingForm::defaults(&s, &ctx);
    let picked: Vec<&str> = raw
        .iter()
        .filter(|(k, _)| k == "pick")
        .map(|(_, v)| v.as_str())
        .collect();
    let mut sites = Vec::new();
    let mut errors = Vec::new();
    for i in picked
        .iter()
        .take(laoxiao_store::planning::MAX_SAVED_SITES + 1)
    {
        let f = |k: &str| {
            field(&raw, &format!("{k}_{i}"))
                .unwrap_or_default()
                .to_string()
        };
        let kind = laoxiao_model::FacilityKind::ALL
            .iter()
            .copied()
            .find(|x| x.code() == f("kind"));
        match (kind, f("lng").parse::<f64>(), f("lat").parse::<f64>()) {
            (Some(kind), Ok(lng), Ok(lat)) => sites.push(laoxiao_store::planning::SiteToSave {
                name: f("name"),
                kind,
                lng,
                lat,
                area_code: f("area"),
                beds: None,
                approved_slots: f("slots").parse::<i64>().ok(),
            }),
            _ => errors.push(FieldError::new(s.t(&ctx, "planning.site"), i.to_string())),
        }
    }
    if sites.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("", s.t(&ctx, "planning.pick_one")));
    }
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    if !errors.is_empty() {
        return render_siting(&s, &ctx, unprocessable, &form, None, &errors, &[]).await;
    }
    let scope = ctx.scope();
    match s
        .db(move |c, r| laoxiao_store::planning::save_sites(c, r, &scope, &sites))
        .await
    {
        Ok(ids) => render_siting(&s, &ctx, StatusCode::OK, &form, None, &[], &ids).await,
        Err(PageError::Store(laoxiao_store::StoreError::Invalid(errs))) => {
            render_siting(&s, &ctx, unprocessable, &form, None, &errs, &[]).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}
