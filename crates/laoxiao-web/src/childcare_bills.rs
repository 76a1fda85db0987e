//! A childcare institution's monthly bills (托育费账单) over HTTP: the price
//! list, the month's bills made from attendance, payments, the statement
//! (page and CSV), the area's month for the county and city, and a family's
//! bills. The rules are the store's (`laoxiao_store::childcare_bills`) and
//! `laoxiao_rules::childcare_bill`. Amounts are returned in fen (分, exact
//! integers) and taken in yuan.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_model::childcare_bills::{PaymentMethod, PriceItem};
use laoxiao_rules::childcare_bill::BillLine;
use laoxiao_rules::subsidies::Month;
use laoxiao_store::childcare_bills::{
    self as cb, Bill, BillRow, Generated, InstitutionMonth, Payment, PaymentInput, PriceList,
    Statement, Totals,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// The largest amount in yuan an input takes (the store bounds it further).
const MAX_YUAN: f64 = 1_000_000.0;

/// A yuan amount into fen, exactly: at most two decimals.
fn fen(field: &str, v: f64) -> Result<i64, FieldError> {
    let f = v * 100.0;
    if !v.is_finite() || !(0.0..=MAX_YUAN).contains(&v) || (f - f.round()).abs() > 1e-6 {
        return Err(FieldError::new(
            field,
            format!("{v}: an amount in yuan from 0 to {MAX_YUAN}, at most two decimals"),
        ));
    }
    Ok(f.round() as i64)
}

fn month_of(v: Option<&str>, today: NaiveDate) -> Result<Month, ApiError> {
    match v {
        None => Ok(Month::of(today)),
        Some(s) => cb::parse_month(s, today).map_err(ApiError::from),
    }
}

// ------------------------------------------------------------ views

/// An item of the price list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceLineView {
    /// `half_day` (a month), `hourly` (an hour), `temporary` (a day), `meal_refund` (an absent day).
    pub item: String,
    pub label: String,
    pub amount_fen: Option<i64>,
}

/// A class's monthly fee (全日托) and its inclusive cap.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassFeeView {
    pub class_id: String,
    pub class_type: String,
    pub class_type_label: String,
    pub monthly_fee_fen: Option<i64>,
    /// An inclusive institution's cap for the class type (规划附件2 托育服务政策8).
    pub cap_fen: Option<i64>,
}

/// An institution's price list (收费标准).
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceListView {
    pub facility_id: String,
    pub facility_name: String,
    pub inclusive: bool,
    pub classes: Vec<ClassFeeView>,
    pub items: Vec<PriceLineView>,
    pub half_day_cap_fen: Option<i64>,
}

impl From<PriceList> for PriceListView {
    fn from(p: PriceList) -> Self {
        PriceListView {
            facility_id: p.facility_id,
            facility_name: p.facility_name,
            inclusive: p.inclusive,
            classes: p
                .classes
                .into_iter()
                .map(|c| ClassFeeView {
                    class_id: c.class_id,
                    class_type: c.class_type.code().into(),
                    class_type_label: c.class_type.label_zh().into(),
                    monthly_fee_fen: c.monthly_fee_fen,
                    cap_fen: c.cap_fen,
                })
                .collect(),
            items: p
                .items
                .into_iter()
                .map(|i| PriceLineView {
                    item: i.item.code().into(),
                    label: i.label.into(),
                    amount_fen: i.amount_fen,
                })
                .collect(),
            half_day_cap_fen: p.half_day_cap_fen,
        }
    }
}

/// A bill as a list row (the child masked for staff, in full for the family).
#[derive(Debug, Serialize, ToSchema)]
pub struct BillRowView {
    pub id: String,
    pub month: String,
    pub enrolment_id: String,
    pub infant_id: String,
    pub infant_name: String,
    pub facility_id: String,
    pub facility_name: String,
    pub class_id: Option<String>,
    /// `full_day`, `half_day`, `hourly`, `temporary`.
    pub care_type: String,
    pub care_type_label: String,
    pub due_fen: i64,
    pub paid_fen: i64,
    /// The inclusive operating subsidy the institution receives for the
    /// child this month (shown, not deducted).
    pub subsidy_fen: i64,
    /// `open`, `partly_paid`, `paid`.
    pub status: String,
    pub status_label: String,
    #[schema(value_type = String, format = Date)]
    pub due_date: NaiveDate,
    pub overdue: bool,
}

impl From<BillRow> for BillRowView {
    fn from(b: BillRow) -> Self {
        BillRowView {
            id: b.id,
            month: b.month,
            enrolment_id: b.enrolment_id,
            infant_id: b.infant_id,
            infant_name: b.infant_name,
            facility_id: b.facility_id,
            facility_name: b.facility_name,
            class_id: b.class_id,
            care_type: b.care_type.code().into(),
            care_type_label: b.care_type.label_zh().into(),
            due_fen: b.due_fen,
            paid_fen: b.paid_fen,
            subsidy_fen: b.subsidy_fen,
            status: b.status.code().into(),
            status_label: b.status.label_zh().into(),
            due_date: b.due_date,
            overdue: b.overdue,
        }
    }
}

/// A line of a bill.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillLineView {
    /// `monthly_fee`, `hours`, `days`, `meal_refund`.
    pub kind: String,
    pub label: String,
    pub quantity: i64,
    pub of: Option<i64>,
    pub unit_fen: i64,
    /// Negative for a refund.
    pub amount_fen: i64,
    pub note: String,
}

impl From<BillLine> for BillLineView {
    fn from(l: BillLine) -> Self {
        BillLineView {
            kind: l.kind.code().into(),
            label: l.kind.label_zh().into(),
            quantity: l.quantity,
            of: l.of,
            unit_fen: l.unit_fen,
            amount_fen: l.amount_fen,
            note: l.note,
        }
    }
}

/// A payment (缴费记录).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: String,
    pub amount_fen: i64,
    pub method: String,
    pub method_label: String,
    #[schema(value_type = String, format = Date)]
    pub paid_on: NaiveDate,
    pub reference: Option<String>,
    pub recorded_at: String,
}

impl From<Payment> for PaymentView {
    fn from(p: Payment) -> Self {
        PaymentView {
            id: p.id,
            amount_fen: p.amount_fen,
            method: p.method.code().into(),
            method_label: p.method.label_zh().into(),
            paid_on: p.paid_on,
            reference: p.reference,
            recorded_at: p.recorded_at,
        }
    }
}

/// A bill with its lines and payments.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillView {
    #[serde(flatten)]
    pub row: BillRowView,
    pub lines: Vec<BillLineView>,
    pub payments: Vec<PaymentView>,
    pub subsidy_note: Option<String>,
    pub issued_at: String,
    pub updated_at: String,
}

impl From<Bill> for BillView {
    fn from(b: Bill) -> Self {
        BillView {
            row: b.row.into(),
            lines: b.lines.into_iter().map(Into::into).collect(),
            payments: b.payments.into_iter().map(Into::into).collect(),
            subsidy_note: b.subsidy_note,
            issued_at: b.issued_at,
            updated_at: b.updated_at,
        }
    }
}

/// The month's totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotalsView {
    pub bills: i64,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub outstanding_fen: i64,
    pub overdue: i64,
    pub subsidy_fen: i64,
}

impl From<Totals> for TotalsView {
    fn from(t: Totals) -> Self {
        TotalsView {
            bills: t.bills,
            due_fen: t.due_fen,
            paid_fen: t.paid_fen,
            outstanding_fen: t.outstanding_fen,
            overdue: t.overdue,
            subsidy_fen: t.subsidy_fen,
        }
    }
}

/// An institution's month (月度对账单).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatementView {
    pub facility_id: String,
    pub facility_name: String,
    pub month: String,
    pub totals: TotalsView,
    pub bills: Vec<BillRowView>,
    /// Children enrolled in the month without a bill yet.
    pub unbilled: i64,
}

impl From<Statement> for StatementView {
    fn from(s: Statement) -> Self {
        StatementView {
            facility_id: s.facility_id,
            facility_name: s.facility_name,
            month: s.month,
            totals: s.totals.into(),
            bills: s.bills.into_iter().map(Into::into).collect(),
            unbilled: s.unbilled,
        }
    }
}

/// One institution's month in the area.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionMonthView {
    pub facility_id: String,
    pub facility_name: String,
    pub area_path: String,
    pub totals: TotalsView,
}

impl From<InstitutionMonth> for InstitutionMonthView {
    fn from(m: InstitutionMonth) -> Self {
        InstitutionMonthView {
            facility_id: m.facility_id,
            facility_name: m.facility_name,
            area_path: m.area_path,
            totals: m.totals.into(),
        }
    }
}

/// The area's month per institution.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaMonthView {
    pub month: String,
    pub items: Vec<InstitutionMonthView>,
}

/// A child that could not be billed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedView {
    pub enrolment_id: String,
    pub facility_id: String,
    pub reason: String,
}

/// What a billing run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillRunView {
    pub month: String,
    pub institutions: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub kept_paid: i64,
    pub skipped: i64,
    pub skipped_reasons: Vec<SkippedView>,
    pub due_fen: i64,
}

impl From<Generated> for BillRunView {
    fn from(g: Generated) -> Self {
        BillRunView {
            month: g.month,
            institutions: g.institutions,
            created: g.created,
            updated: g.updated,
            unchanged: g.unchanged,
            kept_paid: g.kept_paid,
            skipped: g.skipped,
            skipped_reasons: g
                .skipped_reasons
                .into_iter()
                .map(|s| SkippedView {
                    enrolment_id: s.enrolment_id,
                    facility_id: s.facility_id,
                    reason: s.reason,
                })
                .collect(),
            due_fen: g.due_fen,
        }
    }
}

/// A family's bills for a child.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillRowList {
    pub items: Vec<BillRowView>,
}

// ------------------------------------------------------------ bodies

/// The price list to set: each item given is set (yuan), each in `remove`
/// is removed, the others stay.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PricesBody {
    /// Half day, yuan a month.
    #[schema(minimum = 0.0, maximum = 1000000.0)]
    pub half_day: Option<f64>,
    /// Hourly care, yuan an hour.
    #[schema(minimum = 0.0, maximum = 1000000.0)]
    pub hourly: Option<f64>,
    /// Temporary care, yuan a day.
    #[schema(minimum = 0.0, maximum = 1000000.0)]
    pub temporary: Option<f64>,
    /// Meal refund, yuan an absent day.
    #[schema(minimum = 0.0, maximum = 1000000.0)]
    pub meal_refund: Option<f64>,
    /// Items to remove: `half_day`, `hourly`, `temporary`, `meal_refund`.
    #[serde(default)]
    #[schema(max_items = 4)]
    pub remove: Vec<String>,
}

/// The month to bill.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct BillRunBody {
    /// `YYYY-MM`, not after the current month.
    #[schema(required = true, example = "2026-11", pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub month: Option<String>,
}

/// A payment to record.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PaymentBody {
    /// Yuan, at most what is still owed.
    #[schema(required = true, minimum = 0.01, maximum = 1000000.0)]
    pub amount: Option<f64>,
    /// `cash`, `bank_transfer`, `wechat_pay`, `alipay`, `other`.
    #[schema(required = true, value_type = String, pattern = "^(cash|bank_transfer|wechat_pay|alipay|other)$")]
    pub method: Option<String>,
    /// The day it was paid; today when absent.
    #[schema(value_type = Option<String>, format = Date)]
    pub paid_on: Option<NaiveDate>,
    /// The receipt or transaction number.
    #[schema(max_length = 64)]
    pub reference: Option<String>,
}

query_params! {
    /// The month asked (the current month when absent).
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct MonthParams {
        /// YYYY-MM; the current month when absent.
        #[param(example = "2026-11", pattern = "^[0-9]{4}-[0-9]{2}$")]
        pub month: Option<String>,
    }
}

pub(crate) fn prices_input(b: &PricesBody) -> Result<Vec<(PriceItem, Option<i64>)>, ApiError> {
    let mut errs = Vec::new();
    let mut out = Vec::new();
    for (item, v) in [
        (PriceItem::HalfDay, b.half_day),
        (PriceItem::Hourly, b.hourly),
        (PriceItem::Temporary, b.temporary),
        (PriceItem::MealRefund, b.meal_refund),
    ] {
        if let Some(v) = v {
            match fen(item.code(), v) {
                Ok(f) => out.push((item, Some(f))),
                Err(e) => errs.push(e),
            }
        }
    }
    if b.remove.len() > PriceItem::ALL.len() {
        errs.push(FieldError::new("remove", "at most four items"));
    } else {
        for r in &b.remove {
            match PriceItem::parse(r) {
                Some(i) if out.iter().any(|(x, _)| *x == i) => errs.push(FieldError::new(
                    "remove",
                    format!("{r}: set and removed at once"),
                )),
                Some(i) => out.push((i, None)),
                None => errs.push(FieldError::new(
                    "remove",
                    format!(
                        "{:?}: one of {}",
                        r.chars().take(40).collect::<String>(),
                        PriceItem::expected()
                    ),
                )),
            }
        }
    }
    if errs.is_empty() && out.is_empty() {
        errs.push(FieldError::new(
            "half_day",
            "give at least one price or an item to remove",
        ));
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::invalid(errs))
    }
}

pub(crate) fn payment_input(b: &PaymentBody, today: NaiveDate) -> Result<PaymentInput, ApiError> {
    let mut errs = Vec::new();
    let amount = match b.amount {
        None => {
            errs.push(FieldError::new("amount", "how much was paid, in yuan"));
            0
        }
        Some(v) => fen("amount", v).unwrap_or_else(|e| {
            errs.push(e);
            0
        }),
    };
    let method = match b.method.as_deref().map(|m| (m, PaymentMethod::parse(m))) {
        Some((_, Some(m))) => Some(m),
        Some((m, None)) => {
            errs.push(FieldError::new(
                "method",
                format!(
                    "{:?}: one of {}",
                    m.chars().take(40).collect::<String>(),
                    PaymentMethod::expected()
                ),
            ));
            None
        }
        None => {
            errs.push(FieldError::new("method", "how it was paid"));
            None
        }
    };
    match method {
        Some(method) if errs.is_empty() => Ok(PaymentInput {
            amount_fen: amount,
            method,
            paid_on: b.paid_on.unwrap_or(today),
            reference: b.reference.clone(),
        }),
        _ => Err(ApiError::invalid(errs)),
    }
}

// ------------------------------------------------------------ institution

/// The institution's price list: its classes' monthly fees (全日托) with the
/// inclusive caps, and the half-day, hourly, temporary and meal-refund prices.
#[utoipa::path(
    get,
    path = "/api/childcare/institutions/{id}/prices",
    operation_id = "get_childcare_prices",
    tag = "childcare",
    params(("id" = String, Path, description = "The institution's facility id")),
    responses(
        (status = 200, description = "The price list", body = PriceListView),
        (status = 404, description = "No such childcare institution in your area", body = ErrorBody),
    )
)]
pub async fn prices(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PriceListView>, ApiError> {
    let scope = auth.scope()?;
    let p = blocking(&state, move |c, _| Ok(cb::prices(c, &scope, &id, today())?)).await?;
    Ok(Json(p.into()))
}

/// Set items of the price list (the institution's own staff).
#[utoipa::path(
    put,
    path = "/api/childcare/institutions/{id}/prices",
    operation_id = "set_childcare_prices",
    tag = "childcare",
    params(("id" = String, Path, description = "The institution's facility id")),
    request_body = PricesBody,
    responses(
        (status = 200, description = "The price list", body = PriceListView),
        (status = 403, description = "Not your institution", body = ErrorBody),
        (status = 404, description = "No such childcare institution in your area", body = ErrorBody),
        (status = 422, description = "An amount out of range or above the inclusive cap", body = ErrorBody),
    )
)]
pub async fn set_prices(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PricesBody>,
) -> Result<Json<PriceListView>, ApiError> {
    let items = prices_input(&b)?;
    let scope = auth.scope()?;
    let p = blocking(&state, move |c, _| {
        Ok(cb::set_prices(c, &scope, &id, &items, today())?)
    })
    .await?;
    Ok(Json(p.into()))
}

/// Bill the month for every child enrolled in it (生成月度账单); again, to
/// recompute the bills not yet paid.
#[utoipa::path(
    post,
    path = "/api/childcare/institutions/{id}/bills",
    operation_id = "generate_childcare_bills",
    tag = "childcare",
    params(("id" = String, Path, description = "The institution's facility id")),
    request_body = BillRunBody,
    responses(
        (status = 200, description = "What the run did", body = BillRunView),
        (status = 403, description = "Not your institution", body = ErrorBody),
        (status = 404, description = "No such childcare institution in your area", body = ErrorBody),
        (status = 422, description = "A month not begun", body = ErrorBody),
    )
)]
pub async fn generate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<BillRunBody>,
) -> Result<Json<BillRunView>, ApiError> {
    let Some(m) = b.month.as_deref() else {
        return Err(ApiError::invalid(vec![FieldError::new(
            "month",
            "the month to bill, YYYY-MM",
        )]));
    };
    let month = month_of(Some(m), today())?;
    let scope = auth.scope()?;
    let now = chrono::Local::now().naive_local();
    let g = blocking(&state, move |c, _| {
        Ok(cb::generate(c, &scope, month, Some(&id), now)?)
    })
    .await?;
    Ok(Json(g.into()))
}

/// The institution's month (月度对账单): every bill, the totals, children not yet billed.
#[utoipa::path(
    get,
    path = "/api/childcare/institutions/{id}/bills",
    operation_id = "get_childcare_statement",
    tag = "childcare",
    params(("id" = String, Path, description = "The institution's facility id"), MonthParams),
    responses(
        (status = 200, description = "The statement", body = StatementView),
        (status = 404, description = "No such childcare institution in your area", body = ErrorBody),
        (status = 422, description = "A month not begun", body = ErrorBody),
    )
)]
pub async fn statement(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Json<StatementView>, ApiError> {
    let today = today();
    let month = month_of(p.month.as_deref(), today)?;
    let scope = auth.scope()?;
    let s = blocking(&state, move |c, _| {
        Ok(cb::statement(c, &scope, &id, month, today)?)
    })
    .await?;
    Ok(Json(s.into()))
}

/// The statement as CSV (UTF-8 with a byte-order mark, Chinese headers).
#[utoipa::path(
    get,
    path = "/api/childcare/institutions/{id}/statement.csv",
    operation_id = "export_childcare_statement",
    tag = "childcare",
    params(("id" = String, Path, description = "The institution's facility id"), MonthParams),
    responses(
        (status = 200, description = "The statement", content((String = "text/csv"))),
        (status = 404, description = "No such childcare institution in your area", body = ErrorBody),
        (status = 422, description = "A month not begun", body = ErrorBody),
    )
)]
pub async fn statement_csv(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Response, ApiError> {
    let today = today();
    let month = month_of(p.month.as_deref(), today)?;
    let scope = auth.scope()?;
    let bytes = blocking(&state, move |c, _| {
        let s = cb::statement(c, &scope, &id, month, today)?;
        Ok(cb::statement_csv(&s)?)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"childcare-statement-{month}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The area's month: each childcare institution's bills, paid, outstanding,
/// overdue and the inclusive subsidy (county and city; an operator its own).
#[utoipa::path(
    get,
    path = "/api/childcare/bills",
    operation_id = "list_childcare_bill_months",
    tag = "childcare",
    params(MonthParams),
    responses(
        (status = 200, description = "The area's month", body = AreaMonthView),
        (status = 422, description = "A month not begun", body = ErrorBody),
    )
)]
pub async fn area_month(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Json<AreaMonthView>, ApiError> {
    let today = today();
    let month = month_of(p.month.as_deref(), today)?;
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(cb::area_month(c, &scope, month, today)?)
    })
    .await?;
    Ok(Json(AreaMonthView {
        month: month.to_string(),
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// A bill with its lines and payments.
#[utoipa::path(
    get,
    path = "/api/childcare/bills/{id}",
    operation_id = "get_childcare_bill",
    tag = "childcare",
    params(("id" = String, Path, description = "The bill's id")),
    responses(
        (status = 200, description = "The bill", body = BillView),
        (status = 404, description = "No such bill in your area", body = ErrorBody),
    )
)]
pub async fn bill(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BillView>, ApiError> {
    let scope = auth.scope()?;
    let b = blocking(&state, move |c, _| Ok(cb::bill(c, &scope, &id, today())?)).await?;
    Ok(Json(b.into()))
}

/// Record a payment against a bill (缴费登记; the institution's own staff).
#[utoipa::path(
    post,
    path = "/api/childcare/bills/{id}/payments",
    operation_id = "record_childcare_payment",
    tag = "childcare",
    params(("id" = String, Path, description = "The bill's id")),
    request_body = PaymentBody,
    responses(
        (status = 201, description = "Recorded; the bill", body = BillView),
        (status = 403, description = "Not your institution", body = ErrorBody),
        (status = 404, description = "No such bill in your area", body = ErrorBody),
        (status = 409, description = "Another payment was recorded at the same moment", body = ErrorBody),
        (status = 422, description = "More than is owed, or a bad date or method", body = ErrorBody),
    )
)]
pub async fn pay(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PaymentBody>,
) -> Result<(StatusCode, Json<BillView>), ApiError> {
    let today = today();
    let input = payment_input(&b, today)?;
    let scope = auth.scope()?;
    let b = blocking(&state, move |c, _| {
        Ok(cb::pay(c, &scope, &id, &input, today)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(b.into())))
}

// ------------------------------------------------------------ family

/// Your child's bills, newest first (the last 24 months).
#[utoipa::path(
    get,
    path = "/api/family/children/{id}/bills",
    operation_id = "list_family_childcare_bills",
    tag = "family",
    params(("id" = String, Path, description = "The child's person id")),
    responses(
        (status = 200, description = "The bills", body = BillRowList),
        (status = 404, description = "Not a child linked to your account", body = ErrorBody),
    )
)]
pub async fn family_bills(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BillRowList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(cb::family_bills(c, &scope, &id, today())?)
    })
    .await?;
    Ok(Json(BillRowList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One of your child's bills with its lines and payments.
#[utoipa::path(
    get,
    path = "/api/family/bills/{id}",
    operation_id = "get_family_childcare_bill",
    tag = "family",
    params(("id" = String, Path, description = "The bill's id")),
    responses(
        (status = 200, description = "The bill", body = BillView),
        (status = 404, description = "Not a bill of a child linked to your account", body = ErrorBody),
    )
)]
pub async fn family_bill(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BillView>, ApiError> {
    let scope = auth.scope()?;
    let b = blocking(&state, move |c, _| Ok(cb::bill(c, &scope, &id, today())?)).await?;
    Ok(Json(b.into()))
}
