//! Facilities (设施): a filterable, sortable list with keyset pagination, the detail
//! page, and the create/edit forms (validated by the store, so the messages are the
//! API's).

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use laoxiao_model::facility::{FacilityLevel, FilingStatus, Ownership, Rating};
use laoxiao_model::{Facility, FacilityKind, FacilityStatus, FieldError};
use laoxiao_store::StoreError;
use laoxiao_store::facilities::{self, FacilityQuery, FacilitySort};
use serde_json::{Value as Json, json};

use super::{ConsoleState, Ctx, PageError, ctx_or_error, enc, url_with};

/// Page size of the list.
const PAGE: u32 = 25;

/// The list's filters, read from the query.
#[derive(Debug, Clone, Default)]
struct Filters {
    kind: Option<FacilityKind>,
    ownership: Option<Ownership>,
    rating: Option<Rating>,
    inclusive: Option<bool>,
    filing_status: Option<FilingStatus>,
    status: Option<FacilityStatus>,
    q: Option<String>,
    sort: FacilitySort,
    desc: bool,
    after: Option<String>,
}

fn filters(ctx: &Ctx) -> Filters {
    Filters {
        kind: ctx.param("kind").and_then(FacilityKind::parse),
        ownership: ctx.param("ownership").and_then(Ownership::parse),
        rating: ctx.param("rating").and_then(Rating::parse),
        inclusive: match ctx.param("inclusive") {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        },
        filing_status: ctx.param("filing_status").and_then(FilingStatus::parse),
        status: ctx.param("status").and_then(FacilityStatus::parse),
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
            kind: self.kind,
            status: self.status,
            ownership: self.ownership,
            rating: self.rating,
            inclusive: self.inclusive,
            filing_status: self.filing_status,
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

/// Options of the filter selects.
fn filter_options(s: &ConsoleState, ctx: &Ctx) -> Json {
    json!({
        "kind": s.options(ctx, "facility_kind", FacilityKind::ALL, |x| x.code()),
        "ownership": s.options(ctx, "ownership", Ownership::ALL, |x| x.code()),
        "rating": s.options(ctx, "rating", Rating::ALL, |x| x.code()),
        "filing_status": s.options(ctx, "filing_status", FilingStatus::ALL, |x| x.code()),
        "status": s.options(ctx, "facility_status", FacilityStatus::ALL, |x| x.code()),
        "level": s.options(ctx, "facility_level", FacilityLevel::ALL, |x| x.code()),
        "sort": FacilitySort::ALL.iter().map(|k| json!({"value": k.code(), "label": s.t(ctx, &format!("facility.sort_{}", k.code()))})).collect::<Vec<_>>(),
    })
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
    let areas = &s.store.reference.areas;
    let rows: Vec<Json> = rows
        .into_iter()
        .map(|r| {
            let area_name = areas
                .ancestors(&r.area_code)
                .iter()
                .skip(1)
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(" / ");
            json!({
                "id": r.id,
                "url": format!("/console/facilities/{}", super::super::encode_segment(&r.id)),
                "name": r.name,
                "kind": r.kind.code(),
                "ownership": r.ownership.map(|x| x.code()),
                "area_name": area_name,
                "area_code": r.area_code,
                "beds": r.beds,
                "slots": r.approved_slots,
                "rating": r.rating.map(|x| x.code()),
                "inclusive": r.inclusive,
                "filing_status": r.filing_status.code(),
                "status": r.status.code(),
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
    let page = json!({
        "rows": rows,
        "total": total,
        "next_url": next_url,
        "first_url": first_url,
        "f": {
            "kind": f.kind.map(|x| x.code()),
            "ownership": f.ownership.map(|x| x.code()),
            "rating": f.rating.map(|x| x.code()),
            "inclusive": f.inclusive.map(|x| x.to_string()),
            "filing_status": f.filing_status.map(|x| x.code()),
            "status": f.status.map(|x| x.code()),
            "q": f.q,
            "sort": f.sort.code(),
            "dir": if f.desc { "desc" } else { "asc" },
        },
        "sorts": sort_links,
        "opts": filter_options(&s, &ctx),
    });
    let template = if ctx.htmx {
        "facility_results.html"
    } else {
        "facilities.html"
    };
    s.render(&ctx, template, "facilities", page)
}

fn facility_json(s: &ConsoleState, ctx: &Ctx, f: &Facility) -> Json {
    let areas = &s.store.reference.areas;
    let chain: Vec<Json> = areas
        .ancestors(&f.area_code)
        .iter()
        .map(|a| json!({"code": a.code, "name": a.name}))
        .collect();
    let _ = ctx;
    json!({
        "id": f.id,
        "name": f.name,
        "kind": f.kind.code(),
        "level": f.level.map(|x| x.code()),
        "ownership": f.ownership.map(|x| x.code()),
        "operator_name": f.operator_name,
        "operator_credit_code": f.operator_credit_code,
        "area_code": f.area_code,
        "area_chain": chain,
        "address": f.address,
        "lng": f.lng,
        "lat": f.lat,
        "beds": f.beds,
        "nursing_beds": f.nursing_beds,
        "dementia_beds": f.dementia_beds,
        "approved_slots": f.approved_slots,
        "inclusive": f.inclusive,
        "filing_status": f.filing_status.code(),
        "filing_date": f.filing_date.map(|d| d.to_string()),
        "rating": f.rating.map(|x| x.code()),
        "rating_valid_from": f.rating_valid_from.map(|d| d.to_string()),
        "rating_valid_until": f.rating_valid_until.map(|d| d.to_string()),
        "smart": f.smart,
        "demonstration": f.demonstration,
        "opening_date": f.opening_date.map(|d| d.to_string()),
        "status": f.status.code(),
        "phone": f.phone,
        "edit_url": format!("/console/facilities/{}/edit", super::super::encode_segment(&f.id)),
    })
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
    let got = s
        .db(move |c, _| {
            let f = laoxiao_store::facilities::get(c, &scope, &id)?;
            let classes = laoxiao_store::facilities::classes_of(c, &scope, &f.id)?;
            Ok((f, classes))
        })
        .await;
    let (f, classes) = match got {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let classes: Vec<Json> = classes
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "class_type": c.class_type.code(),
                "capacity": c.capacity,
                "enrolled": c.enrolled,
                "caregivers": c.caregivers,
                "monthly_fee_yuan": c.monthly_fee_fen.map(|f| f as f64 / 100.0),
            })
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
    let page = json!({"f": facility_json(&s, &ctx, &f), "classes": classes, "map": map});
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

/// Reads the form into a facility, collecting the fields that do not parse with the
/// same kind of message the API gives.
fn parse_form(form: &FormData, id_from_path: Option<&str>) -> (Facility, Vec<FieldError>) {
    let mut errs = Vec::new();
    fn en<T: std::str::FromStr<Err = String>>(
        form: &FormData,
        name: &str,
        errs: &mut Vec<FieldError>,
    ) -> Option<T> {
        field(form, name).and_then(|v| match v.parse::<T>() {
            Ok(x) => Some(x),
            Err(e) => {
                errs.push(FieldError::new(name, e));
                None
            }
        })
    }
    let int = |name: &str, errs: &mut Vec<FieldError>| {
        field(form, name).and_then(|v| match v.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push(FieldError::new(
                    name,
                    format!("{v:?} is not a whole number"),
                ));
                None
            }
        })
    };
    let real = |name: &str, errs: &mut Vec<FieldError>| {
        field(form, name).and_then(|v| match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                errs.push(FieldError::new(name, format!("{v:?} is not a number")));
                None
            }
        })
    };
    let date = |name: &str, errs: &mut Vec<FieldError>| {
        field(form, name).and_then(|v| match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errs.push(FieldError::new(
                    name,
                    format!("{v:?} is not a date (YYYY-MM-DD)"),
                ));
                None
            }
        })
    };
    let text = |name: &str| field(form, name).map(str::to_string);
    let flag = |name: &str| field(form, name).is_some_and(|v| v == "true" || v == "on");
    let kind = match en::<FacilityKind>(form, "kind", &mut errs) {
        Some(k) => k,
        None => {
            if field(form, "kind").is_none() {
                errs.push(FieldError::new("kind", "must not be empty"));
            }
            FacilityKind::ElderlyInstitution
        }
    };
    let f = Facility {
        id: id_from_path
            .map(str::to_string)
            .or_else(|| text("id"))
            .unwrap_or_default(),
        name: text("name").unwrap_or_default(),
        kind,
        level: en(form, "level", &mut errs),
        ownership: en(form, "ownership", &mut errs),
        operator_name: text("operator_name"),
        operator_credit_code: text("operator_credit_code"),
        area_code: text("area_code").unwrap_or_default(),
        address: text("address"),
        lng: real("lng", &mut errs),
        lat: real("lat", &mut errs),
        beds: int("beds", &mut errs),
        nursing_beds: int("nursing_beds", &mut errs),
        dementia_beds: int("dementia_beds", &mut errs),
        approved_slots: int("approved_slots", &mut errs),
        inclusive: flag("inclusive"),
        filing_status: en(form, "filing_status", &mut errs).unwrap_or(FilingStatus::NotRequired),
        filing_date: date("filing_date", &mut errs),
        rating: en(form, "rating", &mut errs),
        rating_valid_from: date("rating_valid_from", &mut errs),
        rating_valid_until: date("rating_valid_until", &mut errs),
        smart: flag("smart"),
        demonstration: flag("demonstration"),
        opening_date: date("opening_date", &mut errs),
        status: en(form, "status", &mut errs).unwrap_or(FacilityStatus::Operating),
        phone: text("phone"),
    };
    (f, errs)
}

fn empty_facility(area_code: &str) -> Facility {
    Facility::blank("", "", FacilityKind::ElderlyInstitution, area_code)
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
    f: &Facility,
    editing: bool,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let errs: serde_json::Map<String, Json> =
        errors.iter().fold(serde_json::Map::new(), |mut m, e| {
            let entry = m.entry(e.field.clone()).or_insert_with(|| json!([]));
            if let Some(a) = entry.as_array_mut() {
                a.push(json!(e.reason));
            }
            m
        });
    let action = if editing {
        format!(
            "/console/facilities/{}",
            super::super::encode_segment(&f.id)
        )
    } else {
        "/console/facilities".to_string()
    };
    let page = json!({
        "f": facility_json(s, ctx, f),
        "editing": editing,
        "errors": errs,
        "error_list": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
        "action": format!("{action}{}", if ctx.area.level == laoxiao_model::AreaLevel::City { String::new() } else { format!("?area={}", enc(&ctx.area.code)) }),
        "opts": filter_options(s, ctx),
        "areas": area_choices(s, ctx, &f.area_code),
        // Only city-wide accounts choose ids (see `laoxiao_store::Scope::is_city_wide`).
        "choose_id": ctx.scope().is_city_wide(),
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
    render_form(&s, &ctx, &empty_facility(&area), false, &[], StatusCode::OK)
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
        Ok(f) => render_form(&s, &ctx, &f, true, &[], StatusCode::OK),
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn save(s: ConsoleState, ctx: Ctx, form: FormData, id: Option<String>) -> Response {
    let editing = id.is_some();
    let (mut f, mut parse_errs) = parse_form(&form, id.as_deref());
    if !editing {
        // Ids of new facilities come from the server, except for city-wide
        // accounts: a taken id elsewhere must not answer differently.
        if f.id.is_empty() {
            f.id = laoxiao_store::facilities::new_id();
        } else if !ctx.scope().is_city_wide() {
            parse_errs.push(FieldError::new("id", s.t(&ctx, "facility.id_assigned")));
        }
    }
    if !parse_errs.is_empty() {
        return render_form(
            &s,
            &ctx,
            &f,
            editing,
            &parse_errs,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let f2 = f.clone();
    let scope = ctx.scope();
    let res = s
        .db(move |c, r| {
            if editing {
                facilities::update(c, r, &scope, &f2)
            } else {
                facilities::create(c, r, &scope, &f2)
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
        Err(PageError::Store(StoreError::Invalid(errs))) => render_form(
            &s,
            &ctx,
            &f,
            editing,
            &errs,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(PageError::Store(StoreError::Conflict(msg))) => render_form(
            &s,
            &ctx,
            &f,
            editing,
            &[FieldError::new("id", msg)],
            StatusCode::CONFLICT,
        ),
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
        let (f, errs) = parse_form(&form, None);
        assert_eq!(f.id, "F1");
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["beds", "filing_date"]);
    }
}
