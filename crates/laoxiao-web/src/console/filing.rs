//! Childcare filing (托育机构备案) pages: the filings of one's area (an
//! institution: its own) with the form to start one; one filing with its
//! form, documents, the upload form, what is missing, and the actions of the
//! institution (save, submit, withdraw) or of the county (accept, ask for
//! corrections, refuse). The workflow is the store's (`laoxiao_store::filing`).

use axum::extract::{Form, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use laoxiao_model::{CareType, FacilityKind, FieldError};
use laoxiao_rules::filing::FilingForm;
use laoxiao_store::StoreError;
use laoxiao_store::facilities::{self, FacilityQuery};
use laoxiao_store::filing::{
    self, Decision, Detail, Filing, FilingKind, ListQuery, NewFiling, Status,
};
use laoxiao_store::uploads::UploadStore;
use serde_json::{Value as Json, json};

use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error};
use crate::admission::today;

fn url(id: &str) -> String {
    format!("/console/childcare/filings/{}", crate::encode_segment(id))
}

fn errors_json(errors: &[FieldError]) -> Vec<Json> {
    errors
        .iter()
        .map(|e| json!({"field": e.field, "reason": e.reason}))
        .collect()
}

fn row(s: &ConsoleState, ctx: &Ctx, f: &Filing) -> Json {
    json!({
        "id": f.id,
        "url": url(&f.id),
        "facility": f.facility_name,
        "area": super::area_name(s, &f.area_code),
        "kind_label": s.t(ctx, &format!("filing.kind_{}", f.kind.code())),
        "status": f.status.code(),
        "status_label": s.t(ctx, &format!("filing.status_{}", f.status.code())),
        "submitted": f.submitted_date.map(|d| d.to_string()),
        "deadline": match f.status {
            Status::Submitted => f.review_deadline.map(|d| d.to_string()),
            Status::CorrectionsRequested => f.correction_deadline.map(|d| d.to_string()),
            _ => None,
        },
        "overdue": f.overdue,
        "rounds": f.rounds,
    })
}

/// Childcare institutions the caller may file for.
fn institutions(
    c: &mut laoxiao_store::Conn,
    r: &laoxiao_store::Reference,
    scope: &laoxiao_store::Scope,
) -> Result<Vec<(String, String)>, StoreError> {
    let q = FacilityQuery::default().with("kind", FacilityKind::ChildcareInstitution.code())?;
    let page = facilities::list(
        c,
        r,
        scope,
        &FacilityQuery {
            limit: Some(200),
            ..q
        },
    )?;
    Ok(page.items.into_iter().map(|f| (f.id, f.name)).collect())
}

async fn render_index(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let st = ctx.param("status").and_then(Status::parse);
    let overdue = ctx.param("overdue") == Some("1");
    let can_file = ctx.auth.can(laoxiao_store::Perm::FileChildcare);
    let res = s
        .db(move |c, r| {
            let items = filing::list(
                c,
                &scope,
                &ListQuery {
                    status: st,
                    facility_id: None,
                    overdue,
                },
                today(),
            )?;
            let mine = if can_file {
                institutions(c, r, &scope)?
            } else {
                Vec::new()
            };
            Ok((items, mine))
        })
        .await;
    let (items, mine) = match res {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let statuses: Vec<Json> = Status::ALL
        .iter()
        .map(|x| json!({"value": x.code(), "label": s.t(ctx, &format!("filing.status_{}", x.code())), "selected": Some(*x) == st}))
        .collect();
    let kinds: Vec<Json> = FilingKind::ALL
        .iter()
        .map(
            |k| json!({"value": k.code(), "label": s.t(ctx, &format!("filing.kind_{}", k.code()))}),
        )
        .collect();
    let notice = ctx
        .param("done")
        .filter(|d| *d == "created")
        .map(|d| s.t(ctx, &format!("filing.done_{d}")));
    let page = json!({
        "items": items.iter().map(|f| row(s, ctx, f)).collect::<Vec<_>>(),
        "overdue_count": items.iter().filter(|f| f.overdue).count(),
        "statuses": statuses,
        "overdue": overdue,
        "kinds": kinds,
        "institutions": mine.iter().map(|(id, name)| json!({"value": id, "label": name})).collect::<Vec<_>>(),
        "can_file": can_file && !mine.is_empty(),
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "filings.html", "filings", page)
}

/// `GET /console/childcare/filings`
pub async fn index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/filings", headers, q);
    render_index(&s, &ctx, StatusCode::OK, &[]).await
}

/// `POST /console/childcare/filings`: a new draft.
pub async fn create(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/filings", headers, q);
    let Some(kind) = field(&form, "kind").and_then(FilingKind::parse) else {
        let errs = [FieldError::new("kind", s.t(&ctx, "filing.need_kind"))];
        return render_index(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs).await;
    };
    let new = NewFiling {
        facility_id: field(&form, "facility_id").unwrap_or_default().to_string(),
        kind,
        form: FilingForm::default(),
    };
    let scope = ctx.scope();
    match s
        .db(move |c, _| filing::create(c, &scope, &new, today()))
        .await
    {
        Ok(d) => Redirect::to(&format!("{}?done=created", url(&d.filing.id))).into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_index(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs).await
        }
        Err(PageError::Store(e @ StoreError::Conflict(_))) => {
            let errs = [FieldError::new("", e.to_string())];
            render_index(&s, &ctx, StatusCode::CONFLICT, &errs).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

fn form_json(f: &FilingForm) -> Json {
    json!({
        "director_name": f.director_name,
        "contact_phone": f.contact_phone,
        "places": if f.places > 0 { Some(f.places) } else { None },
        "care_types": f.care_types,
        "serves_meals": f.serves_meals,
        "site_owned": f.site_owned,
        "lease_until": f.lease_until.map(|d| d.to_string()),
    })
}

async fn render_detail(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
    typed: Option<&FilingForm>,
) -> Response {
    let scope = ctx.scope();
    let d: Detail = match s.db(move |c, _| filing::get(c, &scope, &id, today())).await {
        Ok(d) => d,
        Err(e) => return s.error_page(ctx, e),
    };
    let en = matches!(ctx.lang, super::i18n::Lang::En);
    let f = &d.filing;
    let doc_label = |code: &str| {
        d.rules
            .document(code)
            .map(|t| if en { t.en.clone() } else { t.zh.clone() })
            .unwrap_or_else(|| code.to_string())
    };
    let documents: Vec<Json> = d
        .documents
        .iter()
        .map(|x| {
            json!({
                "id": x.id,
                "type_label": doc_label(&x.doc_type),
                "file_name": x.file_name,
                "size_kb": (x.size + 1023) / 1024,
                "content_type": x.content_type,
                "uploaded_by": x.uploaded_by,
                "uploaded_at": x.uploaded_at,
                "download": format!("{}/documents/{}", url(&f.id), crate::encode_segment(&x.id)),
            })
        })
        .collect();
    let doc_types: Vec<Json> = d
        .rules
        .documents
        .iter()
        .map(|t| {
            json!({
                "value": t.code,
                "label": if en { &t.en } else { &t.zh },
                "clause": t.clause,
                "missing": d.missing.contains(&t.code),
            })
        })
        .collect();
    let missing: Vec<Json> = d
        .missing
        .iter()
        .map(|code| {
            let t = d.rules.document(code);
            json!({"label": doc_label(code), "clause": t.map(|t| t.clause.clone())})
        })
        .collect();
    let shown = typed.unwrap_or(&f.form);
    let care_types: Vec<Json> = CareType::ALL
        .iter()
        .map(|c| {
            json!({
                "value": c.code(),
                "label": if en { c.label_en() } else { c.label_zh() },
                "checked": shown.care_types.iter().any(|t| t == c.code()),
            })
        })
        .collect();
    let notice = ctx
        .param("done")
        .filter(|x| {
            [
                "created",
                "saved",
                "uploaded",
                "removed",
                "submitted",
                "withdrawn",
                "accept",
                "request_corrections",
                "reject",
            ]
            .contains(x)
        })
        .map(|x| s.t(ctx, &format!("filing.done_{x}")));
    let page = json!({
        "f": {
            "id": f.id,
            "url": url(&f.id),
            "facility": f.facility_name,
            "area": super::area_name(s, &f.area_code),
            "kind": f.kind.code(),
            "kind_label": s.t(ctx, &format!("filing.kind_{}", f.kind.code())),
            "status_label": s.t(ctx, &format!("filing.status_{}", f.status.code())),
            "status": f.status.code(),
            "created_by": f.created_by,
            "submitted": f.submitted_date.map(|x| x.to_string()),
            "rounds": f.rounds,
            "review_deadline": f.review_deadline.map(|x| x.to_string()),
            "correction_deadline": f.correction_deadline.map(|x| x.to_string()),
            "overdue": f.overdue,
            "reviewed_by": f.reviewed_by,
            "reviewed_date": f.reviewed_date.map(|x| x.to_string()),
            "review_note": f.review_note,
            "open": f.status.is_open(),
            "cancellation": f.kind == FilingKind::Cancellation,
        },
        "form": form_json(shown),
        "care_types": care_types,
        "documents": documents,
        "doc_types": doc_types,
        "missing": missing,
        "form_errors": d.form_errors.iter().map(|(field, reason)| json!({"field": field, "reason": reason})).collect::<Vec<_>>(),
        "can_file": d.can_file,
        "can_withdraw": d.filing.status.is_open() && ctx.auth.can(laoxiao_store::Perm::FileChildcare),
        "can_review": d.can_review,
        "rules": {
            "review_days": d.rules.review_working_days,
            "review_clause": d.rules.review_clause,
            "correction_days": d.rules.correction_working_days,
            "lease_years": d.rules.min_lease_years,
            "lease_clause": d.rules.lease_clause,
        },
        "max_mb": s.web.upload_max_bytes.div_ceil(1024 * 1024),
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "filing.html", "filings", page)
}

/// A refused step shown on the filing's page: field errors (422), a conflict
/// (409), an upload of the wrong type or size (415, 413) on the file field;
/// anything else as an error page.
async fn failed(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    e: PageError,
    typed: Option<&FilingForm>,
) -> Response {
    match e {
        PageError::Store(StoreError::Invalid(errs)) => {
            render_detail(s, ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs, typed).await
        }
        PageError::Store(
            e @ (StoreError::Conflict(_)
            | StoreError::UploadTooLarge { .. }
            | StoreError::UploadType(_)),
        ) => {
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::CONFLICT);
            let field = if matches!(e, StoreError::Conflict(_)) {
                ""
            } else {
                "file"
            };
            let errs = [FieldError::new(field, e.to_string())];
            render_detail(s, ctx, id, status, &errs, typed).await
        }
        e => s.error_page(ctx, e),
    }
}

/// `GET /console/childcare/filings/{id}`
pub async fn detail(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/filings", headers, q);
    render_detail(&s, &ctx, id, StatusCode::OK, &[], None).await
}

/// The form as typed (bad numbers and dates become field errors).
fn read_form(form: &FormData, errs: &mut Vec<FieldError>) -> FilingForm {
    let places = match field(form, "places") {
        None => 0,
        Some(v) => v.parse::<i64>().unwrap_or_else(|_| {
            errs.push(FieldError::new(
                "places",
                format!("{v:?} is not a whole number"),
            ));
            0
        }),
    };
    let lease_until = field(form, "lease_until").and_then(|v| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().or_else(|| {
            errs.push(FieldError::new(
                "lease_until",
                format!("{v:?} is not a date (YYYY-MM-DD)"),
            ));
            None
        })
    });
    FilingForm {
        director_name: field(form, "director_name").unwrap_or_default().to_string(),
        contact_phone: field(form, "contact_phone").unwrap_or_default().to_string(),
        places,
        care_types: form
            .iter()
            .filter(|(k, _)| k == "care_types")
            .map(|(_, v)| v.trim().to_string())
            .take(8)
            .collect(),
        serves_meals: field(form, "serves_meals").is_some(),
        site_owned: field(form, "site_owned").is_some(),
        lease_until,
    }
}

/// `POST /console/childcare/filings/{id}`: `action` = save, submit,
/// withdraw, remove (with `document`), accept, request_corrections, reject.
pub async fn act(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/filings", headers, q);
    let action = field(&form, "action").unwrap_or_default().to_string();
    let scope = ctx.scope();
    let fid = id.clone();
    let note = field(&form, "note").map(str::to_string);
    let mut typed = None;
    let res: Result<&str, PageError> = match action.as_str() {
        "save" | "submit" => {
            let mut errs = Vec::new();
            let f = read_form(&form, &mut errs);
            if !errs.is_empty() {
                return render_detail(
                    &s,
                    &ctx,
                    id,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &errs,
                    Some(&f),
                )
                .await;
            }
            typed = Some(f.clone());
            let submit = action == "submit";
            s.db(move |c, r| {
                filing::update_form(c, &scope, &fid, &f, today())?;
                if submit {
                    filing::submit(c, r, &scope, &fid, today())?;
                }
                Ok(if submit { "submitted" } else { "saved" })
            })
            .await
        }
        "withdraw" => {
            s.db(move |c, r| filing::withdraw(c, r, &scope, &fid, today()).map(|_| "withdrawn"))
                .await
        }
        "remove" => {
            let doc = field(&form, "document").unwrap_or_default().to_string();
            s.db(move |c, _| {
                filing::remove_document(c, &scope, &fid, &doc, today()).map(|_| "removed")
            })
            .await
        }
        "accept" | "request_corrections" | "reject" => {
            let (decision, done) = match action.as_str() {
                "accept" => (Decision::Accept, "accept"),
                "request_corrections" => (Decision::RequestCorrections, "request_corrections"),
                _ => (Decision::Reject, "reject"),
            };
            s.db(move |c, r| {
                filing::review(c, r, &scope, &fid, decision, note.as_deref(), today()).map(|_| done)
            })
            .await
        }
        _ => {
            let errs = [FieldError::new("action", s.t(&ctx, "filing.bad_action"))];
            return render_detail(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs, None)
                .await;
        }
    };
    match res {
        Ok(done) => Redirect::to(&format!("{}?done={done}", url(&id))).into_response(),
        Err(e) => failed(&s, &ctx, id, e, typed.as_ref()).await,
    }
}

/// `POST /console/childcare/filings/{id}/documents` (multipart: doc_type, file).
pub async fn upload(
    State(s): State<ConsoleState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    mut mp: Multipart,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/filings", headers, q);
    let mut doc_type = String::new();
    let mut file: Option<(String, Option<String>, Vec<u8>)> = None;
    let max = s.web.upload_max_bytes;
    loop {
        match mp.next_field().await {
            Ok(Some(part)) => match part.name().unwrap_or_default() {
                "doc_type" => {
                    doc_type = part
                        .text()
                        .await
                        .unwrap_or_default()
                        .trim()
                        .chars()
                        .take(40)
                        .collect()
                }
                "file" => {
                    let name = part.file_name().unwrap_or_default().to_string();
                    let ct = part.content_type().map(str::to_string);
                    match part.bytes().await {
                        Ok(b) => file = Some((name, ct, b.to_vec())),
                        Err(_) => {
                            let e = StoreError::UploadTooLarge { limit: max };
                            let errs = [FieldError::new("file", e.to_string())];
                            return render_detail(
                                &s,
                                &ctx,
                                id,
                                StatusCode::PAYLOAD_TOO_LARGE,
                                &errs,
                                None,
                            )
                            .await;
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(e) => {
                let errs = [FieldError::new("file", e.body_text())];
                return render_detail(&s, &ctx, id, StatusCode::BAD_REQUEST, &errs, None).await;
            }
        }
    }
    let Some((name, declared, bytes)) = file.filter(|(_, _, b)| !b.is_empty()) else {
        let errs = [FieldError::new("file", s.t(&ctx, "filing.need_file"))];
        return render_detail(&s, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, &errs, None).await;
    };
    let uploads = match UploadStore::new(s.web.uploads_dir.clone(), max) {
        Ok(u) => u,
        Err(e) => return s.error_page(&ctx, PageError::Store(e)),
    };
    let scope = ctx.scope();
    let fid = id.clone();
    let res = s
        .db(move |c, _| {
            let d = filing::get(c, &scope, &fid, today())?;
            if !d.can_file {
                return Err(StoreError::Conflict(
                    "the filing is not open for uploads by you now".into(),
                ));
            }
            let checked = uploads.put(&bytes, declared.as_deref(), &name)?;
            filing::add_document(c, &scope, &fid, &doc_type, &checked, today())
        })
        .await;
    match res {
        Ok(_) => Redirect::to(&format!("{}?done=uploaded", url(&id))).into_response(),
        Err(e) => failed(&s, &ctx, id, e, None).await,
    }
}

/// `GET /console/childcare/filings/{id}/documents/{doc}`: the file, as an attachment.
pub async fn download(
    State(s): State<ConsoleState>,
    Path((id, doc)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/childcare/filings", headers, q);
    let uploads = match UploadStore::new(s.web.uploads_dir.clone(), s.web.upload_max_bytes) {
        Ok(u) => u,
        Err(e) => return s.error_page(&ctx, PageError::Store(e)),
    };
    let scope = ctx.scope();
    let res = s
        .db(move |c, _| {
            let d = filing::document(c, &scope, &id, &doc, today())?;
            let bytes = uploads.get(&d.sha256)?;
            Ok((d, bytes))
        })
        .await;
    match res {
        Ok((d, bytes)) => crate::filing::attachment(&d, bytes),
        Err(e) => s.error_page(&ctx, e),
    }
}
