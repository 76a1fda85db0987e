//! Childcare institution filing (托育机构备案) with the county health commission
//! (《托育机构登记和备案办法（试行）》, rules in `laoxiao_rules::filing`).
//!
//! An institution's operator drafts a filing (an initial one, a change 变更 or
//! a cancellation 注销), fills in the form, uploads the documents and submits;
//! county staff review it by the deadline and accept it, ask for corrections
//! (with their own deadline) or reject it. Accepting writes the institution's
//! filing status, date and approved places into the facility register (audited
//! as a facility update), which indicator 35 and the subsidies read. Every
//! step is one transaction with its audit entry, and each is a conditional
//! update on the filing's status: of two reviewers acting at once, one wins
//! and the other gets a conflict.

use chrono::NaiveDate;
use laoxiao_model::facility::{FacilityKind, FilingStatus};
use laoxiao_rules::filing::{FilingBook, FilingForm, FilingRules};
use serde::Serialize;

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::uploads::Checked;
use crate::worklist::WorkItem;
use crate::{Perm, Reference, Scope, audit, facilities, now_rfc3339, path_upper};

/// The longest review note, in characters.
pub const MAX_NOTE: usize = 1_000;
/// The most documents (live) one filing may hold.
pub const MAX_DOCUMENTS: usize = 40;
/// The most filings one list answers.
pub const MAX_LIST: usize = 500;

/// What a filing is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FilingKind {
    /// 备案: the first filing of an institution.
    Initial,
    /// 变更备案: a change to a filed institution.
    Change,
    /// 注销备案: the institution stops providing care.
    Cancellation,
}

impl FilingKind {
    pub const ALL: [FilingKind; 3] = [
        FilingKind::Initial,
        FilingKind::Change,
        FilingKind::Cancellation,
    ];
    pub fn code(self) -> &'static str {
        match self {
            FilingKind::Initial => "initial",
            FilingKind::Change => "change",
            FilingKind::Cancellation => "cancellation",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            FilingKind::Initial => "备案",
            FilingKind::Change => "变更备案",
            FilingKind::Cancellation => "注销备案",
        }
    }
    pub fn parse(s: &str) -> Option<FilingKind> {
        FilingKind::ALL.into_iter().find(|k| k.code() == s)
    }
}

/// Where a filing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 草稿: the institution is preparing it.
    Draft,
    /// 已提交: waiting for the county's review.
    Submitted,
    /// 待补正: the county asked for corrections.
    CorrectionsRequested,
    /// 已备案 / 已变更 / 已注销.
    Accepted,
    /// 不予备案.
    Rejected,
    /// 已撤回.
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Draft,
        Status::Submitted,
        Status::CorrectionsRequested,
        Status::Accepted,
        Status::Rejected,
        Status::Withdrawn,
    ];
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::CorrectionsRequested => "corrections_requested",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Status::Draft => "草稿",
            Status::Submitted => "待审核",
            Status::CorrectionsRequested => "待补正",
            Status::Accepted => "已通过",
            Status::Rejected => "不予备案",
            Status::Withdrawn => "已撤回",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|k| k.code() == s)
    }
    /// Still open (at most one per institution).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Status::Draft | Status::Submitted | Status::CorrectionsRequested
        )
    }
    /// The institution may change the form and the documents.
    pub fn editable(self) -> bool {
        matches!(self, Status::Draft | Status::CorrectionsRequested)
    }
}

/// A filing as lists and pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct Filing {
    pub id: String,
    pub facility_id: String,
    pub facility_name: String,
    pub area_code: String,
    pub kind: FilingKind,
    pub status: Status,
    pub form: FilingForm,
    pub created_by: String,
    pub created_at: String,
    pub submitted_date: Option<NaiveDate>,
    pub rounds: i64,
    pub review_deadline: Option<NaiveDate>,
    pub correction_deadline: Option<NaiveDate>,
    /// The review (submitted) or the corrections are past their deadline.
    pub overdue: bool,
    pub reviewed_by: Option<String>,
    pub reviewed_date: Option<NaiveDate>,
    pub review_note: Option<String>,
    pub closed_date: Option<NaiveDate>,
}

/// An uploaded document of a filing.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub id: String,
    pub filing_id: String,
    pub doc_type: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// A filing with its documents and what is still missing.
#[derive(Debug, Clone, Serialize)]
pub struct Detail {
    pub filing: Filing,
    pub documents: Vec<Document>,
    /// Codes of the required document types not yet uploaded.
    pub missing: Vec<String>,
    /// The form's breaches as (field, reason), empty when it may be submitted.
    pub form_errors: Vec<(String, String)>,
    pub rules: FilingRules,
    /// The caller may edit, upload and submit (the institution's side).
    pub can_file: bool,
    /// The caller may review (the county's side, not the submitter).
    pub can_review: bool,
}

/// Filters of a list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub status: Option<Status>,
    pub facility_id: Option<String>,
    /// Only filings past a deadline.
    pub overdue: bool,
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        what: "childcare filing",
        id: id.to_string(),
    }
}

fn invalid(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![laoxiao_model::FieldError::new(field, why)])
}

/// Refuses a form outside its bounds (lengths, places, care types).
fn bounded(form: &FilingForm) -> Result<()> {
    let errs: Vec<laoxiao_model::FieldError> = form
        .out_of_bounds()
        .into_iter()
        .map(|e| laoxiao_model::FieldError::new(format!("form.{}", e.field), e.reason))
        .collect();
    if errs.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errs))
    }
}

fn book() -> Result<&'static FilingBook> {
    FilingBook::embedded().map_err(|e| StoreError::Reference(e.to_string()))
}

const COLS: &str = "g.id, g.facility_id, g.facility_path, g.kind, g.status, g.form, g.created_by, \
    g.created_at, g.submitted_by, g.submitted_date, g.rounds, g.review_deadline, g.correction_deadline, \
    g.reviewed_by, g.reviewed_date, g.review_note, g.closed_date, f.name AS facility_name, \
    f.area_code";

const FROM: &str = "childcare_filing g JOIN facility f ON f.id = g.facility_id";

fn view(r: &Row, today: NaiveDate) -> Result<Filing> {
    let bad = |col: &str, v: &str| StoreError::Database(format!("column {col}: bad value {v:?}"));
    let kind: String = r.get("kind")?;
    let status: String = r.get("status")?;
    let form: String = r.get("form")?;
    let kind = FilingKind::parse(&kind).ok_or_else(|| bad("kind", &kind))?;
    let status = Status::parse(&status).ok_or_else(|| bad("status", &status))?;
    let review_deadline: Option<NaiveDate> = r.get("review_deadline")?;
    let correction_deadline: Option<NaiveDate> = r.get("correction_deadline")?;
    let overdue = match status {
        Status::Submitted => review_deadline.is_some_and(|d| d < today),
        Status::CorrectionsRequested => correction_deadline.is_some_and(|d| d < today),
        _ => false,
    };
    Ok(Filing {
        id: r.get("id")?,
        facility_id: r.get("facility_id")?,
        facility_name: r.get("facility_name")?,
        area_code: r.get("area_code")?,
        kind,
        status,
        form: serde_json::from_str(&form)
            .map_err(|e| StoreError::Database(format!("column form: {e}")))?,
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        submitted_date: r.get("submitted_date")?,
        rounds: r.get("rounds")?,
        review_deadline,
        correction_deadline,
        overdue,
        reviewed_by: r.get("reviewed_by")?,
        reviewed_date: r.get("reviewed_date")?,
        review_note: r.get("review_note")?,
        closed_date: r.get("closed_date")?,
    })
}

/// The scope's condition on a filing (` AND …`): an operator's own
/// institution, staff's area subtree.
fn push_visible(scope: &Scope, w: &mut String, p: &mut Vec<Value>) {
    if let Some(f) = scope.facility() {
        p.push(f.into());
        w.push_str(&format!(" AND g.facility_id = ${}", p.len()));
    }
    if let Some(path) = scope.area_path() {
        p.push(path.into());
        let lo = p.len();
        p.push(path_upper(path).into());
        let hi = p.len();
        w.push_str(&format!(
            " AND g.facility_path >= ${lo} AND g.facility_path < ${hi}"
        ));
    }
}

fn read_perm(scope: &Scope) -> Result<()> {
    if scope.can(Perm::FileChildcare) || scope.can(Perm::ReviewFilings) {
        Ok(())
    } else {
        scope.require(Perm::ReadFilings)
    }
}

/// One filing in the scope (not found otherwise: a filing outside the area
/// reads as missing, never as forbidden).
fn load(conn: &mut Conn, scope: &Scope, id: &str, today: NaiveDate) -> Result<Filing> {
    if scope.is_family() {
        return Err(not_found(id));
    }
    let mut p: Vec<Value> = vec![id.into()];
    let mut w = String::from("g.id = $1");
    push_visible(scope, &mut w, &mut p);
    let row = conn
        .query_opt(&format!("SELECT {COLS} FROM {FROM} WHERE {w}"), &p)?
        .ok_or_else(|| not_found(id))?;
    view(&row, today)
}

fn documents_of(conn: &mut Conn, filing_id: &str) -> Result<Vec<Document>> {
    conn.query(
        "SELECT id, filing_id, doc_type, file_name, content_type, size, sha256, uploaded_by, uploaded_at \
         FROM filing_document WHERE filing_id = $1 AND removed_at IS NULL ORDER BY uploaded_at, id",
        &[filing_id.into()],
    )?
    .iter()
    .map(|r| {
        Ok(Document {
            id: r.get("id")?,
            filing_id: r.get("filing_id")?,
            doc_type: r.get("doc_type")?,
            file_name: r.get("file_name")?,
            content_type: r.get("content_type")?,
            size: r.get("size")?,
            sha256: r.get("sha256")?,
            uploaded_by: r.get("uploaded_by")?,
            uploaded_at: r.get("uploaded_at")?,
        })
    })
    .collect()
}

/// The institution's side: it may file (an operator of this institution, or
/// city staff acting for it), and is not a reviewer acting on its own.
fn filer_side(scope: &Scope) -> bool {
    scope.can(Perm::FileChildcare)
}

/// The county's side: staff who review, never an operator.
fn reviewer_side(scope: &Scope, f: &Filing) -> bool {
    scope.can(Perm::ReviewFilings) && scope.facility().is_none() && f.created_by != scope.actor.user
}

fn event<'a>(action: &'a str, id: &'a str, after: Option<serde_json::Value>) -> audit::Event<'a> {
    audit::Event {
        action,
        entity: "childcare_filing",
        entity_id: Some(id),
        before: None,
        after: after.map(|v| v.to_string()),
    }
}

/// The filing with its documents, what is missing and what the caller may do.
pub fn get(conn: &mut Conn, scope: &Scope, id: &str, today: NaiveDate) -> Result<Detail> {
    read_perm(scope)?;
    let filing = load(conn, scope, id, today)?;
    let rules = book()?.on(filing.submitted_date.unwrap_or(today)).clone();
    // In the order the rules list the types (the 备案办法's order), then by upload.
    let mut documents = documents_of(conn, id)?;
    let rank = |t: &str| {
        rules
            .documents
            .iter()
            .position(|d| d.code == t)
            .unwrap_or(usize::MAX)
    };
    documents.sort_by_key(|d| rank(&d.doc_type));
    let present: Vec<&str> = documents.iter().map(|d| d.doc_type.as_str()).collect();
    let missing = if filing.kind == FilingKind::Cancellation {
        Vec::new()
    } else {
        rules
            .missing(&present, filing.form.serves_meals)
            .into_iter()
            .map(|d| d.code.clone())
            .collect()
    };
    let form_errors = filing
        .form
        .check(&rules, today, filing.kind == FilingKind::Cancellation)
        .into_iter()
        .map(|e| (e.field.to_string(), e.reason))
        .collect();
    let can_file = filer_side(scope) && filing.status.editable();
    let can_review = reviewer_side(scope, &filing) && filing.status == Status::Submitted;
    Ok(Detail {
        filing,
        documents,
        missing,
        form_errors,
        rules,
        can_file,
        can_review,
    })
}

/// Filings in the scope, open ones first (those past a deadline at the top).
pub fn list(
    conn: &mut Conn,
    scope: &Scope,
    q: &ListQuery,
    today: NaiveDate,
) -> Result<Vec<Filing>> {
    read_perm(scope)?;
    if scope.is_family() {
        return Ok(Vec::new());
    }
    let mut p: Vec<Value> = Vec::new();
    let mut w = String::from("1 = 1");
    push_visible(scope, &mut w, &mut p);
    if let Some(s) = q.status {
        p.push(s.code().into());
        w.push_str(&format!(" AND g.status = ${}", p.len()));
    }
    if let Some(f) = &q.facility_id {
        p.push(f.as_str().into());
        w.push_str(&format!(" AND g.facility_id = ${}", p.len()));
    }
    let rows = conn.query(
        &format!(
            "SELECT {COLS} FROM {FROM} WHERE {w} ORDER BY \
             CASE g.status WHEN 'submitted' THEN 0 WHEN 'corrections_requested' THEN 1 WHEN 'draft' THEN 2 ELSE 3 END, \
             COALESCE(g.review_deadline, g.correction_deadline, g.created_at), g.id LIMIT {}",
            MAX_LIST * 2
        ),
        &p,
    )?;
    let mut out = Vec::new();
    for r in &rows {
        let f = view(r, today)?;
        if q.overdue && !f.overdue {
            continue;
        }
        out.push(f);
        if out.len() >= MAX_LIST {
            break;
        }
    }
    // Past a deadline first, keeping the order otherwise.
    out.sort_by_key(|f| !f.overdue);
    Ok(out)
}

/// What a new filing is for and says.
#[derive(Debug, Clone)]
pub struct NewFiling {
    pub facility_id: String,
    pub kind: FilingKind,
    pub form: FilingForm,
}

/// Drafts a filing of an institution in the scope. An initial filing needs an
/// institution not yet filed; a change or a cancellation, a filed one. One
/// open filing per institution (a second gets a conflict).
pub fn create(conn: &mut Conn, scope: &Scope, new: &NewFiling, today: NaiveDate) -> Result<Detail> {
    scope.require(Perm::FileChildcare)?;
    bounded(&new.form)?;
    let id = format!("BA-{}", crate::crypto::random_hex(8));
    conn.transaction(|c| {
        // The facility as the caller may see it: outside the scope it is missing.
        let fac = facilities::get(c, scope, &new.facility_id).map_err(|e| match e {
            StoreError::NotFound { .. } | StoreError::Forbidden(_) => invalid(
                "facility_id",
                format!("no childcare institution {:?} in your area", new.facility_id),
            ),
            e => e,
        })?;
        if fac.kind != FacilityKind::ChildcareInstitution {
            return Err(invalid(
                "facility_id",
                format!(
                    "{} is a {}, not a 托育机构: only childcare institutions file (备案办法第二条)",
                    fac.id,
                    fac.kind.label_zh()
                ),
            ));
        }
        let filed = fac.filing_status == FilingStatus::Filed;
        match (new.kind, filed) {
            (FilingKind::Initial, true) => {
                return Err(invalid("kind", "the institution is already filed: file a change or a cancellation"));
            }
            (FilingKind::Change | FilingKind::Cancellation, false) => {
                return Err(invalid("kind", "the institution is not filed: file an initial filing first"));
            }
            _ => {}
        }
        let open = c.query_i64(
            "SELECT COUNT(*) FROM childcare_filing WHERE facility_id = $1 \
             AND status IN ('draft', 'submitted', 'corrections_requested')",
            &[fac.id.as_str().into()],
        )?;
        if open > 0 {
            return Err(StoreError::Conflict(
                "the institution already has an open filing; finish or withdraw it first".into(),
            ));
        }
        let path: String = c
            .query_opt("SELECT area_path FROM facility WHERE id = $1", &[fac.id.as_str().into()])?
            .ok_or_else(|| not_found(&fac.id))?
            .get("area_path")?;
        let form = serde_json::to_string(&new.form).map_err(|e| StoreError::Database(e.to_string()))?;
        c.execute(
            "INSERT INTO childcare_filing (id, facility_id, facility_path, kind, status, form, created_by, created_at) \
             VALUES ($1, $2, $3, $4, 'draft', $5, $6, $7)",
            &[
                id.as_str().into(),
                fac.id.as_str().into(),
                path.into(),
                new.kind.code().into(),
                form.into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            event(
                "filing_create",
                &id,
                Some(serde_json::json!({"facility_id": fac.id, "kind": new.kind.code()})),
            ),
        )?;
        Ok(())
    })?;
    get(conn, scope, &id, today)
}

/// The filing for a step on the institution's side, in an editable state.
fn editable(c: &mut Conn, scope: &Scope, id: &str, today: NaiveDate) -> Result<Filing> {
    scope.require(Perm::FileChildcare)?;
    let f = load(c, scope, id, today)?;
    if !f.status.editable() {
        return Err(StoreError::Conflict(format!(
            "the filing is {} ({}); only a draft or one waiting for corrections can be changed",
            f.status.code(),
            f.status.zh()
        )));
    }
    Ok(f)
}

/// Replaces the form of a draft (or of a filing waiting for corrections).
pub fn update_form(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    form: &FilingForm,
    today: NaiveDate,
) -> Result<Detail> {
    conn.transaction(|c| {
        let f = editable(c, scope, id, today)?;
        let text = serde_json::to_string(form).map_err(|e| StoreError::Database(e.to_string()))?;
        let n = c.execute(
            "UPDATE childcare_filing SET form = $1 WHERE id = $2 AND status = $3",
            &[text.into(), id.into(), f.status.code().into()],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "the filing changed meanwhile; reload it".into(),
            ));
        }
        audit::append(c, scope, event("filing_form", id, None))?;
        Ok(())
    })?;
    get(conn, scope, id, today)
}

/// Records an uploaded document (its bytes already kept by the upload store).
pub fn add_document(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    doc_type: &str,
    file: &Checked,
    today: NaiveDate,
) -> Result<Document> {
    let doc_id = format!("BD-{}", crate::crypto::random_hex(8));
    conn.transaction(|c| {
        let f = editable(c, scope, id, today)?;
        let rules = book()?.on(today).clone();
        if rules.document(doc_type).is_none() {
            let codes: Vec<&str> = rules.documents.iter().map(|d| d.code.as_str()).collect();
            return Err(invalid(
                "doc_type",
                format!("{doc_type:?} is not a filing document type; one of {}", codes.join(", ")),
            ));
        }
        let live = c.query_i64(
            "SELECT COUNT(*) FROM filing_document WHERE filing_id = $1 AND removed_at IS NULL",
            &[f.id.as_str().into()],
        )?;
        if live >= MAX_DOCUMENTS as i64 {
            return Err(invalid("file", format!("a filing holds at most {MAX_DOCUMENTS} documents")));
        }
        c.execute(
            "INSERT INTO filing_document (id, filing_id, doc_type, file_name, content_type, size, sha256, \
             uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                doc_id.as_str().into(),
                f.id.as_str().into(),
                doc_type.into(),
                file.file_name.as_str().into(),
                file.content_type.into(),
                (file.size as i64).into(),
                file.sha256.as_str().into(),
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            event(
                "filing_upload",
                id,
                Some(serde_json::json!({"document": doc_id, "doc_type": doc_type, "sha256": file.sha256, "size": file.size})),
            ),
        )?;
        Ok(())
    })?;
    document(conn, scope, id, &doc_id, today)
}

/// One live document of a filing in the scope (for download).
pub fn document(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    doc_id: &str,
    today: NaiveDate,
) -> Result<Document> {
    read_perm(scope)?;
    load(conn, scope, id, today)?;
    documents_of(conn, id)?
        .into_iter()
        .find(|d| d.id == doc_id)
        .ok_or_else(|| StoreError::NotFound {
            what: "filing document",
            id: doc_id.to_string(),
        })
}

/// Removes a document from an editable filing (the row stays, marked).
pub fn remove_document(
    conn: &mut Conn,
    scope: &Scope,
    id: &str,
    doc_id: &str,
    today: NaiveDate,
) -> Result<()> {
    conn.transaction(|c| {
        editable(c, scope, id, today)?;
        let n = c.execute(
            "UPDATE filing_document SET removed_by = $1, removed_at = $2 \
             WHERE id = $3 AND filing_id = $4 AND removed_at IS NULL",
            &[
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
                doc_id.into(),
                id.into(),
            ],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "filing document",
                id: doc_id.to_string(),
            });
        }
        audit::append(
            c,
            scope,
            event(
                "filing_remove_document",
                id,
                Some(serde_json::json!({"document": doc_id})),
            ),
        )?;
        Ok(())
    })
}

/// Moves the filing from `from` to `to` with extra assignments, or a
/// conflict when someone else moved it first.
fn step(
    c: &mut Conn,
    id: &str,
    from: Status,
    to: Status,
    sets: &str,
    mut p: Vec<Value>,
) -> Result<()> {
    p.push(to.code().into());
    let to_i = p.len();
    p.push(id.into());
    let id_i = p.len();
    p.push(from.code().into());
    let from_i = p.len();
    let sets = if sets.is_empty() {
        String::new()
    } else {
        format!(", {sets}")
    };
    let n = c.execute(
        &format!("UPDATE childcare_filing SET status = ${to_i}{sets} WHERE id = ${id_i} AND status = ${from_i}"),
        &p,
    )?;
    if n == 0 {
        return Err(StoreError::Conflict(
            "someone else acted on this filing first; reload it".into(),
        ));
    }
    Ok(())
}

/// Sets the institution's filing fields in the register (a facility update,
/// audited as such, as the system acting for the step's user).
fn set_facility(
    c: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    facility_id: &str,
    status: FilingStatus,
    date: Option<Option<NaiveDate>>,
    places: Option<i64>,
) -> Result<()> {
    let sys = Scope::system_as(scope.actor.clone());
    let mut fac = facilities::get(c, &sys, facility_id)?;
    if fac.filing_status == status && date.is_none() && places.is_none() {
        return Ok(());
    }
    fac.filing_status = status;
    if let Some(d) = date {
        fac.filing_date = d;
    }
    if let Some(n) = places {
        fac.approved_slots = Some(n);
    }
    facilities::update_in(c, reference, &sys, &fac)?;
    Ok(())
}

/// Submits a filing for review: the form must pass its rules and every
/// required document be there. The review deadline is set (art. 9); an
/// initial filing marks the institution 备案中.
pub fn submit(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    today: NaiveDate,
) -> Result<Detail> {
    conn.transaction(|c| {
        let f = editable(c, scope, id, today)?;
        let rules = book()?.on(today).clone();
        let cancel = f.kind == FilingKind::Cancellation;
        let mut errs: Vec<laoxiao_model::FieldError> = f
            .form
            .check(&rules, today, cancel)
            .into_iter()
            .map(|e| laoxiao_model::FieldError::new(e.field, e.reason))
            .collect();
        if !cancel {
            let docs = documents_of(c, id)?;
            let present: Vec<&str> = docs.iter().map(|d| d.doc_type.as_str()).collect();
            for d in rules.missing(&present, f.form.serves_meals) {
                errs.push(laoxiao_model::FieldError::new(
                    "documents",
                    format!("缺少 missing: {}（{}）", d.zh, d.clause),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let deadline = rules.review_deadline(today);
        step(
            c,
            id,
            f.status,
            Status::Submitted,
            "submitted_by = $1, submitted_at = $2, submitted_date = $3, review_deadline = $4, \
             correction_deadline = NULL, rounds = rounds + 1",
            vec![
                scope.actor.user.as_str().into(),
                now_rfc3339().into(),
                today.into(),
                deadline.into(),
            ],
        )?;
        if f.kind == FilingKind::Initial {
            set_facility(
                c,
                reference,
                scope,
                &f.facility_id,
                FilingStatus::Pending,
                None,
                None,
            )?;
        }
        audit::append(
            c,
            scope,
            event(
                "filing_submit",
                id,
                Some(serde_json::json!({"review_deadline": deadline})),
            ),
        )?;
        Ok(())
    })?;
    get(conn, scope, id, today)
}

/// The county's decision on a submitted filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// 予以备案: the institution is filed (a change: stays filed with the new
    /// places; a cancellation: no longer filed).
    Accept,
    /// 补正: the institution corrects and submits again by the deadline.
    RequestCorrections,
    /// 不予备案.
    Reject,
}

impl Decision {
    pub fn code(self) -> &'static str {
        match self {
            Decision::Accept => "accept",
            Decision::RequestCorrections => "request_corrections",
            Decision::Reject => "reject",
        }
    }
}

/// Records the county's decision. A note is required to ask for corrections
/// or to reject (the institution must know why).
pub fn review(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    decision: Decision,
    note: Option<&str>,
    today: NaiveDate,
) -> Result<Detail> {
    scope.require(Perm::ReviewFilings)?;
    let note = crate::text::optional("note", note, MAX_NOTE)?;
    if decision != Decision::Accept && note.is_none() {
        return Err(invalid(
            "note",
            "say what must be corrected, or why the filing is refused",
        ));
    }
    conn.transaction(|c| {
        let f = load(c, scope, id, today)?;
        if scope.facility().is_some() {
            return Err(StoreError::Forbidden("an institution cannot review filings".into()));
        }
        if f.created_by == scope.actor.user {
            return Err(StoreError::Forbidden(
                "the account that drafted a filing cannot review it".into(),
            ));
        }
        if f.status != Status::Submitted {
            return Err(StoreError::Conflict(format!(
                "the filing is {} ({}), not waiting for review",
                f.status.code(),
                f.status.zh()
            )));
        }
        let who = scope.actor.user.as_str();
        match decision {
            Decision::Accept => {
                step(
                    c,
                    id,
                    Status::Submitted,
                    Status::Accepted,
                    "reviewed_by = $1, reviewed_date = $2, review_note = $3, closed_date = $2",
                    vec![who.into(), today.into(), note.clone().into()],
                )?;
                match f.kind {
                    FilingKind::Initial => set_facility(
                        c,
                        reference,
                        scope,
                        &f.facility_id,
                        FilingStatus::Filed,
                        Some(Some(today)),
                        Some(f.form.places),
                    )?,
                    FilingKind::Change => set_facility(
                        c,
                        reference,
                        scope,
                        &f.facility_id,
                        FilingStatus::Filed,
                        None,
                        Some(f.form.places),
                    )?,
                    FilingKind::Cancellation => set_facility(
                        c,
                        reference,
                        scope,
                        &f.facility_id,
                        FilingStatus::Unfiled,
                        Some(None),
                        None,
                    )?,
                }
            }
            Decision::RequestCorrections => {
                let rules = book()?.on(today).clone();
                step(
                    c,
                    id,
                    Status::Submitted,
                    Status::CorrectionsRequested,
                    "reviewed_by = $1, reviewed_date = $2, review_note = $3, correction_deadline = $4",
                    vec![
                        who.into(),
                        today.into(),
                        note.clone().into(),
                        rules.correction_deadline(today).into(),
                    ],
                )?;
            }
            Decision::Reject => {
                step(
                    c,
                    id,
                    Status::Submitted,
                    Status::Rejected,
                    "reviewed_by = $1, reviewed_date = $2, review_note = $3, closed_date = $2",
                    vec![who.into(), today.into(), note.clone().into()],
                )?;
                if f.kind == FilingKind::Initial {
                    set_facility(c, reference, scope, &f.facility_id, FilingStatus::Unfiled, None, None)?;
                }
            }
        }
        audit::append(
            c,
            scope,
            event(
                &format!("filing_{}", decision.code()),
                id,
                Some(serde_json::json!({"kind": f.kind.code()})),
            ),
        )?;
        Ok(())
    })?;
    get(conn, scope, id, today)
}

/// The institution withdraws an open filing (an initial one that was
/// submitted puts the institution back to 未备案).
pub fn withdraw(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    id: &str,
    today: NaiveDate,
) -> Result<Detail> {
    scope.require(Perm::FileChildcare)?;
    conn.transaction(|c| {
        let f = load(c, scope, id, today)?;
        if !f.status.is_open() {
            return Err(StoreError::Conflict(format!(
                "the filing is {} ({}) and can no longer be withdrawn",
                f.status.code(),
                f.status.zh()
            )));
        }
        step(
            c,
            id,
            f.status,
            Status::Withdrawn,
            "closed_date = $1",
            vec![today.into()],
        )?;
        if f.kind == FilingKind::Initial && f.status != Status::Draft {
            set_facility(
                c,
                reference,
                scope,
                &f.facility_id,
                FilingStatus::Unfiled,
                None,
                None,
            )?;
        }
        audit::append(c, scope, event("filing_withdraw", id, None))?;
        Ok(())
    })?;
    get(conn, scope, id, today)
}

/// The scope's filing worklist. The county (reviewers): filings waiting for
/// review, urgent when past the deadline. The institution (filers): requests
/// for corrections to answer (urgent past their deadline) and drafts not yet
/// submitted.
pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>> {
    let reviewer = scope.can(Perm::ReviewFilings) && scope.facility().is_none();
    let filer = scope.can(Perm::FileChildcare);
    if !reviewer && !filer {
        return Ok(Vec::new());
    }
    let mut w = String::from("g.status IN ('draft', 'submitted', 'corrections_requested')");
    let mut p: Vec<Value> = Vec::new();
    push_visible(scope, &mut w, &mut p);
    let rows = conn.query(
        &format!(
            "SELECT g.status, g.review_deadline, g.correction_deadline FROM childcare_filing g WHERE {w}"
        ),
        &p,
    )?;
    let (mut review, mut review_late, mut fix, mut fix_late, mut drafts) = (0, 0, 0, 0, 0);
    for r in &rows {
        let late = |col: &str| -> Result<bool> {
            Ok(r.get::<Option<NaiveDate>>(col)?.is_some_and(|d| d < today))
        };
        match r.get::<String>("status")?.as_str() {
            "submitted" if late("review_deadline")? => review_late += 1,
            "submitted" => review += 1,
            "corrections_requested" if late("correction_deadline")? => fix_late += 1,
            "corrections_requested" => fix += 1,
            _ => drafts += 1,
        }
    }
    let list = "/console/childcare/filings";
    let mut items = Vec::new();
    if reviewer {
        items.push(
            WorkItem::new(
                "filings_review_overdue",
                "托育机构备案已超审核期限",
                "Childcare filings past their review deadline",
                review_late,
                &format!("{list}?status=submitted&overdue=1"),
            )
            .urgent(),
        );
        items.push(WorkItem::new(
            "filings_to_review",
            "托育机构备案待审核",
            "Childcare filings waiting for review",
            review,
            &format!("{list}?status=submitted"),
        ));
    }
    if filer {
        items.push(
            WorkItem::new(
                "filings_corrections_overdue",
                "备案补正已超期限",
                "Filing corrections past their deadline",
                fix_late,
                &format!("{list}?status=corrections_requested"),
            )
            .urgent(),
        );
        items.push(WorkItem::new(
            "filings_corrections",
            "备案待补正",
            "Filings waiting for your corrections",
            fix,
            &format!("{list}?status=corrections_requested"),
        ));
        items.push(WorkItem::new(
            "filings_drafts",
            "备案草稿未提交",
            "Filing drafts not yet submitted",
            drafts,
            &format!("{list}?status=draft"),
        ));
    }
    Ok(items)
}
