//! The console's templates, compiled in (minijinja without a loader), and the
//! functions they use: `t(key, **args)` for messages, `num` for figures.

use std::sync::Arc;

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, ErrorKind, State, Value};

use super::i18n::{Catalogues, Lang};

/// Every template: (name, source).
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "portal_base.html",
        include_str!("../../assets/templates/portal_base.html"),
    ),
    (
        "portal_home.html",
        include_str!("../../assets/templates/portal_home.html"),
    ),
    (
        "portal_places.html",
        include_str!("../../assets/templates/portal_places.html"),
    ),
    (
        "portal_place.html",
        include_str!("../../assets/templates/portal_place.html"),
    ),
    (
        "portal_statistics.html",
        include_str!("../../assets/templates/portal_statistics.html"),
    ),
    (
        "key_projects.html",
        include_str!("../../assets/templates/key_projects.html"),
    ),
    (
        "key_project.html",
        include_str!("../../assets/templates/key_project.html"),
    ),
    (
        "portal_projects.html",
        include_str!("../../assets/templates/portal_projects.html"),
    ),
    (
        "portal_data.html",
        include_str!("../../assets/templates/portal_data.html"),
    ),
    (
        "portal_dataset.html",
        include_str!("../../assets/templates/portal_dataset.html"),
    ),
    (
        "portal_complaints.html",
        include_str!("../../assets/templates/portal_complaints.html"),
    ),
    (
        "portal_complaint_done.html",
        include_str!("../../assets/templates/portal_complaint_done.html"),
    ),
    (
        "portal_complaint_track.html",
        include_str!("../../assets/templates/portal_complaint_track.html"),
    ),
    (
        "portal_message.html",
        include_str!("../../assets/templates/portal_message.html"),
    ),
    (
        "portal_inspections.html",
        include_str!("../../assets/templates/portal_inspections.html"),
    ),
    (
        "portal_entitlements.html",
        include_str!("../../assets/templates/portal_entitlements.html"),
    ),
    (
        "visits_nav.html",
        include_str!("../../assets/templates/visits_nav.html"),
    ),
    (
        "visits.html",
        include_str!("../../assets/templates/visits.html"),
    ),
    (
        "visits_tasks.html",
        include_str!("../../assets/templates/visits_tasks.html"),
    ),
    (
        "visit_form.html",
        include_str!("../../assets/templates/visit_form.html"),
    ),
    (
        "visits_followups.html",
        include_str!("../../assets/templates/visits_followups.html"),
    ),
    (
        "visits_completion.html",
        include_str!("../../assets/templates/visits_completion.html"),
    ),
    (
        "visits_contract.html",
        include_str!("../../assets/templates/visits_contract.html"),
    ),
    (
        "alarms.html",
        include_str!("../../assets/templates/alarms.html"),
    ),
    (
        "alarm_rows.html",
        include_str!("../../assets/templates/alarm_rows.html"),
    ),
    (
        "alarm.html",
        include_str!("../../assets/templates/alarm.html"),
    ),
    (
        "alarm_figures.html",
        include_str!("../../assets/templates/alarm_figures.html"),
    ),
    (
        "home.html",
        include_str!("../../assets/templates/home.html"),
    ),
    (
        "my_facility.html",
        include_str!("../../assets/templates/my_facility.html"),
    ),
    (
        "worklist.html",
        include_str!("../../assets/templates/worklist.html"),
    ),
    (
        "worklist_panel.html",
        include_str!("../../assets/templates/worklist_panel.html"),
    ),
    (
        "base.html",
        include_str!("../../assets/templates/base.html"),
    ),
    (
        "assessments.html",
        include_str!("../../assets/templates/assessments.html"),
    ),
    (
        "assessment.html",
        include_str!("../../assets/templates/assessment.html"),
    ),
    (
        "assessment_form.html",
        include_str!("../../assets/templates/assessment_form.html"),
    ),
    (
        "assessment_report.html",
        include_str!("../../assets/templates/assessment_report.html"),
    ),
    (
        "assessments_due.html",
        include_str!("../../assets/templates/assessments_due.html"),
    ),
    (
        "family.html",
        include_str!("../../assets/templates/family.html"),
    ),
    (
        "assessment_import.html",
        include_str!("../../assets/templates/assessment_import.html"),
    ),
    (
        "family_relative.html",
        include_str!("../../assets/templates/family_relative.html"),
    ),
    (
        "family_nav.html",
        include_str!("../../assets/templates/family_nav.html"),
    ),
    (
        "family_links.html",
        include_str!("../../assets/templates/family_links.html"),
    ),
    (
        "family_orders.html",
        include_str!("../../assets/templates/family_orders.html"),
    ),
    (
        "family_settlement.html",
        include_str!("../../assets/templates/family_settlement.html"),
    ),
    (
        "macros.html",
        include_str!("../../assets/templates/macros.html"),
    ),
    (
        "error.html",
        include_str!("../../assets/templates/error.html"),
    ),
    (
        "planning.html",
        include_str!("../../assets/templates/planning.html"),
    ),
    (
        "planning_access.html",
        include_str!("../../assets/templates/planning_access.html"),
    ),
    (
        "planning_siting.html",
        include_str!("../../assets/templates/planning_siting.html"),
    ),
    (
        "overview.html",
        include_str!("../../assets/templates/overview.html"),
    ),
    (
        "facilities.html",
        include_str!("../../assets/templates/facilities.html"),
    ),
    (
        "facility_results.html",
        include_str!("../../assets/templates/facility_results.html"),
    ),
    (
        "facility.html",
        include_str!("../../assets/templates/facility.html"),
    ),
    (
        "facility_form.html",
        include_str!("../../assets/templates/facility_form.html"),
    ),
    (
        "register_list.html",
        include_str!("../../assets/templates/register_list.html"),
    ),
    (
        "register_record.html",
        include_str!("../../assets/templates/register_record.html"),
    ),
    (
        "register_form.html",
        include_str!("../../assets/templates/register_form.html"),
    ),
    (
        "people.html",
        include_str!("../../assets/templates/people.html"),
    ),
    (
        "people_results.html",
        include_str!("../../assets/templates/people_results.html"),
    ),
    (
        "person.html",
        include_str!("../../assets/templates/person.html"),
    ),
    (
        "plan.html",
        include_str!("../../assets/templates/plan.html"),
    ),
    (
        "import.html",
        include_str!("../../assets/templates/import.html"),
    ),
    (
        "login.html",
        include_str!("../../assets/templates/login.html"),
    ),
    (
        "audit.html",
        include_str!("../../assets/templates/audit.html"),
    ),
    (
        "password.html",
        include_str!("../../assets/templates/password.html"),
    ),
    (
        "transfers.html",
        include_str!("../../assets/templates/transfers.html"),
    ),
    (
        "admission.html",
        include_str!("../../assets/templates/admission.html"),
    ),
    (
        "filings.html",
        include_str!("../../assets/templates/filings.html"),
    ),
    (
        "family_day.html",
        include_str!("../../assets/templates/family_day.html"),
    ),
    (
        "childcare_day.html",
        include_str!("../../assets/templates/childcare_day.html"),
    ),
    (
        "bill_body.html",
        include_str!("../../assets/templates/bill_body.html"),
    ),
    (
        "childcare_bills.html",
        include_str!("../../assets/templates/childcare_bills.html"),
    ),
    (
        "childcare_bill.html",
        include_str!("../../assets/templates/childcare_bill.html"),
    ),
    (
        "family_bills.html",
        include_str!("../../assets/templates/family_bills.html"),
    ),
    (
        "family_notifications.html",
        include_str!("../../assets/templates/family_notifications.html"),
    ),
    (
        "family_messages.html",
        include_str!("../../assets/templates/family_messages.html"),
    ),
    (
        "childcare_messages.html",
        include_str!("../../assets/templates/childcare_messages.html"),
    ),
    (
        "childcare_thread.html",
        include_str!("../../assets/templates/childcare_thread.html"),
    ),
    (
        "notifications_health.html",
        include_str!("../../assets/templates/notifications_health.html"),
    ),
    (
        "thread_body.html",
        include_str!("../../assets/templates/thread_body.html"),
    ),
    (
        "inspections.html",
        include_str!("../../assets/templates/inspections.html"),
    ),
    (
        "inspection_plan.html",
        include_str!("../../assets/templates/inspection_plan.html"),
    ),
    (
        "inspection.html",
        include_str!("../../assets/templates/inspection.html"),
    ),
    (
        "complaints.html",
        include_str!("../../assets/templates/complaints.html"),
    ),
    (
        "complaint_body.html",
        include_str!("../../assets/templates/complaint_body.html"),
    ),
    (
        "complaint.html",
        include_str!("../../assets/templates/complaint.html"),
    ),
    (
        "family_complaints.html",
        include_str!("../../assets/templates/family_complaints.html"),
    ),
    (
        "family_complaint.html",
        include_str!("../../assets/templates/family_complaint.html"),
    ),
    (
        "childcare_figures.html",
        include_str!("../../assets/templates/childcare_figures.html"),
    ),
    (
        "enrolments.html",
        include_str!("../../assets/templates/enrolments.html"),
    ),
    (
        "enrolment.html",
        include_str!("../../assets/templates/enrolment.html"),
    ),
    (
        "filing.html",
        include_str!("../../assets/templates/filing.html"),
    ),
    (
        "admission_home.html",
        include_str!("../../assets/templates/admission_home.html"),
    ),
    (
        "admission_application.html",
        include_str!("../../assets/templates/admission_application.html"),
    ),
    (
        "indicators.html",
        include_str!("../../assets/templates/indicators.html"),
    ),
    (
        "indicator.html",
        include_str!("../../assets/templates/indicator.html"),
    ),
    (
        "subsidies.html",
        include_str!("../../assets/templates/subsidies.html"),
    ),
    (
        "subsidy_run.html",
        include_str!("../../assets/templates/subsidy_run.html"),
    ),
    (
        "subsidy_line.html",
        include_str!("../../assets/templates/subsidy_line.html"),
    ),
    (
        "subsidy_whatif.html",
        include_str!("../../assets/templates/subsidy_whatif.html"),
    ),
];

fn lang_of(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or(Lang::Zh)
}

/// Formats a number for people: integers with thousands separators, others with
/// `digits` decimals (default 1); none as "—".
fn num(v: Value, digits: Option<usize>) -> String {
    if v.is_none() || v.is_undefined() {
        return "—".into();
    }
    if let Some(i) = v.as_i64()
        && digits.is_none()
    {
        return super::group_digits(i);
    }
    match f64::try_from(v.clone()) {
        Ok(x) if x.is_finite() => {
            let d = digits.unwrap_or(1);
            let s = format!("{x:.d$}");
            match s.split_once('.') {
                Some((int, frac)) => {
                    let n: i64 = int.trim_start_matches('-').parse().unwrap_or(0);
                    let sign = if int.starts_with('-') { "-" } else { "" };
                    format!("{sign}{}.{frac}", super::group_digits(n))
                }
                None => s,
            }
        }
        _ => v.to_string(),
    }
}

/// The environment with every template added.
pub fn environment(cat: Arc<Catalogues>) -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
    for (name, src) in TEMPLATES {
        env.add_template(name, src)?;
    }
    let c = cat.clone();
    env.add_function(
        "t",
        move |state: &State, key: String, kwargs: Kwargs| -> Result<String, Error> {
            let lang = lang_of(state);
            let mut args: Vec<(String, String)> = Vec::new();
            for k in kwargs.args() {
                let v: Value = kwargs.get(k)?;
                let shown = if v.as_i64().is_some() || f64::try_from(v.clone()).is_ok() {
                    num(v, None)
                } else {
                    v.to_string()
                };
                args.push((k.to_string(), shown));
            }
            kwargs.assert_all_used()?;
            if !c.has(&key) {
                return Err(Error::new(
                    ErrorKind::UndefinedError,
                    format!("unknown message key {key}"),
                ));
            }
            let refs: Vec<(&str, String)> =
                args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            Ok(c.fill(lang, &key, &refs))
        },
    );
    let c = cat;
    env.add_function(
        "label",
        move |state: &State, kind: String, code: Value| -> String {
            if code.is_none() || code.is_undefined() {
                return "—".into();
            }
            let code = code.to_string();
            c.label(lang_of(state), &kind, &code)
        },
    );
    env.add_filter("num", |v: Value, digits: Option<usize>| num(v, digits));
    env.add_filter("when", |v: String| when(&v));
    Ok(env)
}

/// An RFC 3339 timestamp as `YYYY-MM-DD HH:MM:SS` (UTC, as stored): the
/// fraction and the zone only widen a table column.
fn when(v: &str) -> String {
    match v.get(..19) {
        Some(head) if v.as_bytes().get(10) == Some(&b'T') => head.replacen('T', " ", 1),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_show_to_the_second() {
        assert_eq!(when("2026-11-30T08:44:55.688342Z"), "2026-11-30 08:44:55");
        assert_eq!(when("2026-11-30T08:44:55Z"), "2026-11-30 08:44:55");
        assert_eq!(when("2026-11-30"), "2026-11-30");
        assert_eq!(when("坏"), "坏");
    }

    /// Literal keys used as `t("…")` in a template.
    fn keys_in(src: &str) -> Vec<String> {
        let mut out = Vec::new();
        for quote in ['"', '\''] {
            let pat = format!("t({quote}");
            let mut rest = src;
            while let Some(i) = rest.find(&pat) {
                // `t(` preceded by an identifier character is another function.
                let before = rest[..i].chars().last();
                rest = &rest[i + pat.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                if let Some(end) = rest.find(quote) {
                    // `t("prefix." ~ name)` builds the key at run time; the page
                    // rendering tests cover those.
                    let dynamic = rest[end + 1..].trim_start().starts_with('~');
                    if !dynamic {
                        out.push(rest[..end].to_string());
                    }
                }
            }
        }
        out
    }

    #[test]
    fn templates_reference_only_existing_keys() {
        let cat = Catalogues::embedded().expect("catalogues");
        let mut missing = Vec::new();
        let mut n = 0;
        for (name, src) in TEMPLATES {
            for k in keys_in(src) {
                n += 1;
                if !cat.has(&k) {
                    missing.push(format!("{name}: {k}"));
                }
            }
        }
        assert!(n > 50, "found only {n} message references");
        assert!(missing.is_empty(), "unknown keys: {missing:?}");
    }

    #[test]
    fn rust_code_references_only_existing_keys() {
        let cat = Catalogues::embedded().expect("catalogues");
        let sources = [
            include_str!("mod.rs"),
            include_str!("overview.rs"),
            include_str!("facilities.rs"),
            include_str!("people.rs"),
            include_str!("transfers.rs"),
            include_str!("plan.rs"),
            include_str!("indicators.rs"),
            include_str!("import.rs"),
            include_str!("subsidies.rs"),
            include_str!("planning.rs"),
        ];
        let mut missing = Vec::new();
        for src in sources {
            // Keys are written as "section.key" string literals next to t/fill calls.
            for part in src.split('"').skip(1).step_by(2) {
                let looks_like_key = part.contains('.')
                    && !part.contains(' ')
                    && !part.contains('{')
                    && !part.ends_with(".html")
                    && part.split('.').next().is_some_and(|s| {
                        [
                            "error", "overview", "fig", "list", "form", "import", "plan", "person",
                            "facility", "people", "nav", "map", "sub", "planning",
                        ]
                        .contains(&s)
                    });
                if looks_like_key && !cat.has(part) {
                    missing.push(part.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "unknown keys: {missing:?}");
    }

    #[test]
    fn templates_have_no_bare_text() {
        // Text between tags must come from the catalogue: flag runs of CJK characters
        // written straight into a template.
        for (name, src) in TEMPLATES {
            let cjk = src
                .chars()
                .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                .count();
            assert_eq!(cjk, 0, "{name} has Chinese text; use t(\"…\")");
        }
    }

    #[test]
    fn numbers_are_formatted() {
        assert_eq!(num(Value::from(1234567), None), "1,234,567");
        assert_eq!(num(Value::from(12.345), Some(2)), "12.35");
        assert_eq!(num(Value::from(()), None), "—");
    }
}
