//! Import (导入): upload a CSV or XLSX file, see every rejected row with its reason
//! from a dry run before anything is written, then confirm. The upload waits in
//! memory (at most [`MAX_PENDING`] files, for [`PENDING_FOR`]) until confirmed.

use std::time::{Duration, Instant};

use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use laoxiao_model::columns::RecordKind;
use laoxiao_spatial::CoordSystem;
use laoxiao_store::StoreError;
use laoxiao_store::io::{ImportOptions, ImportReport};
use serde_json::{Value as Json, json};

use super::{ConsoleState, Ctx, PageError, ctx_or_error};

/// Uploads kept waiting for confirmation at once.
pub const MAX_PENDING: usize = 8;
/// How long an upload waits for confirmation.
pub const PENDING_FOR: Duration = Duration::from_secs(3600);

/// What an upload is for: a register, or paper assessments
/// (`console::assessment_import`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Register(RecordKind),
    Assessments,
}

/// An uploaded file waiting for the user to confirm the import.
pub struct Upload {
    pub(super) target: Target,
    coords: CoordSystem,
    pub(super) name: String,
    pub(super) bytes: Vec<u8>,
    at: Instant,
}

/// Keeps a checked upload waiting for confirmation (the oldest go first
/// beyond [`MAX_PENDING`]); answers its token.
pub(super) fn keep(
    s: &ConsoleState,
    target: Target,
    coords: CoordSystem,
    name: String,
    bytes: Vec<u8>,
) -> String {
    let token = format!("{:032x}", rand::random::<u128>());
    if let Ok(mut pending) = s.uploads.lock() {
        pending.retain(|_, u| u.at.elapsed() < PENDING_FOR);
        while pending.len() >= MAX_PENDING {
            let oldest = pending
                .iter()
                .min_by_key(|(_, u)| u.at)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => {
                    pending.remove(&k);
                }
                None => break,
            }
        }
        pending.insert(
            token.clone(),
            Upload {
                target,
                coords,
                name,
                bytes,
                at: Instant::now(),
            },
        );
    }
    token
}

/// Takes a waiting upload of `target` (none when expired or another kind's).
pub(super) fn take(
    s: &ConsoleState,
    token: &str,
    target: impl Fn(Target) -> bool,
) -> Option<Upload> {
    let mut pending = s.uploads.lock().ok()?;
    let ok = pending
        .get(token)
        .is_some_and(|u| target(u.target) && u.at.elapsed() < PENDING_FOR);
    if ok { pending.remove(token) } else { None }
}

const KINDS: &[RecordKind] = &[
    RecordKind::Facilities,
    RecordKind::Classes,
    RecordKind::Elderly,
    RecordKind::Infants,
];
const COORDS: &[(CoordSystem, &str)] = &[
    (CoordSystem::Wgs84, "wgs84"),
    (CoordSystem::Gcj02, "gcj02"),
    (CoordSystem::Bd09, "bd09"),
];

fn form_opts(s: &ConsoleState, ctx: &Ctx) -> Json {
    json!({
        "kinds": KINDS.iter().map(|k| json!({
            "value": k.code(),
            "label": s.t(ctx, &format!("import.kind_{}", k.code())),
            "template": format!("/console/import/templates/{}-template.xlsx", k.code()),
        })).collect::<Vec<_>>(),
        "coords": COORDS.iter().map(|(_, c)| json!({
            "value": c,
            "label": s.t(ctx, &format!("import.coords_{c}")),
        })).collect::<Vec<_>>(),
    })
}

fn render(s: &ConsoleState, ctx: &Ctx, status: StatusCode, extra: Json) -> Response {
    let mut page = json!({"opts": form_opts(s, ctx)});
    if let (Some(p), Json::Object(e)) = (page.as_object_mut(), extra) {
        p.extend(e);
    }
    s.render_status(ctx, status, "import.html", "import", page)
}

/// `GET /console/import`
pub async fn page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/import", headers, q);
    render(&s, &ctx, StatusCode::OK, json!({}))
}

fn report_json(r: &ImportReport) -> Json {
    json!({
        "kind": r.kind.code(),
        "rows": r.rows,
        "inserted": r.inserted,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "dry_run": r.dry_run,
    })
}

/// Runs an import (or its dry run) as `scope`, whose audit entry the store
/// writes in the import's transaction.
async fn run(
    s: &ConsoleState,
    scope: laoxiao_store::Scope,
    kind: RecordKind,
    coords: CoordSystem,
    name: String,
    bytes: Vec<u8>,
    dry_run: bool,
) -> Result<(ImportReport, Vec<u8>), PageError> {
    let store = s.store.clone();
    let limits = s.web.import_limits;
    tokio::task::spawn_blocking(move || {
        let opts = ImportOptions {
            coords,
            dry_run,
            limits,
            audit_as: Some(&scope),
            ..Default::default()
        };
        laoxiao_store::io::import_bytes(&store, kind, &name, &bytes, &opts).map(|r| (r, bytes))
    })
    .await
    .map_err(|e| PageError::Internal(format!("import task failed: {e}")))?
    .map_err(PageError::Store)
}

/// What a failed import shows: the row errors, or the file's problem.
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

/// `POST /console/import` (multipart: kind, coords, file) — the dry run.
pub async fn upload(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    mut mp: Multipart,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/import", headers, q);
    let mut kind = None;
    let mut coords = CoordSystem::Wgs84;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_string();
                match name.as_str() {
                    "kind" => {
                        let v = field.text().await.unwrap_or_default();
                        kind = RecordKind::parse(&v);
                    }
                    "coords" => {
                        let v = field.text().await.unwrap_or_default();
                        if let Some((c, _)) = COORDS.iter().find(|(_, k)| *k == v.trim()) {
                            coords = *c;
                        }
                    }
                    "file" => {
                        let fname = field.file_name().unwrap_or_default().to_string();
                        match field.bytes().await {
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
                    _ => {}
                }
            }
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
    let Some(kind) = kind else {
        let msg = s.t(&ctx, "import.need_kind");
        return render(
            &s,
            &ctx,
            StatusCode::BAD_REQUEST,
            json!({"file_error": msg}),
        );
    };
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let msg = s.t(&ctx, "import.need_file");
        return render(
            &s,
            &ctx,
            StatusCode::BAD_REQUEST,
            json!({"file_error": msg}),
        );
    };
    match run(&s, ctx.scope(), kind, coords, name.clone(), bytes, true).await {
        Ok((report, bytes)) => {
            let token = keep(&s, Target::Register(kind), coords, name.clone(), bytes);
            render(
                &s,
                &ctx,
                StatusCode::OK,
                json!({"preview": report_json(&report), "token": token, "file_name": name}),
            )
        }
        Err(e) => failure(&s, &ctx, e),
    }
}

/// `POST /console/import/confirm` (form: token) — the real import.
pub async fn confirm(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    axum::extract::Form(form): axum::extract::Form<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/import", headers, q);
    let token = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let upload = take(&s, &token, |t| matches!(t, Target::Register(_)));
    let Some((u, kind)) = upload.and_then(|u| match u.target {
        Target::Register(k) => Some((u, k)),
        Target::Assessments => None,
    }) else {
        let msg = s.t(&ctx, "import.expired");
        return render(&s, &ctx, StatusCode::GONE, json!({"file_error": msg}));
    };
    match run(
        &s,
        ctx.scope(),
        kind,
        u.coords,
        u.name.clone(),
        u.bytes,
        false,
    )
    .await
    {
        Ok((report, _)) => render(
            &s,
            &ctx,
            StatusCode::OK,
            json!({"done": report_json(&report), "file_name": u.name}),
        ),
        Err(e) => failure(&s, &ctx, e),
    }
}

/// `GET /console/import/templates/{kind}-template.xlsx` — the Chinese template.
pub async fn template(
    State(s): State<ConsoleState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/import", headers, q);
    let kind = file
        .strip_suffix("-template.xlsx")
        .and_then(RecordKind::parse);
    let Some(kind) = kind else {
        return s.error_page(&ctx, PageError::NotFound(file));
    };
    let res = tokio::task::spawn_blocking(move || {
        let dir = std::env::temp_dir().join(format!(
            "laoxiao-template-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::File(e.to_string()))?;
        let path = dir.join(format!("{}-template.xlsx", kind.code()));
        let out = laoxiao_store::io::write_template(kind, &path)
            .and_then(|_| std::fs::read(&path).map_err(|e| StoreError::File(e.to_string())));
        let _ = std::fs::remove_dir_all(&dir);
        out
    })
    .await;
    match res {
        Ok(Ok(bytes)) => {
            let mut r = bytes.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            );
            if let Ok(v) = HeaderValue::from_str(&format!(
                "attachment; filename=\"{}-template.xlsx\"",
                kind.code()
            )) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Ok(Err(e)) => s.error_page(&ctx, PageError::Store(e)),
        Err(e) => s.error_page(&ctx, PageError::Internal(e.to_string())),
    }
}
