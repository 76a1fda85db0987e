//! A childcare institution's monthly bills (托育费账单), issue 16 part 6: the
//! institution's price list beside each class's monthly fee (收费标准), one
//! bill per enrolled child and month computed by
//! [`laoxiao_rules::childcare_bill`] from the care type, the prices and the
//! child's attendance, the inclusive operating subsidy shown on it
//! (普惠托位运营补助, the subsidy engine's rule), payments recorded against it
//! (缴费), and the month's statement (月度对账单) per institution and per area.
//!
//! Who: the institution's own operator keeps its prices, issues its bills and
//! records payments (`ManageChildcareBills`; a city administrator reads but
//! does not bill); county and city staff read their area's statements
//! (`ReadChildcareBills`); a family reads its verified children's bills. A
//! batch run (the CLI's system scope) bills every institution at once.
//!
//! A bill is issued `open`; regenerating the month recomputes every bill not
//! yet paid (attendance recorded late changes it) and leaves a bill with a
//! payment as it is. Payments are a conditional update on what is still
//! owed, so two staff recording at once cannot overpay a bill.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use laoxiao_model::childcare_bills::{BillStatus, PaymentMethod, PriceItem};
use laoxiao_model::facility::{CareType, ClassType};
use laoxiao_model::person::{PersonRole, mask_name};
use laoxiao_model::{Facility, FieldError};
use laoxiao_rules::childcare_bill::{self, BillLine, Prices, Usage};
use laoxiao_rules::subsidies::{Month, Params, yuan};
use serde::Serialize;

use crate::activity::ActivityRecord;
use crate::childcare_applications::county_of;
use crate::childcare_day::{check_id, invalid, not_found};
use crate::db::{Conn, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::{audit, family, now_rfc3339};

/// Most bills a statement lists (an institution's children in a month).
pub const MAX_STATEMENT: usize = 5000;
/// Most institutions an area summary lists.
pub const MAX_INSTITUTIONS: usize = 2000;
/// Most reasons a generation run lists for bills it could not make.
pub const MAX_SKIPPED: usize = 50;
/// Most payments on one bill.
pub const MAX_PAYMENTS: i64 = 50;
/// Most months of bills a family's list goes back.
pub const FAMILY_MONTHS: i32 = 24;
const MAX_REFERENCE: usize = 64;
const CHUNK: usize = 200;

// ---------------------------------------------------------------- views

/// An item of an institution's price list (收费项目).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceLine {
    pub item: PriceItem,
    pub label: &'static str,
    /// Fen; `None` when not set.
    pub amount_fen: Option<i64>,
}

/// A class's monthly fee (全日托) with the inclusive cap where it applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassFee {
    pub class_id: String,
    pub class_type: ClassType,
    pub monthly_fee_fen: Option<i64>,
    pub cap_fen: Option<i64>,
}

/// An institution's price list (收费标准).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceList {
    pub facility_id: String,
    pub facility_name: String,
    pub inclusive: bool,
    pub classes: Vec<ClassFee>,
    pub items: Vec<PriceLine>,
    /// The half-day price may not exceed this (an inclusive institution: the
    /// lowest of its class types' caps, the platform's reading).
    pub half_day_cap_fen: Option<i64>,
}

/// A bill as a list row (the child masked for staff).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BillRow {
    pub id: String,
    pub month: String,
    pub enrolment_id: String,
    pub infant_id: String,
    pub infant_name: String,
    pub facility_id: String,
    pub facility_name: String,
    pub class_id: Option<String>,
    pub care_type: CareType,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub subsidy_fen: i64,
    pub status: BillStatus,
    pub due_date: NaiveDate,
    /// Past its due date and not paid.
    pub overdue: bool,
}

/// A payment (缴费记录).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    pub id: String,
    pub amount_fen: i64,
    pub method: PaymentMethod,
    pub paid_on: NaiveDate,
    pub reference: Option<String>,
    pub recorded_at: String,
}

/// A bill with its lines and payments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bill {
    #[serde(flatten)]
    pub row: BillRow,
    pub lines: Vec<BillLine>,
    pub payments: Vec<Payment>,
    /// How the subsidy shown was reached (the rule, its clause).
    pub subsidy_note: Option<String>,
    pub issued_at: String,
    pub updated_at: String,
}

/// The month's totals (合计).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub bills: i64,
    pub due_fen: i64,
    pub paid_fen: i64,
    pub outstanding_fen: i64,
    pub overdue: i64,
    pub subsidy_fen: i64,
}

/// An institution's month (月度对账单).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub facility_id: String,
    pub facility_name: String,
    pub month: String,
    pub totals: Totals,
    pub bills: Vec<BillRow>,
    /// Children enrolled in the month with no bill yet.
    pub unbilled: i64,
}

/// One institution's line of an area's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstitutionMonth {
    pub facility_id: String,
    pub facility_name: String,
    pub area_path: String,
    pub totals: Totals,
}

/// What a generation run did (生成账单).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Generated {
    pub month: String,
    pub institutions: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// Bills with a payment: left as they were.
    pub kept_paid: i64,
    /// Children that could not be billed (a price missing).
    pub skipped: i64,
    pub skipped_reasons: Vec<Skipped>,
    pub due_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    pub enrolment_id: String,
    pub facility_id: String,
    pub reason: String,
}

/// A payment to record.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentInput {
    pub amount_fen: i64,
    pub method: PaymentMethod,
    pub paid_on: NaiveDate,
    pub reference: Option<String>,
}

// ---------------------------------------------------------------- helpers

fn rules_err(e: laoxiao_rules::error::RulesError) -> StoreError {
    StoreError::Reference(e.to_string())
}

fn param(params: &Params, name: &str, day: NaiveDate) -> Result<i64> {
    params.int(name, day).map(|(n, _)| n).map_err(rules_err)
}

/// A month `2026-11` the platform bills: from 2020 to the current month.
pub fn parse_month(s: &str, today: NaiveDate) -> Result<Month> {
    let m = Month::parse(s.trim()).map_err(|_| invalid("month", "give the month as YYYY-MM"))?;
    if m.first() > today {
        return Err(invalid(
            "month",
            format!("{m} has not begun; bills are made from the month's attendance"),
        ));
    }
    Ok(m)
}

/// The institution's own staff keep its bills; nobody else does.
fn manager(scope: &Scope, facility_id: &str, path: &str) -> Result<()> {
    scope.require(Perm::ManageChildcareBills)?;
    if (scope.role().is_some() && scope.facility() != Some(facility_id))
        || !scope.contains_facility(facility_id, path)
    {
        return Err(StoreError::Forbidden(
            "only the institution's own staff keep its bills".into(),
        ));
    }
    Ok(())
}

struct Institution {
    facility: Facility,
    path: String,
}

/// A childcare facility the caller reads; one outside reads as missing.
fn institution(conn: &mut Conn, scope: &Scope, id: &str) -> Result<Institution> {
    check_id("facility_id", id)?;
    let cols = Facility::cols().join(", ");
    let r = conn
        .query_opt(
            &format!("SELECT {cols}, area_path FROM facility WHERE id = $1 AND deleted_at IS NULL"),
            &[id.into()],
        )?
        .ok_or_else(|| not_found("facility", id))?;
    let facility = Facility::from_db(&r)?;
    let path: String = r.get("area_path")?;
    if !facility.kind.has_slots()
        || !scope.contains_facility(id, &path)
        || !(scope.can(Perm::ReadChildcareBills) || scope.can(Perm::ManageChildcareBills))
    {
        return Err(not_found("facility", id));
    }
    Ok(Institution { facility, path })
}

fn prices_of(conn: &mut Conn, facility_id: &str) -> Result<HashMap<PriceItem, i64>> {
    let mut out = HashMap::new();
    for r in conn.query(
        "SELECT item, amount_fen FROM childcare_price WHERE facility_id = $1",
        &[facility_id.into()],
    )? {
        out.insert(r.parse("item")?, r.get("amount_fen")?);
    }
    Ok(out)
}

/// The lowest inclusive cap over the class types the institution has (all
/// types when it has none yet): a half-day place may not cost more than the
/// cheapest full-day place may.
fn half_day_cap(
    params: &Params,
    inst: &Institution,
    types: &[ClassType],
    day: NaiveDate,
) -> Option<i64> {
    if !inst.facility.inclusive {
        return None;
    }
    let all: Vec<ClassType> = if types.is_empty() {
        ClassType::ALL.to_vec()
    } else {
        types.to_vec()
    };
    all.iter()
        .filter_map(|t| {
            laoxiao_rules::subsidies::price_cap(params, county_of(&inst.path), *t, day).ok()
        })
        .map(|c| c.cap_fen)
        .min()
}

// ---------------------------------------------------------------- prices

/// An institution's price list with its classes' fees and caps.
pub fn prices(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
    today: NaiveDate,
) -> Result<PriceList> {
    let inst = institution(conn, scope, facility_id)?;
    let params = crate::subsidies::params(conn)?;
    let set = prices_of(conn, facility_id)?;
    let mut classes = Vec::new();
    for r in conn.query(
        "SELECT id, class_type, monthly_fee_fen FROM childcare_class \
         WHERE facility_id = $1 AND deleted_at IS NULL ORDER BY id",
        &[facility_id.into()],
    )? {
        let t: ClassType = r.parse("class_type")?;
        let cap = inst
            .facility
            .inclusive
            .then(|| {
                laoxiao_rules::subsidies::price_cap(&params, county_of(&inst.path), t, today).ok()
            })
            .flatten()
            .map(|c| c.cap_fen);
        classes.push(ClassFee {
            class_id: r.get("id")?,
            class_type: t,
            monthly_fee_fen: r.get("monthly_fee_fen")?,
            cap_fen: cap,
        });
    }
    let types: Vec<ClassType> = classes.iter().map(|c| c.class_type).collect();
    Ok(PriceList {
        facility_id: inst.facility.id.clone(),
        facility_name: inst.facility.name.clone(),
        inclusive: inst.facility.inclusive,
        half_day_cap_fen: half_day_cap(&params, &inst, &types, today),
        classes,
        items: PriceItem::ALL
            .iter()
            .map(|i| PriceLine {
                item: *i,
                label: i.label_zh(),
                amount_fen: set.get(i).copied(),
            })
            .collect(),
    })
}

/// Sets (or, with `None`, removes) items of the institution's price list.
/// Every amount is bounded by `bill.max_price_fen`; an inclusive
/// institution's half-day price by its cap. Nothing is written on a refusal.
pub fn set_prices(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
    items: &[(PriceItem, Option<i64>)],
    today: NaiveDate,
) -> Result<PriceList> {
    let inst = institution(conn, scope, facility_id)?;
    manager(scope, facility_id, &inst.path)?;
    if items.is_empty() || items.len() > PriceItem::ALL.len() {
        return Err(invalid("items", "give one to four price items"));
    }
    let params = crate::subsidies::params(conn)?;
    let max = param(&params, "bill.max_price_fen", today)?;
    let current = prices(conn, scope, facility_id, today)?;
    let mut errors = Vec::new();
    for (item, amount) in items {
        let Some(a) = amount else { continue };
        let field = item.code();
        if *a < 0 || *a > max {
            errors.push(FieldError::new(
                field,
                format!(
                    "{} must be from 0 to {} yuan (bill.max_price_fen)",
                    item.label_zh(),
                    yuan(max)
                ),
            ));
        } else if *item == PriceItem::HalfDay
            && let Some(cap) = current.half_day_cap_fen
            && *a > cap
        {
            errors.push(FieldError::new(
                field,
                format!(
                    "the half-day price {} yuan is above {} yuan, the lowest inclusive price cap of the institution's class types \
                     (规划附件2 托育服务政策8: 普惠托育机构每月收费标准不高于当地上一年人均可支配月收入的60%/50%/40%)",
                    yuan(*a),
                    yuan(cap)
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    let now = now_rfc3339();
    conn.transaction(|c| {
        for (item, amount) in items {
            c.execute(
                "DELETE FROM childcare_price WHERE facility_id = $1 AND item = $2",
                &[facility_id.into(), item.code().into()],
            )?;
            if let Some(a) = amount {
                c.execute(
                    "INSERT INTO childcare_price (facility_id, item, amount_fen, set_by, set_at) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        facility_id.into(),
                        item.code().into(),
                        (*a).into(),
                        scope.actor.user.as_str().into(),
                        now.as_str().into(),
                    ],
                )?;
            }
        }
        let after: serde_json::Map<String, serde_json::Value> = items
            .iter()
            .map(|(i, a)| (i.code().to_string(), serde_json::json!(a)))
            .collect();
        audit::append(
            c,
            scope,
            audit::Event {
                action: "childcare_prices",
                entity: "facility",
                entity_id: Some(facility_id),
                before: None,
                after: Some(serde_json::Value::Object(after).to_string()),
            },
        )
    })?;
    prices(conn, scope, facility_id, today)
}

// ---------------------------------------------------------------- generation

struct Enrolled {
    id: String,
    infant_id: String,
    facility_id: String,
    class_id: Option<String>,
    class_type: Option<ClassType>,
    monthly_fee: Option<i64>,
    care_type: CareType,
    start: NaiveDate,
    end: Option<NaiveDate>,
}

struct Existing {
    due: i64,
    paid: i64,
    subsidy: i64,
    lines: String,
}

fn minutes_between(a: &str, b: &str) -> Option<i64> {
    let a = NaiveTime::parse_from_str(a, "%H:%M").ok()?;
    let b = NaiveTime::parse_from_str(b, "%H:%M").ok()?;
    Some((b - a).num_minutes().max(0))
}

/// Bills the month for one institution (`Some`) or, from the system scope
/// only, every institution (`None`). Returns what it did.
pub fn generate(
    conn: &mut Conn,
    scope: &Scope,
    month: Month,
    facility_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<Generated> {
    let today = now.date();
    if month.first() > today {
        return Err(invalid("month", format!("{month} has not begun")));
    }
    let params = crate::subsidies::params(conn)?;
    let mut insts: HashMap<String, Institution> = HashMap::new();
    match facility_id {
        Some(id) => {
            let inst = institution(conn, scope, id)?;
            manager(scope, id, &inst.path)?;
            insts.insert(id.to_string(), inst);
        }
        None => {
            if scope.role().is_some() {
                return Err(StoreError::Forbidden(
                    "each institution bills its own children; name the institution".into(),
                ));
            }
            let cols = Facility::cols().join(", ");
            for r in conn.query(
                &format!("SELECT {cols}, area_path FROM facility WHERE deleted_at IS NULL"),
                &[],
            )? {
                let facility = Facility::from_db(&r)?;
                if facility.kind.has_slots() {
                    insts.insert(
                        facility.id.clone(),
                        Institution {
                            facility,
                            path: r.get("area_path")?,
                        },
                    );
                }
            }
        }
    }
    let (first, last) = (month.first(), month.last());
    let (fw, fp): (String, Vec<Value>) = match facility_id {
        Some(id) => (" AND e.facility_id = $3".into(), vec![id.into()]),
        None => (String::new(), vec![]),
    };
    let mut p: Vec<Value> = vec![last.to_string().into(), first.to_string().into()];
    p.extend(fp.clone());
    let enrolled: Vec<Enrolled> = conn
        .query(
            &format!(
                "SELECT e.id, e.infant_id, e.facility_id, e.class_id, e.care_type, e.start_date, e.end_date, \
                 c.class_type, c.monthly_fee_fen FROM enrolment e \
                 LEFT JOIN childcare_class c ON c.id = e.class_id AND c.deleted_at IS NULL \
                 WHERE e.deleted_at IS NULL AND e.start_date <= $1 AND (e.end_date IS NULL OR e.end_date >= $2){fw} \
                 ORDER BY e.id"
            ),
            &p,
        )?
        .iter()
        .map(|r| {
            Ok(Enrolled {
                id: r.get("id")?,
                infant_id: r.get("infant_id")?,
                facility_id: r.get("facility_id")?,
                class_id: r.get("class_id")?,
                class_type: r.parse_opt("class_type")?,
                monthly_fee: r.get("monthly_fee_fen")?,
                care_type: r.parse_opt("care_type")?.unwrap_or(CareType::FullDay),
                start: r.get("start_date")?,
                end: r.get("end_date")?,
            })
        })
        .collect::<Result<_>>()?;
    // The month's attendance, counted per enrolment in SQL.
    let aw = fw.replace("e.facility_id", "a.facility_id");
    let mut usage: HashMap<String, Usage> = HashMap::new();
    for r in conn.query(
        &format!(
            "SELECT a.enrolment_id, \
             CAST(SUM(CASE WHEN a.status IN ('absent', 'sent_home') THEN 1 ELSE 0 END) AS BIGINT) AS without_meals, \
             CAST(SUM(CASE WHEN a.status IN ('present', 'left') THEN 1 ELSE 0 END) AS BIGINT) AS present \
             FROM childcare_attendance a WHERE a.day <= $1 AND a.day >= $2{aw} GROUP BY a.enrolment_id"
        ),
        &p,
    )? {
        usage.insert(
            r.get("enrolment_id")?,
            Usage {
                days_without_meals: r.get("without_meals")?,
                days_present: r.get("present")?,
                ..Usage::default()
            },
        );
    }
    // Hourly care needs each visit's times.
    for r in conn.query(
        &format!(
            "SELECT a.enrolment_id, a.check_in_at, a.check_out_at FROM childcare_attendance a \
             JOIN enrolment e ON e.id = a.enrolment_id \
             WHERE a.day <= $1 AND a.day >= $2 AND e.care_type = 'hourly' \
             AND a.status IN ('present', 'left'){aw}"
        ),
        &p,
    )? {
        let id: String = r.get("enrolment_id")?;
        let cin: Option<String> = r.get("check_in_at")?;
        let cout: Option<String> = r.get("check_out_at")?;
        let u = usage.entry(id).or_default();
        match (cin, cout) {
            (Some(a), Some(b)) => u.visit_minutes.extend(minutes_between(&a, &b)),
            _ => u.open_visits += 1,
        }
    }
    let mut pm: Vec<Value> = vec![month.to_string().into()];
    let bw = if let Some(id) = facility_id {
        pm.push(id.into());
        " AND facility_id = $2"
    } else {
        ""
    };
    let mut existing: HashMap<String, Existing> = HashMap::new();
    for r in conn.query(
        &format!("SELECT enrolment_id, due_fen, paid_fen, subsidy_fen, lines FROM childcare_bill WHERE month = $1{bw}"),
        &pm,
    )? {
        existing.insert(
            r.get("enrolment_id")?,
            Existing {
                due: r.get("due_fen")?,
                paid: r.get("paid_fen")?,
                subsidy: r.get("subsidy_fen")?,
                lines: r.get("lines")?,
            },
        );
    }
    let mut prices: HashMap<String, HashMap<PriceItem, i64>> = HashMap::new();
    let pw = if facility_id.is_some() {
        " WHERE facility_id = $1"
    } else {
        ""
    };
    for r in conn.query(
        &format!("SELECT facility_id, item, amount_fen FROM childcare_price{pw}"),
        &fp,
    )? {
        prices
            .entry(r.get("facility_id")?)
            .or_default()
            .insert(r.parse("item")?, r.get("amount_fen")?);
    }

    let unit = param(&params, "bill.hourly_unit_minutes", month.mid())?;
    let due_days = param(&params, "bill.due_days", month.mid())?;
    let due_date = last + Duration::days(due_days.clamp(0, 366));
    let mut out = Generated {
        month: month.to_string(),
        ..Generated::default()
    };
    let empty = Usage::default();
    let no_prices = HashMap::new();
    let mut inserts: Vec<Vec<Value>> = Vec::new();
    let mut updates: Vec<(String, i64, i64, String)> = Vec::new();
    // (bill, child, amount) of every bill created or changed: the families are told.
    let mut issued: Vec<(String, String, i64)> = Vec::new();
    let mut billed_institutions = std::collections::HashSet::new();
    let now_s = now_rfc3339();
    let mid = month.mid();
    for e in &enrolled {
        let Some(inst) = insts.get(&e.facility_id) else {
            continue;
        };
        let set = prices.get(&e.facility_id).unwrap_or(&no_prices);
        let p = Prices {
            monthly_fee: e.monthly_fee.or(inst.facility.monthly_fee),
            half_day: set.get(&PriceItem::HalfDay).copied(),
            hourly: set.get(&PriceItem::Hourly).copied(),
            temporary: set.get(&PriceItem::Temporary).copied(),
            meal_refund: set.get(&PriceItem::MealRefund).copied(),
        };
        let u = usage.get(&e.id).unwrap_or(&empty);
        let (lines, due) =
            match childcare_bill::lines(month, e.care_type, e.start, e.end, &p, u, unit) {
                Ok(x) => x,
                Err(np) => {
                    out.skipped += 1;
                    if out.skipped_reasons.len() < MAX_SKIPPED {
                        out.skipped_reasons.push(Skipped {
                            enrolment_id: e.id.clone(),
                            facility_id: e.facility_id.clone(),
                            reason: format!("{}（{}）", np.reason, np.item),
                        });
                    }
                    continue;
                }
            };
        let on_mid = e.start <= mid && e.end.is_none_or(|x| x >= mid);
        let subsidy = match e.class_type {
            Some(t) => laoxiao_rules::subsidies::inclusive_child_rate(
                &params,
                &inst.facility,
                t,
                on_mid,
                month,
            )
            .map_err(rules_err)?
            .map_or(0, |(f, _)| f),
            None => 0,
        };
        let lines_json =
            serde_json::to_string(&lines).map_err(|err| StoreError::Database(err.to_string()))?;
        billed_institutions.insert(e.facility_id.as_str());
        out.due_fen += due;
        match existing.get(&e.id) {
            Some(x) if x.paid > 0 => out.kept_paid += 1,
            Some(x) if x.due == due && x.subsidy == subsidy && x.lines == lines_json => {
                out.unchanged += 1
            }
            Some(_) => {
                issued.push((bill_id(month, &e.id), e.infant_id.clone(), due));
                updates.push((bill_id(month, &e.id), due, subsidy, lines_json))
            }
            None => {
                issued.push((bill_id(month, &e.id), e.infant_id.clone(), due));
                inserts.push(vec![
                    bill_id(month, &e.id).into(),
                    month.to_string().into(),
                    e.id.as_str().into(),
                    e.infant_id.as_str().into(),
                    e.facility_id.as_str().into(),
                    inst.path.as_str().into(),
                    e.class_id.as_deref().into(),
                    e.care_type.code().into(),
                    due.into(),
                    subsidy.into(),
                    lines_json.into(),
                    due_date.to_string().into(),
                    scope.actor.user.as_str().into(),
                    now_s.as_str().into(),
                    now_s.as_str().into(),
                ])
            }
        }
    }
    out.institutions = billed_institutions.len() as i64;
    conn.transaction(|c| {
        const COLS: usize = 15;
        for chunk in inserts.chunks(CHUNK) {
            let mut sql = String::from(
                "INSERT INTO childcare_bill (id, month, enrolment_id, infant_id, facility_id, facility_path, class_id, \
                 care_type, due_fen, subsidy_fen, lines, due_date, issued_by, issued_at, updated_at) VALUES ",
            );
            let mut vals: Vec<Value> = Vec::with_capacity(chunk.len() * COLS);
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let marks: Vec<String> = (1..=COLS).map(|j| format!("${}", i * COLS + j)).collect();
                sql.push_str(&format!("({})", marks.join(", ")));
                vals.extend(row.iter().cloned());
            }
            // A run at the same moment inserted it first: counted as unchanged.
            sql.push_str(" ON CONFLICT (month, enrolment_id) DO NOTHING");
            let n = c.execute(&sql, &vals)? as i64;
            out.created += n;
            out.unchanged += chunk.len() as i64 - n;
        }
        for (id, due, subsidy, lines) in &updates {
            // Only while nothing is paid: a payment at the same moment wins.
            let n = c.execute(
                "UPDATE childcare_bill SET due_fen = $1, subsidy_fen = $2, lines = $3, due_date = $4, updated_at = $5 \
                 WHERE id = $6 AND paid_fen = 0",
                &[
                    (*due).into(),
                    (*subsidy).into(),
                    lines.as_str().into(),
                    due_date.to_string().into(),
                    now_s.as_str().into(),
                    id.as_str().into(),
                ],
            )?;
            if n == 1 {
                out.updated += 1;
            } else {
                out.kept_paid += 1;
            }
        }
        // The families with a verified link hear of their bill; one query
        // finds which children have one, so a city's run stays one pass.
        let linked: std::collections::HashSet<String> = c
            .query(
                "SELECT DISTINCT l.person_id FROM family_link l JOIN person p ON p.id = l.person_id \
                 WHERE l.status = 'verified' AND p.role = 'infant'",
                &[],
            )?
            .iter()
            .map(|r| r.get("person_id"))
            .collect::<Result<_>>()?;
        let now_utc = chrono::Utc::now();
        for (bill, infant, due) in issued.iter().filter(|(_, i, _)| linked.contains(i)) {
            // A bill kept paid by a payment at the same moment is not re-announced:
            // the dedupe key carries the amount.
            let ev = crate::notify::Event::new(
                crate::notify::Template::BillIssued,
                format!("bill_issued:{bill}:{due}"),
            )
            .param("month", month.to_string())
            .param("amount", yuan(*due))
            .param("due_date", due_date.to_string())
            .link(format!("/console/family/children/{infant}/bills"));
            crate::notify::to_child_families(c, infant, ev, now_utc)?;
        }
        audit::append(
            c,
            scope,
            audit::Event {
                action: "childcare_bills_generate",
                entity: "childcare_bill",
                entity_id: facility_id,
                before: None,
                after: Some(
                    serde_json::json!({
                        "month": month.to_string(), "created": out.created, "updated": out.updated,
                        "unchanged": out.unchanged, "kept_paid": out.kept_paid, "skipped": out.skipped,
                        "due_fen": out.due_fen,
                    })
                    .to_string(),
                ),
            },
        )
    })?;
    Ok(out)
}

fn bill_id(month: Month, enrolment_id: &str) -> String {
    format!("CB-{}{:02}-{enrolment_id}", month.year, month.month)
}

// ---------------------------------------------------------------- reading

const ROW_COLS: &str = "b.id, b.month, b.enrolment_id, b.infant_id, b.facility_id, f.name AS facility_name, \
    b.class_id, b.care_type, b.due_fen, b.paid_fen, b.subsidy_fen, b.due_date, p.name AS infant_name";

fn status_of(due: i64, paid: i64) -> BillStatus {
    if paid >= due {
        BillStatus::Paid
    } else if paid > 0 {
        BillStatus::PartlyPaid
    } else {
        BillStatus::Open
    }
}

fn row_view(r: &crate::db::Row, full: bool, today: NaiveDate) -> Result<BillRow> {
    let name: String = r.get("infant_name")?;
    let due: i64 = r.get("due_fen")?;
    let paid: i64 = r.get("paid_fen")?;
    let due_date: NaiveDate = r.get("due_date")?;
    let status = status_of(due, paid);
    Ok(BillRow {
        id: r.get("id")?,
        month: r.get("month")?,
        enrolment_id: r.get("enrolment_id")?,
        infant_id: r.get("infant_id")?,
        infant_name: if full { name } else { mask_name(&name) },
        facility_id: r.get("facility_id")?,
        facility_name: r.get("facility_name")?,
        class_id: r.get("class_id")?,
        care_type: r.parse("care_type")?,
        due_fen: due,
        paid_fen: paid,
        subsidy_fen: r.get("subsidy_fen")?,
        status,
        due_date,
        overdue: status != BillStatus::Paid && due_date < today,
    })
}

fn totals_of(rows: &[BillRow]) -> Totals {
    let mut t = Totals::default();
    for b in rows {
        t.bills += 1;
        t.due_fen += b.due_fen;
        t.paid_fen += b.paid_fen;
        t.outstanding_fen += (b.due_fen - b.paid_fen).max(0);
        t.subsidy_fen += b.subsidy_fen;
        t.overdue += i64::from(b.overdue);
    }
    t
}

/// An institution's month (月度对账单), children masked.
pub fn statement(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
    month: Month,
    today: NaiveDate,
) -> Result<Statement> {
    let inst = institution(conn, scope, facility_id)?;
    scope.require(Perm::ReadChildcareBills)?;
    let bills = conn
        .query(
            &format!(
                "SELECT {ROW_COLS} FROM childcare_bill b JOIN facility f ON f.id = b.facility_id \
                 JOIN person p ON p.id = b.infant_id WHERE b.facility_id = $1 AND b.month = $2 \
                 ORDER BY b.class_id, b.id LIMIT {MAX_STATEMENT}"
            ),
            &[facility_id.into(), month.to_string().into()],
        )?
        .iter()
        .map(|r| row_view(r, false, today))
        .collect::<Result<Vec<_>>>()?;
    let enrolled = conn.query_i64(
        "SELECT COUNT(*) FROM enrolment WHERE facility_id = $1 AND deleted_at IS NULL \
         AND start_date <= $2 AND (end_date IS NULL OR end_date >= $3)",
        &[
            facility_id.into(),
            month.last().to_string().into(),
            month.first().to_string().into(),
        ],
    )?;
    Ok(Statement {
        facility_id: facility_id.to_string(),
        facility_name: inst.facility.name,
        month: month.to_string(),
        totals: totals_of(&bills),
        unbilled: (enrolled - bills.len() as i64).max(0),
        bills,
    })
}

/// The month per institution of the caller's area (county and city staff;
/// an operator sees its own line).
pub fn area_month(
    conn: &mut Conn,
    scope: &Scope,
    month: Month,
    today: NaiveDate,
) -> Result<Vec<InstitutionMonth>> {
    scope.require(Perm::ReadChildcareBills)?;
    let mut w = String::from("b.month = $1");
    let mut p: Vec<Value> = vec![month.to_string().into(), today.to_string().into()];
    scope.push_sql(&mut w, &mut p, "b.facility_path", Some("b.facility_id"));
    conn.query(
        &format!(
            "SELECT b.facility_id, f.name, b.facility_path, CAST(COUNT(*) AS BIGINT) AS bills, \
             CAST(SUM(b.due_fen) AS BIGINT) AS due, CAST(SUM(b.paid_fen) AS BIGINT) AS paid, \
             CAST(SUM(CASE WHEN b.due_fen > b.paid_fen THEN b.due_fen - b.paid_fen ELSE 0 END) AS BIGINT) AS outstanding, \
             CAST(SUM(CASE WHEN b.due_fen > b.paid_fen AND b.due_date < $2 THEN 1 ELSE 0 END) AS BIGINT) AS overdue, \
             CAST(SUM(b.subsidy_fen) AS BIGINT) AS subsidy \
             FROM childcare_bill b JOIN facility f ON f.id = b.facility_id WHERE {w} \
             GROUP BY b.facility_id, f.name, b.facility_path ORDER BY b.facility_path, f.name, b.facility_id \
             LIMIT {MAX_INSTITUTIONS}"
        ),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok(InstitutionMonth {
            facility_id: r.get("facility_id")?,
            facility_name: r.get("name")?,
            area_path: r.get("facility_path")?,
            totals: Totals {
                bills: r.get("bills")?,
                due_fen: r.get("due")?,
                paid_fen: r.get("paid")?,
                outstanding_fen: r.get("outstanding")?,
                overdue: r.get("overdue")?,
                subsidy_fen: r.get("subsidy")?,
            },
        })
    })
    .collect()
}

/// Whether the caller sees the bill, and in full (the child's family).
fn bill_side(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    facility_id: &str,
    path: &str,
) -> Result<Option<bool>> {
    if scope.is_family() {
        return Ok(
            family::is_verified_relative(conn, scope, infant_id, PersonRole::Infant)?
                .then_some(true),
        );
    }
    Ok(
        (scope.can(Perm::ReadChildcareBills) && scope.contains_facility(facility_id, path))
            .then_some(false),
    )
}

/// One bill with its lines and payments; one the caller may not see reads
/// as missing.
pub fn bill(conn: &mut Conn, scope: &Scope, id: &str, today: NaiveDate) -> Result<Bill> {
    check_id("bill_id", id)?;
    let r = conn
        .query_opt(
            &format!(
                "SELECT {ROW_COLS}, b.facility_path, b.lines, b.issued_at, b.updated_at \
                 FROM childcare_bill b JOIN facility f ON f.id = b.facility_id \
                 JOIN person p ON p.id = b.infant_id WHERE b.id = $1"
            ),
            &[id.into()],
        )?
        .ok_or_else(|| not_found("bill", id))?;
    let infant: String = r.get("infant_id")?;
    let fid: String = r.get("facility_id")?;
    let path: String = r.get("facility_path")?;
    let Some(full) = bill_side(conn, scope, &infant, &fid, &path)? else {
        return Err(not_found("bill", id));
    };
    let row = row_view(&r, full, today)?;
    let lines: String = r.get("lines")?;
    let lines: Vec<BillLine> = serde_json::from_str(&lines)
        .map_err(|e| StoreError::Database(format!("bill lines: {e}")))?;
    let payments = conn
        .query(
            &format!(
                "SELECT id, amount_fen, method, paid_on, reference, recorded_at FROM childcare_payment \
                 WHERE bill_id = $1 ORDER BY recorded_at, id LIMIT {MAX_PAYMENTS}"
            ),
            &[id.into()],
        )?
        .iter()
        .map(|p| {
            Ok(Payment {
                id: p.get("id")?,
                amount_fen: p.get("amount_fen")?,
                method: p.parse("method")?,
                paid_on: p.get("paid_on")?,
                reference: p.get("reference")?,
                recorded_at: p.get("recorded_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let subsidy_note = (row.subsidy_fen > 0).then(|| {
        format!(
            "普惠托位运营补助：本月按 {} 元/人 由财政拨付给托育机构，不由家庭缴纳，已计入机构运营补助（规划附件2 托育服务政策3）",
            yuan(row.subsidy_fen)
        )
    });
    Ok(Bill {
        row,
        lines,
        payments,
        subsidy_note,
        issued_at: r.get("issued_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// A family's bills for a verified child, newest first (the last 24 months).
pub fn family_bills(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
    today: NaiveDate,
) -> Result<Vec<BillRow>> {
    check_id("infant_id", infant_id)?;
    if !scope.is_family()
        || !family::is_verified_relative(conn, scope, infant_id, PersonRole::Infant)?
    {
        return Err(not_found("child", infant_id));
    }
    let since = Month::of(today).add(-FAMILY_MONTHS).to_string();
    conn.query(
        &format!(
            "SELECT {ROW_COLS} FROM childcare_bill b JOIN facility f ON f.id = b.facility_id \
             JOIN person p ON p.id = b.infant_id WHERE b.infant_id = $1 AND b.month >= $2 \
             ORDER BY b.month DESC, b.id LIMIT 100"
        ),
        &[infant_id.into(), since.into()],
    )?
    .iter()
    .map(|r| row_view(r, true, today))
    .collect()
}

// ---------------------------------------------------------------- payments

/// Records a payment against a bill (缴费登记) by the institution's own
/// staff. Refused when it would pay more than is owed (also when another
/// payment was recorded at the same moment: 409).
pub fn pay(
    conn: &mut Conn,
    scope: &Scope,
    bill_id: &str,
    input: &PaymentInput,
    today: NaiveDate,
) -> Result<Bill> {
    check_id("bill_id", bill_id)?;
    let r = conn
        .query_opt(
            "SELECT facility_id, facility_path, month, due_fen, paid_fen FROM childcare_bill WHERE id = $1",
            &[bill_id.into()],
        )?
        .ok_or_else(|| not_found("bill", bill_id))?;
    let fid: String = r.get("facility_id")?;
    let path: String = r.get("facility_path")?;
    if !scope.contains_facility(&fid, &path) || scope.is_family() {
        return Err(not_found("bill", bill_id));
    }
    manager(scope, &fid, &path)?;
    let month = Month::parse(&r.get::<String>("month")?).map_err(rules_err)?;
    let due: i64 = r.get("due_fen")?;
    let paid: i64 = r.get("paid_fen")?;
    let owed = (due - paid).max(0);
    let mut errors = Vec::new();
    if input.amount_fen <= 0 {
        errors.push(FieldError::new("amount", "a payment is above 0 yuan"));
    } else if input.amount_fen > owed {
        errors.push(FieldError::new(
            "amount",
            format!(
                "{} yuan is more than the {} yuan still owed",
                yuan(input.amount_fen),
                yuan(owed)
            ),
        ));
    }
    if input.paid_on > today {
        errors.push(FieldError::new(
            "paid_on",
            format!("{} has not come yet", input.paid_on),
        ));
    } else if input.paid_on < month.first() {
        errors.push(FieldError::new(
            "paid_on",
            format!("{} is before the bill's month {month}", input.paid_on),
        ));
    }
    let reference = crate::text::optional("reference", input.reference.as_deref(), MAX_REFERENCE)?;
    if !errors.is_empty() {
        return Err(StoreError::Invalid(errors));
    }
    let id = format!("CP-{}", crate::crypto::random_hex(8));
    conn.transaction(|c| {
        let n = c.execute(
            "UPDATE childcare_bill SET paid_fen = paid_fen + $1, updated_at = $2 \
             WHERE id = $3 AND paid_fen + $1 <= due_fen",
            &[input.amount_fen.into(), now_rfc3339().into(), bill_id.into()],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict(
                "another payment was recorded on this bill at the same moment; reload it and see what is still owed".into(),
            ));
        }
        c.execute(
            "INSERT INTO childcare_payment (id, bill_id, amount_fen, method, paid_on, reference, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                id.as_str().into(),
                bill_id.into(),
                input.amount_fen.into(),
                input.method.code().into(),
                input.paid_on.to_string().into(),
                reference.as_deref().into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "childcare_payment",
                entity: "childcare_bill",
                entity_id: Some(bill_id),
                before: None,
                after: Some(
                    serde_json::json!({"payment": id, "amount_fen": input.amount_fen, "method": input.method.code(), "paid_on": input.paid_on.to_string()})
                        .to_string(),
                ),
            },
        )
    })?;
    bill(conn, scope, bill_id, today)
}

/// Demo prices for every childcare institution without any (the demo's
/// half-day price is 60% of its cheapest class, meals 20 yuan a day).
pub fn seed_demo_prices(conn: &mut Conn) -> Result<u64> {
    let now = now_rfc3339();
    let mut n = 0;
    for (item, sql) in [
        (
            PriceItem::HalfDay,
            "CAST(COALESCE((SELECT MIN(c.monthly_fee_fen) FROM childcare_class c WHERE c.facility_id = f.id AND c.deleted_at IS NULL), f.monthly_fee, 200000) * 6 / 10 AS BIGINT)",
        ),
        (PriceItem::Hourly, "4000"),
        (PriceItem::Temporary, "15000"),
        (PriceItem::MealRefund, "2000"),
    ] {
        n += conn.execute(
            &format!(
                "INSERT INTO childcare_price (facility_id, item, amount_fen, set_by, set_at) \
                 SELECT f.id, $1, {sql}, 'demo', $2 FROM facility f \
                 WHERE f.deleted_at IS NULL AND f.kind IN ('childcare_institution', 'kindergarten_nursery_class') \
                 AND NOT EXISTS (SELECT 1 FROM childcare_price x WHERE x.facility_id = f.id AND x.item = $1)"
            ),
            &[item.code().into(), now.as_str().into()],
        )?;
    }
    Ok(n)
}

/// A cell safe to open in a spreadsheet: a leading `=`, `+`, `-` or `@`
/// would be read as a formula.
fn cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The statement as CSV (UTF-8 with a byte-order mark, Chinese headers), the
/// children masked as on the page.
pub fn statement_csv(s: &Statement) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let err = |e: csv::Error| StoreError::Database(format!("csv: {e}"));
    w.write_record([
        "账单编号",
        "月份",
        "机构",
        "幼儿",
        "班级",
        "托育类型",
        "应缴（元）",
        "已缴（元）",
        "欠缴（元）",
        "普惠托位运营补助（元，财政拨付机构）",
        "状态",
        "缴费期限",
        "逾期",
    ])
    .map_err(err)?;
    for b in &s.bills {
        w.write_record([
            cell(&b.id),
            b.month.clone(),
            cell(&b.facility_name),
            cell(&b.infant_name),
            cell(b.class_id.as_deref().unwrap_or("")),
            b.care_type.label_zh().to_string(),
            yuan(b.due_fen),
            yuan(b.paid_fen),
            yuan((b.due_fen - b.paid_fen).max(0)),
            yuan(b.subsidy_fen),
            b.status.label_zh().to_string(),
            b.due_date.to_string(),
            if b.overdue { "是" } else { "否" }.to_string(),
        ])
        .map_err(err)?;
    }
    let t = &s.totals;
    w.write_record([
        "合计".to_string(),
        s.month.clone(),
        cell(&s.facility_name),
        format!("{} 份账单", t.bills),
        String::new(),
        String::new(),
        yuan(t.due_fen),
        yuan(t.paid_fen),
        yuan(t.outstanding_fen),
        yuan(t.subsidy_fen),
        String::new(),
        String::new(),
        t.overdue.to_string(),
    ])
    .map_err(err)?;
    w.into_inner()
        .map_err(|e| StoreError::Database(format!("csv: {e}")))
}

/// One benchmark of billing the whole city's month (`laoxiao childcare bench-bills`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchRun {
    /// Enrolments active in the month.
    pub children: i64,
    /// Of them made half-day for the run (every tenth).
    pub half_day: i64,
    /// Absences written for the month (about one weekday in twenty).
    pub absences: i64,
    /// Seconds and bills made, per repeat.
    pub runs: Vec<(f64, i64)>,
}

/// Times [`generate`] for every institution of the city, `repeat` times, on
/// a month of synthetic attendance: every tenth enrolment half-day, about
/// one weekday in twenty absent (deterministic), the demo's prices. All of
/// it, and every bill, is rolled back: the benchmark changes nothing.
pub fn bench_generate(
    conn: &mut Conn,
    month: Month,
    now: NaiveDateTime,
    repeat: usize,
) -> Result<BenchRun> {
    let sys = Scope::system("bench");
    let (first, last) = (month.first(), month.last().min(now.date()));
    let mut out = BenchRun {
        children: 0,
        half_day: 0,
        absences: 0,
        runs: Vec::new(),
    };
    conn.transaction_with(false, |c| {
        seed_demo_prices(c)?;
        c.execute(
            "DELETE FROM childcare_bill WHERE month = $1",
            &[month.to_string().into()],
        )?;
        let rows = c.query(
            "SELECT e.id, e.infant_id, e.facility_id, e.class_id, e.start_date, e.end_date, f.area_path \
             FROM enrolment e JOIN facility f ON f.id = e.facility_id \
             WHERE e.deleted_at IS NULL AND e.start_date <= $1 AND (e.end_date IS NULL OR e.end_date >= $2) \
             ORDER BY e.id",
            &[last.to_string().into(), first.to_string().into()],
        )?;
        out.children = rows.len() as i64;
        let mut half: Vec<String> = Vec::new();
        let mut absent: Vec<Vec<Value>> = Vec::new();
        let stamp = now_rfc3339();
        for (i, r) in rows.iter().enumerate() {
            let id: String = r.get("id")?;
            let start: NaiveDate = r.get("start_date")?;
            let end: Option<NaiveDate> = r.get("end_date")?;
            if i % 10 == 9 {
                half.push(id.clone());
            }
            for (k, day) in first.iter_days().take_while(|d| *d <= last).enumerate() {
                let weekday = !matches!(
                    chrono::Datelike::weekday(&day),
                    chrono::Weekday::Sat | chrono::Weekday::Sun
                );
                if !weekday || day < start || end.is_some_and(|e| day > e) || (i * 7 + k * 3) % 20 != 0 {
                    continue;
                }
                absent.push(vec![
                    format!("AT-B{i}-{k}").into(),
                    id.as_str().into(),
                    r.get::<String>("infant_id")?.into(),
                    r.get::<String>("facility_id")?.into(),
                    r.get::<String>("area_path")?.into(),
                    r.get::<Option<String>>("class_id")?.into(),
                    day.to_string().into(),
                    stamp.as_str().into(),
                ]);
            }
        }
        for chunk in half.chunks(CHUNK) {
            let marks: Vec<String> = (1..=chunk.len()).map(|j| format!("${j}")).collect();
            let vals: Vec<Value> = chunk.iter().map(|s| s.as_str().into()).collect();
            out.half_day += c.execute(
                &format!(
                    "UPDATE enrolment SET care_type = 'half_day' WHERE id IN ({})",
                    marks.join(", ")
                ),
                &vals,
            )? as i64;
        }
        const COLS: usize = 8;
        for chunk in absent.chunks(CHUNK) {
            let mut sql = String::from(
                "INSERT INTO childcare_attendance (id, enrolment_id, infant_id, facility_id, facility_path, \
                 class_id, day, updated_at, status, absence_reason) VALUES ",
            );
            let mut vals: Vec<Value> = Vec::with_capacity(chunk.len() * COLS);
            for (i, row) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                let marks: Vec<String> = (1..=COLS).map(|j| format!("${}", i * COLS + j)).collect();
                sql.push_str(&format!("({}, 'absent', 'ill')", marks.join(", ")));
                vals.extend(row.iter().cloned());
            }
            sql.push_str(" ON CONFLICT (enrolment_id, day) DO NOTHING");
            out.absences += c.execute(&sql, &vals)? as i64;
        }
        for _ in 0..repeat.clamp(1, 100) {
            let t = std::time::Instant::now();
            let g = generate(c, &sys, month, None, now)?;
            out.runs.push((t.elapsed().as_secs_f64(), g.created));
            c.execute(
                "DELETE FROM childcare_bill WHERE month = $1",
                &[month.to_string().into()],
            )?;
        }
        Ok(())
    })?;
    Ok(out)
}
