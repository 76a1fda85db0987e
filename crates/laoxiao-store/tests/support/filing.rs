//! Childcare filing (托育机构备案) over a real database (both backends): an
//! institution drafts, is refused with each rule named, uploads, submits; the
//! county asks for corrections, two reviewers race to decide (one wins), the
//! acceptance writes the facility register; a change and a cancellation follow
//! the same path; scopes keep other institutions and counties out.

use chrono::NaiveDate;
use laoxiao_model::facility::FilingStatus;
use laoxiao_model::{Facility, FacilityKind};
use laoxiao_rules::filing::{FilingForm, add_working_days};
use laoxiao_store::audit::{self, AuditQuery};
use laoxiao_store::filing::{self, Decision, FilingKind, ListQuery, NewFiling, Status};
use laoxiao_store::testdb::TestDb;
use laoxiao_store::testdb::user;
use laoxiao_store::uploads::{UploadStore, sample_pdf};
use laoxiao_store::{Role, Scope, StoreError, facilities};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn fields(e: StoreError) -> Vec<(String, String)> {
    match e {
        StoreError::Invalid(v) => v.into_iter().map(|f| (f.field, f.reason)).collect(),
        e => panic!("expected a validation error, got {e}"),
    }
}

fn good_form(today: NaiveDate) -> FilingForm {
    FilingForm {
        director_name: "李园长".into(),
        contact_phone: "0573-82345678".into(),
        places: 45,
        care_types: vec!["full_day".into(), "hourly".into()],
        serves_meals: false,
        site_owned: false,
        lease_until: Some(today + chrono::Duration::days(4 * 365)),
    }
}

const REQUIRED: [&str; 6] = [
    "commitment_letter",
    "registration_certificate",
    "site_proof",
    "staff_certificates",
    "health_assessment",
    "fire_safety",
];

#[test]
fn a_filing_is_drafted_refused_by_rule_corrected_raced_and_accepted_into_the_register() {
    // A Monday: the review deadline is the next Monday (5 working days).
    let today = d("2026-03-02");
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let village = r.areas.children(&town)[0].code.clone();
        let other = r.areas.children(&r.areas.children("330481")[0].code)[0]
            .code
            .clone();
        let mut c1 = Facility::blank(
            "C1",
            "小太阳托育园",
            FacilityKind::ChildcareInstitution,
            &village,
        );
        c1.filing_status = FilingStatus::Unfiled;
        facilities::create(&mut c, r, &sys, &c1).expect("c1");
        let c2 = Facility::blank(
            "C2",
            "外县托育园",
            FacilityKind::ChildcareInstitution,
            &other,
        );
        facilities::create(&mut c, r, &sys, &c2).expect("c2");
        let home = Facility::blank("E1", "敬老院", FacilityKind::ElderlyInstitution, &village);
        facilities::create(&mut c, r, &sys, &home).expect("e1");

        let op1 = user(store, "op1", Role::FacilityOperator, &village, Some("C1"));
        let op2 = user(store, "op2", Role::FacilityOperator, &other, Some("C2"));
        let county = user(store, "rv1", Role::CountyAdmin, "330402", None);
        let county_b = user(store, "rv2", Role::CountyAdmin, "330402", None);
        let far_county = user(store, "rv9", Role::CountyAdmin, "330481", None);
        let inspector = user(store, "in1", Role::Inspector, "330402", None);
        let village_staff = user(store, "vs1", Role::VillageStaff, &village, None);
        let dir = tempfile::tempdir().expect("dir");
        let uploads = UploadStore::new(dir.path(), 1024 * 1024).expect("uploads");

        let new = |id: &str, kind: FilingKind| NewFiling {
            facility_id: id.into(),
            kind,
            form: FilingForm::default(),
        };
        // Only childcare institutions file, only one's own, only staff with the right.
        let e =
            filing::create(&mut c, &sys, &new("E1", FilingKind::Initial), today).expect_err("home");
        assert!(fields(e)[0].1.contains("托育机构"));
        let e = filing::create(&mut c, &op1, &new("C2", FilingKind::Initial), today)
            .expect_err("not mine");
        assert_eq!(fields(e)[0].0, "facility_id");
        assert!(matches!(
            filing::create(
                &mut c,
                &village_staff,
                &new("C1", FilingKind::Initial),
                today
            ),
            Err(StoreError::Forbidden(_))
        ));
        let e = filing::create(&mut c, &op1, &new("C1", FilingKind::Change), today)
            .expect_err("not filed");
        assert_eq!(fields(e)[0].0, "kind");

        let draft =
            filing::create(&mut c, &op1, &new("C1", FilingKind::Initial), today).expect("draft");
        let id = draft.filing.id.clone();
        assert_eq!(draft.filing.status, Status::Draft);
        assert!(draft.can_file && !draft.can_review);
        assert_eq!(draft.missing.len(), 6, "{:?}", draft.missing);
        assert!(matches!(
            filing::create(&mut c, &op1, &new("C1", FilingKind::Initial), today),
            Err(StoreError::Conflict(_))
        ));

        // An empty form and no documents: every gap is named.
        let e = filing::submit(&mut c, r, &op1, &id, today).expect_err("empty");
        let named: Vec<String> = fields(e).into_iter().map(|f| f.0).collect();
        for want in [
            "director_name",
            "contact_phone",
            "places",
            "care_types",
            "lease_until",
            "documents",
        ] {
            assert!(named.iter().any(|n| n == want), "{want} not in {named:?}");
        }
        assert_eq!(named.iter().filter(|n| *n == "documents").count(), 6);

        // A lease of under 3 years is refused citing 设置标准 art. 11.
        let mut form = good_form(today);
        form.lease_until = Some(d("2028-12-31"));
        filing::update_form(&mut c, &op1, &id, &form, today).expect("form");
        for code in REQUIRED {
            let f = uploads
                .put(
                    &sample_pdf(code),
                    Some("application/pdf"),
                    &format!("{code}.pdf"),
                )
                .expect("put");
            filing::add_document(&mut c, &op1, &id, code, &f, today).expect("upload");
        }
        let e = filing::submit(&mut c, r, &op1, &id, today).expect_err("short lease");
        let f = fields(e);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, "lease_until");
        assert!(
            f[0].1.contains("第十一条") && f[0].1.contains("2029-03-02"),
            "{}",
            f[0].1
        );

        // Meals need a food licence.
        let mut form = good_form(today);
        form.serves_meals = true;
        filing::update_form(&mut c, &op1, &id, &form, today).expect("form");
        let e = filing::submit(&mut c, r, &op1, &id, today).expect_err("no food licence");
        let f = fields(e);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].1.contains("食品经营许可证"), "{}", f[0].1);
        // An unknown document type is refused, nothing written.
        let png = uploads
            .put(b"\x89PNG\r\n\x1a\nfood", None, "licence.png")
            .expect("png");
        let e = filing::add_document(&mut c, &op1, &id, "passport", &png, today).expect_err("type");
        assert_eq!(fields(e)[0].0, "doc_type");
        filing::add_document(&mut c, &op1, &id, "food_licence", &png, today).expect("licence");

        let sub = filing::submit(&mut c, r, &op1, &id, today).expect("submitted");
        assert_eq!(sub.filing.status, Status::Submitted);
        assert_eq!(sub.filing.review_deadline, Some(add_working_days(today, 5)));
        assert_eq!(sub.filing.review_deadline, Some(d("2026-03-09")));
        assert_eq!(sub.filing.rounds, 1);
        assert!(!sub.can_file);
        assert_eq!(
            facilities::get(&mut c, &sys, "C1")
                .expect("c1")
                .filing_status,
            FilingStatus::Pending
        );
        // Submitted: the institution can no longer change it.
        assert!(matches!(
            filing::update_form(&mut c, &op1, &id, &form, today),
            Err(StoreError::Conflict(_))
        ));

        // Who sees it: the county, its inspector; not the other county or institution.
        assert!(
            filing::get(&mut c, &county, &id, today)
                .expect("county")
                .can_review
        );
        assert!(
            !filing::get(&mut c, &inspector, &id, today)
                .expect("inspector")
                .can_review
        );
        assert!(matches!(
            filing::get(&mut c, &far_county, &id, today),
            Err(StoreError::NotFound { .. })
        ));
        assert!(matches!(
            filing::get(&mut c, &op2, &id, today),
            Err(StoreError::NotFound { .. })
        ));
        assert!(
            filing::list(&mut c, &far_county, &ListQuery::default(), today)
                .expect("list")
                .is_empty()
        );
        assert!(
            filing::list(&mut c, &op2, &ListQuery::default(), today)
                .expect("list")
                .is_empty()
        );
        assert_eq!(
            filing::list(&mut c, &county, &ListQuery::default(), today)
                .expect("list")
                .len(),
            1
        );
        let doc = sub
            .documents
            .iter()
            .find(|x| x.doc_type == "site_proof")
            .expect("lease")
            .clone();
        assert!(matches!(
            filing::document(&mut c, &op2, &id, &doc.id, today),
            Err(StoreError::NotFound { .. })
        ));
        let got = filing::document(&mut c, &inspector, &id, &doc.id, today).expect("doc");
        assert_eq!(
            uploads.get(&got.sha256).expect("bytes"),
            sample_pdf(&doc.doc_type)
        );

        // The institution cannot review; a note is needed to ask for corrections.
        assert!(matches!(
            filing::review(&mut c, r, &op1, &id, Decision::Accept, None, today),
            Err(StoreError::Forbidden(_))
        ));
        assert!(matches!(
            filing::review(&mut c, r, &far_county, &id, Decision::Accept, None, today),
            Err(StoreError::NotFound { .. })
        ));
        let e = filing::review(
            &mut c,
            r,
            &county,
            &id,
            Decision::RequestCorrections,
            Some("  "),
            today,
        )
        .expect_err("no note");
        assert_eq!(fields(e)[0].0, "note");
        let back = filing::review(
            &mut c,
            r,
            &county,
            &id,
            Decision::RequestCorrections,
            Some("消防验收意见书页面不全，请补传。"),
            today,
        )
        .expect("corrections");
        assert_eq!(back.filing.status, Status::CorrectionsRequested);
        assert_eq!(back.filing.correction_deadline, Some(d("2026-03-23")));

        // The worklists: the institution has corrections to make, the county nothing to review.
        let count = |items: Vec<laoxiao_store::worklist::WorkItem>, key: &str| {
            items
                .iter()
                .find(|i| i.key == key)
                .map(|i| (i.count, i.urgent))
        };
        let w = filing::work_items(&mut c, &op1, today).expect("work");
        assert_eq!(count(w.clone(), "filings_corrections"), Some((1, false)));
        assert_eq!(
            count(w, "filings_to_review"),
            None,
            "an institution reviews nothing"
        );
        let w = filing::work_items(&mut c, &op1, d("2026-03-25")).expect("work");
        assert_eq!(count(w, "filings_corrections_overdue"), Some((1, true)));
        let w = filing::work_items(&mut c, &county, today).expect("work");
        assert_eq!(count(w, "filings_to_review"), Some((0, false)));
        assert!(
            filing::work_items(&mut c, &village_staff, today)
                .expect("work")
                .is_empty()
        );

        // Late: two days after the correction deadline it is overdue.
        let late = d("2026-03-25");
        let overdue = filing::list(
            &mut c,
            &county,
            &ListQuery {
                overdue: true,
                ..Default::default()
            },
            late,
        )
        .expect("overdue");
        assert_eq!(overdue.len(), 1);
        assert!(overdue[0].overdue);

        // The institution replaces the document and submits again.
        let fire = back
            .documents
            .iter()
            .find(|x| x.doc_type == "fire_safety")
            .expect("fire")
            .id
            .clone();
        filing::remove_document(&mut c, &op1, &id, &fire, today).expect("remove");
        assert!(
            filing::get(&mut c, &op1, &id, today)
                .expect("get")
                .missing
                .contains(&"fire_safety".to_string())
        );
        let f = uploads
            .put(&sample_pdf("fire, complete"), None, "fire.pdf")
            .expect("put");
        filing::add_document(&mut c, &op1, &id, "fire_safety", &f, today).expect("upload");
        let again = filing::submit(&mut c, r, &op1, &id, d("2026-03-04")).expect("again");
        assert_eq!(again.filing.rounds, 2);
        assert_eq!(again.filing.correction_deadline, None);

        // Waiting for the county: on its worklist, urgent once the deadline has passed.
        let w = filing::work_items(&mut c, &county, d("2026-03-04")).expect("work");
        assert_eq!(count(w, "filings_to_review"), Some((1, false)));
        let w = filing::work_items(&mut c, &county, d("2026-03-30")).expect("work");
        assert_eq!(count(w, "filings_review_overdue"), Some((1, true)));
        assert!(
            filing::work_items(&mut c, &far_county, d("2026-03-30"))
                .expect("work")
                .iter()
                .all(|i| i.count == 0)
        );

        // Two reviewers decide at once: exactly one wins, the other is told.
        let (a, b) = std::thread::scope(|t| {
            let one = t.spawn(|| {
                let mut c = store.conn().expect("conn");
                filing::review(&mut c, r, &county, &id, Decision::Accept, None, today)
            });
            let two = t.spawn(|| {
                let mut c = store.conn().expect("conn");
                filing::review(
                    &mut c,
                    r,
                    &county_b,
                    &id,
                    Decision::Reject,
                    Some("不符合条件"),
                    today,
                )
            });
            (one.join().expect("one"), two.join().expect("two"))
        });
        let (won, lost) = match (&a, &b) {
            (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w.clone(), e.to_string()),
            _ => panic!(
                "exactly one decision must win: {:?} / {:?}",
                a.is_ok(),
                b.is_ok()
            ),
        };
        let conflicts = [&a, &b]
            .iter()
            .filter(|x| matches!(x, Err(StoreError::Conflict(_))))
            .count();
        assert_eq!(conflicts, 1, "the loser gets a conflict: {lost}");
        let fac = facilities::get(&mut c, &sys, "C1").expect("c1");
        if won.filing.status == Status::Accepted {
            assert_eq!(fac.filing_status, FilingStatus::Filed);
            assert_eq!(fac.filing_date, Some(today));
            assert_eq!(fac.approved_slots, Some(45));
        } else {
            assert_eq!(won.filing.status, Status::Rejected);
            assert_eq!(fac.filing_status, FilingStatus::Unfiled);
            // Rejected: file again, and accept this time.
            let n = filing::create(&mut c, &op1, &new("C1", FilingKind::Initial), today)
                .expect("again");
            filing::update_form(&mut c, &op1, &n.filing.id, &good_form(today), today)
                .expect("form");
            for code in REQUIRED {
                let f = uploads.put(&sample_pdf(code), None, "x.pdf").expect("put");
                filing::add_document(&mut c, &op1, &n.filing.id, code, &f, today).expect("upload");
            }
            filing::submit(&mut c, r, &op1, &n.filing.id, today).expect("submit");
            filing::review(
                &mut c,
                r,
                &county,
                &n.filing.id,
                Decision::Accept,
                None,
                today,
            )
            .expect("accept");
        }
        let fac = facilities::get(&mut c, &sys, "C1").expect("c1");
        assert_eq!(fac.filing_status, FilingStatus::Filed);
        assert_eq!(fac.filing_date, Some(today));
        assert_eq!(fac.approved_slots, Some(45));
        // The acceptance and the register write are in the audit trail.
        let trail = audit::search(
            &mut c,
            &sys,
            &AuditQuery {
                entity_id: Some("C1".into()),
                ..Default::default()
            },
        )
        .expect("audit");
        assert!(
            trail.iter().any(|e| e.action == "update"),
            "{:?}",
            trail.iter().map(|e| &e.action).collect::<Vec<_>>()
        );
        let trail = audit::search(
            &mut c,
            &sys,
            &AuditQuery {
                entity: Some("childcare_filing".into()),
                ..Default::default()
            },
        )
        .expect("audit");
        for action in [
            "filing_create",
            "filing_upload",
            "filing_submit",
            "filing_request_corrections",
            "filing_remove_document",
        ] {
            assert!(trail.iter().any(|e| e.action == action), "no {action}");
        }

        // Filed: an initial filing is refused, a change goes through the same path.
        let e = filing::create(&mut c, &op1, &new("C1", FilingKind::Initial), today)
            .expect_err("filed");
        assert_eq!(fields(e)[0].0, "kind");
        let ch =
            filing::create(&mut c, &op1, &new("C1", FilingKind::Change), today).expect("change");
        let mut more = good_form(today);
        more.places = 60;
        filing::update_form(&mut c, &op1, &ch.filing.id, &more, today).expect("form");
        for code in REQUIRED {
            let f = uploads.put(&sample_pdf(code), None, "x.pdf").expect("put");
            filing::add_document(&mut c, &op1, &ch.filing.id, code, &f, today).expect("upload");
        }
        filing::submit(&mut c, r, &op1, &ch.filing.id, d("2026-04-01")).expect("submit");
        // Still filed while the change is reviewed.
        assert_eq!(
            facilities::get(&mut c, &sys, "C1")
                .expect("c1")
                .filing_status,
            FilingStatus::Filed
        );
        filing::review(
            &mut c,
            r,
            &county,
            &ch.filing.id,
            Decision::Accept,
            None,
            d("2026-04-02"),
        )
        .expect("accept");
        let fac = facilities::get(&mut c, &sys, "C1").expect("c1");
        assert_eq!(
            (fac.filing_status, fac.filing_date, fac.approved_slots),
            (FilingStatus::Filed, Some(today), Some(60))
        );

        // A cancellation needs no documents; accepting it ends the filing.
        let cancel = filing::create(&mut c, &op1, &new("C1", FilingKind::Cancellation), today)
            .expect("cancel");
        let who = FilingForm {
            director_name: "李园长".into(),
            contact_phone: "0573-82345678".into(),
            ..Default::default()
        };
        filing::update_form(&mut c, &op1, &cancel.filing.id, &who, today).expect("form");
        filing::submit(&mut c, r, &op1, &cancel.filing.id, d("2026-05-04")).expect("submit");
        filing::review(
            &mut c,
            r,
            &county,
            &cancel.filing.id,
            Decision::Accept,
            None,
            d("2026-05-05"),
        )
        .expect("accept");
        let fac = facilities::get(&mut c, &sys, "C1").expect("c1");
        assert_eq!(
            (fac.filing_status, fac.filing_date),
            (FilingStatus::Unfiled, None)
        );

        // A withdrawn initial filing puts the institution back to 未备案.
        let w = filing::create(&mut c, &op1, &new("C1", FilingKind::Initial), today).expect("new");
        filing::update_form(&mut c, &op1, &w.filing.id, &good_form(today), today).expect("form");
        for code in REQUIRED {
            let f = uploads.put(&sample_pdf(code), None, "x.pdf").expect("put");
            filing::add_document(&mut c, &op1, &w.filing.id, code, &f, today).expect("upload");
        }
        filing::submit(&mut c, r, &op1, &w.filing.id, today).expect("submit");
        assert_eq!(
            facilities::get(&mut c, &sys, "C1")
                .expect("c1")
                .filing_status,
            FilingStatus::Pending
        );
        let gone = filing::withdraw(&mut c, r, &op1, &w.filing.id, today).expect("withdraw");
        assert_eq!(gone.filing.status, Status::Withdrawn);
        assert_eq!(
            facilities::get(&mut c, &sys, "C1")
                .expect("c1")
                .filing_status,
            FilingStatus::Unfiled
        );
        assert!(matches!(
            filing::withdraw(&mut c, r, &op1, &w.filing.id, today),
            Err(StoreError::Conflict(_))
        ));
    }
}

/// Childcare staff compliance on the worklist: a health check older than 12
/// months (管理规范 art. 28) or missing has lapsed, one within 30 days of that
/// is due; uncertified carers are counted; staff who left, a care home's
/// carers and another county's institution are not.
#[test]
fn childcare_staff_health_checks_lapse_after_a_year_and_warn_before() {
    use laoxiao_model::activity::{SkillGrade, Staff, StaffRole};
    use laoxiao_store::staff_checks;
    let today = d("2026-06-15");
    for db in TestDb::all().expect("test databases") {
        let store = &db.store;
        let r = &store.reference;
        let sys = Scope::system("test");
        let mut c = store.conn().expect("conn");
        let town = r.areas.children("330402")[0].code.clone();
        let other = r.areas.children("330481")[0].code.clone();
        for (id, area, kind) in [
            ("CC1", &town, FacilityKind::ChildcareInstitution),
            ("CC2", &other, FacilityKind::ChildcareInstitution),
            ("EH1", &town, FacilityKind::ElderlyInstitution),
        ] {
            facilities::create(
                &mut c,
                r,
                &sys,
                &Facility::blank(id, "机构", kind, area.as_str()),
            )
            .expect("facility");
        }
        let staff = |id: &str,
                     at: &str,
                     role: StaffRole,
                     check: Option<&str>,
                     certified: bool,
                     left: Option<&str>| Staff {
            id: id.into(),
            facility_id: at.into(),
            role,
            name: "张某某".into(),
            certified,
            certificate: certified.then(|| "保育师职业技能等级证书".to_string()),
            skill_grade: SkillGrade::Ungraded,
            hired_date: d("2020-01-01"),
            left_date: left.map(d),
            health_check_date: check.map(d),
        };
        let rows = [
            staff(
                "S1",
                "CC1",
                StaffRole::NurseryStaff,
                Some("2026-01-10"),
                true,
                None,
            ), // fine
            staff(
                "S2",
                "CC1",
                StaffRole::NurseryStaff,
                Some("2025-06-14"),
                true,
                None,
            ), // lapsed (before 2025-06-15)
            staff(
                "S3",
                "CC1",
                StaffRole::InfantCarer,
                Some("2025-06-15"),
                false,
                None,
            ), // due: lapses today+0..30
            staff(
                "S4",
                "CC1",
                StaffRole::HealthStaff,
                Some("2025-07-14"),
                true,
                None,
            ), // due (before 2025-07-15)
            staff(
                "S5",
                "CC1",
                StaffRole::HealthStaff,
                Some("2025-07-15"),
                true,
                None,
            ), // fine: 30 days out
            staff("S6", "CC1", StaffRole::NurseryStaff, None, false, None), // lapsed: none on record
            staff(
                "S7",
                "CC1",
                StaffRole::NurseryStaff,
                None,
                false,
                Some("2026-01-01"),
            ), // left
            staff("S8", "CC1", StaffRole::Other, None, false, None),        // a cook: not counted
            staff("S9", "CC2", StaffRole::NurseryStaff, None, false, None), // another county
            staff("S10", "EH1", StaffRole::SocialWorker, None, false, None), // a care home
        ];
        for s in &rows {
            laoxiao_store::activity::upsert(&mut c, s, "2026-06-01T00:00:00Z").expect("staff");
        }
        let county = user(store, "rv1", Role::CountyAdmin, "330402", None);
        let op = user(store, "op1", Role::FacilityOperator, &town, Some("CC1"));
        let got = staff_checks::checks(&mut c, &county, today).expect("checks");
        assert_eq!(
            (got.staff, got.lapsed, got.due, got.uncertified),
            (6, 2, 2, 2),
            "{got:?}"
        );
        assert_eq!(
            (got.lapsed_before, got.due_before),
            (d("2025-06-15"), d("2025-07-15"))
        );
        assert_eq!(
            staff_checks::checks(&mut c, &op, today).expect("op").staff,
            6
        );
        let city = staff_checks::checks(&mut c, &sys, today).expect("city");
        assert_eq!((city.staff, city.lapsed), (7, 3));
        let items = staff_checks::work_items(&mut c, &op, today).expect("items");
        let lapsed = items
            .iter()
            .find(|i| i.key == "staff_health_lapsed")
            .expect("line");
        assert!(lapsed.urgent && lapsed.count == 2);
        assert!(
            lapsed.url.contains("health_check_date_to=2025-06-14"),
            "{}",
            lapsed.url
        );
        // Someone who reads but keeps no register gets no line.
        let inspector = user(store, "in1", Role::Inspector, "330402", None);
        assert!(
            staff_checks::work_items(&mut c, &inspector, today)
                .expect("none")
                .is_empty()
        );
    }
}
