//! The JSON API driven through the router with `tower::ServiceExt::oneshot`, on SQLite
//! always and on PostgreSQL when `TEST_DATABASE_URL` is set (a fresh schema per test).
//!
//! Each test builds its own tokio runtime and drops the store outside it: the sync
//! PostgreSQL client must not be dropped (or used) on an async thread.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::NaiveDate;
use laoxiao_store::testdb::TestDb;
use laoxiao_web::{AppState, WebConfig};
use serde_json::{Value, json};
use tower::ServiceExt;

// ---------------------------------------------------------------------------
// Harness

#[derive(Clone)]
struct App {
    router: Router,
    backend: &'static str,
    /// The API token sent as `Authorization: Bearer` (a city administrator's by default).
    token: Option<String>,
    store: laoxiao_store::Store,
}

#[derive(Debug)]
struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Resp {
    /// Asserts the error envelope and status; returns the detail fields.
    fn expect_error(&self, status: StatusCode, code: &str) -> Vec<String> {
        assert_eq!(self.status, status, "body: {}", self.body);
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(ct.starts_with("application/json"), "content type {ct:?}");
        let err = &self.body["error"];
        assert_eq!(err["code"], code, "body: {}", self.body);
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "message in {}",
            self.body
        );
        let details = err["details"].as_array().expect("details array");
        details
            .iter()
            .map(|d| {
                assert!(d["reason"].as_str().is_some_and(|r| !r.is_empty()));
                d["field"].as_str().expect("field").to_string()
            })
            .collect()
    }
}

impl App {
    async fn send(&self, method: Method, uri: &str, body: Option<(&str, Vec<u8>)>) -> Resp {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = &self.token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some((ct, bytes)) => {
                req = req.header(header::CONTENT_TYPE, ct);
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "[{}] {uri}: response is not JSON ({e}): {}",
                    self.backend,
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, uri: &str) -> Resp {
        self.send(Method::GET, uri, None).await
    }

    async fn post(&self, uri: &str, v: &Value) -> Resp {
        self.send(
            Method::POST,
            uri,
            Some(("application/json", v.to_string().into_bytes())),
        )
        .await
    }

    async fn put(&self, uri: &str, v: &Value) -> Resp {
        self.send(
            Method::PUT,
            uri,
            Some(("application/json", v.to_string().into_bytes())),
        )
        .await
    }

    async fn delete(&self, uri: &str) -> Resp {
        self.send(Method::DELETE, uri, None).await
    }
}

/// Runs `test` once per test database (SQLite, plus PostgreSQL when configured).
fn run<F, Fut>(test: F)
where
    F: Fn(App) -> Fut,
    Fut: Future<Output = ()>,
{
    run_with(WebConfig::default(), test)
}

fn run_with<F, Fut>(config: WebConfig, test: F)
where
    F: Fn(App) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in TestDb::all().expect("test databases") {
        let backend = match db.store.backend() {
            laoxiao_store::Backend::Sqlite => "sqlite",
            laoxiao_store::Backend::Postgres => "postgres",
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let token = make_user(
            &db.store,
            "admin",
            laoxiao_store::Role::CityAdmin,
            "330400",
            None,
        );
        let app = App {
            router: laoxiao_web::router(AppState::new(db.store.clone(), config.clone())),
            backend,
            token: Some(token),
            store: db.store.clone(),
        };
        eprintln!("-- backend {backend}");
        rt.block_on(test(app.clone()));
        // `app`, then `db`, then `rt` drop here, outside the runtime.
        drop(app);
        drop(db);
        drop(rt);
    }
}

/// Creates an account and returns an API token for it (synchronous: call it
/// outside the runtime or in `spawn_blocking`).
fn make_user(
    store: &laoxiao_store::Store,
    name: &str,
    role: laoxiao_store::Role,
    area: &str,
    facility: Option<&str>,
) -> String {
    let sys = laoxiao_store::Scope::system("test");
    let mut c = store.conn().expect("conn");
    laoxiao_store::accounts::create_user(
        &mut c,
        &store.reference,
        &sys,
        name,
        role,
        area,
        facility,
        "a-long-test-password",
    )
    .expect("user");
    laoxiao_store::accounts::create_token(&mut c, &sys, name, "test", 1).expect("token")
}

// ---------------------------------------------------------------------------
// Data

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn credit_code(tail9: &str) -> String {
    laoxiao_model::credit_code::make(&format!("91330402{tail9}")).expect("credit code")
}

fn care_home(id: &str, area: &str, name: &str) -> Value {
    json!({
        "id": id,
        "name": name,
        "kind": "elderly_institution",
        "ownership": "public",
        "operator_name": "嘉兴市测试运营公司",
        "operator_credit_code": credit_code("MA2B3C4D5"),
        "area_code": area,
        "address": "测试路1号",
        "lng": 120.755,
        "lat": 30.75,
        "beds": 120,
        "nursing_beds": 80,
        "dementia_beds": 10,
        "rating": "star3",
        "opening_date": "2018-01-01"
    })
}

fn childcare(id: &str, area: &str) -> Value {
    json!({
        "id": id,
        "name": format!("托育园{id}"),
        "kind": "childcare_institution",
        "area_code": area,
        "approved_slots": 60,
        "inclusive": true,
        "filing_status": "filed",
        "filing_date": "2023-03-01",
        "classes": [
            { "id": format!("{id}-C1"), "class_type": "young_toddler_class", "capacity": 15, "enrolled": 12, "caregivers": 3, "monthly_fee_fen": 250000 },
            { "id": format!("{id}-C2"), "class_type": "older_toddler_class", "capacity": 20, "enrolled": 18, "caregivers": 3 }
        ]
    })
}

fn elderly(id: &str, birth: &str, seq: u16) -> Value {
    json!({
        "id": id,
        "role": "elderly",
        "id_number": laoxiao_model::idcard::make("330402", d(birth), seq),
        "name": "王某某",
        "birth_date": birth,
        "residence_area_code": "330402007",
        "living_arrangement": "living_alone",
        "special_difficulty": ["minimum_living_allowance"],
        "ability_level": "2",
    })
}

// ---------------------------------------------------------------------------
// Health and documentation

#[test]
fn health_reports_backend_and_schema() {
    run(|app| async move {
        let r = app.get("/api/health").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "ok");
        assert_eq!(r.body["backend"], app.backend);
        let v = r.body["schema_version"].as_i64().expect("schema version");
        assert!(v >= 1);
        assert_eq!(r.body["latest_schema_version"], v);
    });
}

/// Every route the router serves, as the OpenAPI document must list it.
/// The API routes of the policy table (lower-case method, path): the OpenAPI
/// document must list exactly these.
fn api_routes() -> Vec<(String, String)> {
    laoxiao_web::auth::policy()
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/"))
        .map(|(m, p, _)| (m.to_lowercase(), p.to_string()))
        .collect()
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    collect_refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[test]
fn openapi_lists_every_route_and_resolves_every_schema() {
    run(|app| async move {
        let r = app.get("/api/openapi.json").await;
        assert_eq!(r.status, StatusCode::OK);
        let doc = r.body;
        assert!(
            doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
            "openapi version"
        );
        let mut documented = BTreeSet::new();
        let mut operation_ids = HashSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                    documented.insert((method.clone(), path.clone()));
                    let id = op["operationId"].as_str().expect("operationId");
                    assert!(
                        operation_ids.insert(id.to_string()),
                        "operationId {id} repeats"
                    );
                }
            }
        }
        let expected: BTreeSet<(String, String)> = api_routes().into_iter().collect();
        assert_eq!(documented, expected);

        // Every listed route is served: it reaches a handler, not a fallback.
        for (m, p) in api_routes() {
            let m = m.as_str();
            let uri = p
                .replace("{code}", "330402")
                .replace("{id}", "nope")
                .replace("{line}", "1");
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).expect("method");
            let body = matches!(m, "post" | "put").then(|| ("application/json", b"{}".to_vec()));
            let r = app.send(method, &uri, body).await;
            let code = r.body["error"]["code"].as_str().unwrap_or_default();
            assert!(
                code != "route_not_found" && code != "method_not_allowed",
                "{m} {uri} is not served: {}",
                r.body
            );
            assert!(!r.status.is_server_error(), "{m} {uri}: {}", r.body);
        }

        // Every reference points at a schema in the document.
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(!refs.is_empty());
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        for r in refs {
            let name = r
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected ref {r}"));
            assert!(schemas.contains_key(name), "dangling ref {r}");
        }
        // Model enums are documented with their identifiers.
        let kinds = schemas["FacilityKind"]["enum"].as_array().expect("enum");
        assert!(kinds.iter().any(|k| k == "childcare_institution"));
        // Query parameters are documented.
        let params = doc["paths"]["/api/facilities"]["get"]["parameters"]
            .as_array()
            .expect("parameters");
        let names: HashSet<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
        for n in ["area", "kind", "q", "after", "limit", "filing_status"] {
            assert!(names.contains(n), "parameter {n} missing");
        }
    });
}

// ---------------------------------------------------------------------------
// Areas

#[test]
fn areas_list_filter_and_detail() {
    run(|app| async move {
        let r = app.get("/api/areas?level=county").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["total"], 7);
        let r = app.get("/api/areas?parent=330402").await;
        let items = r.body["items"].as_array().expect("items");
        assert!(!items.is_empty());
        assert!(
            items
                .iter()
                .all(|a| a["level"] == "town" && a["parent_code"] == "330402")
        );
        let r = app.get("/api/areas?within=330402007&level=village").await;
        let villages = r.body["total"].as_i64().expect("total");
        assert!(villages > 0);

        let r = app.get("/api/areas/330402007").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["code"], "330402007");
        assert_eq!(r.body["level"], "town");
        let chain: Vec<&str> = r.body["ancestors"]
            .as_array()
            .expect("ancestors")
            .iter()
            .filter_map(|a| a["code"].as_str())
            .collect();
        assert_eq!(chain, vec!["330400", "330402"]);
        assert_eq!(r.body["child_count"], villages);

        let r = app.get("/api/areas/330400").await;
        assert_eq!(r.body["ancestors"].as_array().map(Vec::len), Some(0));
        assert_eq!(r.body["child_count"], 7);

        app.get("/api/areas/999999")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.get("/api/areas/abc")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        let f = app
            .get("/api/areas?level=province&within=999999")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["level"]);
        let f = app
            .get("/api/areas?within=999999")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["within"]);
    });
}

// ---------------------------------------------------------------------------
// Facilities

/// The facility's monthly fee (月收费), added by declaring it and migrating
/// both databases: the API takes and answers it in fen, checks its bound,
/// filters lists by its range, and documents all of it.
#[test]
fn facility_monthly_fee_follows_from_its_declaration() {
    run(|app| async move {
        let mut body = care_home("F-FEE", "330402007", "南湖颐养院");
        body["monthly_fee"] = json!(350_000);
        let r = app.post("/api/facilities", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["monthly_fee"], 350_000);
        let mut cheap = care_home("F-CHEAP", "330402007", "南湖小院");
        cheap["monthly_fee"] = json!(120_000);
        let r = app.post("/api/facilities", &cheap).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(
            app.get("/api/facilities/F-FEE").await.body["monthly_fee"],
            350_000
        );

        // A range filter in fen, as the API's JSON and its document speak.
        let r = app
            .get("/api/facilities?monthly_fee_from=200000&monthly_fee_to=400000")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let ids: Vec<&str> = r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|f| f["id"].as_str())
            .collect();
        assert_eq!(ids, vec!["F-FEE"]);

        // A filter's ends keep the bound too, and are whole fen.
        for q in [
            "monthly_fee_to=-1",
            "monthly_fee_from=20.5",
            "monthly_fee_from=",
        ] {
            let r = app.get(&format!("/api/facilities?{q}")).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.body);
        }

        // Its bound is the declaration's.
        let mut bad = care_home("F-BAD", "330402007", "颐养院");
        bad["monthly_fee"] = json!(-1);
        let f = app
            .post("/api/facilities", &bad)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["monthly_fee"]);
        // A blank id is refused as the schema says (minLength 1), not taken
        // for an absent one.
        for id in [json!(" "), json!({}), json!(7)] {
            let mut blank = care_home("F-X", "330402007", "颐养院");
            blank["id"] = id;
            let f = app
                .post("/api/facilities", &blank)
                .await
                .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(f, vec!["id"]);
        }

        // The document states it, with the bound, and the filter.
        let doc = app.get("/api/openapi.json").await.body;
        let fee = &doc["components"]["schemas"]["FacilityInput"]["properties"]["monthly_fee"];
        assert_eq!(fee["maximum"], 10_000_000);
        assert_eq!(fee["minimum"], 0);
        assert!(
            doc["paths"]["/api/facilities"]["get"]["parameters"]
                .as_array()
                .expect("params")
                .iter()
                .any(|p| p["name"] == "monthly_fee_from")
        );
    });
}

/// The console's facility pages follow the declaration: the form has a
/// control and the record page a labelled row for every declared field, and
/// the list filters on the declared filter fields.
#[test]
fn console_facility_pages_follow_the_declaration() {
    run(|app| async move {
        let mut body = care_home("F-CON", "330402007", "南湖颐养院");
        body["monthly_fee"] = json!(350_000);
        let r = app.post("/api/facilities", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let h = console_session(&app, "county-console", Role::CountyAdmin, "330402").await;
        let fields = || {
            laoxiao_model::FACILITIES
                .fields
                .iter()
                .filter(|f| !f.file_only())
        };
        let form = raw(
            &app.router,
            "GET",
            "/console/facilities/F-CON/edit?lang=en",
            &h,
            None,
        )
        .await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        for f in fields().filter(|f| f.key != "id") {
            assert!(
                form.body.contains(&format!("id=\"i-{}\"", f.key)),
                "no control for {}",
                f.key
            );
        }
        assert!(form.body.contains("value=\"3500.00\""), "{}", form.body);
        let page = raw(
            &app.router,
            "GET",
            "/console/facilities/F-CON?lang=en",
            &h,
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for f in fields() {
            assert!(
                page.body.contains(&format!("<dt>{}</dt>", f.en)),
                "no row for {}",
                f.key
            );
        }
        assert!(page.body.contains("3500.00"));
        for (query, listed) in [
            ("monthly_fee_from=3000&monthly_fee_to=4000", true),
            ("monthly_fee_from=4000", false),
            ("kind=elderly_institution", true),
            ("kind=sunflower_hut", false),
        ] {
            let list = raw(
                &app.router,
                "GET",
                &format!("/console/facilities?lang=en&{query}"),
                &h,
                None,
            )
            .await;
            assert_eq!(list.status, StatusCode::OK, "{query}");
            assert_eq!(list.body.contains("F-CON"), listed, "{query}");
        }
    });
}

#[test]
fn facility_create_get_update_delete() {
    run(|app| async move {
        let body = care_home("F-001", "330402007", "南湖颐养院");
        let r = app.post("/api/facilities", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(
            r.headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/api/facilities/F-001")
        );
        assert_eq!(r.body["id"], "F-001");
        assert_eq!(r.body["kind"], "elderly_institution");
        assert_eq!(r.body["filing_status"], "not_required");
        assert_eq!(r.body["status"], "operating");
        assert_eq!(r.body["classes"], json!([]));

        let r = app.get("/api/facilities/F-001").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["name"], "南湖颐养院");
        assert_eq!(r.body["beds"], 120);
        assert_eq!(r.body["opening_date"], "2018-01-01");

        // Creating the same id again is a conflict.
        app.post("/api/facilities", &body)
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");

        // Update: the body may omit the id; the GET answer round-trips.
        let mut upd = r.body.clone();
        upd["name"] = json!("南湖颐养院（新址）");
        upd["beds"] = json!(150);
        upd["status"] = json!("suspended");
        let r = app.put("/api/facilities/F-001", &upd).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["name"], "南湖颐养院（新址）");
        assert_eq!(r.body["beds"], 150);
        assert_eq!(r.body["status"], "suspended");
        let mut no_id = upd.clone();
        no_id.as_object_mut().expect("object").remove("id");
        let r = app.put("/api/facilities/F-001", &no_id).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);

        // A body id that differs from the path is rejected.
        let mut other = upd.clone();
        other["id"] = json!("F-999");
        let f = app
            .put("/api/facilities/F-001", &other)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["id"]);
        // Updating a facility that does not exist.
        app.put("/api/facilities/F-404", &no_id)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");

        let r = app.delete("/api/facilities/F-001").await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
        assert_eq!(r.body, Value::Null);
        app.get("/api/facilities/F-001")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.delete("/api/facilities/F-001")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        let r = app.get("/api/facilities").await;
        assert_eq!(r.body["total"], 0);
    });
}

#[test]
fn facility_classes_are_created_replaced_and_checked() {
    run(|app| async move {
        let r = app
            .post("/api/facilities", &childcare("T-1", "330402007"))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let classes = r.body["classes"].as_array().expect("classes");
        assert_eq!(classes.len(), 2);
        assert_eq!(classes[0]["facility_id"], "T-1");
        assert_eq!(classes[0]["monthly_fee_fen"], 250000);

        // PUT with a class list replaces the set; without one leaves it.
        let mut body = app.get("/api/facilities/T-1").await.body;
        body["classes"] = json!([{ "id": "T-1-C2", "class_type": "older_toddler_class", "capacity": 20, "enrolled": 20, "caregivers": 3 }]);
        let r = app.put("/api/facilities/T-1", &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let ids: Vec<&str> = r.body["classes"]
            .as_array()
            .expect("classes")
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(ids, vec!["T-1-C2"]);
        assert_eq!(r.body["classes"][0]["enrolled"], 20);
        body.as_object_mut().expect("object").remove("classes");
        let r = app.put("/api/facilities/T-1", &body).await;
        assert_eq!(r.body["classes"].as_array().map(Vec::len), Some(1));

        // Class errors name the class by index; all errors come at once.
        let mut bad = childcare("T-2", "330402007");
        bad["classes"][0]["capacity"] = json!(100);
        bad["classes"][1]["enrolled"] = json!(25);
        bad["classes"][1]["facility_id"] = json!("T-9");
        let f = app
            .post("/api/facilities", &bad)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(f.contains(&"classes[0].capacity".to_string()), "{f:?}");
        assert!(f.contains(&"classes[1].enrolled".to_string()), "{f:?}");
        assert!(f.contains(&"classes[1].facility_id".to_string()), "{f:?}");
        app.get("/api/facilities/T-2")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");

        // A class missing its type, and a duplicate class id.
        let mut bad = childcare("T-3", "330402007");
        bad["classes"][0]
            .as_object_mut()
            .expect("class")
            .remove("class_type");
        bad["classes"][1]["id"] = bad["classes"][0]["id"].clone();
        let f = app
            .post("/api/facilities", &bad)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(f.contains(&"classes[0].class_type".to_string()), "{f:?}");

        // Care homes have no classes.
        let mut home = care_home("F-2", "330402007", "颐养院");
        home["classes"] = childcare("x", "330402007")["classes"].clone();
        let f = app
            .post("/api/facilities", &home)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["classes"]);

        // A class id of another facility is a conflict.
        let mut steal = childcare("T-4", "330402007");
        steal["classes"] = json!([{ "id": "T-1-C2", "class_type": "infant_class", "capacity": 5 }]);
        app.post("/api/facilities", &steal)
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");
        app.get("/api/facilities/T-4")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");

        // Deleting the facility removes its classes from view.
        assert_eq!(
            app.delete("/api/facilities/T-1").await.status,
            StatusCode::NO_CONTENT
        );
    });
}

#[test]
fn facility_validation_lists_every_bad_field() {
    run(|app| async move {
        let mut body = care_home("F-bad", "330402007", "颐养院");
        body["nursing_beds"] = json!(200);
        let mut code = credit_code("MA2B3C4D5");
        let wrong = if code.ends_with('1') { "2" } else { "1" };
        code.replace_range(17.., wrong);
        body["operator_credit_code"] = json!(code);
        body["area_code"] = json!("330402999");
        body["lng"] = json!(116.4);
        body["lat"] = json!(39.9);
        let r = app.post("/api/facilities", &body).await;
        let fields = r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        for f in ["nursing_beds", "operator_credit_code", "area_code", "lng"] {
            assert!(
                fields.contains(&f.to_string()),
                "{f} missing from {fields:?}"
            );
        }

        // Missing required fields are all reported, once each.
        let f = app
            .post("/api/facilities", &json!({ "beds": -1 }))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        // (An absent id is assigned by the server.) The fields' own bounds
        // are checked too, though the record is incomplete.
        assert_eq!(f, vec!["name", "kind", "area_code", "beds"]);
        let f = app
            .post(
                "/api/facilities",
                &json!({ "id": "X", "name": "x", "kind": "elderly_institution", "beds": -1 }),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["area_code", "beds"]);

        // A village station must sit in a village, not a town.
        let f = app
            .post(
                "/api/facilities",
                &json!({ "id": "S-1", "name": "照料中心", "kind": "village_care_station", "area_code": "330402007" }),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["area_code"]);

        // Wrong JSON types and unknown enum values or fields name their field.
        let mut body = care_home("F-t", "330402007", "x");
        body["beds"] = json!("many");
        let f = app
            .post("/api/facilities", &body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["beds"]);
        let mut body = care_home("F-t", "330402007", "x");
        body["kind"] = json!("hospital");
        let f = app
            .post("/api/facilities", &body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["kind"]);
        let mut body = care_home("F-t", "330402007", "x");
        body["bedz"] = json!(3);
        let f = app
            .post("/api/facilities", &body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["bedz"]);
        let mut body = care_home("F-t", "330402007", "x");
        body["opening_date"] = json!("2018-13-01");
        let f = app
            .post("/api/facilities", &body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["opening_date"]);

        assert_eq!(app.get("/api/facilities").await.body["total"], 0);
    });
}

#[test]
fn bad_requests_get_json_errors() {
    run(|app| async move {
        // Malformed JSON.
        let r = app
            .send(
                Method::POST,
                "/api/facilities",
                Some(("application/json", b"{\"id\": \"F-1\", ".to_vec())),
            )
            .await;
        r.expect_error(StatusCode::BAD_REQUEST, "malformed_json");
        let r = app
            .send(
                Method::POST,
                "/api/people",
                Some(("application/json", b"{} {}".to_vec())),
            )
            .await;
        r.expect_error(StatusCode::BAD_REQUEST, "malformed_json");
        let r = app
            .send(
                Method::POST,
                "/api/facilities",
                Some(("application/json", Vec::new())),
            )
            .await;
        r.expect_error(StatusCode::BAD_REQUEST, "malformed_json");
        // Not JSON at all, or no content type.
        let r = app
            .send(
                Method::POST,
                "/api/facilities",
                Some(("text/plain", b"{}".to_vec())),
            )
            .await;
        r.expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        let r = app.send(Method::PUT, "/api/people/P-1", None).await;
        r.expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");

        // Query parameters: unknown enum values, non-numbers, out of range, unknown names.
        let f = app
            .get("/api/facilities?kind=hospital")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["kind"]);
        let f = app
            .get("/api/facilities?limit=ten&status=open&colour=red")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["status", "limit", "colour"]);
        let f = app
            .get("/api/facilities?limit=0")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["limit"]);
        let f = app
            .get("/api/facilities?limit=1001&inclusive=maybe")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["inclusive", "limit"]);
        let f = app
            .get("/api/facilities?area=999999")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["area"]);
        let f = app
            .get("/api/people?role=adult&min_age=old&as_of=yesterday&dementia=2")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["role", "dementia", "min_age", "as_of"]);
        let f = app
            .get("/api/people?max_age=4294967295&min_age=151")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["min_age", "max_age"]);
        let f = app
            .get("/api/people/P-1?full_id=perhaps")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["full_id"]);
        // An empty value is refused (the document says what each parameter
        // is, and "" is none of them); leave the parameter out instead.
        let f = app
            .get("/api/facilities?kind=&q=&limit=")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["kind", "q", "limit"]);
        let f = app
            .get("/api/people?as_of=&full_id=")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(f, vec!["as_of", "full_id"]);
        // A cursor naming no record is not found, like any missing record.
        app.get("/api/people?after=P-none")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");

        // Paths: undecodable segments.
        let f = app
            .get("/api/facilities/%FF%FE")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_path");
        assert_eq!(f, vec!["path"]);

        // Unknown routes and methods.
        for uri in ["/api/nothing-here", "/api", "/api/", "/api/facilities/"] {
            app.get(uri)
                .await
                .expect_error(StatusCode::NOT_FOUND, "route_not_found");
        }
        app.get("/api/facilities/F-1/extra")
            .await
            .expect_error(StatusCode::NOT_FOUND, "route_not_found");
        app.send(Method::PATCH, "/api/facilities/F-1", None)
            .await
            .expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        app.send(Method::DELETE, "/api/areas", None)
            .await
            .expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        // Not found records.
        app.get("/api/facilities/F-none")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.get("/api/people/P-none")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.delete("/api/people/P-none")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    });
}

#[test]
fn oversized_bodies_get_413() {
    let config = WebConfig {
        max_body_bytes: 1024,
        ..WebConfig::default()
    };
    run_with(config, |app| async move {
        let mut body = care_home("F-big", "330402007", "x");
        body["address"] = json!("长".repeat(2000));
        app.post("/api/facilities", &body)
            .await
            .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        // A small body still passes.
        let r = app
            .post("/api/facilities", &care_home("F-ok", "330402007", "x"))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    });
}

/// Walks every page with `limit`, asserting ids ascend and never repeat.
async fn walk(app: &App, query: &str, limit: u32) -> (Vec<String>, i64) {
    let mut ids: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    let mut pages = 0;
    loop {
        let mut uri = format!("/api/facilities?limit={limit}");
        if !query.is_empty() {
            uri.push('&');
            uri.push_str(query);
        }
        if let Some(a) = &after {
            uri.push_str(&format!("&after={a}"));
        }
        let r = app.get(&uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        let t = r.body["total"].as_i64().expect("total");
        assert_eq!(*total.get_or_insert(t), t, "total changed between pages");
        let items = r.body["items"].as_array().expect("items");
        assert!(items.len() <= limit as usize);
        for it in items {
            let id = it["id"].as_str().expect("id").to_string();
            if let Some(last) = ids.last() {
                assert!(*last < id, "ids out of order or repeated: {last} then {id}");
            }
            ids.push(id);
        }
        pages += 1;
        assert!(pages < 100, "pagination does not end");
        match r.body["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(items.len(), limit as usize, "short page with a cursor");
                after = Some(c.to_string());
            }
            None => break,
        }
    }
    (ids, total.unwrap_or(0))
}

#[test]
fn keyset_pagination_walks_every_item_once() {
    run(|app| async move {
        let mut expect_all = Vec::new();
        let mut expect_nanhu = Vec::new();
        let mut expect_kind = Vec::new();
        let mut expect_q = Vec::new();
        for i in 0..23 {
            let id = format!("F{i:03}");
            let area = if i % 3 == 0 { "330481001" } else { "330402007" };
            let name = if i % 4 == 0 {
                format!("阳光颐养院{i}")
            } else {
                format!("颐养院{i}")
            };
            let mut body = care_home(&id, area, &name);
            if i % 5 == 0 {
                body["kind"] = json!("town_home_care_center");
                body["rating"] = json!("4a");
            }
            let r = app.post("/api/facilities", &body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            expect_all.push(id.clone());
            if area.starts_with("330402") {
                expect_nanhu.push(id.clone());
            }
            if i % 5 == 0 {
                expect_kind.push(id.clone());
            }
            if i % 4 == 0 {
                expect_q.push(id.clone());
            }
        }
        // One deleted facility never shows up.
        assert_eq!(
            app.delete("/api/facilities/F007").await.status,
            StatusCode::NO_CONTENT
        );
        for v in [
            &mut expect_all,
            &mut expect_nanhu,
            &mut expect_kind,
            &mut expect_q,
        ] {
            v.retain(|id| id != "F007");
        }

        for limit in [1, 4, 7, 22, 50] {
            let (ids, total) = walk(&app, "", limit).await;
            assert_eq!(ids, expect_all, "limit {limit}");
            assert_eq!(total, expect_all.len() as i64);
        }
        let (ids, total) = walk(&app, "area=330402", 4).await;
        assert_eq!(ids, expect_nanhu);
        assert_eq!(total, expect_nanhu.len() as i64);
        let (ids, _) = walk(&app, "area=330402007", 5).await;
        assert_eq!(ids, expect_nanhu);
        let (ids, total) = walk(&app, "kind=town_home_care_center", 2).await;
        assert_eq!(ids, expect_kind);
        assert_eq!(total, expect_kind.len() as i64);
        let (ids, total) = walk(&app, "q=%E9%98%B3%E5%85%89", 2).await; // 阳光
        assert_eq!(ids, expect_q);
        assert_eq!(total, expect_q.len() as i64);
        let both: Vec<String> = expect_kind
            .iter()
            .filter(|id| expect_nanhu.contains(id))
            .cloned()
            .collect();
        let (ids, total) = walk(&app, "area=330402&kind=town_home_care_center", 1).await;
        assert_eq!(ids, both);
        assert_eq!(total, both.len() as i64);
        let (ids, total) = walk(&app, "area=330411", 3).await;
        assert!(ids.is_empty());
        assert_eq!(total, 0);
    });
}

// ---------------------------------------------------------------------------
// People

#[test]
fn people_id_numbers_are_masked_unless_asked() {
    run(|app| async move {
        let body = elderly("P-001", "1950-06-15", 123);
        let full = body["id_number"].as_str().expect("id").to_string();
        let masked = format!("{}********{}", &full[..6], &full[14..]);
        let r = app.post("/api/people", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(
            r.headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok()),
            Some("/api/people/P-001")
        );
        assert_eq!(r.body["id_number"], masked.as_str());
        assert_eq!(r.body["sex"], "male");

        let r = app.get("/api/people/P-001").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["id_number"], masked.as_str());
        assert_eq!(r.body["name"], "王某某");
        let r = app.get("/api/people/P-001?full_id=true").await;
        assert_eq!(r.body["id_number"], full.as_str());
        let r = app.get("/api/people/P-001?full_id=false").await;
        assert_eq!(r.body["id_number"], masked.as_str());

        // Lists mask too, and search by exact ID number works.
        let r = app.get("/api/people").await;
        assert_eq!(r.body["total"], 1);
        assert_eq!(r.body["items"][0]["id_number"], masked.as_str());
        let r = app.get(&format!("/api/people?q={full}")).await;
        assert_eq!(r.body["total"], 1);
        assert_eq!(r.body["items"][0]["id_number"], masked.as_str());
        let r = app.get("/api/people?full_id=true&role=elderly").await;
        assert_eq!(r.body["items"][0]["id_number"], full.as_str());
        let raw = serde_json::to_string(&app.get("/api/people").await.body).expect("json");
        assert!(!raw.contains(&full), "full ID number leaked in a list");

        // The masked number as served round-trips through PUT and keeps the number.
        let mut upd = app.get("/api/people/P-001").await.body;
        upd["dementia"] = json!(true);
        let r = app.put("/api/people/P-001", &upd).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["dementia"], true);
        let r = app.get("/api/people/P-001?full_id=true").await;
        assert_eq!(r.body["id_number"], full.as_str());
        // Omitting it keeps it too.
        upd.as_object_mut().expect("object").remove("id_number");
        let r = app.put("/api/people/P-001", &upd).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // A masked number that is not this person's is rejected.
        upd["id_number"] = json!("110105********002X");
        let f = app
            .put("/api/people/P-001", &upd)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["id_number"]);
        // Nor can a masked number register anyone.
        let mut b = elderly("P-002", "1950-06-15", 125);
        b["id_number"] = json!(masked);
        let f = app
            .post("/api/people", &b)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["id_number"]);
    });
}

#[test]
fn people_validation_and_filters() {
    run(|app| async move {
        // Birth date disagreeing with the ID number.
        let mut b = elderly("P-010", "1950-06-15", 123);
        b["birth_date"] = json!("1951-06-15");
        let f = app
            .post("/api/people", &b)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["birth_date"]);
        // Sex disagreeing; a bad check character.
        let mut b = elderly("P-010", "1950-06-15", 123);
        b["sex"] = json!("female");
        let f = app
            .post("/api/people", &b)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["sex"]);
        let mut b = elderly("P-010", "1950-06-15", 123);
        let mut n = b["id_number"].as_str().expect("id").to_string();
        let last = if n.ends_with('1') { "2" } else { "1" };
        n.replace_range(17.., last);
        b["id_number"] = json!(n);
        let f = app
            .post("/api/people", &b)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["id_number"]);
        // Missing fields, all at once, in the declaration's field order (an
        // absent id is assigned by the server).
        let f = app
            .post("/api/people", &json!({}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(
            f,
            vec![
                "role",
                "id_number",
                "name",
                "sex",
                "birth_date",
                "residence_area_code",
            ]
        );
        // Too young for the elderly register.
        let f = app
            .post("/api/people", &elderly("P-011", "1990-01-01", 11))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, vec!["birth_date"]);

        // Sex and birth date default from the ID number.
        let mut b = elderly("P-020", "1940-02-29", 222);
        let obj = b.as_object_mut().expect("object");
        obj.remove("birth_date");
        let r = app.post("/api/people", &b).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["birth_date"], "1940-02-29");
        assert_eq!(r.body["sex"], "female");
        // The same ID number twice is a conflict.
        let mut dup = elderly("P-021", "1940-02-29", 222);
        dup["id"] = json!("P-021");
        app.post("/api/people", &dup)
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");

        let r = app
            .post("/api/people", &elderly("P-030", "1960-01-10", 31))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let mut inf = json!({
            "id": "P-040",
            "role": "infant",
            "id_number": laoxiao_model::idcard::make("330402", chrono::Local::now().date_naive() - chrono::Days::new(400), 41),
            "name": "小明",
            "residence_area_code": "330481001",
            "birth_order": 2,
            "guardian_name": "王某"
        });
        let r = app.post("/api/people", &inf).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        inf["ability_level"] = json!("1");
        inf["id"] = json!("P-041");
        let f = app
            .post("/api/people", &inf)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(f.contains(&"ability_level".to_string()), "{f:?}");

        let count = |q: &'static str| {
            let app = app.clone();
            async move {
                let r = app.get(&format!("/api/people?{q}")).await;
                assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
                r.body["total"].as_i64().expect("total")
            }
        };
        assert_eq!(count("").await, 3);
        assert_eq!(count("role=elderly").await, 2);
        assert_eq!(count("role=infant&area=330481").await, 1);
        assert_eq!(count("area=330402").await, 2);
        assert_eq!(count("min_age=80").await, 1);
        assert_eq!(count("min_age=60&max_age=70&as_of=2026-01-01").await, 1);
        assert_eq!(count("category=minimum_living_allowance").await, 2);
        assert_eq!(
            count("ability_level=2&living_arrangement=living_alone").await,
            2
        );
        assert_eq!(count("q=%E5%B0%8F").await, 1); // 小
        let r = app.get("/api/people?limit=1").await;
        assert_eq!(r.body["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(r.body["next_cursor"], "P-020");

        assert_eq!(
            app.delete("/api/people/P-030").await.status,
            StatusCode::NO_CONTENT
        );
        app.get("/api/people/P-030")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        assert_eq!(count("").await, 2);

        // An infant registered under three and over three now stays on the
        // register, marked aged out (超龄); a younger one is not.
        let born = chrono::Local::now().date_naive() - chrono::Days::new(365 * 4);
        let csv = format!(
            "id,id_number,name,sex,birth_date,residence_area_code\n\
             P-050,{},小红,female,{born},330481001\n",
            laoxiao_model::idcard::make("330402", born, 52)
        );
        let store = app.store.clone();
        tokio::task::spawn_blocking(move || {
            laoxiao_store::io::import_bytes_on(
                &store,
                laoxiao_model::columns::RecordKind::Infants,
                "infants.csv",
                csv.as_bytes(),
                &laoxiao_store::io::ImportOptions::default(),
                born + chrono::Days::new(400),
            )
        })
        .await
        .expect("join")
        .expect("imports as of its date");
        let r = app.get("/api/people/P-050").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["aged_out"], true, "{}", r.body);
        assert_eq!(app.get("/api/people/P-040").await.body["aged_out"], false);
        let r = app.get("/api/people?role=infant&area=330481").await;
        assert_eq!(r.body["total"], 2, "{}", r.body);
    });
}

// ---------------------------------------------------------------------------
// Access matrix: every declared route × every role (and anonymous) × a record
// inside and outside the caller's area. Generated from the policy table
// (`laoxiao_web::auth::ROUTES`), so a new route is covered as soon as it is
// declared — and refused for everyone until it is.

use laoxiao_store::Role;
use laoxiao_web::auth::{Access, ROUTES as POLICY};

/// The generic register a route belongs to (API or console), if any.
fn register_of(path: &str) -> Option<&'static laoxiao_model::register::Register> {
    laoxiao_web::registers::REGISTERS
        .iter()
        .map(|a| a.register)
        .find(|r| {
            let p = &r.paths;
            [
                p.api,
                p.api_item,
                p.console,
                p.console_item,
                p.console_new,
                p.console_edit,
            ]
            .contains(&path)
        })
}

/// A body of a generic register's record attached to the fixture: `In` to
/// FA/PA/IA (village A), `Out` to FB/PB/IB (town B).
fn register_record(key: &str, id: &str, target: Target) -> Value {
    let (f, p, i) = if target == Target::Out {
        ("FB", "PB", "IB")
    } else {
        ("FA", "PA", "IA")
    };
    match key {
        "staff" => {
            json!({"id": id, "facility_id": f, "role": "care_worker", "name": "李某某", "hired_date": "2021-01-01"})
        }
        "services" => json!({"id": id, "person_id": p, "kind": "visit", "date": "2022-01-05"}),
        "enrolments" => {
            // Children are enrolled at childcare institutions (CA, CB), not care homes.
            let f = if target == Target::Out { "CB" } else { "CA" };
            json!({"id": id, "infant_id": i, "facility_id": f, "start_date": (chrono::Local::now().date_naive() - chrono::Duration::days(30)).to_string()})
        }
        "residences" => {
            json!({"id": id, "person_id": p, "facility_id": f, "admitted_date": "2022-01-01"})
        }
        "insurance" => {
            json!({"id": id, "person_id": p, "kind": "elderly_accident", "start_date": "2022-01-01", "end_date": "2022-12-31"})
        }
        "catalogue" => {
            json!({"id": id, "facility_id": f, "category": "bathing", "name": "上门助浴", "price_fen": 8000, "unit": "次", "areas_served": "330402"})
        }
        "devices" => {
            json!({"id": id, "kind": "emergency_button", "person_id": p, "installed_date": "2024-01-01", "owner": "government", "platform_id": "P1", "platform_device_id": id, "status": "active"})
        }
        "student_cohorts" => {
            json!({"id": id, "institution": "嘉兴职业技术学院", "program": "智慧健康养老服务与管理", "intake_year": 2021, "enrolled": 40})
        }
        "home_care_beds" => {
            json!({"id": id, "person_id": p, "facility_id": f, "service_plan": "助浴、康复训练", "hours_per_month": 10, "start_date": "2022-01-01"})
        }
        other => panic!("no sample record for {other}"),
    }
}

async fn seed_register(router: &Router, admin: &str, key: &str, id: &str, target: Target) {
    let r = raw(
        router,
        "POST",
        &format!("/api/{key}"),
        &[("authorization".into(), format!("Bearer {admin}"))],
        Some((
            "application/json",
            register_record(key, id, target).to_string(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{key} {id}: {}", r.body);
}

/// What a response amounts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Reached the handler and it did its work (or judged the input).
    Allowed,
    /// Not logged in: 401 (API) or a redirect to the login page (console).
    Unauth,
    /// 403.
    Forbidden,
    /// 404 for a record that exists outside the caller's scope.
    Hidden,
    /// 422: an input (e.g. an area) outside the caller's scope.
    Rejected,
}

struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn raw(
    router: &Router,
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: Option<(&str, String)>,
) -> Raw {
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).expect("method"))
        .uri(uri);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let body = match body {
        Some((ct, b)) => {
            req = req.header(header::CONTENT_TYPE, ct);
            Body::from(b)
        }
        None => Body::empty(),
    };
    let resp = router
        .clone()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    Raw {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn classify(r: &Raw) -> Outcome {
    let loc = r
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match r.status {
        StatusCode::UNAUTHORIZED if r.body.contains("\"unauthenticated\"") => Outcome::Unauth,
        StatusCode::SEE_OTHER if loc.starts_with("/console/login?next=") => Outcome::Unauth,
        StatusCode::FORBIDDEN => Outcome::Forbidden,
        StatusCode::NOT_FOUND => Outcome::Hidden,
        StatusCode::UNPROCESSABLE_ENTITY => Outcome::Rejected,
        s => {
            assert!(!s.is_server_error(), "server error {s}: {}", r.body);
            Outcome::Allowed
        }
    }
}

/// One caller of the matrix.
struct Caller {
    role: Option<Role>,
    token: Option<String>,
    cookie: Option<String>,
    csrf: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    None,
    In,
    Out,
    /// Operators: a facility in their area that is not theirs.
    OtherFacility,
    /// A list or page asked for another county (`?area=330411`): the drill-down.
    OutArea,
}

struct World {
    town_a: String,
    village_a: String,
    town_b: String,
}

fn world(store: &laoxiao_store::Store) -> World {
    let areas = &store.reference.areas;
    let town_a = "330402007".to_string();
    let village_a = areas
        .children(&town_a)
        .first()
        .map(|a| a.code.clone())
        .expect("village");
    let town_b = areas
        .children("330411")
        .first()
        .map(|a| a.code.clone())
        .expect("town b");
    World {
        town_a,
        village_a,
        town_b,
    }
}

fn person_json(id: &str, area: &str, seq: u16) -> Value {
    let mut p = elderly(id, "1940-03-05", seq);
    p["residence_area_code"] = json!(area);
    p
}

/// People PA (village A) and PB (town B); facilities are created through the
/// API ([`seed_facility`]).
fn seed(store: &laoxiao_store::Store, w: &World) {
    let sys = laoxiao_store::Scope::system("test");
    let r = &store.reference;
    let mut c = store.conn().expect("conn");
    for (id, area, seq) in [("PA", &w.village_a, 31), ("PB", &w.town_b, 32)] {
        let p = person(id, area, seq);
        laoxiao_store::people::create(&mut c, r, &sys, &p).expect("person");
    }
    // Infants IA and IB, for the enrolments register.
    for (id, area, seq) in [("IA", &w.village_a, 42), ("IB", &w.town_b, 44)] {
        use laoxiao_model::person::Sex;
        let birth = chrono::Local::now().date_naive() - chrono::Duration::days(400);
        let mut p = laoxiao_model::Person::blank(
            id,
            laoxiao_model::PersonRole::Infant,
            area,
            birth,
            Sex::Female,
        );
        p.id_number = laoxiao_model::idcard::make("330402", birth, seq);
        p.name = "王小某".into();
        laoxiao_store::people::create(&mut c, r, &sys, &p).expect("infant");
    }
}

fn person(id: &str, area: &str, seq: u16) -> laoxiao_model::Person {
    use laoxiao_model::person::{AbilityLevel, Sex};
    let birth = d("1940-03-05");
    let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
    let mut p =
        laoxiao_model::Person::blank(id, laoxiao_model::PersonRole::Elderly, area, birth, sex);
    p.id_number = laoxiao_model::idcard::make("330402", birth, seq);
    p.name = "王某某".into();
    p.ability_level = Some(AbilityLevel::Mild);
    p
}

async fn seed_facility(router: &Router, admin: &str, id: &str, area: &str) {
    let r = raw(
        router,
        "POST",
        "/api/facilities",
        &[("authorization".into(), format!("Bearer {admin}"))],
        Some((
            "application/json",
            care_home(id, area, &format!("机构{id}")).to_string(),
        )),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// A throwaway transfer request for one check of the matrix: `In` is one the
/// callers of county 330402 decide on (they hold the record) or, for
/// `withdraw`, one their area asked for; `Out` lies wholly in other counties.
/// An admission application (for `/admission/applications/{id}` paths) or a
/// residence (for `/admission/residences/{id}`) of a fresh elderly person:
/// in village A at care home FA, or (out of scope) in town B at FB. Returns
/// its id.
fn seed_admission(
    store: &laoxiao_store::Store,
    w: &World,
    path: &str,
    target: Target,
    n: usize,
) -> String {
    use laoxiao_store::admission::{ApplicantKind, ApplyInput};
    let sys = laoxiao_store::Scope::system("test");
    let mut c = store.conn().expect("conn");
    let (area, home) = if target == Target::Out {
        (w.town_b.clone(), "FB")
    } else {
        (w.village_a.clone(), "FA")
    };
    // Numbers of their own: another birth date than the other fixtures' people.
    // The matrix makes thousands: a new birth date every 998 numbers.
    let birth = d("1942-02-02") + chrono::Duration::days((n / 998) as i64);
    let seq = 1 + (n % 998) as u16;
    let mut p = person(&format!("AP{n}"), &area, seq);
    p.birth_date = birth;
    p.id_number = laoxiao_model::idcard::make("330402", birth, seq);
    laoxiao_store::people::create(&mut c, &store.reference, &sys, &p).expect("applicant");
    if path.contains("/residences/") {
        let r = laoxiao_model::Residence {
            id: format!("RS{n}"),
            person_id: p.id.clone(),
            facility_id: home.into(),
            admitted_date: d("2025-01-01"),
            discharged_date: None,
        };
        laoxiao_store::activity::upsert(&mut c, &r, "2025-01-01T00:00:00Z").expect("residence");
        return r.id;
    }
    let today = chrono::Local::now().date_naive();
    let input = ApplyInput {
        person_id: p.id.clone(),
        facility_ids: vec![home.into()],
        kind: ApplicantKind::Staff,
        note: None,
    };
    let apps = laoxiao_store::admission::apply(&mut c, &sys, &input, today).expect("application");
    apps[0].id.clone()
}

fn seed_transfer(
    store: &laoxiao_store::Store,
    w: &World,
    path: &str,
    target: Target,
    n: usize,
) -> String {
    use laoxiao_store::{Actor, Role, Scope};
    let r = &store.reference;
    let sys = Scope::system("test");
    let mut c = store.conn().expect("conn");
    let user = |role: Role, code: &str| {
        let path = r.areas.get(code).expect("area").path.clone();
        Scope::user(
            Actor {
                user: format!("seed-{code}"),
                ip: None,
            },
            role,
            &path,
            None,
        )
    };
    let town_c = r.areas.children("330421")[0].code.clone();
    let (holder_area, requester, to) = match target {
        Target::Out => (w.town_b.clone(), user(Role::CountyAdmin, "330421"), town_c),
        _ if path.ends_with("/withdraw") => (
            w.town_b.clone(),
            user(Role::VillageStaff, &w.village_a),
            w.village_a.clone(),
        ),
        _ => (
            w.village_a.clone(),
            user(Role::CountyAdmin, "330411"),
            w.town_b.clone(),
        ),
    };
    // Numbers of their own: another birth date than the fixture's people.
    // (a day later for each 998 checks, so the numbers never repeat).
    let birth = d("1945-06-07") + chrono::Days::new((n / 998) as u64);
    let seq = 1 + (n % 998) as u16;
    let mut p = person(&format!("TP{n}"), &holder_area, seq);
    p.birth_date = birth;
    p.id_number = laoxiao_model::idcard::make("330402", birth, seq);
    laoxiao_store::people::create(&mut c, r, &sys, &p).expect("throwaway person");
    laoxiao_store::transfers::request(&mut c, r, &requester, &p.id_number, &to, "迁入")
        .expect("throwaway transfer")
        .id
}

fn callers(store: &laoxiao_store::Store, w: &World) -> Vec<Caller> {
    let mut out = vec![Caller {
        role: None,
        token: None,
        cookie: None,
        csrf: String::new(),
    }];
    // The operator's account names its facility, which must exist first: it
    // is added once FA is on the register (see the access matrix).
    for role in Role::ALL {
        if role != Role::FacilityOperator {
            out.push(caller(store, w, role));
        }
    }
    out
}

fn caller(store: &laoxiao_store::Store, w: &World, role: Role) -> Caller {
    let (area, fac) = match role {
        Role::CityAdmin => ("330400", None),
        Role::CountyAdmin | Role::Inspector | Role::Auditor | Role::Analyst => ("330402", None),
        Role::TownStaff => (w.town_a.as_str(), None),
        Role::VillageStaff => (w.village_a.as_str(), None),
        Role::FacilityOperator => (w.town_a.as_str(), Some("FA")),
        Role::Family => ("330400", None),
    };
    let name = format!("m-{}", role.code());
    let token = make_user(store, &name, role, area, fac);
    let mut c = store.conn().expect("conn");
    let (secret, csrf) =
        laoxiao_store::accounts::create_session(&mut c, &name, None).expect("session");
    Caller {
        role: Some(role),
        token: Some(token),
        cookie: Some(format!("{}={secret}", laoxiao_web::auth::SESSION_COOKIE)),
        csrf,
    }
}

/// The outcomes the policy and the scope rules expect.
fn expected(
    access: Access,
    role: Option<Role>,
    method: &str,
    path: &str,
    target: Target,
) -> Vec<Outcome> {
    use Outcome::*;
    let perm = match access {
        // The portal's dataset pages name a dataset; the matrix's ids are
        // facilities', which are no dataset (404) — for every caller alike.
        Access::Public if path.starts_with("/portal/data/{id}") => return vec![Hidden],
        // A place page names a public reference; a register id is none (404).
        Access::Public if path.starts_with("/portal/places/{ref}") => return vec![Hidden],
        // The portal's complaint and tracking forms judge the matrix's empty
        // form: 422 naming the fields, for every caller alike.
        Access::Public if method == "POST" && path.starts_with("/portal/complaints") => {
            return vec![Rejected];
        }
        Access::Public => return vec![Allowed],
        // Device platforms sign their requests: the handler itself refuses an
        // unsigned call (401 `bad_headers`), whoever the caller is.
        Access::Platform => return vec![Allowed, Rejected],
        _ if role.is_none() => return vec![Unauth],
        // A landing page asked for another area: the roles it is the
        // overview for get 404, the others are sent to their home first.
        Access::Account if target == Target::OutArea => return vec![Allowed, Hidden],
        Access::Account => return vec![Allowed, Rejected],
        Access::Perm(p) => p,
    };
    let Some(role) = role else {
        return vec![Unauth];
    };
    if !role.can(perm) {
        return vec![Forbidden];
    }
    let operator_only_own = role == Role::FacilityOperator
        && matches!(
            (method, path),
            ("POST", "/api/facilities")
                | ("DELETE", "/api/facilities/{id}")
                | ("POST", "/console/facilities")
        );
    if operator_only_own {
        // The console form is judged (422) before the store refuses it.
        return vec![Forbidden, Rejected];
    }
    // Only the institution's own staff bill (a city administrator reads the
    // bills and is refused here, 403; the operator of the matrix's care home
    // FA has no childcare institution, 404); the store tests cover the rest.
    if method == "POST" && path == "/console/childcare/bills" {
        return vec![Forbidden, Rejected, Allowed, Hidden];
    }
    // Families' messages and class notices (家园沟通): only the institution's
    // own staff (an operator); a city administrator, who has the permission
    // for reading the day, is refused (403); the matrix's ids are no
    // enrolment's or class's of the operator's (404), or its body is read
    // first (422, 415). The store tests cover who finds a real one.
    if path.starts_with("/api/childcare/messages")
        || path.starts_with("/api/childcare/notices")
        || path.starts_with("/console/childcare/messages")
        || (path.starts_with("/api/childcare/classes/") && path.ends_with("/notices"))
    {
        return if role == Role::FacilityOperator {
            vec![Allowed, Hidden, Rejected]
        } else if method == "POST" && path.starts_with("/api/") {
            // The body is read first (415 without one).
            vec![Forbidden, Rejected, Hidden, Allowed]
        } else if path.contains("{id}") {
            // The record is looked up first: not found before not allowed.
            vec![Forbidden, Rejected, Hidden]
        } else {
            vec![Forbidden, Rejected]
        };
    }
    let everything = role == Role::CityAdmin;
    // Key projects: the matrix's number 6 is 秀洲区's, outside the county
    // callers' 南湖区 (not found); a city administrator finds it, and a
    // write without a body is refused (415/422). The store and API tests
    // cover a project in scope.
    if path.contains("key-projects/{number}") {
        // An API write reads its body first: none is 415 (counted as reaching the handler).
        return if everything || (method != "GET" && path.starts_with("/api/")) {
            vec![Allowed, Rejected, Hidden]
        } else {
            vec![Hidden, Rejected]
        };
    }
    // Family links and orders, alarms, assessments, complaints: the matrix's
    // ids (PA, FA …) are no link's, order's, alarm's, assessment's or
    // complaint's, inspection's, plan's, draw's or rectification's and no caller's
    // verified relative: not found,
    // whoever asks (the store and API tests cover who finds a real one).
    if path.contains("{id}")
        && (path.starts_with("/api/family/")
            || path.starts_with("/api/provider/")
            || path.starts_with("/console/family/")
            || path.starts_with("/api/alarms/")
            || path.starts_with("/console/alarms/")
            || path.starts_with("/api/assessments/")
            || path.starts_with("/console/assessments/")
            || path.starts_with("/api/childcare/filings/")
            || path.starts_with("/console/childcare/filings/")
            || path.starts_with("/api/childcare/applications/")
            || path.starts_with("/api/childcare/institutions/")
            || path.starts_with("/console/childcare/applications/")
            || path.starts_with("/api/complaints/")
            || path.starts_with("/console/complaints/")
            || path.starts_with("/api/inspections/")
            || path.starts_with("/console/inspections/"))
    {
        // A step's body is read before the record is looked up: the matrix
        // sends none, which is 415 (counted as reaching the handler).
        // The console's upload form is read (multipart) before the lookup too.
        let body_first = path.starts_with("/api/") || path.ends_with("/documents");
        return if body_first && method != "GET" {
            vec![Hidden, Rejected, Allowed]
        } else {
            vec![Hidden, Rejected]
        };
    }
    // The childcare day (classes, enrolments, children, pickups by id): the
    // store decides, after the body is read; a city administrator reads but
    // records nothing (403: only the institution's own staff record its day).
    // The store tests cover who finds a real one.
    if path.contains("{id}")
        && [
            "/api/childcare/classes/",
            "/api/childcare/enrolments/",
            "/api/childcare/children/",
            "/api/childcare/pickups/",
            "/api/childcare/bills/",
            "/console/childcare/bills/",
        ]
        .iter()
        .any(|p| path.starts_with(p))
    {
        return vec![Hidden, Rejected, Allowed, Forbidden];
    }
    if let Some(reg) = register_of(path)
        && reg.scope == laoxiao_model::register::ScopeRule::City
    {
        // City-wide figures: everyone who reads the domain sees them; only
        // city-level accounts change them (console forms may be judged first).
        return if method == "GET" && !path.ends_with("/new") && !path.ends_with("/edit") {
            vec![Allowed]
        } else if everything {
            vec![Allowed, Rejected]
        } else if method == "GET" {
            vec![Allowed]
        } else {
            vec![Forbidden, Rejected]
        };
    }
    // Enrolments are at the childcare institutions CA/CB, not at the
    // operator's care home FA: to its operator they are another facility's.
    let other_facility = role == Role::FacilityOperator
        && target == Target::In
        && register_of(path).is_some_and(|r| r.key == "enrolments")
        && path.contains("{id}");
    match target {
        Target::In if other_facility => vec![Hidden, Rejected],
        Target::None | Target::In => vec![Allowed, Rejected],
        Target::Out | Target::OutArea if everything => vec![Allowed, Rejected],
        // The API filters a list by area within the scope: empty, not an error.
        Target::OutArea if path.starts_with("/api/") => vec![Allowed],
        Target::OutArea => vec![Hidden],
        Target::Out | Target::OtherFacility => vec![Hidden, Rejected],
    }
}

/// A subsidy run for the matrix (month 2025-06: the class filing awards of
/// the childcare institutions CA and CB), prepared by a city administrator
/// who is none of the matrix's callers; its id and the number of a line in
/// county 330402.
fn seed_subsidy_run(store: &laoxiao_store::Store) -> (i64, i64) {
    use laoxiao_store::{Actor, Scope};
    let scope = Scope::user(
        Actor {
            user: "seed-city".into(),
            ip: None,
        },
        Role::CityAdmin,
        "/330400/",
        None,
    );
    let mut c = store.conn().expect("conn");
    let period = laoxiao_rules::subsidies::Period::parse("2025-06").expect("period");
    let (run, _) = laoxiao_store::subsidies::prepare(&mut c, &scope, period).expect("run");
    let q = laoxiao_store::subsidies::LineQuery {
        county: Some("330402".into()),
        ..Default::default()
    };
    let lines = laoxiao_store::subsidies::lines(&mut c, &scope, run.id, &q).expect("lines");
    let line = lines
        .items
        .first()
        .expect("a line in county 330402")
        .line_no;
    (run.id, line)
}

fn fill<'a>(path: &str, target: Target, del_id: &'a str) -> (String, &'a str) {
    let is_people = path.contains("/people");
    let id = match (target, is_people) {
        _ if register_of(path).is_some() => {
            if target == Target::Out {
                "RB"
            } else {
                "RA"
            }
        }
        (Target::Out, false) => "FB",
        (Target::Out, true) => "PB",
        (Target::OtherFacility, _) => "FA2",
        (_, true) => "PA",
        (_, false) => "FA",
    };
    let id = if del_id.is_empty() { id } else { del_id };
    let p = path
        .replace("{id}", id)
        .replace("{code}", "330402")
        .replace("{file}", "elderly-template.xlsx")
        // Indicator 6 exists; a period before the plan's is refused (400)
        // after the access check, which is what the matrix looks at.
        .replace("{number}", "6")
        .replace("{period}", "2019")
        .replace("{*path}", "console.css")
        .replace("{doc}", "BD-0")
        // A register id is no public reference: the place page is 404.
        .replace("{ref}", id);
    (p, id)
}

#[test]
fn access_matrix_every_route_role_and_scope() {
    for db in TestDb::all().expect("test databases") {
        let store = db.store.clone();
        let w = world(&store);
        seed(&store, &w);
        let mut callers = callers(&store, &w);
        let router = laoxiao_web::router(AppState::new(store.clone(), WebConfig::default()));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let mut checked = 0;
        let admin = callers
            .iter()
            .find(|c| c.role == Some(Role::CityAdmin))
            .and_then(|c| c.token.clone())
            .expect("admin");
        rt.block_on(async {
            // FA (village A, the operator's), FA2 (town A), FB (town B).
            seed_facility(&router, &admin, "FA", &w.village_a).await;
            seed_facility(&router, &admin, "FA2", &w.town_a).await;
            seed_facility(&router, &admin, "FB", &w.town_b).await;
            for (id, area) in [("CA", &w.village_a), ("CB", &w.town_b)] {
                let r = raw(
                    &router,
                    "POST",
                    "/api/facilities",
                    &[("authorization".into(), format!("Bearer {admin}"))],
                    Some(("application/json", childcare(id, area).to_string())),
                )
                .await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            }
            callers.push(tokio::task::block_in_place(|| {
                caller(&store, &w, Role::FacilityOperator)
            }));
            // A subsidy run prepared by another city administrator (so the
            // matrix's may review it), and one of its lines in county 330402.
            let (run_id, line_no) = tokio::task::block_in_place(|| seed_subsidy_run(&store));
            for api in laoxiao_web::registers::REGISTERS {
                seed_register(&router, &admin, api.register.key, "RA", Target::In).await;
                seed_register(&router, &admin, api.register.key, "RB", Target::Out).await;
            }
            #[allow(clippy::needless_range_loop)] // the session is renewed in place
            for ci in 0..callers.len() {
                for (method, path, access) in &laoxiao_web::auth::policy() {
                    let caller = &callers[ci];
                    let api = path.starts_with("/api/");
                    let mut targets = vec![Target::None];
                    let reg = register_of(path);
                    // A subsidy run's header is the city's (every reader sees
                    // it); its lines are filtered by the store (checked below).
                    let subsidy = path.contains("/subsidies/runs/{id}");
                    if (path.contains("{id}") && !subsidy) || matches!((*method, *path), ("POST", "/api/facilities") | ("POST", "/api/people")) || (reg.is_some() && *method == "POST") {
                        targets = vec![Target::In, Target::Out];
                        if caller.role == Some(Role::FacilityOperator) && path.contains("facilities/{id}") {
                            targets.push(Target::OtherFacility);
                        }
                    }
                    let drill = [
                        "/",
                        "/console/facilities",
                        "/console/elderly",
                        "/console/infants",
                        "/console/plan",
                        "/console/planning",
                        "/console/planning/access",
                        "/api/facilities",
                        "/api/people",
                    ];
                    if *method == "GET" && drill.contains(path) {
                        targets.push(Target::OutArea);
                    }
                    for target in targets {
                        // Deleting in scope: a throwaway record, so the fixture stays.
                        let mut del_id = String::new();
                        if path.contains("/transfers/{id}") {
                            let (s2, p2, n) = (store.clone(), path.to_string(), checked);
                            let w2 = World { town_a: w.town_a.clone(), village_a: w.village_a.clone(), town_b: w.town_b.clone() };
                            del_id = tokio::task::spawn_blocking(move || seed_transfer(&s2, &w2, &p2, target, n))
                                .await
                                .expect("seed");
                        }
                        if path.contains("/visits/") && path.contains("{id}") {
                            let (s2, p2) = (store.clone(), path.to_string());
                            let w2 = World { town_a: w.town_a.clone(), village_a: w.village_a.clone(), town_b: w.town_b.clone() };
                            del_id = tokio::task::spawn_blocking(move || visits::seed_for_matrix(&s2, &w2.village_a, &w2.town_b, &p2, target == Target::Out))
                                .await
                                .expect("seed");
                        }
                        if path.contains("/admission/applications/{id}") || path.contains("/admission/residences/{id}") {
                            let (s2, p2, n) = (store.clone(), path.to_string(), checked);
                            let w2 = World { town_a: w.town_a.clone(), village_a: w.village_a.clone(), town_b: w.town_b.clone() };
                            del_id = tokio::task::spawn_blocking(move || seed_admission(&s2, &w2, &p2, target, n))
                                .await
                                .expect("seed");
                        }
                        if *method == "DELETE" {
                            del_id = format!("DEL{checked}");
                            let area = match target {
                                Target::Out => w.town_b.clone(),
                                Target::OtherFacility => w.town_a.clone(),
                                _ => w.village_a.clone(),
                            };
                            if let Some(reg) = reg {
                                seed_register(&router, &admin, reg.key, &del_id, target).await;
                            } else if path.contains("/people") {
                                let s2 = store.clone();
                                let (id, area, n) = (del_id.clone(), area, checked);
                                tokio::task::spawn_blocking(move || {
                                    let sys = laoxiao_store::Scope::system("test");
                                    let mut c = s2.conn().expect("conn");
                                    let p = person(&id, &area, 100 + (n % 800) as u16);
                                    laoxiao_store::people::create(&mut c, &s2.reference, &sys, &p)
                                        .expect("throwaway person");
                                })
                                .await
                                .expect("seed");
                            } else {
                                seed_facility(&router, &admin, &del_id, &area).await;
                            }
                        }
                        let (mut uri, id) = if subsidy {
                            let p = path.replace("{id}", &run_id.to_string()).replace("{line}", &line_no.to_string());
                            (p, "")
                        } else {
                            fill(path, target, &del_id)
                        };
                        if target == Target::OutArea {
                            uri.push_str("?area=330411");
                        }
                        let mut headers: Vec<(String, String)> = Vec::new();
                        if api {
                            if let Some(t) = &caller.token {
                                headers.push(("authorization".into(), format!("Bearer {t}")));
                            }
                        } else if let Some(c) = &caller.cookie {
                            headers.push(("cookie".into(), format!("{c}; lx_login_csrf=pre")));
                        } else {
                            headers.push(("cookie".into(), "lx_login_csrf=pre".into()));
                        }
                        let body: Option<(&str, String)> = match (*method, *path) {
                            ("POST", p) if reg.is_some_and(|r| r.paths.api == p) => {
                                let key = reg.map(|r| r.key).unwrap_or_default();
                                let mut b = register_record(key, &format!("NEW{checked}"), target);
                                if caller.role != Some(Role::CityAdmin) {
                                    b.as_object_mut().expect("object").remove("id");
                                }
                                Some(("application/json", b.to_string()))
                            }
                            ("PUT", p) if reg.is_some_and(|r| r.paths.api_item == p) => {
                                let key = reg.map(|r| r.key).unwrap_or_default();
                                Some(("application/json", register_record(key, id, target).to_string()))
                            }
                            ("POST", "/api/facilities") => {
                                let area = if target == Target::Out { &w.town_b } else { &w.village_a };
                                let mut b = care_home(&format!("NEW{checked}"), area, "新机构");
                                // Only city-wide callers choose ids (hole 3).
                                if caller.role != Some(Role::CityAdmin) {
                                    b.as_object_mut().expect("object").remove("id");
                                }
                                Some(("application/json", b.to_string()))
                            }
                            ("PUT", "/api/facilities/{id}") => {
                                let area = if target == Target::Out { &w.town_b } else if target == Target::OtherFacility { &w.town_a } else { &w.village_a };
                                Some(("application/json", care_home(id, area, "改名机构").to_string()))
                            }
                            ("POST", "/api/people") => {
                                let area = if target == Target::Out { &w.town_b } else { &w.village_a };
                                let mut b = person_json(&format!("NP{checked}"), area, 900 + (checked % 90) as u16);
                                if caller.role != Some(Role::CityAdmin) {
                                    b.as_object_mut().expect("object").remove("id");
                                }
                                Some(("application/json", b.to_string()))
                            }
                            ("POST", "/api/transfers") => {
                                let number = laoxiao_model::idcard::make("330402", d("1940-03-05"), 32);
                                Some(("application/json", json!({"id_number": number, "to_area_code": w.village_a, "reason": "迁入"}).to_string()))
                            }
                            ("POST", p) if p.starts_with("/api/transfers/") => {
                                Some(("application/json", json!({"reason": "理由"}).to_string()))
                            }
                            ("POST", "/api/admission/applications") => {
                                let (pid, fid) = if target == Target::Out { ("PB", "FB") } else { ("PA", "FA") };
                                Some(("application/json", json!({"person_id": pid, "facility_ids": [fid]}).to_string()))
                            }
                            ("POST", "/api/admission/residences/{id}/discharge") => {
                                Some(("application/json", json!({"date": chrono::Local::now().date_naive().to_string(), "offer_next": false}).to_string()))
                            }
                            ("POST", p) if p.starts_with("/api/admission/") => {
                                Some(("application/json", json!({"reason": "理由"}).to_string()))
                            }
                            ("POST", "/console/transfers/{id}") => Some((
                                "application/x-www-form-urlencoded",
                                format!("_csrf={}&action=approve&reason=x", caller.csrf),
                            )),
                            ("PUT", "/api/people/{id}") => {
                                let area = if target == Target::Out { &w.town_b } else { &w.village_a };
                                let mut p = person_json(id, area, if target == Target::Out { 32 } else { 31 });
                                p["name"] = json!("改名");
                                Some(("application/json", p.to_string()))
                            }
                            ("POST", "/console/import") => Some((
                                "multipart/form-data; boundary=XB",
                                format!("--XB\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n--XB--\r\n", caller.csrf),
                            )),
                            ("POST", "/console/login") => Some((
                                "application/x-www-form-urlencoded",
                                "_csrf=pre&username=nobody&password=wrong".to_string(),
                            )),
                            ("POST", _) if !api => Some((
                                "application/x-www-form-urlencoded",
                                format!("_csrf={}&name=", caller.csrf),
                            )),
                            // The issue-15 workflows' steps: an empty JSON body,
                            // judged (422) or refused before it is read.
                            ("POST" | "PUT", p)
                                if ["/api/visits/", "/api/alarms/", "/api/assessments", "/api/family/", "/api/provider/"]
                                    .iter()
                                    .any(|w| p.starts_with(w)) =>
                            {
                                Some(("application/json", "{}".to_string()))
                            }
                            _ => None,
                        };
                        let r = raw(&router, method, &uri, &headers, body).await;
                        if r.status.is_server_error() { panic!("[sqlite={}] {:?} {method} {path} ({target:?}): {} {}", store.backend() == laoxiao_store::Backend::Sqlite, caller.role, r.status, r.body); }
                        let got = classify(&r);
                        let want = expected(*access, caller.role, method, path, target);
                        assert!(
                            want.contains(&got),
                            "[{}] {:?} {method} {uri} ({target:?}): got {got:?} ({}), want {want:?}: {}",
                            match store.backend() { laoxiao_store::Backend::Sqlite => "sqlite", _ => "postgres" },
                            caller.role,
                            r.status,
                            r.body.chars().take(300).collect::<String>()
                        );
                        // Lists never carry what lies outside the scope, and never a full ID number.
                        if got == Outcome::Allowed
                            && *method == "GET"
                            && caller.role != Some(Role::CityAdmin)
                            && !path.contains("audit")
                        {
                            let mut hidden_ids = vec!["FB", "PB"];
                            if reg.is_some_and(|r| r.scope != laoxiao_model::register::ScopeRule::City) {
                                hidden_ids.push("RB");
                            }
                            for hidden in hidden_ids {
                                let needle = if api { format!("\"{hidden}\"") } else { format!(">{hidden}<") };
                                assert!(!r.body.contains(&needle), "{:?} {uri} shows {hidden}", caller.role);
                            }
                        }
                        if got == Outcome::Allowed {
                            for (seq, _) in [(31u16, "PA"), (32, "PB")] {
                                let full = laoxiao_model::idcard::make("330402", d("1940-03-05"), seq);
                                assert!(!r.body.contains(&full), "{:?} {uri} shows a full ID number", caller.role);
                            }
                        }
                        checked += 1;
                    }
                    // Logging out ended the session: start a new one.
                    if *path == "/console/logout" && caller.role.is_some() {
                        let s2 = store.clone();
                        let name = format!("m-{}", caller.role.map(|r| r.code()).unwrap_or_default());
                        let (secret, csrf) = tokio::task::spawn_blocking(move || {
                            let mut c = s2.conn().expect("conn");
                            laoxiao_store::accounts::create_session(&mut c, &name, None).expect("session")
                        })
                        .await
                        .expect("session");
                        callers[ci].cookie = Some(format!("{}={secret}", laoxiao_web::auth::SESSION_COOKIE));
                        callers[ci].csrf = csrf;
                    }
                }
            }
        });
        eprintln!("access matrix: {checked} checks");
        assert!(checked > POLICY.len() * 9);
        drop(router);
        drop(store);
        drop(db);
        drop(rt);
    }
}

// ---------------------------------------------------------------------------
// Tokens, sessions, lockout, CSRF, headers

async fn block<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("blocking")
}

#[test]
fn tokens_expire_and_can_be_revoked() {
    run(|app| async move {
        assert_eq!(app.get("/api/me").await.status, StatusCode::OK);
        let store = app.store.clone();
        // An expired token is refused.
        let s2 = store.clone();
        block(move || {
            s2.conn()
                .expect("conn")
                .execute(
                    "UPDATE api_tokens SET expires_at = '2000-01-01T00:00:00Z' WHERE username = 'admin'",
                    &[],
                )
                .expect("expire");
        })
        .await;
        app.get("/api/me")
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        // A fresh token works until it is revoked.
        let s2 = store.clone();
        let t = block(move || {
            let sys = laoxiao_store::Scope::system("test");
            laoxiao_store::accounts::create_token(
                &mut s2.conn().expect("conn"),
                &sys,
                "admin",
                "second",
                30,
            )
            .expect("token")
        })
        .await;
        let app2 = App {
            token: Some(t),
            ..app.clone()
        };
        let r = app2.get("/api/me").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["role"], "city_admin");
        let s2 = store.clone();
        block(move || {
            let sys = laoxiao_store::Scope::system("test");
            laoxiao_store::accounts::revoke_token(
                &mut s2.conn().expect("conn"),
                &sys,
                "admin",
                "second",
            )
            .expect("revoke");
        })
        .await;
        app2.get("/api/me")
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        // No token at all, and a made-up one.
        let anon = App {
            token: None,
            ..app.clone()
        };
        anon.get("/api/people")
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        let bogus = App {
            token: Some("lx_nope".into()),
            ..app.clone()
        };
        bogus
            .get("/api/facilities")
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        // Public routes stay public.
        assert_eq!(anon.get("/api/health").await.status, StatusCode::OK);
    });
}

async fn login(router: &Router, user: &str, pw: &str) -> Raw {
    raw(
        router,
        "POST",
        "/console/login",
        &[("cookie".into(), "lx_login_csrf=pre".into())],
        Some((
            "application/x-www-form-urlencoded",
            format!("_csrf=pre&username={user}&password={pw}"),
        )),
    )
    .await
}

#[test]
fn console_login_csrf_and_headers() {
    run(|app| async move {
        let store = app.store.clone();
        block(move || {
            let sys = laoxiao_store::Scope::system("test");
            laoxiao_store::accounts::create_user(
                &mut store.conn().expect("conn"),
                &store.reference,
                &sys,
                "ann",
                Role::TownStaff,
                "330402007",
                None,
                "correct-horse",
            )
            .expect("user");
        })
        .await;
        let router = app.router.clone();
        // The login form needs its double-submit token.
        let r = raw(
            &router,
            "POST",
            "/console/login",
            &[],
            Some((
                "application/x-www-form-urlencoded",
                "username=ann&password=correct-horse".into(),
            )),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A good login: an HttpOnly, SameSite session cookie and a redirect.
        let r = login(&router, "ann", "correct-horse").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let set = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("lx_session="))
            .expect("session cookie")
            .to_string();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Lax"),
            "{set}"
        );
        let cookie = set.split(';').next().expect("cookie").to_string();
        let page = raw(
            &router,
            "GET",
            "/console/facilities",
            &[("cookie".into(), cookie.clone())],
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        // Security headers.
        let csp = page
            .headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(
            page.headers
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert_eq!(
            page.headers.get("x-frame-options").map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
        assert!(page.headers.get("referrer-policy").is_some());
        // A form post without the session's CSRF token is refused.
        let r = raw(
            &router,
            "POST",
            "/console/facilities",
            &[("cookie".into(), cookie.clone())],
            Some((
                "application/x-www-form-urlencoded",
                "_csrf=forged&name=x".into(),
            )),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("CSRF"));
        // Out of the home area: 404, not 403.
        let r = raw(
            &router,
            "GET",
            "/console/facilities?area=330411",
            &[("cookie".into(), cookie.clone())],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // A wrong password: 401 and the login form again.
        let r = login(&router, "ann", "wrong").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        // Error responses carry no internal detail.
        let r = raw(&router, "GET", "/api/people/%FF", &[], None).await;
        assert!(!r.body.contains("sqlite") && !r.body.contains("SELECT"));
    });
}

#[test]
fn full_id_numbers_need_the_permission_and_are_audited() {
    run(|app| async move {
        let store = app.store.clone();
        let (village_token, town) = block(move || {
            let w = world(&store);
            seed(&store, &w);
            (
                make_user(&store, "vil", Role::VillageStaff, &w.village_a, None),
                w.town_a,
            )
        })
        .await;
        let _ = town;
        let full = laoxiao_model::idcard::make("330402", d("1940-03-05"), 31);
        let r = app.get("/api/people/PA?full_id=true").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["id_number"], full.as_str());
        let r = app.get("/api/people/PA").await;
        assert_ne!(r.body["id_number"], full.as_str());
        // Village staff may read the record, masked, but not the full number.
        let vil = App {
            token: Some(village_token),
            ..app.clone()
        };
        assert_eq!(vil.get("/api/people/PA").await.status, StatusCode::OK);
        vil.get("/api/people/PA?full_id=true")
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        // The full read is in the trail, under the reader's name; snapshots are masked.
        let store = app.store.clone();
        let (reads, leaked) = block(move || {
            let mut c = store.conn().expect("conn");
            let reads = c
                .query_i64(
                    "SELECT COUNT(*) FROM audit_log WHERE action = 'read_full_id' AND actor = 'admin' AND entity_id = 'PA'",
                    &[],
                )
                .expect("count");
            let leaked = c
                .query_i64(
                    "SELECT COUNT(*) FROM audit_log WHERE before LIKE $1 OR after LIKE $1",
                    &[format!("%{}%", laoxiao_model::idcard::make("330402", d("1940-03-05"), 31)).into()],
                )
                .expect("count");
            (reads, leaked)
        })
        .await;
        assert_eq!(reads, 1);
        assert_eq!(leaked, 0, "no plaintext ID number in the trail");
    });
}

/// The routes the router's source declares: `.route("path", get(…).post(…))` in
/// `lib.rs` (the API builder's, under `/api`) and in the console's `routes_for`.
fn routes_in_source() -> BTreeSet<(String, String)> {
    fn scan(src: &str, prefix: &str, out: &mut BTreeSet<(String, String)>) {
        let mut rest = src;
        while let Some(i) = rest.find(".route(") {
            let after = &rest[i + ".route(".len()..];
            // The balanced argument list.
            let mut depth = 1;
            let mut end = 0;
            for (j, ch) in after.char_indices() {
                match ch {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let args = &after[..end];
            rest = &after[end..];
            let Some(q1) = args.find('"') else { continue };
            let Some(q2) = args[q1 + 1..].find('"') else {
                continue;
            };
            let path = &args[q1 + 1..q1 + 1 + q2];
            let handlers = &args[q1 + 2 + q2..];
            if path == "/api/" {
                continue; // the JSON 404 fallback
            }
            for m in ["get", "post", "put", "delete", "patch", "any"] {
                let pat = format!("{m}(");
                let mut from = 0;
                while let Some(k) = handlers[from..].find(&pat) {
                    let at = from + k;
                    let before = handlers[..at].chars().last();
                    if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        out.insert((m.to_uppercase(), format!("{prefix}{path}")));
                    }
                    from = at + pat.len();
                }
            }
        }
    }
    let lib = include_str!("../src/lib.rs");
    let console = include_str!("../src/console/mod.rs");
    let api_start = lib.find("let api = Router::new()").expect("api builder");
    let api_end = lib[api_start..].find(";").expect("end of builder") + api_start;
    let mut out = BTreeSet::new();
    scan(&lib[api_start..api_end], "/api", &mut out);
    scan(&lib[api_end..], "", &mut out);
    let c_start = console.find("pub fn routes_for").expect("routes_for");
    let c_end = console[c_start..].find("\n}\n").expect("end") + c_start;
    scan(&console[c_start..c_end], "", &mut out);
    // The public portal's routes (console/portal.rs, merged in routes_for).
    let portal = include_str!("../src/console/portal.rs");
    let p_start = portal.find("pub fn routes").expect("portal routes");
    let p_end = portal[p_start..].find("\n}\n").expect("end") + p_start;
    scan(&portal[p_start..p_end], "", &mut out);
    // Complaints and inspection results (console/portal_complaints.rs, merged there).
    let pc = include_str!("../src/console/portal_complaints.rs");
    let c_start = pc.find("pub fn routes").expect("portal complaint routes");
    let c_end = pc[c_start..].find("\n}\n").expect("end") + c_start;
    scan(&pc[c_start..c_end], "", &mut out);
    // The entitlement check's handlers (its route is in portal.rs routes()).
    scan(
        include_str!("../src/console/portal_entitlements.rs"),
        "",
        &mut out,
    );
    out
}

/// The policy table and the router declare the same routes: a route added to the
/// router without a declared access fails here (and is refused at run time).
#[test]
fn every_served_route_has_a_declared_access() {
    let declared: BTreeSet<(String, String)> = POLICY
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let served = routes_in_source();
    assert!(served.len() > 30, "{served:?}");
    assert_eq!(
        served.difference(&declared).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "served but not declared in laoxiao_web::auth::ROUTES"
    );
    assert_eq!(
        declared.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "declared but not served"
    );
}

#[test]
fn one_time_passwords_must_be_changed_first() {
    run(|app| async move {
        let store = app.store.clone();
        block(move || {
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            laoxiao_store::accounts::create_user(
                &mut c,
                &store.reference,
                &sys,
                "newbie",
                Role::CountyAdmin,
                "330402",
                None,
                "one-time-pass-1",
            )
            .expect("user");
            laoxiao_store::accounts::set_must_change(&mut c, "newbie", true).expect("flag");
        })
        .await;
        let router = app.router.clone();
        let r = login(&router, "newbie", "one-time-pass-1").await;
        let cookie = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("lx_session="))
            .and_then(|v| v.split(';').next())
            .expect("session")
            .to_string();
        let h = vec![("cookie".to_string(), cookie.clone())];
        let r = raw(&router, "GET", "/console/elderly", &h, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers.get(header::LOCATION).map(|v| v.as_bytes()),
            Some(&b"/console/password"[..])
        );
        let page = raw(&router, "GET", "/console/password", &h, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("must-change"));
        let csrf = page
            .body
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|v| v.split('"').next())
            .expect("csrf")
            .to_string();
        let post = |body: String| {
            let (router, h) = (router.clone(), h.clone());
            async move {
                raw(
                    &router,
                    "POST",
                    "/console/password",
                    &h,
                    Some(("application/x-www-form-urlencoded", body)),
                )
                .await
            }
        };
        let r = post(format!(
            "_csrf={csrf}&current=one-time-pass-1&new=short&confirm=short"
        ))
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = post(format!(
            "_csrf={csrf}&current=wrong&new=a-much-longer-one&confirm=a-much-longer-one"
        ))
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        let r = post(format!(
            "_csrf={csrf}&current=one-time-pass-1&new=a-much-longer-one&confirm=a-much-longer-one"
        ))
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = raw(&router, "GET", "/console/elderly", &h, None).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = login(&router, "newbie", "a-much-longer-one").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
    });
}

// ---------------------------------------------------------------------------
// Holes 3, 4, 5 and 10 of the November 2026 review

/// An API client with another account's token.
async fn as_user(app: &App, name: &str, role: Role, area: &str, facility: Option<&str>) -> App {
    let (store, name, area, facility) = (
        app.store.clone(),
        name.to_string(),
        area.to_string(),
        facility.map(str::to_string),
    );
    let token = block(move || make_user(&store, &name, role, &area, facility.as_deref())).await;
    App {
        token: Some(token),
        ..app.clone()
    }
}

/// A console session cookie header for a new account.
async fn console_session(app: &App, name: &str, role: Role, area: &str) -> Vec<(String, String)> {
    let (store, name, area) = (app.store.clone(), name.to_string(), area.to_string());
    let secret = block(move || {
        make_user(&store, &name, role, &area, None);
        let mut c = store.conn().expect("conn");
        laoxiao_store::accounts::create_session(&mut c, &name, None)
            .expect("session")
            .0
    })
    .await;
    vec![(
        "cookie".into(),
        format!("{}={secret}", laoxiao_web::auth::SESSION_COOKIE),
    )]
}

#[test]
fn hole_03_out_of_scope_duplicate_reveals_nothing() {
    run(|app| async move {
        let store = app.store.clone();
        let w = block(move || {
            let w = world(&store);
            seed(&store, &w);
            w
        })
        .await;
        let town = as_user(&app, "town-a", Role::TownStaff, &w.town_a, None).await;
        // PB lives in another county: registering the same number in town A
        // says only that it is registered elsewhere.
        let mut body = person_json("ignored", &w.village_a, 32);
        body.as_object_mut().expect("object").remove("id");
        let r = town.post("/api/people", &body).await;
        r.expect_error(StatusCode::CONFLICT, "registered_elsewhere");
        let text = r.body.to_string();
        for secret in ["PB", w.town_b.as_str(), "330411", "王某某"] {
            assert!(!text.contains(secret), "{text} reveals {secret}");
        }
        assert!(text.contains("/api/transfers"), "{text}");
        // Inside the scope a duplicate may name the record.
        let r = app
            .post("/api/people", &person_json("NEWX", &w.village_a, 32))
            .await;
        r.expect_error(StatusCode::CONFLICT, "conflict");
        assert!(r.body.to_string().contains("PB"));
    });
}

#[test]
fn hole_03_chosen_ids_are_no_oracle() {
    run(|app| async move {
        let store = app.store.clone();
        let w = block(move || {
            let w = world(&store);
            seed(&store, &w);
            w
        })
        .await;
        app.post("/api/facilities", &care_home("FB", &w.town_b, "外县机构"))
            .await;
        app.post("/api/facilities", &childcare("NB", &w.town_b))
            .await;
        let county = as_user(&app, "county-a", Role::CountyAdmin, "330402", None).await;
        // An id that exists in another county and one that exists nowhere
        // answer alike (for people, facilities and classes).
        let mut answers = Vec::new();
        for id in ["FB", "NOWHERE-1"] {
            let r = county
                .post("/api/facilities", &care_home(id, &w.village_a, "新机构"))
                .await;
            answers.push((r.status, r.body.to_string()));
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(answers[0].0, StatusCode::UNPROCESSABLE_ENTITY);
        let mut answers = Vec::new();
        for id in ["PB", "NOWHERE-2"] {
            let r = county
                .post("/api/people", &person_json(id, &w.village_a, 77))
                .await;
            answers.push((r.status, r.body.to_string()));
        }
        assert_eq!(answers[0], answers[1]);
        // Without an id the server assigns one.
        let mut body = care_home("x", &w.village_a, "新机构");
        body.as_object_mut().expect("object").remove("id");
        let r = county.post("/api/facilities", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let fid = r.body["id"].as_str().expect("id").to_string();
        assert!(fid.starts_with("F-"), "{fid}");
        let mut body = person_json("x", &w.village_a, 77);
        body.as_object_mut().expect("object").remove("id");
        let r = county.post("/api/people", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert!(r.body["id"].as_str().expect("id").starts_with("P-"));
        // Hole 4: a class of another county's facility is not attached to one's own.
        let mut nursery = childcare("x", &w.village_a);
        nursery.as_object_mut().expect("object").remove("id");
        nursery["classes"] = json!([{ "class_type": "young_toddler_class", "capacity": 15 }]);
        let r = county.post("/api/facilities", &nursery).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let nid = r.body["id"].as_str().expect("id").to_string();
        let own_class = r.body["classes"][0]["id"]
            .as_str()
            .expect("class id")
            .to_string();
        let mut answers = Vec::new();
        for cid in ["NB-C1", "NOWHERE-C"] {
            let mut b = childcare(&nid, &w.village_a);
            b["classes"] = json!([
                { "id": own_class, "class_type": "young_toddler_class", "capacity": 15 },
                { "id": cid, "class_type": "older_toddler_class", "capacity": 20 }
            ]);
            let r = county.put(&format!("/api/facilities/{nid}"), &b).await;
            answers.push((r.status, r.body.to_string()));
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(answers[0].0, StatusCode::UNPROCESSABLE_ENTITY);
        let r = app.get("/api/facilities/NB").await;
        assert_eq!(r.body["classes"][0]["id"], "NB-C1");
    });
}

#[test]
fn hole_04_takeover_of_deleted_records_is_a_conflict() {
    run(|app| async move {
        let store = app.store.clone();
        let w = block(move || {
            let w = world(&store);
            seed(&store, &w);
            w
        })
        .await;
        app.post("/api/facilities", &care_home("FB", &w.town_b, "外县机构"))
            .await;
        assert_eq!(
            app.delete("/api/people/PB").await.status,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            app.delete("/api/facilities/FB").await.status,
            StatusCode::NO_CONTENT
        );
        // Even the city administrator, who may choose ids, revives nothing by creating.
        app.post("/api/people", &person_json("PB", &w.village_a, 88))
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");
        app.post("/api/facilities", &care_home("FB", &w.village_a, "接管"))
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");
        assert_eq!(
            app.get("/api/people/PB").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/api/facilities/FB").await.status,
            StatusCode::NOT_FOUND
        );
    });
}

#[test]
fn hole_05_full_ids_in_write_answers_are_audited() {
    run(|app| async move {
        let body = elderly("P-W1", "1944-04-04", 41);
        let full = body["id_number"].as_str().expect("number").to_string();
        let r = app.post("/api/people?full_id=true", &body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["id_number"], full.as_str());
        let mut b2 = body.clone();
        b2["name"] = json!("改名");
        let r = app.put("/api/people/P-W1?full_id=true", &b2).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["id_number"], full.as_str());
        // Masked answers are not full reads.
        let r = app.put("/api/people/P-W1", &b2).await;
        assert_ne!(r.body["id_number"], full.as_str());
        let store = app.store.clone();
        let reads = block(move || {
            let mut c = store.conn().expect("conn");
            c.query_i64(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'read_full_id' AND entity_id = 'P-W1'",
                &[],
            )
            .expect("count")
        })
        .await;
        assert_eq!(reads, 2, "the create and the update that showed the number");
        // Every other path that lets a full number out is audited too: lists
        // and details (each naming the records), exports (the CLI's path).
        let r = app.get("/api/people?full_id=true&role=elderly").await;
        assert_eq!(r.body["items"][0]["id_number"], full.as_str());
        let r = app.get("/api/people/P-W1?full_id=true").await;
        assert_eq!(r.body["id_number"], full.as_str());
        let store = app.store.clone();
        let (reads, exports, exported) = block(move || {
            use laoxiao_model::columns::{HeaderLang, RecordKind};
            let mut out = Vec::new();
            laoxiao_store::io::export_to_writer(
                &store,
                &laoxiao_store::Scope::system("cli:test"),
                RecordKind::Elderly,
                laoxiao_store::io::ExportFormat::Csv,
                HeaderLang::English,
                true,
                &mut out,
            )
            .expect("export");
            let mut c = store.conn().expect("conn");
            let reads = c
                .query_i64(
                    "SELECT COUNT(*) FROM audit_log WHERE action = 'read_full_id' AND entity_id LIKE '%P-W1%'",
                    &[],
                )
                .expect("count");
            let exports = c
                .query_i64(
                    "SELECT COUNT(*) FROM audit_log WHERE action = 'export_full_ids' AND actor = 'cli:test'",
                    &[],
                )
                .expect("count");
            (reads, exports, String::from_utf8_lossy(&out).into_owned())
        })
        .await;
        assert!(exported.contains(full.as_str()));
        assert_eq!(reads, 4, "create, update, list and detail");
        assert_eq!(exports, 1);
    });
}

#[test]
fn hole_10_analysts_get_aggregates_and_public_facility_fields_only() {
    run(|app| async move {
        let store = app.store.clone();
        let w = block(move || world(&store)).await;
        let mut home = care_home("F-SECRET-ID", &w.village_a, "公开名称养老院");
        home["phone"] = json!("13900001111");
        let r = app.post("/api/facilities", &home).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let credit = home["operator_credit_code"]
            .as_str()
            .expect("code")
            .to_string();
        for (role, name, shows_id) in [
            (Role::Analyst, "an", false),
            (Role::Inspector, "insp", true),
        ] {
            let h = console_session(&app, name, role, "330402").await;
            // The overview itself (inspectors land on their worklist at `/`).
            let r = raw(&app.router, "GET", "/console/overview", &h, None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            // The map shows the place by its public fields.
            assert!(
                r.body.contains("公开名称养老院"),
                "{role:?}: name on the map"
            );
            assert_eq!(
                r.body.contains("F-SECRET-ID"),
                shows_id,
                "{role:?}: register id"
            );
            for private in [credit.as_str(), "13900001111", "嘉兴市测试运营公司"] {
                assert!(!r.body.contains(private), "{role:?} sees {private}");
            }
        }
        // The API keeps records from analysts altogether.
        let analyst = as_user(&app, "an-api", Role::Analyst, "330402", None).await;
        analyst
            .get("/api/facilities")
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
    });
}

#[test]
fn hole_03_transfer_request_through_the_api_and_console() {
    run(|app| async move {
        let store = app.store.clone();
        let w = block(move || {
            let w = world(&store);
            seed(&store, &w);
            w
        })
        .await;
        let town = as_user(&app, "town-a", Role::TownStaff, &w.town_a, None).await;
        let holder = as_user(&app, "county-b", Role::CountyAdmin, "330411", None).await;
        let number = laoxiao_model::idcard::make("330402", d("1940-03-05"), 32);
        let r = town
            .post(
                "/api/transfers",
                &json!({"id_number": number, "to_area_code": w.village_a, "reason": "随子女居住"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_str().expect("id").to_string();
        assert_eq!(r.body["status"], "open");
        assert_eq!(r.body["person_id"], Value::Null);
        assert!(!r.body.to_string().contains(number.as_str()));
        assert!(!r.body.to_string().contains(w.town_b.as_str()));
        // The holder's inbox has it, with the person.
        let r = holder
            .get("/api/transfers?direction=incoming&status=open")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["items"][0]["person_id"], "PB");
        holder
            .get("/api/transfers?direction=sideways")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        // Others do not see it.
        town.post(&format!("/api/transfers/{id}/approve"), &json!({}))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        holder
            .post(&format!("/api/transfers/{id}/refuse"), &json!({}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        // The console shows the requester's side.
        let h = console_session(&app, "town-a-console", Role::TownStaff, &w.town_a).await;
        let page = raw(&app.router, "GET", "/console/transfers?lang=en", &h, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Requests of your area"));
        assert!(page.body.contains("随子女居住"));
        assert!(!page.body.contains(">PB<") && !page.body.contains(number.as_str()));
        // Approved: the record is the requester's.
        let r = holder
            .post(&format!("/api/transfers/{id}/approve"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "approved");
        let r = town.get("/api/people/PB").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["residence_area_code"], w.village_a.as_str());
        assert_eq!(
            holder.get("/api/people/PB").await.status,
            StatusCode::NOT_FOUND
        );
        let r = town.get(&format!("/api/transfers/{id}")).await;
        assert_eq!(r.body["person_id"], "PB");
    });
}

#[test]
fn hole_07_person_pages_and_lists_record_views_and_show_them() {
    run(|app| async move {
        let store = app.store.clone();
        let (vil_token, vil_cookie, county_token, county_cookie, auditor_cookie) =
            block(move || {
                let w = world(&store);
                seed(&store, &w);
                let vil = make_user(&store, "vil", Role::VillageStaff, &w.village_a, None);
                let county = make_user(&store, "cty", Role::CountyAdmin, "330402", None);
                make_user(&store, "aud", Role::Auditor, "330402", None);
                let mut c = store.conn().expect("conn");
                let mut session = |name: &str| {
                    let (secret, _) = laoxiao_store::accounts::create_session(&mut c, name, None)
                        .expect("session");
                    format!("{}={secret}", laoxiao_web::auth::SESSION_COOKIE)
                };
                let (v, c, a) = (session("vil"), session("cty"), session("aud"));
                (vil, v, county, c, a)
            })
            .await;
        let vil = App {
            token: Some(vil_token),
            ..app.clone()
        };
        let county = App {
            token: Some(county_token),
            ..app.clone()
        };
        // Village staff read PA's record and a list page, by API and console.
        assert_eq!(vil.get("/api/people/PA").await.status, StatusCode::OK);
        let list = vil.get("/api/people?limit=50").await;
        assert_eq!(list.status, StatusCode::OK);
        let shown = list.body["items"].as_array().expect("items").len() as i64;
        assert!(shown >= 1);
        let console = |uri: &'static str, cookie: String| {
            let router = app.router.clone();
            async move { raw(&router, "GET", uri, &[("cookie".into(), cookie)], None).await }
        };
        let page = console("/console/people/PA", vil_cookie.clone()).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            !page.body.contains("id=\"views\""),
            "staff do not see views"
        );
        assert_eq!(
            console("/console/elderly", vil_cookie.clone()).await.status,
            StatusCode::OK
        );
        // One row per person shown, under the reader's name.
        let store = app.store.clone();
        let listed = block(move || {
            store
                .conn()
                .expect("conn")
                .query_i64(
                    "SELECT COUNT(*) FROM record_view WHERE actor = 'vil' AND via = 'api_list'",
                    &[],
                )
                .expect("count")
        })
        .await;
        assert_eq!(listed, shown);
        // The county administrator sees who viewed PA (API and console)…
        let r = county.get("/api/people/PA/views").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let vias: Vec<&str> = r.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|v| v["actor"] == "vil")
            .map(|v| v["via"].as_str().expect("via"))
            .collect();
        assert_eq!(
            vias,
            ["console_list", "console_detail", "api_list", "api_detail"]
        );
        let page = console("/console/people/PA", county_cookie).await;
        assert!(
            page.body.contains("id=\"views\"") && page.body.contains(">vil<"),
            "{}",
            page.body.chars().take(400).collect::<String>()
        );
        // The county's auditor finds them on the audit page.
        let page = console("/console/audit?viewed=PA", auditor_cookie.clone()).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("id=\"views-table\"") && page.body.contains(">vil<"));
        assert_eq!(
            console("/console/audit?viewed=PB", auditor_cookie)
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // …not outside the county, and staff may not ask.
        county
            .get("/api/people/PB/views")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        vil.get("/api/people/PA/views")
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        county
            .get("/api/people/PA/views?limit=0")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
    });
}

// ---------------------------------------------------------------------------
// Hole 8: login redirects and failures; hole 13: caching and HSTS headers.

async fn login_next(router: &Router, user: &str, pw: &str, next_form_value: &str) -> Raw {
    raw(
        router,
        "POST",
        "/console/login",
        &[("cookie".into(), "lx_login_csrf=pre".into())],
        Some((
            "application/x-www-form-urlencoded",
            format!("_csrf=pre&username={user}&password={pw}&next={next_form_value}"),
        )),
    )
    .await
}

fn add_console_user(store: &laoxiao_store::Store, name: &str, role: Role, area: &str, pw: &str) {
    laoxiao_store::accounts::create_user(
        &mut store.conn().expect("conn"),
        &store.reference,
        &laoxiao_store::Scope::system("test"),
        name,
        role,
        area,
        None,
        pw,
    )
    .expect("user");
}

#[test]
fn hole_08_login_redirects_only_to_paths_on_this_site() {
    run(|app| async move {
        let store = app.store.clone();
        block(move || {
            add_console_user(&store, "ann", Role::TownStaff, "330402007", "correct-horse")
        })
        .await;
        let router = app.router.clone();
        // Form-encoded values of `next`, decoded by the form to: a tab or a
        // newline after the slash (browsers drop them: `//evil`), the same
        // percent-encoded, backslashes, a second slash, another origin, and
        // slashes hidden behind one or two rounds of percent-encoding.
        let hostile = [
            "%2F%09%2Fevil.example",
            "%2F%0A%2Fevil.example",
            "%2F%0D%0ASet-Cookie:%20x=1",
            "%2F%2509%2Fevil.example",
            "%2F%250a%2Fevil.example",
            "%2F%5C%5Cevil.example",
            "%2F%5Cevil.example",
            "%2F%255Cevil.example",
            "%2F%2Fevil.example",
            "https%3A%2F%2Fevil.example",
            "%2F%252F%252Fevil.example",
            "%2F%25252F%25252Fevil.example",
            "%09%2F%2Fevil.example",
            "%2F%7F%2Fevil.example",
        ];
        for next in hostile {
            let r = login_next(&router, "ann", "correct-horse", next).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{next}: {}", r.body);
            // The role's home instead (town staff: their worklist).
            assert_eq!(
                r.headers.get(header::LOCATION).map(|v| v.as_bytes()),
                Some(&b"/console/home"[..]),
                "next={next}"
            );
        }
        // A path on this site is kept; non-ASCII is percent-encoded.
        for (next, to) in [
            (
                "%2Fconsole%2Ffacilities%3Farea%3D330402007",
                "/console/facilities?area=330402007",
            ),
            (
                "%2Fconsole%2Felderly%3Fq%3D%E5%BC%A0",
                "/console/elderly?q=%E5%BC%A0",
            ),
        ] {
            let r = login_next(&router, "ann", "correct-horse", next).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER);
            assert_eq!(
                r.headers
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok()),
                Some(to)
            );
        }
    });
}

#[test]
fn hole_08_every_login_failure_gets_the_same_answer() {
    run(|app| async move {
        let router = app.router.clone();
        let answer = |r: Raw| {
            let mut headers: Vec<(String, Vec<u8>)> = r
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect();
            headers.sort();
            (r.status, headers, r.body)
        };
        let exec = |sql: &'static str| {
            let store = app.store.clone();
            block(move || {
                store.conn().expect("conn").execute(sql, &[]).expect("sql");
            })
        };
        // 1. An unknown name.
        let unknown = answer(login(&router, "zhang", "correct-horse").await);
        assert_eq!(unknown.0, StatusCode::UNAUTHORIZED);
        // 2. The name exists now; a wrong password.
        let store = app.store.clone();
        block(move || {
            add_console_user(
                &store,
                "zhang",
                Role::TownStaff,
                "330402007",
                "correct-horse",
            )
        })
        .await;
        let wrong = answer(login(&router, "zhang", "wrong-horse").await);
        // 3. Inside a wait someone else's failures caused: the right password.
        for _ in 0..4 {
            login(&router, "zhang", "wrong-horse").await;
        }
        exec("UPDATE login_throttle SET next_attempt_at = '2999-01-01T00:00:00Z'").await;
        let throttled = answer(login(&router, "zhang", "correct-horse").await);
        // 4. A disabled account: the right password.
        exec("UPDATE login_throttle SET next_attempt_at = '2000-01-01T00:00:00Z'").await;
        let store = app.store.clone();
        block(move || {
            laoxiao_store::accounts::set_disabled(
                &mut store.conn().expect("conn"),
                &laoxiao_store::Scope::system("test"),
                "zhang",
                true,
            )
            .expect("disable");
        })
        .await;
        let disabled = answer(login(&router, "zhang", "correct-horse").await);
        assert_eq!(wrong, unknown, "wrong password vs unknown name");
        assert_eq!(throttled, unknown, "throttled vs unknown name");
        assert_eq!(disabled, unknown, "disabled vs unknown name");
        // No permanent lockout: enabled again and the wait over, the right
        // password works.
        let store = app.store.clone();
        block(move || {
            laoxiao_store::accounts::set_disabled(
                &mut store.conn().expect("conn"),
                &laoxiao_store::Scope::system("test"),
                "zhang",
                false,
            )
            .expect("enable");
        })
        .await;
        exec("UPDATE login_throttle SET next_attempt_at = '2000-01-01T00:00:00Z'").await;
        let r = login(&router, "zhang", "correct-horse").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    });
}

fn header_of<'a>(r: &'a Raw, name: &str) -> Option<&'a str> {
    r.headers.get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn hole_13_personal_answers_are_not_cached_and_tls_is_strict() {
    let secure = WebConfig {
        secure_cookies: true,
        ..WebConfig::default()
    };
    run_with(secure, |app| async move {
        let token = app.token.clone().expect("token");
        let auth = vec![("authorization".to_string(), format!("Bearer {token}"))];
        for uri in ["/api/people", "/api/facilities", "/api/me", "/api/nope"] {
            let r = raw(&app.router, "GET", uri, &auth, None).await;
            assert_eq!(header_of(&r, "cache-control"), Some("no-store"), "{uri}");
            assert!(
                header_of(&r, "strict-transport-security").is_some_and(|v| v.contains("max-age=")),
                "{uri}"
            );
        }
        for uri in ["/console/login", "/console/facilities", "/"] {
            let r = raw(&app.router, "GET", uri, &[], None).await;
            assert_eq!(header_of(&r, "cache-control"), Some("no-store"), "{uri}");
        }
        // Static files stay cacheable.
        let r = raw(
            &app.router,
            "GET",
            "/console/static/vendor/htmx.LICENSE",
            &[],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_ne!(header_of(&r, "cache-control"), Some("no-store"));
    });
    // Without TLS (no secure cookies) no HSTS: browsers would pin plain HTTP off.
    run(|app| async move {
        let r = raw(&app.router, "GET", "/api/health", &[], None).await;
        assert_eq!(header_of(&r, "strict-transport-security"), None);
        assert_eq!(header_of(&r, "cache-control"), Some("no-store"));
    });
}

/// Every log event of this test binary, as `field=value …` lines.
fn captured_logs() -> &'static std::sync::Mutex<Vec<String>> {
    struct Capture(&'static std::sync::Mutex<Vec<String>>);
    struct Fields(String);
    impl tracing::field::Visit for Fields {
        fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
            self.0.push_str(&format!("{}={v:?} ", f.name()));
        }
    }
    impl tracing::Subscriber for Capture {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, a: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            // Spans too: what a request's span records is logged with it.
            let mut f = Fields(String::new());
            a.record(&mut f);
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push(f.0);
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, e: &tracing::Event<'_>) {
            let mut f = Fields(String::new());
            e.record(&mut f);
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push(f.0);
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }
    static LOGS: std::sync::OnceLock<&'static std::sync::Mutex<Vec<String>>> =
        std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static std::sync::Mutex<Vec<String>> =
            Box::leak(Box::new(std::sync::Mutex::new(Vec::new())));
        let _ = tracing::subscriber::set_global_default(Capture(logs));
        logs
    })
}

#[test]
fn hole_13_database_errors_are_logged_with_their_cause() {
    let logs = captured_logs();
    run(|app| async move {
        let store = app.store.clone();
        block(move || {
            add_console_user(&store, "zhao", Role::CityAdmin, "330400", "zhao-password-1");
        })
        .await;
        let r = login(&app.router, "zhao", "zhao-password-1").await;
        let cookie = r
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("lx_session="))
            .and_then(|v| v.split(';').next())
            .expect("session")
            .to_string();
        // A broken schema: every facility read fails in the database.
        let store = app.store.clone();
        block(move || {
            store
                .conn()
                .expect("conn")
                .batch("ALTER TABLE facility RENAME TO facility_gone")
                .expect("rename");
        })
        .await;
        let page = raw(
            &app.router,
            "GET",
            "/console/facilities",
            &[("cookie".into(), cookie)],
            None,
        )
        .await;
        let api = app.get("/api/facilities").await;
        let store = app.store.clone();
        block(move || {
            store
                .conn()
                .expect("conn")
                .batch("ALTER TABLE facility_gone RENAME TO facility")
                .expect("rename back");
        })
        .await;
        assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
        api.expect_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error");
        // The answers stay generic; the log names the cause, for the console
        // page and the API alike.
        assert!(!page.body.contains("no such table") && !page.body.contains("42P01"));
        let lines = logs.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let cause = |what: &str| {
            lines.iter().any(|l| {
                l.contains(what)
                    && (l.contains("no such table: facility")
                        || l.contains("42P01: relation \"facility\" does not exist"))
            })
        };
        assert!(cause("console store error"), "console: {lines:#?}");
        assert!(cause("request failed"), "api: {lines:#?}");
    });
}

// ---------------------------------------------------------------------------
// Issue 9: hostile uploads, bounds, control characters, any JSON body

/// A console session of the harness's city administrator: (cookie, csrf).
async fn admin_session(app: &App) -> (String, String) {
    let store = app.store.clone();
    block(move || {
        let mut c = store.conn().expect("conn");
        let (secret, csrf) =
            laoxiao_store::accounts::create_session(&mut c, "admin", None).expect("session");
        (
            format!("{}={secret}", laoxiao_web::auth::SESSION_COOKIE),
            csrf,
        )
    })
    .await
}

/// An XLSX written by hand around one sheet and any extra parts.
fn hand_xlsx(sheet_rows: &str, dimension: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let ns = "http://schemas.openxmlformats.org";
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opt = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts = [
        (
            "_rels/.rels",
            format!(
                "<Relationships xmlns=\"{ns}/package/2006/relationships\"><Relationship Id=\"rId1\" \
                 Type=\"{ns}/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                "<workbook xmlns=\"{ns}/spreadsheetml/2006/main\" xmlns:r=\"{ns}/officeDocument/2006/relationships\">\
             <sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                "<Relationships xmlns=\"{ns}/package/2006/relationships\"><Relationship Id=\"rId1\" \
             Type=\"{ns}/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"
            ),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                "<worksheet xmlns=\"{ns}/spreadsheetml/2006/main\"><dimension ref=\"{dimension}\"/>\
             <sheetData>{sheet_rows}</sheetData></worksheet>"
            ),
        ),
    ];
    for (name, body) in &parts {
        z.start_file(*name, opt).expect("part");
        z.write_all(body.as_bytes()).expect("write");
    }
    for (name, body) in extra {
        z.start_file(*name, opt).expect("part");
        z.write_all(body).expect("write");
    }
    z.finish().expect("zip").into_inner()
}

async fn upload(app: &App, cookie: &str, csrf: &str, name: &str, file: &[u8]) -> Raw {
    let mut body = Vec::new();
    for (field, value) in [("_csrf", csrf), ("kind", "facilities")] {
        body.extend_from_slice(
            format!("--XB\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n--XB--\r\n");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/console/import")
        .header("cookie", cookie)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XB")
        .body(Body::from(body))
        .expect("request");
    let resp = app.router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
        .await
        .expect("body");
    Raw {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[test]
fn hole_01_hostile_xlsx_upload_is_refused_and_the_server_survives() {
    run(|app| async move {
        let (cookie, csrf) = admin_session(&app).await;
        // The review's 1.5 KB file: A1 and the grid's last cell.
        let evil = hand_xlsx(
            "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>id</t></is></c></row>\
             <row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row>",
            "A1:XFD1048576",
            &[],
        );
        assert!(evil.len() < 2048, "{}", evil.len());
        // Its header lacks the required columns: that is the answer, and the
        // last cell is never sized.
        let r = upload(&app, &cookie, &csrf, "evil.xlsx", &evil).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        // With a full header, the cell at XFD is over the column limit.
        let header: String = laoxiao_model::columns::headers(
            laoxiao_model::columns::RecordKind::Facilities,
            laoxiao_model::columns::HeaderLang::English,
        )
        .iter()
        .map(|h| format!("<c t=\"inlineStr\"><is><t>{h}</t></is></c>"))
        .collect();
        let evil = hand_xlsx(
            &format!(
                "<row r=\"1\">{header}</row>\
                 <row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row>"
            ),
            "A1:XFD1048576",
            &[],
        );
        let r = upload(&app, &cookie, &csrf, "evil.xlsx", &evil).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
        assert!(
            r.body.contains("max_columns = 100") && r.body.contains("XFD"),
            "{}",
            r.body
        );
        // A zip bomb: 64 MiB of one byte in a part of about 64 KiB.
        let zeros = vec![b'a'; 64 << 20];
        let bomb = hand_xlsx("", "A1", &[("xl/sharedStrings.xml", &zeros)]);
        let r = upload(&app, &cookie, &csrf, "bomb.xlsx", &bomb).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
        assert!(r.body.contains("max_xlsx_ratio = 200"), "{}", r.body);
        // Still serving.
        assert_eq!(app.get("/api/health").await.status, StatusCode::OK);
    });
}

#[test]
fn hole_01_import_limits_come_from_the_web_config() {
    let config = WebConfig {
        import_limits: laoxiao_store::io::ImportLimits {
            max_rows: 1,
            ..Default::default()
        },
        ..WebConfig::default()
    };
    run_with(config, |app| async move {
        let (cookie, csrf) = admin_session(&app).await;
        let csv = "id,name,kind,area_code\nF1,甲,village_care_station,330402007024\n\
                   F2,乙,village_care_station,330402007024\n";
        let r = upload(&app, &cookie, &csrf, "f.csv", csv.as_bytes()).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
        assert!(r.body.contains("max_rows = 1"), "{}", r.body);
    });
}

#[test]
fn hole_02_counts_out_of_range_are_refused_and_totals_cannot_overflow() {
    run(|app| async move {
        let mut body = care_home("F-MAX", "330402007", "大养老院");
        body["beds"] = json!(i64::MAX);
        let fields = app
            .post("/api/facilities", &body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(fields.contains(&"beds".to_string()), "{fields:?}");
        let ok = care_home("F-OK", "330402007", "小养老院");
        assert_eq!(
            app.post("/api/facilities", &ok).await.status,
            StatusCode::CREATED
        );
        let mut put = ok.clone();
        put["beds"] = json!(i64::MAX);
        put["nursing_beds"] = json!(-1);
        let r = app.put("/api/facilities/F-OK", &put).await;
        let fields = r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(
            fields.contains(&"beds".to_string()) && fields.contains(&"nursing_beds".to_string()),
            "{fields:?}"
        );
        let reason = r.body["error"]["details"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(reason.contains("0 to 20000"), "{reason}");
        let mut class_body = childcare("N-1", "330402007024");
        class_body["classes"][0]["caregivers"] = json!(i64::MAX);
        let fields = app
            .post("/api/facilities", &class_body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(
            fields.iter().any(|f| f.contains("caregivers")),
            "{fields:?}"
        );
        // Twelve children in a 托小班 (1:5) need three caregivers: two are
        // refused at the field, citing the standard's article; nothing written.
        let mut short = childcare("N-2", "330402007024");
        short["classes"][0]["caregivers"] = json!(2);
        let r = app.post("/api/facilities", &short).await;
        let fields = r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(
            fields.iter().any(|f| f.ends_with("caregivers")),
            "{fields:?}"
        );
        assert!(
            r.body.to_string().contains("need at least 3 caregivers")
                && r.body.to_string().contains("1:5"),
            "{}",
            r.body
        );
        assert_eq!(
            app.get("/api/facilities/N-2").await.status,
            StatusCode::NOT_FOUND
        );

        // A row from before the ranges: stored directly, past validation.
        let store = app.store.clone();
        block(move || {
            let mut c = store.conn().expect("conn");
            for (id, beds) in [
                ("F-OLD1", i64::MAX),
                ("F-OLD2", i64::MAX),
                ("F-OLD3", i64::MIN),
            ] {
                let mut f = laoxiao_model::Facility::blank(
                    id,
                    "旧数据",
                    laoxiao_model::FacilityKind::ElderlyInstitution,
                    "330402007",
                );
                f.beds = Some(beds);
                f.nursing_beds = Some(beds);
                f.approved_slots = Some(beds);
                laoxiao_store::facilities::upsert(
                    &mut c,
                    &store.reference,
                    &f,
                    "2026-01-01T00:00:00Z",
                )
                .expect("stored past validation");
            }
        })
        .await;
        let (cookie, _) = admin_session(&app).await;
        for uri in [
            "/",
            "/?area=330402",
            "/?area=330402007",
            "/console/facilities",
        ] {
            let r = raw(
                &app.router,
                "GET",
                uri,
                &[("cookie".into(), cookie.clone())],
                None,
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "[{}] {uri}: {}",
                app.backend,
                r.body
            );
        }
    });
}

#[test]
fn hole_13_control_characters_are_refused_on_both_databases() {
    run(|app| async move {
        for (field, bad) in [
            ("name", "养老\u{0}院"),
            ("address", "路\u{1b}[2J"),
            ("operator_name", "公司\u{7f}"),
            ("phone", "0573\n8888"),
        ] {
            let mut body = care_home("F-C", "330402007", "养老院");
            body[field] = json!(bad);
            let fields = app
                .post("/api/facilities", &body)
                .await
                .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert!(
                fields.contains(&field.to_string()),
                "[{}] {field}: {fields:?}",
                app.backend
            );
        }
        let ok = care_home("F-C", "330402007", "养老院");
        assert_eq!(
            app.post("/api/facilities", &ok).await.status,
            StatusCode::CREATED
        );
        let mut put = ok;
        put["name"] = json!("\u{0}");
        app.put("/api/facilities/F-C", &put)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        let mut p = elderly("P-C", "1950-03-04", 11);
        p["name"] = json!("王\u{0}");
        p["address"] = json!("x\u{0}");
        let fields = app
            .post("/api/people", &p)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert!(
            fields.contains(&"name".to_string()) && fields.contains(&"address".to_string()),
            "{fields:?}"
        );
    });
}

/// Any JSON body to the write endpoints: never a server error, always the JSON
/// error envelope when refused.
#[test]
fn json_bodies_of_write_endpoints_never_give_5xx() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop_oneof![Just(i64::MAX), Just(i64::MIN), Just(-1i64), Just(20_001)]
                .prop_map(Value::from),
            any::<f64>().prop_map(|x| json!(x)),
            any::<String>().prop_map(Value::from),
            "[\\u{0}-\\u{1f}=+@a-z0-9 ]{0,12}".prop_map(Value::from),
            Just(json!("330402007")),
            Just(json!("elderly_institution")),
            Just(json!("elderly")),
            Just(json!([{"id": "C", "class_type": "mixed_age_class", "capacity": 18}])),
        ]
    }
    const FIELDS: &[&str] = &[
        "id",
        "name",
        "kind",
        "area_code",
        "beds",
        "nursing_beds",
        "dementia_beds",
        "approved_slots",
        "lng",
        "lat",
        "address",
        "phone",
        "operator_name",
        "operator_credit_code",
        "filing_status",
        "filing_date",
        "rating",
        "status",
        "classes",
        "role",
        "id_number",
        "sex",
        "birth_date",
        "residence_area_code",
        "hukou_area_code",
        "birth_order",
        "special_difficulty",
        "ability_level",
        "guardian_name",
        "guardian_phone",
        "death_date",
        "inclusive",
        "zzz",
    ];
    let strategy = (
        prop::collection::vec((prop::sample::select(FIELDS), value()), 0..16),
        0usize..4,
    );
    for db in TestDb::all().expect("test databases") {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let token = make_user(
            &db.store,
            "admin",
            laoxiao_store::Role::CityAdmin,
            "330400",
            None,
        );
        let app = App {
            router: laoxiao_web::router(AppState::new(db.store.clone(), WebConfig::default())),
            backend: "any",
            token: Some(token),
            store: db.store.clone(),
        };
        rt.block_on(async {
            app.post("/api/facilities", &care_home("F1", "330402007", "x"))
                .await;
            app.post("/api/people", &elderly("P1", "1950-03-04", 11))
                .await;
        });
        let mut runner = TestRunner::new(Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |(kv, endpoint)| {
                let body = Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
                let (method, uri) = [
                    (Method::POST, "/api/facilities"),
                    (Method::PUT, "/api/facilities/F1"),
                    (Method::POST, "/api/people"),
                    (Method::PUT, "/api/people/P1"),
                ][endpoint]
                    .clone();
                let r = rt.block_on(app.send(
                    method,
                    uri,
                    Some(("application/json", body.to_string().into_bytes())),
                ));
                prop_assert!(
                    !r.status.is_server_error(),
                    "{uri} {body}: {} {}",
                    r.status,
                    r.body
                );
                if !r.status.is_success() {
                    prop_assert!(r.body["error"]["code"].is_string(), "{}", r.body);
                }
                Ok(())
            })
            .expect("no server error for any body");
        drop(app);
        drop(db);
        drop(rt);
    }
}

// ---------------------------------------------------------------------------
// Reliability suite (bench/schemathesis.sh): the document lists what the API answers

/// Found by schemathesis: a role without the permission got 403, an unknown
/// cursor 422 and an unknown query parameter 400 where the operations documented
/// none of them; a client generated from
/// the document meets statuses it does not know.
#[test]
fn hole_rel_auth_and_cursor_failures_are_documented_on_every_operation() {
    run(|app| async move {
        let doc = app.get("/api/openapi.json").await.body;
        let store = app.store.clone();
        let analyst = tokio::task::spawn_blocking(move || {
            make_user(
                &store,
                "rel-analyst",
                laoxiao_store::Role::Analyst,
                "330400",
                None,
            )
        })
        .await
        .expect("user");
        let store = app.store.clone();
        let auditor = tokio::task::spawn_blocking(move || {
            make_user(
                &store,
                "rel-auditor",
                laoxiao_store::Role::Auditor,
                "330400",
                None,
            )
        })
        .await
        .expect("user");
        let as_auditor = App {
            token: Some(auditor),
            ..app.clone()
        };
        let as_analyst = App {
            token: Some(analyst),
            ..app.clone()
        };
        let anonymous = App {
            token: None,
            ..app.clone()
        };
        let mut checked = 0;
        for (m, p) in api_routes() {
            let documented: Vec<String> = doc["paths"][&p][&m]["responses"]
                .as_object()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            let uri = p
                .replace("{code}", "330402")
                .replace("{id}", "nope")
                .replace("{line}", "1");
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).expect("method");
            let body = || {
                matches!(m.as_str(), "post" | "put").then(|| ("application/json", b"{}".to_vec()))
            };
            for (who, a) in [("anonymous", &anonymous), ("analyst", &as_analyst)] {
                let r = a.send(method.clone(), &uri, body()).await;
                assert!(
                    documented.contains(&r.status.as_u16().to_string()),
                    "{m} {p} as {who} answers {} but documents {documented:?}",
                    r.status
                );
                checked += 1;
            }
            let query_params = doc["paths"][&p][&m]["parameters"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["in"] == "query"));
            if query_params {
                for (who, a) in [("admin", &app), ("auditor", &as_auditor)] {
                    let r = a
                        .send(method.clone(), &format!("{uri}?x-unknown=42"), body())
                        .await;
                    assert!(
                        documented.contains(&r.status.as_u16().to_string()),
                        "{m} {p}?x-unknown=42 as {who} answers {} but documents {documented:?}",
                        r.status
                    );
                }
            }
            // A body that is not JSON, or comes without its content type, as the
            // city administrator (who passes every permission check).
            if matches!(m.as_str(), "post" | "put") {
                for (what, body) in [
                    ("malformed", Some(("application/json", b"\x00".to_vec()))),
                    ("untyped", None),
                ] {
                    let r = app.send(method.clone(), &uri, body).await;
                    assert!(
                        documented.contains(&r.status.as_u16().to_string()),
                        "{m} {p} with a {what} body answers {} but documents {documented:?}",
                        r.status
                    );
                }
            }
            if m == "get" && documented.iter().any(|s| s == "200") {
                let params = doc["paths"][&p][&m]["parameters"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if params.iter().any(|x| x["name"] == "after") {
                    let r = app.get(&format!("{uri}?after=no-such-cursor")).await;
                    assert!(
                        documented.contains(&r.status.as_u16().to_string()),
                        "{m} {p}?after=… answers {} but documents {documented:?}",
                        r.status
                    );
                }
            }
        }
        assert!(checked > 20);
    });
}

// ---------------------------------------------------------------------------
// Issue 12: the indicator monitor's API.

#[test]
fn indicators_are_computed_explained_reported_and_published() {
    run(|app| async move {
        // One care home (120 beds, 80 nursing) and one elderly person at
        // level 2 with 低保 in town 330402007.
        let r = app
            .post("/api/facilities", &care_home("F1", "330402007", "一号院"))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = app
            .post("/api/people", &elderly("E1", "1940-03-05", 11))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let defs = app.get("/api/indicators").await;
        assert_eq!(defs.status, StatusCode::OK);
        assert_eq!(defs.body["items"].as_array().map(Vec::len), Some(44));

        let r = app
            .get("/api/indicators/values?period=2023&indicator=14")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["provisional"], true);
        let items = r.body["items"].as_array().expect("items");
        let city = items
            .iter()
            .find(|v| v["area_code"] == "330400")
            .expect("city");
        assert_eq!(
            (city["numerator"].as_i64(), city["denominator"].as_i64()),
            (Some(80), Some(120))
        );
        assert_eq!(city["value"].as_f64(), Some(66.67));
        assert_eq!(city["status"], "met");
        // The city and its seven counties.
        assert_eq!(items.len(), 8);
        let r = app
            .get("/api/indicators/values?period=2023&area=330402&level=town&indicator=14")
            .await;
        let towns = r.body["items"].as_array().expect("towns");
        assert!(towns.iter().all(|v| v["level"] == "town") && towns.len() > 5);

        // Bad input: a period out of range, an unknown area, an unknown parameter.
        for q in [
            "period=1999",
            "period=2023&area=999999",
            "period=2023&colour=red",
            "area=330402",
        ] {
            let r = app.get(&format!("/api/indicators/values?{q}")).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{q}: {}", r.body);
        }
        let r = app.get("/api/indicators/44?period=2023").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "the plan has no 44");

        // Explain: the drill-down and the records (the admin reads people).
        let r = app.get("/api/indicators/9?period=2023&area=330402").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["value"]["numerator"].as_i64(), Some(10));
        assert_eq!(r.body["records"]["register"], "facilities");
        assert_eq!(r.body["records"]["numerator"], json!(["F1"]));
        assert!(r.body["children"].as_array().is_some_and(|c| !c.is_empty()));
        // An analyst sees the figures but not the records.
        let analyst = as_user(&app, "ana", Role::Analyst, "330400", None).await;
        let r = analyst
            .get("/api/indicators/9?period=2023&area=330402")
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body["records"].is_null() && r.body["records_withheld"].is_string());
        let r = analyst
            .post("/api/indicators/reported", &json!({"values": []}))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);

        // Reported values: all or none, with row and column in the errors.
        let body = json!({"values": [
            {"indicator": 1, "area_code": "330400", "period": "2023", "value": 83.2},
            {"indicator": 6, "area_code": "330400", "period": "2023", "value": 90.0},
        ]});
        let r = app.post("/api/indicators/reported", &body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(
            r.body.to_string().contains("computed from the registers"),
            "{}",
            r.body
        );
        let body = json!({"values": [{"indicator": 1, "area_code": "330400", "period": "2023", "value": 83.2, "note": "统计公报"}]});
        let r = app.post("/api/indicators/reported", &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let r = app
            .get("/api/indicators/values?period=2023&indicator=1")
            .await;
        let city = r.body["items"]
            .as_array()
            .and_then(|a| a.iter().find(|v| v["area_code"] == "330400").cloned())
            .expect("city");
        assert_eq!(
            (city["value"].as_f64(), city["status"].as_str()),
            (Some(83.2), Some("met"))
        );
        assert_eq!(city["reported_by"], "admin");

        // Trend by year, then publish and list changes after a write.
        let r = app
            .get("/api/indicators/14/trend?area=330402&to=2023")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            r.body["items"].as_array().map(Vec::len),
            Some(4),
            "2020 to 2023"
        );
        let r = app
            .post("/api/indicators/publications", &json!({"period": "2023"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let r = app
            .get("/api/indicators/values?period=2023&indicator=14")
            .await;
        assert_eq!(r.body["provisional"], false);
        let mut home = care_home("F2", "330402007", "二号院");
        home["nursing_beds"] = json!(0);
        assert_eq!(
            app.post("/api/facilities", &home).await.status,
            StatusCode::CREATED
        );
        let r = app.get("/api/indicators/publications/2023/changes").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let ch = r.body["changes"].as_array().expect("changes");
        assert!(
            ch.iter().any(|c| c["indicator"] == 14
                && c["area_code"] == "330400"
                && c["reason"] == "numerator and denominator changed"
                || c["indicator"] == 14 && c["reason"] == "denominator changed"),
            "{ch:?}"
        );
        let r = app.get("/api/indicators/publications/2019/changes").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = app.get("/api/indicators/publications/2022/changes").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "never published");

        // The plan's table as a file.
        let auth = [(
            "authorization".to_string(),
            format!("Bearer {}", app.token.clone().unwrap_or_default()),
        )];
        let r = raw(
            &app.router,
            "GET",
            "/api/indicators/export?period=2023&format=csv",
            &auth,
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.body.contains("养老机构护理型床位占比") && r.body.contains("已发布"),
            "{}",
            r.body
        );
    });
}

// ---------------------------------------------------------------------------
// Subsidy runs (补助发放)

fn village_station(id: &str, area: &str) -> Value {
    json!({
        "id": id,
        "name": format!("照料中心{id}"),
        "kind": "village_care_station",
        "area_code": area,
        "rating": "5a",
        "rating_valid_from": "2024-01-01",
        "rating_valid_until": "2028-12-31",
        "opening_date": "2020-01-01"
    })
}

async fn raw_as(app: &App, token: &str, uri: &str) -> Raw {
    raw(
        &app.router,
        "GET",
        uri,
        &[("authorization".into(), format!("Bearer {token}"))],
        None,
    )
    .await
}

#[test]
fn subsidies_are_prepared_reviewed_by_another_paid_once_and_explained() {
    run(|app| async move {
        let store = app.store.clone();
        let (b, county) = tokio::task::spawn_blocking(move || {
            (
                make_user(&store, "admin-b", Role::CityAdmin, "330400", None),
                make_user(&store, "county-a", Role::CountyAdmin, "330402", None),
            )
        })
        .await
        .expect("users");
        let as_b = App {
            token: Some(b),
            ..app.clone()
        };
        let as_county = App {
            token: Some(county.clone()),
            ..app.clone()
        };
        let areas = &app.store.reference.areas;
        let village = areas.children("330402007")[0].code.clone();
        let town_b = areas.children("330411")[0].code.clone();
        // Two filed inclusive childcare institutions with two classes each
        // (one per county), a 5A village care station, a centenarian.
        for f in [
            childcare("CC1", "330402007"),
            childcare("CC2", &town_b),
            village_station("VS1", &village),
        ] {
            let r = app.post("/api/facilities", &f).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        let mut p = elderly("P100", "1920-05-01", 11);
        p["hukou_area_code"] = json!("330402");
        let r = app.post("/api/people", &p).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

        // The rules and their parameters.
        let r = app.get("/api/subsidies/rules").await;
        assert_eq!(r.status, StatusCode::OK);
        let rules = r.body["rules"].as_array().expect("rules");
        assert!(
            rules
                .iter()
                .any(|x| x["code"] == "centenarian" && x["cadence"] == "monthly")
        );
        let params = r.body["parameters"].as_array().expect("parameters");
        assert!(params.iter().any(|x| x["name"] == "centenarian.monthly"));
        assert!(
            params.iter().any(|x| x["placeholder"] == true),
            "the county incomes are placeholders"
        );

        // Bad periods name the field.
        for bad in [
            json!({"period": "2025-13"}),
            json!({"period": "June"}),
            json!({"period": "2019"}),
        ] {
            let r = app.post("/api/subsidies/runs", &bad).await;
            assert_eq!(
                r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
                ["period"]
            );
        }
        let r = app
            .post("/api/subsidies/runs", &json!({"period": "2025-06", "x": 1}))
            .await;
        r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

        // A prepares June 2025.
        let r = app
            .post("/api/subsidies/runs", &json!({"period": "2025-06"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_i64().expect("id");
        assert_eq!(r.body["status"], "draft");
        assert_eq!(r.body["prepared_by"], "admin");
        let r = app.get(&format!("/api/subsidies/runs/{id}")).await;
        assert_eq!(r.status, StatusCode::OK);
        let total = r.body["totals"]["total"]["amount_fen"]
            .as_i64()
            .expect("total");
        assert!(total > 0);
        assert_eq!(r.body["run"]["total_fen"], total);
        let r = app
            .get(&format!("/api/subsidies/runs/{id}/lines?limit=500"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let lines = r.body["items"].as_array().expect("items").clone();
        let centenarian = lines
            .iter()
            .find(|l| l["rule"] == "centenarian" && l["payee_id"] == "P100")
            .expect("the centenarian's line");
        assert_eq!(centenarian["amount_fen"], 60_000, "{centenarian}");
        let awards: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "award").collect();
        assert_eq!(
            awards.len(),
            4,
            "a class filing award per class: {awards:?}"
        );
        // Paging and filters.
        let r = app
            .get(&format!("/api/subsidies/runs/{id}/lines?limit=2"))
            .await;
        assert_eq!(r.body["items"].as_array().map(Vec::len), Some(2));
        let next = r.body["next"].as_i64().expect("next");
        let r = app
            .get(&format!(
                "/api/subsidies/runs/{id}/lines?limit=500&after={next}"
            ))
            .await;
        assert_eq!(
            r.body["items"].as_array().map(Vec::len),
            Some(lines.len() - 2)
        );
        let r = app
            .get(&format!(
                "/api/subsidies/runs/{id}/lines?rule=class_filing&county=330411"
            ))
            .await;
        assert_eq!(
            r.body["items"].as_array().map(Vec::len),
            Some(2),
            "{}",
            r.body
        );
        for q in [
            "limit=501",
            "limit=0",
            "rule=nope",
            "kind=x",
            "county=33",
            "after=x",
        ] {
            let r = app
                .get(&format!("/api/subsidies/runs/{id}/lines?{q}"))
                .await;
            r.expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        }
        let no = centenarian["line_no"].as_i64().expect("line_no");
        let r = app
            .get(&format!("/api/subsidies/runs/{id}/lines/{no}"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            !r.body["explanation"]["steps"]
                .as_array()
                .expect("steps")
                .is_empty()
        );
        app.get(&format!("/api/subsidies/runs/{id}/lines/99999"))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.get("/api/subsidies/runs/99999")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.get("/api/subsidies/runs/x")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_path");

        // A county administrator sees the run and its own county's lines only.
        let r = as_county
            .get(&format!("/api/subsidies/runs/{id}/lines?limit=500"))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let own = r.body["items"].as_array().expect("items");
        assert!(!own.is_empty() && own.len() < lines.len());
        assert!(own.iter().all(|l| l["county_code"] == "330402"), "{own:?}");
        let other = lines
            .iter()
            .find(|l| l["county_code"] == "330411")
            .expect("a line of 330411");
        as_county
            .get(&format!(
                "/api/subsidies/runs/{id}/lines/{}",
                other["line_no"]
            ))
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        let r = as_county.get(&format!("/api/subsidies/runs/{id}")).await;
        assert!(
            r.body["totals"]["by_county"]
                .as_array()
                .expect("by county")
                .iter()
                .all(|s| s["key"] == "330402")
        );
        as_county
            .post(&format!("/api/subsidies/runs/{id}/approve"), &json!({}))
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        as_county
            .post(
                "/api/subsidies/whatif",
                &json!({"year": 2026, "example": "centenarian_800"}),
            )
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");

        // Four eyes: A cannot approve what A prepared; B can.
        app.post(&format!("/api/subsidies/runs/{id}/approve"), &json!({}))
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        app.post(&format!("/api/subsidies/runs/{id}/paid"), &json!({}))
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");
        let r = as_b
            .post(
                &format!("/api/subsidies/runs/{id}/approve"),
                &json!({"note": "核对无误"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "approved");
        assert_eq!(r.body["reviewed_by"], "admin-b");
        as_b.post(&format!("/api/subsidies/runs/{id}/reject"), &json!({}))
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");

        // The payout list: Chinese headers and the total.
        let token = app.token.clone().expect("token");
        let r = raw_as(
            &app,
            &token,
            &format!("/api/subsidies/runs/{id}/export?format=csv"),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(
            header_of(&r, "content-type"),
            Some("text/csv; charset=utf-8")
        );
        let cd = header_of(&r, "content-disposition").unwrap_or_default();
        assert!(
            cd.contains(&format!("subsidy-run-{id}-2025-06.csv")),
            "{cd}"
        );
        for h in ["收款对象", "账户名", "金额（元）", "市级承担（元）", "合计"]
        {
            assert!(r.body.contains(h), "{h} in the CSV");
        }
        let total_yuan = format!("{}.{:02}", total / 100, total % 100);
        assert!(
            r.body
                .contains(&format!("合计,total,合计,{},{total_yuan}", lines.len())),
            "{}",
            r.body
        );
        let r = raw_as(&app, &token, &format!("/api/subsidies/runs/{id}/export")).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(header_of(&r, "content-type").is_some_and(|c| c.contains("spreadsheetml")));
        assert!(header_of(&r, "content-disposition").is_some_and(|c| c.contains(".xlsx")));
        let r = raw_as(
            &app,
            &token,
            &format!("/api/subsidies/runs/{id}/export?format=pdf"),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        // The county's list holds its own lines only.
        let r = raw_as(
            &app,
            &county,
            &format!("/api/subsidies/runs/{id}/export?format=csv"),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("CC1") && !r.body.contains("CC2"));

        // Paid once; preparing June again pays no award a second time.
        let r = app
            .post(&format!("/api/subsidies/runs/{id}/paid"), &json!({}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["status"], "paid");
        app.post(&format!("/api/subsidies/runs/{id}/paid"), &json!({}))
            .await
            .expect_error(StatusCode::CONFLICT, "conflict");
        let r = app
            .post("/api/subsidies/runs", &json!({"period": "2025-06"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let again = r.body["id"].as_i64().expect("id");
        assert_ne!(again, id);
        let r = app
            .get(&format!("/api/subsidies/runs/{again}/lines?limit=500"))
            .await;
        let items = r.body["items"].as_array().expect("items");
        assert!(
            items.iter().all(|l| l["kind"] != "award"),
            "no award twice: {items:?}"
        );
        assert!(
            items.iter().all(|l| l["rule"] != "centenarian"),
            "June's allowance is paid: {items:?}"
        );
        let r = app.get("/api/subsidies/runs").await;
        assert_eq!(r.body["total"], 2);

        // Explain: the parameters with their dates and clauses, and the steps.
        let r = app
            .get("/api/subsidies/explain?payee=P100&period=2025-07")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let now = &r.body["now"][0];
        assert_eq!(now["rule"], "centenarian");
        let ps = now["explanation"]["params"].as_array().expect("params");
        assert!(ps.iter().any(|p| p["name"] == "centenarian.monthly"
            && p["clause"].as_str().is_some_and(|c| !c.is_empty())));
        assert!(
            !now["explanation"]["steps"]
                .as_array()
                .expect("steps")
                .is_empty()
        );
        let r = app
            .get("/api/subsidies/explain?payee=P100&period=2025-06")
            .await;
        assert!(
            r.body["stored"].as_array().is_some_and(|s| !s.is_empty()),
            "{}",
            r.body
        );
        for q in ["payee=P100", "period=2025-06", "payee=P100&period=2025-6x"] {
            app.get(&format!("/api/subsidies/explain?{q}"))
                .await
                .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        }
        app.get("/api/subsidies/explain?payee=NOBODY&period=2025-06")
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");

        // The annual run: the 5A station, month by month.
        let r = app
            .post("/api/subsidies/runs", &json!({"period": "2025"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["cadence"], "annual");
        let year = r.body["id"].as_i64().expect("id");
        let r = app
            .get(&format!(
                "/api/subsidies/runs/{year}/lines?rule=village_station"
            ))
            .await;
        let vs = &r.body["items"][0];
        assert_eq!(vs["payee_id"], "VS1", "{}", r.body);
        assert_eq!(vs["months"].as_array().map(Vec::len), Some(12));

        // What-if: the documented centenarian reform costs more.
        let r = app
            .post(
                "/api/subsidies/whatif",
                &json!({"year": 2026, "example": "centenarian_800"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body["total"]["difference_fen"]
                .as_i64()
                .is_some_and(|d| d > 0),
            "{}",
            r.body["total"]
        );
        assert_eq!(r.body["by_month"].as_array().map(Vec::len), Some(12));
        let text = laoxiao_store::subsidies::EXAMPLE_INCLUSIVE_PLUS_100;
        let r = app
            .post(
                "/api/subsidies/whatif",
                &json!({"year": 2026, "reform": text}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for (body, field) in [
            (json!({"year": 2026}), "reform"),
            (json!({"year": 2026, "reform": "[[parameter"}), "reform"),
            (json!({"year": 2026, "example": "nope"}), "example"),
            (
                json!({"year": 2026, "example": "centenarian_800", "reform": text}),
                "example",
            ),
            (json!({"year": 1999, "example": "centenarian_800"}), "year"),
            (
                json!({"year": 2026, "reform": "x".repeat(70_000)}),
                "reform",
            ),
        ] {
            let r = app.post("/api/subsidies/whatif", &body).await;
            assert_eq!(
                r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
                [field]
            );
        }
    });
}

#[test]
fn subsidy_console_pages_render_and_act() {
    run(|app| async move {
        let store = app.store.clone();
        let (a, b) = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for name in ["con-a", "con-b"] {
                make_user(&store, name, Role::CityAdmin, "330400", None);
                let mut c = store.conn().expect("conn");
                out.push(
                    laoxiao_store::accounts::create_session(&mut c, name, None).expect("session"),
                );
            }
            (out[0].clone(), out[1].clone())
        })
        .await
        .expect("sessions");
        let r = app
            .post("/api/facilities", &childcare("CC1", "330402007"))
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        // An inclusive institution whose fees are within the price cap, with a
        // child enrolled: its line is decided by a placeholder county income.
        let mut cc9 = childcare("CC9", "330402007");
        cc9["classes"][1]["monthly_fee_fen"] = json!(200_000);
        let r = app.post("/api/facilities", &cc9).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let birth = d("2024-01-10");
        let infant = json!({"id": "I9", "role": "infant", "id_number": laoxiao_model::idcard::make("330402", birth, 21),
            "name": "王小某", "sex": "male", "birth_date": "2024-01-10", "residence_area_code": "330402007"});
        let r = app.post("/api/people", &infant).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        // At 11 months the child is too young for the 托小班 (12–24 months):
        // refused at the class, citing the standard; at 12 months it joins.
        let r = app
            .post("/api/enrolments", &json!({"id": "E9", "infant_id": "I9", "facility_id": "CC9", "class_id": "CC9-C1", "start_date": "2025-01-01"}))
            .await;
        let fields = r.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, ["class_id"]);
        let reason = r.body["error"]["details"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            reason.contains("11 months old on 2025-01-01") && reason.contains("第十五条"),
            "{reason}"
        );
        let r = app
            .post("/api/enrolments", &json!({"id": "E9", "infant_id": "I9", "facility_id": "CC9", "class_id": "CC9-C1", "start_date": "2025-01-10"}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let cookie = |s: &(String, String)| {
            vec![(
                "cookie".to_string(),
                format!("{}={}", laoxiao_web::auth::SESSION_COOKIE, s.0),
            )]
        };
        let form = |s: &(String, String), rest: &str| {
            Some((
                "application/x-www-form-urlencoded",
                format!("_csrf={}&{rest}", s.1),
            ))
        };
        for lang in ["zh-CN", "en"] {
            let r = raw(
                &app.router,
                "GET",
                &format!("/console/subsidies?lang={lang}"),
                &cookie(&a),
                None,
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(r.body.contains("id=\"prepare-month\""));
        }
        // Prepare from the page: redirected to the run.
        let r = raw(
            &app.router,
            "POST",
            "/console/subsidies",
            &cookie(&a),
            form(&a, "period=2025-06"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let loc = header_of(&r, "location").unwrap_or_default().to_string();
        assert!(loc.starts_with("/console/subsidies/runs/"), "{loc}");
        let run = loc
            .trim_start_matches("/console/subsidies/runs/")
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        let r = raw(
            &app.router,
            "POST",
            "/console/subsidies",
            &cookie(&a),
            form(&a, "period=2025-99"),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("form-errors"));
        // The preparer is told why they cannot approve; the other can.
        let r = raw(&app.router, "GET", &loc, &cookie(&a), None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("id=\"own-draft\"") && !r.body.contains("id=\"approve\""));
        assert!(
            r.body.contains("id=\"placeholder-banner\""),
            "the placeholder income is announced"
        );
        let url = format!("/console/subsidies/runs/{run}");
        let r = raw(
            &app.router,
            "POST",
            &url,
            &cookie(&a),
            form(&a, "action=approve"),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("form-errors"));
        let r = raw(&app.router, "GET", &url, &cookie(&b), None).await;
        assert!(r.body.contains("id=\"approve\""));
        let r = raw(
            &app.router,
            "GET",
            &format!("{url}?rule=class_filing&kind=award&county=330402"),
            &cookie(&b),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        let line = r
            .body
            .split("lines&#x2f;")
            .nth(1)
            .and_then(|x| x.split('"').next())
            .unwrap_or_else(|| panic!("a line link: {}", r.body))
            .to_string();
        for lang in ["zh-CN", "en"] {
            let r = raw(
                &app.router,
                "GET",
                &format!("{url}/lines/{line}?lang={lang}"),
                &cookie(&b),
                None,
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            assert!(
                r.body.contains("class_filing.per_class") && r.body.contains("id=\"line-steps\"")
            );
        }
        let r = raw(
            &app.router,
            "GET",
            &format!("{url}/lines/x"),
            &cookie(&b),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let r = raw(
            &app.router,
            "POST",
            &url,
            &cookie(&b),
            form(&b, "action=approve&note=ok"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = raw(&app.router, "GET", &url, &cookie(&b), None).await;
        assert!(r.body.contains("id=\"mark-paid\""));
        let r = raw(
            &app.router,
            "GET",
            &format!("{url}/export?format=csv"),
            &cookie(&b),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("收款对象"));
        // The indicator table downloads from the console with the session
        // (the dashboard links here, not to the bearer-token API).
        let r = raw(
            &app.router,
            "GET",
            "/console/indicators/export?period=2023&format=csv",
            &cookie(&b),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(
            r.body.contains("指标") && r.body.contains("当前值"),
            "{}",
            r.body
        );
        let r = raw(
            &app.router,
            "GET",
            "/console/indicators?period=2023",
            &cookie(&b),
            None,
        )
        .await;
        // (minijinja escapes the slashes of an attribute value)
        let body = r.body.replace("&#x2f;", "/").replace("&amp;", "&");
        let links: Vec<&str> = body.lines().filter(|l| l.contains("export")).collect();
        assert!(
            body.contains("/console/indicators/export?period=2023")
                && !body.contains("/api/indicators/export"),
            "the dashboard links the console export: {links:?}"
        );
        let r = raw(
            &app.router,
            "POST",
            &url,
            &cookie(&b),
            form(&b, "action=paid"),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = raw(
            &app.router,
            "POST",
            &url,
            &cookie(&b),
            form(&b, "action=paid"),
        )
        .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = raw(
            &app.router,
            "GET",
            "/console/subsidies/runs/999",
            &cookie(&b),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        // What-if: an example loaded into the form, then costed.
        let r = raw(
            &app.router,
            "GET",
            "/console/subsidies/whatif?example=centenarian_800",
            &cookie(&a),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.body.contains("centenarian.monthly"));
        let body = format!(
            "year=2026&reform={}",
            laoxiao_web::console::enc(laoxiao_store::subsidies::EXAMPLE_INCLUSIVE_PLUS_100)
        );
        let r = raw(
            &app.router,
            "POST",
            "/console/subsidies/whatif",
            &cookie(&a),
            form(&a, &body),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains("id=\"whatif-data\"") && r.body.contains("id=\"whatif-months\""));
        let r = raw(
            &app.router,
            "POST",
            "/console/subsidies/whatif",
            &cookie(&a),
            form(&a, "year=2026&reform=%5B%5B"),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    });
}

// ---------------------------------------------------------------------------
// Spatial planning (设施布局规划)

/// A tiny city worked out by hand: one care home F at P0 in 南湖区, a resident
/// grid of two dense points (P0 and P2, 1.5 km east: 50,000 residents each,
/// so every cell within 500 m of them is high density), and four older
/// people: E1 200 m east and E2 400 m north of F (high density, covered by
/// 500 m), E4 at P2 (high density, 1.5 km from F: not covered) and E3 5 km
/// south with nobody around (low density: not assessed).
#[test]
fn planning_coverage_cells_access_sites_and_grid() {
    run(|app| async move {
        const P0: (f64, f64) = (120.755, 30.75);
        let mut home = care_home("PF1", "330402007", "规划测试养老院");
        home["lng"] = json!(P0.0);
        home["lat"] = json!(P0.1);
        assert_eq!(
            app.post("/api/facilities", &home).await.status,
            StatusCode::CREATED
        );
        let people = [
            ("E1", P0.0 + 0.00209, P0.1, 61u16),
            ("E2", P0.0, P0.1 + 0.0036, 62),
            ("E3", P0.0, P0.1 - 0.045, 63),
            ("E4", P0.0 + 0.01567, P0.1, 64),
        ];
        for (id, lng, lat, seq) in people {
            let mut p = elderly(id, "1940-03-05", seq);
            p["lng"] = json!(lng);
            p["lat"] = json!(lat);
            let r = app.post("/api/people", &p).await;
            assert_eq!(r.status, StatusCode::CREATED, "{id}: {}", r.body);
        }
        // No grid yet: residents are estimated.
        assert_eq!(
            app.get("/api/planning/resident-grid").await.body,
            Value::Null
        );
        let csv = format!(
            "lng,lat,residents\n{},{},50000\n{},{},50000\n",
            P0.0,
            P0.1,
            P0.0 + 0.01567,
            P0.1
        );
        let r = app
            .send(
                Method::POST,
                "/api/planning/resident-grid",
                Some(("application/json", csv.clone().into_bytes())),
            )
            .await;
        r.expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        let bad = "lng,lat,residents\n200,30,5\n".to_string();
        let r = app
            .send(
                Method::POST,
                "/api/planning/resident-grid",
                Some(("text/csv", bad.into_bytes())),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = app
            .send(
                Method::POST,
                "/api/planning/resident-grid?source=hand",
                Some(("text/csv; charset=utf-8", csv.clone().into_bytes())),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["points"], 2);
        assert_eq!(r.body["source"], "hand");
        assert_eq!(
            app.get("/api/planning/resident-grid").await.body["points"],
            2
        );

        // Coverage by hand.
        let r = app
            .get("/api/planning/coverage?area=330402&rule=institution&cell=100")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["reading"]["residents_source"], "imported");
        assert_eq!(r.body["area"]["code"], "330402");
        let total = &r.body["rows"][0]["total"];
        assert_eq!(
            total,
            &json!({"people": 4, "in_scope": 3, "covered": 2, "not_covered": 1, "not_assessed": 1}),
            "{}",
            r.body
        );
        assert_eq!(
            r.body["rows"][0]["by_class"][0]["covered"], 2,
            "high density"
        );
        assert_eq!(r.body["clusters"][0]["people"], 1);
        // The town below the county holds them all.
        let town = r.body["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|x| x["area"] == "330402007")
            .expect("the town's row")
            .clone();
        assert_eq!(town["total"]["covered"], 2);
        // The walk: no home-care service at all, every density class in scope.
        let r = app
            .get("/api/planning/coverage?area=330402&rule=home_care_walk")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["rows"][0]["total"]["covered"], 0);
        assert_eq!(r.body["rows"][0]["total"]["in_scope"], 4);

        // The cells of the gap map as GeoJSON: the one uncovered cell (E4's).
        let r = app
            .get("/api/planning/cells?area=330402&rule=institution&filter=uncovered&format=geojson")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/geo+json");
        assert_eq!(r.body["type"], "FeatureCollection");
        let feats = r.body["features"].as_array().expect("features");
        assert_eq!(feats.len(), 1, "{}", r.body);
        assert_eq!(feats[0]["geometry"]["type"], "Polygon");
        let ring = feats[0]["geometry"]["coordinates"][0]
            .as_array()
            .expect("ring");
        assert_eq!(ring.len(), 5);
        assert_eq!(ring[0], ring[4]);
        assert_eq!(feats[0]["properties"]["institution_uncovered"], 1);
        let r = app.get("/api/planning/cells?area=330402&format=json").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        // The four people's cells and P0's (residents only).
        assert_eq!(r.body["total"], 5, "{}", r.body);
        let r = app
            .get("/api/planning/facilities?area=330402&kinds=elderly_institution")
            .await;
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/geo+json");
        let feats = r.body["features"].as_array().expect("features");
        assert_eq!(feats.len(), 1);
        assert_eq!(feats[0]["geometry"]["coordinates"], json!([P0.0, P0.1]));
        assert_eq!(feats[0]["properties"]["id"], "PF1");

        // Bad input names the field.
        for (uri, field) in [
            ("/api/planning/coverage?cell=300", "cell"),
            ("/api/planning/coverage?rule=nearest_pub", "rule"),
            ("/api/planning/coverage?date=2019-12-31", "date"),
            ("/api/planning/coverage?basis=infants", "basis"),
            ("/api/planning/coverage?area=999999", "area"),
            ("/api/planning/coverage?clusters=501", "clusters"),
            ("/api/planning/access?decay=bogus", "decay"),
            ("/api/planning/access?radius=10", "radius"),
            ("/api/planning/access?radius=30000", "radius"),
            ("/api/planning/access?side=chairs", "side"),
            ("/api/planning/cells?filter=some", "filter"),
            (
                "/api/planning/facilities?kinds=elderly_institution,castle",
                "kinds",
            ),
        ] {
            let fields = app
                .get(uri)
                .await
                .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(fields, vec![field.to_string()], "{uri}");
        }
        // Accessibility: beds within 1 km, with Gaussian decay.
        let r = app.get("/api/planning/access?area=330402&side=beds&radius=1000&decay=gaussian:500&cells=true").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["rows"][0]["area"], "330402");
        assert!((r.body["rows"][0]["demand"].as_f64().expect("demand") - 4.0).abs() < 1e-9);
        let cells = r.body["cells"].as_array().expect("cells");
        assert_eq!(cells.len(), 5);
        assert_eq!(
            cells.iter().filter(|c| c["value"].is_null()).count(),
            2,
            "E3 and E4 have no bed in reach"
        );
        let r = app.get("/api/planning/slots?area=330402").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["rows"][0]["area"], "330402");

        // Scope: a county administrator elsewhere is refused this county and
        // answered for their own by default.
        let store = app.store.clone();
        let token = tokio::task::spawn_blocking(move || {
            make_user(
                &store,
                "plan-county",
                laoxiao_store::Role::CountyAdmin,
                "330411",
                None,
            )
        })
        .await
        .expect("user");
        let other = App {
            token: Some(token),
            ..app.clone()
        };
        let fields = other
            .get("/api/planning/coverage?area=330402")
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, vec!["area"]);
        let r = other.get("/api/planning/coverage").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["area"]["code"], "330411");
        let mut b = json!({"county": "330402", "mode": "slots"});
        let fields = other
            .post("/api/planning/siting", &b)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, vec!["county"]);
        b["county"] = json!("330411");
        assert_eq!(
            other.post("/api/planning/siting", &b).await.status,
            StatusCode::OK
        );
        other
            .send(Method::DELETE, "/api/planning/resident-grid", None)
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");

        // Siting: one site among two given points; the one by E4 covers them.
        let body = json!({"county": "330402", "mode": "count", "rule": "institution", "k": 1,
            "candidates": "points", "points": [
                {"lng": P0.0 + 0.01567, "lat": P0.1 + 0.001, "name": "候选甲"},
                {"lng": P0.0, "lat": P0.1 - 0.02, "name": "候选乙"}]});
        let r = app.post("/api/planning/siting", &body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(
            r.body["sites"].as_array().map(Vec::len),
            Some(1),
            "{}",
            r.body
        );
        assert_eq!(r.body["sites"][0]["name"], "候选甲");
        assert_eq!(r.body["sites"][0]["gain"], 1.0);
        assert_eq!(r.body["covered_before"], 2.0);
        assert_eq!(r.body["covered_after"], 3.0);
        assert_eq!(r.body["optimal"], true);
        for (patch, field) in [
            (json!({"k": null}), "k"),
            (json!({"k": 0}), "k"),
            (json!({"county": "330402007"}), "county"),
            (json!({"rule": "nearest_pub"}), "rule"),
            (json!({"points": []}), "points"),
            (json!({"max_gap": 0.9}), "max_gap"),
            (json!({"mode": "everything"}), "mode"),
            // Fields the mode or source does not use still keep their bounds.
            (json!({"target": 0}), "target"),
            (json!({"spacing_m": 10.0}), "spacing_m"),
        ] {
            let mut b = body.clone();
            for (k, v) in patch.as_object().expect("patch") {
                b[k] = v.clone();
            }
            let fields = app
                .post("/api/planning/siting", &b)
                .await
                .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
            assert_eq!(fields, vec![field.to_string()], "{patch}");
        }

        // Saving a site creates a planned facility, counted with `with_planned`.
        let site = json!({"sites": [{"name": "规划养老院一号", "kind": "elderly_institution", "lng": P0.0 + 0.01567, "lat": P0.1, "area_code": "330402007", "beds": 100}]});
        let r = app.post("/api/planning/sites", &site).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["ids"][0].as_str().expect("id").to_string();
        let f = app.get(&format!("/api/facilities/{id}")).await;
        assert_eq!(f.body["status"], "planned", "{}", f.body);
        let r = app.get("/api/planning/coverage?area=330402").await;
        assert_eq!(
            r.body["rows"][0]["total"]["covered"], 2,
            "planned sites do not count by default"
        );
        let r = app
            .get("/api/planning/coverage?area=330402&with_planned=true")
            .await;
        assert_eq!(r.body["rows"][0]["total"]["covered"], 3, "{}", r.body);
        let fields = app
            .post("/api/planning/sites", &json!({"sites": [{"name": "", "kind": "elderly_institution", "lng": P0.0, "lat": P0.1, "area_code": "330402007"}]}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, vec!["sites[0].name"]);
        let fields = app
            .post("/api/planning/sites", &json!({"sites": []}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(fields, vec!["sites"]);

        // Clearing the grid: residents are estimated again.
        let r = app.delete("/api/planning/resident-grid").await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["cleared"], true);
        assert_eq!(
            app.get("/api/planning/resident-grid").await.body,
            Value::Null
        );
        let r = app.get("/api/planning/coverage?area=330402").await;
        assert_eq!(r.body["reading"]["residents_source"], "estimated");
    });
}

// ---------------------------------------------------------------------------
// Visiting rounds and home-care beds (探访关爱, 家庭养老床位)

#[path = "support/alarms.rs"]
mod alarms_api;
#[path = "support/childcare_applications.rs"]
mod childcare_applications;

#[path = "support/childcare_day.rs"]
mod childcare_day;

// Issue 16, part 7: supervision figures.
#[path = "support/childcare_figures.rs"]
mod childcare_figures;

// Issue 16, part 6: monthly bills, payments, statements.
#[path = "support/childcare_bills.rs"]
mod childcare_bills;

// Issue 16, part 5: messages with the class, class notices, notifications.
#[path = "support/notifications.rs"]
mod notifications;
// Issue 16, part 5: complaints (投诉).
#[path = "support/complaints.rs"]
mod complaints;
// Issue 17, part 3: complaints from the portal, tracking, inspection results.
#[path = "support/portal_complaints.rs"]
mod portal_complaints;
// Issue 17, part 5: the public portal's open statistics.
// Issue 17, part 2: random inspections (双随机、一公开), end to end.
#[path = "support/family_admission.rs"]
mod family_admission;
#[path = "support/filing.rs"]
mod filing;
#[path = "support/inspections.rs"]
mod inspections;
#[path = "support/portal.rs"]
mod portal;
// Issue 17, part 1: finding a place on the portal.
#[path = "support/portal_places.rs"]
mod portal_places;
// Issue 17, part 1: the public entitlement check (待遇测算).
#[path = "support/portal_entitlements.rs"]
mod portal_entitlements;
// Issue 17, part 4: key projects (重点项目): reports, photos, completion, the public page and dataset.
#[path = "support/key_projects.rs"]
mod key_projects;
#[path = "visits/mod.rs"]
mod visits;
// Issue 15, part 7: role homes and error pages.

#[path = "web/homes.rs"]
mod homes;
// Issue 15, part 2: care-home admission by priority over HTTP. A home with
// one free bed and three applicants ranked by hand (C: 特困 and severe, first;
// A: 低保, second; B: no category, third), the offer, the answer, discharge.

#[test]
fn admission_over_http_ranks_offers_admits_and_discharges() {
    use laoxiao_model::person::{AbilityLevel, SpecialDifficulty};
    run(|app| async move {
        let store = app.store.clone();
        let (village, ids) = block(move || {
            let r = &store.reference;
            let town = r.areas.children("330402")[0].code.clone();
            let village = r.areas.children(&town)[0].code.clone();
            let sys = laoxiao_store::Scope::system("test");
            let mut c = store.conn().expect("conn");
            let cases = [
                ("HA", 1u16, None, vec![]),
                (
                    "HB",
                    2,
                    Some(AbilityLevel::Mild),
                    vec![SpecialDifficulty::MinimumLivingAllowance],
                ),
                (
                    "HC",
                    3,
                    Some(AbilityLevel::Severe),
                    vec![SpecialDifficulty::ExtremePoverty],
                ),
            ];
            let mut ids = Vec::new();
            for (id, seq, ability, cats) in cases {
                let mut p = person(id, &village, seq);
                p.birth_date = d("1939-09-09");
                p.id_number = laoxiao_model::idcard::make("330402", p.birth_date, seq);
                p.ability_level = ability;
                p.special_difficulty = cats;
                laoxiao_store::people::create(&mut c, &store.reference, &sys, &p).expect("person");
                ids.push(id.to_string());
            }
            (village, ids)
        })
        .await;
        let mut home = care_home("HH", &village, "轮候测试院");
        home["beds"] = json!(1);
        home["nursing_beds"] = json!(1);
        home["dementia_beds"] = json!(0);
        assert_eq!(
            app.post("/api/facilities", &home).await.status,
            StatusCode::CREATED
        );
        // Each applies to the home (B also to nothing else: one home is enough).
        let mut app_ids = Vec::new();
        for pid in ["HB", "HA", "HC"] {
            let r = app
                .post(
                    "/api/admission/applications",
                    &json!({"person_id": pid, "facility_ids": ["HH"]}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            app_ids.push(r.body["items"][0]["id"].as_str().expect("id").to_string());
        }
        // A second application of the same person to the same home: 409.
        app.post(
            "/api/admission/applications",
            &json!({"person_id": "HA", "facility_ids": ["HH"]}),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
        // Bad input names the field.
        let f = app
            .post(
                "/api/admission/applications",
                &json!({"person_id": "HA", "facility_ids": []}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["facility_ids"]);
        let f = app
            .post(
                "/api/admission/applications",
                &json!({"person_id": "HA", "facility_ids": ["F-NONE"]}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["facility_ids[0]"]);
        // The waiting list, by hand: HC, HB, HA.
        let wl = app.get("/api/admission/homes/HH/waiting-list").await;
        assert_eq!(wl.status, StatusCode::OK, "{}", wl.body);
        let order: Vec<(String, u64)> = wl.body["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| {
                (
                    l["person_id"].as_str().unwrap_or_default().to_string(),
                    l["position"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("HC".to_string(), 1),
                ("HB".to_string(), 2),
                ("HA".to_string(), 3)
            ]
        );
        assert_eq!(wl.body["free_beds"], 1);
        let third = wl.body["lines"][2]["explanation_zh"]
            .as_str()
            .expect("explained");
        assert!(third.starts_with("第3位："), "{third}");
        assert!(third.contains("优先类别更高者2人在前"), "{third}");
        assert_eq!(wl.body["lines"][0]["person_name"], "王**");
        // Offer: HC.
        let o = app
            .post("/api/admission/homes/HH/offer-next", &json!({}))
            .await;
        assert_eq!(o.status, StatusCode::OK, "{}", o.body);
        assert_eq!(o.body["offered"]["person_id"], "HC");
        let hc_app = o.body["offered"]["id"].as_str().expect("id").to_string();
        assert_eq!(
            app.post("/api/admission/homes/HH/offer-next", &json!({}))
                .await
                .body["offered"],
            Value::Null
        );
        // Cancelling needs a reason; accepting twice conflicts.
        let f = app
            .post(
                &format!("/api/admission/applications/{hc_app}/cancel"),
                &json!({}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(f, ["reason"]);
        let acc = app
            .post(
                &format!("/api/admission/applications/{hc_app}/accept"),
                &json!({}),
            )
            .await;
        assert_eq!(acc.status, StatusCode::OK, "{}", acc.body);
        assert_eq!(acc.body["status"], "admitted");
        let residence = acc.body["residence_id"]
            .as_str()
            .expect("residence")
            .to_string();
        app.post(
            &format!("/api/admission/applications/{hc_app}/accept"),
            &json!({}),
        )
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
        // Discharge today: the bed goes to HB.
        let today = chrono::Local::now().date_naive().to_string();
        let dis = app
            .post(
                &format!("/api/admission/residences/{residence}/discharge"),
                &json!({"date": today}),
            )
            .await;
        assert_eq!(dis.status, StatusCode::OK, "{}", dis.body);
        assert_eq!(dis.body["offered"]["person_id"], "HB");
        // Figures: two waiting-or-offered lines; one still waiting (HA).
        let fig = app.get("/api/admission/figures").await;
        assert_eq!(fig.status, StatusCode::OK, "{}", fig.body);
        assert_eq!(fig.body["total_waiting"], 1);
        assert_eq!(fig.body["open_offers"], 1);
        let list = app
            .get("/api/admission/applications?status=waiting&facility_id=HH")
            .await;
        assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1));
        app.get("/api/admission/applications?status=nope")
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_query");
        let _ = ids;
    });
}
