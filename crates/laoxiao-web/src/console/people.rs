//! People (人员): the elderly and infant registers with filters, and the detail page.
//! Columns, fields and labels come from the declarations (`ELDERLY`, `INFANTS`);
//! ID numbers are always masked here.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use laoxiao_model::person::{
    AbilityLevel, LivingArrangement, PEOPLE, SpecialDifficulty, age_months_on, age_on,
    mask_id_number,
};
use laoxiao_model::register::{Cell, Field, FieldType, Record};
use laoxiao_model::{Person, PersonRole};
use laoxiao_store::people::PersonQuery;
use laoxiao_store::record_view;
use serde_json::{Value as Json, json};

use super::registers::{label, show};
use super::{ConsoleState, Ctx, ctx_or_error, url_with};

const PAGE: u32 = 25;
/// Most recent views shown on a person's page.
const VIEWS_SHOWN: u32 = 20;

/// Age bands: (key, min, max) in whole years.
const ELDERLY_BANDS: &[(&str, u32, Option<u32>)] = &[
    ("60_69", 60, Some(69)),
    ("70_79", 70, Some(79)),
    ("80_89", 80, Some(89)),
    ("90_plus", 90, None),
];
const INFANT_BANDS: &[(&str, u32, Option<u32>)] =
    &[("0", 0, Some(0)), ("1", 1, Some(1)), ("2", 2, Some(2))];

fn bands(role: PersonRole) -> &'static [(&'static str, u32, Option<u32>)] {
    match role {
        PersonRole::Elderly => ELDERLY_BANDS,
        PersonRole::Infant => INFANT_BANDS,
    }
}

/// `GET /console/elderly`
pub async fn elderly(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/elderly", headers, q);
    list(s, ctx, PersonRole::Elderly).await
}

/// `GET /console/infants`
pub async fn infants(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/infants", headers, q);
    list(s, ctx, PersonRole::Infant).await
}

fn age_text(s: &ConsoleState, ctx: &Ctx, p: &Person) -> String {
    let today = chrono::Local::now().date_naive();
    match p.role {
        PersonRole::Elderly => s.cat.fill(
            ctx.lang,
            "person.age_years",
            &[("n", age_on(p.birth_date, today).to_string())],
        ),
        // 超龄: turned three since registration, still on the register.
        PersonRole::Infant => s.cat.fill(
            ctx.lang,
            if p.aged_out(today) {
                "person.age_aged_out"
            } else {
                "person.age_months"
            },
            &[("n", age_months_on(p.birth_date, today).to_string())],
        ),
    }
}

/// A person's field as the console shows it, from its declared type: the ID
/// number always masked, a birth date with the age, an area with its name.
fn field_text(s: &ConsoleState, ctx: &Ctx, p: &Person, cells: &[Cell], f: &Field) -> String {
    let Some(c) = PEOPLE
        .fields
        .iter()
        .position(|g| g.key == f.key)
        .and_then(|i| cells.get(i))
    else {
        return String::new();
    };
    match (&f.ty, c) {
        (FieldType::IdNumber, Cell::Text(n)) => mask_id_number(n),
        (FieldType::Date, Cell::Date(d)) if f.key == "birth_date" => {
            format!("{} ({})", d, age_text(s, ctx, p))
        }
        (FieldType::Area, Cell::Text(code)) => match super::area_name(s, code) {
            n if n.is_empty() => code.clone(),
            n => format!("{n} ({code})"),
        },
        _ => show(ctx, f, c),
    }
}

/// The CSS class of a column: ID numbers in a fixed-width font, numbers to
/// the right, dates on one line.
fn column_class(f: &Field) -> &'static str {
    match f.ty {
        FieldType::IdNumber => "mono",
        FieldType::Int(_) | FieldType::Money(_) => "n",
        FieldType::Date => "nowrap",
        _ => "",
    }
}

async fn list(s: ConsoleState, ctx: Ctx, role: PersonRole) -> Response {
    let band = ctx
        .param("age")
        .and_then(|b| bands(role).iter().find(|(k, _, _)| *k == b))
        .copied();
    let query = PersonQuery {
        area: Some(ctx.area.code.clone()),
        role: Some(role),
        category: ctx
            .param("special_difficulty")
            .and_then(SpecialDifficulty::parse),
        ability_level: ctx.param("ability_level").and_then(AbilityLevel::parse),
        living_arrangement: ctx
            .param("living_arrangement")
            .and_then(LivingArrangement::parse),
        status: ctx
            .param("status")
            .and_then(laoxiao_model::person::PersonStatus::parse),
        min_age: band.map(|b| b.1),
        max_age: band.and_then(|b| b.2),
        q: ctx.param("q").map(str::to_string),
        after: ctx.param("after").map(str::to_string),
        limit: Some(PAGE),
        ..Default::default()
    };
    let q2 = query.clone();
    let scope = ctx.scope();
    let res = s
        .db(move |c, r| {
            let page = laoxiao_store::people::list(c, r, &scope, &q2)?;
            let total = laoxiao_store::people::count(c, r, &scope, &q2)?;
            let ids: Vec<&str> = page.items.iter().map(|p| p.id.as_str()).collect();
            record_view::record(c, &scope, record_view::Via::ConsoleList, &ids)?;
            Ok((page, total))
        })
        .await;
    let (page, total) = match res {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    // The row's heading is the first searchable field (the name); the other
    // columns are the role's listed fields, in the declaration's order.
    let reg = role.register();
    let heading = reg.fields.iter().find(|f| f.search);
    let cols: Vec<&'static Field> = reg
        .fields
        .iter()
        .filter(|f| f.list && heading.is_none_or(|h| h.key != f.key))
        .collect();
    let rows: Vec<Json> = page
        .items
        .iter()
        .map(|p| {
            let cells = p.to_cells();
            let head = heading.map(|f| field_text(&s, &ctx, p, &cells, f));
            let values: Vec<Json> = cols
                .iter()
                .map(|f| {
                    json!({"text": field_text(&s, &ctx, p, &cells, f), "class": column_class(f)})
                })
                .collect();
            json!({
                "url": format!("/console/people/{}", crate::encode_segment(&p.id)),
                "heading": head,
                "cells": values,
                "area_code": p.residence_area_code,
            })
        })
        .collect();
    let next_url = page.next_cursor.map(|c| {
        let mut keep = ctx.keep(&["after"]);
        keep.push(("after".into(), c));
        url_with(&ctx.path, &keep)
    });
    let first_url = query
        .after
        .is_some()
        .then(|| url_with(&ctx.path, &ctx.keep(&["after"])));
    let band_opts: Vec<Json> = bands(role)
        .iter()
        .map(|(k, _, _)| json!({"value": k, "label": s.t(&ctx, &format!("people.band_{k}"))}))
        .collect();
    let page = json!({
        "role": role.code(),
        "heading": heading.map(|f| label(&ctx, f)),
        "columns": cols.iter().map(|f| label(&ctx, f)).collect::<Vec<_>>(),
        "rows": rows,
        "total": total,
        "next_url": next_url,
        "first_url": first_url,
        "f": {
            "age": band.map(|b| b.0),
            "q": query.q,
        },
        "opts": {
            "age": band_opts,
        },
        // A select for each enumeration the role's register filters on, named
        // by the field's key, labelled by the declaration.
        "filters": reg.fields.iter().filter(|f| f.filter).filter_map(|f| {
            let values = f.ty.values();
            (!values.is_empty()).then(|| json!({
                "key": f.key,
                "label": label(&ctx, f),
                "value": ctx.param(f.key),
                "options": values.iter().map(|e| json!({"value": e.code, "label": match ctx.lang {
                    super::i18n::Lang::Zh => e.zh,
                    super::i18n::Lang::En => e.en,
                }})).collect::<Vec<_>>(),
            }))
        }).collect::<Vec<_>>(),
    });
    let template = if ctx.htmx {
        "people_results.html"
    } else {
        "people.html"
    };
    let nav = role.code();
    s.render(&ctx, template, nav, page)
}

/// `GET /console/people/{id}`
pub async fn detail(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/people", headers, q);
    let scope = ctx.scope();
    let (p, views) = match s
        .db(move |c, r| {
            let p = laoxiao_store::people::get(c, r, &scope, &id)?;
            record_view::record(c, &scope, record_view::Via::ConsoleDetail, &[p.id.as_str()])?;
            // Who viewed the record, for the roles that may see it (this view included).
            let views = if scope.can(laoxiao_store::Perm::ReadViews) {
                Some(record_view::of_person(c, &scope, &p.id, VIEWS_SHOWN)?)
            } else {
                None
            };
            Ok((p, views))
        })
        .await
    {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let areas = &s.store.reference.areas;
    let centre = areas.get(&p.residence_area_code).and_then(|a| a.centre);
    let county = areas
        .ancestor_at(&p.residence_area_code, laoxiao_model::AreaLevel::County)
        .map(|a| a.code.clone());
    let list_url = match p.role {
        PersonRole::Elderly => "/console/elderly",
        PersonRole::Infant => "/console/infants",
    };
    // Every declared field of the role's register (the coordinates are on
    // the map), labels from the declaration, the ID number masked.
    let cells = p.to_cells();
    let fields: Vec<Json> = p
        .role
        .register()
        .fields
        .iter()
        .filter(|f| PEOPLE.field(f.key).is_some() && !matches!(f.ty, FieldType::Decimal { .. }))
        .map(|f| {
            json!({
                "key": f.key.replace('_', "-"),
                "label": label(&ctx, f),
                "text": field_text(&s, &ctx, &p, &cells, f),
                "class": column_class(f),
                "masked": matches!(f.ty, FieldType::IdNumber),
            })
        })
        .collect();
    let page = json!({
        "p": {
            "id": p.id,
            "role": p.role.code(),
            "name": p.name,
            "status": p.status.code(),
        },
        "fields": fields,
        "list_url": list_url,
        "views": views,
        "map": {
            "point": match (p.lng, p.lat) { (Some(x), Some(y)) => Some([x, y]), _ => None },
            "centre": centre.map(|c| [c.0, c.1]),
            "county": county,
            "name": p.name,
            "geo_url": "/console/static/geo/jiaxing.json",
        },
    });
    let nav = p.role.code();
    s.render(&ctx, "person.html", nav, page)
}
