//! Visiting rounds and home-care beds over a real database (both backends),
//! worked by hand: who is due in February 2026, who visits them, what a visit
//! writes, overdue counts, follow-ups for the town, and the completion of a
//! home-care bed contract.

use chrono::NaiveDate;
use laoxiao_model::activity::{Residence, ServiceKind, Staff, StaffRole};
use laoxiao_model::person::{LivingArrangement, PersonStatus, Sex, SpecialDifficulty};
use laoxiao_model::visit::{VisitConcern, VisitOutcome};
use laoxiao_model::{Facility, FacilityKind, HomeCareContract, Person, PersonRole};
use laoxiao_rules::visits::VisitRules;
use laoxiao_store::testdb::TestDb;
use laoxiao_store::visits::{self as v, ServiceInput, TaskQuery, TaskStatus, VisitInput};
use laoxiao_store::{Actor, Role, Scope, StoreError, activity, facilities, people, registry};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn user(store: &laoxiao_store::Store, name: &str, role: Role, code: &str) -> Scope {
    laoxiao_store::testdb::user(store, name, role, code, None)
}

fn elderly(id: &str, area: &str, seq: u16, sd: &[SpecialDifficulty]) -> Person {
    let b = d("1940-05-01");
    let mut p = Person::blank(
        id,
        PersonRole::Elderly,
        area,
        b,
        if seq % 2 == 1 { Sex::Male } else { Sex::Female },
    );
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "李某某".into();
    p.special_difficulty = sd.to_vec();
    p
}

fn visit(outcome: VisitOutcome, date: &str) -> VisitInput {
    VisitInput {
        outcome,
        date: d(date),
        concerns: Vec::new(),
        note: None,
        follow_up: None,
    }
}

fn field(e: StoreError) -> String {
    match e {
        StoreError::Invalid(v) => v
            .iter()
            .map(|f| f.field.clone())
            .collect::<Vec<_>>()
            .join(","),
        other => format!("not invalid: {other}"),
    }
}

#[test]
fn rounds_are_generated_visited_and_followed_up() {
    use SpecialDifficulty::*;
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let today = d("2026-02-26");
        let town = r.areas.children("330402")[0].code.clone();
        let v1 = r.areas.children(&town)[0].code.clone();
        let v2 = r.areas.children(&town)[1].code.clone();
        let other_town = r.areas.children("330481")[0].code.clone();
        let w = r.areas.children(&other_town)[0].code.clone();
        for (name, area) in [("v1b", &v1), ("v1a", &v1), ("w1", &w)] {
            laoxiao_store::accounts::create_user(
                &mut c,
                r,
                &sys,
                name,
                Role::VillageStaff,
                area,
                None,
                "correct horse battery staple 1",
            )
            .expect("account");
        }
        let mut home = Facility::blank("F1", "一号养老院", FacilityKind::ElderlyInstitution, &town);
        home.beds = Some(50);
        facilities::create(&mut c, r, &sys, &home).expect("home");
        let mut alone = elderly("E4", &v1, 4, &[]);
        alone.living_arrangement = Some(LivingArrangement::LivingAlone);
        let mut dead = elderly("E5", &v1, 5, &[MinimumLivingAllowance]);
        dead.status = PersonStatus::Deceased;
        dead.death_date = Some(d("2026-01-05"));
        for p in [
            elderly("E1", &v1, 1, &[ExtremePoverty]),
            elderly("E2", &v1, 2, &[MinimumLivingAllowance, SevereDisability]),
            elderly("E3", &v1, 3, &[ExtremePoverty]),
            alone,
            dead,
            elderly("E6", &v2, 6, &[SevereDisability]),
            elderly("E7", &w, 7, &[ExtremePoverty]),
            elderly("E8", &v1, 8, &[LowIncomeMargin]),
            elderly("E9", &v2, 9, &[ExtremePoverty]),
        ] {
            people::create(&mut c, r, &sys, &p).expect("person");
        }
        let ck = store.checker();
        // E3 lives in the care home; E8 left it in January (at home again).
        for (id, person, out) in [("R3", "E3", None), ("R8", "E8", Some(d("2026-01-10")))] {
            registry::create(
                &mut c,
                &ck,
                &sys,
                &Residence {
                    id: id.into(),
                    person_id: person.into(),
                    facility_id: "F1".into(),
                    admitted_date: d("2025-06-01"),
                    discharged_date: out,
                },
                today,
            )
            .expect("residence");
        }
        // E9 had a visit entered on the register on 3 February: its task
        // is generated already done.
        registry::create(
            &mut c,
            &ck,
            &sys,
            &laoxiao_model::ServiceRecord {
                id: "S9".into(),
                person_id: "E9".into(),
                kind: ServiceKind::Visit,
                date: d("2026-02-03"),
                facility_id: None,
                ability_level: None,
                note: None,
            },
            today,
        )
        .expect("visit on the register");
        let rules = VisitRules::embedded()
            .expect("rules")
            .for_month(d("2026-02-01"))
            .expect("month");

        // The town generates its own: E1, E2, E8 (v1), E6 and E9 (v2, no
        // staff); E9's is matched with the visit on the register.
        let town_staff = user(store, "t1", Role::TownStaff, &town);
        let g = v::generate_rounds(&mut c, &town_staff, &rules).expect("town rounds");
        assert_eq!((g.created, g.unassigned, g.matched, g.total), (5, 2, 1, 5));
        // The city adds E7 only; again, nothing.
        let g = v::generate_rounds(&mut c, &sys, &rules).expect("city rounds");
        assert_eq!((g.created, g.unassigned, g.matched, g.total), (1, 0, 0, 6));
        let g = v::generate_rounds(&mut c, &sys, &rules).expect("again");
        assert_eq!((g.created, g.matched, g.total), (0, 0, 6));
        // Village staff may not generate.
        let v1a = user(store, "v1a", Role::VillageStaff, &v1);
        assert!(matches!(
            v::generate_rounds(&mut c, &v1a, &rules),
            Err(StoreError::Forbidden(_))
        ));

        // Round-robin in v1 by person id over (v1a, v1b): E1 v1a, E2 v1b, E8 v1a.
        let all = v::list_tasks(
            &mut c,
            &sys,
            &TaskQuery {
                month: Some("2026-02".into()),
                limit: 100,
                ..Default::default()
            },
            today,
        )
        .expect("all");
        let who: Vec<(String, Option<String>)> = {
            let mut x: Vec<_> = all
                .iter()
                .map(|t| (t.person_id.clone(), t.visitor.clone()))
                .collect();
            x.sort();
            x
        };
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            who,
            vec![
                ("E1".into(), s("v1a")),
                ("E2".into(), s("v1b")),
                ("E6".into(), None),
                ("E7".into(), s("w1")),
                ("E8".into(), s("v1a")),
                ("E9".into(), None),
            ]
        );
        assert!(all.iter().all(|t| t.due_date == d("2026-02-25")));
        assert!(all.iter().all(|t| t.overdue == (t.person_id != "E9")));
        let e9 = all.iter().find(|t| t.person_id == "E9").expect("E9");
        assert_eq!(
            (e9.status, e9.visited_date),
            (TaskStatus::Visited, Some(d("2026-02-03")))
        );
        assert_eq!(all[0].person_name_masked, "李**");
        let mine = v::list_tasks(
            &mut c,
            &v1a,
            &TaskQuery {
                month: Some("2026-02".into()),
                visitor: Some("v1a".into()),
                limit: 100,
                ..Default::default()
            },
            today,
        )
        .expect("mine");
        let mut ids: Vec<_> = mine.iter().map(|t| t.person_id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["E1", "E8"]);

        // E1 visited in person, two concerns, a follow-up for the town.
        let t1 = "VT-2026-02-E1";
        let mut inp = visit(VisitOutcome::InPerson, "2026-02-20");
        inp.concerns = vec![
            VisitConcern::Safety,
            VisitConcern::Health,
            VisitConcern::Safety,
        ];
        inp.follow_up = Some("  燃气灶老化，需更换  ".into());
        let t = v::record_visit(&mut c, &v1a, t1, &inp, today).expect("visit");
        assert_eq!(t.status, TaskStatus::Visited);
        assert_eq!(t.concerns, vec![VisitConcern::Health, VisitConcern::Safety]);
        assert_eq!(t.attempts, 1);
        let rec = activity::get::<laoxiao_model::ServiceRecord>(&mut c, &sys, "SV-VT-2026-02-E1")
            .expect("service record");
        assert_eq!((rec.kind, rec.date), (ServiceKind::Visit, d("2026-02-20")));
        assert!(matches!(
            v::record_visit(&mut c, &v1a, t1, &inp, today),
            Err(StoreError::Conflict(_))
        ));
        // E2 not reached, then by phone: attempts 2, one service record.
        let t2 = "VT-2026-02-E2";
        let t = v::record_visit(
            &mut c,
            &v1a,
            t2,
            &visit(VisitOutcome::NotReached, "2026-02-21"),
            today,
        )
        .expect("try");
        assert_eq!((t.status, t.attempts), (TaskStatus::Open, 1));
        assert!(
            activity::get::<laoxiao_model::ServiceRecord>(&mut c, &sys, "SV-VT-2026-02-E2")
                .is_err()
        );
        let t = v::record_visit(
            &mut c,
            &v1a,
            t2,
            &visit(VisitOutcome::ByPhone, "2026-02-22"),
            today,
        )
        .expect("phone");
        assert_eq!(
            (t.status, t.attempts, t.outcome),
            (TaskStatus::Visited, 2, Some(VisitOutcome::ByPhone))
        );
        // Bad input names its field; another village's staff find nothing.
        let t8 = "VT-2026-02-E8";
        assert_eq!(
            field(
                v::record_visit(
                    &mut c,
                    &v1a,
                    t8,
                    &visit(VisitOutcome::InPerson, "2026-02-27"),
                    today
                )
                .expect_err("future")
            ),
            "date"
        );
        assert_eq!(
            field(
                v::record_visit(
                    &mut c,
                    &v1a,
                    t8,
                    &visit(VisitOutcome::InPerson, "2026-01-31"),
                    today
                )
                .expect_err("early")
            ),
            "date"
        );
        let mut long = visit(VisitOutcome::InPerson, "2026-02-20");
        long.note = Some("很".repeat(501));
        assert_eq!(
            field(v::record_visit(&mut c, &v1a, t8, &long, today).expect_err("long")),
            "note"
        );
        let w1 = user(store, "w1", Role::VillageStaff, &w);
        assert!(matches!(
            v::record_visit(
                &mut c,
                &w1,
                t8,
                &visit(VisitOutcome::InPerson, "2026-02-20"),
                today
            ),
            Err(StoreError::NotFound { .. })
        ));

        // Progress on the 26th (due the 25th): v1 3 due, 2 visited, E8 overdue;
        // v2 2 due (unassigned), E9 visited, E6 overdue.
        let pr = v::progress(&mut c, &town_staff, "2026-02", today).expect("progress");
        assert_eq!(pr.len(), 2);
        let p1 = pr.iter().find(|p| p.area_code == v1).expect("v1");
        assert_eq!(
            (
                p1.due,
                p1.visited,
                p1.attempted,
                p1.open,
                p1.overdue,
                p1.unassigned
            ),
            (3, 2, 0, 1, 1, 0)
        );
        let p2 = pr.iter().find(|p| p.area_code == v2).expect("v2");
        assert_eq!(
            (p2.due, p2.visited, p2.open, p2.overdue, p2.unassigned),
            (2, 1, 1, 1, 2)
        );
        // On the 20th nothing was overdue yet.
        let early = v::progress(&mut c, &town_staff, "2026-02", d("2026-02-20")).expect("early");
        assert!(early.iter().all(|p| p.overdue == 0));
        let overdue = v::list_tasks(
            &mut c,
            &town_staff,
            &TaskQuery {
                overdue_only: true,
                limit: 100,
                ..Default::default()
            },
            today,
        )
        .expect("overdue");
        let mut ids: Vec<_> = overdue.iter().map(|t| t.person_id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["E6", "E8"]);

        // Worklists: v1a has E8 overdue; the town E6 and E8, and the follow-up.
        let wl = v::work_items_with(&mut c, &v1a, today, 80).expect("v1a worklist");
        let line = |wl: &[laoxiao_store::worklist::WorkItem], k: &str| {
            wl.iter().find(|i| i.key == k).map(|i| i.count)
        };
        assert_eq!(line(&wl, "visits_overdue"), Some(1));
        assert_eq!(line(&wl, "visits_due"), None);
        assert_eq!(line(&wl, "visit_followups_open"), None);
        let wl = v::work_items_with(&mut c, &town_staff, today, 80).expect("town worklist");
        assert_eq!(line(&wl, "visits_overdue"), Some(2));
        assert_eq!(line(&wl, "visit_followups_open"), Some(1));
        assert!(wl[0].urgent);

        // The follow-up: listed for the town, closed by town staff only.
        let fu = v::list_followups(&mut c, &town_staff, true, 50).expect("followups");
        assert_eq!(fu.len(), 1);
        assert_eq!(fu[0].need, "燃气灶老化，需更换");
        assert!(
            v::list_followups(&mut c, &w1, true, 50)
                .expect("w1")
                .is_empty()
        );
        assert!(matches!(
            v::close_followup(&mut c, &v1a, &fu[0].id, "已更换"),
            Err(StoreError::Forbidden(_))
        ));
        assert_eq!(
            field(v::close_followup(&mut c, &town_staff, &fu[0].id, " ").expect_err("blank")),
            "note"
        );
        let done =
            v::close_followup(&mut c, &town_staff, &fu[0].id, "已联系燃气公司更换").expect("close");
        assert!(!done.open);
        assert_eq!(done.done_by.as_deref(), Some("t1"));
        assert!(matches!(
            v::close_followup(&mut c, &town_staff, &fu[0].id, "again"),
            Err(StoreError::Conflict(_))
        ));
        // Every write audited.
        let n = c
            .query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action IN ('visit_rounds_generate', 'visit_record', 'visit_followup_close')",
                &[],
            )
            .expect("audit");
        // 3 generations (the refused one wrote nothing), 3 recordings, 1 close.
        assert_eq!(n, 7);
    }
}

#[test]
fn home_care_beds_record_services_and_complete() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let today = d("2026-03-05");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let h = Facility::blank(
            "H1",
            "居家养老服务中心",
            FacilityKind::TownHomeCareCenter,
            &town,
        );
        let h2 = Facility::blank("H2", "另一中心", FacilityKind::TownHomeCareCenter, &town);
        for f in [&h, &h2] {
            facilities::create(&mut c, r, &sys, f).expect("provider");
        }
        people::create(&mut c, r, &sys, &elderly("E1", &village, 1, &[])).expect("person");
        let ck = store.checker();
        for (id, f) in [("S1", "H1"), ("S2", "H2")] {
            registry::create(
                &mut c,
                &ck,
                &sys,
                &Staff {
                    id: id.into(),
                    facility_id: f.into(),
                    role: StaffRole::Other,
                    name: "张某".into(),
                    certified: false,
                    certificate: None,
                    skill_grade: laoxiao_model::activity::SkillGrade::Ungraded,
                    hired_date: d("2024-01-01"),
                    left_date: None,
                    health_check_date: None,
                },
                today,
            )
            .expect("staff");
        }
        let k = HomeCareContract {
            id: "K1".into(),
            person_id: "E1".into(),
            facility_id: "H1".into(),
            service_plan: "助浴每周一次，康复训练".into(),
            hours_per_month: 10,
            devices: Some("紧急呼叫按钮".into()),
            start_date: d("2026-01-01"),
            end_date: None,
        };
        registry::create(&mut c, &ck, &sys, &k, today).expect("contract");
        let operator = Scope::user(
            Actor {
                user: "op1".into(),
                ip: None,
            },
            Role::FacilityOperator,
            &r.areas.get(&town).expect("town").path,
            Some("H1".into()),
        );
        let other = Scope::user(
            Actor {
                user: "op2".into(),
                ip: None,
            },
            Role::FacilityOperator,
            &r.areas.get(&town).expect("town").path,
            Some("H2".into()),
        );
        let s = |date: &str, minutes: i64, staff: Option<&str>| ServiceInput {
            date: d(date),
            minutes,
            services: "助浴".into(),
            staff_id: staff.map(str::to_string),
        };
        // January: 600 of 600 minutes; February: 240 + 230 = 470 of 600 = 78.3 %.
        v::record_service(
            &mut c,
            &operator,
            "K1",
            &s("2026-01-15", 600, Some("S1")),
            today,
        )
        .expect("jan");
        v::record_service(
            &mut c,
            &operator,
            "K1",
            &s("2026-02-03", 240, Some("S1")),
            today,
        )
        .expect("feb 1");
        let sv = v::record_service(&mut c, &operator, "K1", &s("2026-02-10", 230, None), today)
            .expect("feb 2");
        assert_eq!(sv.id, "HV-K1-3");
        let rec =
            activity::get::<laoxiao_model::ServiceRecord>(&mut c, &sys, &sv.service_record_id)
                .expect("record");
        assert_eq!(
            (rec.kind, rec.facility_id.as_deref()),
            (ServiceKind::HomeCareBed, Some("H1"))
        );
        // Refused: another provider's operator (404), bad minutes, a staff
        // member of another provider, a date before the contract.
        assert!(matches!(
            v::record_service(&mut c, &other, "K1", &s("2026-02-11", 60, None), today),
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            field(
                v::record_service(&mut c, &operator, "K1", &s("2026-02-11", 0, None), today)
                    .expect_err("0")
            ),
            "minutes"
        );
        assert_eq!(
            field(
                v::record_service(
                    &mut c,
                    &operator,
                    "K1",
                    &s("2026-02-11", 60, Some("S2")),
                    today
                )
                .expect_err("s2")
            ),
            "staff_id"
        );
        assert_eq!(
            field(
                v::record_service(&mut c, &operator, "K1", &s("2025-12-31", 60, None), today)
                    .expect_err("early")
            ),
            "date"
        );
        assert_eq!(
            v::list_services(&mut c, &operator, "K1")
                .expect("list")
                .len(),
            3
        );

        let feb = v::completion(&mut c, &sys, d("2026-02-01")).expect("feb");
        assert_eq!(feb.len(), 1);
        assert_eq!(
            (feb[0].planned_minutes, feb[0].delivered_minutes),
            (600, 470)
        );
        assert!((feb[0].percent - 78.3).abs() < 1e-9);
        let jan = v::completion(&mut c, &operator, d("2026-01-01")).expect("jan");
        assert!((jan[0].percent - 100.0).abs() < 1e-9);
        assert!(
            v::completion(&mut c, &other, d("2026-02-01"))
                .expect("other")
                .is_empty()
        );
        // On 5 March, February under 80 % is on the worklist; at 78 % it is not.
        let line = |wl: Vec<laoxiao_store::worklist::WorkItem>| {
            wl.iter()
                .find(|i| i.key == "home_care_below_plan")
                .map(|i| i.count)
        };
        assert_eq!(
            line(v::work_items_with(&mut c, &operator, today, 80).expect("wl")),
            Some(1)
        );
        assert_eq!(
            line(v::work_items_with(&mut c, &operator, today, 78).expect("wl")),
            None
        );
        let n = c
            .query_i64(
                "SELECT COUNT(*) FROM service_record WHERE kind = 'home_care_bed'",
                &[],
            )
            .expect("n");
        assert_eq!(n, 3);
    }
}
