//! Childcare bills over HTTP (托育费账单): the institution sets its prices
//! (bad amounts named), bills the month, records a payment (bad fields named
//! at once), exports the statement; the county reads the area's month; the
//! parent reads the child's bill in full, another family finds nothing and a
//! city administrator records no payment.

use super::*;

#[test]
fn the_institution_bills_the_month_and_the_parent_reads_the_bill() {
    run(|app| async move {
        let store = app.store.clone();
        let (mama, other_mama, op_token, county_token, city_token) = block(move || {
            use laoxiao_model::facility::{CareType, ClassType};
            use laoxiao_model::person::Sex;
            use laoxiao_model::{ChildcareClass, Enrolment, Facility, FacilityKind};
            let r = &store.reference;
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let town = r.areas.children("330402")[0].code.clone();
            let village = r.areas.children(&town)[0].code.clone();
            let n1 = Facility::blank(
                "N1",
                "南湖托育园",
                FacilityKind::ChildcareInstitution,
                &town,
            );
            let class = ChildcareClass {
                id: "N1-YT".into(),
                facility_id: "N1".into(),
                class_type: ClassType::YoungToddlerClass,
                capacity: 10,
                enrolled: 1,
                caregivers: 2,
                monthly_fee_fen: Some(250_000),
            };
            laoxiao_store::facilities::create_with_classes(&mut c, r, &sys, &n1, &[class], &[])
                .expect("N1");
            let today = chrono::Local::now().date_naive();
            let birth = today
                .checked_sub_months(chrono::Months::new(18))
                .expect("date");
            let mut kids = Vec::new();
            for (id, seq) in [("K1", 1u16), ("K2", 2)] {
                let mut p = laoxiao_model::Person::blank(
                    id,
                    laoxiao_model::PersonRole::Infant,
                    &village,
                    birth,
                    if seq % 2 == 1 { Sex::Male } else { Sex::Female },
                );
                p.id_number = laoxiao_model::idcard::make(&village[..6], birth, seq);
                p.name = "张小米".into();
                laoxiao_store::people::create(&mut c, r, &sys, &p).expect("infant");
                kids.push(p);
            }
            // Enrolled since before the month: the whole month's fee.
            let e = Enrolment {
                id: "EN-1".into(),
                infant_id: "K1".into(),
                facility_id: "N1".into(),
                class_id: Some("N1-YT".into()),
                start_date: today - chrono::Duration::days(45),
                end_date: None,
                care_type: Some(CareType::FullDay),
            };
            laoxiao_store::registry::create(&mut c, &r.checker(), &sys, &e, today)
                .expect("enrolment");
            drop(c);
            let mama = make_user(&store, "mama", laoxiao_store::Role::Family, "330400", None);
            let other = make_user(
                &store,
                "other-mama",
                laoxiao_store::Role::Family,
                "330400",
                None,
            );
            let op = make_user(
                &store,
                "nop",
                laoxiao_store::Role::FacilityOperator,
                &town,
                Some("N1"),
            );
            let county = make_user(
                &store,
                "nanhu",
                laoxiao_store::Role::CountyAdmin,
                "330402",
                None,
            );
            let city = make_user(
                &store,
                "city",
                laoxiao_store::Role::CityAdmin,
                "330400",
                None,
            );
            let mut c = store.conn().expect("conn");
            for (user, child) in [("mama", &kids[0]), ("other-mama", &kids[1])] {
                let s = laoxiao_store::Scope::user(
                    laoxiao_store::Actor {
                        user: user.into(),
                        ip: None,
                    },
                    laoxiao_store::Role::Family,
                    "/330400/",
                    None,
                );
                let link =
                    laoxiao_store::family::request_link(&mut c, r, &s, &child.id_number, "parent")
                        .expect("link");
                laoxiao_store::family::decide_link(&mut c, &sys, &link.id, true, "")
                    .expect("verify");
            }
            (mama, other, op, county, city)
        })
        .await;
        let as_ = |t: String| App {
            token: Some(t),
            ..app.clone()
        };
        let (fam, other, op, county, city) = (
            as_(mama),
            as_(other_mama),
            as_(op_token),
            as_(county_token),
            as_(city_token),
        );
        let month = chrono::Local::now()
            .date_naive()
            .format("%Y-%m")
            .to_string();

        // Prices: every bad field named at once, nothing written.
        let fields = op
            .put(
                "/api/childcare/institutions/N1/prices",
                &json!({"half_day": -5, "hourly": 12.345, "remove": ["bitcoin"]}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["half_day", "hourly", "remove"]);
        let r = op
            .put(
                "/api/childcare/institutions/N1/prices",
                &json!({"meal_refund": 20, "half_day": 1500}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let items = r.body["items"].as_array().expect("items");
        let meal = items
            .iter()
            .find(|i| i["item"] == "meal_refund")
            .expect("meal");
        assert_eq!(meal["amount_fen"], 2000);
        assert_eq!(r.body["classes"][0]["monthly_fee_fen"], 250_000);
        city.put(
            "/api/childcare/institutions/N1/prices",
            &json!({"hourly": 40}),
        )
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");

        // The month billed: a future month refused, this month made.
        op.post(
            "/api/childcare/institutions/N1/bills",
            &json!({"month": "2099-01"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let g = op
            .post(
                "/api/childcare/institutions/N1/bills",
                &json!({"month": month}),
            )
            .await;
        assert_eq!(g.status, StatusCode::OK, "{}", g.body);
        assert_eq!(g.body["created"], 1);
        assert_eq!(g.body["due_fen"], 250_000, "no absence: the class's fee");
        let st = op
            .get(&format!(
                "/api/childcare/institutions/N1/bills?month={month}"
            ))
            .await;
        assert_eq!(st.status, StatusCode::OK, "{}", st.body);
        assert_eq!(st.body["totals"]["outstanding_fen"], 250_000);
        assert_eq!(st.body["bills"][0]["infant_name"], "张**");
        let bill_id = st.body["bills"][0]["id"].as_str().expect("id").to_string();
        let csv = raw_as(
            &op,
            op.token.as_deref().expect("token"),
            &format!("/api/childcare/institutions/N1/statement.csv?month={month}"),
        )
        .await;
        assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
        assert_eq!(
            csv.headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/csv; charset=utf-8")
        );
        let text = csv.body;
        assert!(text.contains("合计") && text.contains("2,500.00"), "{text}");
        assert!(!text.contains("张小米"), "masked in the export");

        // A payment: bad fields named at once; then part of it paid.
        let fields = op
            .post(
                &format!("/api/childcare/bills/{bill_id}/payments"),
                &json!({"amount": 0.001, "method": "bitcoin"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["amount", "method"]);
        op.post(
            &format!("/api/childcare/bills/{bill_id}/payments"),
            &json!({"amount": 2500.01, "method": "cash"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        city.post(
            &format!("/api/childcare/bills/{bill_id}/payments"),
            &json!({"amount": 100, "method": "cash"}),
        )
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
        let p = op
            .post(
                &format!("/api/childcare/bills/{bill_id}/payments"),
                &json!({"amount": 1000, "method": "wechat_pay", "reference": "WX-42"}),
            )
            .await;
        assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
        assert_eq!(p.body["status"], "partly_paid");
        assert_eq!(p.body["payments"][0]["amount_fen"], 100_000);

        // The county reads its area's month.
        let area = county
            .get(&format!("/api/childcare/bills?month={month}"))
            .await;
        assert_eq!(area.status, StatusCode::OK, "{}", area.body);
        assert_eq!(area.body["items"][0]["facility_id"], "N1");
        assert_eq!(area.body["items"][0]["totals"]["paid_fen"], 100_000);

        // The parent reads the bill in full; another family finds nothing.
        let mine = fam.get("/api/family/children/K1/bills").await;
        assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
        assert_eq!(mine.body["items"][0]["infant_name"], "张小米");
        let b = fam.get(&format!("/api/family/bills/{bill_id}")).await;
        assert_eq!(b.status, StatusCode::OK, "{}", b.body);
        assert_eq!(b.body["lines"][0]["kind"], "monthly_fee");
        other
            .get(&format!("/api/family/bills/{bill_id}"))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        other
            .get("/api/family/children/K1/bills")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        fam.get(&format!("/api/childcare/bills/{bill_id}"))
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
    });
}
