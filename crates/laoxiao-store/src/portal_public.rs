//! What the public portal (公众服务门户) reads and files without an account,
//! issue 17 part 3: complaints from the public (门户投诉) with their
//! proof-of-work challenges and tracking by code (投诉查询), and the public
//! results of random inspections (双随机、一公开: 结果公开 and the draws).
//!
//! Nothing here takes a scope: every read gives only public fields. A
//! facility is named by its public reference (`public_ref`), never by its
//! register id; no person, no inspector, no staff name, no complaint body
//! or contact leaves this module. `docs/complaints.md`, `docs/inspections.md`.

use chrono::{DateTime, NaiveDate, Utc};
use laoxiao_rules::inspections::draw::{Assignment, Roster, TargetKind};
use laoxiao_rules::pow::{self, Challenge};
use laoxiao_rules::subsidies::Params;
use serde::Serialize;

use crate::complaints::{self, Category, Complaint, NewComplaint, Source, Status};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::inspections::{self, Kind, RectStatus};
use crate::scope::Scope;
use crate::{Reference, path_upper, public_ref};
use laoxiao_rules::inspections::checklists::Verdict;

/// Facilities a search answers, at most.
pub const MAX_SEARCH: usize = 30;
/// Longest search text, in characters.
pub const MAX_QUERY: usize = 50;
/// Longest e-mail address, in characters.
pub const MAX_EMAIL: usize = 100;
/// The HMAC domain of challenges.
const POW_DOMAIN: &str = "portal-pow";
/// Draws the portal lists, at most.
const MAX_DRAWS: usize = 50;

fn param(name: &str, day: NaiveDate) -> Result<i64> {
    Params::embedded()
        .map_err(|e| StoreError::Reference(e.to_string()))?
        .int(name, day)
        .map(|(n, _)| n)
        .map_err(|e| StoreError::Reference(e.to_string()))
}

// ---------------------------------------------------------------- parameters

/// The portal's complaint parameters in force on a day
/// (`data/policy/complaints.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PortalParams {
    /// `complaint.portal_pow_bits`.
    pub pow_bits: u32,
    /// `complaint.portal_challenge_minutes`.
    pub challenge_minutes: i64,
    /// `complaint.portal_posts_per_minute`.
    pub posts_per_minute: u32,
}

pub fn portal_params(day: NaiveDate) -> Result<PortalParams> {
    Ok(PortalParams {
        pow_bits: u32::try_from(param("complaint.portal_pow_bits", day)?.clamp(0, 32))
            .unwrap_or(16),
        challenge_minutes: param("complaint.portal_challenge_minutes", day)?.clamp(1, 24 * 60),
        posts_per_minute: u32::try_from(
            param("complaint.portal_posts_per_minute", day)?.clamp(0, 10_000),
        )
        .unwrap_or(6),
    })
}

// ---------------------------------------------------------------- proof of work

/// A new challenge at `bits`, signed with the lookup key.
pub fn issue_challenge(reference: &Reference, bits: u32, now: DateTime<Utc>) -> Result<String> {
    let salt = crate::crypto::random_hex(8).to_ascii_lowercase();
    let issued = now.timestamp();
    let signed = Challenge::signed_part(bits, issued, &salt);
    let mac = reference.keys()?.public_ref(POW_DOMAIN, &signed);
    Ok(Challenge {
        bits,
        issued,
        salt,
        mac,
    }
    .text())
}

/// Why a proof of work was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PowRefusal {
    /// No challenge or no nonce (the page's script did not run).
    Missing,
    /// Not a challenge of ours: malformed or a wrong signature.
    Invalid,
    /// Older than `complaint.portal_challenge_minutes`, or from the future.
    Expired,
    /// Easier than the difficulty in force.
    TooEasy,
    /// The nonce does not solve it.
    Unsolved,
}

impl PowRefusal {
    pub fn code(self) -> &'static str {
        match self {
            PowRefusal::Missing => "missing",
            PowRefusal::Invalid => "invalid",
            PowRefusal::Expired => "expired",
            PowRefusal::TooEasy => "too_easy",
            PowRefusal::Unsolved => "unsolved",
        }
    }
}

/// Checks a solved challenge statelessly: our signature, not expired, at
/// least the difficulty in force, solved by `nonce`. The caller keeps the
/// used ones (a replay passes this check). `Ok(Err(_))`: refused.
pub fn check_challenge(
    reference: &Reference,
    challenge: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<std::result::Result<Challenge, PowRefusal>> {
    let (challenge, nonce) = (challenge.trim(), nonce.trim());
    if challenge.is_empty() || nonce.is_empty() {
        return Ok(Err(PowRefusal::Missing));
    }
    let Some(c) = Challenge::parse(challenge) else {
        return Ok(Err(PowRefusal::Invalid));
    };
    let want = reference.keys()?.public_ref(
        POW_DOMAIN,
        &Challenge::signed_part(c.bits, c.issued, &c.salt),
    );
    if !crate::crypto::ct_eq(&want, &c.mac) {
        return Ok(Err(PowRefusal::Invalid));
    }
    let p = portal_params(now.date_naive())?;
    let age = now.timestamp() - c.issued;
    if age < -60 || age > p.challenge_minutes * 60 {
        return Ok(Err(PowRefusal::Expired));
    }
    if c.bits < p.pow_bits {
        return Ok(Err(PowRefusal::TooEasy));
    }
    if !pow::solves(challenge, nonce, c.bits) {
        return Ok(Err(PowRefusal::Unsolved));
    }
    Ok(Ok(c))
}

// ---------------------------------------------------------------- facilities

/// A facility as the public sees it: its public reference, never its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicFacility {
    pub reference: String,
    pub name: String,
    pub kind: String,
    pub area_code: String,
    pub address: Option<String>,
}

/// Facilities of an area whose name contains `q` (operating or not, not
/// deleted), by name; at most [`MAX_SEARCH`].
pub fn search_facilities(
    conn: &mut Conn,
    reference: &Reference,
    area_path: &str,
    q: &str,
) -> Result<Vec<PublicFacility>> {
    let q: String = q.trim().chars().take(MAX_QUERY).collect();
    let rows = conn.query(
        &format!(
            "SELECT id, name, kind, area_code, address FROM facility WHERE deleted_at IS NULL \
             AND area_path >= $1 AND area_path < $2 AND name LIKE $3 ESCAPE '\\' \
             ORDER BY name, id LIMIT {MAX_SEARCH}"
        ),
        &[
            area_path.into(),
            path_upper(area_path).into(),
            crate::like_contains(&q).into(),
        ],
    )?;
    let keys = reference.keys()?;
    rows.iter()
        .map(|r| {
            let id: String = r.get("id")?;
            Ok(PublicFacility {
                reference: keys.public_ref(crate::public_ref::FACILITY, &id),
                name: r.get("name")?,
                kind: r.get("kind")?,
                area_code: r.get("area_code")?,
                address: r.get("address")?,
            })
        })
        .collect()
}

/// The facility a public reference names, with its register id (for the
/// caller to file by; never shown).
pub fn facility_by_ref(
    conn: &mut Conn,
    reference: &Reference,
    r: &str,
) -> Result<Option<(String, PublicFacility)>> {
    let Some(id) = public_ref::resolve_facility(conn, reference, r)? else {
        return Ok(None);
    };
    let row = conn.query_opt(
        "SELECT name, kind, area_code, address FROM facility WHERE id = $1 AND deleted_at IS NULL",
        &[id.as_str().into()],
    )?;
    Ok(match row {
        Some(row) => Some((
            id,
            PublicFacility {
                reference: r.to_string(),
                name: row.get("name")?,
                kind: row.get("kind")?,
                area_code: row.get("area_code")?,
                address: row.get("address")?,
            },
        )),
        None => None,
    })
}

// ---------------------------------------------------------------- filing

/// An e-mail address (a contact of a portal complaint): one `@`, a local
/// part and a domain with a dot, no spaces or control characters, at most
/// [`MAX_EMAIL`] characters; lower-cased domain.
pub fn clean_email(s: &str) -> Option<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > MAX_EMAIL {
        return None;
    }
    let (local, domain) = t.split_once('@')?;
    let ok_local = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '@' | '<' | '>' | '"' | ',' | ';'));
    let ok_domain = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    (ok_local && ok_domain).then(|| format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// A complaint from the portal: filed by the system (`portal`) about the
/// facility the public reference names, with an optional contact (a phone
/// or an e-mail address, stored encrypted). Validation errors name the
/// store's fields (`category`, `body`, `contact_phone`).
pub fn file(
    conn: &mut Conn,
    reference: &Reference,
    facility_id: &str,
    category: &str,
    body: &str,
    contact: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Complaint> {
    let sys = Scope::system("portal");
    complaints::file(
        conn,
        reference,
        &sys,
        &NewComplaint {
            person_id: None,
            facility_id: Some(facility_id.to_string()),
            category: category.to_string(),
            body: body.to_string(),
            contact_phone: contact.map(str::to_string),
            source: Some(Source::Portal),
        },
        now,
    )
}

// ---------------------------------------------------------------- tracking

/// A tracking code as typed: spaces and hyphens dropped, upper case,
/// Crockford's look-alikes read as digits (I, L → 1; O → 0). `None` when it
/// is not `TS` and 10 Crockford characters.
pub fn normalize_code(s: &str) -> Option<String> {
    let t: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{3000}'))
        .take(40)
        .collect::<String>()
        .to_ascii_uppercase();
    let rest = t.strip_prefix("TS")?;
    let rest: String = rest
        .chars()
        .map(|c| match c {
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        })
        .collect();
    (rest.len() == 10
        && rest
            .bytes()
            .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)))
    .then(|| format!("TS{rest}"))
}

/// What anyone holding a tracking code may read (投诉查询): the status and
/// its dates, the facility, the category and, for a complaint from the
/// portal or taken by phone, the answer. Never the body, the contact, the
/// person or who answered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tracked {
    pub tracking_code: String,
    pub facility_name: String,
    pub category: Category,
    pub source: Source,
    pub status: Status,
    pub filed_at: String,
    pub acknowledged_at: Option<String>,
    pub answered_at: Option<String>,
    pub closed_at: Option<String>,
    /// `facility` or `supervisor` (督办), never a name.
    pub answered_by_side: Option<complaints::Side>,
    /// Shown for portal and phone complaints; a family reads its answer in
    /// its own account (it may name the child).
    pub answer: Option<String>,
    pub answer_due: String,
    pub late: bool,
}

/// The complaint a tracking code names; `None` for every code that names
/// none (said the same whatever exists).
pub fn track(conn: &mut Conn, code: &str, now: DateTime<Utc>) -> Result<Option<Tracked>> {
    let Some(code) = normalize_code(code) else {
        return Ok(None);
    };
    let now_s = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let r = conn.query_opt(
        "SELECT c.tracking_code, f.name AS facility_name, c.category, c.source, c.status, c.filed_at, \
         c.acknowledged_at, c.answered_at, c.closed_at, c.answered_side, c.answer, c.answer_due, \
         CASE WHEN (c.escalated_at IS NOT NULL \
           OR (c.acknowledged_at IS NULL AND c.ack_due < COALESCE(c.closed_at, $2)) \
           OR (c.answered_at IS NULL AND c.answer_due < COALESCE(c.closed_at, $2)) \
           OR c.acknowledged_at > c.ack_due OR c.answered_at > c.answer_due) THEN 1 ELSE 0 END AS late \
         FROM complaint c JOIN facility f ON f.id = c.facility_id WHERE c.tracking_code = $1",
        &[code.as_str().into(), now_s.as_str().into()],
    )?;
    let Some(r) = r else {
        return Ok(None);
    };
    let source: Source = r.parse("source")?;
    let answer: Option<String> = r.get("answer")?;
    Ok(Some(Tracked {
        tracking_code: r.get("tracking_code")?,
        facility_name: r.get("facility_name")?,
        category: r.parse("category")?,
        status: r.parse("status")?,
        filed_at: r.get("filed_at")?,
        acknowledged_at: r.get("acknowledged_at")?,
        answered_at: r.get("answered_at")?,
        closed_at: r.get("closed_at")?,
        answered_by_side: r.parse_opt("answered_side")?,
        answer: answer.filter(|_| source != Source::Family),
        answer_due: r.get("answer_due")?,
        late: r.get::<i64>("late")? != 0,
        source,
    }))
}

// ---------------------------------------------------------------- inspections

/// A published inspection result as the portal shows it: the facility by
/// name and public reference (its register id dropped), no inspector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicInspection {
    pub facility_ref: String,
    pub facility_name: String,
    pub facility_kind: String,
    pub area_code: String,
    pub period: String,
    pub kind: Kind,
    pub inspected_on: String,
    pub verdict: Verdict,
    pub failed_items: Vec<String>,
    pub rectification_due: Option<String>,
    pub rectification_status: Option<RectStatus>,
    pub published_at: String,
}

/// The published results of an area (`inspections::published_results`),
/// of one plan period when given.
pub fn inspection_results(
    conn: &mut Conn,
    reference: &Reference,
    area_path: &str,
    period: Option<&str>,
) -> Result<Vec<PublicInspection>> {
    let keys = reference.keys()?;
    Ok(inspections::published_results(conn, area_path)?
        .into_iter()
        .filter(|r| period.is_none_or(|p| r.period == p))
        .map(|r| PublicInspection {
            facility_ref: keys.public_ref(crate::public_ref::FACILITY, &r.facility_id),
            facility_name: r.facility_name,
            facility_kind: r.facility_kind,
            area_code: r.area_code,
            period: r.period,
            kind: r.kind,
            inspected_on: r.inspected_on,
            verdict: r.verdict,
            failed_items: r.failed_items,
            rectification_due: r.rectification_due,
            rectification_status: r.rectification_status,
            published_at: r.published_at,
        })
        .collect())
}

/// The periods of the plans whose results are published in an area, newest
/// first.
pub fn result_periods(conn: &mut Conn, area_path: &str) -> Result<Vec<String>> {
    let rows = conn.query(
        "SELECT DISTINCT p.period FROM inspection i JOIN inspection_plan p ON p.id = i.plan_id \
         WHERE i.status = 'published' AND i.facility_path >= $1 AND i.facility_path < $2 \
         ORDER BY p.period DESC LIMIT 100",
        &[area_path.into(), path_upper(area_path).into()],
    )?;
    rows.iter().map(|r| r.get("period")).collect()
}

/// One target of a public draw.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicTarget {
    pub facility_ref: String,
    pub facility_name: String,
    /// Drawn by lottery, or added for repeated complaints (不定向).
    pub unplanned: bool,
}

/// A draw as the portal publishes it: the commitment published before the
/// draw, the seed revealed at it, the roster's digest and sizes, and the
/// targets by name. Neither the roster's register ids nor the inspectors
/// (`docs/inspections.md`, "What the portal publishes").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublicDraw {
    pub plan_title: String,
    pub area_code: String,
    pub period: String,
    pub status: String,
    pub roster_digest: String,
    pub commit: String,
    pub committed_at: String,
    /// Revealed at the draw (a draw only committed shows none).
    pub seed: Option<String>,
    pub drawn_at: Option<String>,
    pub facilities_in_roster: usize,
    pub unplanned_in_roster: usize,
    pub inspectors_in_pool: usize,
    pub facilities_to_draw: u32,
    pub inspectors_per_inspection: u32,
    pub targets: Vec<PublicTarget>,
    pub superseded_reason: Option<String>,
}

/// The draws of the plans of an area (the plan's area within it), newest
/// first; the seed only once drawn (or superseded, when it is revealed).
pub fn draws(conn: &mut Conn, reference: &Reference, area_path: &str) -> Result<Vec<PublicDraw>> {
    let rows = conn.query(
        &format!(
            "SELECT d.status, d.roster, d.roster_digest, d.commit_hash, d.seed, d.committed_at, d.drawn_at, \
             d.result, d.supersede_reason, p.title, p.area_code, p.period \
             FROM inspection_draw d JOIN inspection_plan p ON p.id = d.plan_id \
             WHERE p.area_path >= $1 AND p.area_path < $2 \
             ORDER BY d.committed_at DESC, d.id LIMIT {MAX_DRAWS}"
        ),
        &[area_path.into(), path_upper(area_path).into()],
    )?;
    let keys = reference.keys()?;
    let mut out = Vec::new();
    for r in &rows {
        let status: String = r.get("status")?;
        let roster: Roster = serde_json::from_str(&r.get::<String>("roster")?)
            .map_err(|e| StoreError::Database(format!("stored roster: {e}")))?;
        let result: Vec<Assignment> = match r.get::<Option<String>>("result")? {
            Some(s) => serde_json::from_str(&s)
                .map_err(|e| StoreError::Database(format!("stored draw result: {e}")))?,
            None => Vec::new(),
        };
        let revealed = status == "drawn" || status == "superseded";
        let mut targets = Vec::new();
        for a in &result {
            let name = conn
                .query_opt(
                    "SELECT name FROM facility WHERE id = $1",
                    &[a.facility_id.as_str().into()],
                )?
                .map(|r| r.get::<String>("name"))
                .transpose()?
                .unwrap_or_default();
            targets.push(PublicTarget {
                facility_ref: keys.public_ref(crate::public_ref::FACILITY, &a.facility_id),
                facility_name: name,
                unplanned: a.kind == TargetKind::Unplanned,
            });
        }
        out.push(PublicDraw {
            plan_title: r.get("title")?,
            area_code: r.get("area_code")?,
            period: r.get("period")?,
            roster_digest: r.get("roster_digest")?,
            commit: r.get("commit_hash")?,
            committed_at: r.get("committed_at")?,
            seed: if revealed { r.get("seed")? } else { None },
            drawn_at: r.get("drawn_at")?,
            facilities_in_roster: roster.facilities.len(),
            unplanned_in_roster: roster.unplanned.len(),
            inspectors_in_pool: roster.inspectors.len(),
            facilities_to_draw: roster.facilities_to_draw,
            inspectors_per_inspection: roster.inspectors_per_inspection,
            targets,
            superseded_reason: r.get("supersede_reason")?,
            status,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_typed() {
        assert_eq!(
            normalize_code(" ts-0123 4567 89 ").as_deref(),
            Some("TS0123456789")
        );
        assert_eq!(
            normalize_code("TSOIL3456789").as_deref(),
            Some("TS0113456789")
        );
        assert_eq!(normalize_code("TS012345678"), None, "too short");
        assert_eq!(normalize_code("TS0123456789U"), None, "too long");
        assert_eq!(normalize_code("TS012345678U"), None, "U is not Crockford");
        assert_eq!(normalize_code("XX0123456789"), None);
    }

    #[test]
    fn e_mail_addresses_are_checked() {
        assert_eq!(
            clean_email(" a.b+c@Example.COM ").as_deref(),
            Some("a.b+c@example.com")
        );
        for bad in [
            "",
            "a@b",
            "@example.com",
            "a@@example.com",
            "a b@example.com",
            "a@.example.com",
            "a@example..com",
            "<a>@example.com",
        ] {
            assert_eq!(clean_email(bad), None, "{bad}");
        }
        assert_eq!(
            clean_email(&format!("{}@example.com", "a".repeat(100))),
            None
        );
    }

    #[test]
    fn a_challenge_is_signed_expires_and_must_be_solved() {
        let reference = crate::Reference::jiaxing().expect("reference");
        if let Ok(mut k) = reference.keys.write() {
            *k = Some(std::sync::Arc::new(crate::Keys::for_tests()));
        }
        let now = DateTime::parse_from_rfc3339("2026-12-03T10:00:00Z")
            .expect("time")
            .with_timezone(&Utc);
        let bits = portal_params(now.date_naive()).expect("params").pow_bits;
        let c = issue_challenge(&reference, bits, now).expect("challenge");
        let n = pow::solve(&c, bits, 1 << 26).expect("solved");
        assert!(
            check_challenge(&reference, &c, &n, now)
                .expect("checked")
                .is_ok()
        );
        // Unsolved, missing, tampered, too old, too easy.
        let wrong = (0..1000u32)
            .map(|k| k.to_string())
            .find(|k| !pow::solves(&c, k, bits))
            .expect("a wrong nonce");
        let refused = |ch: &str, nonce: &str, at: DateTime<Utc>| {
            check_challenge(&reference, ch, nonce, at)
                .expect("checked")
                .err()
        };
        assert_eq!(refused(&c, &wrong, now), Some(PowRefusal::Unsolved));
        assert_eq!(refused(&c, "", now), Some(PowRefusal::Missing));
        assert_eq!(refused("", &n, now), Some(PowRefusal::Missing));
        let tampered = c.replacen(&format!("v1.{bits}."), "v1.31.", 1);
        assert_eq!(refused(&tampered, &n, now), Some(PowRefusal::Invalid));
        assert_eq!(refused("v1.x", &n, now), Some(PowRefusal::Invalid));
        let later = now + chrono::Duration::minutes(24 * 60 + 1);
        assert_eq!(refused(&c, &n, later), Some(PowRefusal::Expired));
        if bits > 0 {
            let easy = issue_challenge(&reference, 0, now).expect("challenge");
            assert_eq!(refused(&easy, "0", now), Some(PowRefusal::TooEasy));
        }
    }
}
