//! The JSON API of every declared register, generated from its declaration:
//! `GET/POST /api/{key}` (list with filters, search, sort, keyset pages and a
//! count; create) and `GET/PUT/DELETE /api/{key}/{id}`. Filters, bounds and
//! enumerations are the declaration's; the store applies the scope rule and
//! writes each change with its audit entry in one transaction. Personal fields
//! are masked in lists; a full read of a record with personal fields is audited.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use laoxiao_model::FieldError;
use laoxiao_model::activity::{
    Enrolment, InsuranceEnrolment, Residence, ServiceRecord, Staff, StudentCohort,
};
use laoxiao_model::register::{Cell, Field, FieldType, Record, Register, mask_text, parse_cell};
use laoxiao_store::activity::{ActivityRecord, cell_value, read_perm, write_perm};
use laoxiao_store::registry::{self, Cursor, Filter, ListQuery, MAX_LIMIT};
use laoxiao_store::{Perm, Reference, Scope};
use serde_json::{Map, Value as Json_};

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::extract::{ApiPath, QueryPairs, parse_json};
use crate::{AppState, blocking, encode_segment};

/// A register served by the generic API and console.
#[derive(Clone, Copy)]
pub struct RegisterApi {
    pub register: &'static Register,
    /// Adds the register's API routes to a router nested under `/api`.
    pub mount: fn(Router<AppState>) -> Router<AppState>,
}

impl std::fmt::Debug for RegisterApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.register.key)
    }
}

const fn api<T: ActivityRecord>() -> RegisterApi {
    RegisterApi {
        register: <T as laoxiao_model::register::Record>::REGISTER,
        mount: mount::<T>,
    }
}

/// The registers on the generic API, in console order.
pub const REGISTERS: &[RegisterApi] = &[
    api::<Staff>(),
    api::<ServiceRecord>(),
    api::<Enrolment>(),
    api::<Residence>(),
    api::<StudentCohort>(),
    api::<InsuranceEnrolment>(),
    api::<laoxiao_model::family::ServiceItem>(),
    api::<laoxiao_model::HomeCareContract>(),
    api::<laoxiao_model::alarms::Device>(),
];

/// The register with this key, if it is on the generic API.
pub fn by_key(key: &str) -> Option<&'static RegisterApi> {
    REGISTERS.iter().find(|r| r.register.key == key)
}

fn mount<T: ActivityRecord>(r: Router<AppState>) -> Router<AppState> {
    let reg = <T as laoxiao_model::register::Record>::REGISTER;
    r.route(&reg.api_collection()[4..], get(list::<T>).post(create::<T>))
        .route(
            &reg.api_item()[4..],
            get(read::<T>).put(update::<T>).delete(remove::<T>),
        )
}

/// The routes of the generic registers with their access, for the policy table.
pub fn routes() -> Vec<(&'static str, &'static str, Perm)> {
    let mut out = Vec::new();
    for a in REGISTERS {
        let r = a.register;
        out.push(("GET", r.api_collection(), read_perm(r)));
        out.push(("POST", r.api_collection(), write_perm(r)));
        out.push(("GET", r.api_item(), read_perm(r)));
        out.push(("PUT", r.api_item(), write_perm(r)));
        out.push(("DELETE", r.api_item(), write_perm(r)));
    }
    out
}

/// The fields a list may be sorted by: required, not personal.
pub fn sortable(f: &Field) -> bool {
    f.required && !f.personal && !matches!(f.ty, FieldType::EnumList(_) | FieldType::Note)
}

/// Reads a list request from the query string against the declaration.
pub fn list_query(
    reg: &'static Register,
    uri: &Uri,
    reference: &Reference,
) -> Result<ListQuery, ApiError> {
    let mut q = QueryPairs::from_uri(uri)?;
    let mut errs = Vec::new();
    let mut out = ListQuery {
        limit: 50,
        ..ListQuery::default()
    };
    if let Some(n) = q.take::<u32>("limit") {
        if (1..=MAX_LIMIT as u32).contains(&n) {
            out.limit = n as usize;
        } else {
            errs.push(FieldError::new(
                "limit",
                format!("must be from 1 to {MAX_LIMIT}"),
            ));
        }
    }
    if let Some(c) = q.take::<String>("after") {
        match Cursor::decode(&c) {
            Some(c) => out.after = Some(c),
            None => errs.push(FieldError::new(
                "after",
                "not a cursor from a previous page's next",
            )),
        }
    }
    if let Some(s) = q.take::<String>("sort") {
        match reg.field(&s).filter(|f| sortable(f)) {
            Some(f) if f.key == "id" => {}
            Some(f) => out.sort = Some(f),
            None => {
                let keys: Vec<&str> = reg
                    .fields
                    .iter()
                    .filter(|f| sortable(f))
                    .map(|f| f.key)
                    .collect();
                errs.push(FieldError::new(
                    "sort",
                    format!("expected one of: {}", keys.join(", ")),
                ));
            }
        }
    }
    if let Some(o) = q.take::<String>("order") {
        match o.as_str() {
            "asc" => {}
            "desc" => out.desc = true,
            _ => errs.push(FieldError::new("order", "expected asc or desc")),
        }
    }
    if let Some(text) = q.take::<String>("q") {
        if text.chars().count() > 50 {
            errs.push(FieldError::new("q", "at most 50 characters"));
        } else {
            out.search = Some(text);
        }
    }
    if let Some(code) = q.take::<String>("area") {
        match reference.areas.get(&code) {
            Some(a) => out.area_path = Some(a.path.clone()),
            None => errs.push(FieldError::new(
                "area",
                format!("{code:?} is not an area of the city"),
            )),
        }
    }
    out.filters = declared_filters(reg, &mut q, &mut errs);
    let unknown = q.finish();
    match (errs.is_empty(), unknown) {
        (true, Ok(())) => Ok(out),
        (_, Err(ApiError::InvalidQuery(mut more))) => {
            errs.append(&mut more);
            Err(ApiError::InvalidQuery(errs))
        }
        (_, _) => Err(ApiError::InvalidQuery(errs)),
    }
}

/// The filters of a list request on the register's declared filter fields:
/// `key=value` for equality, `key_from`/`key_to` for dates and integers.
pub fn declared_filters(
    reg: &'static Register,
    q: &mut QueryPairs,
    errs: &mut Vec<FieldError>,
) -> Vec<Filter> {
    let mut out = Vec::new();
    for f in reg.fields.iter().filter(|f| f.filter) {
        match f.ty {
            FieldType::Date | FieldType::Int(_) | FieldType::Money(_) => {
                let lo = range_end(q, f, "from", errs);
                let hi = range_end(q, f, "to", errs);
                if lo.is_some() || hi.is_some() {
                    out.push(Filter::Range(f, lo, hi));
                }
            }
            _ => {
                if let Some(v) = q.take::<String>(f.key) {
                    if v.chars().count() > laoxiao_model::bounds::MAX_TEXT_CHARS {
                        errs.push(FieldError::new(
                            f.key,
                            format!(
                                "at most {} characters",
                                laoxiao_model::bounds::MAX_TEXT_CHARS
                            ),
                        ));
                        continue;
                    }
                    match parse_cell(f, &v) {
                        Ok(c) => out.push(Filter::Eq(f, cell_value(f, c))),
                        Err(e) => errs.push(FieldError::new(f.key, e)),
                    }
                }
            }
        }
    }
    out
}

fn range_end(
    q: &mut QueryPairs,
    f: &'static Field,
    end: &str,
    errs: &mut Vec<FieldError>,
) -> Option<laoxiao_store::Value> {
    let name = format!("{}_{end}", f.key);
    let v = q.take::<String>(&name)?;
    // An end outside the field's bounds is refused as the document says, not
    // silently answered with nothing.
    let parsed = match f.ty {
        // The API speaks fen, as its JSON and its document do (files and
        // forms speak yuan).
        FieldType::Money(_) if !v.trim().is_empty() => v
            .trim()
            .parse::<i64>()
            .map(Cell::Int)
            .map_err(|_| format!("{v:?} is not a whole number of fen")),
        _ => parse_cell(f, &v),
    };
    let problem = match (parsed, &f.ty) {
        (Ok(Cell::Null), _) => "must not be empty".to_string(),
        (Ok(Cell::Int(n)), FieldType::Int(b) | FieldType::Money(b)) if !b.contains(n) => {
            b.reason(n)
        }
        (Ok(c), _) => return Some(cell_value(f, c)),
        (Err(e), _) => e,
    };
    errs.push(FieldError::new(name, problem));
    None
}

/// A JSON value as a cell of the field's type. Text is trimmed, and blank
/// text is no value; money is whole fen; dates are `YYYY-MM-DD`.
pub fn json_cell(f: &Field, v: &Json_) -> Result<Cell, String> {
    let wrong = || format!("expected {}", f.ty.name());
    Ok(match (v, &f.ty) {
        (Json_::Null, _) => Cell::Null,
        (Json_::Number(n), FieldType::Int(_) | FieldType::Money(_)) => Cell::Int(
            n.as_i64()
                .ok_or_else(|| format!("{n} is not a whole number"))?,
        ),
        (Json_::Number(n), FieldType::Decimal { .. }) => Cell::Real(n.as_f64().ok_or_else(wrong)?),
        (Json_::Bool(b), FieldType::Bool) => Cell::Bool(*b),
        (Json_::String(s), FieldType::Date) => {
            match chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                Ok(d) => Cell::Date(d),
                Err(_) => return Err(format!("{s:?} is not a date (YYYY-MM-DD)")),
            }
        }
        (Json_::String(s), FieldType::Enum(_)) => parse_cell(f, s)?,
        (Json_::Array(items), FieldType::EnumList(values)) => Cell::List(
            items
                .iter()
                .map(|x| match x {
                    Json_::String(s) => {
                        laoxiao_model::register::enum_code(values, s).map(str::to_string)
                    }
                    _ => Err(wrong()),
                })
                .collect::<Result<_, _>>()?,
        ),
        (
            Json_::String(s),
            FieldType::Text
            | FieldType::Note
            | FieldType::Ref(_)
            | FieldType::Area
            | FieldType::IdNumber,
        ) => {
            let t = s.trim();
            if t.is_empty() {
                Cell::Null
            } else {
                Cell::Text(t.to_string())
            }
        }
        _ => return Err(wrong()),
    })
}

/// A record from a JSON object, field by field against the declaration:
/// unknown keys, values of the wrong type and missing required fields are
/// all reported at once (with the fields' own checks); an absent field takes
/// its declared default. Cross-field rules are the caller's (`validate`).
pub fn record_from_json<T: Record>(obj: &Map<String, Json_>) -> Result<T, Vec<FieldError>> {
    let reg = T::REGISTER;
    let mut errs = Vec::new();
    for k in obj.keys() {
        if reg.field(k).is_none_or(|f| f.file_only()) {
            errs.push(FieldError::new(k.as_str(), "unknown field"));
        }
    }
    let mut cells = Vec::with_capacity(reg.fields.len());
    for f in reg.fields {
        let mut c = match obj.get(f.key) {
            _ if f.file_only() => Cell::Null,
            Some(v) => json_cell(f, v).unwrap_or_else(|e| {
                errs.push(FieldError::new(f.key, e));
                Cell::Null
            }),
            None => Cell::Null,
        };
        if c == Cell::Null && !f.default.is_empty() {
            c = parse_cell(f, f.default).unwrap_or(Cell::Null);
        }
        if c == Cell::Null && f.required && !errs.iter().any(|e| e.field == f.key) {
            errs.push(FieldError::new(f.key, "is required"));
        }
        cells.push(c);
    }
    if errs.is_empty() {
        return T::from_cells(cells).map_err(|e| vec![e]);
    }
    for e in laoxiao_model::register::check_fields(reg, &cells) {
        if !errs.iter().any(|x| x.field == e.field) {
            errs.push(e);
        }
    }
    Err(errs)
}

/// A record as JSON, its personal fields masked (single-line text keeps its
/// first character; anything else, dates included, is left out as `null`).
pub fn masked<T: ActivityRecord>(x: &T) -> Result<Json_, ApiError> {
    let mut v = serde_json::to_value(x).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        for f in T::REGISTER.fields.iter().filter(|f| f.personal) {
            if let Some(slot) = o.get_mut(f.key) {
                *slot = match slot {
                    // Only single-line text keeps a masked shape (a name's
                    // first character); a date or a code would not be one.
                    Json_::String(s) if matches!(f.ty, FieldType::Text) => {
                        Json_::String(mask_text(s))
                    }
                    _ => Json_::Null,
                };
            }
        }
    }
    Ok(v)
}

async fn list<T: ActivityRecord>(
    State(state): State<AppState>,
    ctx: RequestContext,
    uri: Uri,
) -> Result<Response, ApiError> {
    let scope = ctx.scope()?;
    let page = blocking(&state, move |c, r| {
        let q = list_query(T::REGISTER, &uri, r)?;
        Ok(registry::list::<T>(c, &scope, &q)?)
    })
    .await?;
    let items = page
        .items
        .iter()
        .map(masked)
        .collect::<Result<Vec<_>, _>>()?;
    let mut body = Map::new();
    body.insert("items".into(), Json_::Array(items));
    body.insert("next".into(), page.next.map_or(Json_::Null, Json_::String));
    body.insert("total".into(), page.total.into());
    body.insert("total_exact".into(), page.total_exact.into());
    Ok(Json(Json_::Object(body)).into_response())
}

async fn read<T: ActivityRecord>(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let scope = ctx.scope()?;
    let x = blocking(&state, move |c, _| Ok(registry::get::<T>(c, &scope, &id)?)).await?;
    Ok(Json(x).into_response())
}

/// The body as a record: `id` assigned when left out (only city-wide callers
/// choose ids, as for facilities), or taken from the path on update.
fn body_record<T: ActivityRecord>(
    bytes: &[u8],
    scope: &Scope,
    path_id: Option<&str>,
) -> Result<T, ApiError> {
    let mut v: Map<String, Json_> = parse_json(bytes)?;
    let given = match v.get("id") {
        None => None,
        Some(Json_::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(_) => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "id",
                "must be a non-empty text; leave id out to have one assigned",
            )]));
        }
    };
    let id = match (path_id, given) {
        (Some(p), Some(g)) if p != g => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "id",
                format!("{g:?} differs from the id in the path"),
            )]));
        }
        (Some(p), _) => p.to_string(),
        (None, Some(_)) if !scope.is_city_wide() => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "id",
                "only city-level accounts choose ids; leave id out to have one assigned",
            )]));
        }
        (None, Some(g)) => g,
        (None, None) => registry::new_id(T::REGISTER),
    };
    v.insert("id".into(), Json_::String(id));
    serde_json::from_value(Json_::Object(v)).map_err(|e| {
        let msg = e.to_string();
        let field = msg.split('`').nth(1).unwrap_or("body").to_string();
        ApiError::invalid(vec![FieldError::new(field, msg)])
    })
}

async fn create<T: ActivityRecord>(
    State(state): State<AppState>,
    ctx: RequestContext,
    crate::extract::ApiJson(body): crate::extract::ApiJson<Map<String, Json_>>,
) -> Result<Response, ApiError> {
    let scope = ctx.scope()?;
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let x: T = body_record(&bytes, &scope, None)?;
    let today = chrono::Local::now().date_naive();
    let x = blocking(&state, move |c, r| {
        Ok(registry::create::<T>(c, &r.checker(), &scope, &x, today)?)
    })
    .await?;
    let location = format!(
        "{}/{}",
        T::REGISTER.api_collection(),
        encode_segment(x.id())
    );
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(x)).into_response())
}

async fn update<T: ActivityRecord>(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<String>,
    crate::extract::ApiJson(body): crate::extract::ApiJson<Map<String, Json_>>,
) -> Result<Response, ApiError> {
    let scope = ctx.scope()?;
    let bytes = serde_json::to_vec(&body).map_err(|e| ApiError::Internal(e.to_string()))?;
    let x: T = body_record(&bytes, &scope, Some(&id))?;
    let today = chrono::Local::now().date_naive();
    let x = blocking(&state, move |c, r| {
        Ok(registry::update::<T>(c, &r.checker(), &scope, &x, today)?)
    })
    .await?;
    Ok(Json(x).into_response())
}

async fn remove<T: ActivityRecord>(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let scope = ctx.scope()?;
    blocking(&state, move |c, _| {
        Ok(registry::delete::<T>(c, &scope, &id)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
