//! The subsidy engine's API (补助发放): `/api/subsidies…`. Runs are the
//! city's: city administrators prepare, review (a second account: 四眼原则)
//! and mark them paid; county administrators read every run's header and
//! their own county's lines (the store filters). Money is integer fen.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use laoxiao_model::FieldError;
use laoxiao_rules::subsidies::{Cadence, Period, Rule};
use laoxiao_store::Perm;
use laoxiao_store::io::ExportFormat;
use laoxiao_store::subsidies::{self as sub, LineQuery};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

/// The line kinds a filter may name.
pub const KINDS: &[&str] = &["regular", "award", "adjustment"];

/// The two documented what-if examples, by name.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("centenarian_800", sub::EXAMPLE_CENTENARIAN_800),
    ("inclusive_plus_100", sub::EXAMPLE_INCLUSIVE_PLUS_100),
];

/// A cadence's code (`monthly`, `annual`, `one_time`).
pub fn cadence_code(c: Cadence) -> &'static str {
    match c {
        Cadence::Monthly => "monthly",
        Cadence::Annual => "annual",
        Cadence::OneTime => "one_time",
    }
}

/// Parses a period (`2025-06` or `2025`); the error names `field`.
pub fn parse_period(field: &str, raw: &str) -> Result<Period, FieldError> {
    Period::parse(raw).map_err(|e| {
        FieldError::new(
            field,
            format!("{e}: a year (2025) or a month (2025-06) from 2020 to 2035"),
        )
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(e.to_string()))
}

/// The rules and the parameters in force, as JSON.
pub fn rules_json(p: &laoxiao_rules::subsidies::Params) -> Value {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|r| json!({"code": r.code(), "zh": r.zh(), "en": r.en(), "cadence": cadence_code(r.cadence())}))
        .collect();
    let parameters: Vec<Value> = p
        .all()
        .map(|x| {
            json!({
                "name": x.name,
                "zh": x.zh,
                "unit": x.unit,
                "clause": x.clause,
                "placeholder": x.values.iter().any(|v| v.placeholder),
                "values": x.values.iter().map(|v| json!({
                    "from": v.from,
                    "until": v.until,
                    "value": v.value,
                    "placeholder": v.placeholder,
                    "source": v.source,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"parameters_version": p.version(), "rules": rules, "parameters": parameters})
}

/// The subsidy rules (code, names, cadence) and every parameter with its
/// dated values, units, clauses and placeholder flags.
#[utoipa::path(
    get,
    path = "/api/subsidies/rules",
    operation_id = "list_subsidy_rules",
    tag = "subsidies",
    summary = "The subsidy rules and their dated parameters",
    responses((status = 200, description = "Rules and parameters, with the parameters' version digest", body = Object))
)]
pub async fn rules(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.scope()?.require(Perm::ReadSubsidies)?;
    let p = blocking(&state, move |c, _| Ok(sub::params(c)?)).await?;
    Ok(Json(rules_json(&p)))
}

/// The runs, newest first (at most 500).
#[utoipa::path(
    get,
    path = "/api/subsidies/runs",
    operation_id = "list_subsidy_runs",
    tag = "subsidies",
    summary = "The subsidy runs, newest first",
    responses((status = 200, description = "Runs with status, who prepared and reviewed them, totals in fen", body = Object))
)]
pub async fn list_runs(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| Ok(sub::runs(c, &scope)?)).await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}

/// A period to prepare.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrepareBody {
    /// A month (`2025-06`: monthly rules and one-time awards) or a year
    /// (`2025`: annual rules, pro rata by month), 2020–2035.
    #[schema(example = "2025-06")]
    pub period: String,
}

/// Prepare a period's run (a draft): the registers are read, the rules run,
/// every line stored with its explanation. Preparing a period again
/// replaces its draft. City-wide accounts only.
#[utoipa::path(
    post,
    path = "/api/subsidies/runs",
    operation_id = "prepare_subsidy_run",
    tag = "subsidies",
    summary = "Prepare (or re-prepare) a period's draft run",
    request_body = PrepareBody,
    responses(
        (status = 201, description = "The draft run", body = Object),
        (status = 409, description = "The period has an approved run awaiting payment", body = ErrorBody),
        (status = 422, description = "Not a period (`period`)", body = ErrorBody),
    )
)]
pub async fn prepare(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<PrepareBody>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::ManageSubsidies)?;
    let period = parse_period("period", &b.period).map_err(|e| ApiError::invalid(vec![e]))?;
    let (run, _) = blocking(&state, move |c, _| Ok(sub::prepare(c, &scope, period)?)).await?;
    let location = format!("/api/subsidies/runs/{}", run.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(to_json(&run)?),
    )
        .into_response())
}

/// A run with its totals by county, by rule and by both (a county account:
/// its own county's).
#[utoipa::path(
    get,
    path = "/api/subsidies/runs/{id}",
    operation_id = "get_subsidy_run",
    tag = "subsidies",
    summary = "A run with its totals",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "`run` and `totals`", body = Object),
        (status = 404, description = "No such run", body = ErrorBody),
    )
)]
pub async fn get_run(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let (run, totals) = blocking(&state, move |c, _| {
        let run = sub::run(c, &scope, id)?;
        let totals = sub::totals(c, &scope, id)?;
        Ok((run, totals))
    })
    .await?;
    Ok(Json(json!({ "run": run, "totals": totals })))
}

query_params! {
    /// Filters on a run's lines.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct LinesParams {
        /// Only this county's lines (its 6-digit code; `330400` for the city's own).
        #[param(pattern = "^[0-9]{6}$")]
        pub county: Option<String>,
        /// Only this rule (a code of `GET /api/subsidies/rules`).
        pub rule: Option<String>,
        /// Only this payee (its id, exactly).
        #[param(min_length = 1, max_length = 100)]
        pub payee: Option<String>,
        /// `regular`, `award` or `adjustment`.
        pub kind: Option<String>,
        /// The `next` of the previous page (a line number).
        #[param(minimum = 0)]
        pub after: Option<i64>,
        /// Page size, 1–500 (default 50).
        #[param(minimum = 1, maximum = 500)]
        pub limit: Option<u32>,
    }
}

fn line_query(p: LinesParams) -> Result<LineQuery, ApiError> {
    let mut errors = Vec::new();
    if let Some(c) = &p.county
        && !(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()))
    {
        errors.push(FieldError::new("county", "a county's 6-digit code"));
    }
    if let Some(r) = &p.rule
        && Rule::from_code(r).is_none()
    {
        let codes: Vec<&str> = Rule::ALL.iter().map(|r| r.code()).collect();
        errors.push(FieldError::new(
            "rule",
            format!("unknown rule; expected one of: {}", codes.join(", ")),
        ));
    }
    if let Some(k) = &p.kind
        && !KINDS.contains(&k.as_str())
    {
        errors.push(FieldError::new("kind", "regular, award or adjustment"));
    }
    if let Some(x) = &p.payee
        && (x.chars().count() > 100 || x.chars().any(char::is_control))
    {
        errors.push(FieldError::new("payee", "1 to 100 printable characters"));
    }
    if p.after.is_some_and(|a| a < 0) {
        errors.push(FieldError::new("after", "a line number (0 or more)"));
    }
    if p.limit.is_some_and(|l| !(1..=sub::MAX_PAGE).contains(&l)) {
        errors.push(FieldError::new(
            "limit",
            format!("from 1 to {}", sub::MAX_PAGE),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidQuery(errors));
    }
    Ok(LineQuery {
        county: p.county,
        rule: p.rule,
        payee: p.payee,
        kind: p.kind,
        after: p.after,
        limit: p.limit,
    })
}

/// A page of a run's lines in the caller's scope, by line number.
#[utoipa::path(
    get,
    path = "/api/subsidies/runs/{id}/lines",
    operation_id = "list_subsidy_lines",
    tag = "subsidies",
    summary = "A run's lines, filtered and paged",
    params(("id" = i64, Path, description = "The run's id"), LinesParams),
    responses(
        (status = 200, description = "`items` (each with its explanation) and `next` (pass as `after`; null on the last page)", body = Object),
        (status = 404, description = "No such run", body = ErrorBody),
    )
)]
pub async fn lines(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(p): ApiQuery<LinesParams>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let q = line_query(p)?;
    let page = blocking(&state, move |c, _| Ok(sub::lines(c, &scope, id, &q)?)).await?;
    Ok(Json(
        json!({ "items": page.items, "next": page.next_cursor.and_then(|c| c.parse::<i64>().ok()) }),
    ))
}

/// One line with its explanation: the parameters with their dates and
/// clauses, the inputs read, the arithmetic, the month shares of an annual line.
#[utoipa::path(
    get,
    path = "/api/subsidies/runs/{id}/lines/{line}",
    operation_id = "get_subsidy_line",
    tag = "subsidies",
    summary = "One line of a run, explained",
    params(
        ("id" = i64, Path, description = "The run's id"),
        ("line" = i64, Path, description = "The line's number in the run"),
    ),
    responses(
        (status = 200, description = "The line", body = Object),
        (status = 404, description = "No such line in the caller's scope", body = ErrorBody),
    )
)]
pub async fn line(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, line_no)): ApiPath<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let l = blocking(&state, move |c, _| Ok(sub::line(c, &scope, id, line_no)?)).await?;
    Ok(Json(to_json(&l)?))
}

/// A review's note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubsidyReviewBody {
    /// At most 500 characters.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

async fn review(
    state: AppState,
    auth: Auth,
    id: i64,
    approve: bool,
    note: Option<String>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::ManageSubsidies)?;
    let run = blocking(&state, move |c, _| {
        Ok(sub::review(c, &scope, id, approve, note.as_deref())?)
    })
    .await?;
    Ok(Json(to_json(&run)?))
}

/// Approve a draft. The account that prepared it cannot (403): a second
/// city administrator reviews every run.
#[utoipa::path(
    post,
    path = "/api/subsidies/runs/{id}/approve",
    operation_id = "approve_subsidy_run",
    tag = "subsidies",
    summary = "Approve a draft run (a second account)",
    params(("id" = i64, Path, description = "The run's id")),
    request_body = SubsidyReviewBody,
    responses(
        (status = 200, description = "Approved", body = Object),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "Not a draft, or an award in it was paid since", body = ErrorBody),
    )
)]
pub async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SubsidyReviewBody>,
) -> Result<Json<Value>, ApiError> {
    review(state, auth, id, true, b.note).await
}

/// Reject a draft (with a note saying why). The account that prepared it cannot.
#[utoipa::path(
    post,
    path = "/api/subsidies/runs/{id}/reject",
    operation_id = "reject_subsidy_run",
    tag = "subsidies",
    summary = "Reject a draft run (a second account)",
    params(("id" = i64, Path, description = "The run's id")),
    request_body = SubsidyReviewBody,
    responses(
        (status = 200, description = "Rejected", body = Object),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "Not a draft", body = ErrorBody),
    )
)]
pub async fn reject(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<SubsidyReviewBody>,
) -> Result<Json<Value>, ApiError> {
    review(state, auth, id, false, b.note).await
}

/// Mark an approved run paid: its awards enter the ledger (an award is
/// never paid twice) and it never changes again.
#[utoipa::path(
    post,
    path = "/api/subsidies/runs/{id}/paid",
    operation_id = "mark_subsidy_run_paid",
    tag = "subsidies",
    summary = "Mark an approved run paid",
    params(("id" = i64, Path, description = "The run's id")),
    responses(
        (status = 200, description = "Paid", body = Object),
        (status = 404, description = "No such run", body = ErrorBody),
        (status = 409, description = "Not approved, or an award in it was already paid", body = ErrorBody),
    )
)]
pub async fn paid(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::ManageSubsidies)?;
    let run = blocking(&state, move |c, _| Ok(sub::mark_paid(c, &scope, id)?)).await?;
    Ok(Json(to_json(&run)?))
}

query_params! {
    /// The payout list's format.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ExportParams {
        /// `xlsx` (default) or `csv`.
        pub format: Option<String>,
    }
}

/// The format asked (`xlsx` by default).
pub fn export_format(f: Option<&str>) -> Result<ExportFormat, FieldError> {
    match f {
        None | Some("xlsx") => Ok(ExportFormat::Xlsx),
        Some("csv") => Ok(ExportFormat::Csv),
        Some(_) => Err(FieldError::new("format", "xlsx or csv")),
    }
}

/// The payout list (发放清单) of a run in the caller's scope, with Chinese
/// headers and the totals by county and rule, as XLSX or CSV.
#[utoipa::path(
    get,
    path = "/api/subsidies/runs/{id}/export",
    operation_id = "export_subsidy_run",
    tag = "subsidies",
    summary = "A run's payout list as XLSX or CSV",
    params(("id" = i64, Path, description = "The run's id"), ExportParams),
    responses(
        (status = 200, description = "The file: XLSX (default) or CSV (UTF-8 with a byte-order mark)",
            content(
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "text/csv")
            )),
        (status = 404, description = "No such run", body = ErrorBody),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let format = export_format(p.format.as_deref()).map_err(|e| ApiError::InvalidQuery(vec![e]))?;
    let (run, bytes) = blocking(&state, move |c, _| {
        let run = sub::run(c, &scope, id)?;
        let bytes = sub::excel::payout_list(c, &scope, id, format)?;
        Ok((run, bytes))
    })
    .await?;
    Ok(file_response(run.id, &run.period, format, bytes))
}

/// A payout list as a download.
pub fn file_response(id: i64, period: &str, format: ExportFormat, bytes: Vec<u8>) -> Response {
    let (ct, ext) = match format {
        ExportFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    // The period is the store's (`2025-06`, `2025`): safe in a header.
    let period: String = period
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"subsidy-run-{id}-{period}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

query_params! {
    /// Whom and when to explain.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ExplainParams {
        /// The payee's id (a facility, person, school or operator credit code). Required.
        #[param(min_length = 1, max_length = 100)]
        pub payee: Option<String>,
        /// A month (2025-06) or a year (2025). Required.
        pub period: Option<String>,
    }
}

/// Why a payee gets what it gets in a period: the lines computed now from the
/// registers (with their explanations), the notes on why a candidate got
/// nothing (city-wide accounts), and the lines of stored runs.
#[utoipa::path(
    get,
    path = "/api/subsidies/explain",
    operation_id = "explain_subsidy",
    tag = "subsidies",
    summary = "Explain a payee's subsidies for a period",
    params(ExplainParams),
    responses(
        (status = 200, description = "`now`, `notes` and `stored` lines with the parameters' version", body = Object),
        (status = 404, description = "Nothing for this payee and period in the caller's scope", body = ErrorBody),
    )
)]
pub async fn explain(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ExplainParams>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let mut errors = Vec::new();
    let payee = match p.payee {
        Some(x) if x.chars().count() <= 100 && !x.chars().any(char::is_control) => Some(x),
        Some(_) => {
            errors.push(FieldError::new("payee", "1 to 100 printable characters"));
            None
        }
        None => {
            errors.push(FieldError::new("payee", "is required: the payee's id"));
            None
        }
    };
    let period = match p.period.as_deref() {
        Some(raw) => match parse_period("period", raw) {
            Ok(x) => Some(x),
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => {
            errors.push(FieldError::new(
                "period",
                "is required: a year (2025) or a month (2025-06)",
            ));
            None
        }
    };
    let (Some(payee), Some(period)) = (payee, period) else {
        return Err(ApiError::InvalidQuery(errors));
    };
    let e = blocking(&state, move |c, _| {
        Ok(sub::explain(c, &scope, &payee, period)?)
    })
    .await?;
    Ok(Json(to_json(&e)?))
}

/// A reform to cost.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfBody {
    /// The year to cost, 2022–2035.
    #[schema(minimum = 2022, maximum = 2035, example = 2026)]
    pub year: i32,
    /// A reform: a parameter file in the `data/policy` format (TOML, at most
    /// 64 KiB) whose entries take precedence from their dates. Give this or
    /// `example`.
    #[schema(max_length = 65536)]
    pub reform: Option<String>,
    /// One of the documented reforms instead: `centenarian_800` or
    /// `inclusive_plus_100`.
    #[schema(example = "centenarian_800")]
    pub example: Option<String>,
}

/// The reform text a what-if body names.
pub fn reform_text(reform: Option<String>, example: Option<&str>) -> Result<String, FieldError> {
    match (reform, example) {
        (Some(_), Some(_)) => Err(FieldError::new(
            "example",
            "give reform or example, not both",
        )),
        (Some(r), None) if r.trim().is_empty() => {
            Err(FieldError::new("reform", "is empty: give a parameter file"))
        }
        (Some(r), None) => Ok(r),
        (None, Some(x)) => EXAMPLES
            .iter()
            .find(|(k, _)| *k == x)
            .map(|(_, t)| t.to_string())
            .ok_or_else(|| FieldError::new("example", "centenarian_800 or inclusive_plus_100")),
        (None, None) => Err(FieldError::new(
            "reform",
            "is required: a parameter file (or name an example)",
        )),
    }
}

/// Cost a reform for a year, month by month, against the parameters in force:
/// totals, by month, by rule and by county, with the city's share. City-wide
/// accounts only.
#[utoipa::path(
    post,
    path = "/api/subsidies/whatif",
    operation_id = "subsidy_whatif",
    tag = "subsidies",
    summary = "Cost a reform of the parameters for a year",
    request_body = WhatIfBody,
    responses(
        (status = 200, description = "Baseline, reform and difference in fen: total, by_month, by_rule, by_county and the cells", body = Object),
        (status = 422, description = "A bad year or reform file", body = ErrorBody),
    )
)]
pub async fn whatif(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<WhatIfBody>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(Perm::ManageSubsidies)?;
    let mut errors = Vec::new();
    if !(2022..=2035).contains(&b.year) {
        errors.push(FieldError::new("year", "a year from 2022 to 2035"));
    }
    let reform = match reform_text(b.reform, b.example.as_deref()) {
        Ok(r) => Some(r),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let Some(reform) = reform.filter(|_| errors.is_empty()) else {
        return Err(ApiError::invalid(errors));
    };
    let year = b.year;
    let w = blocking(&state, move |c, _| {
        Ok(sub::whatif(c, &scope, year, &reform)?)
    })
    .await?;
    Ok(Json(to_json(&w)?))
}
