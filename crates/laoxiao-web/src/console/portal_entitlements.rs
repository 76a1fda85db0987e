//! The public entitlement check (待遇测算 / 政策找人), `GET
//! /portal/entitlements`: a visitor answers a few questions about an older
//! person or a young child and sees which of the plan's subsidies and
//! services the answers qualify for, which not and why, and where to apply.
//! The verdicts are `laoxiao_rules::entitlements::check`, the same rules the
//! subsidy engine and the registers' workflows apply.
//!
//! Nothing is stored and nothing is logged: the handler touches no database,
//! writes no audit entry, and the request's trace span carries the route
//! template only (never the query string with the answers). The answers are
//! in the URL of a GET form so that the page works without JavaScript and
//! can be bookmarked; a response to answers is `no-store` (the blank form
//! may be cached like the portal's other pages).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{Datelike, Utc};
use laoxiao_model::person::{AbilityLevel, LivingArrangement, SpecialDifficulty};
use laoxiao_rules::entitlements::{
    self as ent, Answers, BirthOrder, ChildAnswers, ElderAnswers, Entitlement, Place, Status,
};
use laoxiao_rules::subsidies::yuan;
use serde_json::{Value as Json, json};

use super::i18n::Lang;
use super::{ConsoleState, Ctx, PageError, ctx_or_error};

const PATH: &str = "/portal/entitlements";
const ELSEWHERE: &str = "elsewhere";
const UNKNOWN: &str = "unknown";

/// A field that failed, with its message.
struct FieldError {
    field: &'static str,
    message: String,
}

fn pick(lang: Lang, t: &ent::Text) -> String {
    match lang {
        Lang::Zh => t.zh.clone(),
        Lang::En => t.en.clone(),
    }
}

/// Jiaxing's counties as (code, label).
fn counties(s: &ConsoleState, ctx: &Ctx) -> Vec<(String, String)> {
    s.store
        .reference
        .areas
        .children(laoxiao_model::jiaxing::CITY_CODE)
        .iter()
        .map(|a| {
            let label = match ctx.lang {
                Lang::Zh => a.name.clone(),
                Lang::En => s.t(ctx, &format!("entitlements.county_{}", a.code)),
            };
            (a.code.clone(), label)
        })
        .collect()
}

fn place(
    s: &ConsoleState,
    ctx: &Ctx,
    field: &'static str,
    codes: &[(String, String)],
    errors: &mut Vec<FieldError>,
) -> Place {
    match ctx.param(field) {
        Some(ELSEWHERE) => Place::Elsewhere,
        Some(c) if codes.iter().any(|(k, _)| k == c) => Place::County(c.to_string()),
        _ => {
            errors.push(FieldError {
                field,
                message: s.t(ctx, &format!("entitlements.err_{field}")),
            });
            Place::Elsewhere
        }
    }
}

fn number(ctx: &Ctx, field: &str) -> Option<i64> {
    ctx.param(field)
        .filter(|v| v.len() <= 6)
        .and_then(|v| v.parse::<i64>().ok())
}

/// Reads and checks an older person's answers; every failing field is named.
fn elder(
    s: &ConsoleState,
    ctx: &Ctx,
    codes: &[(String, String)],
    today: chrono::NaiveDate,
) -> Result<ElderAnswers, Vec<FieldError>> {
    let mut errors = Vec::new();
    let min_year = today.year() - ent::MAX_AGE_YEARS;
    let max_year = today.year() - ent::MIN_ELDER_AGE_YEARS;
    let year = number(ctx, "birth_year")
        .filter(|y| (i64::from(min_year)..=i64::from(max_year)).contains(y));
    let month = number(ctx, "birth_month").filter(|m| (1..=12).contains(m));
    match (year, month) {
        (None, _) => errors.push(FieldError {
            field: "birth_year",
            message: s.cat.fill(
                ctx.lang,
                "entitlements.err_birth_year",
                &[("min", min_year.to_string()), ("max", max_year.to_string())],
            ),
        }),
        (_, None) => errors.push(FieldError {
            field: "birth_month",
            message: s.t(ctx, "entitlements.err_birth_month"),
        }),
        (Some(y), Some(m)) => {
            let birth = chrono::NaiveDate::from_ymd_opt(y as i32, m as u32, 1).unwrap_or(today);
            let age = ent::age_years(birth, today);
            if !(ent::MIN_ELDER_AGE_YEARS..=ent::MAX_AGE_YEARS).contains(&age) {
                errors.push(FieldError {
                    field: "birth_year",
                    message: s.cat.fill(
                        ctx.lang,
                        "entitlements.err_elder_age",
                        &[("min", ent::MIN_ELDER_AGE_YEARS.to_string())],
                    ),
                });
            }
        }
    }
    let hukou = place(s, ctx, "hukou", codes, &mut errors);
    let residence = place(s, ctx, "residence", codes, &mut errors);
    let mut categories = Vec::new();
    for (k, v) in &ctx.query {
        if k != "cat" {
            continue;
        }
        match SpecialDifficulty::parse(v.trim()) {
            Some(c) if !categories.contains(&c) => categories.push(c),
            Some(_) => {}
            None => {
                errors.push(FieldError {
                    field: "cat",
                    message: s.t(ctx, "entitlements.err_cat"),
                });
                break;
            }
        }
    }
    let ability = match ctx.param("ability") {
        Some(UNKNOWN) => None,
        Some(a) => match AbilityLevel::parse(a) {
            Some(l) => Some(l),
            None => {
                errors.push(FieldError {
                    field: "ability",
                    message: s.t(ctx, "entitlements.err_ability"),
                });
                None
            }
        },
        None => {
            errors.push(FieldError {
                field: "ability",
                message: s.t(ctx, "entitlements.err_ability"),
            });
            None
        }
    };
    let living = match ctx.param("living").and_then(LivingArrangement::parse) {
        Some(l) => l,
        None => {
            errors.push(FieldError {
                field: "living",
                message: s.t(ctx, "entitlements.err_living"),
            });
            LivingArrangement::WithFamily
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ElderAnswers {
        birth_year: year.unwrap_or_default() as i32,
        birth_month: month.unwrap_or(1) as u32,
        hukou,
        residence,
        categories,
        ability,
        living,
    })
}

/// Reads and checks a child's answers.
fn child(
    s: &ConsoleState,
    ctx: &Ctx,
    codes: &[(String, String)],
) -> Result<ChildAnswers, Vec<FieldError>> {
    let mut errors = Vec::new();
    let age =
        number(ctx, "age_months").filter(|m| (0..=i64::from(ent::MAX_CHILD_MONTHS)).contains(m));
    if age.is_none() {
        errors.push(FieldError {
            field: "age_months",
            message: s.cat.fill(
                ctx.lang,
                "entitlements.err_age_months",
                &[("max", ent::MAX_CHILD_MONTHS.to_string())],
            ),
        });
    }
    let parents_hukou = place(s, ctx, "parents_hukou", codes, &mut errors);
    let residence = place(s, ctx, "child_residence", codes, &mut errors);
    let birth_order = match ctx.param("birth_order") {
        Some("first") => BirthOrder::First,
        Some("second") => BirthOrder::SecondOrLater,
        Some(UNKNOWN) => BirthOrder::Unknown,
        _ => {
            errors.push(FieldError {
                field: "birth_order",
                message: s.t(ctx, "entitlements.err_birth_order"),
            });
            BirthOrder::Unknown
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ChildAnswers {
        age_months: age.unwrap_or_default() as u32,
        parents_hukou,
        residence,
        birth_order,
    })
}

fn render_entitlement(ctx: &Ctx, s: &ConsoleState, e: &Entitlement) -> Json {
    let texts = |v: &[ent::Text]| v.iter().map(|t| pick(ctx.lang, t)).collect::<Vec<_>>();
    let per = s.t(ctx, "entitlements.per_month");
    json!({
        "code": e.code,
        "name": pick(ctx.lang, &e.name),
        "status": match e.status { Status::Met => "met", Status::Possibly => "possibly", Status::NotMet => "not_met" },
        "what": pick(ctx.lang, &e.what),
        "amounts": e.amounts.iter().map(|a| json!({
            "label": pick(ctx.lang, &a.label),
            "amount": a.fen.map(|f| format!("{} {}{per}", yuan(f), s.t(ctx, "entitlements.yuan"))),
            "ceiling": a.ceiling,
        })).collect::<Vec<_>>(),
        "sources": e.sources.iter().map(|x| json!({
            "name": x.name, "value": x.value, "from": x.from.to_string(),
            "clause": x.clause, "placeholder": x.placeholder,
        })).collect::<Vec<_>>(),
        "met": texts(&e.met),
        "unmet": texts(&e.unmet),
        "unknown": texts(&e.unknown),
        "notes": texts(&e.notes),
        "apply": pick(ctx.lang, &e.apply),
        "places": e.places,
    })
}

fn choices(values: &[(String, String)], chosen: Option<&str>) -> Vec<Json> {
    values
        .iter()
        .map(|(v, l)| json!({"value": v, "label": l, "selected": chosen == Some(v.as_str())}))
        .collect()
}

/// `GET /portal/entitlements[?who=elder|child&…]`
pub async fn page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let today = Utc::now().date_naive();
    let book = match ent::Rulebook::embedded() {
        Ok(b) => b,
        Err(e) => return s.error_page(&ctx, PageError::Internal(e.to_string())),
    };
    let codes = counties(&s, &ctx);
    let mut places = codes.clone();
    places.push((ELSEWHERE.into(), s.t(&ctx, "entitlements.elsewhere")));
    let who = ctx.param("who").map(str::to_string);
    let mut errors: Vec<FieldError> = Vec::new();
    let mut results: Option<Vec<Entitlement>> = None;
    let answers = match who.as_deref() {
        None => None,
        Some("elder") => match elder(&s, &ctx, &codes, today) {
            Ok(a) => Some(Answers::Elder(a)),
            Err(e) => {
                errors = e;
                None
            }
        },
        Some("child") => match child(&s, &ctx, &codes) {
            Ok(a) => Some(Answers::Child(a)),
            Err(e) => {
                errors = e;
                None
            }
        },
        Some(_) => {
            errors.push(FieldError {
                field: "who",
                message: s.t(&ctx, "entitlements.err_who"),
            });
            None
        }
    };
    if let Some(a) = &answers {
        match ent::check(a, &book, today) {
            Ok(r) => results = Some(r),
            Err(e) => return s.error_page(&ctx, PageError::Internal(e.to_string())),
        }
    }
    let group = |st: Status| -> Vec<Json> {
        results
            .iter()
            .flatten()
            .filter(|e| e.status == st)
            .map(|e| render_entitlement(&ctx, &s, e))
            .collect()
    };
    let p = |k: &str| ctx.param(k).map(str::to_string);
    let cats: Vec<String> = ctx
        .query
        .iter()
        .filter(|(k, _)| k == "cat")
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let orders: Vec<Json> = ["second", "first", UNKNOWN]
        .iter()
        .map(|o| {
            json!({
                "value": o,
                "label": s.t(&ctx, &format!("entitlements.order_{o}")),
                "selected": p("birth_order").as_deref() == Some(*o),
            })
        })
        .collect();
    let page = json!({
        "who": who,
        "errors": errors.iter().map(|e| json!({"field": e.field, "message": e.message})).collect::<Vec<_>>(),
        "error_of": errors.iter().map(|e| (e.field.to_string(), Json::String(e.message.clone()))).collect::<serde_json::Map<_, _>>(),
        "results": results.is_some(),
        "met": group(Status::Met),
        "possibly": group(Status::Possibly),
        "not_met": group(Status::NotMet),
        "years": {"min": today.year() - ent::MAX_AGE_YEARS, "max": today.year() - ent::MIN_ELDER_AGE_YEARS},
        "max_months": ent::MAX_CHILD_MONTHS,
        "form": {
            "birth_year": p("birth_year"),
            "age_months": p("age_months"),
        },
        "months": (1..=12).map(|m| json!({"value": m.to_string(), "selected": p("birth_month").as_deref() == Some(m.to_string().as_str())})).collect::<Vec<_>>(),
        "hukou": choices(&places, p("hukou").as_deref()),
        "residence": choices(&places, p("residence").as_deref()),
        "parents_hukou": choices(&places, p("parents_hukou").as_deref()),
        "child_residence": choices(&places, p("child_residence").as_deref()),
        "categories": SpecialDifficulty::ALL.iter().map(|c| json!({
            "value": c.code(),
            "label": s.label(&ctx, "special_difficulty", c.code()),
            "checked": cats.iter().any(|x| x == c.code()),
        })).collect::<Vec<_>>(),
        "abilities": std::iter::once((UNKNOWN.to_string(), s.t(&ctx, "entitlements.ability_unknown")))
            .chain(AbilityLevel::ALL.iter().map(|l| (l.code().to_string(), s.label(&ctx, "ability_level", l.code()))))
            .map(|(v, l)| json!({"value": v, "label": l, "selected": p("ability").as_deref().unwrap_or(UNKNOWN) == v}))
            .collect::<Vec<_>>(),
        "livings": LivingArrangement::ALL.iter().map(|l| json!({
            "value": l.code(),
            "label": s.label(&ctx, "living_arrangement", l.code()),
            "selected": p("living").as_deref() == Some(l.code()),
        })).collect::<Vec<_>>(),
        "orders": orders,
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let blank = who.is_none();
    let r = s.render_status(
        &ctx,
        status,
        "portal_entitlements.html",
        "portal_entitlements",
        page,
    );
    // The blank form is the same for everyone and may be cached like the
    // portal's other pages; a page with answers is never kept (no-store).
    if blank { super::portal::public(r) } else { r }
}
