//! The facility register (设施) with its childcare classes (托育班级):
//! `GET/POST /api/facilities`, `GET/PUT/DELETE /api/facilities/{id}`.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::facility::{FacilityLevel, FilingStatus, Ownership, Rating};
use laoxiao_model::{
    Checker, ChildcareClass, ClassType, Facility, FacilityKind, FacilityStatus, FieldError,
};
use laoxiao_store::facilities::{self, FacilityQuery};
use laoxiao_store::{Conn, Reference, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, PageLimit, query_params, required, text};
use crate::schema::{
    ClassTypeSchema, FacilityKindSchema, FacilityLevelSchema, FacilityStatusSchema,
    FilingStatusSchema, OwnershipSchema, RatingSchema,
};
use crate::{AppState, blocking, encode_segment};

// ---------------------------------------------------------------------------
// Views

/// A facility on the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FacilityView {
    /// The register's own id.
    #[schema(example = "F-330402-0001")]
    pub id: String,
    pub name: String,
    #[schema(value_type = FacilityKindSchema)]
    pub kind: FacilityKind,
    #[schema(value_type = Option<FacilityLevelSchema>)]
    pub level: Option<FacilityLevel>,
    #[schema(value_type = Option<OwnershipSchema>)]
    pub ownership: Option<Ownership>,
    pub operator_name: Option<String>,
    /// 统一社会信用代码 of the operator (GB 32100).
    pub operator_credit_code: Option<String>,
    /// Town- or village-level area code.
    #[schema(example = "330402007")]
    pub area_code: String,
    pub address: Option<String>,
    /// Longitude, WGS-84.
    pub lng: Option<f64>,
    /// Latitude, WGS-84.
    pub lat: Option<f64>,
    /// 养老床位
    pub beds: Option<i64>,
    /// 护理型床位
    pub nursing_beds: Option<i64>,
    /// 认知障碍床位
    pub dementia_beds: Option<i64>,
    /// 核定托位数
    pub approved_slots: Option<i64>,
    /// 普惠
    pub inclusive: bool,
    #[schema(value_type = FilingStatusSchema)]
    pub filing_status: FilingStatus,
    pub filing_date: Option<NaiveDate>,
    #[schema(value_type = Option<RatingSchema>)]
    pub rating: Option<Rating>,
    pub rating_valid_from: Option<NaiveDate>,
    pub rating_valid_until: Option<NaiveDate>,
    /// 智慧养老院
    pub smart: bool,
    /// 示范性 institution
    pub demonstration: bool,
    pub opening_date: Option<NaiveDate>,
    #[schema(value_type = FacilityStatusSchema)]
    pub status: FacilityStatus,
    pub phone: Option<String>,
}

impl From<Facility> for FacilityView {
    fn from(f: Facility) -> Self {
        FacilityView {
            id: f.id,
            name: f.name,
            kind: f.kind,
            level: f.level,
            ownership: f.ownership,
            operator_name: f.operator_name,
            operator_credit_code: f.operator_credit_code,
            area_code: f.area_code,
            address: f.address,
            lng: f.lng,
            lat: f.lat,
            beds: f.beds,
            nursing_beds: f.nursing_beds,
            dementia_beds: f.dementia_beds,
            approved_slots: f.approved_slots,
            inclusive: f.inclusive,
            filing_status: f.filing_status,
            filing_date: f.filing_date,
            rating: f.rating,
            rating_valid_from: f.rating_valid_from,
            rating_valid_until: f.rating_valid_until,
            smart: f.smart,
            demonstration: f.demonstration,
            opening_date: f.opening_date,
            status: f.status,
            phone: f.phone,
        }
    }
}

/// A class of a childcare institution or kindergarten nursery class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClassView {
    pub id: String,
    pub facility_id: String,
    #[schema(value_type = ClassTypeSchema)]
    pub class_type: ClassType,
    /// Places in the class.
    pub capacity: i64,
    /// Children enrolled.
    pub enrolled: i64,
    /// Caregivers (保育人员) assigned.
    pub caregivers: i64,
    /// Monthly fee in fen (分).
    pub monthly_fee_fen: Option<i64>,
}

impl From<ChildcareClass> for ClassView {
    fn from(c: ChildcareClass) -> Self {
        ClassView {
            id: c.id,
            facility_id: c.facility_id,
            class_type: c.class_type,
            capacity: c.capacity,
            enrolled: c.enrolled,
            caregivers: c.caregivers,
            monthly_fee_fen: c.monthly_fee_fen,
        }
    }
}

/// A facility with its live childcare classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FacilityDetail {
    #[serde(flatten)]
    pub facility: FacilityView,
    /// The facility's classes, in id order (empty for kinds without classes).
    pub classes: Vec<ClassView>,
}

/// One page of facilities in id order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FacilityPage {
    pub items: Vec<FacilityView>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many facilities match the filters (all pages).
    pub total: i64,
}

// ---------------------------------------------------------------------------
// Input

/// A facility as created (`POST`) or replaced (`PUT`). `PUT` replaces every field:
/// an absent optional field is cleared. On `POST`, leave `id` out: the server assigns
/// one (only city-wide accounts may choose it). On `PUT` it may be absent and otherwise
/// must equal the path's id. `classes`, when present, is the
/// facility's complete set of classes (on `PUT`, classes not listed are removed); when
/// absent the classes are left as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityInput {
    #[schema(example = "F-330402-0001")]
    pub id: Option<String>,
    #[schema(required = true, value_type = String)]
    pub name: Option<String>,
    #[schema(required = true, value_type = FacilityKindSchema)]
    pub kind: Option<FacilityKind>,
    #[schema(value_type = Option<FacilityLevelSchema>)]
    pub level: Option<FacilityLevel>,
    #[schema(value_type = Option<OwnershipSchema>)]
    pub ownership: Option<Ownership>,
    pub operator_name: Option<String>,
    pub operator_credit_code: Option<String>,
    #[schema(required = true, value_type = String, example = "330402007")]
    pub area_code: Option<String>,
    pub address: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    pub beds: Option<i64>,
    pub nursing_beds: Option<i64>,
    pub dementia_beds: Option<i64>,
    pub approved_slots: Option<i64>,
    /// Default false.
    pub inclusive: Option<bool>,
    /// Default `not_required`.
    #[schema(value_type = Option<FilingStatusSchema>)]
    pub filing_status: Option<FilingStatus>,
    pub filing_date: Option<NaiveDate>,
    #[schema(value_type = Option<RatingSchema>)]
    pub rating: Option<Rating>,
    pub rating_valid_from: Option<NaiveDate>,
    pub rating_valid_until: Option<NaiveDate>,
    /// Default false.
    pub smart: Option<bool>,
    /// Default false.
    pub demonstration: Option<bool>,
    pub opening_date: Option<NaiveDate>,
    /// Default `operating`.
    #[schema(value_type = Option<FacilityStatusSchema>)]
    pub status: Option<FacilityStatus>,
    pub phone: Option<String>,
    pub classes: Option<Vec<ClassInput>>,
}

/// A childcare class inside a facility body.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassInput {
    /// An existing class of this facility; leave it out to add a class (the
    /// server assigns the id). Only city-wide accounts may choose a new id.
    pub id: Option<String>,
    /// If given, must be the facility's id.
    pub facility_id: Option<String>,
    #[schema(required = true, value_type = ClassTypeSchema)]
    pub class_type: Option<ClassType>,
    #[schema(required = true, value_type = i64)]
    pub capacity: Option<i64>,
    /// Default 0.
    pub enrolled: Option<i64>,
    /// Default 0.
    pub caregivers: Option<i64>,
    pub monthly_fee_fen: Option<i64>,
}

/// A validated facility and, when the body listed them, its classes.
#[derive(Debug)]
struct Prepared {
    facility: Facility,
    classes: Option<Vec<ChildcareClass>>,
    /// Ids the server assigned to new classes of the body.
    assigned: Vec<String>,
}

/// Builds and validates the model records from a body; every problem is reported at
/// once, with class fields as `classes[i].field`. `errs` may already hold errors: they
/// are kept, and the model's own errors for the same fields are dropped as repeats.
fn prepare(
    input: FacilityInput,
    id: String,
    ck: &Checker<'_>,
    mut errs: Vec<FieldError>,
) -> Result<Prepared, ApiError> {
    let name = required(&mut errs, "name", text(input.name));
    let kind = required(&mut errs, "kind", input.kind);
    let area_code = required(&mut errs, "area_code", text(input.area_code));
    let missing: HashSet<String> = errs.iter().map(|e| e.field.clone()).collect();
    let facility = kind.map(|kind| Facility {
        id: id.clone(),
        name: name.unwrap_or_default(),
        kind,
        level: input.level,
        ownership: input.ownership,
        operator_name: text(input.operator_name),
        operator_credit_code: text(input.operator_credit_code),
        area_code: area_code.unwrap_or_default(),
        address: text(input.address),
        lng: input.lng,
        lat: input.lat,
        beds: input.beds,
        nursing_beds: input.nursing_beds,
        dementia_beds: input.dementia_beds,
        approved_slots: input.approved_slots,
        inclusive: input.inclusive.unwrap_or(false),
        filing_status: input.filing_status.unwrap_or(FilingStatus::NotRequired),
        filing_date: input.filing_date,
        rating: input.rating,
        rating_valid_from: input.rating_valid_from,
        rating_valid_until: input.rating_valid_until,
        smart: input.smart.unwrap_or(false),
        demonstration: input.demonstration.unwrap_or(false),
        opening_date: input.opening_date,
        status: input.status.unwrap_or(FacilityStatus::Operating),
        phone: text(input.phone),
    });
    if let Some(f) = &facility {
        errs.extend(
            f.validate(ck)
                .into_iter()
                .filter(|e| !missing.contains(&e.field)),
        );
    }
    let mut assigned = Vec::new();
    let classes = input.classes.map(|list| {
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
            let given = c.id.as_deref().is_some_and(|x| !x.trim().is_empty());
            if let Some(class) = prepare_class(c, &id, i, ck, &mut errs) {
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
        out
    });
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
    c: ClassInput,
    facility_id: &str,
    i: usize,
    ck: &Checker<'_>,
    errs: &mut Vec<FieldError>,
) -> Option<ChildcareClass> {
    let at = |f: &str| format!("classes[{i}].{f}");
    let mut local = Vec::new();
    // New classes get an id from the server (see `facilities::write_classes`).
    let id = text(c.id).unwrap_or_else(facilities::new_class_id);
    let class_type = required(&mut local, "class_type", c.class_type);
    let capacity = required(&mut local, "capacity", c.capacity);
    if let Some(fid) = text(c.facility_id)
        && fid != facility_id
    {
        local.push(FieldError::new(
            "facility_id",
            format!("must be the facility's id {facility_id:?}"),
        ));
    }
    let missing: HashSet<String> = local.iter().map(|e| e.field.clone()).collect();
    let class = class_type.map(|class_type| ChildcareClass {
        id,
        facility_id: facility_id.to_string(),
        class_type,
        capacity: capacity.unwrap_or(0),
        enrolled: c.enrolled.unwrap_or(0),
        caregivers: c.caregivers.unwrap_or(0),
        monthly_fee_fen: c.monthly_fee_fen,
    });
    if let Some(class) = &class {
        for e in class.validate(ck) {
            // The model names the import column; the API field is in fen.
            let field = if e.field == "monthly_fee_yuan" {
                "monthly_fee_fen".to_string()
            } else {
                e.field
            };
            if !missing.contains(&field) && field != "facility_id" {
                local.push(FieldError::new(field, e.reason));
            }
        }
    }
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
        facility: f.into(),
        classes: classes.into_iter().map(ClassView::from).collect(),
    })
}

// ---------------------------------------------------------------------------
// Handlers

query_params! {
    /// Filters and paging for `GET /api/facilities`; all filters combine.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct FacilityListParams {
        /// Area code: only facilities in this area's subtree.
        #[param(example = "330402")]
        pub area: Option<String>,
        #[param(value_type = Option<FacilityKindSchema>)]
        pub kind: Option<FacilityKind>,
        #[param(value_type = Option<FacilityStatusSchema>)]
        pub status: Option<FacilityStatus>,
        #[param(value_type = Option<OwnershipSchema>)]
        pub ownership: Option<Ownership>,
        #[param(value_type = Option<RatingSchema>)]
        pub rating: Option<Rating>,
        /// 普惠 only (true) or non-inclusive only (false).
        pub inclusive: Option<bool>,
        #[param(value_type = Option<FilingStatusSchema>)]
        pub filing_status: Option<FilingStatus>,
        /// Text in the name, address, operator or id (case-insensitive).
        pub q: Option<String>,
        /// Cursor: the `next_cursor` of the previous page.
        pub after: Option<String>,
        /// Page size, 1–1000 (default 50).
        #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
        pub limit: Option<PageLimit>,
    }
}

impl FacilityListParams {
    fn into_query(self) -> FacilityQuery {
        FacilityQuery {
            area: self.area,
            kind: self.kind,
            status: self.status,
            ownership: self.ownership,
            rating: self.rating,
            inclusive: self.inclusive,
            filing_status: self.filing_status,
            q: self.q,
            after: self.after,
            limit: self.limit.map(|l| l.0),
            // The API lists in id order (its cursor is the last id).
            ..Default::default()
        }
    }
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
        (status = 200, description = "One page", body = FacilityPage),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<FacilityListParams>,
) -> Result<Json<FacilityPage>, ApiError> {
    check_area_param(&state.store.reference, p.area.as_deref())?;
    let q = p.into_query();
    let scope = auth.scope()?;
    let page = blocking(&state, move |c, r| {
        let page = facilities::list(c, r, &scope, &q)?;
        let total = facilities::count(c, r, &scope, &q)?;
        Ok(FacilityPage {
            items: page.items.into_iter().map(FacilityView::from).collect(),
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
    request_body = FacilityInput,
    responses(
        (status = 201, description = "Created", body = FacilityDetail,
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
    ApiJson(input): ApiJson<FacilityInput>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let detail = blocking(&state, move |c, r| {
        let mut errs = Vec::new();
        let id = assign_id(
            &scope,
            text(input.id.clone()),
            &mut errs,
            facilities::new_id,
        );
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
        (status = 200, description = "The facility", body = FacilityDetail),
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
    request_body = FacilityInput,
    responses(
        (status = 200, description = "Updated", body = FacilityDetail),
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
    ApiJson(input): ApiJson<FacilityInput>,
) -> Result<Json<FacilityDetail>, ApiError> {
    let scope = auth.scope()?;
    let d = blocking(&state, move |c, r| {
        facilities::get(c, &scope, &id)?;
        let mut errs = Vec::new();
        if let Some(body_id) = text(input.id.clone())
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
