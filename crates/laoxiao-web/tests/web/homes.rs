//! Issue 15, part 7: every role lands on a page made for it (never a 403),
//! each home shows its worklist, and errors are pages in the console's
//! layout (the API keeps its JSON errors).

use super::*;
use laoxiao_store::Role;

/// A session cookie for a new account (operators with their facility).
fn session_for(
    store: &laoxiao_store::Store,
    name: &str,
    role: Role,
    area: &str,
    fac: Option<&str>,
) -> String {
    make_user(store, name, role, area, fac);
    let mut c = store.conn().expect("conn");
    let secret = laoxiao_store::accounts::create_session(&mut c, name, None)
        .expect("session")
        .0;
    format!("{}={secret}", laoxiao_web::auth::SESSION_COOKIE)
}

/// Town A's care home H1 (lapsed rating, placed) with one resident and two
/// staff, and PA (village A) without coordinates or ability level.
fn seed_homes(store: &laoxiao_store::Store, w: &World) {
    use laoxiao_model::activity::{Residence, SkillGrade, Staff, StaffRole};
    let sys = laoxiao_store::Scope::system("test");
    let r = &store.reference;
    let mut c = store.conn().expect("conn");
    let mut h = laoxiao_model::Facility::blank(
        "H1",
        "南湖颐养院",
        laoxiao_model::FacilityKind::ElderlyInstitution,
        &w.village_a,
    );
    (h.lng, h.lat) = (Some(120.76), Some(30.75));
    h.beds = Some(40);
    (h.rating, h.rating_valid_from, h.rating_valid_until) = (
        Some(laoxiao_model::facility::Rating::Star2),
        Some(d("2020-01-01")),
        Some(d("2024-12-31")),
    );
    laoxiao_store::facilities::create(&mut c, r, &sys, &h).expect("care home");
    let mut pa = person("PA", &w.village_a, 31);
    pa.ability_level = None;
    laoxiao_store::people::create(&mut c, r, &sys, &pa).expect("person");
    drop(c);
    let staff = |id: &str, certified: bool| Staff {
        id: id.into(),
        facility_id: "H1".into(),
        role: StaffRole::CareWorker,
        name: "赵六六".into(),
        certified,
        certificate: certified.then(|| "养老护理员".to_string()),
        skill_grade: if certified {
            SkillGrade::Intermediate
        } else {
            SkillGrade::Ungraded
        },
        hired_date: d("2023-01-01"),
        left_date: None,
        health_check_date: None,
    };
    laoxiao_store::io::load_activity(
        store,
        &laoxiao_store::io::ActivityBatch {
            staff: &[staff("S1", true), staff("S2", false)],
            services: &[],
            enrolments: &[],
            residences: &[Residence {
                id: "R1".into(),
                person_id: "PA".into(),
                facility_id: "H1".into(),
                admitted_date: d("2025-01-01"),
                discharged_date: None,
            }],
            student_cohorts: &[],
            insurance: &[],
        },
        None,
    )
    .expect("activity");
}

fn location(r: &Raw) -> String {
    r.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn every_role_lands_on_its_home_with_its_worklist() {
    for db in TestDb::all().expect("test databases") {
        let store = db.store.clone();
        let w = world(&store);
        seed_homes(&store, &w);
        let county = "330402";
        // (user, role, area, facility, where `/` leads, what the page shows)
        type Home<'a> = (&'a str, Role, &'a str, Option<&'a str>, &'a str, &'a str);
        let plan: Vec<Home> = vec![
            (
                "h-city",
                Role::CityAdmin,
                "330400",
                None,
                "/",
                "id=\"worklist\"",
            ),
            (
                "h-county",
                Role::CountyAdmin,
                county,
                None,
                "/",
                "id=\"worklist\"",
            ),
            (
                "h-town",
                Role::TownStaff,
                &w.town_a,
                None,
                "/console/home",
                "data-key=\"ratings_lapsed\"",
            ),
            (
                "h-village",
                Role::VillageStaff,
                &w.village_a,
                None,
                "/console/home",
                "data-key=\"people_no_coords\"",
            ),
            (
                "h-operator",
                Role::FacilityOperator,
                &w.town_a,
                Some("H1"),
                "/console/my-facility",
                "南湖颐养院",
            ),
            (
                "h-inspector",
                Role::Inspector,
                county,
                None,
                "/console/home",
                "id=\"inspections\"",
            ),
            (
                "h-auditor",
                Role::Auditor,
                "330400",
                None,
                "/console/audit",
                "<h1",
            ),
            (
                "h-analyst",
                Role::Analyst,
                "330400",
                None,
                "/",
                "id=\"map-figure\"",
            ),
        ];
        let cookies: Vec<String> = plan
            .iter()
            .map(|(u, role, area, fac, _, _)| session_for(&store, u, *role, area, *fac))
            .collect();
        let router = laoxiao_web::router(AppState::new(store.clone(), WebConfig::default()));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            for ((user, role, _, _, home, shows), cookie) in plan.iter().zip(&cookies) {
                let h = vec![("cookie".to_string(), cookie.clone())];
                let r = raw(&router, "GET", "/", &h, None).await;
                let page = if *home == "/" {
                    r
                } else {
                    assert_eq!(r.status, StatusCode::SEE_OTHER, "{user}: {}", r.body);
                    assert_eq!(location(&r), *home, "{user}");
                    raw(&router, "GET", home, &h, None).await
                };
                assert_eq!(page.status, StatusCode::OK, "{user} {home}: {}", page.body);
                assert!(page.body.contains(shows), "{user} {home} lacks {shows}");
                assert!(
                    page.body.contains("class=\"main-nav\""),
                    "{user}: the layout"
                );
                // The login page sends each role to the same home.
                assert_eq!(laoxiao_web::console::landing(*role), *home);
            }
            let h = |i: usize| vec![("cookie".to_string(), cookies[i].clone())];
            // The town's worklist: H1's lapsed rating first (urgent), PA's gaps.
            let town = raw(&router, "GET", "/console/home?lang=en", &h(2), None).await;
            let at = |k: &str| {
                town.body
                    .find(&format!("data-key=\"{k}\""))
                    .unwrap_or(usize::MAX)
            };
            assert!(
                at("ratings_lapsed") < at("people_no_coords"),
                "urgent first"
            );
            assert!(
                town.body
                    .contains("Elderly people without an ability level")
            );
            // Its area summary: one elderly person, one care home of 40 beds.
            assert!(town.body.contains("id=\"area-summary\""));
            // A worklist line leads to its records, names masked.
            let recs = raw(
                &router,
                "GET",
                "/console/worklist?key=people_no_coords",
                &h(3),
                None,
            )
            .await;
            assert_eq!(recs.status, StatusCode::OK, "{}", recs.body);
            assert!(recs.body.contains(">PA</a>"), "{}", recs.body);
            assert!(recs.body.contains("王**") && !recs.body.contains("王某某"));
            // A line the village may not act on: not found.
            let r = raw(
                &router,
                "GET",
                "/console/worklist?key=ratings_lapsed",
                &h(3),
                None,
            )
            .await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
            // The operator's facility: 40 beds, 1 resident, 39 free; 2 staff, 1
            // certified; the lapsed rating and the uncertified one are due;
            // no resident's or staff member's name in clear.
            let op = raw(&router, "GET", "/console/my-facility?lang=en", &h(4), None).await;
            assert_eq!(op.status, StatusCode::OK, "{}", op.body);
            assert!(op.body.contains("<dd id=\"used\">1</dd>"), "{}", op.body);
            assert!(op.body.contains("<dd>39</dd>"));
            assert!(op.body.contains("Staff employed: 2, certified: 1"));
            assert!(op.body.contains("The rating lapsed on 2024-12-31"));
            assert!(op.body.contains("1 employed staff hold no certificate"));
            assert!(!op.body.contains("赵六六") && op.body.contains("赵**"));
            assert!(!op.body.contains("王某某"));
            // Other roles asking for an operator's page go to their own home.
            let r = raw(&router, "GET", "/console/my-facility", &h(2), None).await;
            assert_eq!(location(&r), "/console/home");
            // Town staff keep the overview itself.
            let r = raw(&router, "GET", "/console/overview", &h(2), None).await;
            assert_eq!(r.status, StatusCode::OK);
        });
        drop(rt);
        drop(router);
    }
}

#[test]
fn errors_are_pages_in_the_console_layout() {
    for db in TestDb::all().expect("test databases") {
        let store = db.store.clone();
        let w = world(&store);
        seed_homes(&store, &w);
        let village = session_for(&store, "e-village", Role::VillageStaff, &w.village_a, None);
        let router = laoxiao_web::router(AppState::new(store.clone(), WebConfig::default()));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let h = vec![("cookie".to_string(), village.clone())];
            let layout = |r: &Raw, lang: &str| {
                assert!(
                    r.body.contains(&format!("<html lang=\"{lang}\">")),
                    "{}",
                    r.body
                );
                assert!(r.body.contains("id=\"error-page\""), "{}", r.body);
                assert!(r.body.contains("href=\"/\""), "a way back");
                assert!(!r.body.contains("王某某"), "no personal data");
            };
            // 403: a page the role may not use, with the navigation, both languages.
            let r = raw(&router, "GET", "/console/subsidies", &h, None).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
            layout(&r, "zh-CN");
            assert!(r.body.contains("class=\"main-nav\""));
            let (zh, en) = (r.body.find("无权访问"), r.body.find("Access denied"));
            assert!(zh.is_some() && en.is_some() && zh < en, "Chinese first");
            // In English (the cookie), English first.
            let mut he = h.clone();
            he[0].1.push_str("; lang=en");
            let r = raw(&router, "GET", "/console/subsidies", &he, None).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
            layout(&r, "en");
            let (zh, en) = (r.body.find("无权访问"), r.body.find("Access denied"));
            assert!(zh.is_some() && en.is_some() && en < zh, "English first");
            // 404: an unknown page, and a record outside the scope.
            for uri in ["/console/no-such-page", "/console/people/PB"] {
                let r = raw(&router, "GET", uri, &h, None).await;
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
                layout(&r, "zh-CN");
                assert!(r.body.contains("class=\"main-nav\""), "{uri}");
            }
            // Anonymous: the 404 page without the navigation.
            let r = raw(&router, "GET", "/console/no-such-page", &[], None).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND);
            layout(&r, "zh-CN");
            assert!(!r.body.contains("class=\"main-nav\""));
            // 405: a page's path with another method.
            let r = raw(&router, "DELETE", "/console/home", &h, None).await;
            assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
            layout(&r, "zh-CN");
            // The API keeps its JSON errors.
            let api = vec![("cookie".to_string(), village.clone())];
            for uri in ["/api/no-such", "/api/subsidies/runs"] {
                let r = raw(&router, "GET", uri, &api, None).await;
                assert!(r.status.is_client_error(), "{uri}");
                let v: Value = serde_json::from_str(&r.body).expect("JSON error");
                assert!(v["error"]["code"].is_string(), "{uri}: {}", r.body);
            }
        });
        drop(rt);
        drop(router);
    }
}
