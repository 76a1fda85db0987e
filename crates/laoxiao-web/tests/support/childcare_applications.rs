//! Childcare applications over HTTP (入托申请与录取): a parent applies for
//! its verified child, sees its place on the waiting list, the institution
//! is refused an offer that breaks a class rule (the rule named in the
//! answer), offers a fitting place, the parent accepts, the institution
//! enrols after the health check; another family finds nothing of it.

use super::*;

fn infant(id: &str, area: &str, seq: u16, months: u32) -> laoxiao_model::Person {
    use laoxiao_model::person::Sex;
    let today = chrono::Local::now().date_naive();
    let birth = today
        .checked_sub_months(chrono::Months::new(months))
        .expect("date");
    let mut p = laoxiao_model::Person::blank(
        id,
        laoxiao_model::PersonRole::Infant,
        area,
        birth,
        if seq % 2 == 1 { Sex::Male } else { Sex::Female },
    );
    p.id_number = laoxiao_model::idcard::make(&area[..6], birth, seq);
    p.name = "张小米".into();
    p
}

#[test]
fn a_parent_applies_the_institution_offers_and_enrols_through_the_api() {
    run(|app| async move {
        let store = app.store.clone();
        let (mama, other_mama, op_token) = block(move || {
            use laoxiao_model::facility::ClassType;
            use laoxiao_model::{ChildcareClass, Facility, FacilityKind};
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
            let classes = [
                ChildcareClass {
                    id: "N1-INF".into(),
                    facility_id: "N1".into(),
                    class_type: ClassType::InfantClass,
                    capacity: 6,
                    enrolled: 3,
                    caregivers: 1,
                    monthly_fee_fen: Some(250_000),
                },
                ChildcareClass {
                    id: "N1-INF2".into(),
                    facility_id: "N1".into(),
                    class_type: ClassType::InfantClass,
                    capacity: 6,
                    enrolled: 0,
                    caregivers: 2,
                    monthly_fee_fen: Some(250_000),
                },
            ];
            laoxiao_store::facilities::create_with_classes(&mut c, r, &sys, &n1, &classes, &[])
                .expect("N1");
            let k1 = infant("K1", &village, 1, 9);
            let k2 = infant("K2", &village, 2, 10);
            for k in [&k1, &k2] {
                laoxiao_store::people::create(&mut c, r, &sys, k).expect("infant");
            }
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
            for (user, child) in [("mama", &k1), ("other-mama", &k2)] {
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
        let today = chrono::Local::now().date_naive().to_string();

        // The parent's children and the institutions of the child's county.
        let kids = fam.get("/api/family/children").await;
        assert_eq!(kids.status, StatusCode::OK, "{}", kids.body);
        assert_eq!(kids.body["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(kids.body["items"][0]["name"], "张小米");
        let inst = fam.get("/api/family/children/K1/institutions").await;
        assert_eq!(inst.body["items"][0]["facility_id"], "N1");
        // 6 + 6 places, 3 enrolled, nothing held.
        assert_eq!(inst.body["items"][0]["free"], 9);
        fam.get("/api/family/children/K2/institutions")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        // Staff lists are not a family's.
        assert_eq!(
            fam.get("/api/childcare/applications").await.status,
            StatusCode::FORBIDDEN
        );

        // Bad fields are named; another family's child is not found.
        let fields = fam
            .post(
                "/api/family/childcare-applications",
                &json!({"infant_id": "K1"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["facility_ids", "care_type", "wanted_start"]);
        fam.post(
            "/api/family/childcare-applications",
            &json!({"infant_id": "K2", "facility_ids": ["N1"], "care_type": "full_day", "wanted_start": today}),
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

        // Both families apply; the first is first.
        let r = fam
            .post(
                "/api/family/childcare-applications",
                &json!({"infant_id": "K1", "facility_ids": ["N1"], "care_type": "full_day", "wanted_start": today}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let a = &r.body["items"][0];
        assert_eq!(
            (
                a["status"].as_str(),
                a["position"].as_i64(),
                a["applicant_kind"].as_str()
            ),
            (Some("waiting"), Some(1), Some("family"))
        );
        let id = a["id"].as_str().expect("id").to_string();
        let r = other
            .post(
                "/api/family/childcare-applications",
                &json!({"infant_id": "K2", "facility_ids": ["N1"], "care_type": "half_day", "wanted_start": today}),
            )
            .await;
        assert_eq!(r.body["items"][0]["position"], 2);
        // The other family sees only its own; K1's application is not found to it.
        let theirs = other.get("/api/family/childcare-applications").await;
        assert_eq!(theirs.body["items"].as_array().map(Vec::len), Some(1));
        assert!(!theirs.body.to_string().contains(&id));
        other
            .post(
                &format!("/api/family/childcare-applications/{id}/withdraw"),
                &json!({}),
            )
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");

        // The institution's intake: names masked, the waiting list in order.
        let intake = op.get("/api/childcare/institutions/N1/intake").await;
        assert_eq!(intake.status, StatusCode::OK, "{}", intake.body);
        assert_eq!(intake.body["lines"][0]["id"], id.as_str());
        assert_eq!(intake.body["lines"][0]["infant_name"], "张**");
        assert!(!intake.body.to_string().contains("张小米"));
        // The first class is at its ratio (3 children, 1 caregiver, 1:3): refused, the rule named.
        let e = op
            .post(
                &format!("/api/childcare/applications/{id}/offer"),
                &json!({"class_id": "N1-INF", "start_date": today}),
            )
            .await;
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", e.body);
        let why = e.body["error"]["details"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(why.contains("1:3"), "{}", e.body);
        let r = op
            .post(
                &format!("/api/childcare/applications/{id}/offer"),
                &json!({"class_id": "N1-INF2", "start_date": today}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "offered");

        // The parent accepts; the institution enrols after the papers.
        let r = fam
            .post(
                &format!("/api/family/childcare-applications/{id}/accept"),
                &json!({}),
            )
            .await;
        assert_eq!(r.body["status"], "accepted", "{}", r.body);
        let fields = op
            .post(
                &format!("/api/childcare/applications/{id}/enrol"),
                &json!({"health_check_date": today, "vaccinations_confirmed": false}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["vaccinations_confirmed"]);
        let r = op
            .post(
                &format!("/api/childcare/applications/{id}/enrol"),
                &json!({"health_check_date": today, "vaccinations_confirmed": true}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "enrolled");
        assert!(r.body["enrolment_id"].as_str().is_some());
        let mine = fam.get("/api/family/childcare-applications").await;
        assert_eq!(mine.body["items"][0]["status"], "enrolled");
        // The second class now holds one child.
        let intake = op.get("/api/childcare/institutions/N1/intake").await;
        let inf2 = intake.body["classes"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["class_id"] == "N1-INF2"))
            .cloned()
            .expect("class");
        assert_eq!(
            (inf2["enrolled"].as_i64(), inf2["free"].as_i64()),
            (Some(1), Some(5))
        );
    });
}
