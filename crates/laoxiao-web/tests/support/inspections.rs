//! Random inspections over HTTP (双随机、一公开), end to end: the county
//! plans, publishes the commitment and draws; the draw document fetched from
//! the API re-runs to the same result (and a tampered one does not); a drawn
//! inspector records a failed item with an evidence photo (a PDF refused);
//! the operator reads the order and reports it done; the county publishes
//! and orders the re-inspection; the same inspector records it passed and
//! the order is closed. Others find nothing (404) or may not (403).

use laoxiao_rules::inspections::draw::{DrawDocument, verify};

use super::*;

#[test]
fn an_inspection_with_a_rectification_and_a_reinspection_end_to_end() {
    let dir = tempfile::tempdir().expect("dir");
    let config = WebConfig {
        uploads_dir: dir.path().to_path_buf(),
        upload_max_bytes: 4096,
        ..WebConfig::default()
    };
    run_with(config, |app| async move {
        let store = app.store.clone();
        let tokens = block(move || {
            use laoxiao_model::{Facility, FacilityKind};
            use laoxiao_store::Role;
            let r = &store.reference;
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let towns: Vec<String> = r
                .areas
                .children("330402")
                .iter()
                .take(3)
                .map(|a| a.code.clone())
                .collect();
            let h = Facility::blank(
                "H1",
                "南湖颐养院",
                FacilityKind::ElderlyInstitution,
                &towns[0],
            );
            laoxiao_store::facilities::create(&mut c, r, &sys, &h).expect("H1");
            drop(c);
            let mut out = vec![
                make_user(&store, "nanhu", Role::CountyAdmin, "330402", None),
                make_user(&store, "xiuzhou", Role::CountyAdmin, "330411", None),
                make_user(&store, "hop", Role::FacilityOperator, &towns[0], Some("H1")),
            ];
            // Two inspectors outside H1's town, one inside it (never drawn for H1).
            out.push(make_user(
                &store,
                "insp-a",
                Role::Inspector,
                &towns[1],
                None,
            ));
            out.push(make_user(
                &store,
                "insp-b",
                Role::Inspector,
                &towns[2],
                None,
            ));
            out.push(make_user(
                &store,
                "insp-c",
                Role::Inspector,
                &towns[0],
                None,
            ));
            out
        })
        .await;
        let as_ = |t: &String| App {
            token: Some(t.clone()),
            ..app.clone()
        };
        let (county, xiuzhou, op, ia, ib, ic) = (
            as_(&tokens[0]),
            as_(&tokens[1]),
            as_(&tokens[2]),
            as_(&tokens[3]),
            as_(&tokens[4]),
            as_(&tokens[5]),
        );

        // ---- plan: bad fields named at once; an inspector may not plan.
        let f = county
            .post(
                "/api/inspections/plans",
                &json!({"title": "", "area_code": "330411", "period": "2026-Q1", "ratio_percent": 0}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["title", "area_code", "ratio_percent"]);
        let r = ia
            .post("/api/inspections/plans", &json!({"title": "x"}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = county
            .post(
                "/api/inspections/plans",
                &json!({"title": "一季度抽查", "area_code": "330402", "period": "2026-Q1",
                        "kinds": ["elderly_institution"], "ratio_percent": 100}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let plan = r.body["id"].as_str().expect("id").to_string();
        let r = xiuzhou.get(&format!("/api/inspections/plans/{plan}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // ---- commit, then draw; the document re-runs to the same result.
        let r = county
            .post(&format!("/api/inspections/plans/{plan}/commit"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(r.body["seed"].is_null());
        let commit = r.body["commit"].as_str().expect("commit").to_string();
        let r = county
            .post(&format!("/api/inspections/plans/{plan}/draw"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let draw_id = r.body["draw_id"].as_str().expect("draw").to_string();
        let r = county
            .get(&format!("/api/inspections/draws/{draw_id}"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let doc: DrawDocument = serde_json::from_value(r.body.clone()).expect("a draw document");
        assert_eq!(doc.commit, commit);
        assert!(verify(&doc).ok(), "{:?}", verify(&doc).problems);
        let mut tampered = doc.clone();
        tampered.seed = Some("00".repeat(32));
        assert!(!verify(&tampered).ok());
        assert_eq!(doc.result.len(), 1);
        let mut drawn = doc.result[0].inspectors.clone();
        drawn.sort();
        assert_eq!(drawn, ["insp-a", "insp-b"], "insp-c lives in H1's town");
        let r = county
            .post(&format!("/api/inspections/plans/{plan}/draw"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let f = county
            .post(&format!("/api/inspections/plans/{plan}/commit"), &json!({}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["reason"]);

        // ---- the inspector's list; the one not drawn finds nothing.
        let r = ia.get("/api/inspections").await;
        let id = r.body["items"][0]["id"]
            .as_str()
            .expect("inspection")
            .to_string();
        assert_eq!(r.body["items"][0]["status"], "assigned");
        let r = ic.get(&format!("/api/inspections/{id}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = op.get(&format!("/api/inspections/{id}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "not recorded yet");
        let r = ia.get(&format!("/api/inspections/{id}")).await;
        assert_eq!(r.body["can_record"], true);
        let items: Vec<String> = r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["code"].as_str().expect("code").to_string())
            .collect();
        assert!(items.contains(&"fees_public".to_string()));

        // ---- an evidence photo: a PNG is kept, a PDF refused, a foreign item named.
        let png = b"\x89PNG\r\n\x1a\nfake-evidence".to_vec();
        let r = ia
            .send(
                Method::POST,
                &format!("/api/inspections/{id}/photos?item=fees_public&file_name=wall.png"),
                Some(("image/png", png)),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = ia
            .send(
                Method::POST,
                &format!("/api/inspections/{id}/photos?item=fees_public"),
                Some(("application/pdf", b"%PDF-1.4\n%%EOF\n".to_vec())),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
        let r = ia
            .send(
                Method::POST,
                &format!("/api/inspections/{id}/photos?item=nope"),
                Some(("image/png", b"\x89PNG\r\n\x1a\nx".to_vec())),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

        // ---- record: fees_public fails (not critical): 基本合格 and an order.
        let body = |failing: &str| {
            json!({"items": items.iter().map(|c| json!({
                "code": c, "outcome": if c == failing { "fail" } else { "pass" },
            })).collect::<Vec<_>>()})
        };
        let f = ia
            .post(
                &format!("/api/inspections/{id}/record"),
                &json!({"items": [{"code": "licence", "outcome": "maybe"}]}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(
            f.contains(&"items.licence".to_string())
                && f.contains(&"items.fire_safety".to_string()),
            "{f:?}"
        );
        let r = ib
            .post(
                &format!("/api/inspections/{id}/record"),
                &body("fees_public"),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["verdict"], "basic_pass");
        let rect = r.body["rectification"]["id"]
            .as_str()
            .expect("order")
            .to_string();
        assert_eq!(r.body["rectification"]["status"], "open");
        assert_eq!(r.body["photos"].as_array().map(Vec::len), Some(1));
        let r = ia
            .post(&format!("/api/inspections/{id}/record"), &body(""))
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "recorded once");

        // ---- the operator reads its result and reports the rectification.
        let r = op.get("/api/inspections/rectifications").await;
        assert_eq!(r.body["items"][0]["id"], rect.as_str());
        assert_eq!(r.body["items"][0]["can_report"], true);
        let r = county
            .post(
                &format!("/api/inspections/rectifications/{rect}/report"),
                &json!({"note": "x"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = op
            .post(
                &format!("/api/inspections/rectifications/{rect}/report"),
                &json!({"note": "收费标准已在大厅公示"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "reported");

        // ---- the county publishes and orders the re-inspection.
        let r = ia
            .post(&format!("/api/inspections/{id}/publish"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = county
            .post(&format!("/api/inspections/{id}/publish"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "published");
        let r = county
            .post(
                &format!("/api/inspections/rectifications/{rect}/reinspect"),
                &json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["kind"], "reinspection");
        let re = r.body["id"].as_str().expect("re").to_string();
        let r = ia
            .post(&format!("/api/inspections/{re}/record"), &body(""))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["verdict"], "pass");
        let r = county.get("/api/inspections/rectifications").await;
        assert_eq!(r.body["items"][0]["status"], "closed", "{}", r.body);
        let r = county.get(&format!("/api/inspections/{id}")).await;
        assert_eq!(r.body["rectification"]["status"], "closed");

        // ---- a new draw after publication needs a reason; the old stays.
        // H1's last inspectors and the one of its town stand aside: no one
        // is left (422, named), until two more inspectors join the pool.
        let f = county
            .post(
                &format!("/api/inspections/plans/{plan}/commit"),
                &json!({"reason": "检查人员调整"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["inspectors"]);
        let store = app.store.clone();
        block(move || {
            for name in ["insp-d", "insp-e"] {
                make_user(&store, name, laoxiao_store::Role::Inspector, "330402", None);
            }
        })
        .await;
        let r = county
            .post(
                &format!("/api/inspections/plans/{plan}/commit"),
                &json!({"reason": "检查人员调整"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = county.get(&format!("/api/inspections/plans/{plan}")).await;
        let draws = r.body["draws"].as_array().expect("draws");
        assert_eq!(draws.len(), 2);
        let old = draws
            .iter()
            .find(|d| d["draw_id"] == draw_id.as_str())
            .expect("old");
        assert_eq!(old["status"], "superseded");
        assert_eq!(old["superseded"]["reason"], "检查人员调整");
        assert_eq!(old["superseded"]["by"], "nanhu");
    })
}
