//! The people registers, elderly people (老年人) and infants (婴幼儿):
//! `GET/POST /api/people`, `GET/PUT/DELETE /api/people/{id}`.
//!
//! The JSON of a person and its OpenAPI schemas (`PersonView`, `PersonInput`,
//! `PersonPage`) follow from the declaration (`laoxiao_model::person::PEOPLE`).
//! A person leaves the API only through [`render`], which masks the ID-number
//! fields unless [`reveal_ids`] allows them.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::person::{
    AbilityLevel, ELDERLY, FROM_ID_NUMBER, INFANTS, LivingArrangement, PEOPLE, PersonStatus,
    SpecialDifficulty, mask_id_number,
};
use laoxiao_model::register::{Cell, Field, FieldType, Record, enum_code, parse_cell};
use laoxiao_model::{Checker, FieldError, Person, PersonRole, idcard};
use laoxiao_store::people::{self, PersonQuery};
use laoxiao_store::record_view;
use serde_json::{Map, Value as Json_, json};
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::auth::Auth;
use crate::context::{RequestContext, reveal_ids};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{AgeYears, ApiJson, ApiPath, ApiQuery, PageLimit, query_params, text};
use crate::facilities::check_area_param;
use crate::schema::{
    AbilityLevelSchema, LivingArrangementSchema, PersonRoleSchema, PersonStatusSchema,
    SpecialDifficultySchema,
};
use crate::{AppState, blocking, encode_segment};

// ---------------------------------------------------------------------------
// View and input, from the declaration

/// A person as the API sends it: the declared fields ([`PEOPLE`]), every
/// ID-number field masked (`330402********123X`) unless the request asked for
/// and may see full numbers. The only way a [`Person`] leaves the API.
pub fn render(p: &Person, ctx: &RequestContext) -> Result<Json_, ApiError> {
    let mut v = serde_json::to_value(p).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        if !reveal_ids(ctx) {
            for f in PEOPLE.fields.iter().filter(|f| is_id_number(f)) {
                if let Some(Json_::String(n)) = o.get_mut(f.key) {
                    *n = mask_id_number(n);
                }
            }
        }
        o.insert(AGED_OUT.into(), p.aged_out(today()).into());
    }
    Ok(v)
}

/// The derived, read-only property marking an infant who has turned three
/// (超龄) since registration: such a child stays on the infant register.
pub const AGED_OUT: &str = "aged_out";

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

fn is_id_number(f: &Field) -> bool {
    matches!(f.ty, FieldType::IdNumber)
}

/// A body value as a cell of the field's type: text trimmed (blank is
/// absent), enumerations by code or label, dates `YYYY-MM-DD`.
fn json_cell(f: &Field, v: &Json_) -> Result<Cell, String> {
    let wrong = |what: &str| format!("expected {what}");
    Ok(match (&f.ty, v) {
        (_, Json_::Null) => Cell::Null,
        (
            FieldType::Text
            | FieldType::Note
            | FieldType::Ref(_)
            | FieldType::Area
            | FieldType::IdNumber,
            Json_::String(s),
        ) => match s.trim() {
            "" => Cell::Null,
            t => Cell::Text(t.to_string()),
        },
        (FieldType::Enum(values), Json_::String(s)) => {
            Cell::Text(enum_code(values, s)?.to_string())
        }
        (FieldType::EnumList(values), Json_::Array(items)) => Cell::List(
            items
                .iter()
                .map(|x| match x {
                    Json_::String(s) => enum_code(values, s).map(str::to_string),
                    _ => Err(wrong("an array of strings")),
                })
                .collect::<Result<_, _>>()?,
        ),
        (FieldType::Int(_) | FieldType::Money(_), Json_::Number(n)) => {
            Cell::Int(n.as_i64().ok_or_else(|| wrong("a whole number"))?)
        }
        (FieldType::Decimal { .. }, Json_::Number(n)) => {
            Cell::Real(n.as_f64().ok_or_else(|| wrong("a number"))?)
        }
        (FieldType::Date, Json_::String(s)) => Cell::Date(
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"))?,
        ),
        (FieldType::Bool, Json_::Bool(b)) => Cell::Bool(*b),
        (ty, _) => return Err(wrong(ty.name())),
    })
}

/// A body's cells in [`PEOPLE`] field order, each read by its declared type;
/// unknown keys and values of the wrong type are errors. The derived
/// [`AGED_OUT`] marker of a view sent back is ignored (read-only).
fn body_cells(body: &Map<String, Json_>, errs: &mut Vec<FieldError>) -> Vec<Cell> {
    for k in body.keys() {
        if PEOPLE.field(k).is_none() && k != AGED_OUT {
            errs.push(FieldError::new(k.as_str(), "unknown field"));
        }
    }
    PEOPLE
        .fields
        .iter()
        .map(|f| match body.get(f.key).map(|v| json_cell(f, v)) {
            None => Cell::Null,
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                errs.push(FieldError::new(f.key, e));
                Cell::Null
            }
        })
        .collect()
}

/// The JSON schema of a declared field (bounds, format, enumeration), nullable
/// when `nullable`.
fn field_schema(f: &Field, nullable: bool) -> Json_ {
    let ty = |t: &str| {
        if nullable {
            json!([t, "null"])
        } else {
            json!(t)
        }
    };
    let mut s = match f.ty {
        FieldType::Text
        | FieldType::Note
        | FieldType::Ref(_)
        | FieldType::Area
        | FieldType::IdNumber => json!({"type": ty("string")}),
        FieldType::Int(b) | FieldType::Money(b) => {
            json!({"type": ty("integer"), "format": "int64", "minimum": b.min, "maximum": b.max})
        }
        FieldType::Decimal { min, max } => {
            json!({"type": ty("number"), "format": "double", "minimum": min, "maximum": max})
        }
        FieldType::Date => json!({"type": ty("string"), "format": "date"}),
        FieldType::Bool => json!({"type": ty("boolean")}),
        FieldType::Enum(values) => {
            let mut codes: Vec<Json_> = values.iter().map(|e| json!(e.code)).collect();
            if nullable {
                codes.push(Json_::Null);
            }
            json!({"type": ty("string"), "enum": codes})
        }
        FieldType::EnumList(values) => json!({"type": ty("array"), "items": {
            "type": "string", "enum": values.iter().map(|e| e.code).collect::<Vec<_>>()}}),
        // A column of files only: never a property of the JSON.
        FieldType::CoordSystem => {
            json!({"type": ty("string"), "enum": f.ty.values().iter().map(|e| e.code).collect::<Vec<_>>()})
        }
    };
    let mut d = format!("{} / {}", f.label_zh, f.en);
    if !f.default.is_empty() {
        d.push_str(&format!("; default `{}`", f.default));
    }
    if !f.help.is_empty() {
        d.push_str(&format!(". {}", f.help));
    }
    if is_id_number(f) {
        d.push_str("; masked (330402********123X) unless `full_id=true` is given and allowed");
    }
    if let Some(o) = s.as_object_mut() {
        o.insert("description".into(), d.into());
    }
    s
}

/// A schema built as JSON, as utoipa's type (an empty object should it ever
/// not convert; the document's tests would fail first).
fn to_schema(v: Json_) -> RefOr<Schema> {
    serde_json::from_value(v).unwrap_or_else(|_| RefOr::T(Schema::Object(Default::default())))
}

/// `PersonView` in the document: the declared fields, all present.
pub struct PersonView;

impl PartialSchema for PersonView {
    fn schema() -> RefOr<Schema> {
        let mut props = Map::new();
        for f in PEOPLE.fields {
            // A field with a default, or a list (empty), always has a value.
            let nullable =
                !f.required && f.default.is_empty() && !matches!(f.ty, FieldType::EnumList(_));
            props.insert(f.key.into(), field_schema(f, nullable));
        }
        props.insert(
            AGED_OUT.into(),
            json!({"type": "boolean", "readOnly": true, "description":
                "超龄 / Aged out: an infant who has turned three since registration (kept on \
                 the infant register); always false for elderly people. Derived, never written."}),
        );
        let mut keys: Vec<&str> = PEOPLE.fields.iter().map(|f| f.key).collect();
        keys.push(AGED_OUT);
        to_schema(json!({"type": "object", "description": format!(
            "A person on the {} or {} register ({}), declared in laoxiao_model::person.",
            ELDERLY.zh, INFANTS.zh, PEOPLE.zh),
            "properties": props, "required": keys}))
    }
}
impl ToSchema for PersonView {}

/// `PersonInput` in the document: the declared fields; `id` optional, the ID
/// number optional on `PUT` (the contract makes it required on `POST`), the
/// fields the ID number gives optional.
pub struct PersonInput;

impl PartialSchema for PersonInput {
    fn schema() -> RefOr<Schema> {
        let mut props = Map::new();
        let mut required = Vec::new();
        for f in PEOPLE.fields {
            let needed = f.required
                && f.key != PEOPLE.id_field().key
                && !is_id_number(f)
                && !FROM_ID_NUMBER.contains(&f.key);
            if needed {
                required.push(f.key);
            }
            props.insert(f.key.into(), field_schema(f, !needed));
        }
        to_schema(json!({"type": "object", "description":
            "A person as created (`POST`) or replaced (`PUT`; absent optional fields are \
             cleared). Leave `id` out on `POST` (the server assigns one; only city-wide \
             accounts may choose it); on `PUT` it may be absent and otherwise equals the \
             path's id, and `id_number` may be absent or the masked number as served to keep \
             the stored number. `sex` and `birth_date` default to what the ID number says.",
            "properties": props, "required": required, "additionalProperties": false}))
    }
}
impl ToSchema for PersonInput {}

/// `PersonPage` in the document.
pub struct PersonPage;

impl PartialSchema for PersonPage {
    fn schema() -> RefOr<Schema> {
        to_schema(
            json!({"type": "object", "description": "One page of people, ordered by area, register and id.",
            "required": ["items", "next_cursor", "total"], "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/PersonView"}},
            "next_cursor": {"type": ["string", "null"], "description": "Pass as `after` for the next page; `null` on the last page."},
            "total": {"type": "integer", "format": "int64", "minimum": 0, "description": "How many people match the filters (all pages)."}}}),
        )
    }
}
impl ToSchema for PersonPage {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        out.push(("PersonView".into(), PersonView::schema()));
    }
}

/// Builds and validates a person from a body. `errs` may already hold
/// errors: they are kept, and the model's own errors for the same fields are
/// dropped as repeats.
fn prepare(
    body: &Map<String, Json_>,
    id: String,
    id_number: Option<String>,
    ck: &Checker<'_>,
    mut errs: Vec<FieldError>,
) -> Result<Person, ApiError> {
    let mut cells = body_cells(body, &mut errs);
    let at = |key: &str| PEOPLE.fields.iter().position(|f| f.key == key);
    let (Some(id_at), Some(number_at)) = (at(PEOPLE.id_field().key), at("id_number")) else {
        return Err(ApiError::Internal(
            "the people declaration lacks id or id_number".into(),
        ));
    };
    cells[id_at] = Cell::Text(id);
    // Missing, it is reported with the other required fields, in field order.
    let id_number = id_number.map(|n| idcard::normalize(&n));
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
    cells[number_at] = id_number.map_or(Cell::Null, Cell::Text);
    if let Some(info) = &info {
        for (key, from_number) in [
            ("sex", Cell::Text(info.sex.code().to_string())),
            ("birth_date", Cell::Date(info.birth_date)),
        ] {
            if let Some(i) = at(key)
                && cells[i] == Cell::Null
            {
                cells[i] = from_number;
            }
        }
    }
    // Blank fields take their declared default (`dementia` false, `status` active).
    for (f, c) in PEOPLE.fields.iter().zip(cells.iter_mut()) {
        if *c == Cell::Null && !f.default.is_empty() {
            *c = parse_cell(f, f.default).unwrap_or(Cell::Null);
        }
        let derived = FROM_ID_NUMBER.contains(&f.key) && id_invalid;
        if *c == Cell::Null && f.required && !derived && !errs.iter().any(|e| e.field == f.key) {
            errs.push(FieldError::new(f.key, "is required"));
        }
    }
    let reported: HashSet<String> = errs.iter().map(|e| e.field.clone()).collect();
    if cells
        .iter()
        .zip(PEOPLE.fields)
        .any(|(c, f)| *c == Cell::Null && f.required)
    {
        return Err(ApiError::invalid(errs));
    }
    let p = match Person::from_cells(cells) {
        Ok(p) => p,
        Err(e) => {
            errs.push(e);
            return Err(ApiError::invalid(errs));
        }
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

/// A text member of a body, trimmed; blank or not a string is absent (a
/// string of the wrong type is reported by [`prepare`]).
fn body_text(body: &Map<String, Json_>, key: &str) -> Option<String> {
    text(body.get(key).and_then(Json_::as_str).map(str::to_string))
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
) -> Result<Json<Json_>, ApiError> {
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
    let items = page
        .items
        .iter()
        .map(|p| render(p, &ctx))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({
        "items": items,
        "next_cursor": page.next_cursor,
        "total": total,
    })))
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
    ApiJson(input): ApiJson<Map<String, Json_>>,
) -> Result<Response, ApiError> {
    let scope = ctx.scope()?;
    let reveal = reveal_ids(&ctx);
    let person = blocking(&state, move |c, r| {
        let mut errs = Vec::new();
        crate::facilities::refuse_blank_id(&input, &mut errs);
        let id = crate::facilities::assign_id(
            &scope,
            body_text(&input, "id"),
            &mut errs,
            people::new_id,
        );
        let id_number = body_text(&input, "id_number");
        if id_number.as_deref().is_some_and(|n| n.contains('*')) {
            errs.push(FieldError::new(
                "id_number",
                "a masked ID number cannot register a person; send the full number",
            ));
            return Err(ApiError::invalid(errs));
        }
        let p = prepare(&input, id, id_number, &r.checker(), errs)?;
        // The answer shows the full number when asked for: audited with the write.
        Ok(if reveal {
            people::create_revealing(c, r, &scope, &p)?
        } else {
            people::create(c, r, &scope, &p)?
        })
    })
    .await?;
    let location = format!("/api/people/{}", encode_segment(&person.id));
    let view = render(&person, &ctx)?;
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
) -> Result<Json<Json_>, ApiError> {
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
    Ok(Json(render(&p, &ctx)?))
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
    ApiJson(input): ApiJson<Map<String, Json_>>,
) -> Result<Json<Json_>, ApiError> {
    let scope = ctx.scope()?;
    let reveal = reveal_ids(&ctx);
    let p = blocking(&state, move |c, r| {
        let existing = people::get(c, r, &scope, &id)?;
        let mut errs = Vec::new();
        if let Some(body_id) = body_text(&input, "id")
            && body_id != id
        {
            errs.push(FieldError::new(
                "id",
                format!("{body_id:?} differs from the id in the path {id:?}"),
            ));
        }
        // Absent, or the masked number as served: keep the stored number.
        let id_number = match body_text(&input, "id_number") {
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
        let p = prepare(&input, id, id_number, &r.checker(), errs)?;
        Ok(if reveal {
            people::update_revealing(c, r, &scope, &p)?
        } else {
            people::update(c, r, &scope, &p)?
        })
    })
    .await?;
    Ok(Json(render(&p, &ctx)?))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The document's person schemas are the declaration's fields, with
    /// their bounds and enumerations.
    #[test]
    fn schemas_follow_the_declaration() {
        let doc = serde_json::to_value(crate::openapi::document()).expect("json");
        let s = &doc["components"]["schemas"];
        for name in ["PersonView", "PersonInput"] {
            let props = s[name]["properties"].as_object().expect(name);
            let keys: Vec<&str> = props.keys().map(String::as_str).collect();
            for f in PEOPLE.fields {
                assert!(keys.contains(&f.key), "{name}: {}", f.key);
            }
            // A view adds the derived 超龄 marker, never an input.
            let derived = usize::from(name == "PersonView");
            assert_eq!(props.len(), PEOPLE.fields.len() + derived, "{name}");
        }
        let view = &s["PersonView"]["properties"];
        assert_eq!(view[AGED_OUT]["type"], "boolean");
        assert_eq!(view[AGED_OUT]["readOnly"], true);
        assert!(s["PersonInput"]["properties"].get(AGED_OUT).is_none());
        assert_eq!(view["lat"]["maximum"], 90.0);
        assert_eq!(
            view["status"]["enum"].as_array().map(Vec::len),
            Some(PersonStatus::ALL.len())
        );
        assert_eq!(s["PersonInput"]["additionalProperties"], false);
        assert_eq!(
            s["PersonInput"]["required"],
            json!(["role", "name", "residence_area_code"])
        );
        assert_eq!(
            s["PersonPage"]["properties"]["items"]["items"]["$ref"],
            "#/components/schemas/PersonView"
        );
    }

    #[test]
    fn bodies_are_read_by_declared_type() {
        let mut errs = Vec::new();
        let body: Map<String, Json_> = serde_json::from_value(json!({
            "name": "  张三 ", "dementia": true, "birth_order": 2, "lng": 120.5,
            "special_difficulty": ["特困", "severe_disability"], "address": " ",
            "colour": "red", "death_date": "2020/01/01", "sex": 1,
        }))
        .expect("map");
        let cells = body_cells(&body, &mut errs);
        let cell = |k: &str| {
            let i = PEOPLE.fields.iter().position(|f| f.key == k).expect(k);
            cells[i].clone()
        };
        assert_eq!(cell("name"), Cell::Text("张三".into()));
        assert_eq!(cell("address"), Cell::Null);
        assert_eq!(cell("dementia"), Cell::Bool(true));
        assert_eq!(cell("birth_order"), Cell::Int(2));
        assert_eq!(cell("lng"), Cell::Real(120.5));
        assert_eq!(
            cell("special_difficulty"),
            Cell::List(vec!["extreme_poverty".into(), "severe_disability".into()])
        );
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["colour", "sex", "death_date"]);
    }
}
