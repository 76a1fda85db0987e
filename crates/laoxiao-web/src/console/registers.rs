//! Console pages of every declared register, from its declaration: a list with
//! the declaration's filters, search and pages; a record's page; a form to
//! create or edit with the store's validation messages. Labels come from the
//! declaration (Chinese first), enumerations show their labels, personal
//! fields are masked in lists, and a record's page is an audited full read.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use laoxiao_model::FieldError;
use laoxiao_model::register::{
    Cell, Field, FieldType, Register, format_cell, mask_text, parse_cell,
};
use laoxiao_store::StoreError;
use laoxiao_store::activity::{ActivityRecord, read_perm, write_perm};
use laoxiao_store::registry;
use serde_json::{Value as Json, json};

use super::i18n::Lang;
use super::{ConsoleState, Ctx, PageError, ctx_or_error};
use crate::registers::{REGISTERS, list_query};

type FormData = Vec<(String, String)>;

/// Adds the console routes of every generic register.
pub fn mount(r: axum::Router<ConsoleState>) -> axum::Router<ConsoleState> {
    REGISTERS
        .iter()
        .fold(r, |r, a| (console_mount(a.register))(r))
}

fn console_mount(reg: &Register) -> fn(axum::Router<ConsoleState>) -> axum::Router<ConsoleState> {
    use laoxiao_model::activity::{
        Enrolment, InsuranceEnrolment, Residence, ServiceRecord, Staff, StudentCohort,
    };
    match reg.key {
        "staff" => routes::<Staff>,
        "services" => routes::<ServiceRecord>,
        "enrolments" => routes::<Enrolment>,
        "residences" => routes::<Residence>,
        "insurance" => routes::<InsuranceEnrolment>,
        "catalogue" => routes::<laoxiao_model::family::ServiceItem>,
        "home_care_beds" => routes::<laoxiao_model::HomeCareContract>,
        "devices" => routes::<laoxiao_model::alarms::Device>,
        _ => routes::<StudentCohort>,
    }
}

fn routes<T: ActivityRecord>(r: axum::Router<ConsoleState>) -> axum::Router<ConsoleState> {
    let p = &T::REGISTER.paths;
    r.route(p.console, get(list::<T>).post(create::<T>))
        .route(p.console_new, get(new_form::<T>))
        .route(p.console_item, get(detail::<T>).post(update::<T>))
        .route(p.console_edit, get(edit_form::<T>))
}

/// The console routes of the generic registers with the permission each needs.
pub fn routes_declared() -> Vec<(&'static str, &'static str, laoxiao_store::Perm)> {
    let mut out = Vec::new();
    for a in REGISTERS {
        let r = a.register;
        let p = &r.paths;
        out.push(("GET", p.console, read_perm(r)));
        out.push(("POST", p.console, write_perm(r)));
        out.push(("GET", p.console_new, write_perm(r)));
        out.push(("GET", p.console_item, read_perm(r)));
        out.push(("POST", p.console_item, write_perm(r)));
        out.push(("GET", p.console_edit, write_perm(r)));
    }
    out
}

/// The registers the caller may read, for the navigation.
pub fn nav(ctx: &Ctx) -> Vec<Json> {
    REGISTERS
        .iter()
        .filter(|a| ctx.auth.can(read_perm(a.register)))
        .map(|a| {
            json!({
                "key": a.register.key,
                "url": a.register.paths.console,
                "label": reg_label(ctx, a.register),
            })
        })
        .collect()
}

fn reg_label(ctx: &Ctx, r: &Register) -> &'static str {
    match ctx.lang {
        Lang::Zh => r.zh,
        Lang::En => r.en,
    }
}

pub(super) fn label(ctx: &Ctx, f: &Field) -> &'static str {
    match ctx.lang {
        Lang::Zh => f.label_zh,
        Lang::En => f.en,
    }
}

/// A cell as the page shows it: enumeration labels, 是/否, money in yuan.
pub(super) fn show(ctx: &Ctx, f: &Field, c: &Cell) -> String {
    let pick = |v: &laoxiao_model::register::EnumValue| match ctx.lang {
        Lang::Zh => v.zh,
        Lang::En => v.en,
    };
    match (&f.ty, c) {
        (FieldType::Enum(values), Cell::Text(code)) => values
            .iter()
            .find(|v| v.code == code)
            .map_or_else(|| code.clone(), |v| pick(v).to_string()),
        (FieldType::EnumList(values), Cell::List(codes)) => codes
            .iter()
            .map(|code| {
                values
                    .iter()
                    .find(|v| v.code == code)
                    .map_or(code.as_str(), pick)
            })
            .collect::<Vec<_>>()
            .join(match ctx.lang {
                Lang::Zh => "、",
                Lang::En => ", ",
            }),
        (FieldType::Bool, Cell::Bool(b)) => match (ctx.lang, b) {
            (Lang::Zh, true) => "是".into(),
            (Lang::Zh, false) => "否".into(),
            (Lang::En, true) => "yes".into(),
            (Lang::En, false) => "no".into(),
        },
        _ => format_cell(f, c),
    }
}

/// A link to the record a reference names, where the console has a page for it.
pub(super) fn link(f: &Field, c: &Cell) -> Option<String> {
    let (FieldType::Ref(target), Cell::Text(id)) = (&f.ty, c) else {
        return None;
    };
    let base = match *target {
        "facilities" => "/console/facilities",
        "people" | "elderly" | "infants" => "/console/people",
        _ => return None,
    };
    Some(format!("{base}/{}", crate::encode_segment(id)))
}

fn item_url<T: ActivityRecord>(id: &str) -> String {
    format!(
        "{}/{}",
        T::REGISTER.paths.console,
        crate::encode_segment(id)
    )
}

fn filter_controls(ctx: &Ctx, reg: &'static Register) -> Vec<Json> {
    let v = |k: &str| ctx.param(k).unwrap_or_default().to_string();
    reg.fields
        .iter()
        .filter(|f| f.filter)
        .map(|f| {
            let kind = match f.ty {
                FieldType::Date => "date",
                FieldType::Int(_) => "int",
                FieldType::Enum(_) | FieldType::Bool => "select",
                _ => "text",
            };
            let options: Vec<Json> = match f.ty {
                FieldType::Enum(values) => values
                    .iter()
                    .map(|e| json!({"value": e.code, "label": match ctx.lang { Lang::Zh => e.zh, Lang::En => e.en }}))
                    .collect(),
                FieldType::Bool => vec![
                    json!({"value": "true", "label": show(ctx, f, &Cell::Bool(true))}),
                    json!({"value": "false", "label": show(ctx, f, &Cell::Bool(false))}),
                ],
                _ => Vec::new(),
            };
            json!({
                "key": f.key, "label": label(ctx, f), "kind": kind, "options": options,
                "value": v(f.key), "from": v(&format!("{}_from", f.key)), "to": v(&format!("{}_to", f.key)),
            })
        })
        .collect()
}

/// `GET {console}`: the list.
async fn list<T: ActivityRecord>(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let reg = T::REGISTER;
    let ctx = ctx_or_error!(s, reg.paths.console, headers, q);
    // The console's own parameters are not the API's: `lang` and the area
    // drill-down of the page are left to the page.
    let api_q: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, v)| k != "lang" && !v.trim().is_empty())
        .cloned()
        .collect();
    let qs = serde_urlencoded_pairs(&api_q);
    let api_uri: Uri = match format!("{}?{qs}", uri.path()).parse() {
        Ok(u) => u,
        Err(_) => return s.error_page(&ctx, PageError::BadRequest("bad query".into())),
    };
    let scope = ctx.scope();
    let res = s
        .db(move |c, r| {
            let q = list_query(reg, &api_uri, r).map_err(|e| match e {
                crate::error::ApiError::InvalidQuery(errs) => StoreError::Invalid(errs),
                other => StoreError::Database(other.to_string()),
            })?;
            registry::list::<T>(c, &scope, &q)
        })
        .await;
    let page = match res {
        Ok(p) => p,
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            let msg = errs
                .iter()
                .map(|e| format!("{}: {}", e.field, e.reason))
                .collect::<Vec<_>>()
                .join("; ");
            return s.error_page(&ctx, PageError::BadRequest(msg));
        }
        Err(e) => return s.error_page(&ctx, e),
    };
    let cols: Vec<&'static Field> = reg.fields.iter().filter(|f| f.list).collect();
    let rows: Vec<Json> = page
        .items
        .iter()
        .map(|x| {
            let cells = x.to_cells();
            let by_key = |k: &str| {
                reg.fields
                    .iter()
                    .position(|f| f.key == k)
                    .and_then(|i| cells.get(i))
            };
            let values: Vec<Json> = cols
                .iter()
                .map(|f| {
                    let c = by_key(f.key).cloned().unwrap_or(Cell::Null);
                    let text = if f.personal {
                        match &c {
                            Cell::Text(t) if matches!(f.ty, FieldType::Text) => mask_text(t),
                            Cell::Null => String::new(),
                            _ => "＊".into(),
                        }
                    } else {
                        show(&ctx, f, &c)
                    };
                    json!({"text": text, "link": if f.personal { None } else { link(f, &c) }})
                })
                .collect();
            json!({"id": x.id(), "url": item_url::<T>(x.id()), "cells": values})
        })
        .collect();
    let next = page.next.map(|n| {
        let mut keep: Vec<(String, String)> = ctx
            .query
            .iter()
            .filter(|(k, _)| k != "after")
            .cloned()
            .collect();
        keep.push(("after".into(), n));
        format!("{}?{}", reg.paths.console, serde_urlencoded_pairs(&keep))
    });
    let count = if page.total_exact {
        s.t(&ctx, "list.count")
            .replace("{n}", &page.total.to_string())
    } else {
        s.t(&ctx, "register.count_more")
            .replace("{n}", &page.total.to_string())
    };
    let body = json!({
        "reg": {"key": reg.key, "title": reg_label(&ctx, reg), "url": reg.paths.console,
                "searchable": reg.fields.iter().any(|f| f.search),
                "can_write": ctx.auth.can(write_perm(reg)) && (reg.scope != laoxiao_model::register::ScopeRule::City || ctx.scope().is_city_wide())},
        "columns": cols.iter().map(|f| label(&ctx, f)).collect::<Vec<_>>(),
        // Numbers align right and dates stay on one line (the CSS classes of the column).
        "column_classes": cols.iter().map(|f| match f.ty {
            FieldType::Int(_) => "n",
            FieldType::Date => "nowrap",
            _ => "",
        }).collect::<Vec<_>>(),
        "rows": rows,
        "filters": filter_controls(&ctx, reg),
        "q": ctx.param("q").unwrap_or_default(),
        "count": count,
        "next": next,
        "new_url": reg.paths.console_new,
    });
    s.render(&ctx, "register_list.html", reg.key, body)
}

fn serde_urlencoded_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", super::enc(k), super::enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET {console_item}`: one record, in full (an audited read).
async fn detail<T: ActivityRecord>(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let reg = T::REGISTER;
    let ctx = ctx_or_error!(s, reg.paths.console, headers, q);
    let scope = ctx.scope();
    let x = match s.db(move |c, _| registry::get::<T>(c, &scope, &id)).await {
        Ok(x) => x,
        Err(e) => return s.error_page(&ctx, e),
    };
    let cells = x.to_cells();
    let fields: Vec<Json> = reg
        .fields
        .iter()
        .zip(&cells)
        .map(|(f, c)| json!({"label": label(&ctx, f), "text": show(&ctx, f, c), "link": link(f, c), "personal": f.personal}))
        .collect();
    let body = json!({
        "reg": {"key": reg.key, "title": reg_label(&ctx, reg), "url": reg.paths.console,
                "can_write": ctx.auth.can(write_perm(reg)) && (reg.scope != laoxiao_model::register::ScopeRule::City || ctx.scope().is_city_wide())},
        "id": x.id(),
        "fields": fields,
        "edit_url": format!("{}/edit", item_url::<T>(x.id())),
        "action": item_url::<T>(x.id()),
        "notice": ctx.param("done").filter(|d| ["created", "updated"].contains(d)).map(|d| s.t(&ctx, &format!("register.done_{d}"))),
    });
    s.render(&ctx, "register_record.html", reg.key, body)
}

/// The form's controls, filled with `values` (key → text as typed).
pub(super) fn controls(
    ctx: &Ctx,
    reg: &'static Register,
    values: &Json,
    editing: bool,
) -> Vec<Json> {
    // Only city-wide accounts choose ids (as for facilities); an edit keeps its id.
    let choose_id = !editing && ctx.scope().is_city_wide();
    reg.fields
        .iter()
        .filter(|f| (f.key != "id" || choose_id) && !f.file_only())
        .map(|f| {
            let v = values.get(f.key).and_then(Json::as_str).unwrap_or_default();
            let (kind, options): (&str, Vec<Json>) = match f.ty {
                FieldType::Enum(values) => (
                    "select",
                    values
                        .iter()
                        .map(|e| json!({"value": e.code, "label": match ctx.lang { Lang::Zh => e.zh, Lang::En => e.en }, "selected": e.code == v}))
                        .collect(),
                ),
                FieldType::Bool => (
                    "select",
                    ["true", "false"]
                        .iter()
                        .map(|b| json!({"value": b, "label": show(ctx, f, &Cell::Bool(*b == "true")), "selected": *b == v}))
                        .collect(),
                ),
                FieldType::Date => ("date", Vec::new()),
                FieldType::Int(_) => ("number", Vec::new()),
                FieldType::Money(_) | FieldType::Decimal { .. } => ("decimal", Vec::new()),
                FieldType::Note => ("textarea", Vec::new()),
                _ => ("text", Vec::new()),
            };
            let (min, max) = match f.ty {
                FieldType::Int(b) => (Some(b.min), Some(b.max)),
                _ => (None, None),
            };
            json!({
                "key": f.key, "label": label(ctx, f), "kind": kind, "options": options, "value": v,
                "required": f.required && f.default.is_empty() && f.key != "id", "min": min, "max": max,
                "hint": if f.key == "id" { Some("register.id_hint") } else { None },
            })
        })
        .collect()
}

fn render_form<T: ActivityRecord>(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    values: Json,
    errors: &[FieldError],
    editing: Option<&str>,
) -> Response {
    let reg = T::REGISTER;
    let body = json!({
        "reg": {"key": reg.key, "title": reg_label(ctx, reg), "url": reg.paths.console},
        "editing": editing,
        "action": editing.map_or_else(|| reg.paths.console.to_string(), item_url::<T>),
        "cancel": editing.map_or_else(|| reg.paths.console.to_string(), item_url::<T>),
        "controls": controls(ctx, reg, &values, editing.is_some()),
        "error_list": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
    });
    s.render_status(ctx, status, "register_form.html", reg.key, body)
}

async fn new_form<T: ActivityRecord>(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let reg = T::REGISTER;
    let ctx = ctx_or_error!(s, reg.paths.console, headers, q);
    if !ctx.auth.can(write_perm(reg)) {
        return s.error_page(&ctx, PageError::Forbidden(String::new()));
    }
    let defaults: serde_json::Map<String, Json> = reg
        .fields
        .iter()
        .filter(|f| !f.default.is_empty())
        .map(|f| (f.key.to_string(), json!(f.default)))
        .collect();
    render_form::<T>(&s, &ctx, StatusCode::OK, Json::Object(defaults), &[], None)
}

async fn edit_form<T: ActivityRecord>(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let reg = T::REGISTER;
    let ctx = ctx_or_error!(s, reg.paths.console, headers, q);
    if !ctx.auth.can(write_perm(reg)) {
        return s.error_page(&ctx, PageError::Forbidden(String::new()));
    }
    let scope = ctx.scope();
    let x = match s.db(move |c, _| registry::get::<T>(c, &scope, &id)).await {
        Ok(x) => x,
        Err(e) => return s.error_page(&ctx, e),
    };
    let values: serde_json::Map<String, Json> = reg
        .fields
        .iter()
        .zip(x.to_cells())
        .map(|(f, c)| (f.key.to_string(), json!(format_cell(f, &c))))
        .collect();
    render_form::<T>(
        &s,
        &ctx,
        StatusCode::OK,
        Json::Object(values),
        &[],
        Some(x.id()),
    )
}

/// The form as a record: every field parsed by its type, every problem named.
fn from_form<T: ActivityRecord>(form: &FormData, id: String) -> Result<T, Vec<FieldError>> {
    let reg = T::REGISTER;
    let value = |k: &str| {
        form.iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let mut cells = Vec::with_capacity(reg.fields.len());
    let mut errs = Vec::new();
    for f in reg.fields {
        let raw = if f.key == "id" {
            id.clone()
        } else {
            value(f.key).unwrap_or_default()
        };
        let raw = if raw.is_empty() {
            f.default.to_string()
        } else {
            raw
        };
        match parse_cell(f, &raw) {
            Ok(Cell::Null) if f.required => {
                errs.push(FieldError::new(f.key, "required"));
                cells.push(Cell::Null);
            }
            Ok(c) => cells.push(c),
            Err(e) => {
                errs.push(FieldError::new(f.key, e));
                cells.push(Cell::Null);
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    T::from_cells(cells).map_err(|e| vec![e])
}

/// The form as submitted, to show again with its messages.
pub(crate) fn typed(form: &FormData) -> Json {
    Json::Object(
        form.iter()
            .filter(|(k, _)| k != "_csrf")
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect(),
    )
}

async fn save<T: ActivityRecord>(
    s: ConsoleState,
    ctx: Ctx,
    form: FormData,
    editing: Option<String>,
) -> Response {
    let reg = T::REGISTER;
    let scope = ctx.scope();
    let given = form
        .iter()
        .rev()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let id = match (&editing, given) {
        (Some(id), _) => id.clone(),
        (None, Some(_)) if !scope.is_city_wide() => {
            let errs = [FieldError::new("id", s.t(&ctx, "register.id_hint"))];
            return render_form::<T>(
                &s,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                typed(&form),
                &errs,
                None,
            );
        }
        (None, Some(g)) => g,
        (None, None) => registry::new_id(reg),
    };
    let x: T = match from_form(&form, id) {
        Ok(x) => x,
        Err(errs) => {
            return render_form::<T>(
                &s,
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                typed(&form),
                &errs,
                editing.as_deref(),
            );
        }
    };
    let today = chrono::Local::now().date_naive();
    let is_new = editing.is_none();
    let res = s
        .db(move |c, r| {
            if is_new {
                registry::create::<T>(c, &r.checker(), &scope, &x, today)
            } else {
                registry::update::<T>(c, &r.checker(), &scope, &x, today)
            }
        })
        .await;
    match res {
        Ok(x) => Redirect::to(&format!(
            "{}?done={}",
            item_url::<T>(x.id()),
            if is_new { "created" } else { "updated" }
        ))
        .into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => render_form::<T>(
            &s,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            typed(&form),
            &errs,
            editing.as_deref(),
        ),
        Err(PageError::Store(e @ StoreError::Conflict(_))) => {
            let errs = [FieldError::new("id", e.to_string())];
            render_form::<T>(
                &s,
                &ctx,
                StatusCode::CONFLICT,
                typed(&form),
                &errs,
                editing.as_deref(),
            )
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

/// `POST {console}`: create.
async fn create<T: ActivityRecord>(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, T::REGISTER.paths.console, headers, q);
    save::<T>(s, ctx, form, None).await
}

/// `POST {console_item}`: update, or delete with `action=delete`.
async fn update<T: ActivityRecord>(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let reg = T::REGISTER;
    let ctx = ctx_or_error!(s, reg.paths.console, headers, q);
    if form.iter().any(|(k, v)| k == "action" && v == "delete") {
        let scope = ctx.scope();
        return match s
            .db(move |c, _| registry::delete::<T>(c, &scope, &id))
            .await
        {
            Ok(()) => Redirect::to(reg.paths.console).into_response(),
            Err(e) => s.error_page(&ctx, e),
        };
    }
    save::<T>(s, ctx, form, Some(id)).await
}
