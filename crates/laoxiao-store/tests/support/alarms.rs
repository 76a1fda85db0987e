//! Alarms over a real database (both backends): a platform and its secret, a
//! signed event filed and dispatched to the person's village; a repeated
//! event changing nothing; a bad signature, a skewed clock and an unknown
//! device refused and counted; escalation after the deadline; the steps to
//! closing; scope (another town sees nothing); work items; figures; the
//! equipped share.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use laoxiao_model::alarms::{
    AlarmOutcome, AlarmState, Device, DeviceKind, DeviceOwner, DeviceStatus,
};
use laoxiao_model::person::{LivingArrangement, Sex};
use laoxiao_model::{Person, PersonRole};
use laoxiao_rules::alarms::AlarmRules;
use laoxiao_store::alarms::{self, IntakeFailure, SignedRequest, Step, Which};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::{Role, Scope, StoreError, people, registry};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("t")
        .with_timezone(&Utc)
}

fn user(store: &laoxiao_store::Store, name: &str, role: Role, code: &str) -> Scope {
    laoxiao_store::testdb::user(store, name, role, code, None)
}

fn elder(id: &str, area: &str, seq: u16, la: LivingArrangement) -> Person {
    let b = d("1940-03-01");
    let mut p = Person::blank(id, PersonRole::Elderly, area, b, Sex::Female);
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "李秀英".into();
    p.living_arrangement = Some(la);
    p
}

/// An active, government-owned device installed on 2025-06-01.
fn device(id: &str, kind: DeviceKind, person: &str, platform: &str, platform_id: &str) -> Device {
    Device {
        id: id.into(),
        kind,
        person_id: person.into(),
        installed_date: d("2025-06-01"),
        owner: DeviceOwner::Government,
        provider_id: None,
        platform_id: platform.into(),
        platform_device_id: platform_id.into(),
        status: DeviceStatus::Active,
        note: None,
    }
}

fn body(event: &str, device: &str, at: &str) -> String {
    format!(r#"{{"event_id":"{event}","device_id":"{device}","occurred_at":"{at}"}}"#)
}

#[test]
fn signed_alarm_is_dispatched_escalated_and_closed() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let village2 = r.areas.children(&town)[1].code.clone();
        let other_town = r.areas.children("330481")[0].code.clone();
        // Three empty-nest or lone people in the town, one equipped; one
        // living with family (not counted by the target).
        for (id, area, seq, la) in [
            ("E1", &village, 2, LivingArrangement::LivingAlone),
            ("E2", &village, 4, LivingArrangement::EmptyNest),
            ("E3", &village2, 6, LivingArrangement::LivingAlone),
            ("E4", &village2, 8, LivingArrangement::WithFamily),
        ] {
            people::create(&mut c, r, &sys, &elder(id, area, seq, la)).expect("person");
        }
        let (platform, secret) =
            alarms::add_platform(&mut c, r, &sys, "P1", "安居平台").expect("platform");
        assert_eq!(platform.id, "P1");
        assert!(secret.len() >= 40);
        let dev = device("D1", DeviceKind::EmergencyButton, "E1", "P1", "BTN-001");
        registry::create(&mut c, &store.checker(), &sys, &dev, d("2026-03-01")).expect("device");
        let rules = AlarmRules::embedded().expect("rules");
        let now = Utc::now();
        let stamp = now.timestamp().to_string();
        let at = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let b = body("EV1", "BTN-001", &at);
        let sig = alarms::sign(&secret, &stamp, b.as_bytes());
        let req = SignedRequest {
            platform: Some("P1"),
            timestamp: Some(&stamp),
            signature: Some(&sig),
            body: b.as_bytes(),
        };
        let first = alarms::intake(&mut c, r, rules, &req, now)
            .expect("db")
            .expect("accepted");
        assert!(first.created);
        // The same event again: the same alarm, nothing new.
        let again = alarms::intake(&mut c, r, rules, &req, now)
            .expect("db")
            .expect("accepted");
        assert_eq!(
            (again.alarm_id.as_str(), again.created),
            (first.alarm_id.as_str(), false)
        );
        // Bad signature, skew, unknown device, unknown platform: refused and counted.
        let bad_sig = "0".repeat(64);
        let refused = |c: &mut laoxiao_store::Conn, req: SignedRequest<'_>| {
            alarms::intake(c, r, rules, &req, now)
                .expect("db")
                .expect_err("refused")
        };
        let e = refused(
            &mut c,
            SignedRequest {
                signature: Some(&bad_sig),
                ..req
            },
        );
        assert_eq!(
            (e.failure, e.failure.status()),
            (IntakeFailure::BadSignature, 401)
        );
        let old = (now.timestamp() - 301).to_string();
        let old_sig = alarms::sign(&secret, &old, b.as_bytes());
        let e = refused(
            &mut c,
            SignedRequest {
                timestamp: Some(&old),
                signature: Some(&old_sig),
                ..req
            },
        );
        assert_eq!(e.failure, IntakeFailure::ClockSkew);
        // 299 s late is inside the window (a different event, accepted).
        let ok_old = (now.timestamp() - 299).to_string();
        let b2 = body("EV2", "BTN-001", &at);
        let s2 = alarms::sign(&secret, &ok_old, b2.as_bytes());
        alarms::intake(
            &mut c,
            r,
            rules,
            &SignedRequest {
                platform: Some("P1"),
                timestamp: Some(&ok_old),
                signature: Some(&s2),
                body: b2.as_bytes(),
            },
            now,
        )
        .expect("db")
        .expect("inside the skew window");
        let b3 = body("EV3", "NOPE-9", &at);
        let s3 = alarms::sign(&secret, &stamp, b3.as_bytes());
        let e = refused(
            &mut c,
            SignedRequest {
                signature: Some(&s3),
                body: b3.as_bytes(),
                ..req
            },
        );
        assert_eq!(
            (e.failure, e.failure.status()),
            (IntakeFailure::UnknownDevice, 422)
        );
        assert_eq!(e.fields[0].field, "device_id");
        let e = refused(
            &mut c,
            SignedRequest {
                platform: Some("P9"),
                ..req
            },
        );
        assert_eq!(e.failure, IntakeFailure::UnknownPlatform);
        let counts = alarms::failure_counts(&mut c, &sys).expect("counts");
        let count = |p: &str, why: &str| {
            counts
                .iter()
                .find(|(a, b, _)| a == p && b == why)
                .map_or(0, |x| x.2)
        };
        assert_eq!(count("P1", "bad_signature"), 1);
        assert_eq!(count("P1", "clock_skew"), 1);
        assert_eq!(count("P1", "unknown_device"), 1);
        assert_eq!(count("", "unknown_platform"), 1);

        // Dispatch: the village's staff and the town see it; another town does not.
        let vstaff = user(store, "v1", Role::VillageStaff, &village);
        let v2staff = user(store, "v2", Role::VillageStaff, &village2);
        let tstaff = user(store, "t1", Role::TownStaff, &town);
        let other = user(store, "o1", Role::TownStaff, &other_town);
        let a = alarms::get(&mut c, &vstaff, &first.alarm_id).expect("village sees it");
        assert_eq!(
            (a.state, a.kind),
            (AlarmState::Open, DeviceKind::EmergencyButton)
        );
        assert_eq!(a.area_code, village);
        assert_eq!(a.person_name_masked, "李**");
        // Deadlines: 5 and 30 minutes after receipt (data/policy/alarms.toml).
        let recv = t(&a.received_at);
        assert_eq!(t(&a.ack_due_at) - recv, Duration::minutes(5));
        assert_eq!(t(&a.reach_due_at) - recv, Duration::minutes(30));
        assert!(matches!(
            alarms::get(&mut c, &other, &first.alarm_id),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            alarms::get(&mut c, &v2staff, &first.alarm_id),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            alarms::list(&mut c, &tstaff, Which::Active, 50)
                .expect("list")
                .total,
            2
        );
        assert_eq!(
            alarms::list(&mut c, &other, Which::Active, 50)
                .expect("list")
                .total,
            0
        );
        let items = alarms::work_items(&mut c, &vstaff, d("2026-03-01")).expect("items");
        let open = items
            .iter()
            .find(|i| i.key == "alarms_open")
            .expect("open line");
        assert_eq!((open.count, open.urgent), (2, false));

        // Escalation: not before the acknowledge deadline, just after it.
        assert_eq!(
            alarms::escalate_due(&mut c, recv + Duration::minutes(5)).expect("esc"),
            0
        );
        assert_eq!(
            alarms::escalate_due(&mut c, recv + Duration::minutes(5) + Duration::seconds(1))
                .expect("esc"),
            2
        );
        let a = alarms::get(&mut c, &vstaff, &first.alarm_id).expect("get");
        assert!(a.escalated);
        assert_eq!(a.escalation_reason.as_deref(), Some("not_acknowledged"));
        let items = alarms::work_items(&mut c, &tstaff, d("2026-03-01")).expect("items");
        assert_eq!(items[0].key, "alarms_escalated");
        assert!(items[0].urgent && items[0].count == 2);

        // Steps: acknowledge, reach, close; wrong steps refused; other towns cannot act.
        let later = recv + Duration::minutes(7);
        assert!(matches!(
            alarms::respond(
                &mut c,
                &other,
                &first.alarm_id,
                Step::Acknowledge,
                None,
                later
            ),
            Err(StoreError::NotFound { .. })
        ));
        let analyst = user(store, "an", Role::Analyst, &town);
        assert!(matches!(
            alarms::respond(
                &mut c,
                &analyst,
                &first.alarm_id,
                Step::Acknowledge,
                None,
                later
            ),
            Err(StoreError::Forbidden(_))
        ));
        let a = alarms::respond(
            &mut c,
            &vstaff,
            &first.alarm_id,
            Step::Acknowledge,
            None,
            later,
        )
        .expect("ack");
        assert_eq!(a.state, AlarmState::Acknowledged);
        assert_eq!(a.acknowledged_by.as_deref(), Some("v1"));
        assert!(matches!(
            alarms::respond(
                &mut c,
                &vstaff,
                &first.alarm_id,
                Step::Acknowledge,
                None,
                later
            ),
            Err(StoreError::Conflict(_))
        ));
        let a = alarms::respond(
            &mut c,
            &vstaff,
            &first.alarm_id,
            Step::Reach,
            None,
            recv + Duration::minutes(20),
        )
        .expect("reach");
        assert_eq!(a.state, AlarmState::OnSite);
        let a = alarms::respond(
            &mut c,
            &vstaff,
            &first.alarm_id,
            Step::Close(AlarmOutcome::SentToHospital),
            Some("送嘉兴市第一医院"),
            recv + Duration::minutes(50),
        )
        .expect("close");
        assert_eq!(
            (a.state, a.outcome),
            (AlarmState::Closed, Some(AlarmOutcome::SentToHospital))
        );
        let steps: Vec<&str> = a.timeline().iter().map(|s| s.step).collect();
        assert_eq!(
            steps,
            [
                "occurred",
                "received",
                "escalated",
                "acknowledged",
                "on_site",
                "closed"
            ]
        );
        assert_eq!(a.seconds_to_acknowledge(), Some(7 * 60));
        assert_eq!(a.seconds_to_reach(), Some(20 * 60));
        assert!(matches!(
            alarms::respond(
                &mut c,
                &vstaff,
                &first.alarm_id,
                Step::Close(AlarmOutcome::Other),
                None,
                later
            ),
            Err(StoreError::Conflict(_))
        ));
        // Each step audited.
        let n = c
            .query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE entity = 'alarm' AND entity_id = $1",
                &[first.alarm_id.as_str().into()],
            )
            .expect("audit");
        assert_eq!(n, 5, "intake, escalate, acknowledge, reach, close");

        // Figures of the town: two alarms, both escalated; one acknowledged in
        // 7 min and reached in 20 (the other is still open).
        let today = now.date_naive();
        let (whole, parts) = alarms::figures(
            &mut c,
            r,
            &tstaff,
            &town,
            today - Duration::days(1),
            today + Duration::days(1),
        )
        .expect("figures");
        assert_eq!((whole.alarms, whole.escalated), (2, 2));
        assert_eq!(whole.by_kind.get("emergency_button"), Some(&2));
        assert_eq!(whole.median_ack_seconds, Some(420));
        assert_eq!(whole.p90_reach_seconds, Some(1200));
        let v = parts
            .iter()
            .find(|p| p.area_code == village)
            .expect("village");
        assert_eq!(v.alarms, 2);
        // Equipped: 1 of 3 empty-nest or lone people (333 ‰); village 1 of 2, village 2 0 of 1.
        let (eq, parts) = alarms::equipped(&mut c, r, &tstaff, &town).expect("equipped");
        assert_eq!((eq.people, eq.equipped, eq.per_mille), (3, 1, Some(333)));
        let v1 = parts.iter().find(|p| p.area_code == village).expect("v1");
        assert_eq!((v1.people, v1.equipped, v1.per_mille), (2, 1, Some(500)));
        let v2 = parts.iter().find(|p| p.area_code == village2).expect("v2");
        assert_eq!((v2.people, v2.equipped), (1, 0));
    }
}

#[test]
fn a_batch_files_in_order_and_one_refusal_sinks_nothing() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        people::create(
            &mut c,
            r,
            &sys,
            &elder("B1", &village, 2, LivingArrangement::LivingAlone),
        )
        .expect("person");
        let (_, secret) = alarms::add_platform(&mut c, r, &sys, "PB", "平台").expect("platform");
        let dev = device("DB1", DeviceKind::FallDetector, "B1", "PB", "FALL-1");
        registry::create(&mut c, &store.checker(), &sys, &dev, d("2026-03-01")).expect("device");
        let rules = AlarmRules::embedded().expect("rules");
        let now = Utc::now();
        let stamp = now.timestamp().to_string();
        let at = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let bodies = [
            body("EVB1", "FALL-1", &at),
            body("EVB1", "FALL-1", &at), // the same event twice in one batch
            body("EVB2", "NOPE-1", &at), // no such device
            body("EVB3", "FALL-1", &at), // signed wrongly below
            body("EVB4", "FALL-1", &at),
        ];
        let sigs: Vec<String> = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| {
                if i == 3 {
                    "0".repeat(64)
                } else {
                    alarms::sign(&secret, &stamp, b.as_bytes())
                }
            })
            .collect();
        let reqs: Vec<SignedRequest<'_>> = bodies
            .iter()
            .zip(&sigs)
            .map(|(b, s)| SignedRequest {
                platform: Some("PB"),
                timestamp: Some(&stamp),
                signature: Some(s),
                body: b.as_bytes(),
            })
            .collect();
        let out = alarms::intake_batch(&mut c, r, rules, &reqs, now).expect("db");
        assert_eq!(out.len(), 5);
        let first = out[0].as_ref().expect("filed");
        let repeat = out[1].as_ref().expect("the same alarm");
        assert!(first.created);
        assert_eq!(
            (repeat.alarm_id.as_str(), repeat.created),
            (first.alarm_id.as_str(), false)
        );
        assert_eq!(
            out[2].as_ref().expect_err("unknown").failure,
            IntakeFailure::UnknownDevice
        );
        assert_eq!(
            out[3].as_ref().expect_err("bad signature").failure,
            IntakeFailure::BadSignature
        );
        let last = out[4].as_ref().expect("filed");
        assert!(last.created);
        assert_ne!(last.alarm_id, first.alarm_id);
        // Two alarms, each with its intake audit entry; both refusals counted.
        let mut n = |sql: &str| -> i64 {
            c.query_opt(sql, &[])
                .expect("count")
                .expect("row")
                .get::<i64>("n")
                .expect("n")
        };
        assert_eq!(
            n("SELECT COUNT(*) AS n FROM alarm WHERE platform_id = 'PB'"),
            2
        );
        assert_eq!(
            n("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'alarm_intake'"),
            2
        );
        let counts = alarms::failure_counts(&mut c, &sys).expect("counts");
        for why in ["unknown_device", "bad_signature"] {
            assert!(
                counts
                    .iter()
                    .any(|(p, w, k)| p == "PB" && w == why && *k == 1),
                "{why} counted once: {counts:?}"
            );
        }
        // More than a batch holds is refused whole, before anything is read.
        let many = vec![reqs[0]; alarms::MAX_BATCH + 1];
        assert!(alarms::intake_batch(&mut c, r, rules, &many, now).is_err());
    }
}
