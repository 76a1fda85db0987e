//! The people registers, elderly people (老年人) and infants (婴幼儿):
//! `GET/POST /api/people`, `GET/PUT/DELETE /api/people/{id}`.
//!
//! A person leaves the API only as a [`PersonView`], built by [`PersonView::render`],
//! which masks the citizen ID number unless [`reveal_ids`] allows it.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::person::{
    AbilityLevel, LivingArrangement, PersonStatus, Sex, SpecialDifficulty, mask_id_number,
};
use laoxiao_model::{Checker, FieldError, Person, PersonRole, idcard};
use laoxiao_store::people::{self, PersonQuery};
use laoxiao_store::record_view;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::context::{RequestContext, reveal_ids};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{
    AgeYears, ApiJson, ApiPath, ApiQuery, PageLimit, query_params, required, text,
};
use crate::facilities::check_area_param;
use crate::schema::{
    AbilityLevelSchema, LivingArrangementSchema, PersonRoleSchema, PersonStatusSchema, SexSchema,
    SpecialDifficultySchema,
};
use crate::{AppState, blocking, encode_segment};

// ---------------------------------------------------------------------------
// View

/// A person on a register. `id_number` is masked (`330402********123X`) unless the
/// request asked for and may see full numbers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PersonView {
    /// The register's own id.
    #[schema(example = "P-000001")]
    pub id: String,
    #[schema(value_type = PersonRoleSchema)]
    pub role: PersonRole,
    /// 公民身份号码, masked by default.
    #[schema(example = "330402********123X")]
    id_number: String,
    pub name: String,
    #[schema(value_type = SexSchema)]
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// 户籍 area code (may lie outside Jiaxing).
    pub hukou_area_code: Option<String>,
    /// Town- or village-level area where the person lives.
    pub residence_area_code: String,
    pub address: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    #[schema(value_type = Option<LivingArrangementSchema>)]
    pub living_arrangement: Option<LivingArrangement>,
    #[schema(value_type = Vec<SpecialDifficultySchema>)]
    pub special_difficulty: Vec<SpecialDifficulty>,
    #[schema(value_type = Option<AbilityLevelSchema>)]
    pub ability_level: Option<AbilityLevel>,
    /// 失智
    pub dementia: bool,
    /// Infants: 孩次.
    pub birth_order: Option<i64>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    #[schema(value_type = PersonStatusSchema)]
    pub status: PersonStatus,
    pub death_date: Option<NaiveDate>,
}

impl PersonView {
    /// The only way to turn a [`Person`] into something the API sends.
    pub fn render(p: Person, ctx: &RequestContext) -> Self {
        let id_number = if reveal_ids(ctx) {
            p.id_number
        } else {
            mask_id_number(&p.id_number)
        };
        PersonView {
            id: p.id,
            role: p.role,
            id_number,
            name: p.name,
            sex: p.sex,
            birth_date: p.birth_date,
            hukou_area_code: p.hukou_area_code,
            residence_area_code: p.residence_area_code,
            address: p.address,
            lng: p.lng,
            lat: p.lat,
            living_arrangement: p.living_arrangement,
            special_difficulty: p.special_difficulty,
            ability_level: p.ability_level,
            dementia: p.dementia,
            birth_order: p.birth_order,
            guardian_name: p.guardian_name,
            guardian_phone: p.guardian_phone,
            status: p.status,
            death_date: p.death_date,
        }
    }

    /// The ID number as rendered (masked or full).
    pub fn id_number(&self) -> &str {
        &self.id_number
    }
}

/// One page of people, ordered by area, register and id.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PersonPage {
    pub items: Vec<PersonView>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    /// How many people match the filters (all pages).
    pub total: i64,
}

// ---------------------------------------------------------------------------
// Input

/// A person as created (`POST`) or replaced (`PUT`; absent optional fields are
/// cleared). `id_number` is required on `POST`; leave `id` out there (the server
/// assigns one; only city-wide accounts may choose it). On `PUT`, `id` may be absent
/// and otherwise must equal the path's id, and `id_number` may be absent or the masked
/// number as served to keep the stored number. `sex` and `birth_date` default to what
/// the ID number says; given, they must agree with it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    #[schema(example = "P-000001")]
    pub id: Option<String>,
    #[schema(required = true, value_type = PersonRoleSchema)]
    pub role: Option<PersonRole>,
    /// 公民身份号码 (18 characters).
    pub id_number: Option<String>,
    #[schema(required = true, value_type = String)]
    pub name: Option<String>,
    #[schema(value_type = Option<SexSchema>)]
    pub sex: Option<Sex>,
    pub birth_date: Option<NaiveDate>,
    pub hukou_area_code: Option<String>,
    #[schema(required = true, value_type = String, example = "330402007")]
    pub residence_area_code: Option<String>,
    pub address: Option<String>,
    pub lng: Option<f64>,
    pub lat: Option<f64>,
    #[schema(value_type = Option<LivingArrangementSchema>)]
    pub living_arrangement: Option<LivingArrangement>,
    #[schema(value_type = Option<Vec<SpecialDifficultySchema>>)]
    pub special_difficulty: Option<Vec<SpecialDifficulty>>,
    #[schema(value_type = Option<AbilityLevelSchema>)]
    pub ability_level: Option<AbilityLevel>,
    /// Default false.
    pub dementia: Option<bool>,
    pub birth_order: Option<i64>,
    pub guardian_name: Option<String>,
    pub guardian_phone: Option<String>,
    /// Default `active`.
    #[schema(value_type = Option<PersonStatusSchema>)]
    pub status: Option<PersonStatus>,
    pub death_date: Option<NaiveDate>,
}

/// Builds and validates a person. `errs` may already hold errors: they are kept, and
/// the model's own errors for the same fields are dropped as repeats.
fn prepare(
    input: PersonInput,
    id: String,
    id_number: Option<String>,
    ck: &Checker<'_>,
    mut errs: Vec<FieldError>,
) -> Result<Person, ApiError> {
    let role = required(&mut errs, "role", input.role);
    let name = required(&mut errs, "name", text(input.name));
    let residence = required(
        &mut errs,
        "residence_area_code",
        text(input.residence_area_code),
    );
    let id_number = required(
        &mut errs,
        "id_number",
        id_number.map(|n| idcard::normalize(&n)),
    );
    // Sex and birth date default to what a valid ID number says; when the number
    // is invalid, that is the error to report, not the missing defaults.
    let (info, id_invalid) = match id_number.as_deref().map(idcard::parse) {
        Some(Err(reason)) => {
            errs.push(FieldError::new("id_number", reason));
            (None, true)
        }
        Some(Ok(info)) => (Some(info), false),
        None => (None, false),
    };
    let sex = input.sex.or(info.as_ref().map(|i| i.sex));
    let birth_date = input.birth_date.or(info.as_ref().map(|i| i.birth_date));
    if !id_invalid {
        required(&mut errs, "sex", sex);
        required(&mut errs, "birth_date", birth_date);
    }
    let reported: HashSet<String> = errs.iter().map(|e| e.field.clone()).collect();
    let (Some(role), Some(sex), Some(birth_date)) = (role, sex, birth_date) else {
        return Err(ApiError::invalid(errs));
    };
    let p = Person {
        id,
        role,
        id_number: id_number.unwrap_or_default(),
        name: name.unwrap_or_default(),
        sex,
        birth_date,
        hukou_area_code: text(input.hukou_area_code),
        residence_area_code: residence.unwrap_or_default(),
        address: text(input.address),
        lng: input.lng,
        lat: input.lat,
        living_arrangement: input.living_arrangement,
        special_difficulty: input.special_difficulty.unwrap_or_default(),
        ability_level: input.ability_level,
        dementia: input.dementia.unwrap_or(false),
        birth_order: input.birth_order,
        guardian_name: text(input.guardian_name),
        guardian_phone: text(input.guardian_phone),
        status: input.status.unwrap_or(PersonStatus::Active),
        death_date: input.death_date,
    };
    let today = chrono::Local::now().date_naive();
    errs.extend(
        p.validate(ck, today)
            .into_iter()
            .filter(|e| !reported.contains(&e.field)),
    );
    if errs.is_empty() {
        Ok(p)
    } else {
        Err(ApiError::invalid(errs))
    }
}

// ---------------------------------------------------------------------------
// Handlers

/// Records that these people's full ID numbers were shown to the caller.
fn audit_full_read(
    c: &mut laoxiao_store::Conn,
    scope: &laoxiao_store::Scope,
    ids: &[&str],
) -> Result<(), ApiError> {
    Ok(people::audit_full_read(c, scope, ids)?)
}

query_params! {
    /// Filters and paging for `GET /api/people`; all filters combine.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct PersonListParams {
        #[param(value_type = Option<PersonRoleSchema>)]
        pub role: Option<PersonRole>,
        /// Area code: only people living in this area's subtree.
        #[param(example = "330402")]
        pub area: Option<String>,
        /// Only people with this special-difficulty category.
        #[param(value_type = Option<SpecialDifficultySchema>)]
        pub category: Option<SpecialDifficulty>,
        #[param(value_type = Option<AbilityLevelSchema>)]
        pub ability_level: Option<AbilityLevel>,
        #[param(value_type = Option<LivingArrangementSchema>)]
        pub living_arrangement: Option<LivingArrangement>,
        pub dementia: Option<bool>,
        #[param(value_type = Option<PersonStatusSchema>)]
        pub status: Option<PersonStatus>,
        /// Aged at least this many whole years on `as_of`.
        #[param(value_type = Option<u32>, minimum = 0, maximum = 150)]
        pub min_age: Option<AgeYears>,
        /// Aged at most this many whole years on `as_of`.
        #[param(value_type = Option<u32>, minimum = 0, maximum = 150)]
        pub max_age: Option<AgeYears>,
        /// Reference date for ages (default today), YYYY-MM-DD.
        pub as_of: Option<NaiveDate>,
        /// Text in the name, or an exact ID number.
        pub q: Option<String>,
        /// Cursor: the `next_cursor` of the previous page.
        pub after: Option<String>,
        /// Page size, 1–1000 (default 50).
        #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
        pub limit: Option<PageLimit>,
        /// Show full ID numbers (default false: masked).
        pub full_id: Option<bool>,
    }
}

query_params! {
    /// Options of single-person endpoints.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct RevealParams {
        /// Show the full ID number (default false: masked).
        pub full_id: Option<bool>,
    }
}

impl PersonListParams {
    fn into_query(self) -> PersonQuery {
        PersonQuery {
            area: self.area,
            role: self.role,
            category: self.category,
            ability_level: self.ability_level,
            living_arrangement: self.living_arrangement,
            dementia: self.dementia,
            status: self.status,
            min_age: self.min_age.map(|a| a.0),
            max_age: self.max_age.map(|a| a.0),
            as_of: self.as_of,
            q: self.q,
            after: self.after,
            limit: self.limit.map(|l| l.0),
        }
    }
}

/// List people (keyset pagination, ordered by area, register and id).
#[utoipa::path(
    get,
    path = "/api/people",
    operation_id = "list_people",
    tag = "people",
    params(PersonListParams),
    responses(
        (status = 200, description = "One page", body = PersonPage),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    ApiQuery(p): ApiQuery<PersonListParams>,
) -> Result<Json<PersonPage>, ApiError> {
    check_area_param(&state.store.reference, p.area.as_deref())?;
    let q = p.into_query();
    let scope = ctx.scope()?;
    let reveal = reveal_ids(&ctx);
    let (page, total) = blocking(&state, move |c, r| {
        let page = people::list(c, r, &scope, &q)?;
        let total = people::count(c, r, &scope, &q)?;
        let ids: Vec<&str> = page.items.iter().map(|p| p.id.as_str()).collect();
        record_view::record(c, &scope, record_view::Via::ApiList, &ids)?;
        if reveal {
            audit_full_read(c, &scope, &ids)?;
        }
        Ok((page, total))
    })
    .await?;
    Ok(Json(PersonPage {
        items: page
            .items
            .into_iter()
            .map(|p| PersonView::render(p, &ctx))
            .collect(),
        next_cursor: page.next_cursor,
        total,
    }))
}

/// Register a person.
#[utoipa::path(
    post,
    path = "/api/people",
    operation_id = "create_person",
    tag = "people",
    params(RevealParams),
    request_body = PersonInput,
    responses(
        (status = 201, description = "Created", body = PersonView,
            headers(("Location" = String, description = "URL of the new record"))),
        (status = 400, description = "Malformed JSON or query", body = ErrorBody),
        (status = 409, description = "The id or the ID number is taken; `registered_elsewhere` when the number is registered outside your area (nothing more is said: request a transfer, `POST /api/transfers`)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    _reveal: ApiQuery<RevealParams>,
    ApiJson(input): ApiJson<PersonInput>,
) -> Result<Response, ApiError> {
    let scope = ctx.scope()?;
    let reveal = reveal_ids(&ctx);
    let person = blocking(&state, move |c, r| {
        let mut errs = Vec::new();
        let id =
            crate::facilities::assign_id(&scope, text(input.id.clone()), &mut errs, people::new_id);
        let id_number = text(input.id_number.clone());
        if id_number.as_deref().is_some_and(|n| n.contains('*')) {
            errs.push(FieldError::new(
                "id_number",
                "a masked ID number cannot register a person; send the full number",
            ));
            return Err(ApiError::invalid(errs));
        }
        let p = prepare(input, id, id_number, &r.checker(), errs)?;
        // The answer shows the full number when asked for: audited with the write.
        Ok(if reveal {
            people::create_revealing(c, r, &scope, &p)?
        } else {
            people::create(c, r, &scope, &p)?
        })
    })
    .await?;
    let location = format!("/api/people/{}", encode_segment(&person.id));
    let view = PersonView::render(person, &ctx);
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(view)).into_response())
}

/// One person.
#[utoipa::path(
    get,
    path = "/api/people/{id}",
    operation_id = "get_person",
    tag = "people",
    params(("id" = String, Path, description = "The person's register id"), RevealParams),
    responses(
        (status = 200, description = "The person", body = PersonView),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    _reveal: ApiQuery<RevealParams>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PersonView>, ApiError> {
    let scope = ctx.scope()?;
    let reveal = reveal_ids(&ctx);
    let p = blocking(&state, move |c, r| {
        let p = people::get(c, r, &scope, &id)?;
        record_view::record(c, &scope, record_view::Via::ApiDetail, &[p.id.as_str()])?;
        if reveal {
            audit_full_read(c, &scope, &[p.id.as_str()])?;
        }
        Ok(p)
    })
    .await?;
    Ok(Json(PersonView::render(p, &ctx)))
}

/// Replace a person's fields.
#[utoipa::path(
    put,
    path = "/api/people/{id}",
    operation_id = "update_person",
    tag = "people",
    params(("id" = String, Path, description = "The person's register id"), RevealParams),
    request_body = PersonInput,
    responses(
        (status = 200, description = "Updated", body = PersonView),
        (status = 400, description = "Malformed JSON or query", body = ErrorBody),
        (status = 404, description = "No such person", body = ErrorBody),
        (status = 409, description = "The ID number belongs to another record (`registered_elsewhere` outside your area)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid fields, or a body id that differs from the path", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    ctx: RequestContext,
    _reveal: ApiQuery<RevealParams>,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<PersonInput>,
) -> Result<Json<PersonView>, ApiError> {
    let scope = ctx.scope()?;
    let reveal = reveal_ids(&ctx);
    let p = blocking(&state, move |c, r| {
        let existing = people::get(c, r, &scope, &id)?;
        let mut errs = Vec::new();
        if let Some(body_id) = text(input.id.clone())
            && body_id != id
        {
            errs.push(FieldError::new(
                "id",
                format!("{body_id:?} differs from the id in the path {id:?}"),
            ));
        }
        // Absent, or the masked number as served: keep the stored number.
        let id_number = match text(input.id_number.clone()) {
            None => Some(existing.id_number.clone()),
            Some(n) if n.contains('*') => {
                if n.eq_ignore_ascii_case(&mask_id_number(&existing.id_number)) {
                    Some(existing.id_number.clone())
                } else {
                    errs.push(FieldError::new(
                        "id_number",
                        "a masked ID number must match the stored one; send the full number to change it",
                    ));
                    Some(existing.id_number.clone())
                }
            }
            Some(n) => Some(n),
        };
        let p = prepare(input, id, id_number, &r.checker(), errs)?;
        Ok(if reveal {
            people::update_revealing(c, r, &scope, &p)?
        } else {
            people::update(c, r, &scope, &p)?
        })
    })
    .await?;
    Ok(Json(PersonView::render(p, &ctx)))
}

/// Delete a person (soft: the record leaves lists and lookups).
#[utoipa::path(
    delete,
    path = "/api/people/{id}",
    operation_id = "delete_person",
    tag = "people",
    params(("id" = String, Path, description = "The person's register id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such person", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let scope = auth.scope()?;
    blocking(&state, move |c, r| {
        Ok(people::soft_delete(c, r, &scope, &id)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
