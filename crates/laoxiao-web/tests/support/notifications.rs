//! Parents in the loop over HTTP (家园沟通, 班级通知, 通知): a parent writes to
//! the class (an empty message named), the institution answers and sends a
//! class notice, the parent's notifications carry the text in Chinese with
//! every placeholder filled, the local stand-in channel delivers them, and
//! another family, the county and the city find nothing of the thread.

use super::*;

#[test]
fn a_parent_and_the_class_write_and_the_parent_is_notified() {
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

        // The parent writes; an empty message is named, not written.
        let fields = fam
            .post("/api/family/children/K1/messages", &json!({"body": "   "}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["body"]);
        let r = fam
            .post(
                "/api/family/children/K1/messages",
                &json!({"body": "孩子今天咳嗽，请多喝水"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["infant_name"], "张小米");
        assert_eq!(r.body["messages"].as_array().map(Vec::len), Some(1));
        // Another family (its own child is not enrolled) finds nothing of it.
        other
            .get("/api/family/children/K1/messages")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        other
            .get("/api/family/children/K2/messages")
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");
        for who in [&county, &city] {
            who.get("/api/childcare/messages/EN-1")
                .await
                .expect_error(StatusCode::FORBIDDEN, "forbidden");
        }

        // The institution sees the unread thread, answers, sends a notice.
        let l = op.get("/api/childcare/messages").await;
        assert_eq!(l.status, StatusCode::OK, "{}", l.body);
        assert_eq!(l.body["items"][0]["unread"], 1);
        assert_eq!(l.body["items"][0]["infant_name"], "张**");
        let t = op
            .post(
                "/api/childcare/messages/EN-1",
                &json!({"body": "好的，会留意。"}),
            )
            .await;
        assert_eq!(t.status, StatusCode::CREATED, "{}", t.body);
        let n = op
            .post(
                "/api/childcare/classes/N1-YT/notices",
                &json!({"body": "周五停课一天。"}),
            )
            .await;
        assert_eq!(n.status, StatusCode::CREATED, "{}", n.body);
        assert_eq!(
            (n.body["children"].as_i64(), n.body["notified"].as_i64()),
            (Some(1), Some(1))
        );
        let ns = op.get("/api/childcare/notices").await;
        assert_eq!(ns.body["items"][0]["body"], "周五停课一天。");

        // The parent's notifications, in Chinese, every placeholder filled.
        let inbox = fam.get("/api/family/notifications").await;
        assert_eq!(inbox.status, StatusCode::OK, "{}", inbox.body);
        assert_eq!(inbox.body["unread"], 2);
        let items = inbox.body["items"].as_array().expect("items").clone();
        let reply = items
            .iter()
            .find(|i| i["template"] == "class_reply")
            .expect("reply");
        let text = reply["text"].as_str().expect("text");
        assert!(
            text.contains("南湖托育园") && text.contains("张小米"),
            "{text}"
        );
        for i in &items {
            let t = i["text"].as_str().expect("text");
            assert!(
                !t.contains('{') && !t.contains('}'),
                "unfilled placeholder: {t}"
            );
        }
        let unread = other.get("/api/family/notifications").await;
        assert_eq!(unread.body["unread"], 0, "nothing for the other family");
        fam.get("/api/family/notifications?limit=0")
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let marked = fam
            .post(
                "/api/family/notifications/read",
                &json!({"ids": [reply["id"]]}),
            )
            .await;
        assert_eq!(marked.body["marked"], 1, "{}", marked.body);
        let unread = fam.get("/api/family/notifications?unread=true").await;
        assert_eq!(unread.body["items"].as_array().map(Vec::len), Some(1));

        // The local stand-in delivers both; the city sees them sent.
        let store = app.store.clone();
        let (sent, texts) = block(move || {
            let ch = laoxiao_web::notifications::LocalChannel {
                store: store.clone(),
                cat: std::sync::Arc::new(
                    laoxiao_web::console::i18n::Catalogues::embedded().expect("catalogues"),
                ),
            };
            let d = laoxiao_store::notify::deliver_due(&store, &ch, chrono::Utc::now(), 100)
                .expect("deliver");
            let mut c = store.conn().expect("conn");
            let texts: Vec<String> = c
                .query(
                    "SELECT text FROM notification_delivery ORDER BY delivered_at",
                    &[],
                )
                .expect("rows")
                .iter()
                .map(|r| r.get("text").expect("text"))
                .collect();
            (d.sent, texts)
        })
        .await;
        assert_eq!(sent, 2);
        assert!(
            texts.iter().any(|t| t.contains("周五停课一天")),
            "{texts:?}"
        );
        let h = city.get("/api/notifications/health").await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.body);
        let sent_count: i64 = h.body["counts"]
            .as_array()
            .expect("counts")
            .iter()
            .filter(|c| c["status"] == "sent")
            .map(|c| c["count"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(sent_count, 2);
        county
            .get("/api/notifications/health")
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
    });
}
