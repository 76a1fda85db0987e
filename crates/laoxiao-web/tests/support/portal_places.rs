//! Finding a place on the public portal (找机构), as a visitor: the search by
//! distance and each filter finds exactly the places a person would pick by
//! hand from the seeded registers, vacancies are counted from the residences
//! and classes, the place page shows the public fields and nothing else, bad
//! input is a 4xx naming the field, and the in-memory copy catches up with
//! the registers after its refresh interval.

use super::*;

const SECRET_OPERATOR: &str = "运营人秘密";
const SECRET_PHONE: &str = "13911112222";
const PUBLIC_PHONE: &str = "0573-82000001";
/// The starting point of the searches, in central Jiaxing (WGS-84).
const FROM: (f64, f64) = (120.75, 30.76);

/// Great-circle distance in metres (the test's own, not the product's).
fn haversine(a: (f64, f64), b: (f64, f64)) -> f64 {
    let r = 6_371_008.8;
    let (la1, la2) = (a.1.to_radians(), b.1.to_radians());
    let dla = la2 - la1;
    let dlo = (b.0 - a.0).to_radians();
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * r * h.sqrt().asin()
}

fn seed(store: &laoxiao_store::Store) {
    use laoxiao_model::facility::{ClassType, FacilityStatus, Rating};
    use laoxiao_model::person::Sex;
    use laoxiao_model::{ChildcareClass, Facility, FacilityKind};
    let r = &store.reference;
    let sys = laoxiao_store::Scope::system("test");
    let mut c = store.conn().expect("conn");
    let town = r.areas.children("330402")[0].code.clone();
    let village = r.areas.children(&town)[0].code.clone();

    let mut a = Facility::blank(
        "FAC-SECRET-A",
        "甲养老院",
        FacilityKind::ElderlyInstitution,
        &town,
    );
    (a.lng, a.lat) = (Some(120.76), Some(30.76));
    a.beds = Some(10);
    a.rating = Some(Rating::Star3);
    a.monthly_fee = Some(300_000);
    a.opening_hours = Some("24/7".into());
    a.public_phone = Some(PUBLIC_PHONE.into());
    a.phone = Some(SECRET_PHONE.into());
    a.operator_name = Some(SECRET_OPERATOR.into());
    a.address = Some("南湖路1号".into());
    laoxiao_store::facilities::create(&mut c, r, &sys, &a).expect("A");

    let mut b = Facility::blank(
        "FAC-SECRET-B",
        "乙托育园",
        FacilityKind::ChildcareInstitution,
        &town,
    );
    (b.lng, b.lat) = (Some(120.78), Some(30.76));
    b.inclusive = true;
    b.opening_hours = Some("Mo-Fr 07:30-17:30".into());
    let classes = [
        ChildcareClass {
            id: "B-1".into(),
            facility_id: b.id.clone(),
            class_type: ClassType::InfantClass,
            capacity: 6,
            enrolled: 6,
            caregivers: 2,
            monthly_fee_fen: Some(200_000),
        },
        ChildcareClass {
            id: "B-2".into(),
            facility_id: b.id.clone(),
            class_type: ClassType::OlderToddlerClass,
            capacity: 10,
            enrolled: 4,
            caregivers: 2,
            monthly_fee_fen: Some(180_000),
        },
    ];
    laoxiao_store::facilities::create_with_classes(&mut c, r, &sys, &b, &classes, &[]).expect("B");

    let mut cc = Facility::blank(
        "FAC-SECRET-C",
        "丙照料中心",
        FacilityKind::VillageCareStation,
        &village,
    );
    (cc.lng, cc.lat) = (Some(120.85), Some(30.76));
    cc.rating = Some(Rating::A4);
    cc.opening_hours = Some("Mo-Su 08:00-17:00".into());
    laoxiao_store::facilities::create(&mut c, r, &sys, &cc).expect("C");

    let mut d = Facility::blank(
        "FAC-SECRET-D",
        "丁养老院",
        FacilityKind::ElderlyInstitution,
        &town,
    );
    d.status = FacilityStatus::Closed;
    d.closed_date = Some(NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"));
    laoxiao_store::facilities::create(&mut c, r, &sys, &d).expect("D");

    let mut e = Facility::blank(
        "FAC-SECRET-E",
        "戊养老院",
        FacilityKind::ElderlyInstitution,
        &town,
    );
    e.beds = Some(2);
    laoxiao_store::facilities::create(&mut c, r, &sys, &e).expect("E");

    // Residents: one living in A and one who left (not counted); two in E (full).
    let birth = NaiveDate::from_ymd_opt(1938, 5, 1).expect("date");
    for (seq, home, left) in [
        (1u16, "FAC-SECRET-A", true),
        (2, "FAC-SECRET-A", false),
        (3, "FAC-SECRET-E", false),
        (4, "FAC-SECRET-E", false),
    ] {
        let mut p = laoxiao_model::Person::blank(
            format!("PP{seq}"),
            laoxiao_model::PersonRole::Elderly,
            &village,
            birth,
            if seq % 2 == 1 { Sex::Male } else { Sex::Female },
        );
        p.id_number = laoxiao_model::idcard::make(&village[..6], birth, seq);
        p.name = "住户".into();
        laoxiao_store::people::create(&mut c, r, &sys, &p).expect("person");
        let res = laoxiao_model::Residence {
            id: format!("RS-PP{seq}"),
            person_id: p.id.clone(),
            facility_id: home.into(),
            admitted_date: NaiveDate::from_ymd_opt(2024, 2, 1).expect("date"),
            discharged_date: left.then(|| NaiveDate::from_ymd_opt(2024, 6, 1).expect("date")),
        };
        laoxiao_store::activity::upsert(&mut c, &res, "2024-02-01T00:00:00Z").expect("residence");
    }
}

async fn get(app: &App, uri: &str) -> Raw {
    raw(&app.router, "GET", uri, &[], None).await
}

async fn search(app: &App, query: &str) -> Value {
    let r = get(app, &format!("/portal/places.json?{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
    serde_json::from_str(&r.body).expect("json")
}

fn names(v: &Value) -> Vec<String> {
    v["places"]
        .as_array()
        .expect("places")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn the_search_finds_what_each_filter_asks_for_and_a_place_page_shows_public_fields_only() {
    run(|app| async move {
        let store = app.store.clone();
        block(move || seed(&store)).await;
        let at = format!("lng={}&lat={}", FROM.0, FROM.1);

        // Nearest first; the closed home is not listed; a place without a
        // point comes after those with one.
        let all = search(&app, &at).await;
        assert_eq!(all["total"], 4, "{all}");
        assert_eq!(
            names(&all),
            ["甲养老院", "乙托育园", "丙照料中心", "戊养老院"]
        );
        let want = haversine(FROM, (120.76, 30.76));
        let got = all["places"][0]["distance_m"].as_f64().expect("distance");
        assert!((got - want).abs() / want < 0.01, "{got} m vs {want} m");
        assert!(all["places"][3]["distance_m"].is_null());

        // Within 2 km: A only (B is about 2.9 km away).
        assert!(haversine(FROM, (120.78, 30.76)) > 2000.0);
        assert_eq!(
            names(&search(&app, &format!("{at}&within=2")).await),
            ["甲养老院"]
        );
        assert_eq!(
            names(&search(&app, &format!("{at}&within=5")).await),
            ["甲养老院", "乙托育园"]
        );

        // Kinds.
        assert_eq!(
            names(&search(&app, &format!("{at}&kind=elderly")).await),
            ["甲养老院", "丙照料中心", "戊养老院"]
        );
        assert_eq!(
            names(&search(&app, "kind=childcare_institution").await),
            ["乙托育园"]
        );

        // Vacancies from the registers: A has 10 beds and one resident now
        // (the other left), E is full, B's classes have 0 + 6 places free;
        // a village station has no beds to count.
        let free = search(&app, &format!("{at}&vacancies=1")).await;
        assert_eq!(names(&free), ["甲养老院", "乙托育园"]);
        assert_eq!(free["places"][0]["free_beds"], 9);
        assert_eq!(free["places"][1]["free_slots"], 6);

        // 普惠, fee range (B charges 1800–2000 yuan, A 3000), rating (scale
        // kept apart: stars for homes, A-levels for stations).
        assert_eq!(names(&search(&app, "inclusive=1").await), ["乙托育园"]);
        assert_eq!(names(&search(&app, "fee_max=1900").await), ["乙托育园"]);
        assert_eq!(names(&search(&app, "fee_min=2500").await), ["甲养老院"]);
        assert_eq!(names(&search(&app, "rating=star2").await), ["甲养老院"]);
        assert_eq!(names(&search(&app, "rating=3a").await), ["丙照料中心"]);
        assert!(names(&search(&app, "rating=5a").await).is_empty());

        // Opening hours.
        assert_eq!(names(&search(&app, "open=24h").await), ["甲养老院"]);
        assert_eq!(
            names(&search(&app, "open=weekend&sort=name").await).len(),
            2,
            "A (24/7) and C (every day)"
        );

        // Name, sort and paging.
        assert_eq!(names(&search(&app, "q=托育").await), ["乙托育园"]);
        let by_fee = search(&app, "sort=fee").await;
        assert_eq!(&names(&by_fee)[..2], ["乙托育园", "甲养老院"]);
        let page2 = search(&app, &format!("{at}&limit=3&page=2")).await;
        assert_eq!(names(&page2), ["戊养老院"]);

        // Bad input names the field and is never a 5xx.
        for (q, field) in [
            ("lng=200&lat=30.7", "lng"),
            ("lng=120.7", "lat"),
            ("within=1", "within"),
            ("page=0", "page"),
            ("kind=spaceship", "kind"),
            ("fee_min=-1", "fee_min"),
            ("fee_min=3000&fee_max=100", "fee_max"),
            ("sort=distance", "sort"),
            ("rating=7stars", "rating"),
            ("area=999999", "area"),
            ("limit=1000", "limit"),
            ("x=1e300&y=5", "x"),
        ] {
            let r = get(&app, &format!("/portal/places.json?{q}")).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}");
            let v: Value = serde_json::from_str(&r.body).expect("json");
            assert_eq!(v["field"], field, "{q}");
        }
        let long = "托".repeat(41);
        let r = get(&app, &format!("/portal/places?q={}", urlencode(&long))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.body.contains("q:"), "{}", r.body);

        // The list page shows the count and links each place by its public
        // reference, never by its register id.
        let list = get(&app, &format!("/portal/places?{at}")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(list.body.contains("找到4家机构"), "{}", list.body);
        assert!(list.body.contains("<svg"), "the map is drawn");
        // "Use my location" may ask the browser; staff pages may not.
        let policy = |r: &Raw| {
            r.headers
                .get("permissions-policy")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert!(
            policy(&list).contains("geolocation=(self)"),
            "{}",
            policy(&list)
        );
        let login = get(&app, "/console/login").await;
        assert!(
            policy(&login).contains("geolocation=()"),
            "{}",
            policy(&login)
        );
        assert!(!list.body.contains("FAC-SECRET"));
        let a_ref = all["places"][0]["ref"].as_str().expect("ref").to_string();
        // (minijinja escapes `/` in attributes as `&#x2f;`.)
        let decoded = list.body.replace("&#x2f;", "/");
        assert!(
            decoded.contains(&format!("/portal/places/{a_ref}")),
            "{}",
            list.body
        );

        // The place page: public fields, vacancies, the published phone; not
        // the internal phone, the operator or the register id.
        let page = get(&app, &format!("/portal/places/{a_ref}")).await;
        assert_eq!(page.status, StatusCode::OK);
        for want in [
            "甲养老院",
            PUBLIC_PHONE,
            "南湖路1号",
            "全天24小时",
            "空余床位9张（共10张）",
            "三星级",
        ] {
            assert!(page.body.contains(want), "{want} missing: {}", page.body);
        }
        for secret in [SECRET_PHONE, SECRET_OPERATOR, "FAC-SECRET", "PP2", "RS-PP"] {
            assert!(!page.body.contains(secret), "{secret} is shown");
        }
        assert_eq!(
            page.headers
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("public, max-age=60")
        );
        let json = serde_json::to_string(&all).expect("json");
        for secret in [SECRET_PHONE, SECRET_OPERATOR, "FAC-SECRET"] {
            assert!(!json.contains(secret), "{secret} is in the JSON");
        }
        // B's page lists its classes with their free places.
        let b_ref = all["places"][1]["ref"].as_str().expect("ref").to_string();
        let b = get(&app, &format!("/portal/places/{b_ref}?lang=en")).await;
        assert_eq!(b.status, StatusCode::OK);
        assert!(b.body.contains("Older toddler class"), "{}", b.body);
        assert!(b.body.contains("6 places free"));

        // A register id, a malformed or an unknown reference, and a closed
        // place: all the same 404.
        let closed = laoxiao_store::public_ref::facility_ref(&app.store.reference, "FAC-SECRET-D")
            .expect("ref");
        for u in [
            "/portal/places/FAC-SECRET-A".to_string(),
            "/portal/places/zzzzzzzzzzzz".to_string(),
            "/portal/places/%3Cscript%3E".to_string(),
            format!("/portal/places/{closed}"),
        ] {
            assert_eq!(get(&app, &u).await.status, StatusCode::NOT_FOUND, "{u}");
        }
    });
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[test]
fn the_copy_catches_up_with_the_registers_after_its_refresh_interval() {
    let config = WebConfig {
        portal_places_refresh_seconds: 1,
        ..WebConfig::default()
    };
    run_with(config, |app| async move {
        let store = app.store.clone();
        block(move || seed(&store)).await;
        assert_eq!(search(&app, "").await["total"], 4);
        let store = app.store.clone();
        block(move || {
            use laoxiao_model::{Facility, FacilityKind};
            let r = &store.reference;
            let town = r.areas.children("330402")[0].code.clone();
            let f = Facility::blank(
                "FAC-NEW",
                "己托育园",
                FacilityKind::ChildcareInstitution,
                &town,
            );
            let mut c = store.conn().expect("conn");
            laoxiao_store::facilities::create(&mut c, r, &laoxiao_store::Scope::system("test"), &f)
                .expect("new");
        })
        .await;
        // Still the old copy right after the write...
        assert_eq!(search(&app, "").await["total"], 4);
        // ...and the new place once the interval has passed and a request has
        // started the rebuild in the background.
        let mut seen = false;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            if search(&app, "").await["total"] == 5 {
                seen = true;
                break;
            }
        }
        assert!(seen, "the new place never appeared");
    });
}
