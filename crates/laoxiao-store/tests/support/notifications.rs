//! Parents in the loop over a real database (both backends): the thread
//! between a family and its child's class, class notices, the notifications
//! each event writes in its own transaction, and the delivery worker's
//! claims, retries, back-off and giving up.
//!
//! The fixture: an institution N1 with one class and two children, K1 (whose
//! mother has a verified family account) and K2 (no family account); a
//! second institution N2 with its own operator; a stranger family account.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Local, NaiveDate, NaiveTime, TimeZone, Utc};
use laoxiao_model::childcare_day::{DayEventKind, HealthCheck, IncidentSeverity, PickupRelation};
use laoxiao_model::facility::{CareType, ClassType, FilingStatus};
use laoxiao_model::person::Sex;
use laoxiao_model::{ChildcareClass, Enrolment, Facility, FacilityKind, Person, PersonRole};
use laoxiao_rules::subsidies::Month;
use laoxiao_store::childcare_day::{
    self as cd, CheckInInput, CheckOutInput, EventInput, PickupInput,
};
use laoxiao_store::childcare_messages::{self as cm, Side};
use laoxiao_store::notify::{
    self, Channel, ChannelError, Delivery, Event, Outgoing, Policy, Receipt, Template,
};
use laoxiao_store::testdb::{TestDb, user};
use laoxiao_store::{
    Role, Scope, Store, StoreError, childcare_bills, facilities, family, people, registry,
};

fn child(id: &str, area: &str, seq: u16, birth: NaiveDate, name: &str) -> Person {
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    let mut p = Person::blank(id, PersonRole::Infant, area, birth, sex);
    p.id_number = laoxiao_model::idcard::make(&area[..6], birth, seq);
    p.name = name.into();
    p
}

fn field_of(e: StoreError) -> String {
    match e {
        StoreError::Invalid(v) => v[0].field.clone(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

struct World {
    op1: Scope,
    op2: Scope,
    county: Scope,
    city: Scope,
    mama: Scope,
    stranger: Scope,
    today: NaiveDate,
}

/// Builds the fixture described at the top; the children started a month ago.
fn world(store: &Store) -> World {
    let r = &store.reference;
    let sys = Scope::system("test");
    let mut c = store.conn().expect("conn");
    let today = Local::now().date_naive();
    let town = r.areas.children("330402")[0].code.clone();
    let village = r.areas.children(&town)[0].code.clone();
    let other_town = r.areas.children("330411")[0].code.clone();
    let mut n1 = Facility::blank(
        "N1",
        "小太阳托育园",
        FacilityKind::ChildcareInstitution,
        &village,
    );
    n1.filing_status = FilingStatus::Filed;
    n1.filing_date = Some(today - Duration::days(400));
    n1.approved_slots = Some(30);
    let cls = ChildcareClass {
        id: "N1-YT".into(),
        facility_id: "N1".into(),
        class_type: ClassType::YoungToddlerClass,
        capacity: 10,
        enrolled: 2,
        caregivers: 1,
        monthly_fee_fen: Some(200_000),
    };
    facilities::create_with_classes(&mut c, r, &sys, &n1, &[cls], &[]).expect("N1");
    let n2 = Facility::blank(
        "N2",
        "月亮托育园",
        FacilityKind::ChildcareInstitution,
        &other_town,
    );
    facilities::create(&mut c, r, &sys, &n2).expect("N2");
    // About 17 months old at the start: a young toddler (托小班, 12 to 24 months).
    let birth = today - Duration::days(540);
    let start = today - Duration::days(30);
    let k1 = child("K1", &village, 1, birth, "王小明");
    people::create(&mut c, r, &sys, &k1).expect("K1");
    people::create(&mut c, r, &sys, &child("K2", &village, 2, birth, "李小红")).expect("K2");
    let ck = r.checker();
    for (id, who) in [("EN-1", "K1"), ("EN-2", "K2")] {
        let e = Enrolment {
            id: id.into(),
            infant_id: who.into(),
            facility_id: "N1".into(),
            class_id: Some("N1-YT".into()),
            start_date: start,
            end_date: None,
            care_type: Some(CareType::FullDay),
        };
        registry::create(&mut c, &ck, &sys, &e, start).expect("enrolment");
    }
    let vstaff = user(store, "v1", Role::VillageStaff, &village, None);
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
    let mama = user(store, "mama", Role::Family, "330400", None);
    let link = family::request_link(&mut c, r, &mama, &k1.id_number, "parent").expect("link");
    family::decide_link(&mut c, &vstaff, &link.id, true, "").expect("verify");
    World {
        op1: user(store, "op1", Role::FacilityOperator, &village, Some("N1")),
        op2: user(
            store,
            "op2",
            Role::FacilityOperator,
            &other_town,
            Some("N2"),
        ),
        county: user(store, "nanhu", Role::CountyAdmin, "330402", None),
        city: user(store, "city", Role::CityAdmin, "330400", None),
        mama,
        stranger: user(store, "other", Role::Family, "330400", None),
        today,
    }
}

fn templates(c: &mut laoxiao_store::db::Conn, account: &str) -> Vec<Template> {
    notify::all_of(c, account)
        .expect("rows")
        .into_iter()
        .map(|(_, t, _, _)| t)
        .collect()
}

#[test]
fn a_family_and_its_class_write_and_every_event_notifies_the_family() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let w = world(store);
        let mut c = store.conn().expect("conn");
        // Each step a second apart, and all before the day's events (which
        // take the clock's time), so the notices' order is the events'.
        let now = Utc::now() - Duration::seconds(10);

        // ---- the family writes; only the institution's own staff read it.
        let t = cm::family_post(&mut c, &w.mama, "K1", "  孩子今天有点咳嗽  ", now).expect("post");
        assert_eq!(t.enrolment_id, "EN-1");
        assert_eq!(
            t.infant_name, "王小明",
            "the family sees its child's name in full"
        );
        assert_eq!(t.messages.len(), 1);
        assert_eq!(t.messages[0].body, "孩子今天有点咳嗽", "trimmed");
        assert_eq!(t.messages[0].side, Side::Family);
        for (who, e) in [
            (
                "stranger",
                cm::family_thread(&mut c, &w.stranger, "K1", now),
            ),
            (
                "stranger posting",
                cm::family_post(&mut c, &w.stranger, "K1", "hi", now),
            ),
        ] {
            assert!(
                matches!(e, Err(StoreError::NotFound { .. })),
                "{who}: {e:?}"
            );
        }
        assert!(matches!(
            cm::staff_thread(&mut c, &w.op2, "EN-1", now),
            Err(StoreError::NotFound { .. })
        ));
        for (who, s) in [("county", &w.county), ("city", &w.city)] {
            assert!(
                matches!(
                    cm::staff_thread(&mut c, s, "EN-1", now),
                    Err(StoreError::Forbidden(_))
                ),
                "{who} reads no family's messages"
            );
            assert!(
                matches!(cm::threads(&mut c, s), Err(StoreError::Forbidden(_))),
                "{who}"
            );
        }
        assert!(cm::threads(&mut c, &w.op2).expect("op2").is_empty());

        // ---- bad input names the field and writes nothing.
        for bad in ["", "   ", &"长".repeat(cm::MAX_BODY + 1)] {
            let e = cm::family_post(&mut c, &w.mama, "K1", bad, now).expect_err("refused");
            assert_eq!(field_of(e), "body");
            let e = cm::reply(&mut c, &w.op1, "EN-1", bad, now).expect_err("refused");
            assert_eq!(field_of(e), "body");
        }
        assert_eq!(
            cm::family_thread(&mut c, &w.mama, "K1", now)
                .expect("t")
                .messages
                .len(),
            1
        );

        // ---- the institution sees one unread thread, opens it, answers.
        let lines = cm::threads(&mut c, &w.op1).expect("threads");
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0].enrolment_id.as_str(), lines[0].unread),
            ("EN-1", 1)
        );
        assert_eq!(lines[0].infant_name, "王**", "masked for staff");
        assert_eq!(cm::unread_at(&mut c, "N1").expect("unread"), 1);
        let t = cm::staff_thread(&mut c, &w.op1, "EN-1", now).expect("open");
        assert_eq!(t.infant_name, "王**");
        assert_eq!(cm::threads(&mut c, &w.op1).expect("threads")[0].unread, 0);
        assert!(templates(&mut c, "mama").is_empty(), "nothing told yet");
        let t = cm::reply(
            &mut c,
            &w.op1,
            "EN-1",
            "好的，我们会留意。",
            now + Duration::seconds(1),
        )
        .expect("reply");
        assert_eq!(t.messages.len(), 2);
        assert!(
            t.messages[0].read_at.is_some(),
            "the family's message was read"
        );
        let inbox = notify::inbox(&mut c, &w.mama, false, 50).expect("inbox");
        assert_eq!(inbox.unread, 1);
        assert_eq!(inbox.items[0].template, Template::ClassReply);
        assert_eq!(inbox.items[0].params["child"], "王小明");
        assert_eq!(inbox.items[0].params["institution"], "小太阳托育园");
        assert_eq!(
            inbox.items[0].link.as_deref(),
            Some("/console/family/children/K1/messages")
        );
        assert!(
            templates(&mut c, "other").is_empty(),
            "nothing for another family"
        );

        // ---- a class notice reaches both children's threads and K1's family.
        let later = now + Duration::seconds(2);
        let sent = cm::class_notice(
            &mut c,
            &w.op1,
            "N1-YT",
            "明天上午组织户外活动，请穿运动鞋。",
            later,
        )
        .expect("notice");
        assert_eq!(
            (sent.children, sent.notified),
            (2, 1),
            "K2 has no family account"
        );
        let t = cm::family_thread(&mut c, &w.mama, "K1", now).expect("thread");
        assert_eq!(t.messages.len(), 3);
        assert!(t.messages[2].notice);
        assert!(
            t.messages[1].read_at.is_some(),
            "the family opened the institution's answer"
        );
        assert!(matches!(
            cm::class_notice(&mut c, &w.op2, "N1-YT", "x", now),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(cm::notices(&mut c, &w.op1, 10).expect("notices").len(), 1);

        // ---- the day: a refused handover, a serious incident, the report.
        let day = w.today;
        let nine = day.and_time(NaiveTime::from_hms_opt(9, 0, 0).expect("t"));
        let four = day.and_time(NaiveTime::from_hms_opt(16, 0, 0).expect("t"));
        let mum = cd::add_pickup(
            &mut c,
            &w.op1,
            "K1",
            &PickupInput {
                name: "王妈妈".into(),
                relation: Some(PickupRelation::Parent),
                phone: None,
            },
            day,
        )
        .expect("pickup");
        let stranger_at_door = CheckInInput {
            presented: Some("不认识的人".into()),
            temperature_tenths: Some(365),
            morning_check: Some(HealthCheck::Normal),
            recheck_date: Some(day),
            ..CheckInInput::default()
        };
        cd::check_in(&mut c, &w.op1, "EN-1", &stranger_at_door, nine)
            .expect_err("refused at the door");
        cd::check_in(&mut c, &w.op1, "EN-2", &stranger_at_door, nine)
            .expect_err("refused, no family");
        let arrive = CheckInInput {
            pickup_id: Some(mum.id.clone()),
            presented: None,
            ..stranger_at_door.clone()
        };
        cd::check_in(&mut c, &w.op1, "EN-1", &arrive, nine).expect("in");
        for sev in [IncidentSeverity::Minor, IncidentSeverity::Serious] {
            cd::record_event(
                &mut c,
                &w.op1,
                "N1-YT",
                day,
                &EventInput {
                    kind: Some(DayEventKind::Incident),
                    infant_id: Some("K1".into()),
                    at: Some(NaiveTime::from_hms_opt(10, 0, 0).expect("t")),
                    severity: Some(sev),
                    note: Some("摔倒".into()),
                    guardian_informed: true,
                    ..EventInput::default()
                },
                four,
            )
            .expect("incident");
        }
        cd::check_out(
            &mut c,
            &w.op1,
            "EN-1",
            &CheckOutInput {
                pickup_id: Some(mum.id.clone()),
                ..CheckOutInput::default()
            },
            four,
        )
        .expect("out");
        let got = templates(&mut c, "mama");
        assert_eq!(
            got,
            vec![
                Template::ClassReply,
                Template::ClassNotice,
                Template::HandoverRefused,
                Template::Incident,
                Template::DailyReport,
            ],
            "one notice per event, only the serious incident"
        );
        let inbox = notify::inbox(&mut c, &w.mama, true, 50).expect("inbox");
        let report = inbox
            .items
            .iter()
            .find(|n| n.template == Template::DailyReport)
            .expect("report notice");
        assert_eq!(report.params["date"], day.to_string());
        let refused = inbox
            .items
            .iter()
            .find(|n| n.template == Template::HandoverRefused)
            .expect("refusal notice");
        assert_eq!(refused.params["direction"], "入园");
        assert!(
            !refused.params.values().any(|v| v.contains("不认识")),
            "what the staff wrote of the person is not sent"
        );

        // ---- bills: K1's family hears of its bill once per amount.
        let month = Month::of(day);
        let sys = Scope::system("test");
        childcare_bills::generate(&mut c, &sys, month, Some("N1"), four).expect("bills");
        childcare_bills::generate(&mut c, &sys, month, Some("N1"), four).expect("again");
        let bills: Vec<_> = notify::inbox(&mut c, &w.mama, false, 50)
            .expect("inbox")
            .items
            .into_iter()
            .filter(|n| n.template == Template::BillIssued)
            .collect();
        assert_eq!(
            bills.len(),
            1,
            "a run that changes nothing tells nobody again"
        );
        assert_eq!(bills[0].params["month"], month.to_string());
        // Overdue: once the due date passed, one notice per unpaid bill, once.
        let later = Utc::now() + Duration::days(80);
        let told = notify::bills_overdue(&mut c, later.date_naive(), later).expect("overdue");
        assert_eq!(told, 1, "K1's bill; K2's bill has no family to tell");
        assert_eq!(
            notify::bills_overdue(&mut c, later.date_naive(), later).expect("again"),
            0
        );

        // ---- reading: marking another account's notice does nothing.
        let ids: Vec<String> = notify::inbox(&mut c, &w.mama, false, 50)
            .expect("inbox")
            .items
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(ids.len(), 7);
        assert_eq!(
            notify::mark_read(&mut c, &w.stranger, Some(&ids), now).expect("other"),
            0
        );
        assert_eq!(
            notify::mark_read(&mut c, &w.mama, Some(&ids[..2]), now).expect("two"),
            2
        );
        assert_eq!(
            notify::inbox(&mut c, &w.mama, false, 50)
                .expect("inbox")
                .unread,
            5
        );
        assert_eq!(
            notify::mark_read(&mut c, &w.mama, None, now).expect("all"),
            5
        );
        assert_eq!(
            notify::inbox(&mut c, &w.mama, true, 50)
                .expect("inbox")
                .items
                .len(),
            0
        );
        assert!(matches!(
            notify::inbox(&mut c, &w.op1, false, 50),
            Err(StoreError::Forbidden(_))
        ));
    }
}

/// A channel whose answers the test scripts, by attempt; it records each send.
struct Scripted {
    answers: Mutex<HashMap<String, Vec<Result<(), ChannelError>>>>,
    default: Result<(), ChannelError>,
    sent: Mutex<Vec<(String, i64)>>,
}

impl Scripted {
    fn new(default: Result<(), ChannelError>) -> Scripted {
        Scripted {
            answers: Mutex::new(HashMap::new()),
            default,
            sent: Mutex::new(Vec::new()),
        }
    }
}

impl Channel for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn send(&self, m: &Outgoing) -> Result<Receipt, ChannelError> {
        self.sent
            .lock()
            .expect("lock")
            .push((m.id.clone(), m.attempt));
        let mut a = self.answers.lock().expect("lock");
        let next = match a.get_mut(&m.id) {
            Some(v) if !v.is_empty() => v.remove(0),
            _ => self.default.clone(),
        };
        next.map(|_| Receipt(format!("r-{}", m.id)))
    }
}

fn enqueue(c: &mut laoxiao_store::db::Conn, n: usize, at: DateTime<Utc>) -> Vec<String> {
    for i in 0..n {
        let ev = Event::new(Template::DailyReport, format!("t:{i}"))
            .param("child", "王小明")
            .param("date", "2026-12-01");
        assert_eq!(
            notify::to_accounts(c, &["mama".to_string()], &ev, at).expect("enqueue"),
            1
        );
        // The same event again writes nothing.
        assert_eq!(
            notify::to_accounts(c, &["mama".to_string()], &ev, at).expect("again"),
            0
        );
    }
    notify::all_of(c, "mama")
        .expect("rows")
        .into_iter()
        .map(|r| r.0)
        .collect()
}

fn row(c: &mut laoxiao_store::db::Conn, id: &str) -> (Delivery, i64) {
    notify::all_of(c, "mama")
        .expect("rows")
        .into_iter()
        .find(|r| r.0 == id)
        .map(|r| (r.2, r.3))
        .expect("row")
}

#[test]
fn the_delivery_worker_retries_backs_off_gives_up_and_never_sends_twice() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let mut c = store.conn().expect("conn");
        let t0 = Utc
            .with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
            .single()
            .expect("t0");
        let policy = Policy::on(t0.date_naive()).expect("policy");
        let ids = enqueue(&mut c, 3, t0);
        let (a, b, k) = (ids[0].clone(), ids[1].clone(), ids[2].clone());

        // a: fails once (retryable) then goes; b: refused for good; k: never answers.
        let ch = Scripted::new(Err(ChannelError::Retryable("timeout".into())));
        ch.answers.lock().expect("lock").extend([
            (
                a.clone(),
                vec![Err(ChannelError::Retryable("busy".into())), Ok(())],
            ),
            (
                b.clone(),
                vec![Err(ChannelError::Permanent("no phone".into()))],
            ),
        ]);
        let d = notify::deliver_due(store, &ch, t0, 100).expect("pass 1");
        assert_eq!((d.sent, d.retried, d.failed), (0, 2, 1), "{d:?}");
        assert_eq!(
            row(&mut c, &b),
            (Delivery::Failed, 1),
            "a permanent error is final"
        );
        assert_eq!(row(&mut c, &a), (Delivery::Pending, 1));

        // Before the back-off has passed nothing is due.
        let wait = policy.backoff(1);
        let d =
            notify::deliver_due(store, &ch, t0 + wait - Duration::seconds(1), 100).expect("early");
        assert_eq!(
            d,
            notify::Delivered::default(),
            "nothing due before the back-off"
        );
        let d = notify::deliver_due(store, &ch, t0 + wait, 100).expect("pass 2");
        assert_eq!((d.sent, d.retried), (1, 1), "{d:?}");
        assert_eq!(row(&mut c, &a), (Delivery::Sent, 2));

        // k keeps failing: each pass after its back-off is one more attempt,
        // until the last allowed one marks it failed.
        let mut t = t0 + wait;
        let mut attempts = 1;
        while row(&mut c, &k).0 == Delivery::Pending {
            t += policy.backoff(attempts);
            notify::deliver_due(store, &ch, t, 100).expect("pass");
            attempts += 1;
            assert!(attempts <= policy.max_attempts, "gave up too late");
        }
        assert_eq!(row(&mut c, &k), (Delivery::Failed, policy.max_attempts));
        let sends_of_k = ch
            .sent
            .lock()
            .expect("lock")
            .iter()
            .filter(|s| s.0 == k)
            .count() as i64;
        assert_eq!(sends_of_k, policy.max_attempts);

        // The health page counts them, with no parameters in sight.
        let city = user(store, "city", Role::CityAdmin, "330400", None);
        let h = notify::health(&mut c, &city).expect("health");
        let count = |st: Delivery| {
            h.counts
                .iter()
                .filter(|x| x.status == st)
                .map(|x| x.count)
                .sum::<i64>()
        };
        assert_eq!((count(Delivery::Sent), count(Delivery::Failed)), (1, 2));
        assert_eq!(h.failures.len(), 2);
        let county = user(store, "nanhu", Role::CountyAdmin, "330402", None);
        assert!(matches!(
            notify::health(&mut c, &county),
            Err(StoreError::Forbidden(_))
        ));
    }
}

#[test]
fn two_workers_at_once_send_each_notification_exactly_once() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let mut c = store.conn().expect("conn");
        let t0 = Utc
            .with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
            .single()
            .expect("t0");
        let ids = enqueue(&mut c, 40, t0);
        let ch = Scripted::new(Ok(()));
        let totals: Vec<notify::Delivered> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| s.spawn(|| notify::deliver_due(store, &ch, t0, 100).expect("pass")))
                .collect();
            hs.into_iter().map(|h| h.join().expect("join")).collect()
        });
        let sent: i64 = totals.iter().map(|d| d.sent).sum();
        assert_eq!(sent, 40, "{totals:?}");
        let mut seen: Vec<String> = ch
            .sent
            .lock()
            .expect("lock")
            .iter()
            .map(|s| s.0.clone())
            .collect();
        seen.sort();
        let mut want = ids.clone();
        want.sort();
        assert_eq!(seen, want, "each exactly once");
        // The local stand-in's record: what an SMS gateway would have received.
        let out = Outgoing {
            id: ids[0].clone(),
            account: "mama".into(),
            template: Template::DailyReport,
            params: Default::default(),
            link: None,
            attempt: 1,
        };
        let rid = notify::record_delivery(&mut c, &out, "local", "王小明的每日报告已生成。", t0)
            .expect("record");
        assert!(rid.starts_with("ND-"));
    }
}
