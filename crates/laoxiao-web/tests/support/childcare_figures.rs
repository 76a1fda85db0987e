//! Supervision figures over HTTP (托育机构监管指标): the institution checks a
//! child in through the API and its figures count the day; the county sees
//! its own institutions and its towns, another county gets 404 for it; bad
//! dates and a window over 92 days are 422 on the field; families get 403.
//! The arithmetic is the store test's (`tests/support/childcare_figures.rs`).

use super::*;

#[test]
fn figures_count_the_day_recorded_and_stay_in_scope() {
    run(|app| async move {
        let store = app.store.clone();
        let (op_token, county_token, other_token, family_token) = block(move || {
            use laoxiao_model::facility::{CareType, ClassType};
            use laoxiao_model::person::Sex;
            use laoxiao_model::{ChildcareClass, Enrolment, Facility, FacilityKind};
            let r = &store.reference;
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let town = r.areas.children("330402")[0].code.clone();
            let other_town = r.areas.children("330411")[0].code.clone();
            let mut n1 = Facility::blank(
                "N1",
                "南湖托育园",
                FacilityKind::ChildcareInstitution,
                &town,
            );
            n1.approved_slots = Some(10);
            let class = ChildcareClass {
                id: "N1-YT".into(),
                facility_id: "N1".into(),
                class_type: ClassType::YoungToddlerClass,
                capacity: 10,
                enrolled: 1,
                caregivers: 2,
                monthly_fee_fen: None,
            };
            laoxiao_store::facilities::create_with_classes(&mut c, r, &sys, &n1, &[class], &[])
                .expect("N1");
            let n2 = Facility::blank(
                "N2",
                "秀洲托育园",
                FacilityKind::ChildcareInstitution,
                &other_town,
            );
            laoxiao_store::facilities::create(&mut c, r, &sys, &n2).expect("N2");
            let today = chrono::Local::now().date_naive();
            let birth = today
                .checked_sub_months(chrono::Months::new(18))
                .expect("date");
            let mut p = laoxiao_model::Person::blank(
                "K1",
                laoxiao_model::PersonRole::Infant,
                &town,
                birth,
                Sex::Male,
            );
            p.id_number = laoxiao_model::idcard::make(&town[..6], birth, 1);
            p.name = "张小米".into();
            laoxiao_store::people::create(&mut c, r, &sys, &p).expect("infant");
            let e = Enrolment {
                id: "EN-1".into(),
                infant_id: "K1".into(),
                facility_id: "N1".into(),
                class_id: Some("N1-YT".into()),
                start_date: today - chrono::Duration::days(10),
                end_date: None,
                care_type: Some(CareType::FullDay),
            };
            laoxiao_store::registry::create(&mut c, &r.checker(), &sys, &e, today)
                .expect("enrolment");
            drop(c);
            use laoxiao_store::Role;
            (
                make_user(&store, "fop", Role::FacilityOperator, &town, Some("N1")),
                make_user(&store, "fnanhu", Role::CountyAdmin, "330402", None),
                make_user(&store, "fxiuzhou", Role::CountyAdmin, "330411", None),
                make_user(&store, "fmama", Role::Family, "330400", None),
            )
        })
        .await;
        let as_ = |t: String| App {
            token: Some(t),
            ..app.clone()
        };
        let (op, county, other, fam) = (
            as_(op_token),
            as_(county_token),
            as_(other_token),
            as_(family_token),
        );

        // The institution checks the child in (its own pickup person).
        let r = op
            .post(
                "/api/childcare/children/K1/pickups",
                &json!({"name": "张妈妈", "relation": "parent"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let mum = r.body["id"].as_str().expect("id").to_string();
        let r = op
            .post(
                "/api/childcare/enrolments/EN-1/check-in",
                &json!({"pickup_id": mum, "temperature": 36.6, "morning_check": "normal"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // Its figures for the last 30 days: today's child-day, checked in the
        // morning, no midday check yet; one child on 10 slots.
        let r = op.get("/api/childcare/figures").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let items = r.body["institutions"].as_array().expect("institutions");
        assert_eq!(items.len(), 1);
        let n = &items[0]["counts"];
        assert_eq!(items[0]["id"], "N1");
        assert_eq!(n["enrolled"], 1);
        assert_eq!(n["occupancy"], 10.0);
        assert_eq!(n["child_days"], 1);
        assert_eq!(n["morning_coverage"], 100.0);
        assert_eq!(n["midday_coverage"], 0.0);
        assert_eq!(n["class_days"], 1);
        assert_eq!(n["ratio_breaches"], 0);
        // Today's outdoor time is not judged before the day is over.
        assert_eq!(n["outdoor_days"], 0);
        assert!(
            !r.body.to_string().contains("张小米"),
            "no names: {}",
            r.body
        );

        // The county: its institution and its towns; the other county's is not its.
        let r = county.get("/api/childcare/figures").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["area"]["code"], "330402");
        assert_eq!(r.body["area"]["counts"]["institutions"], 1);
        assert!(r.body["children"].as_array().is_some_and(|c| !c.is_empty()));
        let ids: Vec<&str> = r.body["institutions"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|x| x["id"].as_str())
            .collect();
        assert_eq!(ids, ["N1"]);
        county
            .get("/api/childcare/figures?area=330411")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        let r = other.get("/api/childcare/figures").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["institutions"][0]["id"], "N2");
        assert_eq!(r.body["area"]["counts"]["institutions"], 1);

        // Bad input, each on its field.
        let fields = county
            .get("/api/childcare/figures?from=2025-13-01&to=soon")
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["from", "to"]);
        let fields = county
            .get("/api/childcare/figures?from=2025-01-01&to=2025-04-03")
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["to"]);
        // Before the day's rules took effect (2019-10-08) there is nothing to
        // judge against: the window is refused on its start, not a 500.
        let fields = county
            .get("/api/childcare/figures?to=2018-04-23")
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["from"]);
        let fields = county
            .get("/api/childcare/figures?area=33x")
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["area"]);
        county
            .get("/api/childcare/figures?month=2025-01")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(
            fam.get("/api/childcare/figures").await.status,
            StatusCode::FORBIDDEN
        );
    });
}
