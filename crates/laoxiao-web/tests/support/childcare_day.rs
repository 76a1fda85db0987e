//! The childcare day over HTTP (一日生活): the parent authorises who may
//! collect the child, the institution checks the child in (a person not on
//! the list is refused, the refusal logged and shown to the parent), records
//! outdoor time and checks the child out; the parent reads the daily report
//! and reports an absence; another family and the family role on staff
//! routes find nothing.

use super::*;

#[test]
fn the_institution_records_the_day_and_the_parent_reads_it_through_the_api() {
    run(|app| async move {
        let store = app.store.clone();
        let (mama, other_mama, op_token) = block(move || {
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
            (mama, other, op)
        })
        .await;
        let fam = App {
            token: Some(mama),
            ..app.clone()
        };
        let other = App {
            token: Some(other_mama),
            ..app.clone()
        };
        let op = App {
            token: Some(op_token),
            ..app.clone()
        };

        // The parent authorises; the institution sees the person masked.
        let fields = fam
            .post(
                "/api/family/children/K1/pickups",
                &json!({"relation": "uncle"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["relation"]);
        let r = fam
            .post(
                "/api/family/children/K1/pickups",
                &json!({"name": "张妈妈", "relation": "parent", "phone": "13900001111"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["name"], "张妈妈");
        let mum = r.body["id"].as_str().expect("id").to_string();
        other
            .post(
                "/api/family/children/K1/pickups",
                &json!({"name": "陌生人", "relation": "relative"}),
            )
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        let seen = op.get("/api/childcare/children/K1/pickups").await;
        assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
        assert_eq!(seen.body["items"][0]["label"], "张**（父母）");
        assert_eq!(seen.body["items"][0]["phone"], "139****1111");

        // At the door: bad fields named at once; a person not on the list refused.
        let fields = op
            .post(
                "/api/childcare/enrolments/EN-1/check-in",
                &json!({"temperature": 50.0, "morning_check": "fine", "at": "25:99"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["at", "temperature", "morning_check"]);
        let fields = op
            .post(
                "/api/childcare/enrolments/EN-1/check-in",
                &json!({"temperature": 36.5, "morning_check": "normal", "presented": "自称邻居"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["pickup_id"]);
        let r = op
            .post(
                "/api/childcare/enrolments/EN-1/check-in",
                &json!({"pickup_id": mum, "temperature": 36.5, "morning_check": "normal"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "present");
        assert_eq!(r.body["temperature"], 36.5);
        op.post(
            "/api/childcare/enrolments/EN-1/check-in",
            &json!({"pickup_id": mum, "temperature": 36.5, "morning_check": "normal"}),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");

        // The class's day: outdoor time short of 2 hours, names masked.
        let r = op
            .post(
                "/api/childcare/classes/N1-YT/day/entries",
                &json!({"kind": "outdoor", "minutes": 30}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let sheet = op.get("/api/childcare/classes/N1-YT/day").await;
        assert_eq!(sheet.status, StatusCode::OK, "{}", sheet.body);
        assert_eq!(sheet.body["outdoor_short"], true);
        assert_eq!(sheet.body["outdoor_required"], 120);
        assert_eq!(sheet.body["present"], 1);
        assert!(!sheet.body.to_string().contains("张小米"));
        assert_eq!(
            fam.get("/api/childcare/classes/N1-YT/day").await.status,
            StatusCode::FORBIDDEN
        );

        // Collected; the parent reads the day, the other family nothing.
        let r = op
            .post(
                "/api/childcare/enrolments/EN-1/check-out",
                &json!({"pickup_id": mum}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "left");
        let rep = fam.get("/api/family/children/K1/report").await;
        assert_eq!(rep.status, StatusCode::OK, "{}", rep.body);
        assert_eq!(rep.body["infant_name"], "张小米");
        assert_eq!(rep.body["collected_by"], "张妈妈（父母）");
        assert_eq!(rep.body["outdoor_minutes"], 30);
        assert_eq!(rep.body["refusals"].as_array().map(Vec::len), Some(1));
        other
            .get("/api/family/children/K1/report")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");

        // An absence ahead; a revoked person cannot be revoked twice.
        let tomorrow = (chrono::Local::now().date_naive() + chrono::Duration::days(1)).to_string();
        let r = fam
            .post(
                "/api/family/children/K1/absence",
                &json!({"date": tomorrow, "reason": "ill", "note": "发烧"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "absent");
        let r = fam.delete(&format!("/api/family/pickups/{mum}")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        fam.delete(&format!("/api/family/pickups/{mum}"))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    });
}
