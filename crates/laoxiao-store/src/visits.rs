//! Visiting rounds (探访关爱) and home-care beds (家庭养老床位), plan clause
//! 三（二） and indicators 8 and 7.
//!
//! **Rounds.** Each month every elderly person due a visit by the rules of
//! `data/policy/visits.toml` (any special difficulty, living at home: no
//! care-home stay on the month's first day) gets one visit task (探访任务) in
//! their area, with a visitor: a village staff account of that village,
//! round-robin by person id; unassigned when the village has none.
//! Generation is one `INSERT … SELECT` on both databases and idempotent (a
//! person has at most one task a month; running it again adds only people who
//! became due since).
//!
//! **Visits.** Recording a visit in person or by phone closes the task and
//! writes a `service_record` of kind `visit` (what indicator 8 reads) in the
//! same transaction as the task and the audit entry. Not reached: the task
//! stays open and counts the attempt. A visit may ask for a follow-up (跟进):
//! a task for the town, open until town staff close it with a note.
//!
//! **Home-care beds.** The contract is a register
//! ([`laoxiao_model::HomeCareContract`]); service visits (上门服务) against a
//! contract each write a `service_record` of kind `home_care_bed` (indicator 7
//! reads it). Monthly completion is delivered minutes ÷ planned hours.

use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_model::activity::{ServiceKind, ServiceRecord};
use laoxiao_model::person::mask_name;
use laoxiao_model::visit::{VisitConcern, VisitOutcome};
use laoxiao_rules::visits::{MonthRules, month_end};
use serde::Serialize;

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Role, Scope};
use crate::worklist::WorkItem;
use crate::{activity, audit, now_rfc3339};

/// Longest note or follow-up text, in characters.
pub const MAX_TEXT: usize = 500;
/// Longest service visit, in minutes (a working day and a half).
pub const MAX_MINUTES: i64 = 720;
/// Most rows one list answers.
pub const MAX_LIMIT: i64 = 500;

fn invalid(field: &str, why: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, why)])
}

/// A month as `YYYY-MM`.
pub fn month_key(first: NaiveDate) -> String {
    first.format("%Y-%m").to_string()
}

/// What one generation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// `YYYY-MM`
    pub month: String,
    /// Tasks created now (0 when the month's rounds exist already).
    pub created: i64,
    /// Of them, tasks without a visitor (no village staff account).
    pub unassigned: i64,
    /// Open tasks closed now because a `visit` service record of the month
    /// exists already (entered on the register or imported from paper).
    pub matched: i64,
    /// All tasks of the month in the scope, after generating.
    pub total: i64,
}

/// The people-due condition of the month's rules on `person p` (` AND (…)`).
fn due_condition(rules: &MonthRules, p: &mut Vec<Value>) -> String {
    let mut any = Vec::new();
    for c in &rules.special_difficulty {
        p.push(format!("%;{};%", c.code()).into());
        any.push(format!("p.special_difficulty LIKE ${}", p.len()));
    }
    for a in &rules.living_arrangement {
        p.push(a.code().into());
        any.push(format!("p.living_arrangement = ${}", p.len()));
    }
    if any.is_empty() {
        " AND 1 = 0".to_string()
    } else {
        format!(" AND ({})", any.join(" OR "))
    }
}

/// Generates the month's visit tasks for the people due in the scope (the
/// whole city for the system or a city account). Idempotent. One statement
/// and one audit entry in one transaction.
pub fn generate_rounds(conn: &mut Conn, scope: &Scope, rules: &MonthRules) -> Result<Generated> {
    scope.require(Perm::ManageVisits)?;
    if scope.facility().is_some() {
        return Err(StoreError::Forbidden("operators do not run rounds".into()));
    }
    let month = month_key(rules.month);
    let first = rules.month.to_string();
    let now = now_rfc3339();
    conn.transaction(|c| {
        let mut p: Vec<Value> = vec![
            month.as_str().into(),
            rules.due_date.to_string().into(),
            now.as_str().into(),
            first.as_str().into(),
        ];
        let mut w = String::new();
        scope.push_sql(&mut w, &mut p, "p.area_path", None);
        w.push_str(&due_condition(rules, &mut p));
        // Round-robin: the n-th person of a village (by id) goes to its
        // ((n - 1) mod k + 1)-th staff account (by username).
        let sql = format!(
            "INSERT INTO visit_task (id, month, person_id, area_code, area_path, visitor, due_date, \
             status, attempts, created_at, updated_at) \
             SELECT 'VT-' || $1 || '-' || d.id, $1, d.id, d.residence_area_code, d.area_path, \
                    s.username, $2, 'open', 0, $3, $3 \
             FROM (SELECT p.id, p.residence_area_code, p.area_path, \
                          ROW_NUMBER() OVER (PARTITION BY p.residence_area_code ORDER BY p.id) AS rn \
                   FROM person p \
                   WHERE p.role = 'elderly' AND p.deleted_at IS NULL AND p.status = 'active'{w} \
                     AND NOT EXISTS (SELECT 1 FROM residence r WHERE r.person_id = p.id \
                         AND r.deleted_at IS NULL AND r.admitted_date <= $4 \
                         AND (r.discharged_date IS NULL OR r.discharged_date > $4)) \
                     AND NOT EXISTS (SELECT 1 FROM visit_task t WHERE t.month = $1 AND t.person_id = p.id) \
                  ) d \
             LEFT JOIN (SELECT u.username, u.area_code, \
                          ROW_NUMBER() OVER (PARTITION BY u.area_code ORDER BY u.username) AS srn, \
                          COUNT(*) OVER (PARTITION BY u.area_code) AS scount \
                        FROM users u WHERE u.role = 'village_staff' AND NOT u.disabled) s \
               ON s.area_code = d.residence_area_code AND s.srn = ((d.rn - 1) % s.scount) + 1 \
             WHERE 1 = 1 ON CONFLICT (id) DO NOTHING"
        );
        // `ON CONFLICT … DO NOTHING`: two requests generating the same month at
        // once both succeed, the second adding nothing (SQLite needs the
        // `WHERE` to read the upsert after a join).
        // Tasks without a visitor, counted before and after: the new ones.
        let unassigned_now = |c: &mut Conn| -> Result<i64> {
            let mut p2: Vec<Value> = vec![month.as_str().into()];
            let mut w2 = String::new();
            scope.push_sql(&mut w2, &mut p2, "area_path", None);
            c.query_i64(
                &format!(
                    "SELECT COUNT(*) FROM visit_task WHERE month = $1 AND visitor IS NULL{w2}"
                ),
                &p2,
            )
        };
        let unassigned_before = unassigned_now(c)?;
        let created = i64::try_from(c.execute(&sql, &p)?).unwrap_or(i64::MAX);
        let unassigned = unassigned_now(c)? - unassigned_before;
        // Visits recorded otherwise (the register, a paper import) close
        // their tasks, so the rounds and indicator 8 agree.
        let last = month_end(rules.month).to_string();
        let mut p4: Vec<Value> = vec![
            month.as_str().into(),
            first.as_str().into(),
            last.into(),
            now.as_str().into(),
        ];
        let mut w4 = String::new();
        scope.push_sql(&mut w4, &mut p4, "area_path", None);
        // `kind || ''` keeps SQLite on the (person_id, date) index: without
        // statistics it takes (kind, date) and reads the month's visits once
        // per task (minutes for a city; PostgreSQL plans it either way).
        let visit = "FROM service_record s WHERE s.person_id = visit_task.person_id \
            AND s.kind || '' = 'visit' AND s.deleted_at IS NULL AND s.date >= $2 AND s.date <= $3";
        let matched = c.execute(
            &format!(
                "UPDATE visit_task SET status = 'visited', \
                 visited_date = (SELECT MIN(s.date) {visit}), \
                 service_record_id = (SELECT MIN(s.id) {visit}), updated_at = $4 \
                 WHERE month = $1 AND status = 'open'{w4} AND EXISTS (SELECT 1 {visit})"
            ),
            &p4,
        )?;
        let matched = i64::try_from(matched).unwrap_or(i64::MAX);
        let mut p3: Vec<Value> = vec![month.as_str().into()];
        let mut w3 = String::new();
        scope.push_sql(&mut w3, &mut p3, "area_path", None);
        let total = c.query_i64(
            &format!("SELECT COUNT(*) FROM visit_task WHERE month = $1{w3}"),
            &p3,
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "visit_rounds_generate",
                entity: "visit_task",
                entity_id: Some(&month),
                before: None,
                after: Some(
                    serde_json::json!({"created": created, "unassigned": unassigned, "matched": matched})
                        .to_string(),
                ),
            },
        )?;
        Ok(Generated {
            month: month.clone(),
            created,
            unassigned,
            matched,
            total,
        })
    })
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not visited yet (maybe tried: see `attempts`).
    Open,
    /// Visited in person or by phone.
    Visited,
}

/// A visit task as a visitor or the area's staff see it. The name is masked
/// (the person's record, its reads audited, has the full one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    pub id: String,
    pub month: String,
    pub person_id: String,
    pub person_name_masked: String,
    pub area_code: String,
    pub visitor: Option<String>,
    pub due_date: NaiveDate,
    pub status: TaskStatus,
    pub attempts: i64,
    pub outcome: Option<VisitOutcome>,
    pub last_attempt_date: Option<NaiveDate>,
    pub visited_date: Option<NaiveDate>,
    pub concerns: Vec<VisitConcern>,
    /// Past its due day and still open on the day asked about.
    pub overdue: bool,
}

const TASK_COLS: &str = "t.id, t.month, t.person_id, p.name, t.area_code, t.visitor, t.due_date, \
    t.status, t.attempts, t.outcome, t.last_attempt_date, t.visited_date, t.concerns";

fn concerns_of(s: Option<String>) -> Vec<VisitConcern> {
    s.unwrap_or_default()
        .split(';')
        .filter_map(VisitConcern::parse)
        .collect()
}

fn task_of(r: &Row, today: NaiveDate) -> Result<Task> {
    let status = match r.get::<String>("status")?.as_str() {
        "visited" => TaskStatus::Visited,
        _ => TaskStatus::Open,
    };
    let due: NaiveDate = r.get("due_date")?;
    Ok(Task {
        id: r.get("id")?,
        month: r.get("month")?,
        person_id: r.get("person_id")?,
        person_name_masked: mask_name(&r.get::<String>("name")?),
        area_code: r.get("area_code")?,
        visitor: r.get("visitor")?,
        due_date: due,
        status,
        attempts: r.get("attempts")?,
        outcome: r
            .get::<Option<String>>("outcome")?
            .and_then(|o| VisitOutcome::parse(&o)),
        last_attempt_date: r.get("last_attempt_date")?,
        visited_date: r.get("visited_date")?,
        concerns: concerns_of(r.get("concerns")?),
        overdue: status == TaskStatus::Open && today > due,
    })
}

/// Which tasks to list.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// `YYYY-MM`; `None`: every month.
    pub month: Option<String>,
    /// An area code (village or town) within the scope.
    pub area_path: Option<String>,
    /// Only this visitor's tasks.
    pub visitor: Option<String>,
    /// Only open tasks.
    pub open_only: bool,
    /// Only open tasks past their due day on `today`.
    pub overdue_only: bool,
    pub limit: i64,
    pub offset: i64,
}

fn read_scope(scope: &Scope) -> Result<()> {
    scope.require(Perm::ReadPeople)?;
    if scope.facility().is_some() {
        return Err(StoreError::Forbidden(
            "visiting rounds are kept by village and town staff".into(),
        ));
    }
    Ok(())
}

/// The tasks the scope sees, by due day then area then id.
pub fn list_tasks(
    conn: &mut Conn,
    scope: &Scope,
    q: &TaskQuery,
    today: NaiveDate,
) -> Result<Vec<Task>> {
    read_scope(scope)?;
    let mut p = Vec::new();
    let mut w = String::new();
    scope.push_sql(&mut w, &mut p, "t.area_path", None);
    if let Some(m) = &q.month {
        p.push(m.as_str().into());
        w.push_str(&format!(" AND t.month = ${}", p.len()));
    }
    if let Some(a) = &q.area_path {
        p.push(a.as_str().into());
        w.push_str(&format!(" AND t.area_path >= ${}", p.len()));
        p.push(crate::path_upper(a).into());
        w.push_str(&format!(" AND t.area_path < ${}", p.len()));
    }
    if let Some(v) = &q.visitor {
        p.push(v.as_str().into());
        w.push_str(&format!(" AND t.visitor = ${}", p.len()));
    }
    if q.open_only || q.overdue_only {
        w.push_str(" AND t.status = 'open'");
    }
    if q.overdue_only {
        p.push(today.to_string().into());
        w.push_str(&format!(" AND t.due_date < ${}", p.len()));
    }
    p.push(q.limit.clamp(1, MAX_LIMIT).into());
    let lim = p.len();
    p.push(q.offset.max(0).into());
    let off = p.len();
    let rows = conn.query(
        &format!(
            "SELECT {TASK_COLS} FROM visit_task t JOIN person p ON p.id = t.person_id \
             WHERE 1 = 1{w} ORDER BY t.due_date, t.area_code, t.id LIMIT ${lim} OFFSET ${off}"
        ),
        &p,
    )?;
    rows.iter().map(|r| task_of(r, today)).collect()
}

fn task_row(conn: &mut Conn, scope: &Scope, id: &str) -> Result<Row> {
    let mut p: Vec<Value> = vec![id.into()];
    let mut w = String::new();
    scope.push_sql(&mut w, &mut p, "t.area_path", None);
    conn.query_opt(
        &format!(
            "SELECT {TASK_COLS}, t.area_path FROM visit_task t JOIN person p ON p.id = t.person_id \
             WHERE t.id = $1{w}"
        ),
        &p,
    )?
    .ok_or_else(|| StoreError::NotFound {
        what: "visit task",
        id: id.to_string(),
    })
}

/// One task in the scope (404 outside it).
pub fn get_task(conn: &mut Conn, scope: &Scope, id: &str, today: NaiveDate) -> Result<Task> {
    read_scope(scope)?;
    task_of(&task_row(conn, scope, id)?, today)
}

/// What a visitor recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitInput {
    pub outcome: VisitOutcome,
    pub date: NaiveDate,
    pub concerns: Vec<VisitConcern>,
    pub note: Option<String>,
    /// A follow-up for the town (what is needed); `None`: none needed.
    pub follow_up: Option<String>,
}

/// Records a visit or an attempt on an open task in the scope. Reached (in
/// person or by phone): the task is done and a `visit` service record is
/// written; not reached: the task stays open, its attempts counted. A
/// follow-up asked for becomes an open follow-up for the town. One
/// transaction with the audit entry.
pub fn record_visit(
    conn: &mut Conn,
    scope: &Scope,
    task_id: &str,
    input: &VisitInput,
    today: NaiveDate,
) -> Result<Task> {
    read_scope(scope)?;
    scope.require(Perm::WritePeople)?;
    let note = crate::text::optional("note", input.note.as_deref(), MAX_TEXT)?;
    let follow_up = crate::text::optional("follow_up", input.follow_up.as_deref(), MAX_TEXT)?;
    conn.transaction(|c| {
        let row = task_row(c, scope, task_id)?;
        let task = task_of(&row, today)?;
        if task.status == TaskStatus::Visited {
            return Err(StoreError::Conflict(
                "this visit is recorded already".into(),
            ));
        }
        let first = NaiveDate::parse_from_str(&format!("{}-01", task.month), "%Y-%m-%d")
            .map_err(|_| StoreError::Database("visit_task.month: not a month".into()))?;
        if input.date > today {
            return Err(invalid("date", "must not be in the future"));
        }
        if input.date < first {
            return Err(invalid("date", "before the month of the round"));
        }
        let mut concerns: Vec<&str> = input.concerns.iter().map(|c| c.code()).collect();
        concerns.sort_unstable();
        concerns.dedup();
        let concerns = if concerns.is_empty() {
            None
        } else {
            Some(format!(";{};", concerns.join(";")))
        };
        let now = now_rfc3339();
        let date = input.date.to_string();
        let mut record_id = None;
        if input.outcome.reached() {
            let rec = ServiceRecord {
                id: format!("SV-{}", task.id),
                person_id: task.person_id.clone(),
                kind: ServiceKind::Visit,
                date: input.date,
                facility_id: None,
                ability_level: None,
                note: Some(input.outcome.label_zh().to_string()),
            };
            activity::upsert(c, &rec, &now)?;
            c.execute(
                "UPDATE visit_task SET status = 'visited', attempts = attempts + 1, outcome = $1, \
                 last_attempt_date = $2, visited_date = $2, concerns = $3, note = $4, \
                 service_record_id = $5, updated_at = $6 WHERE id = $7",
                &[
                    input.outcome.code().into(),
                    date.as_str().into(),
                    concerns.clone().into(),
                    note.clone().into(),
                    rec.id.as_str().into(),
                    now.as_str().into(),
                    task.id.as_str().into(),
                ],
            )?;
            record_id = Some(rec.id);
        } else {
            c.execute(
                "UPDATE visit_task SET attempts = attempts + 1, outcome = $1, last_attempt_date = $2, \
                 concerns = $3, note = $4, updated_at = $5 WHERE id = $6",
                &[
                    input.outcome.code().into(),
                    date.as_str().into(),
                    concerns.clone().into(),
                    note.clone().into(),
                    now.as_str().into(),
                    task.id.as_str().into(),
                ],
            )?;
        }
        let mut followup_id = None;
        if let Some(need) = &follow_up {
            let n = c.query_i64(
                "SELECT COUNT(*) FROM visit_followup WHERE task_id = $1",
                &[task.id.as_str().into()],
            )?;
            let id = format!("VF-{}-{}", task.id, n + 1);
            let path: String = row.get("area_path")?;
            c.execute(
                "INSERT INTO visit_followup (id, task_id, person_id, area_path, need, status, \
                 created_by, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)",
                &[
                    id.as_str().into(),
                    task.id.as_str().into(),
                    task.person_id.as_str().into(),
                    path.into(),
                    need.as_str().into(),
                    scope.actor.user.as_str().into(),
                    now.as_str().into(),
                ],
            )?;
            followup_id = Some(id);
        }
        // The audit entry names what happened, not what the note says
        // (it may hold health details).
        audit::append(
            c,
            scope,
            audit::Event {
                action: "visit_record",
                entity: "visit_task",
                entity_id: Some(&task.id),
                before: None,
                after: Some(
                    serde_json::json!({
                        "outcome": input.outcome.code(),
                        "date": date,
                        "concerns": concerns,
                        "service_record_id": record_id,
                        "followup_id": followup_id,
                    })
                    .to_string(),
                ),
            },
        )?;
        task_of(&task_row(c, scope, task_id)?, today)
    })
}

/// The month's progress in one area (a village, or a town for people
/// registered at town level).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AreaProgress {
    pub area_code: String,
    pub due: i64,
    pub visited: i64,
    /// Open tasks with at least one attempt (not reached).
    pub attempted: i64,
    pub open: i64,
    /// Open tasks past their due day.
    pub overdue: i64,
    pub unassigned: i64,
}

/// The month's rounds per area in the scope, by area code.
pub fn progress(
    conn: &mut Conn,
    scope: &Scope,
    month: &str,
    today: NaiveDate,
) -> Result<Vec<AreaProgress>> {
    read_scope(scope)?;
    let mut p: Vec<Value> = vec![month.into(), today.to_string().into()];
    let mut w = String::new();
    scope.push_sql(&mut w, &mut p, "area_path", None);
    let rows = conn.query(
        &format!(
            "SELECT area_code, COUNT(*) AS due, \
             CAST(SUM(CASE WHEN status = 'visited' THEN 1 ELSE 0 END) AS BIGINT) AS visited, \
             CAST(SUM(CASE WHEN status = 'open' AND attempts > 0 THEN 1 ELSE 0 END) AS BIGINT) AS attempted, \
             CAST(SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS BIGINT) AS open, \
             CAST(SUM(CASE WHEN status = 'open' AND due_date < $2 THEN 1 ELSE 0 END) AS BIGINT) AS overdue, \
             CAST(SUM(CASE WHEN visitor IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unassigned \
             FROM visit_task WHERE month = $1{w} GROUP BY area_code ORDER BY area_code"
        ),
        &p,
    )?;
    rows.iter()
        .map(|r| {
            Ok(AreaProgress {
                area_code: r.get("area_code")?,
                due: r.get("due")?,
                visited: r.get("visited")?,
                attempted: r.get("attempted")?,
                open: r.get("open")?,
                overdue: r.get("overdue")?,
                unassigned: r.get("unassigned")?,
            })
        })
        .collect()
}

/// A follow-up (跟进事项) for the town.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUp {
    pub id: String,
    pub task_id: String,
    pub person_id: String,
    pub person_name_masked: String,
    pub need: String,
    pub open: bool,
    pub created_by: String,
    pub created_at: String,
    pub done_by: Option<String>,
    pub done_at: Option<String>,
    pub done_note: Option<String>,
}

const FOLLOWUP_COLS: &str = "f.id, f.task_id, f.person_id, p.name, f.need, f.status, f.created_by, \
    f.created_at, f.done_by, f.done_at, f.done_note";

fn followup_of(r: &Row) -> Result<FollowUp> {
    Ok(FollowUp {
        id: r.get("id")?,
        task_id: r.get("task_id")?,
        person_id: r.get("person_id")?,
        person_name_masked: mask_name(&r.get::<String>("name")?),
        need: r.get("need")?,
        open: r.get::<String>("status")? == "open",
        created_by: r.get("created_by")?,
        created_at: r.get("created_at")?,
        done_by: r.get("done_by")?,
        done_at: r.get("done_at")?,
        done_note: r.get("done_note")?,
    })
}

/// The follow-ups in the scope, open ones only when asked, oldest first.
pub fn list_followups(
    conn: &mut Conn,
    scope: &Scope,
    open_only: bool,
    limit: i64,
) -> Result<Vec<FollowUp>> {
    read_scope(scope)?;
    let mut p = Vec::new();
    let mut w = String::new();
    scope.push_sql(&mut w, &mut p, "f.area_path", None);
    if open_only {
        w.push_str(" AND f.status = 'open'");
    }
    p.push(limit.clamp(1, MAX_LIMIT).into());
    let rows = conn.query(
        &format!(
            "SELECT {FOLLOWUP_COLS} FROM visit_followup f JOIN person p ON p.id = f.person_id \
             WHERE 1 = 1{w} ORDER BY f.created_at, f.id LIMIT ${}",
            p.len()
        ),
        &p,
    )?;
    rows.iter().map(followup_of).collect()
}

/// Closes an open follow-up in the scope with a note (town staff and above).
/// One transaction with the audit entry.
pub fn close_followup(conn: &mut Conn, scope: &Scope, id: &str, note: &str) -> Result<FollowUp> {
    read_scope(scope)?;
    scope.require(Perm::ManageVisits)?;
    let note = crate::text::required("note", note, MAX_TEXT, "say what was done")?;
    conn.transaction(|c| {
        let mut p: Vec<Value> = vec![id.into()];
        let mut w = String::new();
        scope.push_sql(&mut w, &mut p, "f.area_path", None);
        let row = c
            .query_opt(
                &format!(
                    "SELECT {FOLLOWUP_COLS} FROM visit_followup f JOIN person p ON p.id = f.person_id \
                     WHERE f.id = $1{w}"
                ),
                &p,
            )?
            .ok_or_else(|| StoreError::NotFound {
                what: "follow-up",
                id: id.to_string(),
            })?;
        if !followup_of(&row)?.open {
            return Err(StoreError::Conflict("this follow-up is done already".into()));
        }
        let now = now_rfc3339();
        c.execute(
            "UPDATE visit_followup SET status = 'done', done_by = $1, done_at = $2, done_note = $3 \
             WHERE id = $4 AND status = 'open'",
            &[
                scope.actor.user.as_str().into(),
                now.as_str().into(),
                note.as_str().into(),
                id.into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "visit_followup_close",
                entity: "visit_followup",
                entity_id: Some(id),
                before: None,
                after: Some(serde_json::json!({"status": "done"}).to_string()),
            },
        )?;
        let row = c
            .query_opt(
                &format!(
                    "SELECT {FOLLOWUP_COLS} FROM visit_followup f JOIN person p ON p.id = f.person_id \
                     WHERE f.id = $1"
                ),
                &[id.into()],
            )?
            .ok_or_else(|| StoreError::Database("follow-up vanished".into()))?;
        followup_of(&row)
    })
}

// ---------------------------------------------------------------------------
// Home-care beds (家庭养老床位)

/// A contract as service-visit recording needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractRef {
    pub id: String,
    pub person_id: String,
    pub facility_id: String,
    pub hours_per_month: i64,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
}

/// The scope's conditions on a contract `k` joined with its person `p`:
/// area staff by the person's area, an operator by the provider.
fn contract_scope(scope: &Scope, w: &mut String, p: &mut Vec<Value>) {
    if let Some(f) = scope.facility() {
        p.push(f.into());
        w.push_str(&format!(" AND k.facility_id = ${}", p.len()));
    } else {
        scope.push_sql(w, p, "p.area_path", None);
    }
}

fn contract_read(scope: &Scope) -> Result<()> {
    if scope.role() == Some(Role::FacilityOperator) || scope.can(Perm::ReadPeople) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(format!(
            "the role {} may not see home-care beds",
            scope.role_code()
        )))
    }
}

fn contract_write(scope: &Scope) -> Result<()> {
    if scope.role() == Some(Role::FacilityOperator) || scope.can(Perm::WritePeople) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(format!(
            "the role {} may not record home-care services",
            scope.role_code()
        )))
    }
}

fn contract_ref(conn: &mut Conn, scope: &Scope, id: &str) -> Result<ContractRef> {
    let mut p: Vec<Value> = vec![id.into()];
    let mut w = String::new();
    contract_scope(scope, &mut w, &mut p);
    let r = conn
        .query_opt(
            &format!(
                "SELECT k.id, k.person_id, k.facility_id, k.hours_per_month, k.start_date, k.end_date \
                 FROM home_care_contract k JOIN person p ON p.id = k.person_id \
                 WHERE k.id = $1 AND k.deleted_at IS NULL{w}"
            ),
            &p,
        )?
        .ok_or_else(|| StoreError::NotFound {
            what: "home-care bed contract",
            id: id.to_string(),
        })?;
    Ok(ContractRef {
        id: r.get("id")?,
        person_id: r.get("person_id")?,
        facility_id: r.get("facility_id")?,
        hours_per_month: r.get("hours_per_month")?,
        start_date: r.get("start_date")?,
        end_date: r.get("end_date")?,
    })
}

/// What a provider recorded for one service visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInput {
    pub date: NaiveDate,
    pub minutes: i64,
    /// The services done (服务内容), e.g. 助浴、康复训练.
    pub services: String,
    /// The staff member (staff register) who served, of the provider.
    pub staff_id: Option<String>,
}

/// A service visit made under a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceVisit {
    pub id: String,
    pub contract_id: String,
    pub date: NaiveDate,
    pub minutes: i64,
    pub services: String,
    pub staff_id: Option<String>,
    pub service_record_id: String,
    pub recorded_by: String,
}

fn service_visit_of(r: &Row) -> Result<ServiceVisit> {
    Ok(ServiceVisit {
        id: r.get("id")?,
        contract_id: r.get("contract_id")?,
        date: r.get("date")?,
        minutes: r.get("minutes")?,
        services: r.get("services")?,
        staff_id: r.get("staff_id")?,
        service_record_id: r.get("service_record_id")?,
        recorded_by: r.get("recorded_by")?,
    })
}

/// Records a service visit under a contract in the scope (the person's area
/// staff, or the provider's operator): validated, with a `home_care_bed`
/// service record, in one transaction with its audit entry.
pub fn record_service(
    conn: &mut Conn,
    scope: &Scope,
    contract_id: &str,
    input: &ServiceInput,
    today: NaiveDate,
) -> Result<ServiceVisit> {
    contract_write(scope)?;
    let mut errs = Vec::new();
    if !(1..=MAX_MINUTES).contains(&input.minutes) {
        errs.push(FieldError::new(
            "minutes",
            format!("from 1 to {MAX_MINUTES} minutes"),
        ));
    }
    let services = match crate::text::optional("services", Some(&input.services), MAX_TEXT) {
        Ok(Some(s)) => s,
        Ok(None) => {
            errs.push(FieldError::new("services", "say which services were done"));
            String::new()
        }
        Err(StoreError::Invalid(v)) => {
            errs.extend(v);
            String::new()
        }
        Err(e) => return Err(e),
    };
    if input.date > today {
        errs.push(FieldError::new("date", "must not be in the future"));
    }
    let staff_id = input
        .staff_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    conn.transaction(|c| {
        let k = contract_ref(c, scope, contract_id)?;
        if input.date < k.start_date || k.end_date.is_some_and(|e| input.date > e) {
            errs.push(FieldError::new("date", "outside the contract's term"));
        }
        if let Some(s) = &staff_id {
            let n = c.query_i64(
                "SELECT COUNT(*) FROM staff WHERE id = $1 AND facility_id = $2 AND deleted_at IS NULL",
                &[s.as_str().into(), k.facility_id.as_str().into()],
            )?;
            if n == 0 {
                errs.push(FieldError::new("staff_id", "not a staff member of the provider"));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(std::mem::take(&mut errs)));
        }
        let n = c.query_i64(
            "SELECT COUNT(*) FROM home_care_visit WHERE contract_id = $1",
            &[k.id.as_str().into()],
        )?;
        let id = format!("HV-{}-{}", k.id, n + 1);
        let now = now_rfc3339();
        let rec = ServiceRecord {
            id: format!("SH-{id}"),
            person_id: k.person_id.clone(),
            kind: ServiceKind::HomeCareBed,
            date: input.date,
            facility_id: Some(k.facility_id.clone()),
            ability_level: None,
            note: None,
        };
        activity::upsert(c, &rec, &now)?;
        c.execute(
            "INSERT INTO home_care_visit (id, contract_id, person_id, date, minutes, services, \
             staff_id, service_record_id, recorded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                id.as_str().into(),
                k.id.as_str().into(),
                k.person_id.as_str().into(),
                input.date.to_string().into(),
                input.minutes.into(),
                services.as_str().into(),
                staff_id.clone().into(),
                rec.id.as_str().into(),
                scope.actor.user.as_str().into(),
                now.as_str().into(),
            ],
        )?;
        audit::append(
            c,
            scope,
            audit::Event {
                action: "home_care_service",
                entity: "home_care_visit",
                entity_id: Some(&id),
                before: None,
                after: Some(
                    serde_json::json!({"contract_id": k.id, "date": input.date.to_string(),
                        "minutes": input.minutes, "service_record_id": rec.id})
                    .to_string(),
                ),
            },
        )?;
        let r = c
            .query_opt(
                "SELECT * FROM home_care_visit WHERE id = $1",
                &[id.as_str().into()],
            )?
            .ok_or_else(|| StoreError::Database("service visit vanished".into()))?;
        service_visit_of(&r)
    })
}

/// The service visits of a contract in the scope, newest first.
pub fn list_services(
    conn: &mut Conn,
    scope: &Scope,
    contract_id: &str,
) -> Result<Vec<ServiceVisit>> {
    contract_read(scope)?;
    let k = contract_ref(conn, scope, contract_id)?;
    let rows = conn.query(
        "SELECT id, contract_id, date, minutes, services, staff_id, service_record_id, recorded_by \
         FROM home_care_visit WHERE contract_id = $1 ORDER BY date DESC, id DESC LIMIT 500",
        &[k.id.as_str().into()],
    )?;
    rows.iter().map(service_visit_of).collect()
}

/// A contract's completion in one month (服务完成率).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completion {
    pub contract_id: String,
    pub person_id: String,
    pub facility_id: String,
    pub area_code: String,
    pub planned_minutes: i64,
    pub delivered_minutes: i64,
    /// delivered ÷ planned × 100, one decimal.
    pub percent: f64,
}

/// One decimal of `part / whole × 100` (0 for nothing planned).
pub fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let v = part as f64 * 1000.0 / whole as f64;
    v.round() / 10.0
}

/// Completion of every contract in the scope running during the month
/// (`first` its first day), by contract id.
pub fn completion(conn: &mut Conn, scope: &Scope, first: NaiveDate) -> Result<Vec<Completion>> {
    contract_read(scope)?;
    let last = month_end(first);
    let mut p: Vec<Value> = vec![first.to_string().into(), last.to_string().into()];
    let mut w = String::new();
    contract_scope(scope, &mut w, &mut p);
    let rows = conn.query(
        &format!(
            "SELECT k.id, k.person_id, k.facility_id, p.residence_area_code, k.hours_per_month, \
             CAST(COALESCE((SELECT SUM(v.minutes) FROM home_care_visit v WHERE v.contract_id = k.id \
                 AND v.date >= $1 AND v.date <= $2), 0) AS BIGINT) AS delivered \
             FROM home_care_contract k JOIN person p ON p.id = k.person_id \
             WHERE k.deleted_at IS NULL AND k.start_date <= $2 \
               AND (k.end_date IS NULL OR k.end_date >= $1){w} ORDER BY k.id LIMIT 10000"
        ),
        &p,
    )?;
    rows.iter()
        .map(|r| {
            let planned = r.get::<i64>("hours_per_month")? * 60;
            let delivered: i64 = r.get("delivered")?;
            Ok(Completion {
                contract_id: r.get("id")?,
                person_id: r.get("person_id")?,
                facility_id: r.get("facility_id")?,
                area_code: r.get("residence_area_code")?,
                planned_minutes: planned,
                delivered_minutes: delivered,
                percent: percent(delivered, planned),
            })
        })
        .collect()
}

/// Completion summed per area (the contracts' people's areas).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AreaCompletion {
    pub area_code: String,
    pub contracts: i64,
    pub planned_minutes: i64,
    pub delivered_minutes: i64,
    pub percent: f64,
    /// Contracts under the alert share.
    pub below_alert: i64,
}

/// Sums contract completions per area, by area code.
pub fn completion_by_area(rows: &[Completion], alert_percent: u32) -> Vec<AreaCompletion> {
    let mut by: std::collections::BTreeMap<&str, AreaCompletion> = Default::default();
    for c in rows {
        let a = by
            .entry(c.area_code.as_str())
            .or_insert_with(|| AreaCompletion {
                area_code: c.area_code.clone(),
                contracts: 0,
                planned_minutes: 0,
                delivered_minutes: 0,
                percent: 0.0,
                below_alert: 0,
            });
        a.contracts += 1;
        a.planned_minutes += c.planned_minutes;
        a.delivered_minutes += c.delivered_minutes;
        if c.percent < f64::from(alert_percent) {
            a.below_alert += 1;
        }
    }
    by.into_values()
        .map(|mut a| {
            a.percent = percent(a.delivered_minutes, a.planned_minutes);
            a
        })
        .collect()
}

/// The first day of the month before `today`'s.
fn previous_month(today: NaiveDate) -> NaiveDate {
    let first = today - chrono::Days::new(u64::from(chrono::Datelike::day(&today)) - 1);
    let prev_last = first.pred_opt().unwrap_or(first);
    prev_last - chrono::Days::new(u64::from(chrono::Datelike::day(&prev_last)) - 1)
}

/// The scope's worklist lines: this month's visits due and overdue (a
/// village visitor: their own; others: their area), follow-ups open (towns
/// and above), home-care bed contracts under the alert share last month.
pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>> {
    let rules = laoxiao_rules::visits::VisitRules::embedded()
        .map_err(|e| StoreError::Config(e.to_string()))?;
    work_items_with(conn, scope, today, rules.completion_alert(today))
}

/// [`work_items`] with the alert share given.
pub fn work_items_with(
    conn: &mut Conn,
    scope: &Scope,
    today: NaiveDate,
    alert_percent: u32,
) -> Result<Vec<WorkItem>> {
    let mut out = Vec::new();
    let month = today.format("%Y-%m").to_string();
    if read_scope(scope).is_ok() {
        let mut p: Vec<Value> = vec![month.as_str().into(), today.to_string().into()];
        let mut w = String::new();
        scope.push_sql(&mut w, &mut p, "area_path", None);
        let mine = scope.role() == Some(Role::VillageStaff);
        if mine {
            p.push(scope.actor.user.as_str().into());
            w.push_str(&format!(" AND visitor = ${}", p.len()));
        }
        let r = conn
            .query_opt(
                &format!(
                    "SELECT CAST(COALESCE(SUM(CASE WHEN due_date >= $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS due, \
                     CAST(COALESCE(SUM(CASE WHEN due_date < $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue \
                     FROM visit_task WHERE status = 'open' AND month <= $1{w}"
                ),
                &p,
            )?
            .ok_or_else(|| StoreError::Database("no count".into()))?;
        let url = if mine {
            "/console/visits/mine"
        } else {
            "/console/visits/overdue"
        };
        out.push(WorkItem::new(
            "visits_due",
            "本月待探访",
            "Visits due this month",
            r.get("due")?,
            if mine { url } else { "/console/visits" },
        ));
        out.push(
            WorkItem::new(
                "visits_overdue",
                "逾期未探访",
                "Visits overdue",
                r.get("overdue")?,
                url,
            )
            .urgent(),
        );
        if scope.can(Perm::ManageVisits) {
            let mut p = Vec::new();
            let mut w = String::new();
            scope.push_sql(&mut w, &mut p, "area_path", None);
            let n = conn.query_i64(
                &format!("SELECT COUNT(*) FROM visit_followup WHERE status = 'open'{w}"),
                &p,
            )?;
            out.push(WorkItem::new(
                "visit_followups_open",
                "探访跟进事项待办",
                "Visit follow-ups open",
                n,
                "/console/visits/followups",
            ));
        }
    }
    if contract_read(scope).is_ok() {
        let low = completion(conn, scope, previous_month(today))?
            .iter()
            .filter(|c| c.percent < f64::from(alert_percent))
            .count();
        out.push(WorkItem::new(
            "home_care_below_plan",
            "家庭养老床位上月服务未达标",
            "Home-care beds under plan last month",
            i64::try_from(low).unwrap_or(i64::MAX),
            "/console/visits/completion",
        ));
    }
    Ok(crate::worklist::order(out))
}

/// Times [`generate_rounds`] for the whole city `repeat` times, each in a
/// transaction rolled back afterwards (the database is left as it was).
/// Returns each run's seconds and the tasks it created.
pub fn bench_generate(
    conn: &mut Conn,
    rules: &MonthRules,
    repeat: usize,
) -> Result<Vec<(f64, i64)>> {
    let sys = Scope::system("bench");
    let mut out = Vec::new();
    for _ in 0..repeat.max(1) {
        let mut got = None;
        let r = conn.transaction(|c| {
            let t = std::time::Instant::now();
            let g = generate_rounds(c, &sys, rules)?;
            got = Some((t.elapsed().as_secs_f64(), g.created));
            // Roll back: the benchmark changes nothing.
            Err::<(), _>(StoreError::Conflict("bench rollback".into()))
        });
        match (r, got) {
            (Err(StoreError::Conflict(m)), Some(x)) if m == "bench rollback" => out.push(x),
            (Err(e), _) => return Err(e),
            (Ok(()), _) => {
                return Err(StoreError::Database("bench: no measurement".into()));
            }
        }
    }
    Ok(out)
}

/// The month's rounds generated for the city as the CLI's system scope.
pub fn generate_city(conn: &mut Conn, scope: &Scope, rules: &MonthRules) -> Result<Generated> {
    generate_rounds(conn, scope, rules)
}

/// What the demo added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    pub rounds: Generated,
    /// Visits recorded through the form by the demo's village account.
    pub recorded: i64,
    pub contracts: i64,
    pub service_visits: i64,
}

/// The demo's visiting rounds and home-care beds on `day`: the month's
/// rounds (visits the synthetic city recorded close their tasks), a few
/// visits recorded by the village account `visitor` (one not reached, with
/// a follow-up for the town), and home-care bed contracts for up to `max`
/// people at home with moderate or worse ability loss, served by their
/// town's home-care centre (or `operator_facility` in its town), with
/// service visits last month and this month, some under plan.
pub fn demo(
    conn: &mut Conn,
    rules: &MonthRules,
    day: NaiveDate,
    visitor: Option<&Scope>,
    operator_facility: Option<&str>,
    max: usize,
) -> Result<DemoSummary> {
    let sys = Scope::system("demo");
    let rounds = generate_rounds(conn, &sys, rules)?;
    let mut recorded = 0;
    if let Some(who) = visitor {
        let q = TaskQuery {
            month: Some(rounds.month.clone()),
            visitor: Some(who.actor.user.clone()),
            open_only: true,
            limit: 4,
            ..Default::default()
        };
        for (i, t) in list_tasks(conn, who, &q, day)?.iter().enumerate() {
            let (outcome, concerns, follow_up) = match i {
                0 => (
                    VisitOutcome::NotReached,
                    vec![],
                    Some("多次电话未接通，请镇里协调家属联系"),
                ),
                1 => (
                    VisitOutcome::InPerson,
                    vec![VisitConcern::Safety],
                    Some("燃气灶老化，建议更换"),
                ),
                _ => (VisitOutcome::InPerson, vec![], None),
            };
            let input = VisitInput {
                outcome,
                date: day.max(rules.month),
                concerns,
                note: None,
                follow_up: follow_up.map(str::to_string),
            };
            record_visit(conn, who, &t.id, &input, day)?;
            recorded += 1;
        }
    }
    // Home-care beds: people at home with ability level 2 or worse.
    let people = conn.query(
        &format!(
            "SELECT p.id, p.area_path FROM person p WHERE p.role = 'elderly' AND p.status = 'active' \
             AND p.deleted_at IS NULL AND p.ability_level >= 2 \
             AND NOT EXISTS (SELECT 1 FROM residence r WHERE r.person_id = p.id AND r.deleted_at IS NULL \
                 AND r.discharged_date IS NULL) \
             AND NOT EXISTS (SELECT 1 FROM home_care_contract k WHERE k.person_id = p.id) \
             ORDER BY p.id LIMIT {}",
            max.max(1) * 4
        ),
        &[],
    )?;
    let centres = conn.query(
        "SELECT id, area_path FROM facility WHERE kind = 'town_home_care_center' AND deleted_at IS NULL ORDER BY id",
        &[],
    )?;
    let town_of =
        |path: &str| -> String { path.split('/').take(4).collect::<Vec<_>>().join("/") + "/" };
    let mut by_town: std::collections::HashMap<String, String> = Default::default();
    for r in &centres {
        let path: String = r.get("area_path")?;
        by_town.entry(town_of(&path)).or_insert(r.get("id")?);
    }
    if let Some(f) = operator_facility {
        let row = conn.query_opt(
            "SELECT area_path, kind FROM facility WHERE id = $1 AND deleted_at IS NULL",
            &[f.into()],
        )?;
        if let Some(r) = row {
            let kind: String = r.get("kind")?;
            if kind
                .parse::<laoxiao_model::FacilityKind>()
                .is_ok_and(|k| k.is_elderly())
            {
                by_town.insert(town_of(&r.get::<String>("area_path")?), f.to_string());
            }
        }
    }
    let start = previous_month(day) - chrono::Months::new(1);
    let mut contracts = Vec::new();
    for r in &people {
        if contracts.len() >= max {
            break;
        }
        let path: String = r.get("area_path")?;
        let Some(f) = by_town.get(&town_of(&path)) else {
            continue;
        };
        let n = contracts.len();
        contracts.push(laoxiao_model::HomeCareContract {
            id: format!("HCB-DEMO-{:04}", n + 1),
            person_id: r.get("id")?,
            facility_id: f.clone(),
            service_plan: "每周上门：助浴、康复训练、健康监测".into(),
            hours_per_month: [6, 8, 10, 12][n % 4],
            devices: Some(
                ["紧急呼叫按钮", "紧急呼叫按钮、烟感报警器", "床垫离床传感器"][n % 3].into(),
            ),
            start_date: start,
            end_date: None,
        });
    }
    activity::write_many(conn, &contracts, &now_rfc3339(), |_| {})?;
    // Service visits: last month 3 visits, this month up to today; every
    // fifth contract falls short of its plan.
    let prev = previous_month(day);
    let mut service_visits = 0;
    for (n, k) in contracts.iter().enumerate() {
        let planned = k.hours_per_month * 60;
        let share = if n % 5 == 0 { 55 } else { 100 };
        let per = (planned * share / 100 / 3).clamp(1, MAX_MINUTES);
        let mut dates = vec![
            prev + chrono::Days::new(4),
            prev + chrono::Days::new(12),
            prev + chrono::Days::new(20),
        ];
        let this = rules.month + chrono::Days::new(3);
        if this <= day {
            dates.push(this);
        }
        for d in dates {
            if d > day || d < k.start_date {
                continue;
            }
            let input = ServiceInput {
                date: d,
                minutes: per,
                services: "助浴、康复训练".into(),
                staff_id: None,
            };
            record_service(conn, &sys, &k.id, &input, day)?;
            service_visits += 1;
        }
    }
    Ok(DemoSummary {
        rounds,
        recorded,
        contracts: i64::try_from(contracts.len()).unwrap_or(i64::MAX),
        service_visits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn percent_rounds_to_one_decimal() {
        // 10 h planned = 600 min; 470 min delivered = 78.33… % → 78.3.
        assert!((percent(470, 600) - 78.3).abs() < 1e-9);
        assert!((percent(600, 600) - 100.0).abs() < 1e-9);
        assert!((percent(5, 0)).abs() < 1e-9);
        // 1 of 3: 33.333… → 33.3; 2 of 3: 66.666… → 66.7.
        assert!((percent(2, 3) - 66.7).abs() < 1e-9);
    }

    #[test]
    fn previous_month_crosses_years() {
        assert_eq!(previous_month(d("2026-01-15")), d("2025-12-01"));
        assert_eq!(previous_month(d("2026-03-31")), d("2026-02-01"));
    }

    #[test]
    fn area_completion_sums_minutes_not_percents() {
        let c = |id: &str, area: &str, planned, delivered| Completion {
            contract_id: id.into(),
            person_id: "P".into(),
            facility_id: "F".into(),
            area_code: area.into(),
            planned_minutes: planned,
            delivered_minutes: delivered,
            percent: percent(delivered, planned),
        };
        // A: 600 + 1200 planned, 600 + 600 delivered = 1200/1800 = 66.7 %
        // (the mean of 100 % and 50 % would be 75 %). One under 80 %.
        let rows = [
            c("K1", "A", 600, 600),
            c("K2", "A", 1200, 600),
            c("K3", "B", 60, 0),
        ];
        let by = completion_by_area(&rows, 80);
        assert_eq!(by.len(), 2);
        assert_eq!(by[0].area_code, "A");
        assert!((by[0].percent - 66.7).abs() < 1e-9);
        assert_eq!(by[0].below_alert, 1);
        assert_eq!(by[1].below_alert, 1);
    }
}
