//! Subsidy runs over a real database (both backends): a draft prepared from
//! the registers, reviewed by a second account, exported and paid; a paid
//! run that never changes (the database refuses it); an award that is never
//! paid twice; a late death that becomes an adjustment; a county that sees
//! its own lines only; explain; what-if; loaded incomes.

use chrono::NaiveDate;
use laoxiao_model::facility::{ClassType, FilingStatus, Rating};
use laoxiao_model::person::{PersonStatus, Sex};
use laoxiao_model::{ChildcareClass, Facility, FacilityKind, Person, PersonRole};
use laoxiao_rules::subsidies::{LineKind, Period};
use laoxiao_store::io::ExportFormat;
use laoxiao_store::subsidies::{self as sub, LineQuery, Status};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::{Role, Scope, StoreError, facilities, people};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn user(store: &laoxiao_store::Store, name: &str, role: Role, code: &str) -> Scope {
    laoxiao_store::testdb::user(store, name, role, code, None)
}

fn centenarian(id: &str, area: &str, seq: u16) -> Person {
    let b = d("1920-03-01");
    let mut p = Person::blank(id, PersonRole::Elderly, area, b, Sex::Female);
    p.id_number = laoxiao_model::idcard::make(&area[..6], b, seq);
    p.name = "王某某".into();
    p.hukou_area_code = Some(area[..6].to_string());
    p
}

fn p(s: &str) -> Period {
    Period::parse(s).expect("period")
}

fn frozen(e: StoreError) -> bool {
    e.to_string().contains("frozen")
}

#[test]
fn a_run_is_reviewed_paid_once_frozen_and_corrected() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let other_town = r.areas.children("330481")[0].code.clone();
        // A 5A village station valid through 2026, a filed childcare
        // institution with two classes, a sunflower hut, two centenarians.
        let mut st = Facility::blank("V1", "照料中心", FacilityKind::VillageCareStation, &village);
        (st.rating, st.rating_valid_from, st.rating_valid_until) = (
            Some(Rating::A5),
            Some(d("2024-01-01")),
            Some(d("2026-12-31")),
        );
        facilities::create(&mut c, r, &sys, &st).expect("station");
        let mut inst = Facility::blank(
            "C1",
            "托育园",
            FacilityKind::ChildcareInstitution,
            &other_town,
        );
        (inst.filing_status, inst.filing_date) = (FilingStatus::Filed, Some(d("2025-03-01")));
        inst.approved_slots = Some(30);
        let classes: Vec<ChildcareClass> = [
            ("C1-1", ClassType::InfantClass, 10),
            ("C1-2", ClassType::OlderToddlerClass, 20),
        ]
        .into_iter()
        .map(|(id, t, cap)| ChildcareClass {
            id: id.into(),
            facility_id: "C1".into(),
            class_type: t,
            capacity: cap,
            ..Default::default()
        })
        .collect();
        facilities::create_with_classes(&mut c, r, &sys, &inst, &classes, &[])
            .expect("institution");
        let hut = Facility::blank("S1", "亲子小屋", FacilityKind::SunflowerHut, &village);
        facilities::create(&mut c, r, &sys, &hut).expect("hut");
        // A hut whose award was paid before the platform: recorded, never paid again.
        let old_hut = Facility::blank("S0", "老小屋", FacilityKind::SunflowerHut, &village);
        facilities::create(&mut c, r, &sys, &old_hut).expect("old hut");
        let imported = sub::import_paid_awards(
            &mut c,
            &sys,
            &[sub::PaidAward {
                award_key: "sunflower_construction:S0".into(),
                amount_fen: 1_000_000,
                paid_on: d("2021-09-01"),
                source: "2021年奖补文件".into(),
            }],
            d("2025-01-01"),
        )
        .expect("import");
        assert_eq!(
            (imported.status, imported.total_fen),
            (Status::Paid, 1_000_000)
        );
        let p1 = people::create(&mut c, r, &sys, &centenarian("P1", &village, 2)).expect("p1");
        people::create(&mut c, r, &sys, &centenarian("P2", &village, 4)).expect("p2");

        let a = user(store, "alice", Role::CityAdmin, "330400");
        let b = user(store, "bob", Role::CityAdmin, "330400");
        let county = user(store, "carol", Role::CountyAdmin, "330481");
        let nanhu = user(store, "dave", Role::CountyAdmin, "330402");

        // Only a city-wide account with the permission prepares.
        assert!(matches!(
            sub::prepare(&mut c, &county, p("2025-06")),
            Err(StoreError::Forbidden(_))
        ));
        let (run, _) = sub::prepare(&mut c, &a, p("2025-06")).expect("prepare");
        assert_eq!(run.status, Status::Draft);
        // 2 centenarians × 600, 2 class awards × 50,000, the hut's 10,000.
        assert_eq!(
            run.total_fen,
            (2 * 600 + 2 * 50_000 + 10_000) * 100,
            "{run:?}"
        );
        assert_eq!(run.line_count, 5);
        // Preparing again replaces the draft with the same lines (idempotent).
        let (again, _) = sub::prepare(&mut c, &a, p("2025-06")).expect("again");
        assert_eq!(
            (again.id, again.total_fen, again.line_count),
            (run.id, run.total_fen, run.line_count)
        );
        assert_eq!(again.snapshot_digest, run.snapshot_digest);
        // Four eyes: the preparer cannot approve; a county cannot either.
        assert!(matches!(
            sub::review(&mut c, &a, run.id, true, None),
            Err(StoreError::Forbidden(_))
        ));
        assert!(matches!(
            sub::review(&mut c, &county, run.id, true, None),
            Err(StoreError::Forbidden(_))
        ));
        let approved = sub::review(&mut c, &b, run.id, true, Some("核对无误")).expect("approve");
        assert_eq!(
            (approved.status, approved.reviewed_by.as_deref()),
            (Status::Approved, Some("bob"))
        );
        // An approved run is not recomputed, and its lines cannot be touched.
        assert!(matches!(
            sub::prepare(&mut c, &a, p("2025-06")),
            Err(StoreError::Conflict(_))
        ));
        let e = c
            .execute(
                "UPDATE subsidy_line SET amount_fen = 1 WHERE run_id = $1",
                &[run.id.into()],
            )
            .expect_err("approved lines are frozen");
        assert!(frozen(e));

        // The payout list: Chinese headers, every line, totals.
        let csv = sub::excel::payout_list(&mut c, &a, run.id, ExportFormat::Csv).expect("csv");
        let text = String::from_utf8(csv).expect("utf-8");
        assert!(
            text.contains("金额（元）") && text.contains("合计,total,合计,5,111200.00"),
            "{text}"
        );
        let xlsx = sub::excel::payout_list(&mut c, &a, run.id, ExportFormat::Xlsx).expect("xlsx");
        assert!(xlsx.starts_with(b"PK"));

        // Paid: the awards enter the ledger; the run never changes again.
        let paid = sub::mark_paid(&mut c, &b, run.id).expect("paid");
        assert_eq!(paid.status, Status::Paid);
        for sql in [
            "UPDATE subsidy_run SET total_fen = 0 WHERE id = $1",
            "DELETE FROM subsidy_run WHERE id = $1",
            "DELETE FROM subsidy_line WHERE run_id = $1",
            "DELETE FROM subsidy_award WHERE run_id = $1",
        ] {
            let e = c.execute(sql, &[run.id.into()]).expect_err(sql);
            assert!(frozen(e), "{sql}");
        }
        assert_eq!(
            sub::run(&mut c, &a, run.id).expect("run").total_fen,
            run.total_fen
        );
        assert!(matches!(
            sub::mark_paid(&mut c, &b, run.id),
            Err(StoreError::Conflict(_))
        ));

        // July: the awards are not paid again.
        let (july, _) = sub::prepare(&mut c, &a, p("2025-07")).expect("july");
        assert_eq!(july.total_fen, 2 * 600 * 100, "{july:?}");

        // A death registered late (died 20 May): June's payment comes back
        // as an adjustment, July is not paid, and the paid run is unchanged.
        let mut dead = p1.clone();
        (dead.status, dead.death_date) = (PersonStatus::Deceased, Some(d("2025-05-20")));
        people::update(&mut c, r, &sys, &dead).expect("death");
        let (july, _) = sub::prepare(&mut c, &a, p("2025-07")).expect("july again");
        let lines = sub::lines(&mut c, &a, july.id, &LineQuery::default())
            .expect("lines")
            .items;
        let adj: Vec<_> = lines
            .iter()
            .filter(|l| l.line.kind == LineKind::Adjustment)
            .collect();
        assert_eq!(adj.len(), 1, "{lines:#?}");
        assert_eq!(
            (
                adj[0].line.period.as_str(),
                adj[0].line.amount_fen,
                adj[0].line.subject_id.as_str()
            ),
            ("2025-06", -60_000, "P1")
        );
        assert_eq!(
            july.total_fen,
            600 * 100 - 600 * 100,
            "P2's July less P1's June"
        );
        assert_eq!(
            sub::run(&mut c, &a, run.id).expect("run").total_fen,
            run.total_fen
        );

        // Two drafts holding one award: once one is paid, the other cannot be.
        let hut2 = Facility::blank("S2", "新小屋", FacilityKind::SunflowerHut, &village);
        facilities::create(&mut c, r, &sys, &hut2).expect("hut 2");
        let (aug, _) = sub::prepare(&mut c, &a, p("2025-08")).expect("aug");
        let (sep, _) = sub::prepare(&mut c, &a, p("2025-09")).expect("sep");
        for id in [aug.id, sep.id] {
            sub::review(&mut c, &b, id, true, None).expect("approve");
        }
        sub::mark_paid(&mut c, &b, aug.id).expect("pay august");
        let e = sub::mark_paid(&mut c, &b, sep.id).expect_err("the award was paid in August");
        assert!(e.to_string().contains("sunflower_construction:S2"), "{e}");
        assert_eq!(
            sub::run(&mut c, &a, sep.id).expect("sep").status,
            Status::Approved
        );
        let awards = c
            .query_i64(
                "SELECT COUNT(*) FROM subsidy_award WHERE award_key = 'sunflower_construction:S2'",
                &[],
            )
            .expect("count");
        assert_eq!(awards, 1);

        // A county sees its own lines only; another county's line is not found.
        let all = sub::lines(&mut c, &a, run.id, &LineQuery::default())
            .expect("all")
            .items;
        let mine = sub::lines(&mut c, &county, run.id, &LineQuery::default())
            .expect("county")
            .items;
        assert!(!mine.is_empty() && mine.iter().all(|l| l.line.county_code == "330481"));
        assert!(mine.len() < all.len());
        let foreign = all
            .iter()
            .find(|l| l.line.county_code == "330402")
            .expect("a 南湖 line");
        assert!(matches!(
            sub::line(&mut c, &county, run.id, foreign.line_no),
            Err(StoreError::NotFound { .. })
        ));
        let t = sub::totals(&mut c, &nanhu, run.id).expect("totals");
        assert!(t.by_county.iter().all(|s| s.key == "330402"));
        // Roles without the permission read nothing.
        let analyst = user(store, "erin", Role::Analyst, "330400");
        assert!(matches!(
            sub::runs(&mut c, &analyst),
            Err(StoreError::Forbidden(_))
        ));

        // Explain: the parameters with their clauses, the inputs, the arithmetic.
        let e = sub::explain(&mut c, &a, "P2", p("2025-07")).expect("explain");
        let l = &e.now[0];
        assert!(
            l.explanation
                .params
                .iter()
                .any(|p| p.name == "centenarian.monthly" && p.clause.contains("600元"))
        );
        assert!(
            l.explanation
                .inputs
                .iter()
                .any(|i| i.name == "birth_date" && i.value == "1920-03-01")
        );
        assert_eq!(e.stored.len(), 1);

        // What-if: 600 → 800 from 2026 costs 200 × 12 more for the one
        // centenarian left, half of it the city's (南湖).
        let w = sub::whatif(&mut c, &a, 2026, sub::EXAMPLE_CENTENARIAN_800).expect("whatif");
        assert_eq!(w.total.difference_fen, 200 * 12 * 100, "{:?}", w.total);
        assert_eq!(
            w.total.reform_city_fen - w.total.baseline_city_fen,
            100 * 12 * 100
        );
        assert_eq!(w.by_month.len(), 12);
        let bad = sub::whatif(
            &mut c,
            &a,
            2026,
            "[[parameter]]\nname = \"nope\"\nvalues = [{ from = \"2026-01-01\", value = 1 }]",
        );
        assert!(matches!(bad, Err(StoreError::Invalid(_))));

        // Loaded incomes replace the placeholders; a wrong county is refused by row.
        let e = sub::set_income(
            &mut c,
            &a,
            &[("330400".into(), 2024, 80_000, "统计公报".into())],
        )
        .expect_err("city");
        assert!(e.to_string().contains("row 1"), "{e}");
        sub::set_income(
            &mut c,
            &a,
            &[("330481".into(), 2024, 80_000, "2024年海宁市统计公报".into())],
        )
        .expect("income");
        let params = sub::params(&mut c).expect("params");
        let (v, used) = params
            .int("income.per_capita_disposable.330481", d("2024-07-01"))
            .expect("income");
        assert_eq!((v, used.placeholder), (80_000, false));
        assert!(used.clause.contains("海宁市统计公报"));
    }
}
