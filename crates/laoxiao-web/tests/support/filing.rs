//! Childcare filing (托育机构备案) through the API: an institution drafts,
//! uploads its documents as raw bodies (the wrong type and an oversized file
//! refused with their codes), downloads one back as an attachment that no
//! browser renders, submits; the county accepts and the facility register
//! shows it filed. Other counties and institutions see nothing; an
//! institution cannot review.

use super::*;

async fn download(app: &App, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", app.token.clone().unwrap_or_default()),
        )
        .body(Body::empty())
        .expect("request");
    let resp = app.router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec();
    (status, headers, bytes)
}

#[test]
fn an_institution_files_with_documents_and_the_county_accepts_through_the_api() {
    let dir = tempfile::tempdir().expect("dir");
    let config = WebConfig {
        uploads_dir: dir.path().to_path_buf(),
        upload_max_bytes: 4096,
        ..WebConfig::default()
    };
    run_with(config, |app| async move {
        let store = app.store.clone();
        let (op_token, rv_token, far_token, other_op_token) = block(move || {
            use laoxiao_model::facility::FilingStatus;
            use laoxiao_model::{Facility, FacilityKind};
            let r = &store.reference;
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let town = r.areas.children("330402")[0].code.clone();
            let other = r.areas.children("330481")[0].code.clone();
            let mut c1 = Facility::blank(
                "TY1",
                "小星星托育",
                FacilityKind::ChildcareInstitution,
                &town,
            );
            c1.filing_status = FilingStatus::Unfiled;
            laoxiao_store::facilities::create(&mut c, r, &sys, &c1).expect("c1");
            let c2 = Facility::blank(
                "TY2",
                "外县托育",
                FacilityKind::ChildcareInstitution,
                &other,
            );
            laoxiao_store::facilities::create(&mut c, r, &sys, &c2).expect("c2");
            drop(c);
            use laoxiao_store::Role;
            (
                make_user(&store, "ty-op", Role::FacilityOperator, &town, Some("TY1")),
                make_user(&store, "ty-rv", Role::CountyAdmin, "330402", None),
                make_user(&store, "ty-far", Role::CountyAdmin, "330481", None),
                make_user(
                    &store,
                    "ty-op2",
                    Role::FacilityOperator,
                    &other,
                    Some("TY2"),
                ),
            )
        })
        .await;
        let with = |t: String| App {
            token: Some(t),
            ..app.clone()
        };
        let (op, rv, far, op2) = (
            with(op_token),
            with(rv_token),
            with(far_token),
            with(other_op_token),
        );

        let rules = op.get("/api/childcare/filing-rules").await;
        assert_eq!(rules.status, StatusCode::OK, "{}", rules.body);
        assert_eq!(rules.body["review_working_days"], 5);
        assert_eq!(rules.body["max_upload_bytes"], 4096);
        let required: Vec<String> = rules.body["documents"]
            .as_array()
            .expect("documents")
            .iter()
            .filter(|d| d["required"] == "always")
            .map(|d| d["code"].as_str().expect("code").to_string())
            .collect();
        assert_eq!(required.len(), 6);

        // Bad bodies are named; the draft starts empty.
        let f = op
            .post(
                "/api/childcare/filings",
                &json!({"facility_id": "TY1", "kind": "renewal"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["kind"]);
        op2.post("/api/childcare/filings", &json!({"facility_id": "TY1"}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let r = op
            .post("/api/childcare/filings", &json!({"facility_id": "TY1"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["filing"]["status"], "draft");
        assert_eq!(r.body["missing"].as_array().map(Vec::len), Some(6));
        let id = r.body["filing"]["id"].as_str().expect("id").to_string();
        op.post("/api/childcare/filings", &json!({"facility_id": "TY1"}))
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");

        // The form, with a lease of under three years: listed as a gap, and
        // refused at submission with the clause.
        let form = json!({
            "director_name": "赵园长", "contact_phone": "0573-83000000", "places": 30,
            "care_types": ["full_day"], "serves_meals": false, "site_owned": false,
            "lease_until": "2027-01-01"
        });
        let r = op
            .put(&format!("/api/childcare/filings/{id}/form"), &form)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["form_errors"][0]["field"], "lease_until");

        // Uploads: the wrong type by content (even declared as a PDF), too
        // large, an unknown document type.
        let up = |t: &str| {
            format!("/api/childcare/filings/{id}/documents?doc_type={t}&file_name=scan.pdf")
        };
        op.send(
            Method::POST,
            &up("site_proof"),
            Some(("application/pdf", b"<html><script>x</script>".to_vec())),
        )
        .await
        .expect_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_upload_type",
        );
        let mut big = b"%PDF-1.4\n".to_vec();
        big.resize(5000, b'x');
        op.send(
            Method::POST,
            &up("site_proof"),
            Some(("application/pdf", big)),
        )
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large");
        let f = op
            .send(
                Method::POST,
                &up("passport"),
                Some(("application/pdf", b"%PDF-1.4 x".to_vec())),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["doc_type"]);
        // Nothing was recorded by the refusals.
        let r = op.get(&format!("/api/childcare/filings/{id}")).await;
        assert_eq!(r.body["documents"].as_array().map(Vec::len), Some(0));

        for code in &required {
            let body = format!("%PDF-1.4\n% {code}\n%%EOF\n").into_bytes();
            let r = op
                .send(
                    Method::POST,
                    &up(code),
                    Some(("application/octet-stream", body)),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            assert_eq!(r.body["content_type"], "application/pdf");
        }
        let r = op.get(&format!("/api/childcare/filings/{id}")).await;
        assert_eq!(
            r.body["missing"].as_array().map(Vec::len),
            Some(0),
            "{}",
            r.body
        );
        let doc = r.body["documents"][0].clone();
        let (status, headers, bytes) =
            download(&op, doc["download"].as_str().expect("download")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(bytes.starts_with(b"%PDF-"));
        let h = |k: header::HeaderName| {
            headers
                .get(k)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            h(header::CONTENT_DISPOSITION).starts_with("attachment;"),
            "{headers:?}"
        );
        assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
        assert!(h(header::CONTENT_SECURITY_POLICY).contains("sandbox"));
        assert_eq!(h(header::CONTENT_TYPE), "application/pdf");
        // Another institution, another county: nothing.
        let (status, _, _) = download(&op2, doc["download"].as_str().expect("download")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        far.get(&format!("/api/childcare/filings/{id}"))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        let r = far.get("/api/childcare/filings").await;
        assert_eq!(r.body["items"].as_array().map(Vec::len), Some(0));

        // The short lease stops the submission, naming the clause.
        let r = op
            .post(&format!("/api/childcare/filings/{id}/submit"), &json!({}))
            .await;
        let f = r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["lease_until"]);
        assert!(r.body.to_string().contains("第十一条"), "{}", r.body);
        let mut fixed = form.clone();
        fixed["lease_until"] = json!("2035-12-31");
        op.put(&format!("/api/childcare/filings/{id}/form"), &fixed)
            .await;
        let r = op
            .post(&format!("/api/childcare/filings/{id}/submit"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["filing"]["status"], "submitted");
        assert!(r.body["filing"]["review_deadline"].as_str().is_some());

        // The institution cannot review; the county can.
        assert_eq!(
            op.post(
                &format!("/api/childcare/filings/{id}/review"),
                &json!({"decision": "accept"})
            )
            .await
            .status,
            StatusCode::FORBIDDEN
        );
        let f = rv
            .post(
                &format!("/api/childcare/filings/{id}/review"),
                &json!({"decision": "reject"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["note"]);
        let r = rv.get("/api/childcare/filings?status=submitted").await;
        assert_eq!(r.body["items"][0]["id"], id.as_str());
        let r = rv
            .post(
                &format!("/api/childcare/filings/{id}/review"),
                &json!({"decision": "accept", "note": "材料齐全"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["filing"]["status"], "accepted");
        rv.post(
            &format!("/api/childcare/filings/{id}/review"),
            &json!({"decision": "reject", "note": "迟了"}),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
        // The register shows it: filed, today, 30 approved places.
        let fac = rv.get("/api/facilities/TY1").await;
        assert_eq!(fac.body["filing_status"], "filed", "{}", fac.body);
        assert!(fac.body["filing_date"].as_str().is_some());
        assert_eq!(fac.body["approved_slots"], 30);
    });
}

/// A staff member's health check date is health data: lists leave it out,
/// a full (audited) read shows it; the worklist's filter still finds it.
#[test]
fn a_staff_health_check_date_is_left_out_of_api_answers() {
    run(|app| async move {
        let store = app.store.clone();
        block(move || {
            use laoxiao_model::activity::{SkillGrade, Staff, StaffRole};
            use laoxiao_model::{Facility, FacilityKind};
            let r = &store.reference;
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let town = r.areas.children("330402")[0].code.clone();
            let f = Facility::blank("TY9", "托育园", FacilityKind::ChildcareInstitution, &town);
            laoxiao_store::facilities::create(&mut c, r, &sys, &f).expect("facility");
            let s = Staff {
                id: "SH1".into(),
                facility_id: "TY9".into(),
                role: StaffRole::NurseryStaff,
                name: "周晓红".into(),
                certified: false,
                certificate: None,
                skill_grade: SkillGrade::Ungraded,
                hired_date: d("2024-01-01"),
                left_date: None,
                health_check_date: Some(d("2025-03-01")),
            };
            laoxiao_store::activity::upsert(&mut c, &s, "2025-03-02T00:00:00Z").expect("staff");
        })
        .await;
        // Lists mask: the date is left out (null, not a half-masked string
        // that is no date), the name keeps its first character; the lapsed
        // check is still found by the filter (the worklist's link).
        let r = app.get("/api/staff?health_check_date_to=2025-06-01").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let item = &r.body["items"][0];
        assert_eq!(item["id"], "SH1", "{}", r.body);
        assert_eq!(item["health_check_date"], Value::Null, "{}", r.body);
        assert_eq!(item["name"], "周**");
        let r = app
            .get("/api/staff?health_check_date_from=2025-06-01")
            .await;
        assert_eq!(
            r.body["items"].as_array().map(Vec::len),
            Some(0),
            "{}",
            r.body
        );
        // A full read of the record (audited) shows it to whoever keeps the register.
        let r = app.get("/api/staff/SH1").await;
        assert_eq!(r.body["health_check_date"], "2025-03-01", "{}", r.body);
    });
}
