//! Childcare institution filing (托育机构备案): the institution drafts, uploads
//! the documents and submits; the county reviews. The workflow and its rules
//! are the store's (`laoxiao_store::filing`) and the rules crate's
//! (`laoxiao_rules::filing`); uploads are checked and kept by
//! `laoxiao_store::uploads` and only ever served as attachments.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_rules::filing::{FilingForm, FilingRules, Required};
use laoxiao_store::StoreError;
use laoxiao_store::filing::{
    self, Decision, Detail, Document, Filing, FilingKind, ListQuery, NewFiling, Status,
};
use laoxiao_store::uploads::UploadStore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::admission::today;
use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

/// The filing form (备案书) as sent and shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormBody {
    /// 机构负责人.
    #[schema(max_length = 200, example = "王园长")]
    #[serde(default)]
    pub director_name: String,
    /// 联系电话.
    #[schema(max_length = 20, example = "0573-82000000")]
    #[serde(default)]
    pub contact_phone: String,
    /// 托位数: the places filed for (1–2000); on acceptance they become the
    /// facility's approved slots (核定托位数).
    #[schema(minimum = 0, maximum = 2000)]
    #[serde(default)]
    pub places: i64,
    /// Care types offered: `full_day`, `half_day`, `hourly`, `temporary`.
    #[schema(max_items = 4, example = json!(["full_day"]))]
    #[serde(default)]
    pub care_types: Vec<String>,
    /// Meals are served (a food licence must then be uploaded).
    #[serde(default)]
    pub serves_meals: bool,
    /// The site is owned (no lease needed).
    #[serde(default)]
    pub site_owned: bool,
    /// The lease's end: at least 3 years after submission unless owned
    /// (设置标准 第十一条).
    #[schema(value_type = Option<String>, format = Date)]
    #[serde(default)]
    pub lease_until: Option<NaiveDate>,
}

impl From<FormBody> for FilingForm {
    fn from(b: FormBody) -> Self {
        FilingForm {
            director_name: b.director_name,
            contact_phone: b.contact_phone,
            places: b.places,
            care_types: b.care_types,
            serves_meals: b.serves_meals,
            site_owned: b.site_owned,
            lease_until: b.lease_until,
        }
    }
}

impl From<FilingForm> for FormBody {
    fn from(f: FilingForm) -> Self {
        FormBody {
            director_name: f.director_name,
            contact_phone: f.contact_phone,
            places: f.places,
            care_types: f.care_types,
            serves_meals: f.serves_meals,
            site_owned: f.site_owned,
            lease_until: f.lease_until,
        }
    }
}

/// A filing as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FilingView {
    pub id: String,
    pub facility_id: String,
    pub facility_name: String,
    pub area_code: String,
    /// `initial` (备案), `change` (变更备案) or `cancellation` (注销备案).
    pub kind: String,
    pub kind_label: String,
    /// `draft`, `submitted`, `corrections_requested`, `accepted`, `rejected`, `withdrawn`.
    pub status: String,
    pub status_label: String,
    pub form: FormBody,
    pub created_by: String,
    pub created_at: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub submitted_date: Option<NaiveDate>,
    /// Times submitted.
    pub rounds: i64,
    /// The county decides by this day (备案办法 第九条: 5 working days).
    #[schema(value_type = Option<String>, format = Date)]
    pub review_deadline: Option<NaiveDate>,
    /// The institution answers a request for corrections by this day.
    #[schema(value_type = Option<String>, format = Date)]
    pub correction_deadline: Option<NaiveDate>,
    /// A deadline above has passed.
    pub overdue: bool,
    pub reviewed_by: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub reviewed_date: Option<NaiveDate>,
    pub review_note: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub closed_date: Option<NaiveDate>,
}

impl From<Filing> for FilingView {
    fn from(f: Filing) -> Self {
        FilingView {
            id: f.id,
            facility_id: f.facility_id,
            facility_name: f.facility_name,
            area_code: f.area_code,
            kind: f.kind.code().into(),
            kind_label: f.kind.zh().into(),
            status: f.status.code().into(),
            status_label: f.status.zh().into(),
            form: f.form.into(),
            created_by: f.created_by,
            created_at: f.created_at,
            submitted_date: f.submitted_date,
            rounds: f.rounds,
            review_deadline: f.review_deadline,
            correction_deadline: f.correction_deadline,
            overdue: f.overdue,
            reviewed_by: f.reviewed_by,
            reviewed_date: f.reviewed_date,
            review_note: f.review_note,
            closed_date: f.closed_date,
        }
    }
}

/// An uploaded document (its bytes at `download`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DocumentView {
    pub id: String,
    pub doc_type: String,
    pub file_name: String,
    /// Judged from the file's content: `application/pdf`, `image/jpeg` or `image/png`.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
    /// Where to download it (always as an attachment).
    pub download: String,
}

fn doc_view(d: Document) -> DocumentView {
    DocumentView {
        download: format!(
            "/api/childcare/filings/{}/documents/{}",
            crate::encode_segment(&d.filing_id),
            crate::encode_segment(&d.id)
        ),
        id: d.id,
        doc_type: d.doc_type,
        file_name: d.file_name,
        content_type: d.content_type,
        size: d.size,
        sha256: d.sha256,
        uploaded_by: d.uploaded_by,
        uploaded_at: d.uploaded_at,
    }
}

/// A document type of the filing (备案材料) and when it is required.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DocumentTypeView {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// `always`, `if_meals` or `never`.
    pub required: String,
    pub clause: String,
}

/// The filing rules in force: deadlines and documents, with their clauses.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RulesView {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    pub clause: String,
    pub review_working_days: u32,
    pub review_clause: String,
    pub notice_working_days: u32,
    pub notice_clause: String,
    pub correction_working_days: u32,
    pub correction_clause: String,
    pub min_lease_years: u32,
    pub lease_clause: String,
    pub documents: Vec<DocumentTypeView>,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// The content types accepted (judged from the content).
    pub accepted_types: Vec<String>,
}

fn rules_view(r: FilingRules, max: u64) -> RulesView {
    RulesView {
        from: r.from,
        clause: r.clause,
        review_working_days: r.review_working_days,
        review_clause: r.review_clause,
        notice_working_days: r.notice_working_days,
        notice_clause: r.notice_clause,
        correction_working_days: r.correction_working_days,
        correction_clause: r.correction_clause,
        min_lease_years: r.min_lease_years,
        lease_clause: r.lease_clause,
        documents: r
            .documents
            .into_iter()
            .map(|d| DocumentTypeView {
                code: d.code,
                zh: d.zh,
                en: d.en,
                required: match d.required {
                    Required::Always => "always",
                    Required::IfMeals => "if_meals",
                    Required::Never => "never",
                }
                .into(),
                clause: d.clause,
            })
            .collect(),
        max_upload_bytes: max,
        accepted_types: vec![
            "application/pdf".into(),
            "image/jpeg".into(),
            "image/png".into(),
        ],
    }
}

/// A filing with its documents, what is missing and what you may do.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FilingDetailView {
    pub filing: FilingView,
    pub documents: Vec<DocumentView>,
    /// Codes of required document types not yet uploaded.
    pub missing: Vec<String>,
    /// The form's breaches (field, reason) that would stop a submission.
    pub form_errors: Vec<crate::error::ErrorDetail>,
    pub rules: RulesView,
    /// You may edit, upload and submit.
    pub can_file: bool,
    /// You may review it.
    pub can_review: bool,
}

pub(crate) fn detail_view(d: Detail, max: u64) -> FilingDetailView {
    FilingDetailView {
        filing: d.filing.into(),
        documents: d.documents.into_iter().map(doc_view).collect(),
        missing: d.missing,
        form_errors: d
            .form_errors
            .into_iter()
            .map(|(field, reason)| crate::error::ErrorDetail { field, reason })
            .collect(),
        rules: rules_view(d.rules, max),
        can_file: d.can_file,
        can_review: d.can_review,
    }
}

/// Filings in your area (an operator: its own).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FilingList {
    pub items: Vec<FilingView>,
}

/// A new filing (a draft).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// The childcare institution (a facility of kind `childcare_institution`).
    #[schema(required = true, value_type = String, min_length = 1, max_length = 64)]
    pub facility_id: Option<String>,
    /// `initial` (default), `change` or `cancellation`.
    #[schema(value_type = Option<String>, example = "initial")]
    pub kind: Option<String>,
    pub form: Option<FormBody>,
}

/// The county's decision.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilingReviewBody {
    /// `accept`, `request_corrections` or `reject`.
    #[schema(required = true, value_type = String, example = "accept")]
    pub decision: Option<String>,
    /// Required to ask for corrections or to reject; at most 1000 characters.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

query_params! {
    /// Filters of `GET /api/childcare/filings`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct FilingParams {
        /// Only this status.
        #[param(example = "submitted", pattern = "^(draft|submitted|corrections_requested|accepted|rejected|withdrawn)$")]
        pub status: Option<String>,
        /// Only this institution's filings.
        #[param(min_length = 1, max_length = 64)]
        pub facility_id: Option<String>,
        /// Only filings past their review or correction deadline.
        pub overdue: Option<bool>,
    }
}

query_params! {
    /// The document's type and name, with the bytes as the request body.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct UploadParams {
        /// A document type code of the rules (`GET /api/childcare/filing-rules`).
        #[param(required = true, example = "site_proof", min_length = 1, max_length = 40)]
        pub doc_type: Option<String>,
        /// The file's name as the uploader knows it (cleaned; the extension follows the content).
        #[param(max_length = 200, example = "lease.pdf")]
        pub file_name: Option<String>,
    }
}

fn bad(field: &str, why: impl Into<String>) -> ApiError {
    ApiError::Store(StoreError::Invalid(vec![FieldError::new(field, why)]))
}

pub(crate) fn upload_store(state: &AppState) -> Result<UploadStore, ApiError> {
    Ok(UploadStore::new(
        state.config.uploads_dir.clone(),
        state.config.upload_max_bytes,
    )?)
}

/// Runs one store step for the caller and answers the filing's detail.
async fn answer<F>(state: &AppState, auth: Auth, f: F) -> Result<Json<FilingDetailView>, ApiError>
where
    F: FnOnce(
            &mut laoxiao_store::Conn,
            &laoxiao_store::Reference,
            &laoxiao_store::Scope,
        ) -> Result<Detail, StoreError>
        + Send
        + 'static,
{
    let scope = auth.scope()?;
    let max = state.config.upload_max_bytes;
    let d = blocking(state, move |c, r| Ok(f(c, r, &scope)?)).await?;
    Ok(Json(detail_view(d, max)))
}

/// Filings in your area, open ones first and those past a deadline on top.
#[utoipa::path(
    get,
    path = "/api/childcare/filings",
    operation_id = "list_childcare_filings",
    tag = "childcare",
    params(FilingParams),
    responses(
        (status = 200, description = "The filings", body = FilingList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<FilingParams>,
) -> Result<Json<FilingList>, ApiError> {
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::InvalidQuery(vec![FieldError::new(
                "status",
                format!("{s:?}: one of {}", Status::ALL.map(|x| x.code()).join(", ")),
            )])
        })?),
    };
    if p.facility_id
        .as_ref()
        .is_some_and(|f| f.is_empty() || f.chars().count() > 64)
    {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "facility_id",
            "a facility id of 1 to 64 characters",
        )]));
    }
    let q = ListQuery {
        status,
        facility_id: p.facility_id,
        overdue: p.overdue.unwrap_or(false),
    };
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(filing::list(c, &scope, &q, today())?)
    })
    .await?;
    Ok(Json(FilingList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Drafts a filing of your childcare institution.
#[utoipa::path(
    post,
    path = "/api/childcare/filings",
    operation_id = "create_childcare_filing",
    tag = "childcare",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The draft", body = FilingDetailView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 409, description = "The institution has an open filing", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Not a childcare institution in your area, or the wrong kind for its status", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<CreateBody>,
) -> Result<Response, ApiError> {
    let facility_id = b.facility_id.unwrap_or_default();
    if facility_id.trim().is_empty() || facility_id.len() > 64 {
        return Err(bad("facility_id", "give the institution's facility id"));
    }
    let kind = match b.kind.as_deref() {
        None => FilingKind::Initial,
        Some(k) => FilingKind::parse(k)
            .ok_or_else(|| bad("kind", "one of initial, change, cancellation"))?,
    };
    let new = NewFiling {
        facility_id,
        kind,
        form: b.form.unwrap_or_default().into(),
    };
    let scope = auth.scope()?;
    let max = state.config.upload_max_bytes;
    let d = blocking(&state, move |c, _| {
        Ok(filing::create(c, &scope, &new, today())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(detail_view(d, max))).into_response())
}

/// One filing with its documents and what is still missing.
#[utoipa::path(
    get,
    path = "/api/childcare/filings/{id}",
    operation_id = "get_childcare_filing",
    tag = "childcare",
    params(("id" = String, Path, description = "The filing's id")),
    responses(
        (status = 200, description = "The filing", body = FilingDetailView),
        (status = 404, description = "No such filing in your area", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FilingDetailView>, ApiError> {
    answer(&state, auth, move |c, _, s| filing::get(c, s, &id, today())).await
}

/// Replaces the form of a draft or of a filing waiting for corrections.
#[utoipa::path(
    put,
    path = "/api/childcare/filings/{id}/form",
    operation_id = "update_childcare_filing_form",
    tag = "childcare",
    params(("id" = String, Path, description = "The filing's id")),
    request_body = FormBody,
    responses(
        (status = 200, description = "The filing, with the form's breaches listed", body = FilingDetailView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 404, description = "No such filing in your area", body = ErrorBody),
        (status = 409, description = "Not editable now", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
    )
)]
pub async fn update_form(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<FormBody>,
) -> Result<Json<FilingDetailView>, ApiError> {
    let form: FilingForm = b.into();
    answer(&state, auth, move |c, _, s| {
        filing::update_form(c, s, &id, &form, today())
    })
    .await
}

/// Checks, keeps and records one upload: shared by the API and the console.
pub(crate) async fn store_upload(
    state: &AppState,
    scope: laoxiao_store::Scope,
    id: String,
    doc_type: String,
    file_name: String,
    declared: Option<String>,
    bytes: Vec<u8>,
) -> Result<Document, ApiError> {
    let uploads = upload_store(state)?;
    blocking(state, move |c, _| {
        // The filing must be editable by the caller before anything is written.
        let d = filing::get(c, &scope, &id, today())?;
        if !d.can_file {
            return Err(ApiError::Store(StoreError::Conflict(
                "the filing is not open for uploads by you now".into(),
            )));
        }
        let checked = uploads.put(&bytes, declared.as_deref(), &file_name)?;
        Ok(filing::add_document(
            c,
            &scope,
            &id,
            &doc_type,
            &checked,
            today(),
        )?)
    })
    .await
}

/// Uploads a document: the file's bytes as the body (PDF, JPEG or PNG, judged
/// from the content; at most the configured size).
#[utoipa::path(
    post,
    path = "/api/childcare/filings/{id}/documents",
    operation_id = "upload_childcare_filing_document",
    tag = "childcare",
    params(("id" = String, Path, description = "The filing's id"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file (PDF, JPEG or PNG)"),
    responses(
        (status = 201, description = "The document", body = DocumentView),
        (status = 404, description = "No such filing in your area", body = ErrorBody),
        (status = 409, description = "Not editable now", body = ErrorBody),
        (status = 413, description = "Over the upload limit", body = ErrorBody),
        (status = 415, description = "Not a PDF, JPEG or PNG file", body = ErrorBody),
        (status = 422, description = "Unknown document type", body = ErrorBody),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let max = state.config.upload_max_bytes;
    let doc_type = p.doc_type.unwrap_or_default();
    if doc_type.is_empty() || doc_type.len() > 40 {
        return Err(bad(
            "doc_type",
            "give the document type (GET /api/childcare/filing-rules lists them)",
        ));
    }
    let file_name = p.file_name.unwrap_or_default();
    if file_name.chars().count() > 200 {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "file_name",
            "at most 200 characters",
        )]));
    }
    let too_large = || ApiError::Store(StoreError::UploadTooLarge { limit: max });
    // A declared length over the limit is refused before reading anything.
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > max)
    {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, usize::try_from(max).unwrap_or(usize::MAX))
        .await
        .map_err(|_| too_large())?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let scope = auth.scope()?;
    let d = store_upload(
        &state,
        scope,
        id,
        doc_type,
        file_name,
        declared,
        bytes.to_vec(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(doc_view(d))).into_response())
}

/// The download of a document: always an attachment, never rendered by the
/// browser (its type is the sniffed one, `nosniff`, a sandboxing CSP).
pub(crate) fn attachment(d: &Document, bytes: Vec<u8>) -> Response {
    let ascii: String = d
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        crate::encode_segment(&d.file_name)
    );
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&d.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// Downloads a document (as an attachment).
#[utoipa::path(
    get,
    path = "/api/childcare/filings/{id}/documents/{doc}",
    operation_id = "download_childcare_filing_document",
    tag = "childcare",
    params(
        ("id" = String, Path, description = "The filing's id"),
        ("doc" = String, Path, description = "The document's id"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such document in your area", body = ErrorBody),
    )
)]
pub async fn download(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, doc)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let uploads = upload_store(&state)?;
    let (d, bytes) = blocking(&state, move |c, _| {
        let d = filing::document(c, &scope, &id, &doc, today())?;
        let bytes = uploads.get(&d.sha256)?;
        Ok((d, bytes))
    })
    .await?;
    Ok(attachment(&d, bytes))
}

/// Removes a document from a draft or a filing waiting for corrections.
#[utoipa::path(
    delete,
    path = "/api/childcare/filings/{id}/documents/{doc}",
    operation_id = "remove_childcare_filing_document",
    tag = "childcare",
    params(
        ("id" = String, Path, description = "The filing's id"),
        ("doc" = String, Path, description = "The document's id"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such document in your area", body = ErrorBody),
        (status = 409, description = "Not editable now", body = ErrorBody),
    )
)]
pub async fn remove_document(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, doc)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let scope = auth.scope()?;
    blocking(&state, move |c, _| {
        Ok(filing::remove_document(c, &scope, &id, &doc, today())?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Submits the filing for review (the form must pass and every required
/// document be uploaded; each gap is named with its clause).
#[utoipa::path(
    post,
    path = "/api/childcare/filings/{id}/submit",
    operation_id = "submit_childcare_filing",
    tag = "childcare",
    params(("id" = String, Path, description = "The filing's id")),
    responses(
        (status = 200, description = "Submitted, with its review deadline", body = FilingDetailView),
        (status = 404, description = "No such filing in your area", body = ErrorBody),
        (status = 409, description = "Not a draft or waiting for corrections", body = ErrorBody),
        (status = 422, description = "The form breaks a rule or a document is missing", body = ErrorBody),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FilingDetailView>, ApiError> {
    answer(&state, auth, move |c, r, s| {
        filing::submit(c, r, s, &id, today())
    })
    .await
}

/// Withdraws an open filing.
#[utoipa::path(
    post,
    path = "/api/childcare/filings/{id}/withdraw",
    operation_id = "withdraw_childcare_filing",
    tag = "childcare",
    params(("id" = String, Path, description = "The filing's id")),
    responses(
        (status = 200, description = "Withdrawn", body = FilingDetailView),
        (status = 404, description = "No such filing in your area", body = ErrorBody),
        (status = 409, description = "Already decided", body = ErrorBody),
    )
)]
pub async fn withdraw(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FilingDetailView>, ApiError> {
    answer(&state, auth, move |c, r, s| {
        filing::withdraw(c, r, s, &id, today())
    })
    .await
}

/// The county's decision on a submitted filing. Accepting writes the
/// institution's filing status, date and approved places.
#[utoipa::path(
    post,
    path = "/api/childcare/filings/{id}/review",
    operation_id = "review_childcare_filing",
    tag = "childcare",
    params(("id" = String, Path, description = "The filing's id")),
    request_body = FilingReviewBody,
    responses(
        (status = 200, description = "Decided", body = FilingDetailView),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 403, description = "The drafter, or an institution, cannot review", body = ErrorBody),
        (status = 404, description = "No such filing in your area", body = ErrorBody),
        (status = 409, description = "Not waiting for review (another reviewer acted first)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Unknown decision or missing note", body = ErrorBody),
    )
)]
pub async fn review(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<FilingReviewBody>,
) -> Result<Json<FilingDetailView>, ApiError> {
    let decision = match b.decision.as_deref() {
        Some("accept") => Decision::Accept,
        Some("request_corrections") => Decision::RequestCorrections,
        Some("reject") => Decision::Reject,
        _ => {
            return Err(bad(
                "decision",
                "one of accept, request_corrections, reject",
            ));
        }
    };
    answer(&state, auth, move |c, r, s| {
        filing::review(c, r, s, &id, decision, b.note.as_deref(), today())
    })
    .await
}

/// The filing rules in force today: deadlines and the documents to upload.
#[utoipa::path(
    get,
    path = "/api/childcare/filing-rules",
    operation_id = "childcare_filing_rules",
    tag = "childcare",
    responses((status = 200, description = "The rules", body = RulesView))
)]
pub async fn rules(State(state): State<AppState>) -> Result<Json<RulesView>, ApiError> {
    let book = laoxiao_rules::filing::FilingBook::embedded()
        .map_err(|e| ApiError::Store(StoreError::Reference(e.to_string())))?;
    Ok(Json(rules_view(
        book.on(today()).clone(),
        state.config.upload_max_bytes,
    )))
}
