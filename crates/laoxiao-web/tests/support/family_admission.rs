//! A family applies for a care home for its verified relative through the
//! API (子女为父母申请入住): the county's homes to choose from, the
//! application with its position explained, the home's offer accepted by the
//! family; nobody else's relative, no staff list. And paper assessments
//! entered through the API: refused rows named, nothing written; CSV only;
//! assessors only.

use super::*;

#[test]
fn family_applies_for_a_care_home_and_accepts_the_offer_through_the_api() {
    run(|app| async move {
        let store = app.store.clone();
        let (fam_token, op_token, other) = block(move || {
            use laoxiao_model::person::{AbilityLevel, SpecialDifficulty};
            use laoxiao_model::{Facility, FacilityKind};
            let r = &store.reference;
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let town = r.areas.children("330402")[0].code.clone();
            let village = r.areas.children(&town)[0].code.clone();
            let mut home =
                Facility::blank("C1", "南湖敬老院", FacilityKind::ElderlyInstitution, &town);
            home.beds = Some(1);
            laoxiao_store::facilities::create(&mut c, r, &sys, &home).expect("home");
            let mut p1 = person("P1", &village, 2);
            p1.special_difficulty = vec![SpecialDifficulty::ExtremePoverty];
            p1.ability_level = Some(AbilityLevel::Severe);
            laoxiao_store::people::create(&mut c, r, &sys, &p1).expect("p1");
            let p2 = person("P2", &village, 4);
            laoxiao_store::people::create(&mut c, r, &sys, &p2).expect("p2");
            drop(c);
            let fam_token = make_user(&store, "fam", laoxiao_store::Role::Family, "330400", None);
            let op_token = make_user(
                &store,
                "cop",
                laoxiao_store::Role::FacilityOperator,
                &town,
                Some("C1"),
            );
            let mut c = store.conn().expect("conn");
            let fam_scope = laoxiao_store::Scope::user(
                laoxiao_store::Actor {
                    user: "fam".into(),
                    ip: None,
                },
                laoxiao_store::Role::Family,
                "/330400/",
                None,
            );
            let link =
                laoxiao_store::family::request_link(&mut c, r, &fam_scope, &p1.id_number, "child")
                    .expect("link");
            laoxiao_store::family::decide_link(&mut c, &sys, &link.id, true, "").expect("verify");
            (fam_token, op_token, p2.id)
        })
        .await;
        let fam = App {
            token: Some(fam_token),
            ..app.clone()
        };
        let op = App {
            token: Some(op_token),
            ..app.clone()
        };
        // The homes of her county.
        let r = fam.get("/api/family/relatives/P1/care-homes").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["items"][0]["id"], "C1");
        // Nobody else's relative; no staff list.
        fam.get(&format!("/api/family/relatives/{other}/care-homes"))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        fam.post(
            "/api/family/admission-applications",
            &json!({"person_id": other, "facility_ids": ["C1"]}),
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(
            fam.get("/api/admission/applications").await.status,
            StatusCode::FORBIDDEN
        );
        // Bad fields are named.
        let fields = fam
            .post(
                "/api/family/admission-applications",
                &json!({"person_id": "P1"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["facility_ids"]);
        // Applied: waiting, first, with why.
        let r = fam
            .post(
                "/api/family/admission-applications",
                &json!({"person_id": "P1", "facility_ids": ["C1"], "note": "母亲独居"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let a = &r.body["items"][0];
        assert_eq!(
            (
                a["applicant_kind"].as_str(),
                a["status"].as_str(),
                a["position"].as_u64()
            ),
            (Some("family"), Some("waiting"), Some(1))
        );
        let id = a["id"].as_str().expect("id").to_string();
        let mine = fam.get("/api/family/admission-applications").await;
        assert_eq!(mine.body["items"][0]["id"], id.as_str());
        assert!(mine.body["items"][0]["explanation_zh"].as_str().is_some());
        // Nothing offered yet: accepting is a conflict.
        fam.post(
            &format!("/api/family/admission-applications/{id}/accept"),
            &json!({}),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
        // The home offers its bed; the family accepts.
        let r = op
            .post("/api/admission/homes/C1/offer-next", &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["offered"]["id"], id.as_str());
        let r = fam
            .post(
                &format!("/api/family/admission-applications/{id}/accept"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "admitted");
        assert!(r.body["residence_id"].as_str().is_some());
    });
}

#[test]
fn paper_assessments_through_the_api_are_all_or_nothing() {
    run(|app| async move {
        let head = laoxiao_store::assessments::import::header().expect("header");
        let mut csv = head.join(",");
        csv.push('\n');
        let mut row = vec![String::new(); head.len()];
        row[0] = "NOBODY".into();
        row[1] = "2026-11-01".into();
        row[2] = "首次评估".into();
        csv.push_str(&row.join(","));
        csv.push('\n');
        // A refused row: named with its row and column, nothing written.
        let r = app
            .send(
                Method::POST,
                "/api/assessments/import?dry_run=true",
                Some(("text/csv", csv.clone().into_bytes())),
            )
            .await;
        let fields = r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "import_rejected");
        assert!(!fields.is_empty());
        let reason = r.body["error"]["details"][0]["reason"]
            .as_str()
            .unwrap_or_default();
        assert!(reason.starts_with("row 2:"), "{}", r.body);
        // JSON is not a file of forms.
        app.send(
            Method::POST,
            "/api/assessments/import",
            Some(("application/json", b"{}".to_vec())),
        )
        .await
        .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        // An empty file is unreadable, not a server error.
        let r = app
            .send(
                Method::POST,
                "/api/assessments/import",
                Some(("text/csv", Vec::new())),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        // Only assessors.
        let analyst = as_user(&app, "ana", laoxiao_store::Role::Analyst, "330400", None).await;
        let r = analyst
            .send(
                Method::POST,
                "/api/assessments/import",
                Some(("text/csv", csv.into_bytes())),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    });
}
