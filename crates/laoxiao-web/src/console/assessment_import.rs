//! Paper assessments entered in bulk (纸质评估批量录入,
//! `/console/assessments/import`): upload a CSV or XLSX of finished paper
//! forms, see every refused row with its reason from a dry run, then confirm;
//! each row becomes a finished assessment that updates the person's ability
//! level, all or nothing (`laoxiao_store::assessments::import`).

use axum::extract::{Form, Multipart, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use laoxiao_spatial::CoordSystem;
use laoxiao_store::StoreError;
use laoxiao_store::assessments::import::{self, ImportReport};
use serde_json::{Value as Json, json};

use super::import::{Target, keep, take};
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error};

const PAGE: &str = "/console/assessments/import";

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

fn render(s: &ConsoleState, ctx: &Ctx, status: StatusCode, extra: Json) -> Response {
    let columns: Vec<Json> = import::COLUMNS
        .iter()
        .map(|(k, zh)| json!({"key": k, "zh": zh}))
        .collect();
    let mut page = json!({"columns": columns});
    if let (Some(p), Json::Object(e)) = (page.as_object_mut(), extra) {
        p.extend(e);
    }
    s.render_status(ctx, status, "assessment_import.html", "assessments", page)
}

/// `GET /console/assessments/import`
pub async fn page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PAGE, headers, q);
    render(&s, &ctx, StatusCode::OK, json!({}))
}

async fn run(
    s: &ConsoleState,
    ctx: &Ctx,
    name: String,
    bytes: Vec<u8>,
    dry_run: bool,
) -> Result<(ImportReport, Vec<u8>), PageError> {
    let scope = ctx.scope();
    s.db(move |c, reference| {
        import::import(c, reference, &scope, &name, &bytes, today(), dry_run).map(|r| (r, bytes))
    })
    .await
}

fn failure(s: &ConsoleState, ctx: &Ctx, e: PageError) -> Response {
    match e {
        PageError::Store(StoreError::ImportRejected(rows)) => {
            let rows: Vec<Json> = rows
                .iter()
                .map(|r| json!({"row": r.row, "column": r.column, "reason": r.reason}))
                .collect();
            render(
                s,
                ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"rejected": rows, "n_rejected": rows.len()}),
            )
        }
        PageError::Store(e @ StoreError::LimitExceeded { .. }) => render(
            s,
            ctx,
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"file_error": e.to_string()}),
        ),
        PageError::Store(
            e @ (StoreError::UnsupportedFile(_) | StoreError::File(_) | StoreError::Invalid(_)),
        ) => render(
            s,
            ctx,
            StatusCode::BAD_REQUEST,
            json!({"file_error": e.to_string()}),
        ),
        other => s.error_page(ctx, other),
    }
}

/// `POST /console/assessments/import` (multipart: file): the dry run.
pub async fn upload(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    mut mp: Multipart,
) -> Response {
    let ctx = ctx_or_error!(s, PAGE, headers, q);
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match mp.next_field().await {
            Ok(Some(f)) if f.name() == Some("file") => {
                let fname = f.file_name().unwrap_or_default().to_string();
                match f.bytes().await {
                    Ok(b) => file = Some((fname, b.to_vec())),
                    Err(e) => {
                        return render(
                            &s,
                            &ctx,
                            StatusCode::BAD_REQUEST,
                            json!({"file_error": e.body_text()}),
                        );
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                return render(
                    &s,
                    &ctx,
                    StatusCode::BAD_REQUEST,
                    json!({"file_error": e.body_text()}),
                );
            }
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let msg = s.t(&ctx, "import.need_file");
        return render(
            &s,
            &ctx,
            StatusCode::BAD_REQUEST,
            json!({"file_error": msg}),
        );
    };
    match run(&s, &ctx, name.clone(), bytes, true).await {
        Ok((report, bytes)) => {
            let token = keep(
                &s,
                Target::Assessments,
                CoordSystem::Wgs84,
                name.clone(),
                bytes,
            );
            render(
                &s,
                &ctx,
                StatusCode::OK,
                json!({"preview": {"rows": report.rows}, "token": token, "file_name": name}),
            )
        }
        Err(e) => failure(&s, &ctx, e),
    }
}

/// `POST /console/assessments/import/confirm` (form: token): the import.
pub async fn confirm(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, PAGE, headers, q);
    let token = field(&form, "token").unwrap_or_default().to_string();
    let Some(u) = take(&s, &token, |t| t == Target::Assessments) else {
        let msg = s.t(&ctx, "import.expired");
        return render(&s, &ctx, StatusCode::GONE, json!({"file_error": msg}));
    };
    let name = u.name.clone();
    match run(&s, &ctx, u.name, u.bytes, false).await {
        Ok((report, _)) => render(
            &s,
            &ctx,
            StatusCode::OK,
            json!({"done": {"rows": report.rows}, "file_name": name}),
        ),
        Err(e) => failure(&s, &ctx, e),
    }
}

/// `GET /console/assessments/import/template.csv`: the header row in the
/// paper form's words (UTF-8 with a BOM, so that Excel reads it).
pub async fn template(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PAGE, headers, q);
    let head = match import::header_zh() {
        Ok(h) => h,
        Err(e) => return s.error_page(&ctx, PageError::Store(e)),
    };
    let mut body = String::from("\u{feff}");
    body.push_str(&head.join(","));
    body.push_str("\r\n");
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"assessments-template.csv\""),
    );
    r
}
