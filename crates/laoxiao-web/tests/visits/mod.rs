//! Visiting rounds and home-care beds through the API and the console:
//! generate a month's rounds, a visitor's list, record a visit (and the
//! refusals), a follow-up closed by the town, a provider's service visits
//! and the month's completion, worked by hand. Also the records the access
//! matrix needs on the `/visits/…/{id}` routes.

use laoxiao_model::person::{Sex, SpecialDifficulty};
use laoxiao_model::visit::VisitOutcome;
use laoxiao_model::{Facility, FacilityKind, HomeCareContract, Person, PersonRole};
use laoxiao_rules::visits::VisitRules;
use laoxiao_store::visits::{self as v, VisitInput};
use laoxiao_store::{Scope, facilities, people, registry};

use super::*;

fn special(id: &str, area: &str, birth: &str, seq: u16) -> Person {
    let b = d(birth);
    let mut p = Person::blank(
        id,
        PersonRole::Elderly,
        area,
        b,
        if seq % 2 == 1 { Sex::Male } else { Sex::Female },
    );
    p.id_number = laoxiao_model::idcard::make("330402", b, seq);
    p.name = "赵某某".into();
    p.special_difficulty = vec![SpecialDifficulty::ExtremePoverty];
    p
}

/// The id to put in a `/visits/…/{id}` route of the access matrix: a task or
/// follow-up of January 2026 of a person in village A (or, `out`, town B),
/// created on first use; for contracts, the register's RA / RB.
pub(super) fn seed_for_matrix(
    store: &laoxiao_store::Store,
    village_a: &str,
    town_b: &str,
    path: &str,
    out: bool,
) -> String {
    let suffix = if out { "B" } else { "A" };
    if path.contains("/visits/contracts/") {
        return format!("R{suffix}");
    }
    let sys = Scope::system("test");
    let mut c = store.conn().expect("conn");
    let task = |p: &str| format!("VT-2026-01-{p}");
    let today = chrono::Local::now().date_naive();
    if v::get_task(&mut c, &sys, &task("VPA"), today).is_err() {
        for (id, area, seq) in [("VPA", village_a, 1), ("VPB", town_b, 2)] {
            people::create(
                &mut c,
                &store.reference,
                &sys,
                &special(id, area, "1938-01-01", seq),
            )
            .expect("person");
        }
        let rules = VisitRules::embedded()
            .expect("rules")
            .for_month(d("2026-01-01"))
            .expect("month");
        v::generate_rounds(&mut c, &sys, &rules).expect("rounds");
        for p in ["VPA", "VPB"] {
            let input = VisitInput {
                outcome: VisitOutcome::NotReached,
                date: d("2026-01-05"),
                concerns: Vec::new(),
                note: None,
                follow_up: Some("请镇里联系家属".into()),
            };
            v::record_visit(&mut c, &sys, &task(p), &input, today).expect("attempt");
        }
    }
    let t = task(&format!("VP{suffix}"));
    if path.contains("/followups/") {
        format!("VF-{t}-1")
    } else {
        t
    }
}

#[test]
fn visits_api_rounds_visits_followups_and_home_care() {
    run(|app| async move {
        let store = app.store.clone();
        // Town 330402007, its first village; a visitor, town staff, and the
        // operator of a home-care centre with a 10-hour contract for P2.
        let (village, tokens) = block(move || {
            let r = &store.reference;
            let sys = Scope::system("test");
            let town = "330402007".to_string();
            let village = r.areas.children(&town)[0].code.clone();
            let mut c = store.conn().expect("conn");
            for (id, seq) in [("P1", 41), ("P2", 42)] {
                people::create(&mut c, r, &sys, &special(id, &village, "1941-04-04", seq))
                    .expect("person");
            }
            let h = Facility::blank(
                "H1",
                "居家养老服务中心",
                FacilityKind::TownHomeCareCenter,
                &town,
            );
            facilities::create(&mut c, r, &sys, &h).expect("provider");
            let k = HomeCareContract {
                id: "K1".into(),
                person_id: "P2".into(),
                facility_id: "H1".into(),
                service_plan: "助浴".into(),
                hours_per_month: 10,
                devices: None,
                start_date: d("2026-01-01"),
                end_date: None,
            };
            registry::create(&mut c, &store.checker(), &sys, &k, d("2026-01-02"))
                .expect("contract");
            drop(c);
            let vis = make_user(
                &store,
                "vis1",
                laoxiao_store::Role::VillageStaff,
                &village,
                None,
            );
            let town_t = make_user(&store, "town1", laoxiao_store::Role::TownStaff, &town, None);
            let op = make_user(
                &store,
                "op1",
                laoxiao_store::Role::FacilityOperator,
                &town,
                Some("H1"),
            );
            (village, (vis, town_t, op))
        })
        .await;
        let (vis, town_t, op) = tokens;
        let as_ = |t: &str| App {
            token: Some(t.to_string()),
            ..app.clone()
        };

        // Generation: both are due; again, nothing; a bad month names its field.
        let r = app
            .post("/api/visits/rounds", &json!({"month": "2026-02"}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            (r.body["created"].as_i64(), r.body["total"].as_i64()),
            (Some(2), Some(2))
        );
        let r = app
            .post("/api/visits/rounds", &json!({"month": "2026-02"}))
            .await;
        assert_eq!(r.body["created"], 0);
        let f = app
            .post("/api/visits/rounds", &json!({"month": "2026-13"}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["month"]);
        as_(&vis)
            .post("/api/visits/rounds", &json!({"month": "2026-02"}))
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        let r = app.get("/api/visits/rounds?month=2026-02").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["due_date"], "2026-02-25");
        let a = &r.body["areas"][0];
        assert_eq!(
            (a["area_code"].as_str(), a["due"].as_i64()),
            (Some(village.as_str()), Some(2))
        );
        app.get("/api/visits/rounds?month=2026-2")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");

        // The visitor's list, one visit recorded, then refused twice.
        let r = as_(&vis)
            .get("/api/visits/tasks?mine=true&month=2026-02")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let items = r.body["items"].as_array().expect("items");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["person_name"], "赵**");
        assert_eq!(items[0]["visitor"], "vis1");
        let body = json!({"outcome": "in_person", "date": "2026-02-10", "concerns": ["health", "safety"],
                          "note": "血压偏高", "follow_up": "联系家庭医生上门"});
        let r = as_(&vis)
            .post("/api/visits/tasks/VT-2026-02-P1/record", &body)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            (r.body["status"].as_str(), r.body["outcome"].as_str()),
            (Some("visited"), Some("in_person"))
        );
        as_(&vis)
            .post("/api/visits/tasks/VT-2026-02-P1/record", &body)
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");
        let mut f = as_(&vis)
            .post(
                "/api/visits/tasks/VT-2026-02-P2/record",
                &json!({"outcome": "flying", "date": "10/02/2026", "concerns": ["money"]}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        f.sort();
        assert_eq!(f, ["concerns", "date", "outcome"]);
        let r = app
            .get("/api/visits/tasks?status=overdue&month=2026-02")
            .await;
        assert_eq!(
            r.body["items"].as_array().map(Vec::len),
            Some(1),
            "{}",
            r.body
        );
        app.get("/api/visits/tasks/VT-2026-02-NOBODY")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");

        // The follow-up: the town closes it, the visitor may not.
        let r = as_(&town_t).get("/api/visits/followups").await;
        let items = r.body["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{}", r.body);
        assert_eq!(items[0]["need"], "联系家庭医生上门");
        let id = items[0]["id"].as_str().expect("id").to_string();
        as_(&vis)
            .post(
                &format!("/api/visits/followups/{id}/close"),
                &json!({"note": "已处理"}),
            )
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        let r = as_(&town_t)
            .post(
                &format!("/api/visits/followups/{id}/close"),
                &json!({"note": "家庭医生已上门"}),
            )
            .await;
        assert_eq!(
            (r.status, r.body["status"].as_str()),
            (StatusCode::OK, Some("done")),
            "{}",
            r.body
        );

        // A provider's service visit: 300 of 600 planned minutes = 50.0 %.
        let r = as_(&op)
            .post(
                "/api/visits/contracts/K1/services",
                &json!({"date": "2026-02-03", "minutes": 300, "services": "助浴"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let f = as_(&op)
            .post(
                "/api/visits/contracts/K1/services",
                &json!({"date": "2026-02-04", "minutes": 0, "services": "助浴"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["minutes"]);
        let r = as_(&op).get("/api/visits/contracts/K1/services").await;
        assert_eq!(r.body["items"].as_array().map(Vec::len), Some(1));
        let r = app.get("/api/visits/completion?month=2026-02").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["alert_percent"], 80);
        assert_eq!(r.body["contracts"][0]["percent"], 50.0);
        assert_eq!(r.body["areas"][0]["below_alert"], 1);

        // Every operation is in the OpenAPI document.
        let doc = app.get("/api/openapi.json").await.body;
        for p in [
            "/api/visits/rounds",
            "/api/visits/tasks/{id}/record",
            "/api/visits/completion",
        ] {
            assert!(doc["paths"][p].is_object(), "{p} documented");
        }
    });
}
