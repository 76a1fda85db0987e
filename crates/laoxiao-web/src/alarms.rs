//! Alarms (告警): the signed intake for device platforms
//! (`POST /api/alarms/events`, no account: the platform's HMAC signature is
//! its credential), and for staff the alarms in their area, one alarm with
//! its timeline, the steps (acknowledge, reach, close), response figures and
//! the plan's equipment target per area, and for administrators the platforms
//! with their refused-request counters. The rules are the store's
//! (`laoxiao_store::alarms`).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use laoxiao_model::FieldError;
use laoxiao_model::alarms::AlarmOutcome;
use laoxiao_rules::alarms::AlarmRules;
use laoxiao_store::alarms::{
    self, Alarm, AreaFigures, Equipped, HEADER_PLATFORM, HEADER_SIGNATURE, HEADER_TIMESTAMP,
    Intake, IntakeError, SignedRequest, Step, TimelineStep, Which,
};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody, ErrorDetail, ErrorInfo};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

/// Intake requests one server accepts per second, sustained (a token
/// bucket; twice as many in a burst); beyond it 429.
pub const INTAKE_PER_SECOND: f64 = 5_000.0;

/// The intake's shared state: the rules, the rate limiter and the queue to
/// the writer that files events in batches.
#[derive(Debug)]
pub struct IntakeState {
    pub rules: AlarmRules,
    bucket: std::sync::Mutex<(Instant, f64)>,
    queue: std::sync::Mutex<Queue>,
}

/// The requests waiting for the writer, and whether a writer runs. The
/// writer is a task started by the first request that finds none, and it
/// ends when nothing waits: no task outlives the requests (a task holding
/// the server's state forever would drop it on a runtime thread at
/// shutdown, which a PostgreSQL pool cannot survive).
#[derive(Debug, Default)]
struct Queue {
    jobs: std::collections::VecDeque<Job>,
    writing: bool,
}

/// Events waiting for the writer, at most; beyond it a request is answered 429
/// at once rather than queued without bound.
const QUEUE: usize = 4_096;

/// One request waiting for the writer, and where its answer goes.
#[derive(Debug)]
struct Job {
    platform: Option<String>,
    timestamp: Option<String>,
    signature: Option<String>,
    body: Bytes,
    reply: oneshot::Sender<Result<Result<Intake, IntakeError>, ApiError>>,
}

impl IntakeState {
    /// The embedded rules; `None` only if the embedded file is broken (a build defect).
    pub fn new() -> Option<Arc<IntakeState>> {
        match AlarmRules::embedded() {
            Ok(rules) => Some(Arc::new(IntakeState {
                rules: rules.clone(),
                bucket: std::sync::Mutex::new((Instant::now(), INTAKE_PER_SECOND * 2.0)),
                queue: std::sync::Mutex::new(Queue::default()),
            })),
            Err(e) => {
                tracing::error!(error = %e, "alarm rules invalid; intake disabled");
                None
            }
        }
    }

    /// Takes one token; false when the bucket is empty.
    fn admit(&self) -> bool {
        let Ok(mut b) = self.bucket.lock() else {
            return false;
        };
        let now = Instant::now();
        let refill = now.duration_since(b.0).as_secs_f64() * INTAKE_PER_SECOND;
        b.1 = (b.1 + refill).min(INTAKE_PER_SECOND * 2.0);
        b.0 = now;
        if b.1 >= 1.0 {
            b.1 -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The intake's body limit: one event is small.
pub const MAX_EVENT_BYTES: usize = alarms::MAX_BODY;

/// The event a platform posts. Signed: `X-Laoxiao-Signature` is the lower-case
/// hex HMAC-SHA256, under the platform's secret, of `X-Laoxiao-Timestamp`
/// (Unix seconds), a newline, and the body's exact bytes.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// The platform's id of the event, unique per platform (a repeat answers the
    /// alarm it made and changes nothing).
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_.:-]{1,64}$",
        example = "EV-20260301-0001"
    )]
    pub event_id: String,
    /// The platform's id of the device (平台设备编号), as on the device register.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_.:-]{1,64}$",
        example = "BTN-001"
    )]
    pub device_id: String,
    /// When the device raised it (RFC 3339), at most a day ago.
    #[schema(format = DateTime, example = "2026-03-01T10:00:00Z")]
    pub occurred_at: String,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// What the intake did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlarmIntakeView {
    #[schema(example = "AL20260301100000A1B2C3D4E5")]
    pub alarm_id: String,
    /// False when the event had been received before (nothing changed).
    pub created: bool,
    /// The alarm's state now.
    #[schema(example = "open")]
    pub state: String,
}

impl From<Intake> for AlarmIntakeView {
    fn from(i: Intake) -> Self {
        AlarmIntakeView {
            alarm_id: i.alarm_id,
            created: i.created,
            state: i.state.code().to_string(),
        }
    }
}

fn intake_error(
    status: StatusCode,
    code: &str,
    message: String,
    fields: Vec<FieldError>,
) -> Response {
    let body = ErrorBody {
        error: ErrorInfo {
            code: code.to_string(),
            message,
            details: fields.iter().map(ErrorDetail::from).collect(),
        },
    };
    (status, Json(body)).into_response()
}

/// Receive an alarm from a device platform (no account: signed).
#[utoipa::path(
    post,
    path = "/api/alarms/events",
    operation_id = "post_alarm_event",
    tag = "alarms",
    params(
        ("X-Laoxiao-Platform" = String, Header, description = "The platform's id"),
        ("X-Laoxiao-Timestamp" = String, Header, description = "Unix seconds; within 300 s of the server's clock"),
        ("X-Laoxiao-Signature" = String, Header, description = "hex HMAC-SHA256(secret, timestamp + \"\\n\" + body)"),
    ),
    request_body = EventInput,
    responses(
        (status = 201, description = "A new alarm, dispatched", body = AlarmIntakeView),
        (status = 200, description = "The event was received before: its alarm, unchanged", body = AlarmIntakeView),
        (status = 401, description = "Unknown platform, bad signature or clock skew (counted)", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 422, description = "Invalid event, or a device not on the register (counted, logged)", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    ),
    security(())
)]
pub async fn intake(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(st) = state.alarm_intake.clone() else {
        return ApiError::Internal("alarm rules unavailable".into()).into_response();
    };
    if !st.admit() {
        return intake_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many alarm events; retry shortly".into(),
            Vec::new(),
        );
    }
    let h = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (tx, rx) = oneshot::channel();
    let job = Job {
        platform: h(HEADER_PLATFORM),
        timestamp: h(HEADER_TIMESTAMP),
        signature: h(HEADER_SIGNATURE),
        body,
        reply: tx,
    };
    let start = {
        let Ok(mut q) = st.queue.lock() else {
            return ApiError::Internal("the alarm queue is poisoned".into()).into_response();
        };
        if q.jobs.len() >= QUEUE {
            return intake_error(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many alarm events waiting; retry shortly".into(),
                Vec::new(),
            );
        }
        q.jobs.push_back(job);
        !std::mem::replace(&mut q.writing, true)
    };
    if start {
        tokio::spawn(writer(state.clone(), st.clone()));
    }
    let result = rx
        .await
        .unwrap_or_else(|_| Err(ApiError::Internal("the alarm writer stopped".into())));
    match result {
        Ok(Ok(i)) => {
            let status = if i.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(AlarmIntakeView::from(i))).into_response()
        }
        Ok(Err(e)) => intake_error(
            StatusCode::from_u16(e.failure.status()).unwrap_or(StatusCode::UNAUTHORIZED),
            e.failure.code(),
            e.message,
            e.fields,
        ),
        Err(e) => e.into_response(),
    }
}

/// The intake's one writer: it takes the waiting requests (up to
/// [`alarms::MAX_BATCH`]) and files them in one transaction, then the next
/// lot, until none waits. Requests that arrive while a batch is written wait
/// for the next one, so under load batches grow and commits stay few; alone,
/// a request is filed at once.
async fn writer(state: AppState, st: Arc<IntakeState>) {
    let Some(mut batch) = take_batch(&st) else {
        return;
    };
    loop {
        let (inputs, replies): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .map(|j| ((j.platform, j.timestamp, j.signature, j.body), j.reply))
            .unzip();
        let st2 = st.clone();
        let result = blocking(&state, move |c, r| {
            let reqs: Vec<SignedRequest<'_>> = inputs
                .iter()
                .map(|(p, t, s, b)| SignedRequest {
                    platform: p.as_deref(),
                    timestamp: t.as_deref(),
                    signature: s.as_deref(),
                    body: b,
                })
                .collect();
            Ok(alarms::intake_batch(c, r, &st2.rules, &reqs, Utc::now())?)
        })
        .await;
        let answers: Vec<Result<Result<Intake, IntakeError>, ApiError>> = match result {
            Ok(answers) => answers.into_iter().map(Ok).collect(),
            Err(e) => {
                let msg = e.to_string();
                replies
                    .iter()
                    .map(|_| Err(ApiError::Internal(msg.clone())))
                    .collect()
            }
        };
        let next = take_batch(&st);
        if next.is_none() {
            // The server's state goes before the last answers: a caller that
            // has its answer never holds the writer's copy up.
            drop(state);
            answer(replies, answers);
            return;
        }
        answer(replies, answers);
        batch = next.unwrap_or_default();
    }
}

/// The next lot of waiting requests; `None` (and no writer) when none waits.
fn take_batch(st: &IntakeState) -> Option<Vec<Job>> {
    let mut q = st.queue.lock().ok()?;
    if q.jobs.is_empty() {
        q.writing = false;
        return None;
    }
    let n = q.jobs.len().min(alarms::MAX_BATCH);
    Some(q.jobs.drain(..n).collect())
}

fn answer(
    replies: Vec<oneshot::Sender<Result<Result<Intake, IntakeError>, ApiError>>>,
    answers: Vec<Result<Result<Intake, IntakeError>, ApiError>>,
) {
    for (reply, a) in replies.into_iter().zip(answers) {
        // The caller may have gone: its answer is dropped.
        let _ = reply.send(a);
    }
}

/// An alarm as the API shows it: the person's name masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlarmView {
    pub id: String,
    /// Device kind: emergency_button, fall_detector, smoke_sensor, gas_sensor, door_sensor, water_meter.
    pub kind: String,
    /// open, acknowledged, on_site, closed.
    pub state: String,
    /// false_alarm, resolved_at_home, sent_to_hospital, other (closed alarms).
    pub outcome: Option<String>,
    /// Past a deadline and escalated to the town.
    pub escalated: bool,
    pub escalated_at: Option<String>,
    /// not_acknowledged or not_reached.
    pub escalation_reason: Option<String>,
    pub platform_id: String,
    pub event_id: String,
    pub device_id: String,
    pub person_id: String,
    #[schema(example = "李**")]
    pub person_name: String,
    /// The person's village: its staff are dispatched.
    pub area_code: String,
    /// The device's provider, dispatched with the village staff.
    pub provider_id: Option<String>,
    pub occurred_at: String,
    pub received_at: String,
    pub ack_due_at: String,
    pub reach_due_at: String,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub reached_at: Option<String>,
    pub reached_by: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub note: Option<String>,
    /// The steps so far, by time.
    pub timeline: Vec<StepView>,
}

/// One step of an alarm's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepView {
    pub at: String,
    /// occurred, received, escalated, acknowledged, on_site, closed.
    pub step: String,
    pub by: Option<String>,
}

impl From<TimelineStep> for StepView {
    fn from(s: TimelineStep) -> Self {
        StepView {
            at: s.at,
            step: s.step.to_string(),
            by: s.by,
        }
    }
}

impl From<Alarm> for AlarmView {
    fn from(a: Alarm) -> Self {
        let timeline = a.timeline().into_iter().map(StepView::from).collect();
        AlarmView {
            kind: a.kind.code().to_string(),
            state: a.state.code().to_string(),
            outcome: a.outcome.map(|o| o.code().to_string()),
            id: a.id,
            escalated: a.escalated,
            escalated_at: a.escalated_at,
            escalation_reason: a.escalation_reason,
            platform_id: a.platform_id,
            event_id: a.event_id,
            device_id: a.device_id,
            person_id: a.person_id,
            person_name: a.person_name_masked,
            area_code: a.area_code,
            provider_id: a.provider_id,
            occurred_at: a.occurred_at,
            received_at: a.received_at,
            ack_due_at: a.ack_due_at,
            reach_due_at: a.reach_due_at,
            acknowledged_at: a.acknowledged_at,
            acknowledged_by: a.acknowledged_by,
            reached_at: a.reached_at,
            reached_by: a.reached_by,
            closed_at: a.closed_at,
            closed_by: a.closed_by,
            note: a.note,
            timeline,
        }
    }
}

/// Alarms in your area (escalated first, then oldest), and their counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlarmListView {
    pub items: Vec<AlarmView>,
    pub total: i64,
    pub escalated: i64,
    /// Active alarms by state.
    #[schema(value_type = Object)]
    pub by_state: std::collections::BTreeMap<String, i64>,
}

query_params! {
    /// Filters of `GET /api/alarms`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AlarmListParams {
        /// `active` (not closed, default) or `closed`.
        #[param(example = "active", pattern = "^(active|closed)$")]
        pub state: Option<String>,
        /// At most this many (1–500, default 100).
        #[param(minimum = 1, maximum = 500)]
        pub limit: Option<u32>,
    }
}

/// Alarms in your area.
#[utoipa::path(
    get,
    path = "/api/alarms",
    operation_id = "list_alarms",
    tag = "alarms",
    params(AlarmListParams),
    responses(
        (status = 200, description = "Escalated first, then oldest", body = AlarmListView),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<AlarmListParams>,
) -> Result<Json<AlarmListView>, ApiError> {
    let which = match p.state.as_deref() {
        None | Some("active") => Which::Active,
        Some("closed") => Which::Closed,
        Some(other) => {
            return Err(ApiError::InvalidQuery(vec![FieldError::new(
                "state",
                format!("{other:?}: one of active, closed"),
            )]));
        }
    };
    let limit = p.limit.unwrap_or(100);
    if !(1..=alarms::MAX_PAGE).contains(&limit) {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "limit", "1 to 500",
        )]));
    }
    let scope = auth.scope()?;
    let l = blocking(&state, move |c, _| {
        Ok(alarms::list(c, &scope, which, limit)?)
    })
    .await?;
    Ok(Json(AlarmListView {
        items: l.items.into_iter().map(AlarmView::from).collect(),
        total: l.total,
        escalated: l.escalated,
        by_state: l.by_state,
    }))
}

/// One alarm with its timeline.
#[utoipa::path(
    get,
    path = "/api/alarms/{id}",
    operation_id = "get_alarm",
    tag = "alarms",
    params(("id" = String, Path, description = "The alarm's id")),
    responses(
        (status = 200, description = "The alarm", body = AlarmView),
        (status = 404, description = "No such alarm in your area", body = ErrorBody),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AlarmView>, ApiError> {
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, _| Ok(alarms::get(c, &scope, &id)?)).await?;
    Ok(Json(a.into()))
}

/// A step's body.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// At most 500 characters.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Closing's body.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// false_alarm, resolved_at_home, sent_to_hospital or other.
    #[schema(
        required = true,
        value_type = String,
        example = "resolved_at_home",
        pattern = "^(false_alarm|resolved_at_home|sent_to_hospital|other)$"
    )]
    pub outcome: Option<String>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

async fn step(
    state: AppState,
    auth: Auth,
    id: String,
    step: Step,
    note: Option<String>,
) -> Result<Json<AlarmView>, ApiError> {
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, _| {
        Ok(alarms::respond(
            c,
            &scope,
            &id,
            step,
            note.as_deref(),
            Utc::now(),
        )?)
    })
    .await?;
    Ok(Json(a.into()))
}

/// Acknowledge an open alarm (响应: you took it and called the person).
#[utoipa::path(
    post,
    path = "/api/alarms/{id}/acknowledge",
    operation_id = "acknowledge_alarm",
    tag = "alarms",
    params(("id" = String, Path, description = "The alarm's id")),
    request_body = StepInput,
    responses(
        (status = 200, description = "Acknowledged", body = AlarmView),
        (status = 404, description = "No such alarm in your area", body = ErrorBody),
        (status = 409, description = "Not open", body = ErrorBody),
    )
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<StepInput>,
) -> Result<Json<AlarmView>, ApiError> {
    step(state, auth, id, Step::Acknowledge, input.note).await
}

/// Record that someone reached the person (到达).
#[utoipa::path(
    post,
    path = "/api/alarms/{id}/reach",
    operation_id = "reach_alarm",
    tag = "alarms",
    params(("id" = String, Path, description = "The alarm's id")),
    request_body = StepInput,
    responses(
        (status = 200, description = "On site", body = AlarmView),
        (status = 404, description = "No such alarm in your area", body = ErrorBody),
        (status = 409, description = "Already on site or closed", body = ErrorBody),
    )
)]
pub async fn reach(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<StepInput>,
) -> Result<Json<AlarmView>, ApiError> {
    step(state, auth, id, Step::Reach, input.note).await
}

/// Close an alarm with its outcome (处置结果).
#[utoipa::path(
    post,
    path = "/api/alarms/{id}/close",
    operation_id = "close_alarm",
    tag = "alarms",
    params(("id" = String, Path, description = "The alarm's id")),
    request_body = CloseInput,
    responses(
        (status = 200, description = "Closed", body = AlarmView),
        (status = 404, description = "No such alarm in your area", body = ErrorBody),
        (status = 409, description = "Closed already", body = ErrorBody),
        (status = 422, description = "No or unknown outcome", body = ErrorBody),
    )
)]
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<CloseInput>,
) -> Result<Json<AlarmView>, ApiError> {
    let outcome = parse_outcome(input.outcome.as_deref())?;
    step(state, auth, id, Step::Close(outcome), input.note).await
}

/// The outcome of a close, or the field error.
pub(crate) fn parse_outcome(s: Option<&str>) -> Result<AlarmOutcome, ApiError> {
    s.map(str::trim)
        .and_then(AlarmOutcome::parse)
        .ok_or_else(|| {
            ApiError::invalid(vec![FieldError::new(
                "outcome",
                format!("one of {}", AlarmOutcome::expected()),
            )])
        })
}

query_params! {
    /// Parameters of `GET /api/alarms/figures`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct FigureParams {
        /// The area (default: your home area).
        #[param(example = "330402")]
        pub area: Option<String>,
        /// First day (default: 30 days ago).
        #[param(example = "2026-02-01")]
        pub from: Option<NaiveDate>,
        /// Last day (default: today); at most 366 days after `from`.
        #[param(example = "2026-02-28")]
        pub to: Option<NaiveDate>,
    }
}

/// Response figures of an area and its parts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FiguresView {
    #[schema(value_type = Object)]
    pub area: AreaFigures,
    #[schema(value_type = Vec<Object>)]
    pub parts: Vec<AreaFigures>,
}

/// The caller's home area code, or the city.
pub(crate) fn home_area(state: &AppState, auth: &Auth) -> String {
    auth.principal
        .as_ref()
        .map(|p| p.user.area_code.clone())
        .filter(|c| state.store.reference.areas.get(c).is_some())
        .unwrap_or_else(|| "330400".to_string())
}

/// Response times (median and 90th percentile to acknowledge and to reach, in
/// seconds), alarms by kind and escalations, for an area and each part of it.
#[utoipa::path(
    get,
    path = "/api/alarms/figures",
    operation_id = "alarm_figures",
    tag = "alarms",
    params(FigureParams),
    responses(
        (status = 200, description = "The figures", body = FiguresView),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
        (status = 404, description = "No such area in yours", body = ErrorBody),
    )
)]
pub async fn figures(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<FigureParams>,
) -> Result<Json<FiguresView>, ApiError> {
    let scope = auth.scope()?;
    let area = p.area.unwrap_or_else(|| home_area(&state, &auth));
    let to = p.to.unwrap_or_else(|| Utc::now().date_naive());
    let from = p.from.unwrap_or(to - chrono::Duration::days(30));
    if to < from || (to - from).num_days() > alarms::MAX_FIGURE_DAYS {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "to",
            "on or after from, at most 366 days later",
        )]));
    }
    let (area, parts) = blocking(&state, move |c, r| {
        Ok(alarms::figures(c, r, &scope, &area, from, to)?)
    })
    .await?;
    Ok(Json(FiguresView { area, parts }))
}

query_params! {
    /// Parameters of `GET /api/alarms/equipped`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct EquippedParams {
        /// The area (default: your home area).
        #[param(example = "330402")]
        pub area: Option<String>,
    }
}

/// The plan's target per area.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EquippedView {
    #[schema(value_type = Object)]
    pub area: Equipped,
    #[schema(value_type = Vec<Object>)]
    pub parts: Vec<Equipped>,
    /// The year by which every willing household is to be equipped.
    pub target_year: i32,
    pub target_percent: i64,
}

/// Empty-nest and lone elderly people (空巢、独居) and how many have a device,
/// for an area and each part: the plan's target (every willing household
/// equipped by 2025).
#[utoipa::path(
    get,
    path = "/api/alarms/equipped",
    operation_id = "alarm_equipped",
    tag = "alarms",
    params(EquippedParams),
    responses(
        (status = 200, description = "The figures", body = EquippedView),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
        (status = 404, description = "No such area in yours", body = ErrorBody),
    )
)]
pub async fn equipped(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<EquippedParams>,
) -> Result<Json<EquippedView>, ApiError> {
    let scope = auth.scope()?;
    let area = p.area.unwrap_or_else(|| home_area(&state, &auth));
    let (area, parts) = blocking(&state, move |c, r| {
        Ok(alarms::equipped(c, r, &scope, &area)?)
    })
    .await?;
    let (target_year, target_percent) = state
        .alarm_intake
        .as_ref()
        .map(|s| (s.rules.target.year, s.rules.target.share_percent))
        .unwrap_or((2025, 100));
    Ok(Json(EquippedView {
        area,
        parts,
        target_year,
        target_percent,
    }))
}

/// A device platform and its refused intake requests.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlatformView {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub created_at: String,
    /// Refused requests by reason (bad_signature, clock_skew, unknown_device, …).
    #[schema(value_type = Object)]
    pub failures: std::collections::BTreeMap<String, i64>,
}

/// Device platforms (administrators), with the requests refused per reason;
/// `unknown` counts requests naming no known platform.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlatformList {
    pub items: Vec<PlatformView>,
    #[schema(value_type = Object)]
    pub unknown: std::collections::BTreeMap<String, i64>,
}

/// Device platforms and their refused-request counters.
#[utoipa::path(
    get,
    path = "/api/alarms/platforms",
    operation_id = "alarm_platforms",
    tag = "alarms",
    responses((status = 200, description = "The platforms", body = PlatformList))
)]
pub async fn platforms(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<PlatformList>, ApiError> {
    let scope = auth.scope()?;
    let (items, counts) = blocking(&state, move |c, _| {
        Ok((
            alarms::platforms(c, &scope)?,
            alarms::failure_counts(c, &scope)?,
        ))
    })
    .await?;
    let unknown = counts
        .into_iter()
        .filter(|(p, _, _)| p.is_empty())
        .map(|(_, r, n)| (r, n))
        .collect();
    Ok(Json(PlatformList {
        items: items
            .into_iter()
            .map(|p| PlatformView {
                id: p.id,
                name: p.name,
                enabled: p.enabled,
                created_at: p.created_at,
                failures: p.failures,
            })
            .collect(),
        unknown,
    }))
}

/// Escalates what is due every `every` (the server's periodic check; reads
/// check too). Runs until the process ends.
pub async fn escalation_loop(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let store = state.store.clone();
        let r = state
            .db_tasks
            .run(move || {
                let mut c = store.conn()?;
                alarms::escalate_due(&mut c, Utc::now())
            })
            .await;
        match r {
            Ok(Ok(n)) if n > 0 => tracing::info!(escalated = n, "alarms escalated"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "alarm escalation failed"),
            Err(e) => tracing::warn!(error = %e, "alarm escalation task failed"),
        }
    }
}
