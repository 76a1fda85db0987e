//! The public portal's open statistics (数据开放) over HTTP, as a visitor
//! without an account: nothing before a publication; after one, the page,
//! the three file formats and the DCAT catalogue agree with the published
//! values, small counts of people are withheld, and a crawl of every link
//! the portal shows reaches nothing personal and nothing of the staff's.
//! Bad input is a 4xx page, and one address is held to its rate.

use super::*;
use std::collections::VecDeque;
use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use laoxiao_rules::indicators::{Period, definitions};

/// Three elderly people in one village (so every count of them is small),
/// with a name and ID numbers the portal must never show.
const SECRET_NAME: &str = "王秘密";

fn seed(store: &laoxiao_store::Store) -> (Vec<String>, Period) {
    use laoxiao_model::person::Sex;
    let r = &store.reference;
    let sys = laoxiao_store::Scope::system("test");
    let mut c = store.conn().expect("conn");
    let town = r.areas.children("330402")[0].code.clone();
    let village = r.areas.children(&town)[0].code.clone();
    let birth = NaiveDate::from_ymd_opt(1940, 3, 1).expect("date");
    let mut ids = Vec::new();
    for seq in 1..=3u16 {
        let mut p = laoxiao_model::Person::blank(
            format!("E{seq}"),
            laoxiao_model::PersonRole::Elderly,
            &village,
            birth,
            if seq % 2 == 1 { Sex::Male } else { Sex::Female },
        );
        p.id_number = laoxiao_model::idcard::make(&village[..6], birth, seq);
        p.name = SECRET_NAME.into();
        laoxiao_store::people::create(&mut c, r, &sys, &p).expect("person");
        ids.push(p.id_number.clone());
    }
    let today = chrono::Local::now().date_naive();
    let period = Period {
        year: chrono::Datelike::year(&today) - 1,
        month: None,
    };
    laoxiao_store::indicators::publish(&mut c, &sys, r, period, today, None).expect("publish");
    (ids, period)
}

async fn get(app: &App, uri: &str) -> Raw {
    raw(&app.router, "GET", uri, &[], None).await
}

/// The `href`s of a page, entities decoded, same-site ones only.
fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("href=\"") {
        rest = &rest[i + 6..];
        let Some(j) = rest.find('"') else { break };
        let h = rest[..j]
            .replace("&#x2f;", "/")
            .replace("&amp;", "&")
            .replace("&#x3d;", "=");
        if h.starts_with('/') && !h.starts_with("//") {
            out.push(h);
        }
        rest = &rest[j..];
    }
    out
}

#[test]
fn open_statistics_match_the_publication_and_nothing_personal_is_reachable() {
    run(|app| async move {
        // Before any publication: the page says so, the catalogue lists only
        // the reference datasets.
        let r = get(&app, "/portal/statistics").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("no-publication"), "{}", r.body);
        let store = app.store.clone();
        let (ids, period) = block(move || seed(&store)).await;
        let p = period.to_string();

        // The page shows the period's publication.
        let r = get(&app, &format!("/portal/statistics?period={p}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("statistics-table"));
        assert!(r.body.contains("id=\"publication\""));

        // The JSON file against the store's published table.
        let r = get(&app, &format!("/portal/data/indicators-{p}/data.json")).await;
        assert_eq!(r.status, StatusCode::OK);
        let doc: Value = serde_json::from_str(&r.body).expect("json");
        let min = doc["min_count"].as_i64().expect("min_count");
        assert!(min >= 2);
        let records = doc["records"].as_array().expect("records");
        let store = app.store.clone();
        let table = block(move || {
            let mut c = store.conn().expect("conn");
            let today = chrono::Local::now().date_naive();
            laoxiao_store::indicators::table(&mut c, &store.reference, period, today, false)
                .expect("table")
        })
        .await;
        assert!(table.publication.is_some(), "the published table");
        assert_eq!(records.len(), table.values.len());
        let defs = definitions().expect("definitions");
        let mut withheld = 0;
        for (rec, v) in records.iter().zip(&table.values) {
            assert_eq!(rec["indicator"], json!(v.indicator));
            assert_eq!(rec["area_code"], json!(v.area_code));
            if rec["withheld"].is_null() {
                assert_eq!(rec["numerator"], json!(v.numerator), "{rec}");
                assert_eq!(rec["denominator"], json!(v.denominator), "{rec}");
                match v.value {
                    Some(x) => {
                        let got = rec["value"].as_f64().expect("value");
                        assert!((got - x).abs() < 1e-9, "{rec} vs {x}");
                    }
                    None => assert!(rec["value"].is_null()),
                }
                // The rule checked again from the definitions: a published
                // count of people is zero or at least the threshold.
                let d = defs
                    .all
                    .iter()
                    .find(|d| d.number == v.indicator)
                    .expect("def");
                let people = |s: &Option<laoxiao_rules::indicators::Side>| {
                    s.as_ref()
                        .is_some_and(laoxiao_rules::open_data::counts_people)
                };
                for (side, n) in [(&d.numerator, v.numerator), (&d.denominator, v.denominator)] {
                    if people(side)
                        && let Some(n) = n
                    {
                        assert!(n == 0 || n >= min, "a small count published: {rec}");
                    }
                }
            } else {
                withheld += 1;
                for k in ["value", "numerator", "denominator"] {
                    assert!(rec[k].is_null(), "withheld yet shown: {rec}");
                }
            }
        }
        assert!(
            withheld > 0,
            "three people in a village: some counts are withheld"
        );

        // CSV: a header and one line per record; XLSX: a zip.
        let r = get(&app, &format!("/portal/data/indicators-{p}/data.csv")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.headers
                .get(header::CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains(&format!("indicators-{p}.csv")))
        );
        assert_eq!(r.body.lines().count(), records.len() + 1);
        assert!(
            r.body
                .lines()
                .next()
                .is_some_and(|h| h.contains("withheld"))
        );
        let r = get(&app, &format!("/portal/data/indicators-{p}/data.xlsx")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.starts_with("PK"));

        // The DCAT catalogue: every distribution downloads.
        let r = get(&app, "/portal/data/catalog.json").await;
        assert_eq!(r.status, StatusCode::OK);
        let cat: Value = serde_json::from_str(&r.body).expect("catalogue");
        let datasets = cat["dcat:dataset"].as_array().expect("datasets");
        let ids_listed: Vec<&str> = datasets
            .iter()
            .filter_map(|d| d["dct:identifier"].as_str())
            .collect();
        assert!(
            ids_listed.contains(&format!("indicators-{p}").as_str()),
            "{ids_listed:?}"
        );
        for d in datasets {
            let dist = d["dcat:distribution"].as_array().expect("distributions");
            assert_eq!(dist.len(), 3);
            for x in dist {
                let url = x["dcat:downloadURL"].as_str().expect("url");
                let path = &url[url.find("/portal/").expect("portal path")..];
                assert_eq!(get(&app, path).await.status, StatusCode::OK, "{path}");
            }
        }

        // Crawl every link the portal shows, from its home page.
        let masked: Vec<String> = ids
            .iter()
            .map(|id| format!("{}{}", &id[..6], &id[14..]))
            .collect();
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([String::from("/portal")]);
        while let Some(u) = queue.pop_front() {
            if !seen.insert(u.clone()) {
                continue;
            }
            assert!(seen.len() < 400, "the crawl does not end");
            assert!(
                u.starts_with("/portal")
                    || u == "/console/login"
                    || u.starts_with("/console/static/"),
                "the portal links to a staff page: {u}"
            );
            if u == "/console/login" || u.starts_with("/console/static/") {
                continue;
            }
            let r = get(&app, &u).await;
            assert_eq!(r.status, StatusCode::OK, "{u}");
            assert!(!r.body.contains(SECRET_NAME), "a name at {u}");
            for id in &ids {
                assert!(!r.body.contains(id.as_str()), "an ID number at {u}");
            }
            for m in &masked {
                assert!(!r.body.contains(m.as_str()), "a masked ID number at {u}");
            }
            let html = r
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"));
            // The complaint pages carry a challenge for one visitor (proof of
            // work): never cached (docs/complaints.md).
            let one_visitor = u.starts_with("/portal/complaints");
            if html && one_visitor {
                assert_eq!(
                    r.headers
                        .get(header::CACHE_CONTROL)
                        .and_then(|v| v.to_str().ok()),
                    Some("no-store"),
                    "{u}: a page with a challenge is not cached"
                );
            }
            if html && !one_visitor {
                assert!(
                    r.headers
                        .get(header::CACHE_CONTROL)
                        .and_then(|v| v.to_str().ok())
                        .is_some_and(|v| v.starts_with("public")),
                    "{u}: a public page may be cached"
                );
            }
            if html {
                queue.extend(links(&r.body));
            }
        }
        assert!(seen.iter().any(|u| u.ends_with("/data.json")), "{seen:?}");
        assert!(seen.contains("/portal/data/areas"), "{seen:?}");
        assert!(
            seen.contains("/portal/complaints") && seen.contains("/portal/inspections"),
            "{seen:?}"
        );
    });
}

#[test]
fn bad_portal_input_is_a_clear_4xx() {
    run(|app| async move {
        let long = "x".repeat(5000);
        for (uri, status) in [
            ("/portal/statistics?period=abc", StatusCode::BAD_REQUEST),
            ("/portal/statistics?period=2019", StatusCode::BAD_REQUEST),
            ("/portal/statistics?period=2030", StatusCode::NOT_FOUND),
            ("/portal/statistics?code=999999", StatusCode::NOT_FOUND),
            ("/portal/data/nope", StatusCode::NOT_FOUND),
            ("/portal/data/areas/data.exe", StatusCode::NOT_FOUND),
            ("/portal/data/areas/..%2F..%2Fetc", StatusCode::NOT_FOUND),
            (&format!("/portal/data/{long}"), StatusCode::NOT_FOUND),
            (
                &format!("/portal/data/{long}/data.csv"),
                StatusCode::NOT_FOUND,
            ),
        ] {
            let r = get(&app, uri).await;
            assert_eq!(r.status, status, "{}", &uri[..uri.len().min(60)]);
        }
        // Only GET: the portal takes nothing in yet.
        let r = raw(&app.router, "POST", "/portal/statistics", &[], None).await;
        assert!(r.status.is_client_error(), "{}", r.status);
    });
}

async fn from(app: &App, uri: &str, addr: &str) -> StatusCode {
    let mut req = Request::builder()
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let a: SocketAddr = addr.parse().expect("addr");
    req.extensions_mut().insert(ConnectInfo(a));
    app.router
        .clone()
        .oneshot(req)
        .await
        .expect("infallible")
        .status()
}

#[test]
fn one_address_is_held_to_its_rate() {
    let config = WebConfig {
        portal_per_minute: 3,
        ..WebConfig::default()
    };
    run_with(config, |app| async move {
        for _ in 0..3 {
            assert_eq!(
                from(&app, "/portal", "192.0.2.7:4000").await,
                StatusCode::OK
            );
        }
        assert_eq!(
            from(&app, "/portal/data", "192.0.2.7:4001").await,
            StatusCode::TOO_MANY_REQUESTS
        );
        // Another address, and the staff's API, are not held back.
        assert_eq!(
            from(&app, "/portal", "192.0.2.8:4000").await,
            StatusCode::OK
        );
        assert_eq!(
            from(&app, "/api/health", "192.0.2.7:4002").await,
            StatusCode::OK
        );
    });
}
