//! Facilities (设施): a filterable, sortable list with keyset pagination, the detail
//! page, and the create/edit forms (validated by the store, so the messages are the
//! API's). Fields, labels, filters and form controls come from the declaration
//! (`laoxiao_model::FACILITIES`, `CLASSES`); what is particular to facilities is
//! the area chooser, the map, the classes table and the sort orders.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use laoxiao_model::register::{Cell, Field, FieldType, Register, format_cell, parse_cell};
use laoxiao_model::{CLASSES, FACILITIES, Facility, FieldError, Record};
use laoxiao_store::StoreError;
use laoxiao_store::activity::cell_value;
use laoxiao_store::facilities::{self, FacilityQuery, FacilitySort};
use laoxiao_store::registry::Filter;
use serde_json::{Value as Json, json};

use super::registers::{controls, label, link, show};
use super::{ConsoleState, Ctx, PageError, ctx_or_error, enc, url_with};

/// Page size of the list.
const PAGE: u32 = 25;

/// The list's filters, read from the query: each declared filter field
/// (values that do not parse are ignored, as a link may be stale).
#[derive(Debug, Clone, Default)]
struct Filters {
    filters: Vec<Filter>,
    q: Option<String>,
    sort: FacilitySort,
    desc: bool,
    after: Option<String>,
}

/// True for fields filtered by a range (`key_from`, `key_to`).
fn ranged(f: &Field) -> bool {
    matches!(
        f.ty,
        FieldType::Date | FieldType::Int(_) | FieldType::Money(_)
    )
}

fn filters(ctx: &Ctx) -> Filters {
    let value = |f: &'static Field, k: &str| {
        ctx.param(k)
            .and_then(|v| parse_cell(f, v).ok())
            .filter(|c| *c != Cell::Null)
            .map(|c| cell_value(f, c))
    };
    let mut out = Vec::new();
    for f in FACILITIES.fields.iter().filter(|f| f.filter) {
        if ranged(f) {
            let lo = value(f, &format!("{}_from", f.key));
            let hi = value(f, &format!("{}_to", f.key));
            if lo.is_some() || hi.is_some() {
                out.push(Filter::Range(f, lo, hi));
            }
        } else if let Some(v) = value(f, f.key) {
            out.push(Filter::Eq(f, v));
        }
    }
    Filters {
        filters: out,
        q: ctx.param("q").map(str::to_string),
        sort: ctx
            .param("sort")
            .and_then(FacilitySort::parse)
            .unwrap_or_default(),
        desc: ctx.param("dir") == Some("desc"),
        after: ctx.param("after").map(str::to_string),
    }
}

impl Filters {
    /// The store's query for one page of the area `area_code`.
    fn query(&self, area_code: &str) -> FacilityQuery {
        FacilityQuery {
            area: Some(area_code.to_string()),
            filters: self.filters.clone(),
            q: self.q.clone(),
            sort: self.sort,
            descending: self.desc,
            after: self.after.clone(),
            limit: Some(PAGE),
        }
    }
}

/// One page of the list, the next page's cursor and the total count.
fn query(
    conn: &mut laoxiao_store::Conn,
    reference: &laoxiao_store::Reference,
    scope: &laoxiao_store::Scope,
    area_code: &str,
    f: &Filters,
) -> laoxiao_store::Result<(Vec<Facility>, Option<String>, i64)> {
    let q = f.query(area_code);
    let page = facilities::list(conn, reference, scope, &q)?;
    let total = facilities::count(conn, reference, scope, &q)?;
    Ok((page.items, page.next_cursor, total))
}

/// The filter controls of the list, from the declared filter fields, with
/// the values of the request.
fn filter_controls(ctx: &Ctx) -> Vec<Json> {
    let v = |k: &str| ctx.param(k).unwrap_or_default().to_string();
    FACILITIES
        .fields
        .iter()
        .filter(|f| f.filter)
        .map(|f| {
            let kind = match f.ty {
                FieldType::Date => "date",
                FieldType::Int(_) | FieldType::Money(_) => "number",
                FieldType::Enum(_) | FieldType::Bool => "select",
                _ => "text",
            };
            let options: Vec<Json> = match f.ty {
                FieldType::Enum(values) => values
                    .iter()
                    .map(|e| json!({"value": e.code, "label": pick(ctx, e.zh, e.en)}))
                    .collect(),
                FieldType::Bool => [true, false]
                    .iter()
                    .map(|b| json!({"value": b.to_string(), "label": show(ctx, f, &Cell::Bool(*b))}))
                    .collect(),
                _ => Vec::new(),
            };
            json!({
                "key": f.key, "label": label(ctx, f), "kind": kind, "options": options,
                "value": v(f.key), "from": v(&format!("{}_from", f.key)), "to": v(&format!("{}_to", f.key)),
            })
        })
        .collect()
}

fn pick(ctx: &Ctx, zh: &'static str, en: &'static str) -> &'static str {
    match ctx.lang {
        super::i18n::Lang::Zh => zh,
        super::i18n::Lang::En => en,
    }
}

/// The sort choices of the list.
fn sort_options(s: &ConsoleState, ctx: &Ctx) -> Vec<Json> {
    FacilitySort::ALL
        .iter()
        .map(|k| json!({"value": k.code(), "label": s.t(ctx, &format!("facility.sort_{}", k.code()))}))
        .collect()
}

/// The list's columns: the declared fields shown in lists, after the name
/// (which links to the record and carries the id).
fn list_fields() -> impl Iterator<Item = &'static Field> {
    FACILITIES
        .fields
        .iter()
        .filter(|f| f.list && !matches!(f.key, "id" | "name"))
}

/// Columns a narrow screen may hide: optional ones the list does not sort by.
fn optional_column(f: &Field) -> bool {
    !f.required && !FacilitySort::ALL.iter().any(|k| k.field() == Some(f.key))
}

/// Numbers align right.
fn numeric(f: &Field) -> bool {
    matches!(
        f.ty,
        FieldType::Int(_) | FieldType::Money(_) | FieldType::Decimal { .. }
    )
}

/// `GET /console/facilities`
pub async fn list(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/facilities", headers, q);
    let f = filters(&ctx);
    let area_code = ctx.area.code.clone();
    let f2 = f.clone();
    let (rows, next, total) = match s
        .db({
            let scope = ctx.scope();
            move |c, r| query(c, r, &scope, &area_code, &f2)
        })
        .await
    {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let rows: Vec<Json> = rows
        .into_iter()
        .map(|r| {
            let cells = r.to_cells();
            let shown: Vec<Json> = FACILITIES
                .fields
                .iter()
                .zip(&cells)
                .filter(|(f, _)| f.list && !matches!(f.key, "id" | "name"))
                .map(|(f, c)| {
                    let text = if f.key == "area_code" {
                        super::area_name(&s, &r.area_code)
                    } else {
                        show(&ctx, f, c)
                    };
                    json!({"text": text, "n": numeric(f), "opt": optional_column(f)})
                })
                .collect();
            json!({
                "id": r.id,
                "url": format!("/console/facilities/{}", super::super::encode_segment(&r.id)),
                "name": r.name,
                "area_code": r.area_code,
                "cells": shown,
            })
        })
        .collect();
    let next_url = next.map(|c| {
        let mut keep = ctx.keep(&["after"]);
        keep.push(("after".into(), c));
        url_with("/console/facilities", &keep)
    });
    let first_url = f
        .after
        .is_some()
        .then(|| url_with("/console/facilities", &ctx.keep(&["after"])));
    let sort_url = |key: FacilitySort| {
        let mut keep = ctx.keep(&["after", "sort", "dir"]);
        keep.push(("sort".into(), key.code().into()));
        if f.sort == key && !f.desc {
            keep.push(("dir".into(), "desc".into()));
        }
        url_with("/console/facilities", &keep)
    };
    let sort_links: serde_json::Map<String, Json> = FacilitySort::ALL
        .iter()
        .map(|&k| {
            let state = if f.sort == k {
                if f.desc { "descending" } else { "ascending" }
            } else {
                "none"
            };
            (
                k.code().to_string(),
                json!({"url": sort_url(k), "aria": state}),
            )
        })
        .collect();
    let columns: Vec<Json> = list_fields()
        .map(|fd| {
            let sort = FacilitySort::ALL
                .iter()
                .find(|k| k.field() == Some(fd.key))
                .map(|k| sort_links.get(k.code()).cloned());
            json!({"key": fd.key, "label": label(&ctx, fd), "n": numeric(fd), "opt": optional_column(fd), "sort": sort})
        })
        .collect();
    let page = json!({
        "rows": rows,
        "columns": columns,
        "name_label": FACILITIES.field("name").map(|fd| label(&ctx, fd)),
        "total": total,
        "next_url": next_url,
        "first_url": first_url,
        "f": {
            "q": f.q,
            "sort": f.sort.code(),
            "dir": if f.desc { "desc" } else { "asc" },
        },
        "filters": filter_controls(&ctx),
        "sorts": sort_links,
        "sort_options": sort_options(&s, &ctx),
    });
    let template = if ctx.htmx {
        "facility_results.html"
    } else {
        "facilities.html"
    };
    s.render(&ctx, template, "facilities", page)
}

/// What the detail page needs beside the fields: title, kind and status
/// labels, area chain, links.
fn facility_json(s: &ConsoleState, f: &Facility) -> Json {
    let chain: Vec<Json> = s
        .store
        .reference
        .areas
        .ancestors(&f.area_code)
        .iter()
        .map(|a| json!({"code": a.code, "name": a.name}))
        .collect();
    json!({
        "id": f.id,
        "name": f.name,
        "kind": f.kind.code(),
        "status": f.status.code(),
        "area_code": f.area_code,
        "area_chain": chain,
        "edit_url": format!("/console/facilities/{}/edit", super::super::encode_segment(&f.id)),
    })
}

/// A record's fields as the detail page shows them: label, text, link.
fn shown_fields<R: Record>(ctx: &Ctx, reg: &Register, x: &R) -> Vec<Json> {
    reg.fields
        .iter()
        .zip(x.to_cells())
        .filter(|(f, _)| !f.file_only())
        .map(|(f, c)| json!({"key": f.key, "label": label(ctx, f), "text": show(ctx, f, &c), "link": link(f, &c), "n": numeric(f)}))
        .collect()
}

/// `GET /console/facilities/{id}`
pub async fn detail(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/facilities", headers, q);
    let scope = ctx.scope();
    let read_filings = ctx.auth.can(laoxiao_store::Perm::ReadFilings);
    let got = s
        .db(move |c, _| {
            let f = laoxiao_store::facilities::get(c, &scope, &id)?;
            let classes = laoxiao_store::facilities::classes_of(c, &scope, &f.id)?;
            // A childcare institution's filings (备案记录), for who may read them.
            let filings =
                if read_filings && f.kind == laoxiao_model::FacilityKind::ChildcareInstitution {
                    let q = laoxiao_store::filing::ListQuery {
                        facility_id: Some(f.id.clone()),
                        ..Default::default()
                    };
                    laoxiao_store::filing::list(c, &scope, &q, crate::admission::today())?
                } else {
                    Vec::new()
                };
            Ok((f, classes, filings))
        })
        .await;
    let (f, classes, filings) = match got {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    // The classes table: the class fields, without the facility's id.
    let class_columns: Vec<Json> = CLASSES
        .fields
        .iter()
        .filter(|fd| fd.key != "facility_id" && !fd.file_only())
        .map(|fd| json!({"label": label(&ctx, fd), "n": numeric(fd)}))
        .collect();
    let classes: Vec<Json> = classes
        .iter()
        .map(|c| {
            let cells: Vec<Json> = shown_fields(&ctx, &CLASSES, c)
                .into_iter()
                .filter(|x| x["key"] != "facility_id")
                .collect();
            json!({"id": c.id, "cells": cells})
        })
        .collect();
    let centre = s
        .store
        .reference
        .areas
        .get(&f.area_code)
        .and_then(|a| a.centre);
    let county = s
        .store
        .reference
        .areas
        .ancestor_at(&f.area_code, laoxiao_model::AreaLevel::County)
        .map(|a| a.code.clone());
    let map = json!({
        "point": match (f.lng, f.lat) { (Some(x), Some(y)) => Some([x, y]), _ => None },
        "centre": centre.map(|c| [c.0, c.1]),
        "county": county,
        "name": f.name,
        "geo_url": "/console/static/geo/jiaxing.json",
    });
    let filings: Vec<Json> = filings
        .iter()
        .map(|g| {
            json!({
                "url": format!("/console/childcare/filings/{}", crate::encode_segment(&g.id)),
                "kind": s.t(&ctx, &format!("filing.kind_{}", g.kind.code())),
                "status": s.t(&ctx, &format!("filing.status_{}", g.status.code())),
                "date": g.closed_date.or(g.submitted_date).map(|d| d.to_string()),
            })
        })
        .collect();
    let page = json!({
        "filings": filings,
        "show_filings": read_filings && f.kind == laoxiao_model::FacilityKind::ChildcareInstitution,
        "f": facility_json(&s, &f),
        "fields": shown_fields(&ctx, &FACILITIES, &f),
        "classes": classes,
        "class_columns": class_columns,
        "map": map,
    });
    s.render(&ctx, "facility.html", "facilities", page)
}

/// The form's fields, as submitted (all text).
type FormData = Vec<(String, String)>;

fn field<'a>(form: &'a FormData, name: &str) -> Option<&'a str> {
    form.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Reads the form into a facility: each declared field parsed by its type
/// (blank: its default). A blank required text is kept empty, so that the
/// store reports it with the record's other problems; what does not parse is
/// reported here, with the same kind of message the API gives.
fn parse_form(form: &FormData, id_from_path: Option<&str>) -> Result<Facility, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut cells = Vec::with_capacity(FACILITIES.fields.len());
    for f in FACILITIES.fields {
        let raw = match (f.key, id_from_path) {
            ("id", Some(id)) => id,
            _ => field(form, f.key).unwrap_or(f.default),
        };
        let c = match parse_cell(f, raw) {
            Ok(Cell::Null)
                if f.required
                    && matches!(f.ty, FieldType::Text | FieldType::Area | FieldType::Ref(_)) =>
            {
                Cell::Text(String::new())
            }
            Ok(Cell::Null) if f.required => {
                errs.push(FieldError::new(f.key, "must not be empty"));
                Cell::Null
            }
            Ok(c) => c,
            Err(e) => {
                errs.push(FieldError::new(f.key, e));
                Cell::Null
            }
        };
        cells.push(c);
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Facility::from_cells(cells).map_err(|e| vec![e])
}

/// A facility's fields as the form shows them (text as typed).
fn form_values(f: &Facility) -> Json {
    Json::Object(
        FACILITIES
            .fields
            .iter()
            .zip(f.to_cells())
            .map(|(fd, c)| (fd.key.to_string(), json!(format_cell(fd, &c))))
            .collect(),
    )
}

fn empty_facility(area_code: &str) -> Facility {
    Facility {
        area_code: area_code.to_string(),
        ..Default::default()
    }
}

/// Town and village choices under the current area, for the form's area select.
fn area_choices(s: &ConsoleState, ctx: &Ctx, selected: &str) -> Vec<Json> {
    let areas = &s.store.reference.areas;
    let root = if ctx.area.level == laoxiao_model::AreaLevel::City
        || ctx.area.level == laoxiao_model::AreaLevel::County
    {
        ctx.area.code.clone()
    } else {
        areas
            .ancestor_at(&ctx.area.code, laoxiao_model::AreaLevel::County)
            .map(|a| a.code.clone())
            .unwrap_or_else(|| ctx.area.code.clone())
    };
    let mut v: Vec<Json> = areas
        .subtree(&root)
        .into_iter()
        .filter(|a| {
            matches!(
                a.level,
                laoxiao_model::AreaLevel::Town | laoxiao_model::AreaLevel::Village
            )
        })
        .map(|a| {
            let label = areas
                .ancestors(&a.code)
                .iter()
                .skip(1)
                .map(|x| x.name.as_str())
                .collect::<Vec<_>>()
                .join(" / ");
            json!({"value": a.code, "label": label})
        })
        .collect();
    v.sort_by(|a, b| a["value"].as_str().cmp(&b["value"].as_str()));
    if !selected.is_empty() && !v.iter().any(|x| x["value"] == selected) {
        v.insert(0, json!({"value": selected, "label": selected}));
    }
    v
}

fn render_form(
    s: &ConsoleState,
    ctx: &Ctx,
    values: Json,
    editing: Option<&str>,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let area = values["area_code"].as_str().unwrap_or_default().to_string();
    let mut controls = controls(ctx, &FACILITIES, &values, editing.is_some());
    for c in &mut controls {
        if c["key"] == "area_code" {
            // Areas are chosen from the towns and villages of the caller's county.
            let options: Vec<Json> = area_choices(s, ctx, &area)
                .into_iter()
                .map(|mut o| {
                    let sel = o["value"] == area.as_str();
                    o["selected"] = json!(sel);
                    o
                })
                .collect();
            c["kind"] = json!("select");
            c["options"] = json!(options);
        }
    }
    let action = match editing {
        Some(id) => format!("/console/facilities/{}", super::super::encode_segment(id)),
        None => "/console/facilities".to_string(),
    };
    let page = json!({
        "name": values["name"],
        "editing": editing,
        "controls": controls,
        "error_list": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
        "action": format!("{action}{}", if ctx.area.level == laoxiao_model::AreaLevel::City { String::new() } else { format!("?area={}", enc(&ctx.area.code)) }),
        "cancel": editing.map_or_else(|| "/console/facilities".to_string(), |id| format!("/console/facilities/{}", super::super::encode_segment(id))),
    });
    s.render_status(ctx, status, "facility_form.html", "facilities", page)
}

/// `GET /console/facilities/new`
pub async fn new_form(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/facilities/new", headers, q);
    let area = if matches!(
        ctx.area.level,
        laoxiao_model::AreaLevel::Town | laoxiao_model::AreaLevel::Village
    ) {
        ctx.area.code.clone()
    } else {
        String::new()
    };
    render_form(
        &s,
        &ctx,
        form_values(&empty_facility(&area)),
        None,
        &[],
        StatusCode::OK,
    )
}

/// `GET /console/facilities/{id}/edit`
pub async fn edit_form(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/facilities", headers, q);
    let scope = ctx.scope();
    match s
        .db(move |c, _| laoxiao_store::facilities::get(c, &scope, &id))
        .await
    {
        Ok(f) => render_form(&s, &ctx, form_values(&f), Some(&f.id), &[], StatusCode::OK),
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn save(s: ConsoleState, ctx: Ctx, form: FormData, id: Option<String>) -> Response {
    let editing = id.is_some();
    let again = |errs: &[FieldError], status| {
        render_form(
            &s,
            &ctx,
            super::registers::typed(&form),
            id.as_deref(),
            errs,
            status,
        )
    };
    let mut f = match parse_form(&form, id.as_deref()) {
        Ok(f) => f,
        Err(errs) => return again(&errs, StatusCode::UNPROCESSABLE_ENTITY),
    };
    if !editing {
        // Ids of new facilities come from the server, except for city-wide
        // accounts: a taken id elsewhere must not answer differently.
        if f.id.is_empty() {
            f.id = laoxiao_store::facilities::new_id();
        } else if !ctx.scope().is_city_wide() {
            let errs = [FieldError::new("id", s.t(&ctx, "facility.id_assigned"))];
            return again(&errs, StatusCode::UNPROCESSABLE_ENTITY);
        }
    }
    let scope = ctx.scope();
    let res = s
        .db(move |c, r| {
            if editing {
                facilities::update(c, r, &scope, &f)
            } else {
                facilities::create(c, r, &scope, &f)
            }
        })
        .await;
    match res {
        Ok(saved) => {
            let url = format!(
                "/console/facilities/{}?saved=1",
                super::super::encode_segment(&saved.id)
            );
            Redirect::to(&url).into_response()
        }
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            again(&errs, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(PageError::Store(StoreError::Conflict(msg))) => {
            again(&[FieldError::new("id", msg)], StatusCode::CONFLICT)
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

/// `POST /console/facilities`
pub async fn create(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/facilities/new", headers, q);
    save(s, ctx, form, None).await
}

/// `POST /console/facilities/{id}`
pub async fn update(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/facilities", headers, q);
    save(s, ctx, form, Some(id)).await
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// A facility with only its area set.
    pub fn empty(area_code: &str) -> laoxiao_model::Facility {
        super::empty_facility(area_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_that_do_not_parse_are_reported() {
        let form: FormData = vec![
            ("id".into(), "F1".into()),
            ("name".into(), "x".into()),
            ("kind".into(), "elderly_institution".into()),
            ("beds".into(), "many".into()),
            ("filing_date".into(), "2020-13-01".into()),
        ];
        let errs = parse_form(&form, None).expect_err("bad fields");
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["beds", "filing_date"]);
    }

    #[test]
    fn a_blank_required_text_is_left_to_the_store() {
        let form: FormData = vec![
            ("name".into(), "x".into()),
            ("kind".into(), "elderly_institution".into()),
            ("beds".into(), "10".into()),
        ];
        let f = parse_form(&form, Some("F1")).expect("parses");
        assert_eq!(f.id, "F1");
        assert_eq!(f.area_code, "");
        assert_eq!(f.beds, Some(10));
        assert_eq!(f.status, laoxiao_model::FacilityStatus::Operating);
    }
}
