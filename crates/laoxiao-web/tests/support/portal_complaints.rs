//! The portal's complaints and inspection results over HTTP (issue 17 part
//! 3), as a visitor without an account: a complaint without the proof of
//! work is refused, one with the honeypot filled is answered but not
//! stored, one with the work done is stored as a portal complaint routed to
//! the facility's area and shows its tracking code; the same challenge
//! again is refused; oversize or bad fields are 422 naming the field; the
//! code tracks it (status, answer) while any unknown code gets one and the
//! same "not found"; the county sees it with the contact masked. The
//! inspection results page shows published results by public reference,
//! never the register id or an inspector.

use super::*;

const FAC_ID: &str = "FAC-SECRET-77";
const FAC_NAME: &str = "南湖颐养院";
const PHONE: &str = "13812345678";

async fn get(app: &App, uri: &str) -> Raw {
    raw(&app.router, "GET", uri, &[], None).await
}

async fn post(app: &App, uri: &str, form: &[(&str, &str)]) -> Raw {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    raw(
        &app.router,
        "POST",
        uri,
        &[],
        Some(("application/x-www-form-urlencoded", body)),
    )
    .await
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The value of `<input … name="{name}" value="…">` on a page.
fn input_value(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').expect("end")].to_string()
}

/// A fresh challenge from the form page, solved as the page's script does.
async fn solved(app: &App, place: &str) -> (String, String) {
    let r = get(app, &format!("/portal/complaints?place={place}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let challenge = input_value(&r.body, "challenge");
    let bits: u32 = challenge
        .split('.')
        .nth(1)
        .expect("bits")
        .parse()
        .expect("n");
    let nonce = laoxiao_rules::pow::solve(&challenge, bits, 1 << 28).expect("solved");
    (challenge, nonce)
}

async fn count(store: &laoxiao_store::Store) -> i64 {
    let store = store.clone();
    block(move || {
        let mut c = store.conn().expect("conn");
        c.query_i64("SELECT COUNT(*) FROM complaint", &[])
            .expect("count")
    })
    .await
}

#[test]
fn portal_complaints_need_the_work_refuse_bots_and_replays_and_track_by_code() {
    run(|app| async move {
        let store = app.store.clone();
        let (place, town_path, county_token) = block(move || {
            use laoxiao_model::{Facility, FacilityKind};
            let r = &store.reference;
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let town = r.areas.children("330402")[0].clone();
            let f = Facility::blank(
                FAC_ID,
                FAC_NAME,
                FacilityKind::ElderlyInstitution,
                &town.code,
            );
            laoxiao_store::facilities::create(&mut c, r, &sys, &f).expect("facility");
            drop(c);
            let place = laoxiao_store::public_ref::facility_ref(r, FAC_ID).expect("ref");
            let token = make_user(
                &store,
                "pc-county",
                laoxiao_store::Role::CountyAdmin,
                "330402",
                None,
            );
            (place, town.path.clone(), token)
        })
        .await;

        // Finding the place by name within an area, by its public reference.
        let r = get(
            &app,
            &format!("/portal/complaints?code=330402&q={}", urlencode("颐养")),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains(FAC_NAME), "{}", r.body);
        assert!(
            r.body
                .replace("&amp;", "&")
                .contains(&format!("place={place}")),
            "{}",
            r.body
        );
        assert!(!r.body.contains(FAC_ID), "the register id is never shown");
        let r = get(&app, "/portal/complaints?place=000000000000").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

        // The form for the place: its name, a challenge, never the id, never cached.
        let r = get(&app, &format!("/portal/complaints?place={place}")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains(FAC_NAME) && r.body.contains("portal_pow.js"),
            "{}",
            r.body
        );
        assert!(!r.body.contains(FAC_ID));
        assert_eq!(
            r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store")
        );

        let good = |challenge: &str, nonce: &str| {
            vec![
                ("place".to_string(), place.clone()),
                ("category".into(), "safety".into()),
                ("body".into(), "走廊扶手松动，老人差点摔倒。".into()),
                ("contact".into(), "138 1234 5678".into()),
                ("challenge".into(), challenge.to_string()),
                ("nonce".into(), nonce.to_string()),
                ("website".into(), String::new()),
            ]
        };
        async fn send(app: &App, v: &[(String, String)]) -> Raw {
            let f: Vec<(&str, &str)> = v.iter().map(|(k, x)| (k.as_str(), x.as_str())).collect();
            post(app, "/portal/complaints", &f).await
        }

        // Without the work: 422 next to the check, nothing stored.
        let (challenge, nonce) = solved(&app, &place).await;
        let r = send(&app, &good(&challenge, "")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("id=\"e-pow\""), "{}", r.body);
        // A wrong nonce (one that does not solve it) and a forged challenge.
        let bits: u32 = challenge
            .split('.')
            .nth(1)
            .expect("bits")
            .parse()
            .expect("n");
        let wrong = (0..10_000u32)
            .map(|k| k.to_string())
            .find(|k| !laoxiao_rules::pow::solves(&challenge, k, bits))
            .expect("wrong");
        let r = send(&app, &good(&challenge, &wrong)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let forged = "v1.0.1767225600.0123456789abcdef.abcdefghjkmn";
        let r = send(&app, &good(forged, "0")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(count(&app.store).await, 0);

        // The honeypot filled: answered as sent, no code, nothing stored.
        let mut bot = good(&challenge, &nonce);
        bot.retain(|(k, _)| k != "website");
        bot.push(("website".into(), "http://spam.example".into()));
        let r = send(&app, &bot).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(!r.body.contains("tracking-code"), "{}", r.body);
        assert_eq!(
            count(&app.store).await,
            0,
            "a filled honeypot stores nothing"
        );

        // Oversize and bad fields: 422 naming each, nothing stored.
        let mut long = good(&challenge, &nonce);
        long[2].1 = "长".repeat(2001);
        long[3].1 = "not a phone".into();
        let r = send(&app, &long).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.contains("id=\"e-body\"") && r.body.contains("id=\"e-contact\""),
            "{}",
            r.body
        );
        let mut huge = good(&challenge, &nonce);
        huge[3].1 = format!("{}@example.com", "a".repeat(200));
        huge[0].1 = "x".repeat(500);
        let r = send(&app, &huge).await;
        assert!(r.status.is_client_error(), "{}", r.status);
        assert_eq!(count(&app.store).await, 0);

        // With the work done: stored as a portal complaint of the facility's area.
        let r = send(&app, &good(&challenge, &nonce)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let at = r.body.find("id=\"tracking-code\">").expect("code shown") + 19;
        let code = r.body[at..at + 12].to_string();
        assert!(code.starts_with("TS"), "{code}");
        assert!(!r.body.contains(FAC_ID));
        let (store, code2, town2) = (app.store.clone(), code.clone(), town_path.clone());
        block(move || {
            let (code, town_path) = (code2, town2);
            let mut c = store.conn().expect("conn");
            let row = c
                .query_opt(
                    "SELECT source, facility_id, facility_path, filed_by, contact_phone FROM complaint WHERE tracking_code = $1",
                    &[code.as_str().into()],
                )
                .expect("query")
                .expect("stored");
            assert_eq!(row.get::<String>("source").expect("s"), "portal");
            assert_eq!(row.get::<String>("facility_id").expect("f"), FAC_ID);
            assert!(
                row.get::<String>("facility_path")
                    .expect("p")
                    .starts_with(&town_path)
            );
            assert_eq!(row.get::<Option<String>>("filed_by").expect("b"), None);
            let enc: String = row
                .get::<Option<String>>("contact_phone")
                .expect("c")
                .expect("contact");
            assert!(!enc.contains(PHONE), "the contact is stored encrypted");
        })
        .await;

        // The same challenge again: refused (409), still one complaint.
        let r = send(&app, &good(&challenge, &nonce)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert_eq!(count(&app.store).await, 1);

        // Tracking by code (typed loosely): the status, no body, no contact.
        let loose = format!("{}-{}", code[..6].to_lowercase(), &code[6..]);
        let r = post(&app, "/portal/complaints/track", &[("code", &loose)]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.contains(FAC_NAME) && r.body.contains("data-status=\"received\""),
            "{}",
            r.body
        );
        assert!(
            !r.body.contains("扶手松动") && !r.body.contains("5678"),
            "{}",
            r.body
        );
        // Unknown codes: one and the same answer; a malformed one is 422.
        let a = post(
            &app,
            "/portal/complaints/track",
            &[("code", "TS0000000000")],
        )
        .await;
        let b = post(
            &app,
            "/portal/complaints/track",
            &[("code", "TS0000000001")],
        )
        .await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert_eq!((a.status, &a.body), (b.status, &b.body));
        let r = post(&app, "/portal/complaints/track", &[("code", "hello")]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = post(
            &app,
            "/portal/complaints/track",
            &[("code", &"T".repeat(5000))],
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

        // The county sees it, the contact masked; an e-mail contact is masked too.
        let r = raw_as(&app, &county_token, "/api/complaints").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains(&code), "{}", r.body);
        let id = {
            let v: Value = serde_json::from_str(&r.body).expect("json");
            let rows = v
                .get("items")
                .or_else(|| v.get("rows"))
                .cloned()
                .unwrap_or(v.clone());
            let list = rows.as_array().cloned().unwrap_or_default();
            list.iter()
                .find(|x| x["tracking_code"] == code.as_str())
                .and_then(|x| x["id"].as_str().map(str::to_string))
                .expect("listed")
        };
        let r = raw_as(&app, &county_token, &format!("/api/complaints/{id}")).await;
        assert!(
            r.body.contains("138****5678") && !r.body.contains(PHONE),
            "{}",
            r.body
        );
        assert!(r.body.contains("\"source\":\"portal\""), "{}", r.body);

        let (c2, n2) = solved(&app, &place).await;
        let mut mail = good(&c2, &n2);
        mail[3].1 = "Zhang.San@Example.com".into();
        let r = send(&app, &mail).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = raw_as(&app, &county_token, "/api/complaints").await;
        assert!(!r.body.contains("Zhang.San"), "{}", r.body);
        assert_eq!(count(&app.store).await, 2);

        // Answered: the tracking page shows the answer and who answered (the side, no name).
        let store = app.store.clone();
        let id2 = id.clone();
        block(move || {
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            laoxiao_store::complaints::answer(
                &mut c,
                &store.reference,
                &sys,
                &id2,
                "扶手已于当日加固。",
                chrono::Utc::now(),
            )
            .expect("answer");
        })
        .await;
        let r = post(&app, "/portal/complaints/track", &[("code", &code)]).await;
        assert!(
            r.body.contains("扶手已于当日加固。") && r.body.contains("data-status=\"answered\""),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("机构答复") || r.body.contains("监管部门督办答复"),
            "the side, no name: {}",
            r.body
        );
    });
}

#[test]
fn published_inspection_results_name_places_by_reference_only() {
    run(|app| async move {
        let store = app.store.clone();
        let refs = block(move || {
            use laoxiao_model::{Facility, FacilityKind};
            let r = &store.reference;
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let towns = r.areas.children("330402");
            let mut refs = Vec::new();
            for i in 0..6 {
                let id = format!("INSP-SECRET-{i}");
                let town = &towns[i % towns.len()];
                let f = Facility::blank(
                    &id,
                    format!("检查样本院{i}"),
                    FacilityKind::ElderlyInstitution,
                    &town.code,
                );
                laoxiao_store::facilities::create(&mut c, r, &sys, &f).expect("facility");
                refs.push(laoxiao_store::public_ref::facility_ref(r, &id).expect("ref"));
            }
            laoxiao_store::inspections::seed_demo(&mut c, r, "330402", chrono::Utc::now())
                .expect("seed")
                .expect("a plan");
            refs
        })
        .await;
        let mut r = get(&app, "/portal/inspections?code=330402").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body = r.body.replace("&#x2f;", "/");
        assert!(
            r.body.contains("data-verdict="),
            "a published result: {}",
            r.body
        );
        assert!(
            refs.iter()
                .any(|x| r.body.contains(&format!("/portal/places/{x}"))),
            "{}",
            r.body
        );
        assert!(
            !r.body.contains("INSP-SECRET"),
            "no register id: {}",
            r.body
        );
        assert!(
            !r.body.contains("inspector3") && !r.body.contains("inspector4"),
            "no inspector"
        );
        // The draw: commitment and the revealed seed, which hashes to it.
        let store = app.store.clone();
        let (seed, commit) = block(move || {
            let mut c = store.conn().expect("conn");
            let d = c
                .query_opt(
                    "SELECT commit_hash, seed FROM inspection_draw WHERE status = 'drawn'",
                    &[],
                )
                .expect("q")
                .expect("a draw");
            let seed: String = d.get("seed").expect("seed");
            let commit: String = d.get("commit_hash").expect("commit");
            (seed, commit)
        })
        .await;
        assert!(
            r.body.contains(&seed) && r.body.contains(&commit),
            "{}",
            r.body
        );
        assert_eq!(
            r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("public, max-age=60")
        );
        // Bad input: an unknown area 404, an absurd period 400; an English page.
        assert_eq!(
            get(&app, "/portal/inspections?code=999999").await.status,
            StatusCode::NOT_FOUND
        );
        let long = "9".repeat(40);
        assert_eq!(
            get(&app, &format!("/portal/inspections?period={long}"))
                .await
                .status,
            StatusCode::BAD_REQUEST
        );
        let r = get(&app, "/portal/inspections?code=330402&lang=en").await;
        assert!(r.body.contains("Inspection results"), "{}", r.body);

        // The subsidy link: the open rectification order put past its
        // deadline holds the facility, and the subsidy snapshot carries the
        // hold (the rules then withhold its operating subsidies: unit-tested
        // in laoxiao_rules::subsidies).
        let store = app.store.clone();
        block(move || {
            let mut c = store.conn().expect("conn");
            let fid: String = c
                .query_opt(
                    "SELECT i.facility_id FROM rectification r JOIN inspection i ON i.id = r.inspection_id \
                     WHERE r.status = 'open'",
                    &[],
                )
                .expect("q")
                .expect("an open order")
                .get("facility_id")
                .expect("id");
            let today = chrono::Utc::now().date_naive();
            let params = laoxiao_store::subsidies::params(&mut c).expect("params");
            let before = laoxiao_store::subsidies::snapshot(&mut c, &params, today, today).expect("snap");
            c.execute("UPDATE rectification SET due = '2020-01-01' WHERE status = 'open'", &[])
                .expect("overdue");
            let after = laoxiao_store::subsidies::snapshot(&mut c, &params, today, today).expect("snap");
            assert!(
                after.holds.iter().any(|h| h.facility_id == fid),
                "{:?}",
                after.holds
            );
            assert!(!before.holds.iter().any(|h| h.facility_id == fid && h.reason == "overdue_rectification"));
            assert_ne!(before.digest(), after.digest(), "the hold is in the digest");
        })
        .await;
    });
}
