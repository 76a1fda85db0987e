//! Finding a place on the public portal (找机构): care homes, home-care
//! centres, village stations, childcare institutions and nursery classes on a
//! map and in a list, by area, distance from a chosen point, kind, rating,
//! fee, 普惠, vacancies and opening hours, and each place's page.
//!
//! The whole city's public places (`laoxiao_store::public_places`) are held in
//! memory and rebuilt at most every `[portal] places_refresh_seconds`, in the
//! background while the old copy keeps answering: a search touches no
//! database, so the portal stays fast when many families search at once. What
//! it shows is therefore up to that many seconds old, like the pages' own
//! `Cache-Control: max-age=60`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, FixedOffset, Timelike, Utc};
use laoxiao_model::AreaLevel;
use laoxiao_model::facility::{FacilityKind, Rating};
use laoxiao_model::hours::Hours;
use laoxiao_spatial::{Xy, project, unproject};
use laoxiao_store::public_places::{self, PublicPlace};
use laoxiao_store::public_ref;
use serde_json::{Value as Json, json};

use super::i18n::Lang;
use super::planmap::{self, MapSpec, Marker, Point};
use super::{ConsoleState, Ctx, PageError, ctx_or_error};

/// Places on a page of the list.
pub const PAGE_SIZE: usize = 20;
/// Places a JSON answer carries at most.
pub const MAX_LIMIT: usize = 100;
/// Pages at most (a deeper page is refused, not computed).
pub const MAX_PAGE: usize = 500;
/// Points drawn on the list's map at most.
pub const MAX_MAP_POINTS: usize = 300;
/// Longest name search.
pub const MAX_Q_CHARS: usize = 40;
/// Search radius bounds, km.
pub const RADIUS_KM: (f64, f64) = (0.2, 100.0);
/// Fees a filter may name, yuan a month.
pub const MAX_FEE_YUAN: i64 = 1_000_000;
/// A chosen point must lie in this box around the city (WGS-84 degrees).
const CITY_BOX: (f64, f64, f64, f64) = (119.8, 29.9, 121.8, 31.3);

/// China Standard Time: "open now" is the city's now.
fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!())
}

// ------------------------------------------------------------------ index

/// One place with what searching needs precomputed.
pub struct Entry {
    pub place: PublicPlace,
    pub xy: Option<Xy>,
    pub hours: Option<Hours>,
    /// The fees it charges a month, fen: the facility's and its classes'.
    pub fee_min: Option<i64>,
    pub fee_max: Option<i64>,
    pub name_lower: String,
    /// The place's JSON object without its distance and closing brace,
    /// serialised once per copy rather than once per answer.
    pub json_head: String,
}

/// The city's public places at one moment.
pub struct Snapshot {
    pub built: Instant,
    pub entries: Vec<Entry>,
    pub by_ref: HashMap<String, usize>,
}

impl Snapshot {
    pub fn new(places: Vec<PublicPlace>) -> Snapshot {
        let mut by_ref = HashMap::with_capacity(places.len());
        let entries: Vec<Entry> = places
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                by_ref.insert(p.public_ref.clone(), i);
                let xy = match (p.lng, p.lat) {
                    (Some(lng), Some(lat)) => Some(project(lng, lat)),
                    _ => None,
                };
                let hours = p
                    .opening_hours
                    .as_deref()
                    .and_then(|h| Hours::parse(h).ok());
                let fees = p
                    .monthly_fee_fen
                    .into_iter()
                    .chain(p.classes.iter().filter_map(|c| c.monthly_fee_fen));
                let (mut lo, mut hi) = (None::<i64>, None::<i64>);
                for f in fees {
                    lo = Some(lo.map_or(f, |l| l.min(f)));
                    hi = Some(hi.map_or(f, |h| h.max(f)));
                }
                let mut json_head = json_item(&p, lo, hi).to_string();
                json_head.pop();
                Entry {
                    name_lower: p.name.to_lowercase(),
                    place: p,
                    xy,
                    hours,
                    fee_min: lo,
                    fee_max: hi,
                    json_head,
                }
            })
            .collect();
        Snapshot {
            built: Instant::now(),
            entries,
            by_ref,
        }
    }
}

/// The portal's copy of the public places, rebuilt in the background.
pub struct PlaceIndex {
    max_age: Duration,
    current: RwLock<Option<Arc<Snapshot>>>,
    refreshing: AtomicBool,
}

impl PlaceIndex {
    pub fn new(max_age_seconds: u64) -> PlaceIndex {
        PlaceIndex {
            max_age: Duration::from_secs(max_age_seconds.clamp(1, 86_400)),
            current: RwLock::new(None),
            refreshing: AtomicBool::new(false),
        }
    }

    fn get(&self) -> Option<Arc<Snapshot>> {
        self.current.read().ok().and_then(|g| g.clone())
    }

    fn set(&self, s: Snapshot) {
        if let Ok(mut g) = self.current.write() {
            *g = Some(Arc::new(s));
        }
    }
}

async fn build(s: &ConsoleState) -> Result<Snapshot, PageError> {
    let today = Utc::now().with_timezone(&cst()).date_naive();
    let places = s.db(move |c, r| public_places::load(c, r, today)).await?;
    Ok(Snapshot::new(places))
}

/// The current snapshot: built on first use, then refreshed in the
/// background once older than the refresh interval (one refresh at a time).
pub async fn snapshot(s: &ConsoleState) -> Result<Arc<Snapshot>, PageError> {
    let idx = &s.places;
    if let Some(snap) = idx.get() {
        if snap.built.elapsed() > idx.max_age && !idx.refreshing.swap(true, Ordering::AcqRel) {
            let s2 = s.clone();
            tokio::spawn(async move {
                match build(&s2).await {
                    Ok(n) => s2.places.set(n),
                    Err(e) => tracing::warn!(error = ?e, "public places refresh failed"),
                }
                s2.places.refreshing.store(false, Ordering::Release);
            });
        }
        return Ok(snap);
    }
    let fresh = build(s).await?;
    idx.set(fresh);
    idx.get()
        .ok_or_else(|| PageError::Internal("the place index could not be kept".into()))
}

// ------------------------------------------------------------------ query

/// Which kinds a search takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindFilter {
    All,
    Elderly,
    Childcare,
    One(FacilityKind),
}

/// When a place must be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenFilter {
    Any,
    Now,
    Weekend,
    AllDay,
}

/// How the list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Distance,
    Name,
    Fee,
    Vacancies,
    Rating,
}

/// A search, every value bounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub area: Option<String>,
    pub area_path: Option<String>,
    pub kind: KindFilter,
    /// The chosen point, WGS-84.
    pub at: Option<(f64, f64)>,
    pub within_km: Option<f64>,
    pub rating: Option<Rating>,
    pub fee_min_fen: Option<i64>,
    pub fee_max_fen: Option<i64>,
    pub inclusive: bool,
    pub vacancies: bool,
    pub open: OpenFilter,
    pub q: Option<String>,
    pub sort: Sort,
    pub page: usize,
    pub limit: usize,
}

/// A field of the search that cannot be used, and why (message keys).
#[derive(Debug, Clone, PartialEq)]
pub struct BadField {
    pub field: &'static str,
    pub key: &'static str,
}

fn bad(field: &'static str, key: &'static str) -> BadField {
    BadField { field, key }
}

fn last<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter()
        .rev()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn flag(q: &[(String, String)], k: &str) -> bool {
    matches!(last(q, k), Some("1" | "true" | "on" | "yes"))
}

fn yuan(q: &[(String, String)], k: &'static str) -> Result<Option<i64>, BadField> {
    match last(q, k) {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=MAX_FEE_YUAN).contains(&n) => Ok(Some(n * 100)),
            _ => Err(bad(k, "places.bad_fee")),
        },
    }
}

fn coord(v: Option<&str>, field: &'static str, lo: f64, hi: f64) -> Result<Option<f64>, BadField> {
    match v {
        None => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(x) if x.is_finite() && (lo..=hi).contains(&x) => Ok(Some(x)),
            _ => Err(bad(field, "places.bad_point")),
        },
    }
}

impl Search {
    /// Reads a search from query pairs; `default_limit` for pages, the JSON
    /// answer may ask for up to [`MAX_LIMIT`].
    pub fn parse(
        q: &[(String, String)],
        areas: &laoxiao_model::area::AreaTree,
        default_limit: usize,
    ) -> Result<Search, BadField> {
        let (area, area_path) = match last(q, "area") {
            None => (None, None),
            Some(code) => match areas.get(code) {
                Some(a) if a.level != AreaLevel::City => {
                    (Some(a.code.clone()), Some(a.path.clone()))
                }
                Some(_) => (None, None),
                None => return Err(bad("area", "places.bad_area")),
            },
        };
        let kind = match last(q, "kind") {
            None | Some("all") => KindFilter::All,
            Some("elderly") => KindFilter::Elderly,
            Some("childcare") => KindFilter::Childcare,
            Some(k) => {
                KindFilter::One(FacilityKind::parse(k).ok_or(bad("kind", "places.bad_kind"))?)
            }
        };
        let lng = coord(last(q, "lng"), "lng", CITY_BOX.0, CITY_BOX.2)?;
        let lat = coord(last(q, "lat"), "lat", CITY_BOX.1, CITY_BOX.3)?;
        // A point picked on the map comes in the map's metres.
        let x = coord(last(q, "x"), "x", -1e7, 1e7)?;
        let y = coord(last(q, "y"), "y", -1e8, 1e8)?;
        let at = match (lng, lat, x, y) {
            (Some(lng), Some(lat), _, _) => Some((lng, lat)),
            (None, None, Some(x), Some(y)) => {
                let (lng, lat) = unproject(Xy::new(x, y));
                if !(CITY_BOX.0..=CITY_BOX.2).contains(&lng)
                    || !(CITY_BOX.1..=CITY_BOX.3).contains(&lat)
                {
                    return Err(bad("x", "places.bad_point"));
                }
                Some((lng, lat))
            }
            (None, None, None, None) => None,
            (Some(_), None, _, _) => return Err(bad("lat", "places.bad_point")),
            (None, Some(_), _, _) => return Err(bad("lng", "places.bad_point")),
            (None, None, _, _) => return Err(bad("x", "places.bad_point")),
        };
        let within_km = match last(q, "within") {
            None => None,
            Some(v) => match v.parse::<f64>() {
                Ok(r) if r.is_finite() && (RADIUS_KM.0..=RADIUS_KM.1).contains(&r) => Some(r),
                _ => return Err(bad("within", "places.bad_within")),
            },
        };
        let rating = match last(q, "rating") {
            None => None,
            Some(r) => Some(Rating::parse(r).ok_or(bad("rating", "places.bad_rating"))?),
        };
        let fee_min_fen = yuan(q, "fee_min")?;
        let fee_max_fen = yuan(q, "fee_max")?;
        if let (Some(a), Some(b)) = (fee_min_fen, fee_max_fen)
            && a > b
        {
            return Err(bad("fee_max", "places.bad_fee_order"));
        }
        let open = match last(q, "open") {
            None | Some("any") => OpenFilter::Any,
            Some("now") => OpenFilter::Now,
            Some("weekend") => OpenFilter::Weekend,
            Some("24h") => OpenFilter::AllDay,
            Some(_) => return Err(bad("open", "places.bad_open")),
        };
        let q_text = match last(q, "q") {
            None => None,
            Some(t) if t.chars().count() <= MAX_Q_CHARS => Some(t.to_lowercase()),
            Some(_) => return Err(bad("q", "places.bad_q")),
        };
        let sort = match last(q, "sort") {
            None => {
                if at.is_some() {
                    Sort::Distance
                } else {
                    Sort::Name
                }
            }
            Some("distance") if at.is_some() => Sort::Distance,
            Some("distance") => return Err(bad("sort", "places.bad_sort_point")),
            Some("name") => Sort::Name,
            Some("fee") => Sort::Fee,
            Some("vacancies") => Sort::Vacancies,
            Some("rating") => Sort::Rating,
            Some(_) => return Err(bad("sort", "places.bad_sort")),
        };
        if within_km.is_some() && at.is_none() {
            return Err(bad("within", "places.bad_within_point"));
        }
        let page = match last(q, "page") {
            None => 1,
            Some(p) => match p.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
                _ => return Err(bad("page", "places.bad_page")),
            },
        };
        let limit = match last(q, "limit") {
            None => default_limit,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => return Err(bad("limit", "places.bad_limit")),
            },
        };
        Ok(Search {
            area,
            area_path,
            kind,
            at,
            within_km,
            rating,
            fee_min_fen,
            fee_max_fen,
            inclusive: flag(q, "inclusive"),
            vacancies: flag(q, "vacancies"),
            open,
            q: q_text,
            sort,
            page,
            limit,
        })
    }
}

/// The rank of a rating within its scale (stars and A-levels are not compared).
fn rank(r: Rating) -> (bool, u8) {
    let n = match r {
        Rating::A3 => 3,
        Rating::A4 => 4,
        Rating::A5 => 5,
        Rating::Star1 => 1,
        Rating::Star2 => 2,
        Rating::Star3 => 3,
        Rating::Star4 => 4,
        Rating::Star5 => 5,
    };
    (r.is_a_scale(), n)
}

/// Free places (beds or slots), if the kind has any.
pub fn free(p: &PublicPlace) -> Option<i64> {
    match (p.free_beds, p.free_slots) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

/// A hit: the entry's index and its distance in metres from the point.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub i: usize,
    pub metres: Option<f64>,
}

/// The places a search finds, the first `upto` of them ordered.
/// `upto`: how many of them must come in order (a page's end; the rest
/// follow unordered).
pub fn find(
    snap: &Snapshot,
    s: &Search,
    now: chrono::DateTime<FixedOffset>,
    upto: usize,
) -> Vec<Hit> {
    let from = s.at.map(|(lng, lat)| project(lng, lat));
    let radius_m = s.within_km.map(|k| k * 1000.0);
    let (weekday, minute) = (
        now.weekday().num_days_from_monday() as usize,
        (now.hour() * 60 + now.minute()) as u16,
    );
    let want_rating = s.rating.map(rank);
    let mut hits: Vec<Hit> = Vec::new();
    for (i, e) in snap.entries.iter().enumerate() {
        let p = &e.place;
        let kind_ok = match s.kind {
            KindFilter::All => true,
            KindFilter::Elderly => p.kind.is_elderly(),
            KindFilter::Childcare => !p.kind.is_elderly(),
            KindFilter::One(k) => p.kind == k,
        };
        if !kind_ok {
            continue;
        }
        if let Some(path) = &s.area_path
            && !p.area_path.starts_with(path.as_str())
        {
            continue;
        }
        if s.inclusive && !p.inclusive {
            continue;
        }
        if s.vacancies && free(p).is_none_or(|n| n <= 0) {
            continue;
        }
        if let Some((scale, min)) = want_rating {
            match p.rating.as_deref().and_then(Rating::parse).map(rank) {
                Some((sc, n)) if sc == scale && n >= min => {}
                _ => continue,
            }
        }
        if s.fee_min_fen.is_some() || s.fee_max_fen.is_some() {
            // Some fee of the place lies within the range.
            let (Some(lo), Some(hi)) = (e.fee_min, e.fee_max) else {
                continue;
            };
            if s.fee_max_fen.is_some_and(|m| lo > m) || s.fee_min_fen.is_some_and(|m| hi < m) {
                continue;
            }
        }
        match s.open {
            OpenFilter::Any => {}
            OpenFilter::Now => {
                if !e.hours.as_ref().is_some_and(|h| h.open_at(weekday, minute)) {
                    continue;
                }
            }
            OpenFilter::Weekend => {
                if !e.hours.as_ref().is_some_and(Hours::weekend) {
                    continue;
                }
            }
            OpenFilter::AllDay => {
                if !e.hours.as_ref().is_some_and(Hours::always) {
                    continue;
                }
            }
        }
        if let Some(q) = &s.q
            && !e.name_lower.contains(q.as_str())
        {
            continue;
        }
        let metres = match (from, e.xy) {
            (Some(a), Some(b)) => Some(a.dist(b)),
            _ => None,
        };
        if let Some(r) = radius_m
            && metres.is_none_or(|m| m > r)
        {
            continue;
        }
        hits.push(Hit { i, metres });
    }
    order(snap, s.sort, &mut hits, upto);
    hits
}

/// Orders the first `upto` hits by `sort` (the rest stay behind them,
/// unordered): a page needs its own places in order, not the whole city's,
/// so the hits are first partitioned around the `upto`-th (linear) and only
/// that head is sorted.
fn order(snap: &Snapshot, sort: Sort, hits: &mut Vec<Hit>, upto: usize) {
    let e = |h: &Hit| &snap.entries[h.i];
    let rating = |h: &Hit| {
        e(h).place
            .rating
            .as_deref()
            .and_then(Rating::parse)
            .map_or(0, |r| rank(r).1)
    };
    let cmp = |a: &Hit, b: &Hit| -> std::cmp::Ordering {
        let by = match sort {
            Sort::Distance => a
                .metres
                .unwrap_or(f64::MAX)
                .total_cmp(&b.metres.unwrap_or(f64::MAX)),
            Sort::Name => std::cmp::Ordering::Equal,
            Sort::Fee => e(a)
                .fee_min
                .unwrap_or(i64::MAX)
                .cmp(&e(b).fee_min.unwrap_or(i64::MAX)),
            Sort::Vacancies => free(&e(b).place)
                .unwrap_or(-1)
                .cmp(&free(&e(a).place).unwrap_or(-1)),
            Sort::Rating => rating(b).cmp(&rating(a)),
        };
        by.then_with(|| e(a).place.name.cmp(&e(b).place.name))
            .then(a.i.cmp(&b.i))
    };
    if upto == 0 {
        return;
    }
    if hits.len() > upto {
        hits.select_nth_unstable_by(upto - 1, cmp);
        hits[..upto].sort_unstable_by(cmp);
    } else {
        hits.sort_unstable_by(cmp);
    }
}

// ------------------------------------------------------------------ views

fn fee_text(lo: Option<i64>, hi: Option<i64>) -> Option<String> {
    match (lo, hi) {
        (Some(a), Some(b)) if a == b => Some(laoxiao_rules::subsidies::yuan(a)),
        (Some(a), Some(b)) => Some(format!(
            "{}–{}",
            laoxiao_rules::subsidies::yuan(a),
            laoxiao_rules::subsidies::yuan(b)
        )),
        _ => None,
    }
}

fn distance_text(m: f64) -> String {
    if m < 1000.0 {
        format!("{:.0} m", (m / 10.0).round() * 10.0)
    } else {
        format!("{:.1} km", m / 1000.0)
    }
}

/// The JSON of a place in a list (public fields only).
fn list_json(s: &ConsoleState, ctx: &Ctx, e: &Entry, metres: Option<f64>) -> Json {
    let p = &e.place;
    let zh = ctx.lang == Lang::Zh;
    json!({
        "ref": p.public_ref,
        "url": format!("/portal/places/{}", p.public_ref),
        "name": p.name,
        "kind": p.kind.code(),
        "kind_label": s.label(ctx, "facility_kind", p.kind.code()),
        "area": super::area_name(s, &p.area_code),
        "address": p.address,
        "lng": p.lng,
        "lat": p.lat,
        "distance_m": metres.map(|m| m.round() as i64),
        "distance": metres.map(distance_text),
        "rating": p.rating,
        "rating_label": p.rating.as_deref().map(|r| s.label(ctx, "rating", r)),
        "inclusive": p.inclusive,
        "fee": fee_text(e.fee_min, e.fee_max),
        "fee_min_fen": e.fee_min,
        "fee_max_fen": e.fee_max,
        "free_beds": p.free_beds,
        "free_slots": p.free_slots,
        "beds": p.beds,
        "approved_slots": p.approved_slots,
        "status": p.status,
        "hours": e.hours.as_ref().map(|h| h.describe(zh)),
        "public_phone": p.public_phone,
    })
}

fn options(s: &ConsoleState, ctx: &Ctx, search: &Search, q: &[(String, String)]) -> Json {
    let kind_value = match search.kind {
        KindFilter::All => "all".to_string(),
        KindFilter::Elderly => "elderly".into(),
        KindFilter::Childcare => "childcare".into(),
        KindFilter::One(k) => k.code().into(),
    };
    let kinds: Vec<Json> = [
        FacilityKind::ElderlyInstitution,
        FacilityKind::TownHomeCareCenter,
        FacilityKind::VillageCareStation,
        FacilityKind::ElderlyCanteen,
        FacilityKind::ChildcareInstitution,
        FacilityKind::KindergartenNurseryClass,
        FacilityKind::SunflowerPark,
        FacilityKind::SunflowerHut,
    ]
    .iter()
    .map(|k| json!({"value": k.code(), "label": s.label(ctx, "facility_kind", k.code())}))
    .collect();
    let areas: Vec<Json> = s
        .store
        .reference
        .areas
        .all()
        .iter()
        .filter(|a| matches!(a.level, AreaLevel::County | AreaLevel::Town))
        .map(|a| {
            let indent = if a.level == AreaLevel::Town {
                "\u{3000}"
            } else {
                ""
            };
            json!({"code": a.code, "label": format!("{indent}{}", a.name),
                   "selected": search.area.as_deref() == Some(a.code.as_str())})
        })
        .collect();
    let ratings: Vec<Json> = Rating::ALL
        .iter()
        .map(|r| {
            json!({"value": r.code(), "label": s.label(ctx, "rating", r.code()),
                        "selected": search.rating == Some(*r)})
        })
        .collect();
    json!({
        "kind": kind_value,
        "kinds": kinds,
        "areas": areas,
        "ratings": ratings,
        "lng": last(q, "lng"),
        "lat": last(q, "lat"),
        "within": last(q, "within"),
        "fee_min": last(q, "fee_min"),
        "fee_max": last(q, "fee_max"),
        "inclusive": search.inclusive,
        "vacancies": search.vacancies,
        "open": last(q, "open").unwrap_or("any"),
        "q": last(q, "q"),
        "sort": match search.sort {
            Sort::Distance => "distance",
            Sort::Name => "name",
            Sort::Fee => "fee",
            Sort::Vacancies => "vacancies",
            Sort::Rating => "rating",
        },
        "has_point": search.at.is_some(),
        "sort_given": last(q, "sort").is_some(),
    })
}

/// The list page's map: the found places (at most [`MAX_MAP_POINTS`]) and
/// the chosen point.
fn map_svg(s: &ConsoleState, ctx: &Ctx, snap: &Snapshot, hits: &[Hit], search: &Search) -> String {
    let points: Vec<Point> = hits
        .iter()
        .take(MAX_MAP_POINTS)
        .filter_map(|h| {
            let e = &snap.entries[h.i];
            e.xy.map(|at| Point {
                at,
                title: e.place.name.clone(),
                rings: Vec::new(),
                planned: e.place.status == "planned",
            })
        })
        .collect();
    let from = search.at.map(|(lng, lat)| project(lng, lat));
    let markers: Vec<Marker> = from
        .map(|at| Marker {
            at,
            label: "★".into(),
            title: s.t(ctx, "places.your_point"),
        })
        .into_iter()
        .collect();
    let county = search
        .area
        .as_deref()
        .map(|c| c.chars().take(6).collect::<String>());
    let bbox = county
        .as_deref()
        .and_then(planmap::outline_bbox)
        .or_else(|| planmap::bbox_of(points.iter().map(|p| p.at).chain(from), 3000.0))
        .or_else(|| planmap::outline_bbox(laoxiao_model::jiaxing::CITY_CODE))
        .unwrap_or((0.0, 0.0, 1000.0, 1000.0));
    let bbox = match (search.within_km, from) {
        (Some(r), Some(c)) => {
            let m = r * 1000.0;
            (c.x - m, c.y - m, c.x + m, c.y + m)
        }
        _ => bbox,
    };
    let title = s.t(ctx, "places.map_title");
    planmap::svg_scaled(
        &MapSpec {
            title: &title,
            bbox,
            cell_m: 500.0,
            cells: &[],
            points: &points,
            markers: &markers,
            county: county.as_deref(),
        },
        2.2,
    )
}

fn field_error(s: &ConsoleState, ctx: &Ctx, b: &BadField) -> String {
    format!("{}: {}", b.field, s.t(ctx, b.key))
}

/// `GET /portal/places?area=&kind=&lng=&lat=&within=&rating=&fee_min=&fee_max=&inclusive=1&vacancies=1&open=&q=&sort=&page=`
pub async fn places(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/portal/places", headers, q);
    let search = match Search::parse(&ctx.query, &s.store.reference.areas, PAGE_SIZE) {
        Ok(v) => v,
        Err(b) => {
            return s.error_page(&ctx, PageError::BadRequest(field_error(&s, &ctx, &b)));
        }
    };
    let snap = match snapshot(&s).await {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let start = (search.page - 1) * search.limit;
    let upto = (start + search.limit).max(MAX_MAP_POINTS);
    let hits = find(&snap, &search, Utc::now().with_timezone(&cst()), upto);
    let total = hits.len();
    let shown: Vec<Json> = hits
        .iter()
        .skip(start)
        .take(search.limit)
        .map(|h| list_json(&s, &ctx, &snap.entries[h.i], h.metres))
        .collect();
    let pages = total.div_ceil(search.limit).max(1);
    let link = |page: usize| {
        let mut keep: Vec<(String, String)> = ctx
            .query
            .iter()
            .filter(|(k, _)| k != "page")
            .cloned()
            .collect();
        keep.push(("page".into(), page.to_string()));
        super::url_with("/portal/places", &keep)
    };
    let page = json!({
        "o": options(&s, &ctx, &search, &ctx.query),
        "places": shown,
        "total": total,
        "page": search.page,
        "pages": pages,
        "prev": (search.page > 1).then(|| link(search.page - 1)),
        "next": (search.page < pages).then(|| link(search.page + 1)),
        "map": map_svg(&s, &ctx, &snap, &hits, &search),
        "map_capped": total > MAX_MAP_POINTS,
        "max_map_points": MAX_MAP_POINTS,
    });
    super::portal::render(&s, &ctx, "portal_places.html", "portal_places", page)
}

/// `GET /portal/places.json?…`: the same search as data (public fields only).
pub async fn places_json(
    State(s): State<ConsoleState>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let search = match Search::parse(&q, &s.store.reference.areas, PAGE_SIZE) {
        Ok(v) => v,
        Err(b) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"code": "invalid_search", "field": b.field, "message": b.key})),
            )
                .into_response();
        }
    };
    let snap = match snapshot(&s).await {
        Ok(v) => v,
        Err(_) => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"code": "unavailable", "message": "places are not available"})),
            )
                .into_response();
        }
    };
    let start = (search.page - 1) * search.limit;
    let hits = find(
        &snap,
        &search,
        Utc::now().with_timezone(&cst()),
        start + search.limit,
    );
    let mut out = String::with_capacity(512 * search.limit.min(hits.len()) + 64);
    let _ = write!(
        out,
        r#"{{"total":{},"page":{},"places":["#,
        hits.len(),
        search.page
    );
    for (n, h) in hits.iter().skip(start).take(search.limit).enumerate() {
        if n > 0 {
            out.push(',');
        }
        let e = &snap.entries[h.i];
        out.push_str(&e.json_head);
        match h.metres {
            Some(m) => {
                let _ = write!(out, r#","distance_m":{}}}"#, m.round() as i64);
            }
            None => out.push_str(r#","distance_m":null}"#),
        }
    }
    out.push_str("]}");
    let mut r = ([(header::CONTENT_TYPE, "application/json")], out).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    r
}

/// A place in the JSON answer, but its distance: codes, not labels (the
/// same in every language).
fn json_item(p: &PublicPlace, fee_min: Option<i64>, fee_max: Option<i64>) -> Json {
    json!({
        "ref": p.public_ref,
        "name": p.name,
        "kind": p.kind.code(),
        "area_code": p.area_code,
        "address": p.address,
        "lng": p.lng,
        "lat": p.lat,
        "rating": p.rating,
        "inclusive": p.inclusive,
        "fee_min_fen": fee_min,
        "fee_max_fen": fee_max,
        "beds": p.beds,
        "free_beds": p.free_beds,
        "approved_slots": p.approved_slots,
        "free_slots": p.free_slots,
        "status": p.status,
        "opening_hours": p.opening_hours,
        "public_phone": p.public_phone,
    })
}

/// `GET /portal/places/{ref}`: a place's public page.
pub async fn place(
    State(s): State<ConsoleState>,
    Path(r): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let path = format!("/portal/places/{}", crate::encode_segment(&r));
    let ctx = ctx_or_error!(s, &path, headers, q);
    let not_found = |s: &ConsoleState, ctx: &Ctx| {
        s.error_page(ctx, PageError::NotFound(s.t(ctx, "places.not_found")))
    };
    if !public_ref::well_formed(&r) {
        return not_found(&s, &ctx);
    }
    let snap = match snapshot(&s).await {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let Some(&i) = snap.by_ref.get(&r) else {
        return not_found(&s, &ctx);
    };
    let e = &snap.entries[i];
    let p = &e.place;
    let zh = ctx.lang == Lang::Zh;
    let classes: Vec<Json> = p
        .classes
        .iter()
        .map(|c| {
            json!({
                "type": s.label(&ctx, "class_type", c.class_type.code()),
                "capacity": c.capacity,
                "free": c.free,
                "fee": c.monthly_fee_fen.map(laoxiao_rules::subsidies::yuan),
            })
        })
        .collect();
    let inspection = p.inspection.as_ref().map(|r| {
        json!({
            "on": r.inspected_on.chars().take(10).collect::<String>(),
            "verdict": s.t(&ctx, &format!("places.verdict_{}", r.verdict)),
            "verdict_code": r.verdict,
            "kind": s.t(&ctx, &format!("places.inspection_{}", r.kind)),
            "rectification": r.rectification_status.as_deref().map(|st| s.t(&ctx, &format!("places.rect_{st}"))),
        })
    });
    let map = e.xy.map(|at| {
        let title = s.t(&ctx, "places.map_one");
        planmap::svg_scaled(
            &MapSpec {
                title: &title,
                // The place within its county, for where it lies in the city.
                bbox: planmap::outline_bbox(&p.area_code.chars().take(6).collect::<String>())
                    .unwrap_or((at.x - 5000.0, at.y - 5000.0, at.x + 5000.0, at.y + 5000.0)),
                cell_m: 500.0,
                cells: &[],
                points: &[Point {
                    at,
                    title: p.name.clone(),
                    rings: Vec::new(),
                    planned: p.status == "planned",
                }],
                markers: &[],
                county: Some(&p.area_code.chars().take(6).collect::<String>()),
            },
            3.0,
        )
    });
    let apply_key = if p.kind == FacilityKind::ElderlyInstitution {
        "places.apply_care_home"
    } else if p.kind.has_slots() {
        "places.apply_childcare"
    } else if matches!(
        p.kind,
        FacilityKind::TownHomeCareCenter | FacilityKind::VillageCareStation
    ) {
        "places.apply_home_care"
    } else {
        "places.apply_visit"
    };
    let page = json!({
        "p": list_json(&s, &ctx, e, None),
        "ownership": p.ownership.as_deref().map(|o| s.label(&ctx, "ownership", o)),
        "level": p.level.as_deref().map(|o| s.label(&ctx, "facility_level", o)),
        "status_label": s.label(&ctx, "facility_status", &p.status),
        "filing": (p.filing_status != "not_required").then(|| s.label(&ctx, "filing_status", &p.filing_status)),
        "filing_date": p.filing_date,
        "rating_valid_until": p.rating_valid_until,
        "nursing_beds": p.nursing_beds,
        "dementia_beds": p.dementia_beds,
        "smart": p.smart,
        "demonstration": p.demonstration,
        "opening_date": p.opening_date,
        "classes": classes,
        "inspection": inspection,
        "map": map,
        "apply": s.t(&ctx, apply_key),
        "hours_raw": p.opening_hours,
        "complaint_url": format!("/portal/complaints?place={}", p.public_ref),
        "zh": zh,
    });
    super::portal::render(&s, &ctx, "portal_place.html", "portal_places", page)
}
