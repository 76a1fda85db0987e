//! Random inspections (双随机、一公开) over a real database (both backends).
//! The fixture: county 南湖区 (330402) with care homes F1, F2, F3 in three
//! different towns and a childcare institution C1 in F1's town; inspectors
//! i1, i2, i3 living in those three towns and i4 at the county (no town).
//! Every facility therefore has three inspectors free of the town conflict.
//! F3 has three complaints this month, so it is flagged for an unplanned
//! inspection (complaint.repeat_threshold = 3).

use chrono::{DateTime, NaiveDate, Utc};
use laoxiao_model::{Facility, FacilityKind};
use laoxiao_rules::inspections::checklists::{Outcome, Verdict};
use laoxiao_rules::inspections::draw::{self as dr, TargetKind};
use laoxiao_store::inspections::{
    self as ins, Kind, NewPlan, RecordInput, RectStatus, Status, town_of,
};
use laoxiao_store::testdb::{TestDb, user};
use laoxiao_store::{Role, Scope, StoreError, facilities};

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

/// Every item of the inspection's checklist passes, but those named fail.
fn outcomes(i: &ins::Inspection, failing: &[&str]) -> Vec<(String, String, Option<String>)> {
    i.items
        .iter()
        .map(|x| {
            let fail = failing.contains(&x.code.as_str());
            (
                x.code.clone(),
                if fail { "fail" } else { "pass" }.to_string(),
                fail.then(|| "现场检查发现问题".to_string()),
            )
        })
        .collect()
}

#[test]
fn a_draw_is_reproducible_and_an_inspection_is_rectified_and_reinspected() {
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let towns: Vec<String> = r
            .areas
            .children("330402")
            .iter()
            .take(3)
            .map(|a| a.code.clone())
            .collect();
        for (id, kind, town) in [
            ("F1", FacilityKind::ElderlyInstitution, &towns[0]),
            ("F2", FacilityKind::ElderlyInstitution, &towns[1]),
            ("F3", FacilityKind::ElderlyInstitution, &towns[2]),
            ("C1", FacilityKind::ChildcareInstitution, &towns[0]),
        ] {
            facilities::create(&mut c, r, &sys, &Facility::blank(id, id, kind, town))
                .expect("facility");
        }
        for (name, area) in [
            ("i1", towns[0].as_str()),
            ("i2", towns[1].as_str()),
            ("i3", towns[2].as_str()),
            ("i4", "330402"),
        ] {
            laoxiao_store::accounts::create_user(
                &mut c,
                r,
                &sys,
                name,
                Role::Inspector,
                area,
                None,
                "inspector-pass-1",
            )
            .expect("inspector");
        }
        let county = user(store, "nanhu", Role::CountyAdmin, "330402", None);
        let other_county = user(store, "xiuzhou", Role::CountyAdmin, "330411", None);
        let t0 = at("2026-03-02T09:00:00Z");
        // Three complaints about F3 this month flag it (须安排不定期检查).
        for n in 0..3 {
            laoxiao_store::complaints::file(
                &mut c,
                r,
                &sys,
                &laoxiao_store::complaints::NewComplaint {
                    facility_id: Some("F3".into()),
                    category: "safety".into(),
                    body: format!("投诉 {n}"),
                    source: Some(laoxiao_store::complaints::Source::Staff),
                    ..Default::default()
                },
                t0 - chrono::Duration::days(n + 1),
            )
            .expect("complaint");
        }

        // ---- a plan: bad input names its fields; another county's area is refused.
        let e = ins::create_plan(
            &mut c,
            r,
            &county,
            &NewPlan {
                title: " ".into(),
                area_code: "330411".into(),
                period: "x".repeat(30),
                kinds: vec!["bakery".into()],
                ratio_percent: Some(0),
                inspectors_per_inspection: Some(1),
                include_flagged: false,
            },
            t0,
        )
        .expect_err("bad plan");
        let mut f = fields(e);
        f.sort();
        assert_eq!(
            f,
            [
                "area_code",
                "inspectors_per_inspection",
                "kinds",
                "period",
                "ratio_percent",
                "title"
            ]
        );
        let plan = ins::create_plan(
            &mut c,
            r,
            &county,
            &NewPlan {
                title: "2026年一季度双随机抽查".into(),
                area_code: "330402".into(),
                period: "2026-Q1".into(),
                kinds: vec![],
                ratio_percent: Some(50),
                inspectors_per_inspection: None,
                include_flagged: true,
            },
            t0,
        )
        .expect("plan");
        assert_eq!(
            plan.inspectors_per_inspection, 2,
            "国办发〔2015〕58号: at least 2"
        );
        assert_eq!(plan.status, "draft");
        assert!(matches!(
            ins::get_plan(&mut c, r, &other_county, &plan.id),
            Err(StoreError::NotFound { .. })
        ));
        // Drawing before the commitment is refused.
        assert_eq!(
            fields(ins::draw(&mut c, r, &county, &plan.id, t0).expect_err("no commit")),
            ["status"]
        );

        // ---- the commitment: rosters frozen, the seed hidden, its hash public.
        let committed = ins::commit(&mut c, r, &county, &plan.id, None, t0).expect("commit");
        assert_eq!(committed.status, "committed");
        assert!(committed.seed.is_none());
        let ids: Vec<&str> = committed
            .roster
            .facilities
            .iter()
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(ids, ["C1", "F1", "F2", "F3"]);
        assert_eq!(committed.roster.facilities_to_draw, 2, "⌈4 × 50%⌉");
        let unplanned: Vec<&str> = committed
            .roster
            .unplanned
            .iter()
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(unplanned, ["F3"], "flagged by repeated complaints");
        let pool: Vec<(&str, &str)> = committed
            .roster
            .inspectors
            .iter()
            .map(|e| (e.id.as_str(), e.town.as_str()))
            .collect();
        assert_eq!(
            pool,
            [
                ("i1", towns[0].as_str()),
                ("i2", towns[1].as_str()),
                ("i3", towns[2].as_str()),
                ("i4", "")
            ]
        );
        assert_eq!(
            committed.roster_digest,
            dr::roster_digest(&committed.roster)
        );

        // ---- the draw: the seed revealed matches the commitment, and
        // re-running the published document gives the same result.
        let drawn = ins::draw(&mut c, r, &county, &plan.id, t0).expect("draw");
        assert_eq!(drawn.status, "drawn");
        assert_eq!(drawn.commit, committed.commit);
        let v = dr::verify(&drawn);
        assert!(v.ok(), "{:?}", v.problems);
        let again = dr::draw(drawn.seed.as_deref().expect("seed"), &drawn.roster).expect("re-run");
        assert_eq!(again, drawn.result);
        // A tampered document fails.
        let mut bad = drawn.clone();
        bad.result.swap(0, 1);
        assert!(!dr::verify(&bad).ok());
        let n_random = drawn
            .result
            .iter()
            .filter(|a| a.kind == TargetKind::Random)
            .count();
        assert_eq!(n_random, 2);
        assert!(drawn.result.iter().any(|a| a.facility_id == "F3"));
        for a in &drawn.result {
            assert_eq!(a.inspectors.len(), 2);
            let f_town = drawn
                .roster
                .facilities
                .iter()
                .find(|e| e.id == a.facility_id)
                .expect("on the roster")
                .town
                .clone();
            for i in &a.inspectors {
                let i_town = &drawn
                    .roster
                    .inspectors
                    .iter()
                    .find(|e| &e.id == i)
                    .expect("in the pool")
                    .town;
                assert_ne!(i_town, &f_town, "recusal: same town");
            }
        }
        // Drawing twice is a conflict; a new commitment needs a reason.
        assert!(matches!(
            ins::draw(&mut c, r, &county, &plan.id, t0),
            Err(StoreError::Conflict(_))
        ));
        assert_eq!(
            fields(ins::commit(&mut c, r, &county, &plan.id, None, t0).expect_err("no reason")),
            ["reason"]
        );
        let detail = ins::get_plan(&mut c, r, &county, &plan.id).expect("detail");
        assert_eq!(detail.plan.status, "drawn");
        assert_eq!(detail.inspections.len(), drawn.result.len());

        // ---- an inspection: only its drawn inspectors record it.
        let target = &drawn.result[0];
        let insp = detail
            .inspections
            .iter()
            .find(|i| i.facility_id == target.facility_id)
            .expect("inspection")
            .clone();
        let drawn_inspector = &target.inspectors[0];
        let home = drawn
            .roster
            .inspectors
            .iter()
            .find(|e| &e.id == drawn_inspector)
            .expect("pool")
            .town
            .clone();
        let me = user(
            store,
            drawn_inspector,
            Role::Inspector,
            if home.is_empty() { "330402" } else { &home },
            None,
        );
        let outsider = ["i1", "i2", "i3", "i4"]
            .into_iter()
            .find(|n| !target.inspectors.iter().any(|x| x == n))
            .expect("an inspector not drawn");
        let not_me = user(store, outsider, Role::Inspector, "330402", None);
        assert!(matches!(
            ins::get(&mut c, &not_me, &insp.id, t0),
            Err(StoreError::NotFound { .. })
        ));
        let mine = ins::list(&mut c, &me, None).expect("mine");
        assert!(mine.iter().any(|i| i.id == insp.id));
        let full = ins::get(&mut c, &me, &insp.id, t0).expect("get");
        assert!(full.can_record && !full.can_publish);
        assert!(full.checklist_draft, "the checklist items are drafts");
        // Missing items and a bad outcome are named.
        let mut partial = outcomes(&full, &[]);
        let dropped = partial.pop().expect("an item").0;
        partial[0].1 = "maybe".into();
        let e = ins::record(
            &mut c,
            &me,
            &insp.id,
            &RecordInput {
                items: partial,
                ..Default::default()
            },
            t0,
        )
        .expect_err("incomplete");
        let f = fields(e);
        assert!(f.contains(&format!("items.{dropped}")), "{f:?}");
        assert!(
            f.contains(&format!("items.{}", full.items[0].code)),
            "{f:?}"
        );
        // One item that is not critical fails: 基本合格 and a rectification order.
        let minor = full
            .items
            .iter()
            .find(|i| !i.critical)
            .expect("a minor item")
            .code
            .clone();
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("day");
        let rec = ins::record(
            &mut c,
            &me,
            &insp.id,
            &RecordInput {
                items: outcomes(&full, &[&minor]),
                note: Some("整体运行正常".into()),
                inspected_on: Some(day),
                rectification_days: None,
            },
            t0,
        )
        .expect("record");
        assert_eq!(rec.row.status, Status::Recorded);
        assert_eq!(rec.row.verdict, Some(Verdict::BasicPass));
        let rect = rec.rectification.clone().expect("an order");
        assert_eq!(rect.items, std::slice::from_ref(&minor));
        assert_eq!(
            rect.due, "2026-03-31",
            "30 days (inspection.rectification_days)"
        );
        assert_eq!(rect.status, RectStatus::Open);
        assert!(matches!(
            ins::record(&mut c, &me, &insp.id, &RecordInput::default(), t0),
            Err(StoreError::Conflict(_))
        ));

        // ---- the operator sees its result and reports the rectification.
        let op = user(
            store,
            "op",
            Role::FacilityOperator,
            &town_of(&insp.area_path),
            Some(&insp.facility_id),
        );
        let other_op = user(store, "op2", Role::FacilityOperator, &towns[0], Some("C1"));
        let theirs = ins::list(&mut c, &op, None).expect("operator list");
        assert_eq!(theirs.len(), 1);
        if insp.facility_id != "C1" {
            assert!(matches!(
                ins::report_rectified(&mut c, &other_op, &rect.id, "已整改", t0),
                Err(StoreError::NotFound { .. })
            ));
        }
        assert_eq!(
            fields(ins::report_rectified(&mut c, &op, &rect.id, " ", t0).expect_err("empty")),
            ["note"]
        );
        let reported =
            ins::report_rectified(&mut c, &op, &rect.id, "已补充公示收费标准", t0).expect("report");
        assert_eq!(reported.status, RectStatus::Reported);

        // ---- the county publishes; the public read has no person in it.
        assert!(
            ins::published_results(&mut c, "/330400/330402/")
                .expect("public")
                .is_empty()
        );
        assert!(matches!(
            ins::publish(&mut c, &me, &insp.id, t0),
            Err(StoreError::Forbidden(_))
        ));
        ins::publish(&mut c, &county, &insp.id, t0).expect("publish");
        let public = ins::published_results(&mut c, "/330400/330402/").expect("public");
        assert_eq!(public.len(), 1);
        assert_eq!(public[0].verdict, Verdict::BasicPass);
        assert_eq!(public[0].failed_items.len(), 1);
        assert_eq!(public[0].rectification_due.as_deref(), Some("2026-03-31"));
        let text = serde_json::to_string(&public).expect("json");
        // No inspector, no note: only public fields.
        for word in [
            "\"i1\"",
            "\"i2\"",
            "\"i3\"",
            "\"i4\"",
            "整体运行正常",
            "现场检查发现问题",
            "inspectors",
        ] {
            assert!(!text.contains(word), "{word} in {text}");
        }
        assert_eq!(
            ins::latest_result(&mut c, &insp.facility_id)
                .expect("latest")
                .map(|v| v.0),
            Some(Verdict::BasicPass)
        );
        // Not yet overdue, not failed: no subsidy hold.
        let t1 = at("2026-03-20T09:00:00Z");
        assert!(
            ins::subsidy_holds(&mut c, "/330400/330402/", t1.date_naive())
                .expect("holds")
                .is_empty()
        );

        // ---- re-inspection by the same inspectors closes the order.
        let re = ins::reinspect(&mut c, &county, &rect.id, t1).expect("reinspect");
        assert_eq!(re.row.kind, Kind::Reinspection);
        assert_eq!(re.row.inspectors, {
            let mut v = target.inspectors.clone();
            v.sort();
            v
        });
        assert_eq!(re.rectification_checked.as_deref(), Some(rect.id.as_str()));
        assert!(matches!(
            ins::reinspect(&mut c, &county, &rect.id, t1),
            Err(StoreError::Conflict(_))
        ));
        let re_full = ins::get(&mut c, &me, &re.row.id, t1).expect("re get");
        let closed = ins::record(
            &mut c,
            &me,
            &re.row.id,
            &RecordInput {
                items: outcomes(&re_full, &[]),
                ..Default::default()
            },
            t1,
        )
        .expect("re record");
        assert_eq!(closed.row.verdict, Some(Verdict::Pass));
        assert!(closed.rectification.is_none());
        let orders = ins::rectifications(&mut c, &county, false, t1).expect("orders");
        let o = orders.iter().find(|o| o.id == rect.id).expect("order");
        assert_eq!(o.status, RectStatus::Closed);
        assert!(!o.overdue);

        // ---- a critical failure: 不合格, and the facility is held from subsidies.
        let second = detail
            .inspections
            .iter()
            .find(|i| i.id != insp.id)
            .expect("second")
            .clone();
        let s_target = drawn
            .result
            .iter()
            .find(|a| a.facility_id == second.facility_id)
            .expect("target");
        let s_me = user(
            store,
            &s_target.inspectors[0],
            Role::Inspector,
            "330402",
            None,
        );
        let s_full = ins::get(&mut c, &s_me, &second.id, t1).expect("get 2");
        let critical = s_full
            .items
            .iter()
            .find(|i| i.critical)
            .expect("critical")
            .code
            .clone();
        let failed = ins::record(
            &mut c,
            &s_me,
            &second.id,
            &RecordInput {
                items: outcomes(&s_full, &[&critical]),
                rectification_days: Some(7),
                ..Default::default()
            },
            t1,
        )
        .expect("record 2");
        assert_eq!(failed.row.verdict, Some(Verdict::Fail));
        assert_eq!(
            failed
                .items
                .iter()
                .filter(|i| i.outcome == Outcome::Fail)
                .count(),
            1
        );
        ins::publish(&mut c, &county, &second.id, t1).expect("publish 2");
        let holds = ins::subsidy_holds(&mut c, "/330400/330402/", t1.date_naive()).expect("holds");
        assert_eq!(holds.len(), 1);
        assert_eq!(holds[0].facility_id, second.facility_id);
        assert_eq!(holds[0].reason, "failed_inspection");
        // Overdue once past its 7 days.
        let late = at("2026-04-01T09:00:00Z");
        let overdue = ins::rectifications(&mut c, &county, true, late).expect("overdue");
        assert_eq!(overdue.len(), 1);
        assert!(overdue[0].overdue);

        // ---- a new draw after publication: only with a reason; the old one
        // stays, superseded, with who, when and why, and still verifies.
        // With last time's pairings the pool is too small for the facility
        // inspected (its town's inspector and its two inspectors stand aside):
        // refused before any commitment, naming the facility.
        let e = ins::commit(&mut c, r, &county, &plan.id, Some("重新抽取"), late)
            .expect_err("too few inspectors free of conflict");
        assert_eq!(fields(e), ["inspectors"]);
        assert_eq!(
            ins::get_plan(&mut c, r, &county, &plan.id)
                .expect("plan")
                .draws
                .len(),
            1,
            "nothing written"
        );
        laoxiao_store::accounts::create_user(
            &mut c,
            r,
            &sys,
            "i5",
            Role::Inspector,
            "330402",
            None,
            "inspector-pass-1",
        )
        .expect("a fifth inspector");
        let redo = ins::commit(
            &mut c,
            r,
            &county,
            &plan.id,
            Some("一名检查人员调离，重新抽取"),
            late,
        )
        .expect("redo");
        // Last time's pairings are frozen into the new roster (recusal).
        assert!(
            redo.roster
                .previous
                .iter()
                .any(|p| p.facility_id == insp.facility_id
                    && target.inspectors.contains(&p.inspector_id))
        );
        let detail = ins::get_plan(&mut c, r, &county, &plan.id).expect("detail 2");
        assert_eq!(detail.draws.len(), 2);
        let old = detail
            .draws
            .iter()
            .find(|d| d.draw_id == drawn.draw_id)
            .expect("old draw kept");
        assert_eq!(old.status, "superseded");
        let s = old.superseded.as_ref().expect("who, when, why");
        assert_eq!(s.by, "nanhu");
        assert_eq!(s.reason, "一名检查人员调离，重新抽取");
        assert_eq!(s.next_draw_id.as_deref(), Some(redo.draw_id.as_str()));
        assert!(dr::verify(old).result_matches, "the old draw still re-runs");
        // Recorded inspections stay; the old draw's unrecorded ones are cancelled.
        let rows = ins::list(&mut c, &county, Some(Status::Cancelled)).expect("cancelled");
        assert_eq!(rows.len(), drawn.result.len() - 2);
        let redrawn = ins::draw(&mut c, r, &county, &plan.id, late).expect("redraw");
        assert!(dr::verify(&redrawn).ok());
        for a in &redrawn.result {
            for p in &redo.roster.previous {
                assert!(
                    !(p.facility_id == a.facility_id && a.inspectors.contains(&p.inspector_id)),
                    "recusal: inspected last time"
                );
            }
        }
    }
}
