//! The indicator monitor's API (指标监测): `/api/indicators…`. Values are
//! aggregates (every account that reads aggregates sees every area's, as on
//! the overview); the records behind a count follow the caller's scope.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use laoxiao_model::{AreaLevel, FieldError};
use laoxiao_rules::indicators::{Period, definitions};
use laoxiao_store::StoreError;
use laoxiao_store::indicators::{self as ind, Report, excel};
use laoxiao_store::io::ExportFormat;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::schema::AreaLevelSchema;
use crate::{AppState, blocking};

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

/// The period asked (`2022`, `2022-06`); 400 when it is not one.
fn period(p: Option<&str>) -> Result<Period, ApiError> {
    let raw = p.ok_or_else(|| {
        ApiError::InvalidQuery(vec![FieldError::new(
            "period",
            "is required: a year (2022) or a month (2022-06)",
        )])
    })?;
    Period::parse(raw)
        .map_err(|e| ApiError::InvalidQuery(vec![FieldError::new("period", e.to_string())]))
}

fn area(state: &AppState, code: Option<&str>) -> Result<laoxiao_model::Area, ApiError> {
    let areas = &state.store.reference.areas;
    match code {
        Some(c) => areas.get(c).cloned().ok_or_else(|| {
            ApiError::InvalidQuery(vec![FieldError::new(
                "area",
                format!(
                    "unknown area code {:?}",
                    c.chars().take(20).collect::<String>()
                ),
            )])
        }),
        None => areas
            .root()
            .cloned()
            .ok_or_else(|| ApiError::Internal("the area tree has no city".into())),
    }
}

/// Every indicator's definition (as in `data/indicators/`).
#[utoipa::path(
    get,
    path = "/api/indicators",
    operation_id = "list_indicators",
    tag = "indicators",
    responses((status = 200, description = "The 44 definitions in the plan's order, with the version digest", body = Object))
)]
pub async fn list(auth: Auth) -> Result<Json<Value>, ApiError> {
    auth.scope()?.require(laoxiao_store::Perm::Aggregates)?;
    let d = definitions().map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({ "version": d.version, "items": d.all })))
}

query_params! {
    /// Which values: a period, an area and what around it.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ValuesParams {
        /// A year (2022) or a month (2022-06), 2020–2035. Required.
        pub period: Option<String>,
        /// The area (default: the city).
        pub area: Option<String>,
        /// Values of the area's subtree at this level instead of the area and
        /// its children (e.g. `town` for every town of a county).
        #[param(value_type = Option<AreaLevelSchema>)]
        pub level: Option<AreaLevel>,
        /// Only this indicator.
        pub indicator: Option<u32>,
        /// The live (provisional) values even when the period is published.
        pub live: Option<bool>,
    }
}

/// Values with their status for an area and its children (or the areas of
/// a level below it). Published values by default where the period was
/// published; otherwise live values marked provisional.
#[utoipa::path(
    get,
    path = "/api/indicators/values",
    operation_id = "indicator_values",
    tag = "indicators",
    params(ValuesParams),
    responses(
        (status = 200, description = "Values, each with numerator, denominator, status, next target and gap", body = Object),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn values(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ValuesParams>,
) -> Result<Json<Value>, ApiError> {
    auth.scope()?.require(laoxiao_store::Perm::Aggregates)?;
    let period = period(p.period.as_deref())?;
    let area = area(&state, p.area.as_deref())?;
    let (level, only, live) = (p.level, p.indicator, p.live.unwrap_or(false));
    let t = blocking(&state, move |c, r| {
        Ok(ind::table(c, r, period, today(), live)?)
    })
    .await?;
    let areas = &state.store.reference.areas;
    let wanted: Vec<&str> = match level {
        Some(l) => areas
            .subtree(&area.code)
            .into_iter()
            .filter(|a| a.level == l)
            .map(|a| a.code.as_str())
            .collect(),
        None => std::iter::once(area.code.as_str())
            .chain(
                areas
                    .children(&area.code)
                    .into_iter()
                    .map(|a| a.code.as_str()),
            )
            .collect(),
    };
    let set: std::collections::HashSet<&str> = wanted.into_iter().collect();
    let items: Vec<&ind::IndicatorValue> = t
        .values
        .iter()
        .filter(|v| set.contains(v.area_code.as_str()) && only.is_none_or(|n| v.indicator == n))
        .collect();
    Ok(Json(json!({
        "period": t.period.to_string(),
        "as_of": t.as_of,
        "provisional": t.publication.is_none(),
        "publication": t.publication,
        "definitions_version": t.definitions_version,
        "total": items.len(),
        "items": items,
    })))
}

query_params! {
    /// One value to explain.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ExplainParams {
        /// A year or a month. Required.
        pub period: Option<String>,
        /// The area (default: the city).
        pub area: Option<String>,
    }
}

/// One value explained: definition, numerator and denominator, the child
/// areas' values, and the records counted (for roles that may read them,
/// within their scope; at most 200 of each).
#[utoipa::path(
    get,
    path = "/api/indicators/{number}",
    operation_id = "explain_indicator",
    tag = "indicators",
    params(("number" = u32, Path, description = "The plan's indicator number (1–43, 45)"), ExplainParams),
    responses(
        (status = 200, description = "The explanation", body = Object),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 404, description = "No such indicator, or no value for the area", body = ErrorBody),
    )
)]
pub async fn explain(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<u32>,
    ApiQuery(p): ApiQuery<ExplainParams>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let period = period(p.period.as_deref())?;
    let area = area(&state, p.area.as_deref())?;
    let e = blocking(&state, move |c, r| {
        Ok(ind::explain(
            c,
            &scope,
            r,
            number,
            &area.code,
            period,
            today(),
        )?)
    })
    .await?;
    Ok(Json(
        serde_json::to_value(e).map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}

query_params! {
    /// A trend's area and last year.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct TrendParams {
        /// The area (default: the city).
        pub area: Option<String>,
        /// The last year (default: this year).
        pub to: Option<u32>,
    }
}

/// One indicator's values in an area by year from 2020, with the plan's
/// baseline and targets (a trend chart's data).
#[utoipa::path(
    get,
    path = "/api/indicators/{number}/trend",
    operation_id = "indicator_trend",
    tag = "indicators",
    params(("number" = u32, Path, description = "The plan's indicator number"), TrendParams),
    responses(
        (status = 200, description = "Values by year", body = Object),
        (status = 400, description = "Bad parameters", body = ErrorBody),
        (status = 404, description = "No such indicator", body = ErrorBody),
    )
)]
pub async fn trend(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<u32>,
    ApiQuery(p): ApiQuery<TrendParams>,
) -> Result<Json<Value>, ApiError> {
    auth.scope()?.require(laoxiao_store::Perm::Aggregates)?;
    let d = definitions()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .all
        .iter()
        .find(|d| d.number == number)
        .ok_or(ApiError::Store(StoreError::NotFound {
            what: "indicator",
            id: number.to_string(),
        }))?;
    let area = area(&state, p.area.as_deref())?;
    let this_year = chrono::Datelike::year(&today());
    let to = match p.to {
        Some(y) if (2020..=2035).contains(&y) => y as i32,
        Some(_) => {
            return Err(ApiError::InvalidQuery(vec![FieldError::new(
                "to",
                "must be a year from 2020 to 2035",
            )]));
        }
        None => this_year.clamp(2020, 2035),
    };
    let code = area.code.clone();
    let values = blocking(&state, move |c, r| {
        Ok(ind::trend(c, r, number, &code, to, today())?)
    })
    .await?;
    Ok(Json(json!({
        "indicator": number,
        "area_code": area.code,
        "baseline_2020": d.baseline_2020,
        "target_2022": d.target_2022,
        "target_2025": d.target_2025,
        "items": values,
    })))
}

query_params! {
    /// Which reported values.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ReportedParams {
        /// Only this period.
        pub period: Option<String>,
    }
}

/// The reported values entered.
#[utoipa::path(
    get,
    path = "/api/indicators/reported",
    operation_id = "list_reported_values",
    tag = "indicators",
    params(ReportedParams),
    responses((status = 200, description = "Reported values", body = Object), (status = 400, description = "Bad parameters", body = ErrorBody))
)]
pub async fn reported(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ReportedParams>,
) -> Result<Json<Value>, ApiError> {
    auth.scope()?.require(laoxiao_store::Perm::Aggregates)?;
    let period = p.period.as_deref().map(|s| period(Some(s))).transpose()?;
    let items = blocking(&state, move |c, _| Ok(ind::reported_values(c, period)?)).await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}

/// Reported values to enter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// At most 10,000 values: all are entered or none.
    #[schema(value_type = Vec<Object>)]
    pub values: Vec<Report>,
}

/// Enter reported values (填报) for areas in the caller's scope: all or none;
/// each is audited with who entered it and when.
#[utoipa::path(
    post,
    path = "/api/indicators/reported",
    operation_id = "report_values",
    tag = "indicators",
    request_body = ReportBody,
    responses(
        (status = 200, description = "Entered", body = Object),
        (status = 422, description = "Rows refused (row, column, reason); nothing entered", body = ErrorBody),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(body): ApiJson<ReportBody>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let n = blocking(&state, move |c, r| {
        Ok(ind::report(c, &scope, r, &body.values)?)
    })
    .await?;
    Ok(Json(json!({ "entered": n })))
}

/// An area's own target.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    pub indicator: u32,
    pub area_code: String,
    /// 2020 (the area's own baseline) to 2035.
    pub year: i32,
    /// In the plan's notation: `95`, `72以上`, `5以下`.
    pub target: String,
    /// Where the target comes from (the county's plan).
    pub source: Option<String>,
}

/// Set an area's own target (a county's own plan); it replaces the city's
/// target in that area's status.
#[utoipa::path(
    post,
    path = "/api/indicators/targets",
    operation_id = "set_indicator_target",
    tag = "indicators",
    request_body = TargetBody,
    responses((status = 200, description = "Set", body = Object), (status = 422, description = "Refused", body = ErrorBody))
)]
pub async fn set_target(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<TargetBody>,
) -> Result<Json<Value>, ApiError> {
    let scope = auth.scope()?;
    let (n, a, y, t) = (b.indicator, b.area_code.clone(), b.year, b.target.clone());
    blocking(&state, move |c, r| {
        Ok(ind::set_target(
            c,
            &scope,
            r,
            b.indicator,
            &b.area_code,
            b.year,
            &b.target,
            b.source.as_deref(),
        )?)
    })
    .await?;
    Ok(Json(
        json!({ "indicator": n, "area_code": a, "year": y, "target": t }),
    ))
}

/// The publications, newest first.
#[utoipa::path(
    get,
    path = "/api/indicators/publications",
    operation_id = "list_publications",
    tag = "indicators",
    responses((status = 200, description = "Publications", body = Object))
)]
pub async fn publications(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    auth.scope()?.require(laoxiao_store::Perm::Aggregates)?;
    let items = blocking(&state, move |c, _| Ok(ind::publications(c)?)).await?;
    Ok(Json(json!({ "total": items.len(), "items": items })))
}

/// A period to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// A year (2022) or a month (2022-06).
    pub period: String,
    pub note: Option<String>,
}

/// Publish a period (发布): its live values are frozen with the registers'
/// and definitions' versions and shown by default from now on.
#[utoipa::path(
    post,
    path = "/api/indicators/publications",
    operation_id = "publish_indicators",
    tag = "indicators",
    request_body = PublishBody,
    responses((status = 201, description = "Published", body = Object), (status = 422, description = "Refused", body = ErrorBody))
)]
pub async fn publish(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<PublishBody>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let period = Period::parse(&b.period)
        .map_err(|e| ApiError::invalid(vec![FieldError::new("period", e.to_string())]))?;
    let p = blocking(&state, move |c, r| {
        Ok(ind::publish(
            c,
            &scope,
            r,
            period,
            today(),
            b.note.as_deref(),
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}

/// What recomputing a published period would change, and why.
#[utoipa::path(
    get,
    path = "/api/indicators/publications/{period}/changes",
    operation_id = "publication_changes",
    tag = "indicators",
    params(("period" = String, Path, description = "A published period (2022 or 2022-06)")),
    responses(
        (status = 200, description = "The changed values and the reasons", body = Object),
        (status = 400, description = "Not a period", body = ErrorBody),
        (status = 404, description = "The period was never published", body = ErrorBody),
    )
)]
pub async fn changes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    auth.scope()?.require(laoxiao_store::Perm::Aggregates)?;
    let period = Period::parse(&raw)
        .map_err(|e| ApiError::InvalidPath(FieldError::new("period", e.to_string())))?;
    let r = blocking(&state, move |c, r| {
        Ok(ind::recompute(c, r, period, today())?)
    })
    .await?;
    Ok(Json(
        serde_json::to_value(r).map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}

query_params! {
    /// The table to download.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ExportParams {
        /// A year or a month. Required.
        pub period: Option<String>,
        /// The area (default: the city).
        pub area: Option<String>,
        /// `xlsx` (default) or `csv`.
        pub format: Option<String>,
    }
}

/// The plan's indicator table for an area with the current values, status
/// and gap (Chinese headers), as XLSX or CSV.
#[utoipa::path(
    get,
    path = "/api/indicators/export",
    operation_id = "export_indicators",
    tag = "indicators",
    params(ExportParams),
    responses(
        (status = 200, description = "The file: XLSX (default) or CSV (UTF-8 with a byte-order mark)",
            content(
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (String = "text/csv")
            )),
        (status = 400, description = "Bad parameters", body = ErrorBody),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    auth.scope()?.require(laoxiao_store::Perm::Aggregates)?;
    let period = period(p.period.as_deref())?;
    let area = area(&state, p.area.as_deref())?;
    let format = match p.format.as_deref() {
        None | Some("xlsx") => ExportFormat::Xlsx,
        Some("csv") => ExportFormat::Csv,
        Some(_) => {
            return Err(ApiError::InvalidQuery(vec![FieldError::new(
                "format",
                "xlsx or csv",
            )]));
        }
    };
    let code = area.code.clone();
    let bytes = blocking(&state, move |c, r| {
        let t = ind::table(c, r, period, today(), false)?;
        Ok(excel::export_table(&t, &code, format)?)
    })
    .await?;
    let (ct, ext) = match format {
        ExportFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"indicators-{}-{period}.{ext}\"",
                    area.code
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
