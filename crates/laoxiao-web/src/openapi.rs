//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` attributes
//! and the DTOs' `ToSchema` derives: `GET /api/openapi.json`.

use axum::Json;
use utoipa::OpenApi;

use crate::schema::*;
use crate::{
    admission, alarms, areas, assessments, audit, childcare_applications, childcare_bills,
    childcare_day, complaints, error, facilities, family, filing, health, indicators, inspections,
    key_projects, notifications, people, planning, subsidies, transfers, visits,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "laoxiao API",
        description = "Jiaxing's elderly-care and childcare registers (一老一小). \
            Every error is `{\"error\": {\"code\", \"message\", \"details\": [{\"field\", \"reason\"}]}}`. \
            Citizen ID numbers are masked unless `full_id=true` is given and allowed. \
            Send an API token (`laoxiao user token`) as `Authorization: Bearer …`; what a \
            token sees is limited to its account's role and home area (outside it: 404)."
    ),
    paths(
        health::health,
        openapi_json,
        areas::list,
        areas::get,
        facilities::list,
        facilities::create,
        facilities::get,
        facilities::update,
        facilities::delete,
        people::list,
        people::create,
        people::get,
        people::update,
        people::delete,
        assessments::list,
        assessments::create,
        assessments::get,
        assessments::update,
        assessments::finish,
        assessments::appeal,
        assessments::due,
        assessments::flag,
        assessments::standard,
        assessments::import,
        transfers::list,
        transfers::create,
        transfers::get,
        transfers::approve,
        transfers::refuse,
        transfers::withdraw,
        visits::rounds,
        visits::generate,
        visits::tasks,
        visits::task,
        visits::record,
        visits::followups,
        visits::close,
        visits::services,
        visits::record_service,
        visits::completion,
        admission::list,
        admission::apply,
        admission::get,
        admission::accept,
        admission::decline,
        admission::withdraw,
        admission::cancel,
        admission::homes,
        admission::waiting_list,
        admission::offer_next,
        admission::discharge,
        admission::figures,
        admission::family_list,
        admission::family_apply,
        admission::family_homes,
        admission::family_accept,
        admission::family_decline,
        admission::family_withdraw,
        audit::me,
        audit::search,
        audit::person_views,
        indicators::list,
        indicators::values,
        indicators::explain,
        indicators::trend,
        indicators::reported,
        indicators::report,
        indicators::set_target,
        indicators::publications,
        indicators::publish,
        indicators::changes,
        indicators::export,
        family::relatives,
        family::catalogue,
        family::request_link,
        family::my_links,
        family::pending_links,
        family::verify_link,
        family::refuse_link,
        family::family_orders,
        family::place,
        family::cancel,
        family::rate,
        family::provider_orders,
        family::accept,
        family::refuse,
        family::deliver,
        family::settlement,
        subsidies::rules,
        subsidies::list_runs,
        subsidies::prepare,
        subsidies::get_run,
        subsidies::lines,
        subsidies::line,
        subsidies::approve,
        subsidies::reject,
        subsidies::paid,
        subsidies::export,
        subsidies::explain,
        subsidies::whatif,
        planning::coverage,
        planning::cells,
        planning::facilities,
        planning::access,
        planning::slots,
        planning::siting,
        planning::save_sites,
        planning::grid_info,
        planning::import_grid,
        planning::clear_grid,
        alarms::intake,
        alarms::list,
        alarms::get_one,
        alarms::acknowledge,
        alarms::reach,
        alarms::close,
        alarms::figures,
        alarms::equipped,
        alarms::platforms,
        filing::list,
        filing::create,
        filing::get,
        filing::update_form,
        filing::upload,
        filing::download,
        filing::remove_document,
        filing::submit,
        filing::withdraw,
        filing::review,
        filing::rules,
        childcare_applications::list,
        childcare_applications::apply,
        childcare_applications::get,
        childcare_applications::offer,
        childcare_applications::accept,
        childcare_applications::decline,
        childcare_applications::withdraw,
        childcare_applications::cancel,
        childcare_applications::enrol,
        childcare_applications::intake,
        childcare_applications::children,
        childcare_applications::family_institutions,
        childcare_applications::family_list,
        childcare_applications::family_apply,
        childcare_applications::family_accept,
        childcare_applications::family_decline,
        childcare_applications::family_withdraw,
        childcare_day::classes,
        crate::childcare_figures::figures,
        childcare_day::sheet,
        childcare_day::on_duty,
        childcare_day::entry,
        childcare_day::check_in,
        childcare_day::check_out,
        childcare_day::midday,
        childcare_day::absence,
        childcare_day::pickups,
        childcare_day::add_pickup,
        childcare_day::revoke_pickup,
        childcare_day::report,
        childcare_day::family_report,
        childcare_day::family_pickups,
        childcare_day::family_add_pickup,
        childcare_day::family_revoke_pickup,
        childcare_day::family_absence,
        childcare_bills::prices,
        childcare_bills::set_prices,
        childcare_bills::generate,
        childcare_bills::statement,
        childcare_bills::statement_csv,
        childcare_bills::area_month,
        childcare_bills::bill,
        childcare_bills::pay,
        childcare_bills::family_bills,
        childcare_bills::family_bill,
        notifications::family_notifications,
        notifications::mark_read,
        notifications::family_thread,
        notifications::family_post,
        notifications::threads,
        notifications::thread,
        notifications::reply,
        notifications::class_notice,
        notifications::notices,
        notifications::health,
        complaints::family_file,
        complaints::family_list,
        complaints::family_get,
        complaints::family_close,
        complaints::list,
        complaints::figures,
        complaints::get,
        complaints::acknowledge,
        complaints::answer,
        inspections::checklists,
        inspections::list_plans,
        inspections::create_plan,
        inspections::get_plan,
        inspections::commit,
        inspections::draw,
        inspections::get_draw,
        inspections::list,
        inspections::get,
        inspections::record,
        inspections::add_photo,
        inspections::photo,
        inspections::publish,
        inspections::rectifications,
        inspections::report,
        inspections::reinspect,
        key_projects::list,
        key_projects::get,
        key_projects::report,
        key_projects::add_photo,
        key_projects::photo,
        key_projects::milestone,
        key_projects::complete,
    ),
    components(schemas(
        error::ErrorBody,
        FacilityViewSchema,
        ClassViewSchema,
        FacilityDetailSchema,
        FacilityInputSchema,
        ClassInputSchema,
        FacilityPageSchema,
        AreaLevelSchema,
        FacilityKindSchema,
        FacilityLevelSchema,
        OwnershipSchema,
        RatingSchema,
        FilingStatusSchema,
        FacilityStatusSchema,
        ClassTypeSchema,
        PersonRoleSchema,
        SexSchema,
        LivingArrangementSchema,
        SpecialDifficultySchema,
        AbilityLevelSchema,
        PersonStatusSchema,
        CoverageReportSchema,
        PlanningCellsSchema,
        GeoJsonSchema,
        AccessReportSchema,
        SlotsReportSchema,
        SiteToSaveSchema,
        SavedSitesSchema,
        GridInfoSchema,
        SitingReportSchema,
    )),
    modifiers(&CommonResponses, &Contract),
    tags(
        (name = "health", description = "Service status"),
        (name = "meta", description = "This document"),
        (name = "areas", description = "行政区划: city, counties, towns, villages (read-only)"),
        (name = "facilities", description = "设施: care homes, home-care centres and stations, childcare institutions, …"),
        (name = "people", description = "老年人 and 婴幼儿 registers; ID numbers masked by default"),
        (name = "assessments", description = "老年人能力评估 (GB/T 42195-2022): drafts by two certified assessors, finished into the person's ability level with an explanation, appeals and reviews, the due list"),
        (name = "admission", description = "养老机构入住轮候: care-home applications, waiting lists ranked by priority and explained, offers, admission, discharge"),
        (name = "transfers", description = "迁入 requests: move a person's record from the area that holds it to yours"),
        (name = "accounts", description = "The caller and the audit trail"),
        (name = "indicators", description = "指标监测: the plan's 44 indicators for every area and period, their status against target, explanations, reported values and publications"),
        (name = "planning", description = "设施布局规划: coverage of the plan's distance rules (500 m / 1,000 m to a care institution, the 15-minute walk to home care), accessibility (2SFCA), childcare slots per 1,000 residents, siting of new facilities, the resident grid"),
        (name = "family", description = "子女网上下单: family accounts linked to their elderly relatives (verified by staff), the catalogue providers publish, orders paid first by the monthly service voucher, delivery, rating and the monthly settlement"),
        (name = "visits", description = "探访关爱 and 家庭养老床位: monthly visiting rounds of elderly people in special difficulty (indicator 8), follow-ups for the town, service visits under home-care bed contracts and their monthly completion (indicator 7)"),
        (name = "alarms", description = "智能设备告警: alarms posted by device platforms (signed, no account), dispatched to the person's village staff and the device's provider, escalated to the town past a deadline, closed with an outcome; response figures and the plan's equipment target"),
        (name = "childcare", description = "托育机构备案: an institution files with the county health commission (form, commitment letter and the documents the 备案办法 lists, uploaded as PDF, JPEG or PNG), the county accepts, asks for corrections or refuses by the deadlines; acceptance writes the facility's filing status, date and approved places"),
        (name = "complaints", description = "投诉: complaints about a facility (a family about its child's institution), acknowledged and answered by the facility within dated deadlines, escalated to the county when late (督办), closed by the complainant with a rating; the figures per facility and area"),
        (name = "inspections", description = "双随机、一公开: inspection plans per period and area, a reproducible draw of facilities and inspectors (commit–reveal: the seed's SHA-256 published first, the seed at the draw; `laoxiao supervise verify-draw` re-runs a draw document), recusal, checklists, results with evidence photos, rectification orders with deadlines, re-inspection, publication"),
        (name = "key-projects", description = "重点项目: the plan's 72 key projects (附件1) as a register: milestones, progress reports with investment spent and funding granted, photos, completion that registers or links the facility delivered; each project's schedule status (on track, behind, completed)"),
        (name = "subsidies", description = "补助发放: subsidy runs computed from the registers by the plan's rules (dated parameters), reviewed by a second account, paid once; each line explained; what-if costs of a reform"),
    )
)]
pub struct ApiDoc;

/// Answers every operation can give that its own attribute need not repeat: 401
/// and 403 on every operation that needs an account, 400 on every operation that
/// takes query parameters (unknown, empty or malformed ones are refused) or path
/// parameters (one that does not decode), 400, 413, 415 and 422 on every
/// operation with a JSON body (malformed, too large, not JSON, invalid), and 404
/// on lists that take a cursor (`after` that names no record). Without them a
/// client generated from the document, or a conformance test
/// (bench/schemathesis.sh), meets undocumented statuses.
struct CommonResponses;

/// The validation rules (bounds, formats, enumerations, rules across fields):
/// [`crate::contract`].
struct Contract;

impl utoipa::Modify for Contract {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        // Edited in its JSON form; should the round trip ever fail, the
        // document stays as generated (the contract's tests would fail first).
        let Ok(mut v) = serde_json::to_value(&*doc) else {
            return;
        };
        crate::contract::apply(&mut v);
        if let Ok(d) = serde_json::from_value(v) {
            *doc = d;
        }
    }
}

/// Operations anyone may call (docs/security.md).
const PUBLIC: &[&str] = &[
    "/api/health",
    "/api/openapi.json",
    "/api/areas",
    "/api/areas/{code}",
];

impl utoipa::Modify for CommonResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = PUBLIC.contains(&path.as_str());
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let r = &mut op.responses.responses;
                if !public {
                    r.entry("401".into()).or_insert_with(|| {
                        error("No valid API token or session (`unauthenticated`)").into()
                    });
                    r.entry("403".into()).or_insert_with(|| {
                        error("The caller's role may not do this (`forbidden`)").into()
                    });
                }
                let query = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query));
                if query {
                    r.entry("400".into()).or_insert_with(|| {
                        error(
                            "A query parameter that is unknown, empty or does not parse (`invalid_query`)",
                        )
                        .into()
                    });
                }
                let path_params = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Path));
                if path_params {
                    r.entry("400".into()).or_insert_with(|| {
                        error("A path parameter that does not decode (`invalid_path`)").into()
                    });
                }
                // A JSON body that does not parse, or comes without its content
                // type, is refused before the handler (crate::extract).
                if op.request_body.is_some() {
                    r.entry("400".into()).or_insert_with(|| {
                        error("The body is not well-formed JSON (`malformed_json`)").into()
                    });
                    r.entry("413".into()).or_insert_with(|| {
                        error("The body is larger than the server accepts (`payload_too_large`)")
                            .into()
                    });
                    r.entry("415".into()).or_insert_with(|| {
                        error("The body is not `application/json` (`unsupported_media_type`)")
                            .into()
                    });
                    r.entry("422".into()).or_insert_with(|| {
                        error("A field is invalid, or a rule across fields is broken (`validation_failed`)")
                            .into()
                    });
                }
                let cursor = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.name == "after" && matches!(p.parameter_in, ParameterIn::Query));
                if cursor {
                    r.entry("404".into()).or_insert_with(|| {
                        error("`after` names no record of this list (`not_found`)").into()
                    });
                }
            }
        }
    }
}

/// The document (its version is the crate's).
pub fn document() -> utoipa::openapi::OpenApi {
    use utoipa::Modify as _;
    let mut doc = ApiDoc::openapi();
    RegisterPaths.modify(&mut doc);
    doc
}

/// This OpenAPI document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi",
    tag = "meta",
    responses((status = 200, description = "OpenAPI 3 document", body = Object))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    // Built once: the contract reads the embedded divisions and outline.
    static DOC: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(document).clone())
}

/// The schema of a declared field: its type with every bound, format and
/// enumeration (`base`, for query parameters), and as a property (`base`
/// with its labels, and `null` allowed when the field is optional).
pub(crate) fn field_schema(
    f: &laoxiao_model::register::Field,
) -> (serde_json::Value, serde_json::Value) {
    use laoxiao_model::register::FieldType;
    use serde_json::json;
    let base = match f.ty {
        // Only a required text must not be empty; an optional one may be.
        FieldType::Text | FieldType::Ref(_) if f.required => {
            json!({"type": "string", "minLength": 1, "maxLength": laoxiao_model::bounds::MAX_TEXT_CHARS})
        }
        FieldType::Text | FieldType::Ref(_) => {
            json!({"type": "string", "maxLength": laoxiao_model::bounds::MAX_TEXT_CHARS})
        }
        FieldType::Note => {
            json!({"type": "string", "maxLength": laoxiao_model::bounds::MAX_NOTE_CHARS})
        }
        FieldType::Int(b) => {
            json!({"type": "integer", "format": "int64", "minimum": b.min, "maximum": b.max})
        }
        FieldType::Money(b) => {
            json!({"type": "integer", "format": "int64", "minimum": b.min, "maximum": b.max, "description": "fen (分)"})
        }
        FieldType::Decimal { min, max } => {
            json!({"type": "number", "minimum": min, "maximum": max})
        }
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::Enum(v) => {
            json!({"type": "string", "enum": v.iter().map(|e| e.code).collect::<Vec<_>>()})
        }
        FieldType::EnumList(v) => {
            json!({"type": "array", "items": {"type": "string", "enum": v.iter().map(|e| e.code).collect::<Vec<_>>()}})
        }
        FieldType::Area => json!({"type": "string", "pattern": "^[0-9]{9}([0-9]{3})?$"}),
        FieldType::IdNumber => json!({"type": "string", "pattern": "^[0-9]{17}[0-9X]$"}),
        FieldType::CoordSystem => {
            json!({"type": "string", "enum": f.ty.values().iter().map(|e| e.code).collect::<Vec<_>>()})
        }
    };
    let mut s = base.clone();
    if let Some(o) = s.as_object_mut() {
        let mut d = format!("{} / {}", f.label_zh, f.en);
        if f.personal {
            d.push_str(" (personal: masked in lists)");
        }
        if let Some(prev) = o.get("description").and_then(|v| v.as_str()) {
            d = format!("{d}; {prev}");
        }
        if !f.default.is_empty() {
            d = format!("{d}; default `{}`", f.default);
        }
        o.insert("description".into(), d.into());
    }
    // Lists leave personal notes and codes out (`registers::masked`): null.
    let masked_to_null = f.personal && matches!(f.ty, FieldType::Note | FieldType::Enum(_));
    if !f.required || masked_to_null {
        s = json!({"oneOf": [s, {"type": "null"}]});
    }
    (base, s)
}

/// The query parameters of a register's declared filters: `key` for
/// equality, `key_from`/`key_to` for dates and numbers.
pub(crate) fn filter_params(reg: &laoxiao_model::register::Register) -> Vec<serde_json::Value> {
    use laoxiao_model::register::FieldType;
    use serde_json::json;
    let mut params = Vec::new();
    for f in reg.fields.iter().filter(|f| f.filter) {
        let (mut base, _) = field_schema(f);
        // An empty value is refused (crate::extract::QueryPairs).
        if base["type"] == "string"
            && base.get("format").is_none()
            && let Some(o) = base.as_object_mut()
        {
            o.entry("minLength").or_insert(json!(1));
        }
        match f.ty {
            FieldType::Date | FieldType::Int(_) | FieldType::Money(_) => {
                for end in ["from", "to"] {
                    params.push(json!({"name": format!("{}_{end}", f.key), "in": "query", "required": false, "description": format!("{} {end} (inclusive)", f.en), "schema": base}));
                }
            }
            _ => params
                .push(json!({"name": f.key, "in": "query", "required": false, "schema": base})),
        }
    }
    params
}

/// The schema of a record of a declared register, as answered (`optional`
/// empty) or as a body, where the fields in `optional` may be left out.
pub(crate) fn record_schema(
    reg: &laoxiao_model::register::Register,
    optional: &[&str],
) -> serde_json::Value {
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    for f in reg.fields.iter().filter(|f| !f.file_only()) {
        let (mut s, labelled) = field_schema(f);
        // The labels, and `null` for an optional field as the other bodies
        // of this document state it: in the type (and enumeration).
        if let Some(o) = s.as_object_mut() {
            let d = labelled
                .pointer("/oneOf/0/description")
                .or_else(|| labelled.get("description"))
                .cloned();
            // The facility API does not mask (its personal field, a phone,
            // is hidden in the audit trail only).
            if let Some(d) = d.as_ref().and_then(|d| d.as_str()) {
                o.insert(
                    "description".into(),
                    d.replace(" (personal: masked in lists)", " (personal)")
                        .into(),
                );
            }
            if !f.required {
                if let Some(t) = o.get("type").cloned() {
                    o.insert("type".into(), serde_json::json!([t, "null"]));
                }
                if let Some(e) = o.get_mut("enum").and_then(|e| e.as_array_mut()) {
                    e.push(serde_json::Value::Null);
                }
            }
        }
        if f.required && !optional.contains(&f.key) {
            required.push(f.key);
        }
        props.insert(f.key.into(), s);
    }
    serde_json::json!({"type": "object", "description": format!("{} ({}). Cross-field rules are checked on write and answered with 422.", reg.en, reg.zh), "properties": props, "required": required, "additionalProperties": false})
}

/// The paths and schemas of the declared registers, from their declarations:
/// each field's type, bounds, format and enumeration, and every status the
/// generic handlers answer (crate::registers).
fn register_parts() -> (serde_json::Value, serde_json::Value) {
    use serde_json::json;
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    let err = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}});
    for api in crate::registers::REGISTERS {
        let reg = api.register;
        let name: String = reg
            .key
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        let mut props = serde_json::Map::new();
        let mut required = Vec::new();
        let mut params = vec![
            json!({"name": "limit", "in": "query", "required": false, "description": "Page size (default 50).", "schema": {"type": "integer", "minimum": 1, "maximum": laoxiao_store::registry::MAX_LIMIT}}),
            json!({"name": "after", "in": "query", "required": false, "description": "The `next` cursor of the previous page (opaque).", "schema": {"type": "string", "pattern": "^[itbr]:[^\\u001f]*\\u001f.+$", "maxLength": 600}}),
            json!({"name": "order", "in": "query", "required": false, "schema": {"type": "string", "enum": ["asc", "desc"]}}),
        ];
        let sortable: Vec<&str> = reg
            .fields
            .iter()
            .filter(|f| crate::registers::sortable(f))
            .map(|f| f.key)
            .collect();
        params.push(json!({"name": "sort", "in": "query", "required": false, "description": "Sort field (then id).", "schema": {"type": "string", "enum": sortable}}));
        if reg.fields.iter().any(|f| f.search) {
            params.push(json!({"name": "q", "in": "query", "required": false, "description": "Prefix of a searchable field.", "schema": {"type": "string", "minLength": 1, "maxLength": 50}}));
        }
        if reg.scope != laoxiao_model::register::ScopeRule::City {
            params.push(json!({"name": "area", "in": "query", "required": false, "description": "Only records in this area (code); within the caller's scope.", "schema": {"type": "string", "pattern": "^[0-9]{6}([0-9]{3}([0-9]{3})?)?$"}}));
        }
        for f in reg.fields.iter().filter(|f| !f.file_only()) {
            let (_, s) = field_schema(f);
            if f.required {
                required.push(f.key);
            }
            props.insert(f.key.into(), s);
        }
        params.extend(filter_params(reg));
        let full = json!({"type": "object", "description": format!("{} ({}). Cross-field rules (dates in order, certificates, graduates at most enrolled …) are checked on write and answered with 422.", reg.en, reg.zh), "properties": props, "required": required, "additionalProperties": false});
        let mut input = full.clone();
        if let Some(o) = input.as_object_mut() {
            o.insert(
                "required".into(),
                json!(required.iter().filter(|k| **k != "id").collect::<Vec<_>>()),
            );
            o.insert("description".into(), json!(format!("A new {} record: leave `id` out to have one assigned (only city-level accounts choose ids).", reg.en)));
        }
        let page = json!({"type": "object", "required": ["items", "next", "total", "total_exact"], "properties": {
            "items": {"type": "array", "items": {"$ref": format!("#/components/schemas/{name}")}},
            "next": {"oneOf": [{"type": "string"}, {"type": "null"}]},
            "total": {"type": "integer", "minimum": 0, "maximum": laoxiao_store::registry::COUNT_CAP},
            "total_exact": {"type": "boolean", "description": "false: more than `total`"}}});
        schemas.insert(name.clone(), full);
        schemas.insert(format!("{name}Input"), input);
        schemas.insert(format!("{name}Page"), page);
        let tag = [reg.key];
        let body = |schema: &str| json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
        let ok = |schema: &str, d: &str| json!({"description": d, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}});
        let id_param = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 500}});
        paths.insert(reg.api_collection().into(), json!({
            "get": {"tags": tag, "operationId": format!("list_{}", reg.key), "summary": format!("{} ({}) in the caller's scope", reg.en, reg.zh), "parameters": params,
                    "responses": {"200": ok(&format!("{name}Page"), "A page"), "400": err("A query parameter that is unknown or does not parse (`invalid_query`)")}},
            "post": {"tags": tag, "operationId": format!("create_{}", reg.key), "requestBody": body(&format!("{name}Input")),
                     "responses": {"201": ok(&name, "Created"), "409": err("The id is taken (`conflict`)"), "422": err("A field or rule failed, or a reference is not on the register in the caller's area (`validation_failed`)")}},
        }));
        paths.insert(reg.api_item().into(), json!({
            "get": {"tags": tag, "operationId": format!("get_{}", reg.key), "parameters": [id_param], "responses": {"200": ok(&name, "The record (a full read of personal fields is audited)"), "404": err("Not found in the caller's scope (`not_found`)")}},
            "put": {"tags": tag, "operationId": format!("update_{}", reg.key), "parameters": [id_param], "requestBody": body(&format!("{name}Input")),
                    "responses": {"200": ok(&name, "Updated"), "404": err("Not found in the caller's scope (`not_found`)"), "422": err("A field or rule failed (`validation_failed`)")}},
            "delete": {"tags": tag, "operationId": format!("delete_{}", reg.key), "parameters": [id_param], "responses": {"204": {"description": "Deleted"}, "404": err("Not found in the caller's scope (`not_found`)")}},
        }));
    }
    (
        serde_json::Value::Object(paths),
        serde_json::Value::Object(schemas),
    )
}

/// Adds the declared registers to the document, then the common answers.
struct RegisterPaths;

impl utoipa::Modify for RegisterPaths {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let (paths, schemas) = register_parts();
        // The facility list's filters are the declaration's.
        if let Some(op) = doc
            .paths
            .paths
            .get_mut("/api/facilities")
            .and_then(|item| item.get.as_mut())
        {
            let params = op.parameters.get_or_insert_with(Vec::new);
            for p in filter_params(&laoxiao_model::FACILITIES) {
                match serde_json::from_value::<utoipa::openapi::path::Parameter>(p) {
                    Ok(p) => params.push(p),
                    Err(e) => tracing::error!("facility filter not representable: {e}"),
                }
            }
        }
        if let serde_json::Value::Object(paths) = paths {
            for (p, item) in paths {
                match serde_json::from_value::<utoipa::openapi::PathItem>(item) {
                    Ok(item) => {
                        doc.paths.paths.insert(p, item);
                    }
                    Err(e) => tracing::error!(path = %p, "register path not representable: {e}"),
                }
            }
        }
        let components = doc.components.get_or_insert_with(Default::default);
        if let serde_json::Value::Object(schemas) = schemas {
            for (n, s) in schemas {
                match serde_json::from_value::<
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                >(s)
                {
                    Ok(s) => {
                        components.schemas.insert(n, s);
                    }
                    Err(e) => {
                        tracing::error!(schema = %n, "register schema not representable: {e}")
                    }
                }
            }
        }
        if let Some(tags) = doc.tags.as_mut() {
            for api in crate::registers::REGISTERS {
                let r = api.register;
                let mut t = utoipa::openapi::tag::Tag::new(r.key);
                t.description = Some(format!("{}: {} (declared register)", r.zh, r.en));
                tags.push(t);
            }
        }
        CommonResponses.modify(doc);
    }
}

#[cfg(test)]
mod register_tests {
    use super::*;

    /// The names of the types deriving `ToSchema` in `src/`, with their file.
    /// utoipa keys components by name, so two types with one name collapse
    /// into one schema and one answer is checked against the other's.
    fn schema_names() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .expect("src dir")
                .map(|e| e.expect("entry").path())
                .collect();
            entries.sort();
            for p in entries {
                if p.is_dir() {
                    walk(&p, out);
                    continue;
                }
                if p.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).expect("source");
                let mut derives = false;
                let mut renamed = false;
                for line in text.lines().map(str::trim) {
                    if line.starts_with("#[derive(") && line.contains("ToSchema") {
                        derives = true;
                        renamed = false;
                    } else if derives && line.starts_with("#[schema(as") {
                        renamed = true;
                    } else if derives
                        && let Some(rest) = line
                            .strip_prefix("pub struct ")
                            .or_else(|| line.strip_prefix("pub enum "))
                            .or_else(|| line.strip_prefix("struct "))
                            .or_else(|| line.strip_prefix("enum "))
                    {
                        let name: String = rest
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if !renamed {
                            out.push((name, p.display().to_string()));
                        }
                        derives = false;
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut out,
        );
        out
    }

    #[test]
    fn no_two_schema_types_share_a_name() {
        let names = schema_names();
        assert!(
            names.len() > 100,
            "the scan found the types: {}",
            names.len()
        );
        let mut seen: std::collections::BTreeMap<&str, &str> = Default::default();
        let mut twice = Vec::new();
        for (n, f) in &names {
            if let Some(other) = seen.insert(n, f) {
                twice.push(format!("{n}: {other} and {f}"));
            }
        }
        assert!(twice.is_empty(), "schema names used twice: {twice:#?}");
    }

    /// Every declared register is in the document with its paths, schemas and
    /// the bounds of its fields.
    #[test]
    fn every_register_is_documented() {
        let (paths, schemas) = register_parts();
        for (p, item) in paths.as_object().expect("paths") {
            if let Err(e) = serde_json::from_value::<utoipa::openapi::PathItem>(item.clone()) {
                panic!("{p}: {e}");
            }
        }
        for (n, s) in schemas.as_object().expect("schemas") {
            if let Err(e) = serde_json::from_value::<
                utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
            >(s.clone())
            {
                panic!("{n}: {e}");
            }
        }
        let doc = serde_json::to_value(document()).expect("json");
        for api in crate::registers::REGISTERS {
            let r = api.register;
            for p in [r.api_collection(), r.api_item()] {
                assert!(doc["paths"][p].is_object(), "{p} missing");
            }
            let list = &doc["paths"][r.api_collection()]["get"];
            assert!(list["responses"]["401"].is_object(), "{}: 401", r.key);
        }
        let cohort = &doc["components"]["schemas"]["StudentCohorts"]["properties"];
        assert_eq!(cohort["enrolled"]["maximum"], 100_000);
        assert_eq!(cohort["intake_year"]["minimum"], 1950);
        let staff = &doc["components"]["schemas"]["Staff"];
        assert_eq!(staff["additionalProperties"], false);
        assert!(
            staff["properties"]["role"]["enum"]
                .as_array()
                .is_some_and(|v| v.len() == 6)
        );
    }
}
