//! People (人员): the elderly and infant registers with filters, and the detail page.
//! ID numbers are always masked here.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use laoxiao_model::person::{
    AbilityLevel, LivingArrangement, SpecialDifficulty, age_months_on, age_on, mask_id_number,
};
use laoxiao_model::{Person, PersonRole};
use laoxiao_store::people::PersonQuery;
use laoxiao_store::record_view;
use serde_json::{Value as Json, json};

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

fn area_name(s: &ConsoleState, code: &str) -> String {
    s.store
        .reference
        .areas
        .ancestors(code)
        .iter()
        .skip(1)
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(" / ")
}

fn age_text(s: &ConsoleState, ctx: &Ctx, p: &Person) -> String {
    let today = chrono::Local::now().date_naive();
    match p.role {
        PersonRole::Elderly => s.cat.fill(
            ctx.lang,
            "person.age_years",
            &[("n", age_on(p.birth_date, today).to_string())],
        ),
        PersonRole::Infant => s.cat.fill(
            ctx.lang,
            "person.age_months",
            &[("n", age_months_on(p.birth_date, today).to_string())],
        ),
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
        category: ctx.param("category").and_then(SpecialDifficulty::parse),
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
    let rows: Vec<Json> = page
        .items
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "url": format!("/console/people/{}", crate::encode_segment(&p.id)),
                "name": p.name,
                "id_number": mask_id_number(&p.id_number),
                "sex": p.sex.code(),
                "age": age_text(&s, &ctx, p),
                "area_name": area_name(&s, &p.residence_area_code),
                "area_code": p.residence_area_code,
                "living_arrangement": p.living_arrangement.map(|x| x.code()),
                "ability_level": p.ability_level.map(|x| x.code()),
                "special_difficulty": p.special_difficulty.iter().map(|x| x.code()).collect::<Vec<_>>(),
                "guardian_name": p.guardian_name,
                "status": p.status.code(),
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
        "rows": rows,
        "total": total,
        "next_url": next_url,
        "first_url": first_url,
        "f": {
            "category": query.category.map(|x| x.code()),
            "ability_level": query.ability_level.map(|x| x.code()),
            "living_arrangement": query.living_arrangement.map(|x| x.code()),
            "age": band.map(|b| b.0),
            "q": query.q,
        },
        "opts": {
            "category": s.options(&ctx, "special_difficulty", SpecialDifficulty::ALL, |x| x.code()),
            "ability_level": s.options(&ctx, "ability_level", AbilityLevel::ALL, |x| x.code()),
            "living_arrangement": s.options(&ctx, "living_arrangement", LivingArrangement::ALL, |x| x.code()),
            "age": band_opts,
        },
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
    let page = json!({
        "p": {
            "id": p.id,
            "role": p.role.code(),
            "name": p.name,
            "id_number": mask_id_number(&p.id_number),
            "sex": p.sex.code(),
            "birth_date": p.birth_date.to_string(),
            "age": age_text(&s, &ctx, &p),
            "hukou_area_code": p.hukou_area_code,
            "hukou_area_name": p.hukou_area_code.as_deref().map(|c| area_name(&s, c)).filter(|n| !n.is_empty()),
            "residence_area_code": p.residence_area_code,
            "residence_area_name": area_name(&s, &p.residence_area_code),
            "address": p.address,
            "lng": p.lng,
            "lat": p.lat,
            "living_arrangement": p.living_arrangement.map(|x| x.code()),
            "special_difficulty": p.special_difficulty.iter().map(|x| x.code()).collect::<Vec<_>>(),
            "ability_level": p.ability_level.map(|x| x.code()),
            "dementia": p.dementia,
            "birth_order": p.birth_order,
            "guardian_name": p.guardian_name,
            "guardian_phone": p.guardian_phone,
            "status": p.status.code(),
            "death_date": p.death_date.map(|d| d.to_string()),
        },
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
