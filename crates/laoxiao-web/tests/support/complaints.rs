//! Complaints over HTTP (投诉): a parent files one about the child's
//! institution (bad fields named at once), reads it with the phone in full;
//! another family and another county find nothing; the institution sees it
//! masked, acknowledges and answers it, a second answer is 409; the county
//! may not answer it while it is on time; the parent closes it with a
//! rating; the county's figures count it.

use super::*;

#[test]
fn a_parent_files_the_institution_answers_the_parent_closes() {
    run(|app| async move {
        let store = app.store.clone();
        let (mama, other_mama, op_token, op2_token, county_token, xiuzhou_token) =
            block(move || {
                use laoxiao_model::person::Sex;
                use laoxiao_model::{Enrolment, Facility, FacilityKind};
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
                laoxiao_store::facilities::create(&mut c, r, &sys, &n1).expect("N1");
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
                    class_id: None,
                    start_date: today - chrono::Duration::days(45),
                    end_date: None,
                    care_type: None,
                };
                laoxiao_store::registry::create(&mut c, &r.checker(), &sys, &e, today)
                    .expect("enrolment");
                drop(c);
                use laoxiao_store::Role;
                let mama = make_user(&store, "mama", Role::Family, "330400", None);
                let other = make_user(&store, "other-mama", Role::Family, "330400", None);
                let op = make_user(&store, "nop", Role::FacilityOperator, &town, Some("N1"));
                let op2 = make_user(&store, "nop2", Role::FacilityOperator, &town, Some("N1"));
                let county = make_user(&store, "nanhu", Role::CountyAdmin, "330402", None);
                let xiuzhou = make_user(&store, "xiuzhou", Role::CountyAdmin, "330411", None);
                let mut c = store.conn().expect("conn");
                for (user, child) in [("mama", &kids[0]), ("other-mama", &kids[1])] {
                    let s = laoxiao_store::Scope::user(
                        laoxiao_store::Actor {
                            user: user.into(),
                            ip: None,
                        },
                        Role::Family,
                        "/330400/",
                        None,
                    );
                    let link = laoxiao_store::family::request_link(
                        &mut c,
                        r,
                        &s,
                        &child.id_number,
                        "parent",
                    )
                    .expect("link");
                    laoxiao_store::family::decide_link(&mut c, &sys, &link.id, true, "")
                        .expect("verify");
                }
                (mama, other, op, op2, county, xiuzhou)
            })
            .await;
        let as_ = |t: String| App {
            token: Some(t),
            ..app.clone()
        };
        let (fam, other, op, op2, county, xiuzhou) = (
            as_(mama),
            as_(other_mama),
            as_(op_token),
            as_(op2_token),
            as_(county_token),
            as_(xiuzhou_token),
        );

        // Every bad field named at once; nothing written.
        let fields = fam
            .post(
                "/api/family/complaints",
                &json!({"person_id": "K1", "category": "bitcoin", "body": "  ", "contact_phone": "12"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["category", "body", "contact_phone"]);
        let fields = fam
            .post("/api/family/complaints", &json!({"category": "meals"}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["person_id"]);
        // The other family's child is not this family's: 404. That child
        // is enrolled nowhere: its family cannot complain (422, the facility).
        fam.post(
            "/api/family/complaints",
            &json!({"person_id": "K2", "category": "meals", "body": "x"}),
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
        let fields = other
            .post(
                "/api/family/complaints",
                &json!({"person_id": "K2", "category": "meals", "body": "x"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["facility_id"]);

        let r = fam
            .post(
                "/api/family/complaints",
                &json!({"person_id": "K1", "category": "膳食", "body": "午餐菜量偏少。", "contact_phone": "138 1234 5678"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_str().expect("id").to_string();
        let code = r.body["tracking_code"].as_str().expect("code").to_string();
        assert!(code.starts_with("TS") && code.len() == 12, "{code}");
        assert_eq!(r.body["facility_id"], "N1");
        assert_eq!(r.body["status"], "received");
        assert_eq!(r.body["category_label"], "膳食");
        assert_eq!(r.body["contact_phone"], "13812345678");
        assert_eq!(r.body["person_name"], "张小米");
        let mine = fam.get("/api/family/complaints").await;
        assert_eq!(mine.body["items"].as_array().expect("items").len(), 1);

        // Outside: another family, another county: 404; their lists empty.
        other
            .get(&format!("/api/family/complaints/{id}"))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        xiuzhou
            .get(&format!("/api/complaints/{id}"))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        let empty = xiuzhou.get("/api/complaints").await;
        assert_eq!(empty.body["items"], json!([]));
        let empty = other.get("/api/family/complaints").await;
        assert_eq!(empty.body["items"], json!([]));

        // The institution sees it masked, acknowledges, answers; a second answer is 409.
        let seen = op.get(&format!("/api/complaints/{id}")).await;
        assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
        assert_eq!(seen.body["contact_phone"], "138****5678");
        assert_eq!(seen.body["person_name"], "张**");
        assert_eq!(seen.body["can_acknowledge"], true);
        let list = op.get("/api/complaints?status=received").await;
        assert_eq!(list.body["items"][0]["id"], json!(id));
        op.get("/api/complaints?status=lost")
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        county
            .post(
                &format!("/api/complaints/{id}/answer"),
                &json!({"answer": "督办"}),
            )
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        let a = op
            .post(&format!("/api/complaints/{id}/acknowledge"), &json!({}))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.body["status"], "acknowledged");
        op2.post(&format!("/api/complaints/{id}/acknowledge"), &json!({}))
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");
        let fields = op
            .post(&format!("/api/complaints/{id}/answer"), &json!({}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["answer"]);
        let a = op
            .post(
                &format!("/api/complaints/{id}/answer"),
                &json!({"answer": "已增加午餐分量。"}),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert_eq!(a.body["answered_side"], "facility");
        op2.post(
            &format!("/api/complaints/{id}/answer"),
            &json!({"answer": "同时答复"}),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");

        // The parent closes it with a rating (out of range named).
        let fields = fam
            .post(
                &format!("/api/family/complaints/{id}/close"),
                &json!({"rating": 9}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["rating"]);
        other
            .post(
                &format!("/api/family/complaints/{id}/close"),
                &json!({"rating": 5}),
            )
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        let closed = fam
            .post(
                &format!("/api/family/complaints/{id}/close"),
                &json!({"rating": 5, "comment": "很快解决"}),
            )
            .await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
        assert_eq!(closed.body["status"], "closed");
        assert_eq!(closed.body["rating"], 5);

        // The county's figures: one received, answered on time, rated 5.
        let f = county.get("/api/complaints/figures").await;
        assert_eq!(f.status, StatusCode::OK, "{}", f.body);
        assert_eq!(f.body["total"]["received"], 1);
        assert_eq!(f.body["total"]["answered_on_time"], 1);
        assert_eq!(f.body["total"]["average_rating"], 5.0);
        assert_eq!(f.body["facilities"][0]["facility_id"], "N1");
        assert_eq!(f.body["facilities"][0]["inspection_due"], false);
        assert_eq!(f.body["repeat_threshold"], 3);
        op.get("/api/complaints/figures")
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
    });
}
