//! The facility register (设施) with its childcare classes (托育班级):
//! `GET/POST /api/facilities`, `GET/PUT/DELETE /api/facilities/{id}`.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use laoxiao_model::{
    Checker, ChildcareClass, FACILITIES, Facility, FacilityKind, FieldError, Record,
};
use laoxiao_store::facilities::{self, FacilityQuery};
use laoxiao_store::{Conn, Reference, Scope};
use serde::Serialize;
use serde_json::{Map, Value as Json_};
use utoipa::IntoParams;

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, PageLimit, QueryPairs, query_params, text};
use crate::registers::record_from_json;
use crate::{AppState, blocking, encode_segment};

// ---------------------------------------------------------------------------
// Bodies: the declared records themselves (their JSON and schemas follow from
// `laoxiao_model::FACILITIES` and `CLASSES`; see crate::openapi).

/// A facility with its live childcare classes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacilityDetail {
    #[serde(flatten)]
    pub facility: Facility,
    /// The facility's classes, in id order (empty for kinds without classes).
    pub classes: Vec<ChildcareClass>,
}

/// One page of facilities in id order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacilityPage {
    pub items: Vec<Facility>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many facilities match the filters (all pages).
    pub total: i64,
}

/// A validated facility and, when the body listed them, its classes.
#[derive(Debug)]
struct Prepared {
    facility: Facility,
    classes: Option<Vec<ChildcareClass>>,
    /// Ids the server assigned to new classes of the body.
    assigned: Vec<String>,
}

/// Builds and validates the records from a body (`FacilityInput`: the
/// declared fields and an optional `classes` list); every problem is reported
/// at once, with class fields as `classes[i].field`. `errs` may already hold
/// errors: they are kept, and later errors for the same fields are dropped as
/// repeats.
fn prepare(
    mut body: Map<String, Json_>,
    id: String,
    ck: &Checker<'_>,
    mut errs: Vec<FieldError>,
) -> Result<Prepared, ApiError> {
    let today = chrono::Local::now().date_naive();
    let classes_body = body.remove("classes");
    body.insert("id".into(), Json_::String(id.clone()));
    let facility = match record_from_json::<Facility>(&body) {
        Ok(f) => {
            let seen: HashSet<String> = errs.iter().map(|e| e.field.clone()).collect();
            errs.extend(
                f.validate(ck, today)
                    .into_iter()
                    .filter(|e| !seen.contains(&e.field)),
            );
            Some(f)
        }
        Err(fe) => {
            let seen: HashSet<String> = errs.iter().map(|e| e.field.clone()).collect();
            errs.extend(fe.into_iter().filter(|e| !seen.contains(&e.field)));
            None
        }
    };
    let kind = body
        .get("kind")
        .and_then(Json_::as_str)
        .and_then(FacilityKind::parse);
    let mut assigned = Vec::new();
    let classes = match classes_body {
        None | Some(Json_::Null) => None,
        Some(Json_::Array(list)) => {
            if let Some(k) = kind
                && !k.has_slots()
                && !list.is_empty()
            {
                errs.push(FieldError::new(
                    "classes",
                    format!(
                        "a {} has no childcare classes; only {} and {} do",
                        k.code(),
                        FacilityKind::ChildcareInstitution.code(),
                        FacilityKind::KindergartenNurseryClass.code()
                    ),
                ));
            }
            let mut seen = HashSet::new();
            let mut out = Vec::with_capacity(list.len());
            for (i, c) in list.into_iter().enumerate() {
                let Json_::Object(c) = c else {
                    errs.push(FieldError::new(
                        format!("classes[{i}]"),
                        "expected an object",
                    ));
                    continue;
                };
                let given = c
                    .get("id")
                    .and_then(Json_::as_str)
                    .is_some_and(|x| !x.trim().is_empty());
                if let Some(class) = prepare_class(c, &id, i, ck, today, &mut errs) {
                    if !given {
                        assigned.push(class.id.clone());
                    }
                    if !seen.insert(class.id.clone()) {
                        errs.push(FieldError::new(
                            format!("classes[{i}].id"),
                            format!("class id {:?} appears more than once", class.id),
                        ));
                    }
                    out.push(class);
                }
            }
            Some(out)
        }
        Some(_) => {
            errs.push(FieldError::new("classes", "expected an array of classes"));
            None
        }
    };
    match facility {
        Some(facility) if errs.is_empty() => Ok(Prepared {
            facility,
            classes,
            assigned,
        }),
        _ => Err(ApiError::invalid(errs)),
    }
}

fn prepare_class(
    mut c: Map<String, Json_>,
    facility_id: &str,
    i: usize,
    ck: &Checker<'_>,
    today: chrono::NaiveDate,
    errs: &mut Vec<FieldError>,
) -> Option<ChildcareClass> {
    let at = |f: &str| format!("classes[{i}].{f}");
    let mut local = Vec::new();
    // New classes get an id from the server (see `facilities::write_classes`).
    let id = text(c.get("id").and_then(Json_::as_str).map(str::to_string))
        .unwrap_or_else(facilities::new_class_id);
    if let Some(fid) = text(
        c.get("facility_id")
            .and_then(Json_::as_str)
            .map(str::to_string),
    ) && fid != facility_id
    {
        local.push(FieldError::new(
            "facility_id",
            format!("must be the facility's id {facility_id:?}"),
        ));
    }
    c.insert("id".into(), Json_::String(id));
    c.insert("facility_id".into(), Json_::String(facility_id.to_string()));
    let class = match record_from_json::<ChildcareClass>(&c) {
        Ok(class) => {
            for e in class.validate(ck, today) {
                if e.field != "facility_id" {
                    local.push(e);
                }
            }
            Some(class)
        }
        Err(fe) => {
            local.extend(fe);
            None
        }
    };
    let ok = local.is_empty();
    errs.extend(
        local
            .into_iter()
            .map(|e| FieldError::new(at(&e.field), e.reason)),
    );
    class.filter(|_| ok)
}

fn detail(c: &mut Conn, scope: &Scope, f: Facility) -> Result<FacilityDetail, ApiError> {
    let classes = facilities::classes_of(c, scope, &f.id)?;
    Ok(FacilityDetail {
        facility: f,
        classes,
    })
}

// ---------------------------------------------------------------------------
// Handlers

query_params! {
    /// Paging, area and text search for `GET /api/facilities`; the filters on
    /// the declared fields (`kind=…`, `opening_date_from=…`) are added to the
    /// document from the declaration (crate::openapi). All filters combine.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct FacilityListParams {
        /// Area code: only facilities in this area's subtree.
        #[param(example = "330402")]
        pub area: Option<String>,
        /// Text in the name, address, operator or id (case-insensitive).
        pub q: Option<String>,
        /// Cursor: the `next_cursor` of the previous page.
        pub after: Option<String>,
        /// Page size, 1–1000 (default 50).
        #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
        pub limit: Option<PageLimit>,
    }
}

/// Reads a list request: the parameters above and the declared filters;
/// unknown parameters are refused.
fn list_request(uri: &Uri) -> Result<FacilityQuery, ApiError> {
    let mut pairs = QueryPairs::from_uri(uri)?;
    let mut errs = Vec::new();
    let filters = crate::registers::declared_filters(&FACILITIES, &mut pairs, &mut errs);
    let p = <FacilityListParams as crate::extract::FromQuery>::from_query(&mut pairs);
    match (errs.is_empty(), pairs.finish()) {
        (true, Ok(())) => {}
        (_, Err(ApiError::InvalidQuery(mut more))) => {
            errs.append(&mut more);
            return Err(ApiError::InvalidQuery(errs));
        }
        (_, Err(e)) => return Err(e),
        (false, Ok(())) => return Err(ApiError::InvalidQuery(errs)),
    }
    Ok(FacilityQuery {
        area: p.area,
        filters,
        q: p.q,
        after: p.after,
        limit: p.limit.map(|l| l.0),
        // The API lists in id order (its cursor is the last id).
        ..Default::default()
    })
}

/// Rejects an `area` filter naming no known area (400 rather than the store's 404).
pub(crate) fn check_area_param(reference: &Reference, area: Option<&str>) -> Result<(), ApiError> {
    match area {
        Some(code) if reference.areas.get(code).is_none() => {
            Err(ApiError::InvalidQuery(vec![FieldError::new(
                "area",
                format!("unknown area code {code:?}"),
            )]))
        }
        _ => Ok(()),
    }
}

/// List facilities (keyset pagination in id order).
#[utoipa::path(
    get,
    path = "/api/facilities",
    operation_id = "list_facilities",
    tag = "facilities",
    params(FacilityListParams),
    responses(
        (status = 200, description = "One page", body = crate::schema::FacilityPageSchema),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
) -> Result<Json<FacilityPage>, ApiError> {
    let q = list_request(&uri)?;
    check_area_param(&state.store.reference, q.area.as_deref())?;
    let scope = auth.scope()?;
    let page = blocking(&state, move |c, r| {
        let page = facilities::list(c, r, &scope, &q)?;
        let total = facilities::count(c, r, &scope, &q)?;
        Ok(FacilityPage {
            items: page.items,
            next_cursor: page.next_cursor,
            total,
        })
    })
    .await?;
    Ok(Json(page))
}

/// Create a facility (and its classes).
#[utoipa::path(
    post,
    path = "/api/facilities",
    operation_id = "create_facility",
    tag = "facilities",
    request_body = crate::schema::FacilityInputSchema,
    responses(
        (status = 201, description = "Created", body = crate::schema::FacilityDetailSchema,
            headers(("Location" = String, description = "URL of the new facility"))),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 409, description = "The id is taken (only city-wide accounts choose ids; others leave `id` out)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<Map<String, Json_>>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let detail = blocking(&state, move |c, r| {
        let mut errs = Vec::new();
        refuse_blank_id(&input, &mut errs);
        let id = assign_id(&scope, body_id(&input), &mut errs, facilities::new_id);
        let p = prepare(input, id, &r.checker(), errs)?;
        let f = match &p.classes {
            Some(classes) => {
                facilities::create_with_classes(c, r, &scope, &p.facility, classes, &p.assigned)?
            }
            None => facilities::create(c, r, &scope, &p.facility)?,
        };
        detail(c, &scope, f)
    })
    .await?;
    let location = format!("/api/facilities/{}", encode_segment(&detail.facility.id));
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(detail)).into_response())
}

/// An `id` given blank or not as text is refused, as the schema says (a
/// string, minLength 1): left out, the server assigns one.
pub(crate) fn refuse_blank_id(body: &Map<String, Json_>, errs: &mut Vec<FieldError>) {
    match body.get("id") {
        None => {}
        Some(Json_::String(s)) if !s.trim().is_empty() => {}
        Some(_) => errs.push(FieldError::new(
            "id",
            "not a non-empty text; leave the id out and the server assigns one",
        )),
    }
}

/// The body's `id`, trimmed, when it gives one.
fn body_id(body: &Map<String, Json_>) -> Option<String> {
    text(body.get("id").and_then(Json_::as_str).map(str::to_string))
}

/// The id of a record created through the API: chosen by the caller only when
/// the caller's scope is the whole city (an id taken in another area would
/// otherwise answer differently from a free one); everyone else leaves it out
/// and gets one from the server.
pub(crate) fn assign_id(
    scope: &Scope,
    given: Option<String>,
    errs: &mut Vec<FieldError>,
    new_id: fn() -> String,
) -> String {
    match given {
        Some(id) if scope.is_city_wide() => id,
        Some(_) => {
            errs.push(FieldError::new(
                "id",
                "ids are assigned by the server; leave the id out",
            ));
            String::new()
        }
        None => new_id(),
    }
}

/// One facility with its classes.
#[utoipa::path(
    get,
    path = "/api/facilities/{id}",
    operation_id = "get_facility",
    tag = "facilities",
    params(("id" = String, Path, description = "The facility's id")),
    responses(
        (status = 200, description = "The facility", body = crate::schema::FacilityDetailSchema),
        (status = 404, description = "No such facility", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FacilityDetail>, ApiError> {
    let scope = auth.scope()?;
    let d = blocking(&state, move |c, _| {
        let f = facilities::get(c, &scope, &id)?;
        detail(c, &scope, f)
    })
    .await?;
    Ok(Json(d))
}

/// Replace a facility's fields (and, if `classes` is given, its classes).
#[utoipa::path(
    put,
    path = "/api/facilities/{id}",
    operation_id = "update_facility",
    tag = "facilities",
    params(("id" = String, Path, description = "The facility's id")),
    request_body = crate::schema::FacilityInputSchema,
    responses(
        (status = 200, description = "Updated", body = crate::schema::FacilityDetailSchema),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "No such facility", body = ErrorBody),
        (status = 409, description = "A class id belongs to another facility", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid fields, or a body id that differs from the path", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<Map<String, Json_>>,
) -> Result<Json<FacilityDetail>, ApiError> {
    let scope = auth.scope()?;
    let d = blocking(&state, move |c, r| {
        facilities::get(c, &scope, &id)?;
        let mut errs = Vec::new();
        if let Some(body_id) = body_id(&input)
            && body_id != id
        {
            errs.push(FieldError::new(
                "id",
                format!("{body_id:?} differs from the id in the path {id:?}"),
            ));
        }
        let p = prepare(input, id, &r.checker(), errs)?;
        let f = match &p.classes {
            Some(classes) => {
                facilities::update_with_classes(c, r, &scope, &p.facility, classes, &p.assigned)?
            }
            None => facilities::update(c, r, &scope, &p.facility)?,
        };
        detail(c, &scope, f)
    })
    .await?;
    Ok(Json(d))
}

/// Delete a facility (soft: it and its classes leave lists and lookups).
#[utoipa::path(
    delete,
    path = "/api/facilities/{id}",
    operation_id = "delete_facility",
    tag = "facilities",
    params(("id" = String, Path, description = "The facility's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such facility", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let scope = auth.scope()?;
    blocking(&state, move |c, _| {
        // The store deletes the facility's classes with it, in one transaction.
        Ok(facilities::soft_delete(c, &scope, &id)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
