//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]` attributes
//! and the DTOs' `ToSchema` derives: `GET /api/openapi.json`.

use axum::Json;
use utoipa::OpenApi;

use crate::schema::*;
use crate::{areas, audit, error, facilities, health, people, transfers};

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
        transfers::list,
        transfers::create,
        transfers::get,
        transfers::approve,
        transfers::refuse,
        transfers::withdraw,
        audit::me,
        audit::search,
        audit::person_views,
    ),
    components(schemas(
        error::ErrorBody,
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
    )),
    modifiers(&CommonResponses, &Contract),
    tags(
        (name = "health", description = "Service status"),
        (name = "meta", description = "This document"),
        (name = "areas", description = "行政区划: city, counties, towns, villages (read-only)"),
        (name = "facilities", description = "设施: care homes, home-care centres and stations, childcare institutions, …"),
        (name = "people", description = "老年人 and 婴幼儿 registers; ID numbers masked by default"),
        (name = "transfers", description = "迁入 requests: move a person's record from the area that holds it to yours"),
        (name = "accounts", description = "The caller and the audit trail"),
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
    ApiDoc::openapi()
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
