//! The public entitlement check (待遇测算, `/portal/entitlements`) over HTTP,
//! as a visitor without an account: an older person's and a child's answers
//! give the benefits the rules say, in the right groups, with amounts; bad
//! answers are a 400 page naming the field; and nothing is written to the
//! database (no table changes, no audit entry) or logged (the answers never
//! appear in a log event or span).

use super::*;
use chrono::Datelike;

/// Every table's row count (SQLite or PostgreSQL).
fn table_counts(store: &laoxiao_store::Store) -> Vec<(String, i64)> {
    let mut c = store.conn().expect("conn");
    let sql = match c.backend() {
        laoxiao_store::Backend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' ORDER BY name"
        }
        laoxiao_store::Backend::Postgres => {
            "SELECT table_name::text AS t FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
    };
    let names: Vec<String> = c
        .query(sql, &[])
        .expect("tables")
        .iter()
        .map(|r| r.get::<String>("t").expect("name"))
        .collect();
    assert!(names.iter().any(|n| n == "audit_log"), "{names:?}");
    names
        .into_iter()
        .map(|n| {
            let k = c
                .query_i64(&format!("SELECT COUNT(*) FROM \"{n}\""), &[])
                .expect("count");
            (n, k)
        })
        .collect()
}

/// The part of `body` between the heading `id` and the next group heading.
fn group<'a>(body: &'a str, id: &str) -> &'a str {
    let Some(i) = body.find(&format!("id=\"{id}\"")) else {
        return "";
    };
    let rest = &body[i + id.len()..];
    let end = ["id=\"group-", "id=\"elder-form\""]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The page, with the entities the templates write for `/` and `'` decoded.
async fn get(app: &App, uri: &str) -> Raw {
    let mut r = raw(&app.router, "GET", uri, &[], None).await;
    r.body = r.body.replace("&#x2f;", "/").replace("&#x27;", "'");
    r
}

#[test]
fn portal_entitlements_check_answers_stores_nothing_and_logs_nothing() {
    let logs = captured_logs();
    run(|app| async move {
        let store = app.store.clone();
        let before = block(move || table_counts(&store)).await;
        let year = chrono::Utc::now().date_naive().year();

        // The blank form: both forms, nothing checked yet.
        let r = get(&app, "/portal/entitlements").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("id=\"elder-form\"") && r.body.contains("id=\"child-form\""));
        assert!(!r.body.contains("id=\"results\""));
        assert!(header_of(&r, "cache-control").is_some_and(|v| v.starts_with("public")));

        // 101 years old, Jiaxing hukou, 特困, severely impaired, at home.
        let old = year - 101;
        let uri = format!(
            "/portal/entitlements?who=elder&birth_year={old}&birth_month=1&hukou=330402\
             &residence=330402&cat=extreme_poverty&ability=3&living=with_family"
        );
        let r = get(&app, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // Answers are never kept by a cache.
        assert_eq!(header_of(&r, "cache-control"), Some("no-store"));
        let met = group(&r.body, "group-met");
        for code in [
            "centenarian",
            "elderly_allowance",
            "home_care_voucher",
            "visits",
            "care_home_admission",
        ] {
            assert!(
                met.contains(&format!("id=\"ent-{code}\"")),
                "{code} met: {met}"
            );
        }
        // 600 yuan a month (规划: 百岁老人长寿保健金每人每月600元).
        assert!(met.contains("600.00 元/月"), "{met}");
        // Vouchers: meals 200 (特困), bathing 150 (重度失能) — vouchers.toml.
        assert!(met.contains("助餐：<strong>200.00 元/月"), "{met}");
        assert!(met.contains("助浴：<strong>150.00 元/月"), "{met}");
        assert!(met.contains("第一优先类"), "{met}");
        // No child benefit on an older person's page.
        assert!(!r.body.contains("ent-inclusive_childcare"));
        // Where to find a service links to the place search.
        assert!(r.body.contains("href=\"/portal/places\""));

        // 70, hukou elsewhere, no category, never assessed: nothing met; the
        // vouchers are possible with an assessment; the reasons are given.
        let r = get(
            &app,
            &format!(
                "/portal/entitlements?who=elder&birth_year={}&birth_month=6&hukou=elsewhere\
                 &residence=330411&ability=unknown&living=living_alone&lang=en",
                year - 70
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(group(&r.body, "group-met"), "");
        assert!(group(&r.body, "group-possibly").contains("ent-home_care_voucher"));
        let not_met = group(&r.body, "group-not-met");
        assert!(not_met.contains("ent-centenarian"), "{not_met}");
        assert!(not_met.contains("needs a Jiaxing hukou"), "{not_met}");
        assert!(not_met.contains("turns 100 in"), "{not_met}");

        // A child of 10 months in 南湖 with a parent's Jiaxing hukou, second
        // child: an inclusive place (乳儿班, 6–12 months) with a fee cap; the
        // allowance is only possible (the plan asks counties to study it).
        let r = get(
            &app,
            "/portal/entitlements?who=child&age_months=10&parents_hukou=330411\
             &child_residence=330402&birth_order=second",
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let met = group(&r.body, "group-met");
        assert!(
            met.contains("ent-inclusive_childcare") && met.contains("乳儿班"),
            "{met}"
        );
        assert!(met.contains("不超过"), "{met}");
        assert!(group(&r.body, "group-possibly").contains("ent-childcare_allowance"));
        assert!(!r.body.contains("ent-centenarian"));

        // Bad answers: 400, the field named, marked invalid, the form kept.
        let r = get(
            &app,
            "/portal/entitlements?who=elder&birth_year=1800&birth_month=1&hukou=330402\
             &residence=330402&ability=unknown&living=with_family",
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("出生年份："), "{}", r.body);
        assert!(r.body.contains("id=\"f-birth_year\"") && r.body.contains("aria-invalid=\"true\""));
        assert!(!r.body.contains("id=\"results\""));
        let r = get(
            &app,
            "/portal/entitlements?who=child&age_months=999&parents_hukou=999999\
             &child_residence=330402&birth_order=second&lang=en",
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body
                .contains("Child's age in months: enter a whole number from 0 to 72"),
            "{}",
            r.body
        );
        assert!(
            r.body
                .contains("Hukou of either parent: choose one from the list.")
        );
        // Too young to be an older person (59): named as the birth date.
        let r = get(
            &app,
            &format!(
                "/portal/entitlements?who=elder&birth_year={}&birth_month=12&hukou=330402\
                 &residence=330402&ability=0&living=with_family",
                year - 59
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("href=\"#f-birth_year\""), "{}", r.body);
        // 59 by a month (the year itself in range): the age is named.
        let today = chrono::Utc::now().date_naive();
        if today.month() < 12 {
            let r = get(
                &app,
                &format!(
                    "/portal/entitlements?who=elder&birth_year={}&birth_month={}&hukou=330402\
                     &residence=330402&ability=0&living=with_family",
                    year - 60,
                    today.month() + 1
                ),
            )
            .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST);
            assert!(r.body.contains("老年人须年满60周岁"), "{}", r.body);
        }
        let r = get(&app, "/portal/entitlements?who=cat&cat=massage").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = get(
            &app,
            &format!(
                "/portal/entitlements?who=elder&birth_year={old}&birth_month=1&hukou=330402\
                 &residence=330402&cat=massage&ability=9&living=on_the_moon"
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        for f in ["err-cat", "err-ability", "err-living"] {
            assert!(r.body.contains(&format!("id=\"{f}\"")), "{f}");
        }

        // Nothing written: every table as before (no audit entry either).
        let store = app.store.clone();
        let after = block(move || table_counts(&store)).await;
        assert_eq!(before, after);
    });
    // Nothing logged: no event or span carries the answers.
    let logs = logs.lock().unwrap_or_else(|p| p.into_inner());
    for l in logs.iter() {
        assert!(
            !l.contains("who=elder") && !l.contains("who=child") && !l.contains("age_months="),
            "logged: {l}"
        );
    }
}
