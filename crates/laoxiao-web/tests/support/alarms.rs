//! Alarms end to end through the HTTP API: a signed event → dispatched to
//! the person's village → escalated after the deadline → acknowledged,
//! reached, closed; a repeated event (200, same alarm), a bad signature and a
//! skewed clock (401, counted), an unknown device (422); another town sees
//! nothing; sessions and tokens do not open the intake.

use super::*;

fn signed(platform: &str, secret: &str, stamp: i64, body: &str) -> Vec<(String, String)> {
    let ts = stamp.to_string();
    vec![
        ("x-laoxiao-platform".into(), platform.into()),
        ("x-laoxiao-timestamp".into(), ts.clone()),
        (
            "x-laoxiao-signature".into(),
            laoxiao_store::alarms::sign(secret, &ts, body.as_bytes()),
        ),
    ]
}

#[test]
fn alarm_signed_event_dispatch_escalation_close() {
    run(|app| async move {
        let store = app.store.clone();
        let (w, secret) = block(move || {
            let w = world(&store);
            seed(&store, &w);
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let (_, secret) =
                laoxiao_store::alarms::add_platform(&mut c, &store.reference, &sys, "P1", "平台")
                    .expect("platform");
            let dev = laoxiao_model::alarms::Device {
                id: "D1".into(),
                kind: laoxiao_model::alarms::DeviceKind::FallDetector,
                person_id: "PA".into(),
                installed_date: d("2024-01-01"),
                owner: laoxiao_model::alarms::DeviceOwner::Government,
                provider_id: None,
                platform_id: "P1".into(),
                platform_device_id: "FALL-1".into(),
                status: laoxiao_model::alarms::DeviceStatus::Active,
                note: None,
            };
            laoxiao_store::registry::create(&mut c, &store.checker(), &sys, &dev, d("2026-01-01"))
                .expect("device");
            (w, secret)
        })
        .await;
        let now = chrono::Utc::now();
        let body = format!(
            r#"{{"event_id":"E-1","device_id":"FALL-1","occurred_at":"{}"}}"#,
            now.format("%Y-%m-%dT%H:%M:%SZ")
        );
        let post = |h: Vec<(String, String)>, b: String| {
            let router = app.router.clone();
            async move {
                raw(
                    &router,
                    "POST",
                    "/api/alarms/events",
                    &h,
                    Some(("application/json", b)),
                )
                .await
            }
        };
        let r = post(signed("P1", &secret, now.timestamp(), &body), body.clone()).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let v: Value = serde_json::from_str(&r.body).expect("json");
        let id = v["alarm_id"].as_str().expect("id").to_string();
        // Replay: 200, the same alarm.
        let r = post(signed("P1", &secret, now.timestamp(), &body), body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains(&id));
        // Bad signature, skew: 401 with their codes.
        let mut h = signed("P1", &secret, now.timestamp(), &body);
        h[2].1 = "ab".repeat(32);
        let r = post(h, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("bad_signature"), "{}", r.body);
        let r = post(
            signed("P1", &secret, now.timestamp() - 400, &body),
            body.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("clock_skew"), "{}", r.body);
        // Unknown device: 422 naming the field.
        let b2 = body.replace("FALL-1", "NOPE").replace("E-1", "E-2");
        let r = post(signed("P1", &secret, now.timestamp(), &b2), b2.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("device_id"), "{}", r.body);
        // A city administrator's token does not open the intake.
        let r = app
            .post(
                "/api/alarms/events",
                &serde_json::from_str::<Value>(&body).expect("j"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // Counted, visible to administrators.
        let r = app.get("/api/alarms/platforms").await;
        assert_eq!(
            r.body["items"][0]["failures"]["bad_signature"], 1,
            "{}",
            r.body
        );
        assert_eq!(
            r.body["items"][0]["failures"]["clock_skew"], 1,
            "{}",
            r.body
        );
        assert_eq!(
            r.body["items"][0]["failures"]["unknown_device"], 1,
            "{}",
            r.body
        );

        // Dispatched to village A's staff; town B sees nothing.
        let village = as_user(&app, "v-alarm", Role::VillageStaff, &w.village_a, None).await;
        let other = as_user(&app, "b-alarm", Role::TownStaff, &w.town_b, None).await;
        let r = village.get(&format!("/api/alarms/{id}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["state"], "open");
        assert_eq!(r.body["area_code"], w.village_a.as_str());
        other
            .get(&format!("/api/alarms/{id}"))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(other.get("/api/alarms").await.body["total"], 0);

        // Escalation after the 5-minute deadline (the server's check, run as if later).
        let store = app.store.clone();
        let n = block(move || {
            let mut c = store.conn().expect("conn");
            laoxiao_store::alarms::escalate_due(&mut c, now + chrono::Duration::minutes(6))
        })
        .await
        .expect("escalate");
        assert_eq!(n, 1);
        let r = village.get(&format!("/api/alarms/{id}")).await;
        assert_eq!(r.body["escalated"], true, "{}", r.body);
        assert_eq!(r.body["escalation_reason"], "not_acknowledged");

        // Acknowledge, reach, close; a second close is a conflict; no outcome is 422.
        let r = village
            .post(&format!("/api/alarms/{id}/acknowledge"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["state"], "acknowledged");
        let r = village
            .post(
                &format!("/api/alarms/{id}/reach"),
                &json!({"note": "已到老人家中"}),
            )
            .await;
        assert_eq!(r.body["state"], "on_site", "{}", r.body);
        village
            .post(&format!("/api/alarms/{id}/close"), &json!({}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let r = village
            .post(
                &format!("/api/alarms/{id}/close"),
                &json!({"outcome": "resolved_at_home"}),
            )
            .await;
        assert_eq!(r.body["state"], "closed", "{}", r.body);
        assert_eq!(r.body["outcome"], "resolved_at_home");
        let steps: Vec<&str> = r.body["timeline"]
            .as_array()
            .expect("timeline")
            .iter()
            .filter_map(|s| s["step"].as_str())
            .collect();
        assert_eq!(
            steps,
            // In time order: the escalation check ran on a clock six minutes
            // ahead (above), so its stamp comes after the real-time steps.
            [
                "occurred",
                "received",
                "acknowledged",
                "on_site",
                "closed",
                "escalated"
            ]
        );
        village
            .post(
                &format!("/api/alarms/{id}/close"),
                &json!({"outcome": "other"}),
            )
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");
        // The console pages render for the village staff.
        let cookie = console_session(&app, "v-alarm-c", Role::VillageStaff, &w.village_a).await;
        let r = raw(
            &app.router,
            "GET",
            "/console/alarms?state=closed",
            &cookie,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let r = raw(
            &app.router,
            "GET",
            &format!("/console/alarms/{id}"),
            &cookie,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    });
}
