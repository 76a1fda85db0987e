//! The public portal (公众服务门户): pages anyone may read without an
//! account, Chinese first and phone-sized first. It shows published and
//! aggregate figures only — never a person — and every request is counted
//! against its address (`Limiter`), so one client cannot starve the others.
//! The open statistics (数据开放) live here: the published indicator values
//! as a page and as datasets with a DCAT catalogue (`laoxiao_store::open_data`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use laoxiao_model::AreaLevel;
use laoxiao_rules::indicators::Period;
use laoxiao_store::open_data::{self, OpenFormat};
use serde_json::{Value as Json, json};

use super::i18n::Lang;
use super::{ConsoleState, Ctx, PageError, ctx_or_error};
use crate::encode_segment;

/// Addresses remembered at most: past it, idle ones are forgotten first.
const MAX_ADDRESSES: usize = 100_000;

/// Requests per address (令牌桶): `per_minute` a minute on average, up to a
/// minute's worth at once. Kept per server, not global.
#[derive(Debug)]
pub struct Limiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl Limiter {
    /// `per_minute` 0: no limit (a benchmark on loopback).
    pub fn new(per_minute: u32) -> Limiter {
        Limiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request's token for `ip` at `now`; false when none is left.
    pub fn admit(&self, ip: IpAddr, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let cap = f64::from(self.per_minute);
        let rate = cap / 60.0;
        let Ok(mut b) = self.buckets.lock() else {
            return false;
        };
        if b.len() >= MAX_ADDRESSES && !b.contains_key(&ip) {
            // Forget the addresses whose buckets have refilled (idle ones);
            // if every one is busy, start over rather than grow.
            b.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < cap
            });
            if b.len() >= MAX_ADDRESSES {
                b.clear();
            }
        }
        let (tokens, at) = b.entry(ip).or_insert((cap, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * rate).min(cap);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn limit(State(l): State<Arc<Limiter>>, req: Request, next: Next) -> Response {
    // The connection's own address: a forwarded-for header is the client's
    // to write, so it cannot be what limits the client.
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = ip
        && !l.admit(ip, Instant::now())
    {
        let mut r = (
            StatusCode::TOO_MANY_REQUESTS,
            "请求过于频繁，请稍后再试。Too many requests; please try again shortly.",
        )
            .into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        return r;
    }
    next.run(req).await
}

/// The portal's routes, each limited per address.
pub fn routes(state: ConsoleState) -> Router {
    let limiter = Arc::new(Limiter::new(state.web.portal_per_minute));
    Router::new()
        .route("/portal", get(home))
        .route("/portal/places", get(super::portal_places::places))
        .route(
            "/portal/places.json",
            get(super::portal_places::places_json),
        )
        .route("/portal/places/{ref}", get(super::portal_places::place))
        .route("/portal/statistics", get(statistics))
        .route("/portal/projects", get(super::portal_projects::projects))
        .route("/portal/data", get(data_index))
        .route("/portal/data/catalog.json", get(catalog_json))
        .route("/portal/data/{id}", get(dataset_page))
        .route("/portal/data/{id}/{file}", get(download))
        .route(
            "/portal/entitlements",
            get(super::portal_entitlements::page),
        )
        .with_state(state.clone())
        .merge(super::portal_complaints::routes(state))
        .route_layer(middleware::from_fn_with_state(limiter, limit))
}

/// Public pages may be kept by browsers and proxies for a minute: the same
/// for everyone, and what they show changes only at a publication.
pub(super) fn public(mut r: Response) -> Response {
    if r.status().is_success() {
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Cookie"));
    }
    r
}

pub(super) fn render(
    s: &ConsoleState,
    ctx: &Ctx,
    template: &str,
    nav: &str,
    page: Json,
) -> Response {
    public(s.render(ctx, template, nav, page))
}

/// `GET /portal`
pub async fn home(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/portal", headers, q);
    let releases = match s.db(|c, _| open_data::releases(c)).await {
        Ok(r) => r,
        Err(e) => return s.error_page(&ctx, e),
    };
    let latest = releases.first().map(|p| {
        json!({
            "period": period_label(ctx.lang, &p.period),
            "url": format!("/portal/statistics?period={}", encode_segment(&p.period)),
            "published_at": day(&p.published_at),
        })
    });
    render(
        &s,
        &ctx,
        "portal_home.html",
        "portal_home",
        json!({"latest": latest}),
    )
}

fn period_label(lang: Lang, p: &str) -> String {
    match lang {
        Lang::Zh => open_data::period_zh(p),
        Lang::En => p.to_string(),
    }
}

/// `2026-03-01T08:00:00Z` → `2026-03-01`.
fn day(ts: &str) -> String {
    ts.chars().take(10).collect()
}

/// The areas a visitor may pick on the statistics page: the city, its
/// counties and their towns (villages are in the datasets).
pub(super) fn area_choices(s: &ConsoleState, chosen: &str) -> Vec<Json> {
    s.store
        .reference
        .areas
        .all()
        .iter()
        .filter(|a| a.level != AreaLevel::Village)
        .map(|a| {
            let indent = match a.level {
                AreaLevel::City => "",
                AreaLevel::County => "\u{3000}",
                _ => "\u{3000}\u{3000}",
            };
            json!({"code": a.code, "label": format!("{indent}{}", a.name), "selected": a.code == chosen})
        })
        .collect()
}

/// `GET /portal/statistics?period=2022&code=330402`
pub async fn statistics(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/portal/statistics", headers, q);
    let city = laoxiao_model::jiaxing::CITY_CODE.to_string();
    let code = ctx.param("code").unwrap_or(&city).to_string();
    let Some(area) = s.store.reference.areas.get(&code).cloned() else {
        let msg = s
            .cat
            .fill(ctx.lang, "error.unknown_area", &[("code", code)]);
        return s.error_page(&ctx, PageError::NotFound(msg));
    };
    let wanted = match ctx.param("period").map(Period::parse) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => {
            return s.error_page(&ctx, PageError::BadRequest(s.t(&ctx, "portal.bad_period")));
        }
    };
    let today = Utc::now().date_naive();
    let area_code = area.code.clone();
    let data = s
        .db(move |c, r| {
            let releases = open_data::releases(c)?;
            let period = match wanted {
                Some(p) => Some(p),
                None => releases.first().and_then(|p| Period::parse(&p.period).ok()),
            };
            let values = match period {
                Some(p) => open_data::values(c, r, p, Some(&area_code), today)?,
                None => None,
            };
            let terms = open_data::terms(today)?;
            Ok((releases, period, values, terms))
        })
        .await;
    let (releases, period, values, terms) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    if let (Some(p), None) = (wanted, &values) {
        let msg = s.cat.fill(
            ctx.lang,
            "portal.not_published",
            &[("period", p.to_string())],
        );
        return s.error_page(&ctx, PageError::NotFound(msg));
    }
    let chosen_period = period.map(|p| p.to_string()).unwrap_or_default();
    let rows: Vec<Json> = values
        .as_ref()
        .map(|(_, v)| {
            v.iter()
                .map(|x| {
                    json!({
                        "indicator": x.indicator,
                        "name": if ctx.lang == Lang::Zh { x.indicator_name.clone() } else {
                            indicator_name_en(x.indicator).unwrap_or_else(|| x.indicator_name.clone())
                        },
                        "value": x.value.map(shown),
                        "unit": x.unit,
                        "target": x.target,
                        "target_year": x.target_year,
                        "status": x.status,
                        "status_label": s.t(&ctx, &format!("portal.status_{}", x.status)),
                        "withheld": x.withheld.is_some(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let publication = values.as_ref().map(|(p, _)| {
        json!({
            "id": p.id,
            "published_at": day(&p.published_at),
            "as_of": p.as_of,
            "version": format!("{}-{}", p.id, p.definitions_version),
        })
    });
    let dataset = (!chosen_period.is_empty()).then(|| {
        let id = open_data::values_id(&chosen_period);
        json!({
            "url": format!("/portal/data/{}", encode_segment(&id)),
            "files": OpenFormat::ALL.iter().map(|f| json!({
                "label": f.label(),
                "url": format!("/portal/data/{}/{}", encode_segment(&id), f.file_name()),
            })).collect::<Vec<_>>(),
        })
    });
    let page = json!({
        "chosen_area": {"code": area.code, "name": area.name},
        "areas": area_choices(&s, &area.code),
        "periods": releases.iter().map(|p| json!({
            "value": p.period,
            "label": period_label(ctx.lang, &p.period),
            "selected": p.period == chosen_period,
        })).collect::<Vec<_>>(),
        "period_label": period_label(ctx.lang, &chosen_period),
        "rows": rows,
        "publication": publication,
        "dataset": dataset,
        "min_count": terms.min_count,
    });
    render(
        &s,
        &ctx,
        "portal_statistics.html",
        "portal_statistics",
        page,
    )
}

/// A value as the table shows it: at most two decimals, no trailing zeros.
fn shown(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn indicator_name_en(n: u32) -> Option<String> {
    laoxiao_rules::indicators::definitions()
        .ok()?
        .all
        .iter()
        .find(|d| d.number == n)
        .map(|d| d.name_en.clone())
}

fn dataset_json(ctx: &Ctx, d: &open_data::Dataset) -> Json {
    let zh = ctx.lang == Lang::Zh;
    let url = format!("/portal/data/{}", encode_segment(&d.id));
    json!({
        "id": d.id,
        "url": url,
        "title": if zh { &d.title_zh } else { &d.title_en },
        "description": if zh { &d.description_zh } else { &d.description_en },
        "version": d.version,
        "published_at": d.release.as_ref().map(|p| day(&p.published_at)),
        "files": OpenFormat::ALL.iter().map(|f| json!({
            "label": f.label(),
            "url": format!("{url}/{}", f.file_name()),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /portal/data`: the catalogue as a page.
pub async fn data_index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/portal/data", headers, q);
    let today = Utc::now().date_naive();
    let data = s
        .db(move |c, _| Ok((open_data::catalogue(c)?, open_data::terms(today)?)))
        .await;
    let (datasets, terms) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let page = json!({
        "datasets": datasets.iter().map(|d| dataset_json(&ctx, d)).collect::<Vec<_>>(),
        "licence": terms.licence,
        "min_count": terms.min_count,
    });
    render(&s, &ctx, "portal_data.html", "portal_data", page)
}

/// `GET /portal/data/{id}`: a dataset's page with its data dictionary.
pub async fn dataset_page(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let path = format!("/portal/data/{}", encode_segment(&id));
    let ctx = ctx_or_error!(s, &path, headers, q);
    let today = Utc::now().date_naive();
    let data = s
        .db(move |c, _| Ok((open_data::dataset(c, &id)?, open_data::terms(today)?)))
        .await;
    let (d, terms) = match data {
        Ok((Some(d), t)) => (d, t),
        Ok((None, _)) => {
            return s.error_page(&ctx, PageError::NotFound(s.t(&ctx, "portal.no_dataset")));
        }
        Err(e) => return s.error_page(&ctx, e),
    };
    let zh = ctx.lang == Lang::Zh;
    let page = json!({
        "d": dataset_json(&ctx, &d),
        "fields": d.fields.iter().map(|f| json!({
            "name": f.name,
            "label": if zh { f.zh } else { f.en },
            "description": if zh { f.en } else { f.zh },
            "kind": f.kind,
        })).collect::<Vec<_>>(),
        "publication": d.release.as_ref().map(|p| json!({
            "id": p.id, "period": period_label(ctx.lang, &p.period), "as_of": p.as_of,
            "published_at": day(&p.published_at), "definitions_version": p.definitions_version,
        })),
        "licence": terms.licence,
        "min_count": terms.min_count,
    });
    render(&s, &ctx, "portal_dataset.html", "portal_data", page)
}

/// `GET /portal/data/{id}/{data.csv|data.xlsx|data.json}`
pub async fn download(
    State(s): State<ConsoleState>,
    Path((id, file)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let path = format!(
        "/portal/data/{}/{}",
        encode_segment(&id),
        encode_segment(&file)
    );
    let ctx = ctx_or_error!(s, &path, headers, q);
    let Some(format) = OpenFormat::from_file_name(&file) else {
        return s.error_page(&ctx, PageError::NotFound(s.t(&ctx, "portal.no_dataset")));
    };
    let today = Utc::now().date_naive();
    let name = id.clone();
    let bytes = match s
        .db(move |c, r| open_data::file(c, r, &id, format, today))
        .await
    {
        Ok(Some(b)) => b,
        Ok(None) => {
            return s.error_page(&ctx, PageError::NotFound(s.t(&ctx, "portal.no_dataset")));
        }
        Err(e) => return s.error_page(&ctx, e),
    };
    let ext = file.rsplit('.').next().unwrap_or("csv");
    // The id is one of the catalogue's (letters, digits and dashes).
    let disposition = format!("attachment; filename=\"jiaxing-{name}.{ext}\"");
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.media_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    public(r)
}

/// `GET /portal/data/catalog.json`: the catalogue as DCAT (JSON-LD).
pub async fn catalog_json(State(s): State<ConsoleState>, headers: HeaderMap) -> Response {
    // Absolute addresses, as DCAT wants: from the Host the client used.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        })
        .unwrap_or("localhost");
    let scheme = if s.web.secure_cookies {
        "https"
    } else {
        "http"
    };
    let base = format!("{scheme}://{host}/portal/data");
    let today = Utc::now().date_naive();
    let store = s.store.clone();
    let doc = s
        .db_tasks
        .run(move || {
            let mut c = store.conn()?;
            open_data::dcat(&mut c, &base, today)
        })
        .await;
    match doc {
        Ok(Ok(doc)) => {
            let mut r = axum::Json(doc).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/ld+json"),
            );
            public(r)
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "open data catalogue failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "open data catalogue task failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_address_gets_a_minute_of_requests_then_waits() {
        let l = Limiter::new(60);
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        let t0 = Instant::now();
        for _ in 0..60 {
            assert!(l.admit(ip, t0));
        }
        assert!(!l.admit(ip, t0), "the 61st at once is refused");
        assert!(l.admit(other, t0), "another address is not held back");
        // One a second comes back.
        assert!(l.admit(ip, t0 + Duration::from_millis(1100)));
        assert!(!l.admit(ip, t0 + Duration::from_millis(1200)));
    }

    #[test]
    fn zero_means_no_limit() {
        let l = Limiter::new(0);
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| l.admit(ip, t0)));
    }
}
