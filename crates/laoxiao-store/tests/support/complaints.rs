//! The complaint register (投诉) over a real database (both backends). The
//! fixture: childcare institution N1 in a village of 南湖区 (330402) with
//! child K1 enrolled and the family "mama" verified as K1's parent;
//! institution N2 in 秀洲区 (330411). Deadlines are those of
//! data/policy/complaints.toml: acknowledge within 2 days, answer within 15,
//! an institution with 3 complaints within 90 days is flagged. Every
//! expected value below is worked out by hand from these facts.

use chrono::{DateTime, NaiveDate, Utc};
use laoxiao_model::person::Sex;
use laoxiao_model::{Enrolment, Facility, FacilityKind, Person, PersonRole};
use laoxiao_store::complaints::{
    self as ct, Category, Escalation, ListQuery, NewComplaint, Side, Source, Status,
};
use laoxiao_store::family as fam;
use laoxiao_store::testdb::{TestDb, user};
use laoxiao_store::{Role, Scope, StoreError, facilities, people, registry};

fn d(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn fields(e: StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(v) => v.into_iter().map(|f| f.field).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn family_complaint(child: &str, category: &str, body: &str) -> NewComplaint {
    NewComplaint {
        person_id: Some(child.into()),
        category: category.into(),
        body: body.into(),
        contact_phone: Some("138-1234-5678".into()),
        ..NewComplaint::default()
    }
}

#[test]
fn complaints_are_filed_handled_escalated_closed_and_counted() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let other_town = r.areas.children("330411")[0].code.clone();
        let n1 = Facility::blank(
            "N1",
            "小太阳托育园",
            FacilityKind::ChildcareInstitution,
            &village,
        );
        facilities::create(&mut c, r, &sys, &n1).expect("N1");
        let n2 = Facility::blank(
            "N2",
            "月亮托育园",
            FacilityKind::ChildcareInstitution,
            &other_town,
        );
        facilities::create(&mut c, r, &sys, &n2).expect("N2");
        let birth = d("2024-12-01");
        let mut k1 = Person::blank("K1", PersonRole::Infant, &village, birth, Sex::Male);
        k1.id_number = laoxiao_model::idcard::make("330402", birth, 1);
        k1.name = "王小明".into();
        people::create(&mut c, r, &sys, &k1).expect("K1");
        let e = Enrolment {
            id: "EN-1".into(),
            infant_id: "K1".into(),
            facility_id: "N1".into(),
            class_id: None,
            start_date: d("2026-01-05"),
            end_date: None,
            care_type: None,
        };
        registry::create(&mut c, &r.checker(), &sys, &e, d("2026-01-05")).expect("enrolment");
        for name in ["mama", "other"] {
            laoxiao_store::accounts::create_user(
                &mut c,
                r,
                &sys,
                name,
                Role::Family,
                "330400",
                None,
                "family-pass-2026",
            )
            .expect("family account");
        }
        let vstaff = user(store, "v1", Role::VillageStaff, &village, None);
        let parent = user(store, "mama", Role::Family, "330400", None);
        let stranger = user(store, "other", Role::Family, "330400", None);
        let link = fam::request_link(&mut c, r, &parent, &k1.id_number, "parent").expect("link");
        fam::decide_link(&mut c, &vstaff, &link.id, true, "").expect("verify");
        let op1 = user(store, "op1", Role::FacilityOperator, &village, Some("N1"));
        let op1b = user(store, "op1b", Role::FacilityOperator, &village, Some("N1"));
        let op2 = user(
            store,
            "op2",
            Role::FacilityOperator,
            &other_town,
            Some("N2"),
        );
        let county = user(store, "nanhu", Role::CountyAdmin, "330402", None);
        let other_county = user(store, "xiuzhou", Role::CountyAdmin, "330411", None);
        let city = user(store, "city", Role::CityAdmin, "330400", None);

        // ---- filing: the facility is the child's institution; the body is
        // trimmed; the deadlines are 2 and 15 days after filing.
        let t0 = at("2026-11-02T09:00:00Z");
        let c1 = ct::file(
            &mut c,
            r,
            &parent,
            &family_complaint("K1", "膳食", "  午餐菜量偏少，孩子没吃饱。 "),
            t0,
        )
        .expect("C1");
        assert_eq!(c1.row.facility_id, "N1");
        assert_eq!(c1.row.source, Source::Family);
        assert_eq!(c1.row.category, Category::Meals);
        assert_eq!(c1.row.status, Status::Received);
        assert_eq!(c1.body, "午餐菜量偏少，孩子没吃饱。");
        assert_eq!(c1.row.ack_due, "2026-11-04T09:00:00Z");
        assert_eq!(c1.row.answer_due, "2026-11-17T09:00:00Z");
        assert_eq!(c1.contact_phone.as_deref(), Some("13812345678"));
        assert_eq!(c1.row.person_name.as_deref(), Some("王小明"));
        assert_eq!(c1.row.tracking_code.len(), 12);
        assert!(c1.row.tracking_code.starts_with("TS"));
        assert!(!c1.row.late);
        assert!(!c1.can_close, "not answered, deadline not passed");

        // ---- refusals name the field and write nothing.
        let e =
            ct::file(&mut c, r, &parent, &family_complaint("K1", "x", "  "), t0).expect_err("bad");
        assert_eq!(fields(e), ["category", "body"]);
        let long = "很".repeat(2001);
        let mut bad = family_complaint("K1", "safety", &long);
        bad.contact_phone = Some("12345".into());
        assert_eq!(
            fields(ct::file(&mut c, r, &parent, &bad, t0).expect_err("long")),
            ["body", "contact_phone"]
        );
        let mut elsewhere = family_complaint("K1", "fees", "收费问题");
        elsewhere.facility_id = Some("N2".into());
        assert_eq!(
            fields(ct::file(&mut c, r, &parent, &elsewhere, t0).expect_err("N2")),
            ["facility_id"]
        );
        assert!(matches!(
            ct::file(
                &mut c,
                r,
                &stranger,
                &family_complaint("K1", "fees", "x"),
                t0
            ),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            c.query_i64("SELECT COUNT(*) FROM complaint", &[])
                .expect("count"),
            1
        );

        // ---- scope: another family, another institution's operator, another
        // county: not found; staff see the person and the phone masked.
        for s in [&stranger, &op2, &other_county] {
            assert!(
                matches!(
                    ct::get(&mut c, r, s, &c1.row.id, t0),
                    Err(StoreError::NotFound { .. })
                ),
                "{s:?}"
            );
        }
        let seen = ct::get(&mut c, r, &county, &c1.row.id, t0).expect("county");
        assert_eq!(seen.contact_phone.as_deref(), Some("138****5678"));
        assert_eq!(seen.row.person_name.as_deref(), Some("王**"));
        assert_eq!(
            ct::list(&mut c, &op1, &ListQuery::default(), t0)
                .expect("op1")
                .len(),
            1
        );
        for s in [&op2, &other_county] {
            assert!(
                ct::list(&mut c, s, &ListQuery::default(), t0)
                    .expect("empty")
                    .is_empty()
            );
        }
        assert!(
            ct::family_list(&mut c, &stranger, t0)
                .expect("none")
                .is_empty()
        );
        assert!(matches!(
            ct::list(&mut c, &parent, &ListQuery::default(), t0),
            Err(StoreError::Forbidden(_))
        ));

        // ---- C2 a minute earlier; the facility acknowledges C1 the next
        // day; a second acknowledgement is a conflict; the county may not
        // act on a complaint that is not late.
        let c2 = ct::file(
            &mut c,
            r,
            &parent,
            &family_complaint("K1", "安全", "户外护栏松动。"),
            at("2026-11-02T08:59:00Z"),
        )
        .expect("C2");
        let t1 = at("2026-11-03T10:00:00Z");
        let a = ct::acknowledge(&mut c, r, &op1, &c1.row.id, t1).expect("ack");
        assert_eq!(a.row.status, Status::Acknowledged);
        assert_eq!(a.acknowledged_at.as_deref(), Some("2026-11-03T10:00:00Z"));
        assert!(matches!(
            ct::acknowledge(&mut c, r, &op1b, &c1.row.id, t1),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            ct::acknowledge(&mut c, r, &county, &c2.row.id, t1),
            Err(StoreError::Forbidden(_))
        ));
        assert!(matches!(
            ct::answer(&mut c, r, &county, &c2.row.id, "已督办", t1),
            Err(StoreError::Forbidden(_))
        ));

        // ---- escalation: nothing is late at C2's acknowledgement deadline
        // itself (11-04 08:59); a second later C2 (never acknowledged) is,
        // C1 (acknowledged in time, answer due 11-17) is not.
        assert_eq!(
            ct::escalate_due(&mut c, at("2026-11-04T08:59:00Z")).expect("none"),
            0
        );
        let t2 = at("2026-11-04T08:59:01Z");
        assert_eq!(ct::escalate_due(&mut c, t2).expect("one"), 1);
        assert_eq!(ct::escalate_due(&mut c, t2).expect("once"), 0);
        let late = ct::list(
            &mut c,
            &county,
            &ListQuery {
                late: Some(true),
                ..ListQuery::default()
            },
            t2,
        )
        .expect("late");
        assert_eq!(
            late.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
            [c2.row.id.as_str()]
        );
        assert_eq!(late[0].escalation_reason, Some(Escalation::AckLate));
        // Escalated first in the county's list, though C1 is newer.
        let all = ct::list(&mut c, &county, &ListQuery::default(), t2).expect("all");
        assert_eq!(all[0].id, c2.row.id);
        let n = c
            .query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'complaint_escalate'",
                &[],
            )
            .expect("audit");
        assert_eq!(n, 1);

        // ---- now the county answers C2 itself; the facility answers C1,
        // and a second answer (another account of the facility) is 409.
        let t3 = at("2026-11-04T10:00:00Z");
        let ans = ct::answer(
            &mut c,
            r,
            &county,
            &c2.row.id,
            "已督促机构当日整改护栏。",
            t3,
        )
        .expect("county answer");
        assert_eq!(ans.row.status, Status::Answered);
        assert_eq!(ans.answered_side, Some(Side::Supervisor));
        let t4 = at("2026-11-05T10:00:00Z");
        assert_eq!(
            fields(ct::answer(&mut c, r, &op1, &c1.row.id, "  ", t4).expect_err("blank")),
            ["answer"]
        );
        ct::answer(&mut c, r, &op1, &c1.row.id, "已增加午餐分量。", t4).expect("answer");
        assert!(matches!(
            ct::answer(&mut c, r, &op1b, &c1.row.id, "另一个答复", t4),
            Err(StoreError::Conflict(_))
        ));

        // ---- closing: only the complainant, with a rating 1 to 5.
        let t5 = at("2026-11-06T08:00:00Z");
        assert!(
            ct::get(&mut c, r, &parent, &c1.row.id, t5)
                .expect("own")
                .can_close
        );
        assert_eq!(
            fields(ct::close(&mut c, r, &parent, &c1.row.id, 6, None, t5).expect_err("6")),
            ["rating"]
        );
        assert!(matches!(
            ct::close(&mut c, r, &stranger, &c1.row.id, 4, None, t5),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            ct::close(&mut c, r, &op1, &c1.row.id, 4, None, t5),
            Err(StoreError::Forbidden(_))
        ));
        let closed = ct::close(&mut c, r, &parent, &c1.row.id, 4, Some("满意"), t5).expect("close");
        assert_eq!(closed.row.status, Status::Closed);
        assert_eq!(closed.row.rating, Some(4));
        assert!(matches!(
            ct::close(&mut c, r, &parent, &c1.row.id, 5, None, t5),
            Err(StoreError::Conflict(_))
        ));

        // ---- C3: never answered; closed once its answer deadline (11-20
        // 09:00) has passed, not before.
        let t6 = at("2026-11-05T09:00:00Z");
        let c3 = ct::file(
            &mut c,
            r,
            &parent,
            &family_complaint("K1", "fees", "退费天数不符。"),
            t6,
        )
        .expect("C3");
        assert_eq!(
            fields(
                ct::close(
                    &mut c,
                    r,
                    &parent,
                    &c3.row.id,
                    2,
                    None,
                    at("2026-11-10T00:00:00Z")
                )
                .expect_err("early")
            ),
            ["status"]
        );
        ct::close(
            &mut c,
            r,
            &parent,
            &c3.row.id,
            2,
            None,
            at("2026-11-21T00:00:00Z"),
        )
        .expect("closed unanswered");

        // ---- C4: recorded by the facility from a phone call; C5 at N2 from
        // the portal (the system).
        let c4 = ct::file(
            &mut c,
            r,
            &op1,
            &NewComplaint {
                category: "other".into(),
                body: "来电反映门口停车拥堵。".into(),
                ..NewComplaint::default()
            },
            at("2026-11-24T09:00:00Z"),
        )
        .expect("C4");
        assert_eq!(
            (c4.row.source, c4.row.facility_id.as_str()),
            (Source::Staff, "N1")
        );
        ct::file(
            &mut c,
            r,
            &sys,
            &NewComplaint {
                facility_id: Some("N2".into()),
                category: "service_quality".into(),
                body: "门户投诉".into(),
                ..NewComplaint::default()
            },
            at("2026-11-10T09:00:00Z"),
        )
        .expect("C5");

        // ---- figures on 11-25: N1 has C1 (answered on time, rated 4), C2
        // (escalated, answered by the county on time), C3 (closed unanswered
        // past its deadline: late, rated 2), C4 (open, not due). Received 4,
        // open 1, late 2, answered 2 on time out of 3 fallen due (C1, C2, C3),
        // average rating 3, 4 within 90 days ≥ 3: flagged.
        let t7 = at("2026-11-25T00:00:00Z");
        let f = ct::figures(&mut c, r, &county, t7).expect("figures");
        assert_eq!(f.facilities.len(), 1, "{f:?}");
        let n1 = &f.facilities[0];
        assert_eq!(n1.facility_id, "N1");
        let k = &n1.counts;
        assert_eq!(
            (
                k.received,
                k.open,
                k.late,
                k.answered,
                k.answered_on_time,
                k.answer_due
            ),
            (4, 1, 2, 2, 2, 3)
        );
        assert_eq!(k.on_time_share(), Some(2.0 / 3.0));
        assert_eq!(k.average_rating(), Some(3.0));
        assert!(n1.inspection_due);
        assert_eq!(f.areas.len(), 1);
        assert_eq!(f.areas[0].code, town);
        assert_eq!(
            (f.areas[0].counts.received, f.areas[0].inspection_due),
            (4, 1)
        );
        let f2 = ct::figures(&mut c, r, &other_county, t7).expect("xiuzhou");
        assert_eq!(f2.facilities.len(), 1);
        assert!(!f2.facilities[0].inspection_due);
        let fc = ct::figures(&mut c, r, &city, t7).expect("city");
        assert_eq!(fc.total.received, 5);
        assert_eq!(
            fc.areas
                .iter()
                .map(|a| (a.code.as_str(), a.counts.received))
                .collect::<Vec<_>>(),
            [("330402", 4), ("330411", 1)]
        );
        assert!(matches!(
            ct::figures(&mut c, r, &op1, t7),
            Err(StoreError::Forbidden(_))
        ));
        assert_eq!(
            ct::family_list(&mut c, &parent, t7)
                .expect("own")
                .iter()
                .map(|x| x.status)
                .collect::<Vec<_>>(),
            [Status::Closed, Status::Closed, Status::Answered]
        );

        // ---- the audit trail has every step and never the body or phone.
        let trail = c
            .query(
                "SELECT action, COALESCE(after, '') AS after, COALESCE(before, '') AS before \
                 FROM audit_log WHERE entity = 'complaint'",
                &[],
            )
            .expect("audit");
        let actions: std::collections::BTreeSet<String> = trail
            .iter()
            .map(|row| row.get::<String>("action").expect("action"))
            .collect();
        for a in [
            "complaint_file",
            "complaint_acknowledge",
            "complaint_answer",
            "complaint_escalate",
            "complaint_close",
        ] {
            assert!(actions.contains(a), "{a} in {actions:?}");
        }
        for row in &trail {
            let text = format!(
                "{}{}",
                row.get::<String>("after").expect("after"),
                row.get::<String>("before").expect("before")
            );
            for secret in ["午餐", "护栏", "13812345678", "满意"] {
                assert!(
                    !text.contains(secret),
                    "{secret} in the audit trail: {text}"
                );
            }
        }
    }
}

/// Two accounts of the institution answer the same complaint at the same
/// moment, each on its own connection: exactly one answer is kept, the other
/// caller gets a conflict (409), whichever way the two interleave.
#[test]
fn two_answers_at_once_one_wins_the_other_conflicts() {
    for db in TestDb::all().expect("test databases") {
        let store = db.store.clone();
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let n1 = Facility::blank(
            "N1",
            "小太阳托育园",
            FacilityKind::ChildcareInstitution,
            &town,
        );
        facilities::create(&mut c, r, &sys, &n1).expect("N1");
        let t0 = at("2026-11-02T09:00:00Z");
        let filed = ct::file(
            &mut c,
            r,
            &sys,
            &NewComplaint {
                facility_id: Some("N1".into()),
                category: "meals".into(),
                body: "门户投诉".into(),
                ..NewComplaint::default()
            },
            t0,
        )
        .expect("filed");
        drop(c);
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = ["op-a", "op-b"]
            .into_iter()
            .map(|name| {
                let (store, barrier, id) = (store.clone(), barrier.clone(), filed.row.id.clone());
                let town = town.clone();
                std::thread::spawn(move || {
                    let op = user(&store, name, Role::FacilityOperator, &town, Some("N1"));
                    let mut c = store.conn().expect("conn");
                    barrier.wait();
                    ct::answer(
                        &mut c,
                        &store.reference,
                        &op,
                        &id,
                        &format!("{name} 的答复"),
                        at("2026-11-03T09:00:00Z"),
                    )
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let conflicts = results
            .iter()
            .filter(|r| matches!(r, Err(StoreError::Conflict(_))))
            .count();
        assert_eq!((ok, conflicts), (1, 1), "{results:?}");
        let mut c = store.conn().expect("conn");
        let kept =
            ct::get(&mut c, r, &sys, &filed.row.id, at("2026-11-03T09:00:00Z")).expect("kept");
        let winner = results
            .iter()
            .find_map(|r| r.as_ref().ok())
            .and_then(|w| w.answer.clone());
        assert_eq!(kept.answer, winner);
        assert_eq!(
            c.query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'complaint_answer'",
                &[],
            )
            .expect("audit"),
            1
        );
    }
}
