//! Key projects (重点项目) over HTTP, end to end: a county lists its
//! projects, reports progress with a photo (a PDF refused), sets a
//! milestone and completes a project, which registers its facility; another
//! county finds none of it (404); bad numbers are 422 naming the field. The
//! public page and the `key-projects` dataset show the same figures, and
//! neither shows the implementing unit, report texts or photos.

use super::*;

async fn public(app: &App, uri: &str) -> Raw {
    raw(&app.router, "GET", uri, &[], None).await
}

/// A CSV file's records (RFC 4180 quoting), header first.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(ch) = chars.next() {
        match (quoted, ch) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

/// The `<li>` of project `n` on the portal page.
fn item(html: &str, n: i64) -> &str {
    let start = html
        .find(&format!("data-number=\"{n}\""))
        .unwrap_or_else(|| panic!("project {n} on the page"));
    let end = html[start..].find("</li>").expect("end of item") + start;
    &html[start..end]
}

#[test]
fn key_projects_are_reported_completed_and_published() {
    let dir = tempfile::tempdir().expect("dir");
    let config = WebConfig {
        uploads_dir: dir.path().to_path_buf(),
        upload_max_bytes: 4096,
        ..WebConfig::default()
    };
    run_with(config, |app| async move {
        let store = app.store.clone();
        let tokens = block(move || {
            use laoxiao_store::Role;
            vec![
                make_user(&store, "nanhu", Role::CountyAdmin, "330402", None),
                make_user(&store, "xiuzhou", Role::CountyAdmin, "330411", None),
                make_user(&store, "town", Role::TownStaff, "330402014", None),
            ]
        })
        .await;
        let as_ = |t: &String| App {
            token: Some(t.clone()),
            ..app.clone()
        };
        let (nanhu, xiuzhou, town) = (as_(&tokens[0]), as_(&tokens[1]), as_(&tokens[2]));

        // ---- lists: the county's own projects, filters checked.
        let r = nanhu.get("/api/key-projects").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let items = r.body["items"].as_array().expect("items");
        assert_eq!(
            items.len(),
            16,
            "南湖区's 13, 经开区's 7 and 长水街道's 42, 43"
        );
        assert!(items.iter().all(|p| p["county_code"] == "330402"));
        let r = nanhu.get("/api/key-projects?project_type=childcare").await;
        assert!(
            r.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .all(|p| p["project_type"] == "childcare")
        );
        let f = nanhu
            .get("/api/key-projects?status=late")
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["status"]);
        let f = nanhu
            .get("/api/key-projects?county=12")
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["county"]);
        assert_eq!(
            town.get("/api/key-projects").await.status,
            StatusCode::FORBIDDEN
        );

        // ---- a report: bounds named, then recorded.
        let f = nanhu
            .post(
                "/api/key-projects/42/reports",
                &json!({"report_date": "2020-13-01", "investment_spent_10k_yuan": 1, "percent_complete": 40}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["report_date"]);
        let f = nanhu
            .post(
                "/api/key-projects/42/reports",
                &json!({"report_date": "2025-01-02", "investment_spent_10k_yuan": 60.5, "percent_complete": 150}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["percent_complete"]);
        let f = nanhu
            .post(
                "/api/key-projects/42/reports",
                &json!({"report_date": "2025-01-02", "percent_complete": 50}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["investment_spent_10k_yuan"]);
        let body = json!({"report_date": "2025-01-02", "investment_spent_10k_yuan": 60.5,
            "funding_granted_10k_yuan": 50, "percent_complete": 70, "body": "内部装修"});
        let r = nanhu.post("/api/key-projects/42/reports", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let report = r.body["id"].as_str().expect("id").to_string();

        // ---- another county: not found, nothing written.
        assert_eq!(
            xiuzhou.get("/api/key-projects/42").await.status,
            StatusCode::NOT_FOUND
        );
        let r = xiuzhou.post("/api/key-projects/42/reports", &body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let png = b"\x89PNG\r\n\x1a\nsite-photo".to_vec();
        let photo_uri = format!("/api/key-projects/42/reports/{report}/photos?file_name=site.png");
        let r = xiuzhou
            .send(Method::POST, &photo_uri, Some(("image/png", png.clone())))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        // ---- a photo: a PNG kept, a PDF refused, too large refused.
        let r = nanhu
            .send(Method::POST, &photo_uri, Some(("image/png", png.clone())))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let photo = r.body["id"].as_str().expect("photo").to_string();
        let r = nanhu
            .send(
                Method::POST,
                &photo_uri,
                Some(("application/pdf", b"%PDF-1.4\n%%EOF\n".to_vec())),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
        let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
        big.resize(5000, 0);
        let r = nanhu
            .send(Method::POST, &photo_uri, Some(("image/png", big)))
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
        let r = raw(
            &app.router,
            "GET",
            &format!("/api/key-projects/42/photos/{photo}"),
            &[("authorization".into(), format!("Bearer {}", tokens[0]))],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let r = nanhu.get("/api/key-projects/42").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["project"]["percent_complete"], 70);
        assert_eq!(r.body["project"]["investment_spent_10k_yuan"], 60.5);
        assert_eq!(r.body["reports"][0]["photos"][0]["file_name"], "site.png");

        // ---- a milestone, then completion registers the facility.
        let r = nanhu
            .post(
                "/api/key-projects/42/milestones",
                &json!({"title": "竣工验收", "planned_on": "2025-03-31", "done_on": "2025-03-30"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let f = nanhu
            .post(
                "/api/key-projects/42/milestones",
                &json!({"planned_on": "2025-03-31"}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["title"]);
        let f = nanhu
            .post(
                "/api/key-projects/42/complete",
                &json!({"completed_on": "2025-04-01", "delivered_capacity": -1}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["delivered_capacity"]);
        let r = xiuzhou
            .post(
                "/api/key-projects/42/complete",
                &json!({"completed_on": "2025-04-01", "delivered_capacity": 60}),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = nanhu
            .post(
                "/api/key-projects/42/complete",
                &json!({"completed_on": "2025-04-01", "delivered_capacity": 60}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let fid = r.body["facility_id"]
            .as_str()
            .expect("facility")
            .to_string();
        let r = nanhu.get(&format!("/api/facilities/{fid}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["approved_slots"], 60);
        assert_eq!(r.body["kind"], "childcare_institution");
        let r = nanhu.post("/api/key-projects/42/reports", &body).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "completed: no more reports");

        // ---- the public page and the dataset agree, row by row.
        let page = public(&app, "/portal/projects").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let csv = public(&app, "/portal/data/key-projects/data.csv").await;
        assert_eq!(csv.status, StatusCode::OK);
        let mut table = parse_csv(&csv.body);
        let headers = table.remove(0);
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("column {name}"))
        };
        let (n, status, spent, planned, percent) = (
            col("number"),
            col("status"),
            col("investment_spent_10k_yuan"),
            col("investment_planned_10k_yuan"),
            col("percent_complete"),
        );
        let rows = table;
        assert_eq!(rows.len(), 72);
        for row in &rows {
            let num: i64 = row[n].parse().expect("number");
            let li = item(&page.body, num);
            assert!(
                li.contains(&format!("data-status=\"{}\"", &row[status])),
                "{li}"
            );
            assert!(
                li.contains(&format!("{} / {}", &row[spent], &row[planned])),
                "project {num}: {li}"
            );
            assert!(li.contains(&format!("{}%", &row[percent])), "{li}");
        }
        let r42 = rows.iter().find(|r| r[n] == "42").expect("42");
        assert_eq!(&r42[status], "completed");
        assert_eq!(&r42[spent], "60.5");
        assert_eq!(&r42[percent], "100");
        let json_file = public(&app, "/portal/data/key-projects/data.json").await;
        let doc: Value = serde_json::from_str(&json_file.body).expect("json");
        let records = doc["records"].as_array().expect("records");
        assert_eq!(records.len(), 72);
        let j42 = records.iter().find(|r| r["number"] == 42).expect("42");
        assert_eq!(j42["investment_spent_10k_yuan"], 60.5);
        assert_eq!(j42["delivered_capacity"], 60);
        let xlsx = raw(
            &app.router,
            "GET",
            "/portal/data/key-projects/data.xlsx",
            &[],
            None,
        )
        .await;
        assert_eq!(xlsx.status, StatusCode::OK);

        // The county table: 南湖区 has 16 projects, 1 completed, 60 slots delivered.
        let start = page.body.find("data-county=\"330402\"").expect("南湖 row");
        let end = page.body[start..].find("</tr>").expect("row end") + start;
        let cells: Vec<&str> = page.body[start..end]
            .split("<td class=\"num\">")
            .skip(1)
            .map(|c| c.split('<').next().unwrap_or(""))
            .collect();
        assert_eq!(cells[0], "16");
        assert_eq!(cells[1], "1");
        assert!(cells[4].starts_with("60 / "), "{cells:?}");

        // Nothing that is not public: no implementing unit, report text or photo.
        for text in [
            "嘉兴经济技术开发区石雪幼儿园",
            "内部装修",
            "site.png",
            "nanhu",
        ] {
            assert!(!page.body.contains(text), "{text} on the page");
            assert!(!csv.body.contains(text), "{text} in the file");
            assert!(!json_file.body.contains(text), "{text} in the JSON");
        }
        // The dataset is in the catalogue, and the page links it and the home page links the page.
        let unescape = |s: &str| s.replace("&#x2f;", "/");
        let cat = public(&app, "/portal/data").await;
        assert!(unescape(&cat.body).contains("href=\"/portal/data/key-projects\""));
        assert!(unescape(&page.body).contains("href=\"/portal/data/key-projects/data.csv\""));
        let home = public(&app, "/portal").await;
        assert!(home.body.contains("href=\"/portal/projects\""));
        // A county filter, and a bad one.
        let r = public(&app, "/portal/projects?county=330411").await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.body.contains("data-number=\"42\""));
        assert!(r.body.contains("data-number=\"44\""));
        let r = public(&app, "/portal/projects?county=330402014").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    });
}
