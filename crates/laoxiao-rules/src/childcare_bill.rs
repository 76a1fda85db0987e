//! A child's monthly childcare bill (托育费月度账单), issue 16 part 6: what
//! the family owes for a month from the care type, the institution's prices
//! and the child's attendance.
//!
//! - 全日托 `full_day`: the class's monthly fee (`childcare_class.monthly_fee_fen`);
//!   半日托 `half_day`: the institution's half-day monthly price. Both are
//!   prorated by the weekdays (Monday to Friday) the child was enrolled in
//!   the month, out of the month's weekdays, and both refund the meal price
//!   (`meal_refund`, per day) for each day the child was absent or sent home
//!   at the morning check, never below zero. The plan's fee cap counts meals
//!   in the fee (每月收费标准（含餐费）), so a day without meals is refunded.
//! - 计时托 `hourly`: each visit's time from check-in to check-out, rounded up
//!   to `bill.hourly_unit_minutes`, at the hourly price. A visit with no
//!   check-out is not billed (it is counted and shown).
//! - 临时托 `temporary`: each day the child came, at the daily price.
//!
//! Public holidays are not known to the platform: a weekday that was a
//! holiday counts as a weekday. The inclusive operating subsidy is shown on
//! the bill (the subsidy engine's rule, [`crate::subsidies::inclusive_child_rate`])
//! but never deducted: the government pays it to the institution.

use chrono::{Datelike, NaiveDate, Weekday};
use laoxiao_model::childcare_bills::BillLineKind;
use laoxiao_model::facility::CareType;
use serde::{Deserialize, Serialize};

use crate::subsidies::{Month, div_round};

/// The institution's prices a bill may use, in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prices {
    /// The class's monthly fee (全日托).
    pub monthly_fee: Option<i64>,
    pub half_day: Option<i64>,
    pub hourly: Option<i64>,
    pub temporary: Option<i64>,
    pub meal_refund: Option<i64>,
}

/// What one enrolment did in the month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Weekdays of the month with an absence recorded, or sent home at the
    /// morning check (no meals eaten).
    pub days_without_meals: i64,
    /// Days the child came (checked in).
    pub days_present: i64,
    /// Minutes of each visit with a check-out (hourly care).
    pub visit_minutes: Vec<i64>,
    /// Visits with a check-in and no check-out.
    pub open_visits: i64,
}

/// One line of a bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLine {
    pub kind: BillLineKind,
    /// Days, billing units or months counted.
    pub quantity: i64,
    /// Out of (the month's weekdays, for a prorated fee).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<i64>,
    /// The price the line used, in fen (per month, unit or day).
    pub unit_fen: i64,
    /// Negative for a refund.
    pub amount_fen: i64,
    /// Why, in Chinese: the days, the rounding, visits left out.
    pub note: String,
}

/// Why a bill cannot be made (a price is missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoPrice {
    pub item: &'static str,
    pub reason: String,
}

/// The weekdays (Monday to Friday) from `from` to `to`, both included.
pub fn weekdays(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return 0;
    }
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .count() as i64
}

/// The lines and the amount due of one child's bill for `month`.
/// `start`/`end` are the enrolment's dates; `unit_minutes` is
/// `bill.hourly_unit_minutes`.
pub fn lines(
    month: Month,
    care_type: CareType,
    start: NaiveDate,
    end: Option<NaiveDate>,
    prices: &Prices,
    usage: &Usage,
    unit_minutes: i64,
) -> Result<(Vec<BillLine>, i64), NoPrice> {
    let mut out = Vec::new();
    match care_type {
        CareType::FullDay | CareType::HalfDay => {
            let (fee, item, what) = if care_type == CareType::FullDay {
                (prices.monthly_fee, "monthly_fee", "班级月收费（全日托）")
            } else {
                (prices.half_day, "half_day", "半日托月收费")
            };
            let fee = fee.ok_or_else(|| NoPrice {
                item,
                reason: format!("没有{what}"),
            })?;
            let all = weekdays(month.first(), month.last());
            let from = start.max(month.first());
            let to = end.map_or(month.last(), |e| e.min(month.last()));
            let days = weekdays(from, to);
            let base = if days >= all {
                fee
            } else {
                div_round(i128::from(fee) * i128::from(days), i128::from(all.max(1)))
            };
            out.push(BillLine {
                kind: BillLineKind::MonthlyFee,
                quantity: days,
                of: Some(all),
                unit_fen: fee,
                amount_fen: base,
                note: if days >= all {
                    format!("{}整月", care_type.label_zh())
                } else {
                    format!(
                        "{}，在托{}至{}，按工作日 {days}/{all} 折算",
                        care_type.label_zh(),
                        from,
                        to
                    )
                },
            });
            let refund_days = usage.days_without_meals.clamp(0, days);
            if refund_days > 0
                && let Some(meal) = prices.meal_refund.filter(|m| *m > 0)
            {
                let refund = meal.saturating_mul(refund_days).min(base);
                out.push(BillLine {
                    kind: BillLineKind::MealRefund,
                    quantity: refund_days,
                    of: None,
                    unit_fen: meal,
                    amount_fen: -refund,
                    note: format!("缺勤或晨检劝返 {refund_days} 天，按天退伙食费"),
                });
            }
        }
        CareType::Hourly => {
            let price = prices.hourly.ok_or_else(|| NoPrice {
                item: "hourly",
                reason: "没有计时托价格".into(),
            })?;
            let unit = unit_minutes.clamp(1, 240);
            let units: i64 = usage
                .visit_minutes
                .iter()
                .map(|m| (m.max(&0) + unit - 1) / unit)
                .sum();
            let unit_fen = div_round(i128::from(price) * i128::from(unit), 60);
            let mut note = format!(
                "{} 次在园，每次按 {unit} 分钟向上取整，共 {units} 个计费单位",
                usage.visit_minutes.len()
            );
            if usage.open_visits > 0 {
                note.push_str(&format!("；{} 次未签离园，未计费", usage.open_visits));
            }
            out.push(BillLine {
                kind: BillLineKind::Hours,
                quantity: units,
                of: None,
                unit_fen,
                amount_fen: unit_fen.saturating_mul(units),
                note,
            });
        }
        CareType::Temporary => {
            let price = prices.temporary.ok_or_else(|| NoPrice {
                item: "temporary",
                reason: "没有临时托价格".into(),
            })?;
            out.push(BillLine {
                kind: BillLineKind::Days,
                quantity: usage.days_present,
                of: None,
                unit_fen: price,
                amount_fen: price.saturating_mul(usage.days_present),
                note: format!("入园 {} 天", usage.days_present),
            });
        }
    }
    let due = out.iter().map(|l| l.amount_fen).sum::<i64>().max(0);
    Ok((out, due))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn nov() -> Month {
        Month {
            year: 2026,
            month: 11,
        }
    }

    #[test]
    fn weekdays_count_monday_to_friday() {
        // November 2026: the 1st is a Sunday; 30 days, 8 weekend days.
        assert_eq!(weekdays(d("2026-11-01"), d("2026-11-30")), 21);
        assert_eq!(weekdays(d("2026-11-07"), d("2026-11-08")), 0);
        assert_eq!(weekdays(d("2026-11-09"), d("2026-11-09")), 1);
        assert_eq!(weekdays(d("2026-11-10"), d("2026-11-09")), 0);
    }

    #[test]
    fn a_full_month_is_the_fee_and_absences_refund_meals() {
        let p = Prices {
            monthly_fee: Some(300_000),
            meal_refund: Some(2_000),
            ..Prices::default()
        };
        let u = Usage {
            days_without_meals: 3,
            ..Usage::default()
        };
        let (l, due) =
            lines(nov(), CareType::FullDay, d("2026-01-05"), None, &p, &u, 60).expect("bill");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].amount_fen, 300_000);
        assert_eq!(l[1].amount_fen, -6_000);
        assert_eq!(due, 294_000);
    }

    #[test]
    fn a_child_starting_mid_month_pays_its_weekdays() {
        let p = Prices {
            monthly_fee: Some(210_000),
            ..Prices::default()
        };
        // From Monday 16 November: 11 of the 21 weekdays.
        let (l, due) = lines(
            nov(),
            CareType::FullDay,
            d("2026-11-16"),
            None,
            &p,
            &Usage::default(),
            60,
        )
        .expect("bill");
        assert_eq!((l[0].quantity, l[0].of), (11, Some(21)));
        assert_eq!(due, 110_000);
    }

    #[test]
    fn refunds_never_make_a_bill_negative() {
        let p = Prices {
            half_day: Some(10_000),
            meal_refund: Some(5_000),
            ..Prices::default()
        };
        let u = Usage {
            days_without_meals: 20,
            ..Usage::default()
        };
        let (l, due) =
            lines(nov(), CareType::HalfDay, d("2026-11-02"), None, &p, &u, 60).expect("bill");
        assert_eq!(l[1].amount_fen, -10_000);
        assert_eq!(due, 0);
    }

    #[test]
    fn hourly_visits_round_up_and_open_visits_are_not_billed() {
        let p = Prices {
            hourly: Some(4_000),
            ..Prices::default()
        };
        let u = Usage {
            visit_minutes: vec![61, 120, 5],
            open_visits: 1,
            ..Usage::default()
        };
        let (l, due) =
            lines(nov(), CareType::Hourly, d("2026-11-02"), None, &p, &u, 60).expect("bill");
        // 2 + 2 + 1 hours.
        assert_eq!(l[0].quantity, 5);
        assert_eq!(due, 20_000);
        assert!(l[0].note.contains("1 次未签离园"));
        // Half-hour units: 3 + 4 + 1 units of 20 yuan.
        let (_, due) =
            lines(nov(), CareType::Hourly, d("2026-11-02"), None, &p, &u, 30).expect("bill");
        assert_eq!(due, 8 * 2_000);
    }

    #[test]
    fn temporary_care_is_per_day_and_a_missing_price_is_named() {
        let p = Prices {
            temporary: Some(15_000),
            ..Prices::default()
        };
        let u = Usage {
            days_present: 3,
            ..Usage::default()
        };
        let (_, due) = lines(
            nov(),
            CareType::Temporary,
            d("2026-11-02"),
            None,
            &p,
            &u,
            60,
        )
        .expect("bill");
        assert_eq!(due, 45_000);
        let e = lines(nov(), CareType::HalfDay, d("2026-11-02"), None, &p, &u, 60)
            .expect_err("no half-day price");
        assert_eq!(e.item, "half_day");
    }
}
