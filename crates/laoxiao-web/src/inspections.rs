//! Random inspections (双随机、一公开) over HTTP: county and city staff plan,
//! publish the commitment, draw, publish results and order re-inspections;
//! the drawn inspectors record; the facility's operator reads its results
//! and reports its rectification done. The rules are the store's
//! (`laoxiao_store::inspections`) and the draw's
//! (`laoxiao_rules::inspections::draw`); `docs/inspections.md`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use laoxiao_model::FieldError;
use laoxiao_rules::inspections::checklists;
use laoxiao_rules::inspections::draw::{Assignment, DrawDocument, Entry, Pair, TargetKind};
use laoxiao_store::StoreError;
use laoxiao_store::inspections::{
    self as ins, Inspection, InspectionRow, NewPlan, Photo, Plan, PlanDetail, RecordInput,
    Rectification, Status,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::filing::upload_store;
use crate::{AppState, blocking};

fn bad(field: &str, why: impl Into<String>) -> ApiError {
    ApiError::Store(StoreError::Invalid(vec![FieldError::new(field, why)]))
}

// ------------------------------------------------------------ views

/// An inspection plan (检查计划).
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionPlanView {
    pub id: String,
    pub title: String,
    pub area_code: String,
    pub area_name: String,
    pub period: String,
    pub kinds: Vec<String>,
    pub ratio_percent: i64,
    pub inspectors_per_inspection: i64,
    pub include_flagged: bool,
    pub created_by: String,
    pub created_at: String,
    /// `draft`, `committed` (the commitment is public), `drawn`.
    pub status: String,
}

impl From<Plan> for InspectionPlanView {
    fn from(p: Plan) -> Self {
        InspectionPlanView {
            id: p.id,
            title: p.title,
            area_code: p.area_code,
            area_name: p.area_name,
            period: p.period,
            kinds: p.kinds,
            ratio_percent: p.ratio_percent,
            inspectors_per_inspection: p.inspectors_per_inspection,
            include_flagged: p.include_flagged,
            created_by: p.created_by,
            created_at: p.created_at,
            status: p.status,
        }
    }
}

/// Plans.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionPlanList {
    pub items: Vec<InspectionPlanView>,
}

/// A roster entry (a facility or an inspector) with its town.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawEntryView {
    pub id: String,
    pub town: String,
}

impl From<Entry> for DrawEntryView {
    fn from(e: Entry) -> Self {
        DrawEntryView {
            id: e.id,
            town: e.town,
        }
    }
}

/// Last time's pairing (recusal).
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawPairView {
    pub facility_id: String,
    pub inspector_id: String,
}

/// The frozen rosters (一单两库) and parameters.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawRosterView {
    pub plan_id: String,
    pub facilities_to_draw: u32,
    pub inspectors_per_inspection: u32,
    pub facilities: Vec<DrawEntryView>,
    pub unplanned: Vec<DrawEntryView>,
    pub inspectors: Vec<DrawEntryView>,
    pub previous: Vec<DrawPairView>,
}

/// One target and its inspectors.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawAssignmentView {
    pub facility_id: String,
    /// `random` 随机抽取, `unplanned` 不定向.
    pub kind: String,
    pub inspectors: Vec<String>,
}

impl From<Assignment> for DrawAssignmentView {
    fn from(a: Assignment) -> Self {
        DrawAssignmentView {
            facility_id: a.facility_id,
            kind: match a.kind {
                TargetKind::Random => "random",
                TargetKind::Unplanned => "unplanned",
            }
            .into(),
            inspectors: a.inspectors,
        }
    }
}

/// Who replaced a draw, when and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawSupersessionView {
    pub by: String,
    pub at: String,
    pub reason: String,
    pub next_draw_id: Option<String>,
}

/// A draw document (抽查结果公示): `laoxiao supervise verify-draw` re-runs it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawDocumentView {
    /// `laoxiao-draw/1`.
    pub format: String,
    pub draw_id: String,
    pub title: String,
    pub area_code: String,
    pub period: String,
    pub ratio_percent: u32,
    pub roster: DrawRosterView,
    /// Hex SHA-256 of the roster's canonical text.
    pub roster_digest: String,
    /// Hex SHA-256 of the seed, published before the draw.
    pub commit: String,
    pub committed_at: String,
    /// Revealed at the draw.
    pub seed: Option<String>,
    pub drawn_at: Option<String>,
    pub result: Vec<DrawAssignmentView>,
    /// `committed`, `drawn`, `superseded`.
    pub status: String,
    pub superseded: Option<DrawSupersessionView>,
}

impl From<DrawDocument> for DrawDocumentView {
    fn from(d: DrawDocument) -> Self {
        let entries = |v: Vec<Entry>| v.into_iter().map(Into::into).collect();
        DrawDocumentView {
            format: d.format,
            draw_id: d.draw_id,
            title: d.title,
            area_code: d.area_code,
            period: d.period,
            ratio_percent: d.ratio_percent,
            roster: DrawRosterView {
                plan_id: d.roster.plan_id,
                facilities_to_draw: d.roster.facilities_to_draw,
                inspectors_per_inspection: d.roster.inspectors_per_inspection,
                facilities: entries(d.roster.facilities),
                unplanned: entries(d.roster.unplanned),
                inspectors: entries(d.roster.inspectors),
                previous: d
                    .roster
                    .previous
                    .into_iter()
                    .map(|p: Pair| DrawPairView {
                        facility_id: p.facility_id,
                        inspector_id: p.inspector_id,
                    })
                    .collect(),
            },
            roster_digest: d.roster_digest,
            commit: d.commit,
            committed_at: d.committed_at,
            seed: d.seed,
            drawn_at: d.drawn_at,
            result: d.result.into_iter().map(Into::into).collect(),
            status: d.status,
            superseded: d.superseded.map(|s| DrawSupersessionView {
                by: s.by,
                at: s.at,
                reason: s.reason,
                next_draw_id: s.next_draw_id,
            }),
        }
    }
}

/// An inspection as a list row.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionRowView {
    pub id: String,
    pub plan_id: String,
    pub facility_id: String,
    pub facility_name: String,
    pub facility_kind: String,
    /// `random` 随机抽查, `unplanned` 不定向检查, `reinspection` 整改复查.
    pub kind: String,
    pub kind_label: String,
    /// `assigned`, `recorded`, `published`, `cancelled`.
    pub status: String,
    pub status_label: String,
    /// `pass` 合格, `basic_pass` 基本合格, `fail` 不合格.
    pub verdict: Option<String>,
    pub verdict_label: Option<String>,
    pub inspected_on: Option<String>,
    pub published_at: Option<String>,
    pub inspectors: Vec<String>,
}

impl From<InspectionRow> for InspectionRowView {
    fn from(r: InspectionRow) -> Self {
        InspectionRowView {
            id: r.id,
            plan_id: r.plan_id,
            facility_id: r.facility_id,
            facility_name: r.facility_name,
            facility_kind: r.facility_kind,
            kind: r.kind.code().into(),
            kind_label: r.kind.label_zh().into(),
            status: r.status.code().into(),
            status_label: r.status.label_zh().into(),
            verdict: r.verdict.map(|v| v.code().into()),
            verdict_label: r.verdict.map(|v| v.label_zh().into()),
            inspected_on: r.inspected_on,
            published_at: r.published_at,
            inspectors: r.inspectors,
        }
    }
}

/// Inspections.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionList {
    pub items: Vec<InspectionRowView>,
}

/// A plan with its draws (superseded ones too) and inspections.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionPlanDetailView {
    pub plan: InspectionPlanView,
    pub draws: Vec<DrawDocumentView>,
    pub inspections: Vec<InspectionRowView>,
}

impl From<PlanDetail> for InspectionPlanDetailView {
    fn from(d: PlanDetail) -> Self {
        InspectionPlanDetailView {
            plan: d.plan.into(),
            draws: d.draws.into_iter().map(Into::into).collect(),
            inspections: d.inspections.into_iter().map(Into::into).collect(),
        }
    }
}

/// One checklist item's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionItemView {
    pub code: String,
    pub zh: String,
    pub critical: bool,
    /// `pass` 符合, `fail` 不符合, `not_applicable` 不适用.
    pub outcome: String,
    pub note: Option<String>,
}

/// An evidence photo.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionPhotoView {
    pub id: String,
    pub item_code: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

impl From<Photo> for InspectionPhotoView {
    fn from(p: Photo) -> Self {
        InspectionPhotoView {
            id: p.id,
            item_code: p.item_code,
            content_type: p.content_type,
            size: p.size,
            file_name: p.file_name,
            uploaded_by: p.uploaded_by,
            uploaded_at: p.uploaded_at,
        }
    }
}

/// A rectification order (整改通知).
#[derive(Debug, Serialize, ToSchema)]
pub struct RectificationView {
    pub id: String,
    pub inspection_id: String,
    pub facility_id: String,
    pub facility_name: String,
    pub items: Vec<String>,
    /// The deadline (a date).
    pub due: String,
    /// `open` 整改中, `reported` 已报整改, `reinspecting` 复查中, `closed`
    /// 已整改, `failed` 整改不到位.
    pub status: String,
    pub status_label: String,
    pub issued_at: String,
    pub reported_at: Option<String>,
    pub report_note: Option<String>,
    pub reinspection_id: Option<String>,
    pub closed_at: Option<String>,
    /// Open past its deadline.
    pub overdue: bool,
    pub can_report: bool,
    pub can_reinspect: bool,
}

impl From<Rectification> for RectificationView {
    fn from(r: Rectification) -> Self {
        RectificationView {
            id: r.id,
            inspection_id: r.inspection_id,
            facility_id: r.facility_id,
            facility_name: r.facility_name,
            items: r.items,
            due: r.due,
            status: r.status.code().into(),
            status_label: r.status.label_zh().into(),
            issued_at: r.issued_at,
            reported_at: r.reported_at,
            report_note: r.report_note,
            reinspection_id: r.reinspection_id,
            closed_at: r.closed_at,
            overdue: r.overdue,
            can_report: r.can_report,
            can_reinspect: r.can_reinspect,
        }
    }
}

/// Rectification orders.
#[derive(Debug, Serialize, ToSchema)]
pub struct RectificationList {
    pub items: Vec<RectificationView>,
}

/// An inspection in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionView {
    #[serde(flatten)]
    pub row: InspectionRowView,
    pub draw_id: Option<String>,
    pub items: Vec<InspectionItemView>,
    /// The checklist's items are drafts, not yet the county's official list.
    pub checklist_draft: bool,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
    pub recorded_at: Option<String>,
    pub photos: Vec<InspectionPhotoView>,
    pub rectification: Option<RectificationView>,
    /// For a re-inspection: the order it checks.
    pub rectification_checked: Option<String>,
    pub cancel_reason: Option<String>,
    pub can_record: bool,
    pub can_publish: bool,
}

impl From<Inspection> for InspectionView {
    fn from(i: Inspection) -> Self {
        InspectionView {
            row: i.row.into(),
            draw_id: i.draw_id,
            items: i
                .items
                .into_iter()
                .map(|x| InspectionItemView {
                    code: x.code,
                    zh: x.zh,
                    critical: x.critical,
                    outcome: x.outcome.code().into(),
                    note: x.note,
                })
                .collect(),
            checklist_draft: i.checklist_draft,
            note: i.note,
            recorded_by: i.recorded_by,
            recorded_at: i.recorded_at,
            photos: i.photos.into_iter().map(Into::into).collect(),
            rectification: i.rectification.map(Into::into),
            rectification_checked: i.rectification_checked,
            cancel_reason: i.cancel_reason,
            can_record: i.can_record,
            can_publish: i.can_publish,
        }
    }
}

/// A checklist item.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionChecklistItemView {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// A failure makes the result 不合格.
    pub critical: bool,
}

/// A checklist (检查清单) of one facility kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionChecklistView {
    pub kind: String,
    pub zh: String,
    pub from: String,
    pub source: String,
    /// The items are drafts.
    pub draft: bool,
    pub items: Vec<InspectionChecklistItemView>,
}

/// The checklists in force today.
#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionChecklistList {
    pub items: Vec<InspectionChecklistView>,
}

// ------------------------------------------------------------ bodies

/// A new plan.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct InspectionPlanBody {
    /// 1 to 100 characters.
    #[schema(required = true, min_length = 1, max_length = 100)]
    pub title: Option<String>,
    /// A county (or the city) within your area.
    #[schema(required = true, example = "330402", max_length = 12)]
    pub area_code: Option<String>,
    /// e.g. `2025-Q3`, 1 to 20 characters.
    #[schema(required = true, min_length = 1, max_length = 20)]
    pub period: Option<String>,
    /// Facility kinds (default: every kind with a checklist).
    #[schema(max_items = 4)]
    pub kinds: Option<Vec<String>>,
    /// 1 to 100 (default `inspection.ratio_percent`, 5).
    #[schema(minimum = 1, maximum = 100)]
    pub ratio_percent: Option<i64>,
    /// At least 2 (国办发〔2015〕58号), at most 10.
    #[schema(minimum = 2, maximum = 10)]
    pub inspectors_per_inspection: Option<i64>,
    /// Add the facilities flagged by repeated complaints as unplanned inspections.
    pub include_flagged: Option<bool>,
}

/// Publishing the commitment (and, for a new draw, why).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct DrawCommitBody {
    /// Required when the plan has a draw already (it is superseded and stays on the record); at most 500 characters.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// One item's outcome.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct InspectionItemBody {
    #[schema(required = true, max_length = 40)]
    pub code: Option<String>,
    /// `pass`, `fail` or `not_applicable`.
    #[schema(required = true, example = "pass")]
    pub outcome: Option<String>,
    /// At most 1000 characters.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// An inspection's record.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct InspectionRecordBody {
    /// Every item of the checklist, once.
    #[schema(required = true, max_items = 100)]
    pub items: Option<Vec<InspectionItemBody>>,
    /// At most 1000 characters.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
    /// The day of the visit (default today; not in the future).
    #[schema(example = "2025-09-01")]
    pub inspected_on: Option<String>,
    /// Days to rectify failed items (default `inspection.rectification_days`, 30).
    #[schema(minimum = 1, maximum = 365)]
    pub rectification_days: Option<i64>,
}

/// A rectification report (整改完成报告).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RectificationReportBody {
    /// What was put right, 1 to 1000 characters.
    #[schema(required = true, min_length = 1, max_length = 1000)]
    pub note: Option<String>,
}

query_params! {
    /// Filters of `GET /api/inspections`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct InspectionListParams {
        /// `assigned`, `recorded`, `published`, `cancelled`.
        #[param(pattern = "^(assigned|recorded|published|cancelled)$")]
        pub status: Option<String>,
    }
}

query_params! {
    /// Filters of `GET /api/inspections/rectifications`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct RectificationParams {
        /// Only orders open past their deadline.
        pub overdue: Option<bool>,
    }
}

query_params! {
    /// The item a photo is evidence for, with the bytes as the body.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct InspectionPhotoParams {
        /// A checklist item code of the inspection.
        #[param(required = true, example = "fire_safety", min_length = 1, max_length = 40)]
        pub item: Option<String>,
        /// The file's name as the uploader knows it.
        #[param(max_length = 200, example = "exit.jpg")]
        pub file_name: Option<String>,
    }
}

// ------------------------------------------------------------ handlers

/// The checklists in force today (检查清单; the items are drafts).
#[utoipa::path(
    get,
    path = "/api/inspections/checklists",
    operation_id = "inspection_checklists",
    tag = "inspections",
    responses((status = 200, description = "The checklists", body = InspectionChecklistList))
)]
pub async fn checklists(_auth: Auth) -> Result<Json<InspectionChecklistList>, ApiError> {
    let today = Utc::now().date_naive();
    let mut items = Vec::new();
    for k in checklists::KINDS {
        if let Some(c) =
            checklists::for_kind(k, today).map_err(|e| ApiError::Internal(e.to_string()))?
        {
            items.push(InspectionChecklistView {
                kind: c.kind.clone(),
                zh: c.zh.clone(),
                from: c.from.to_string(),
                source: c.source.clone(),
                draft: c.draft,
                items: c
                    .items
                    .iter()
                    .map(|i| InspectionChecklistItemView {
                        code: i.code.clone(),
                        zh: i.zh.clone(),
                        en: i.en.clone(),
                        critical: i.critical,
                    })
                    .collect(),
            });
        }
    }
    Ok(Json(InspectionChecklistList { items }))
}

/// The inspection plans of your area, newest first.
#[utoipa::path(
    get,
    path = "/api/inspections/plans",
    operation_id = "list_inspection_plans",
    tag = "inspections",
    responses((status = 200, description = "The plans", body = InspectionPlanList))
)]
pub async fn list_plans(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<InspectionPlanList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, r| Ok(ins::list_plans(c, r, &scope)?)).await?;
    Ok(Json(InspectionPlanList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Create an inspection plan for a period and an area (检查计划).
#[utoipa::path(
    post,
    path = "/api/inspections/plans",
    operation_id = "create_inspection_plan",
    tag = "inspections",
    request_body = InspectionPlanBody,
    responses(
        (status = 201, description = "The plan", body = InspectionPlanView),
        (status = 422, description = "A field missing or out of bounds, or an area outside yours", body = ErrorBody),
    )
)]
pub async fn create_plan(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<InspectionPlanBody>,
) -> Result<(StatusCode, Json<InspectionPlanView>), ApiError> {
    let input = NewPlan {
        title: b.title.unwrap_or_default(),
        area_code: b.area_code.unwrap_or_default(),
        period: b.period.unwrap_or_default(),
        kinds: b.kinds.unwrap_or_default(),
        ratio_percent: b.ratio_percent,
        inspectors_per_inspection: b.inspectors_per_inspection,
        include_flagged: b.include_flagged.unwrap_or(false),
    };
    if input.kinds.len() > 20 {
        return Err(bad("kinds", "at most 4 kinds"));
    }
    let scope = auth.scope()?;
    let p = blocking(&state, move |c, r| {
        Ok(ins::create_plan(c, r, &scope, &input, Utc::now())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// A plan with its draws (the superseded ones too) and its inspections.
#[utoipa::path(
    get,
    path = "/api/inspections/plans/{id}",
    operation_id = "get_inspection_plan",
    tag = "inspections",
    params(("id" = String, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "The plan", body = InspectionPlanDetailView),
        (status = 404, description = "No such plan in your area", body = ErrorBody),
    )
)]
pub async fn get_plan(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InspectionPlanDetailView>, ApiError> {
    let scope = auth.scope()?;
    let d = blocking(&state, move |c, r| Ok(ins::get_plan(c, r, &scope, &id)?)).await?;
    Ok(Json(d.into()))
}

/// Freeze the rosters and publish the commitment to the seed (公示抽取承诺).
/// A plan with a draw already needs a reason: that draw is superseded and
/// stays on the record.
#[utoipa::path(
    post,
    path = "/api/inspections/plans/{id}/commit",
    operation_id = "commit_inspection_draw",
    tag = "inspections",
    params(("id" = String, Path, description = "The plan's id")),
    request_body = DrawCommitBody,
    responses(
        (status = 201, description = "The new draw's document (no seed yet)", body = DrawDocumentView),
        (status = 404, description = "No such plan in your area", body = ErrorBody),
        (status = 409, description = "Changed at the same moment", body = ErrorBody),
        (status = 422, description = "A reason missing for a new draw, no facility to draw, or too few inspectors free of conflict", body = ErrorBody),
    )
)]
pub async fn commit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DrawCommitBody>,
) -> Result<(StatusCode, Json<DrawDocumentView>), ApiError> {
    let scope = auth.scope()?;
    let d = blocking(&state, move |c, r| {
        Ok(ins::commit(
            c,
            r,
            &scope,
            &id,
            b.reason.as_deref(),
            Utc::now(),
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

/// Draw (抽取): reveal the seed, run the draw on the frozen rosters and
/// assign the inspections.
#[utoipa::path(
    post,
    path = "/api/inspections/plans/{id}/draw",
    operation_id = "make_inspection_draw",
    tag = "inspections",
    params(("id" = String, Path, description = "The plan's id")),
    responses(
        (status = 200, description = "The draw's document with its seed and result", body = DrawDocumentView),
        (status = 404, description = "No such plan in your area", body = ErrorBody),
        (status = 409, description = "Drawn already", body = ErrorBody),
        (status = 422, description = "No commitment published yet", body = ErrorBody),
    )
)]
pub async fn draw(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DrawDocumentView>, ApiError> {
    let scope = auth.scope()?;
    let d = blocking(&state, move |c, r| {
        Ok(ins::draw(c, r, &scope, &id, Utc::now())?)
    })
    .await?;
    Ok(Json(d.into()))
}

/// A draw's document: save it and run `laoxiao supervise verify-draw FILE`.
#[utoipa::path(
    get,
    path = "/api/inspections/draws/{id}",
    operation_id = "get_inspection_draw",
    tag = "inspections",
    params(("id" = String, Path, description = "The draw's id")),
    responses(
        (status = 200, description = "The draw document", body = DrawDocumentView),
        (status = 404, description = "No such draw in your area", body = ErrorBody),
    )
)]
pub async fn get_draw(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DrawDocumentView>, ApiError> {
    let scope = auth.scope()?;
    let d = blocking(&state, move |c, r| {
        Ok(ins::draw_document(c, r, &scope, &id)?)
    })
    .await?;
    Ok(Json(d.into()))
}

/// The inspections you may see: an inspector's own, an operator its
/// facility's results, staff their area's.
#[utoipa::path(
    get,
    path = "/api/inspections",
    operation_id = "list_inspections",
    tag = "inspections",
    params(InspectionListParams),
    responses(
        (status = 200, description = "The inspections", body = InspectionList),
        (status = 422, description = "A status that is not one", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<InspectionListParams>,
) -> Result<Json<InspectionList>, ApiError> {
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(
            Status::parse(s)
                .ok_or_else(|| bad("status", "one of assigned, recorded, published, cancelled"))?,
        ),
    };
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| Ok(ins::list(c, &scope, status)?)).await?;
    Ok(Json(InspectionList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One inspection with its checklist, photos and rectification order.
#[utoipa::path(
    get,
    path = "/api/inspections/{id}",
    operation_id = "get_inspection",
    tag = "inspections",
    params(("id" = String, Path, description = "The inspection's id")),
    responses(
        (status = 200, description = "The inspection", body = InspectionView),
        (status = 404, description = "No such inspection you may see", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InspectionView>, ApiError> {
    let scope = auth.scope()?;
    let i = blocking(&state, move |c, _| {
        Ok(ins::get(c, &scope, &id, Utc::now())?)
    })
    .await?;
    Ok(Json(i.into()))
}

/// Record an inspection (检查结果录入): its drawn inspectors only, once;
/// every checklist item needs an outcome. Failed items issue a
/// rectification order.
#[utoipa::path(
    post,
    path = "/api/inspections/{id}/record",
    operation_id = "record_inspection",
    tag = "inspections",
    params(("id" = String, Path, description = "The inspection's id")),
    request_body = InspectionRecordBody,
    responses(
        (status = 200, description = "Recorded", body = InspectionView),
        (status = 403, description = "Not one of its drawn inspectors", body = ErrorBody),
        (status = 404, description = "No such inspection you may see", body = ErrorBody),
        (status = 409, description = "Recorded already, or at the same moment", body = ErrorBody),
        (status = 422, description = "An item missing, unknown or with a bad outcome; a bad day or deadline", body = ErrorBody),
    )
)]
pub async fn record(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<InspectionRecordBody>,
) -> Result<Json<InspectionView>, ApiError> {
    let items = b
        .items
        .ok_or_else(|| bad("items", "every checklist item with its outcome"))?;
    if items.len() > checklists::MAX_ITEMS {
        return Err(bad("items", "at most 100 items"));
    }
    let inspected_on = match b.inspected_on.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse::<NaiveDate>()
                .map_err(|_| bad("inspected_on", "a date, YYYY-MM-DD"))?,
        ),
    };
    let input = RecordInput {
        items: items
            .into_iter()
            .map(|i| {
                (
                    i.code.unwrap_or_default(),
                    i.outcome.unwrap_or_default(),
                    i.note,
                )
            })
            .collect(),
        note: b.note,
        inspected_on,
        rectification_days: b.rectification_days,
    };
    let scope = auth.scope()?;
    let i = blocking(&state, move |c, _| {
        Ok(ins::record(c, &scope, &id, &input, Utc::now())?)
    })
    .await?;
    Ok(Json(i.into()))
}

/// Checks, keeps and records one evidence photo: shared by the API and the console.
pub(crate) async fn store_photo(
    state: &AppState,
    scope: laoxiao_store::Scope,
    id: String,
    item: String,
    file_name: String,
    declared: Option<String>,
    bytes: Vec<u8>,
) -> Result<Photo, ApiError> {
    let uploads = upload_store(state)?;
    blocking(state, move |c, _| {
        // The inspection must be the caller's to record before anything is kept.
        let i = ins::get(c, &scope, &id, Utc::now())?;
        if !i.can_record && i.row.status != Status::Recorded {
            return Err(ApiError::Store(StoreError::Conflict(
                "photos are added before the result is published".into(),
            )));
        }
        let checked = uploads.put(&bytes, declared.as_deref(), &file_name)?;
        Ok(ins::add_photo(c, &scope, &id, &item, &checked, Utc::now())?)
    })
    .await
}

/// Add an evidence photo (JPEG or PNG, judged from the content; at most the
/// configured size) to an item: the drawn inspectors, before publication.
#[utoipa::path(
    post,
    path = "/api/inspections/{id}/photos",
    operation_id = "add_inspection_photo",
    tag = "inspections",
    params(("id" = String, Path, description = "The inspection's id"), InspectionPhotoParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The photo (JPEG or PNG)"),
    responses(
        (status = 201, description = "The photo", body = InspectionPhotoView),
        (status = 403, description = "Not one of its drawn inspectors", body = ErrorBody),
        (status = 404, description = "No such inspection you may see", body = ErrorBody),
        (status = 409, description = "Published already, or too many photos", body = ErrorBody),
        (status = 413, description = "Over the upload limit", body = ErrorBody),
        (status = 415, description = "Not a JPEG or PNG file", body = ErrorBody),
        (status = 422, description = "Not an item of the checklist", body = ErrorBody),
    )
)]
pub async fn add_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<InspectionPhotoParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let max = state.config.upload_max_bytes;
    let item = p.item.unwrap_or_default();
    if item.is_empty() || item.chars().count() > 40 {
        return Err(bad("item", "the checklist item the photo is evidence for"));
    }
    let file_name = p.file_name.unwrap_or_default();
    if file_name.chars().count() > 200 {
        return Err(bad("file_name", "at most 200 characters"));
    }
    let too_large = || ApiError::Store(StoreError::UploadTooLarge { limit: max });
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
    let ph = store_photo(&state, scope, id, item, file_name, declared, bytes.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(InspectionPhotoView::from(ph))).into_response())
}

/// Download an evidence photo (as an attachment).
#[utoipa::path(
    get,
    path = "/api/inspections/{id}/photos/{photo}",
    operation_id = "download_inspection_photo",
    tag = "inspections",
    params(
        ("id" = String, Path, description = "The inspection's id"),
        ("photo" = String, Path, description = "The photo's id"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such photo you may see", body = ErrorBody),
    )
)]
pub async fn photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, photo)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let uploads = upload_store(&state)?;
    let (p, bytes) = blocking(&state, move |c, _| {
        let p = ins::photo(c, &scope, &id, &photo)?;
        let bytes = uploads.get(&p.sha256)?;
        Ok((p, bytes))
    })
    .await?;
    let doc = laoxiao_store::filing::Document {
        id: p.id,
        filing_id: String::new(),
        doc_type: p.item_code,
        file_name: p.file_name,
        content_type: p.content_type,
        size: p.size,
        sha256: p.sha256,
        uploaded_by: p.uploaded_by,
        uploaded_at: p.uploaded_at,
    };
    Ok(crate::filing::attachment(&doc, bytes))
}

/// Publish a recorded result (结果公开): county or city staff.
#[utoipa::path(
    post,
    path = "/api/inspections/{id}/publish",
    operation_id = "publish_inspection",
    tag = "inspections",
    params(("id" = String, Path, description = "The inspection's id")),
    responses(
        (status = 200, description = "Published", body = InspectionView),
        (status = 403, description = "Not county or city staff of the area", body = ErrorBody),
        (status = 404, description = "No such inspection in your area", body = ErrorBody),
        (status = 409, description = "Not recorded yet, or published already", body = ErrorBody),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InspectionView>, ApiError> {
    let scope = auth.scope()?;
    let i = blocking(&state, move |c, _| {
        Ok(ins::publish(c, &scope, &id, Utc::now())?)
    })
    .await?;
    Ok(Json(i.into()))
}

/// Rectification orders you may see, the earliest deadline first.
#[utoipa::path(
    get,
    path = "/api/inspections/rectifications",
    operation_id = "list_rectifications",
    tag = "inspections",
    params(RectificationParams),
    responses((status = 200, description = "The orders", body = RectificationList))
)]
pub async fn rectifications(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<RectificationParams>,
) -> Result<Json<RectificationList>, ApiError> {
    let scope = auth.scope()?;
    let overdue = p.overdue.unwrap_or(false);
    let items = blocking(&state, move |c, _| {
        Ok(ins::rectifications(c, &scope, overdue, Utc::now())?)
    })
    .await?;
    Ok(Json(RectificationList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Report a rectification done (整改完成报告): the facility's operator.
#[utoipa::path(
    post,
    path = "/api/inspections/rectifications/{id}/report",
    operation_id = "report_rectification",
    tag = "inspections",
    params(("id" = String, Path, description = "The order's id")),
    request_body = RectificationReportBody,
    responses(
        (status = 200, description = "Reported", body = RectificationView),
        (status = 403, description = "Not the facility's operator", body = ErrorBody),
        (status = 404, description = "No such order you may see", body = ErrorBody),
        (status = 409, description = "Reported or closed already", body = ErrorBody),
        (status = 422, description = "The note missing or too long", body = ErrorBody),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RectificationReportBody>,
) -> Result<Json<RectificationView>, ApiError> {
    let note = b.note.unwrap_or_default();
    let scope = auth.scope()?;
    let r = blocking(&state, move |c, _| {
        Ok(ins::report_rectified(c, &scope, &id, &note, Utc::now())?)
    })
    .await?;
    Ok(Json(r.into()))
}

/// Order the re-inspection of a rectification (复查): the same inspectors,
/// a new inspection whose record closes the order or marks it 整改不到位.
#[utoipa::path(
    post,
    path = "/api/inspections/rectifications/{id}/reinspect",
    operation_id = "reinspect_rectification",
    tag = "inspections",
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 201, description = "The re-inspection", body = InspectionView),
        (status = 403, description = "Not county or city staff", body = ErrorBody),
        (status = 404, description = "No such order in your area", body = ErrorBody),
        (status = 409, description = "Being re-inspected or closed already", body = ErrorBody),
    )
)]
pub async fn reinspect(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<InspectionView>), ApiError> {
    let scope = auth.scope()?;
    let i = blocking(&state, move |c, _| {
        Ok(ins::reinspect(c, &scope, &id, Utc::now())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(i.into())))
}
