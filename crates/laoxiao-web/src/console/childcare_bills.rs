//! The childcare bills pages (托育费账单): an institution's month (the price
//! list, the billing run, every bill, the CSV statement), the area's month
//! for county and city staff, one bill with its lines and the payment form,
//! and a family's bills for its child. The rules are the store's
//! (`laoxiao_store::childcare_bills`); children are masked for staff.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_model::childcare_bills::{PaymentMethod, PriceItem};
use laoxiao_rules::subsidies::{Month, yuan};
use laoxiao_store::Perm;
use laoxiao_store::childcare_bills::{self as cb, Bill, BillRow, PaymentInput, Totals};
use serde_json::{Value as Json, json};

use super::family::{errors_json, form_errors};
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, ctx_or_error};
use crate::encode_segment;

const PATH: &str = "/console/childcare/bills";

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn money(fen: Option<i64>) -> Option<String> {
    fen.map(yuan)
}

fn totals_json(t: &Totals) -> Json {
    json!({
        "bills": t.bills,
        "due": yuan(t.due_fen),
        "paid": yuan(t.paid_fen),
        "outstanding": yuan(t.outstanding_fen),
        "overdue": t.overdue,
        "subsidy": yuan(t.subsidy_fen),
    })
}

fn row_json(b: &BillRow, url: String) -> Json {
    json!({
        "url": url,
        "id": b.id,
        "month": b.month,
        "child": b.infant_name,
        "facility": b.facility_name,
        "class_id": b.class_id,
        "care_type": b.care_type.label_zh(),
        "due": yuan(b.due_fen),
        "paid": yuan(b.paid_fen),
        "outstanding": yuan((b.due_fen - b.paid_fen).max(0)),
        "subsidy": yuan(b.subsidy_fen),
        "status": b.status.code(),
        "status_label": b.status.label_zh(),
        "due_date": b.due_date.to_string(),
        "overdue": b.overdue,
    })
}

fn bill_json(b: &Bill) -> Json {
    json!({
        "row": row_json(&b.row, String::new()),
        "lines": b.lines.iter().map(|l| json!({
            "label": l.kind.label_zh(),
            "quantity": match l.of { Some(of) => format!("{} / {of}", l.quantity), None => l.quantity.to_string() },
            "unit": yuan(l.unit_fen),
            "amount": yuan(l.amount_fen),
            "refund": l.amount_fen < 0,
            "note": l.note,
        })).collect::<Vec<_>>(),
        "payments": b.payments.iter().map(|p| json!({
            "amount": yuan(p.amount_fen),
            "method": p.method.label_zh(),
            "paid_on": p.paid_on.to_string(),
            "reference": p.reference,
        })).collect::<Vec<_>>(),
        "subsidy_note": b.subsidy_note,
        "owed": yuan((b.row.due_fen - b.row.paid_fen).max(0)),
        "owed_value": format!("{:.2}", (b.row.due_fen - b.row.paid_fen).max(0) as f64 / 100.0),
        "settled": b.row.paid_fen >= b.row.due_fen,
    })
}

fn month_param(ctx: &Ctx, errs: &mut Vec<FieldError>) -> Month {
    let t = today();
    match ctx.param("month").filter(|m| !m.is_empty()) {
        None => Month::of(t),
        Some(m) => cb::parse_month(m, t).unwrap_or_else(|e| {
            if let laoxiao_store::StoreError::Invalid(v) = e {
                errs.extend(v);
            }
            Month::of(t)
        }),
    }
}

async fn render(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
    facility: Option<String>,
    month: Month,
    generated: Option<cb::Generated>,
) -> Response {
    let scope = ctx.scope();
    let can_manage = scope.can(Perm::ManageChildcareBills) && scope.facility().is_some();
    // An operator's own facility, unless asked for another: a care home's
    // operator has no childcare bills and sees the (empty) area list.
    let own = facility.is_none();
    let facility = facility.or_else(|| scope.facility().map(str::to_string));
    let t = today();
    let fid = facility.clone();
    let data = s
        .db(move |c, _| {
            if let Some(id) = fid.as_deref() {
                match cb::statement(c, &scope, id, month, t) {
                    Ok(st) => {
                        let p = cb::prices(c, &scope, id, t)?;
                        return Ok((Some(st), Some(p), Vec::new()));
                    }
                    Err(laoxiao_store::StoreError::NotFound { .. }) if own => {}
                    Err(e) => return Err(e),
                }
            }
            Ok((None, None, cb::area_month(c, &scope, month, t)?))
        })
        .await;
    let (statement, prices, area) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| ["prices", "generate"].contains(d))
        .map(|d| s.t(ctx, &format!("bill.done_{d}")));
    let page = json!({
        "month": month.to_string(),
        "this_month": Month::of(t).to_string(),
        "facility": statement.as_ref().map(|st| st.facility_id.clone()),
        "can_manage": can_manage,
        "statement": statement.as_ref().map(|st| json!({
            "facility_id": st.facility_id,
            "facility_name": st.facility_name,
            "totals": totals_json(&st.totals),
            "unbilled": st.unbilled,
            "csv": format!("/api/childcare/institutions/{}/statement.csv?month={month}", encode_segment(&st.facility_id)),
            "bills": st.bills.iter().map(|b| row_json(b, format!("{PATH}/{}", encode_segment(&b.id)))).collect::<Vec<_>>(),
        })),
        "prices": prices.as_ref().map(|p| json!({
            "inclusive": p.inclusive,
            "half_day_cap": money(p.half_day_cap_fen),
            "classes": p.classes.iter().map(|c| json!({
                "id": c.class_id, "type": c.class_type.label_zh(),
                "fee": money(c.monthly_fee_fen), "cap": money(c.cap_fen),
            })).collect::<Vec<_>>(),
            "items": p.items.iter().map(|i| json!({
                "item": i.item.code(), "label": i.label,
                "value": i.amount_fen.map(|f| format!("{:.2}", f as f64 / 100.0)),
                "shown": money(i.amount_fen),
            })).collect::<Vec<_>>(),
        })),
        "area": area.iter().map(|m| json!({
            "url": format!("{PATH}?facility={}&month={month}", encode_segment(&m.facility_id)),
            "facility": m.facility_name,
            "totals": totals_json(&m.totals),
        })).collect::<Vec<_>>(),
        "generated": generated.map(|g| json!({
            "created": g.created, "updated": g.updated, "unchanged": g.unchanged,
            "kept_paid": g.kept_paid, "skipped": g.skipped,
            "reasons": g.skipped_reasons.iter().map(|r| r.reason.clone()).collect::<Vec<_>>(),
        })),
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "childcare_bills.html", "childcare_bills", page)
}

/// `GET /console/childcare/bills?facility=…&month=…`
pub async fn index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let mut errs = Vec::new();
    let month = month_param(&ctx, &mut errs);
    let facility = ctx
        .param("facility")
        .filter(|f| !f.is_empty())
        .map(str::to_string);
    let status = if errs.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(&s, &ctx, status, &errs, facility, month, None).await
}

fn yuan_field(form: &FormData, name: &str, errs: &mut Vec<FieldError>) -> Option<Option<i64>> {
    let v = field(form, name)?.trim();
    if v.is_empty() {
        return Some(None);
    }
    match laoxiao_rules::subsidies::parse_yuan(v) {
        Some(f) => Some(Some(f)),
        None => {
            errs.push(FieldError::new(
                name,
                "an amount in yuan, at most two decimals",
            ));
            None
        }
    }
}

/// `POST /console/childcare/bills`: `action` = prices (one field per price
/// item; an empty one removes it) or generate (`month`).
pub async fn act(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let scope = ctx.scope();
    let Some(facility) = scope.facility().map(str::to_string) else {
        return s.error_page(
            &ctx,
            laoxiao_store::StoreError::Forbidden(
                "only the institution's own staff keep its bills".into(),
            )
            .into(),
        );
    };
    let action = field(&form, "action").unwrap_or_default().to_string();
    let t = today();
    let mut errs = Vec::new();
    let month = match field(&form, "month") {
        Some(m) => cb::parse_month(m, t).unwrap_or_else(|e| {
            if let laoxiao_store::StoreError::Invalid(v) = e {
                errs.extend(v);
            }
            Month::of(t)
        }),
        None => Month::of(t),
    };
    let mut items = Vec::new();
    if action == "prices" {
        for i in PriceItem::ALL {
            if let Some(v) = yuan_field(&form, i.code(), &mut errs) {
                items.push((*i, v));
            }
        }
    }
    if !errs.is_empty() {
        return render(
            &s,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            &errs,
            Some(facility),
            month,
            None,
        )
        .await;
    }
    let fid = facility.clone();
    let now = chrono::Local::now().naive_local();
    let result = s
        .db(move |c, _| match action.as_str() {
            "prices" => cb::set_prices(c, &scope, &fid, &items, t).map(|_| None),
            "generate" => cb::generate(c, &scope, month, Some(&fid), now).map(Some),
            _ => Err(laoxiao_store::StoreError::Invalid(vec![FieldError::new(
                "action",
                "one of prices, generate",
            )])),
        })
        .await;
    match result {
        Ok(None) => {
            Redirect::to(&format!("{PATH}?month={month}&done=prices#bill-notice")).into_response()
        }
        // The run's counts and the children it could not bill are shown at once.
        Ok(Some(g)) => {
            render(
                &s,
                &ctx,
                StatusCode::OK,
                &[],
                Some(facility),
                month,
                Some(g),
            )
            .await
        }
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render(&s, &ctx, st, &errs, Some(facility), month, None).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------- one bill

async fn render_bill(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let can_pay = scope.can(Perm::ManageChildcareBills) && scope.facility().is_some();
    let b = match s.db(move |c, _| cb::bill(c, &scope, &id, today())).await {
        Ok(b) => b,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| *d == "payment")
        .map(|_| s.t(ctx, "bill.done_payment"));
    let page = json!({
        "b": bill_json(&b),
        "back": format!("{PATH}?month={}", b.row.month),
        "can_pay": can_pay && b.row.paid_fen < b.row.due_fen,
        "methods": PaymentMethod::VALUES.iter().map(|v| json!({"value": v.code, "label": v.zh})).collect::<Vec<_>>(),
        "today": today().to_string(),
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "childcare_bill.html", "childcare_bills", page)
}

/// `GET /console/childcare/bills/{id}`
pub async fn show(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    render_bill(&s, &ctx, id, StatusCode::OK, &[]).await
}

/// `POST /console/childcare/bills/{id}`: a payment (`amount` in yuan,
/// `method`, `paid_on`, `reference`).
pub async fn pay(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let mut errs = Vec::new();
    let amount = match field(&form, "amount").map(str::trim) {
        Some(v) => laoxiao_rules::subsidies::parse_yuan(v).unwrap_or_else(|| {
            errs.push(FieldError::new(
                "amount",
                "an amount in yuan, at most two decimals",
            ));
            0
        }),
        None => {
            errs.push(FieldError::new("amount", "how much was paid, in yuan"));
            0
        }
    };
    let method = field(&form, "method").and_then(PaymentMethod::parse);
    if method.is_none() {
        errs.push(FieldError::new("method", "how it was paid"));
    }
    let paid_on = match field(&form, "paid_on").filter(|d| !d.is_empty()) {
        None => today(),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or_else(|_| {
            errs.push(FieldError::new("paid_on", "a date YYYY-MM-DD"));
            today()
        }),
    };
    let (Some(method), true) = (method, errs.is_empty()) else {
        return render_bill(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs).await;
    };
    let input = PaymentInput {
        amount_fen: amount,
        method,
        paid_on,
        reference: field(&form, "reference")
            .map(str::to_string)
            .filter(|r| !r.is_empty()),
    };
    let scope = ctx.scope();
    let bill = id.clone();
    match s
        .db(move |c, _| cb::pay(c, &scope, &bill, &input, today()))
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "{PATH}/{}?done=payment#bill-notice",
            encode_segment(&id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_bill(&s, &ctx, id, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------- family

/// `GET /console/family/children/{id}/bills?bill=…`: a verified child's bills,
/// and one of them with its lines and payments.
pub async fn family(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let scope = ctx.scope();
    let child = id.clone();
    let chosen = ctx
        .param("bill")
        .filter(|b| !b.is_empty())
        .map(str::to_string);
    let data = s
        .db(move |c, _| {
            let t = today();
            let rows = cb::family_bills(c, &scope, &child, t)?;
            // The chosen bill, or the newest.
            let pick = chosen.or_else(|| rows.first().map(|r| r.id.clone()));
            let bill = match pick {
                Some(b) if rows.iter().any(|r| r.id == b) => Some(cb::bill(c, &scope, &b, t)?),
                Some(b) => {
                    return Err(laoxiao_store::StoreError::NotFound {
                        what: "bill",
                        id: b,
                    });
                }
                None => None,
            };
            Ok((rows, bill))
        })
        .await;
    let (rows, bill) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let base = format!("/console/family/children/{}/bills", encode_segment(&id));
    let page = json!({
        "child": rows.first().map(|r| r.infant_name.clone()),
        "day_url": format!("/console/family/children/{}/day", encode_segment(&id)),
        "rows": rows.iter().map(|r| row_json(r, format!("{base}?bill={}", encode_segment(&r.id)))).collect::<Vec<_>>(),
        "b": bill.as_ref().map(bill_json),
        "chosen": bill.as_ref().map(|b| b.row.id.clone()),
    });
    s.render_status(&ctx, StatusCode::OK, "family_bills.html", "family", page)
}
