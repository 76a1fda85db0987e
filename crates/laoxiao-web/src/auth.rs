//! Authentication and the route policy.
//!
//! One middleware in front of every route: it identifies the caller (an API token,
//! `Authorization: Bearer …`, under `/api`; the `lx_session` cookie on the console),
//! then looks the matched route up in [`ROUTES`]. A route that is not declared
//! there is refused for everyone, so a new endpoint is closed until its access is
//! stated (and the access-matrix test then covers it). Console form posts must
//! carry the session's CSRF token (`_csrf`).
//!
//! What a caller sees inside an allowed route is decided by the store: handlers
//! pass [`Auth::scope`] to every repository function.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use laoxiao_store::accounts::{self, Principal};
use laoxiao_store::{Perm, Scope, StoreError};

use crate::AppState;
use crate::error::ApiError;

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "lx_session";
/// The double-submit cookie of the login form (before there is a session).
pub const LOGIN_CSRF_COOKIE: &str = "lx_login_csrf";

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without logging in.
    Public,
    /// Any logged-in account.
    Account,
    /// Accounts whose role has this permission.
    Perm(Perm),
    /// Device platforms, not accounts: the handler checks the request's HMAC
    /// signature (`laoxiao_store::alarms`); sessions and tokens give nothing.
    Platform,
}

/// Every route the server answers: (method, route template, access). The
/// middleware refuses any route missing here; the access-matrix test checks this
/// list against the router in both directions.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/api/health", Access::Public),
    ("GET", "/api/openapi.json", Access::Public),
    ("GET", "/api/areas", Access::Public),
    ("GET", "/api/areas/{code}", Access::Public),
    ("GET", "/api/me", Access::Account),
    ("POST", "/api/alarms/events", Access::Platform),
    ("GET", "/api/alarms", Access::Perm(Perm::ReadAlarms)),
    ("GET", "/api/alarms/figures", Access::Perm(Perm::Aggregates)),
    (
        "GET",
        "/api/alarms/equipped",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/api/alarms/platforms",
        Access::Perm(Perm::ManagePlatforms),
    ),
    ("GET", "/api/alarms/{id}", Access::Perm(Perm::ReadAlarms)),
    (
        "POST",
        "/api/alarms/{id}/acknowledge",
        Access::Perm(Perm::RespondAlarms),
    ),
    (
        "POST",
        "/api/alarms/{id}/reach",
        Access::Perm(Perm::RespondAlarms),
    ),
    (
        "POST",
        "/api/alarms/{id}/close",
        Access::Perm(Perm::RespondAlarms),
    ),
    ("GET", "/api/facilities", Access::Perm(Perm::ReadFacilities)),
    (
        "POST",
        "/api/facilities",
        Access::Perm(Perm::WriteFacilities),
    ),
    (
        "GET",
        "/api/facilities/{id}",
        Access::Perm(Perm::ReadFacilities),
    ),
    (
        "PUT",
        "/api/facilities/{id}",
        Access::Perm(Perm::WriteFacilities),
    ),
    (
        "DELETE",
        "/api/facilities/{id}",
        Access::Perm(Perm::WriteFacilities),
    ),
    ("GET", "/api/people", Access::Perm(Perm::ReadPeople)),
    ("POST", "/api/people", Access::Perm(Perm::WritePeople)),
    ("GET", "/api/people/{id}", Access::Perm(Perm::ReadPeople)),
    ("PUT", "/api/people/{id}", Access::Perm(Perm::WritePeople)),
    (
        "DELETE",
        "/api/people/{id}",
        Access::Perm(Perm::WritePeople),
    ),
    ("GET", "/api/assessments", Access::Perm(Perm::ReadPeople)),
    ("POST", "/api/assessments", Access::Perm(Perm::Assess)),
    (
        "GET",
        "/api/assessments/due",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "POST",
        "/api/assessments/flags",
        Access::Perm(Perm::WritePeople),
    ),
    ("GET", "/api/assessments/standard", Access::Account),
    (
        "POST",
        "/api/assessments/import",
        Access::Perm(Perm::Assess),
    ),
    (
        "GET",
        "/api/assessments/{id}",
        Access::Perm(Perm::ReadPeople),
    ),
    ("PUT", "/api/assessments/{id}", Access::Perm(Perm::Assess)),
    (
        "POST",
        "/api/assessments/{id}/finish",
        Access::Perm(Perm::Assess),
    ),
    (
        "POST",
        "/api/assessments/{id}/appeal",
        Access::Perm(Perm::WritePeople),
    ),
    ("GET", "/api/transfers", Access::Perm(Perm::WritePeople)),
    ("POST", "/api/transfers", Access::Perm(Perm::WritePeople)),
    (
        "GET",
        "/api/transfers/{id}",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "POST",
        "/api/transfers/{id}/approve",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "POST",
        "/api/transfers/{id}/refuse",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "POST",
        "/api/transfers/{id}/withdraw",
        Access::Perm(Perm::WritePeople),
    ),
    ("GET", "/api/visits/rounds", Access::Perm(Perm::ReadPeople)),
    (
        "POST",
        "/api/visits/rounds",
        Access::Perm(Perm::ManageVisits),
    ),
    ("GET", "/api/visits/tasks", Access::Perm(Perm::ReadPeople)),
    (
        "GET",
        "/api/visits/tasks/{id}",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "POST",
        "/api/visits/tasks/{id}/record",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "GET",
        "/api/visits/followups",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "POST",
        "/api/visits/followups/{id}/close",
        Access::Perm(Perm::ManageVisits),
    ),
    (
        "GET",
        "/api/visits/contracts/{id}/services",
        Access::Perm(Perm::ReadFacilities),
    ),
    (
        "POST",
        "/api/visits/contracts/{id}/services",
        Access::Perm(Perm::WriteFacilities),
    ),
    (
        "GET",
        "/api/visits/completion",
        Access::Perm(Perm::ReadFacilities),
    ),
    (
        "GET",
        "/api/admission/applications",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/api/admission/applications",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "GET",
        "/api/admission/applications/{id}",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/api/admission/applications/{id}/accept",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/api/admission/applications/{id}/decline",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/api/admission/applications/{id}/withdraw",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/api/admission/applications/{id}/cancel",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "GET",
        "/api/admission/homes",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "GET",
        "/api/admission/homes/{id}/waiting-list",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/api/admission/homes/{id}/offer-next",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/api/admission/residences/{id}/discharge",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "GET",
        "/api/admission/figures",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/api/childcare/filing-rules",
        Access::Perm(Perm::ReadFilings),
    ),
    (
        "GET",
        "/api/childcare/filings",
        Access::Perm(Perm::ReadFilings),
    ),
    (
        "POST",
        "/api/childcare/filings",
        Access::Perm(Perm::FileChildcare),
    ),
    (
        "GET",
        "/api/childcare/filings/{id}",
        Access::Perm(Perm::ReadFilings),
    ),
    (
        "PUT",
        "/api/childcare/filings/{id}/form",
        Access::Perm(Perm::FileChildcare),
    ),
    (
        "POST",
        "/api/childcare/filings/{id}/documents",
        Access::Perm(Perm::FileChildcare),
    ),
    (
        "GET",
        "/api/childcare/filings/{id}/documents/{doc}",
        Access::Perm(Perm::ReadFilings),
    ),
    (
        "DELETE",
        "/api/childcare/filings/{id}/documents/{doc}",
        Access::Perm(Perm::FileChildcare),
    ),
    (
        "POST",
        "/api/childcare/filings/{id}/submit",
        Access::Perm(Perm::FileChildcare),
    ),
    (
        "POST",
        "/api/childcare/filings/{id}/withdraw",
        Access::Perm(Perm::FileChildcare),
    ),
    (
        "POST",
        "/api/childcare/filings/{id}/review",
        Access::Perm(Perm::ReviewFilings),
    ),
    (
        "GET",
        "/api/childcare/day/classes",
        Access::Perm(Perm::ReadChildcareDay),
    ),
    (
        "GET",
        "/api/childcare/figures",
        Access::Perm(Perm::ReadChildcareDay),
    ),
    (
        "GET",
        "/api/childcare/classes/{id}/day",
        Access::Perm(Perm::ReadChildcareDay),
    ),
    (
        "PUT",
        "/api/childcare/classes/{id}/day/on-duty",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "POST",
        "/api/childcare/classes/{id}/day/entries",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "POST",
        "/api/childcare/enrolments/{id}/check-in",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "POST",
        "/api/childcare/enrolments/{id}/check-out",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "POST",
        "/api/childcare/enrolments/{id}/midday-check",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "POST",
        "/api/childcare/enrolments/{id}/absence",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "GET",
        "/api/childcare/children/{id}/pickups",
        Access::Perm(Perm::ReadChildcareDay),
    ),
    (
        "POST",
        "/api/childcare/children/{id}/pickups",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "DELETE",
        "/api/childcare/pickups/{id}",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "GET",
        "/api/childcare/children/{id}/report",
        Access::Perm(Perm::ReadChildcareDay),
    ),
    (
        "GET",
        "/api/family/children/{id}/report",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/children/{id}/pickups",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/children/{id}/pickups",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "DELETE",
        "/api/family/pickups/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/children/{id}/absence",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/childcare/institutions/{id}/prices",
        Access::Perm(Perm::ReadChildcareBills),
    ),
    (
        "PUT",
        "/api/childcare/institutions/{id}/prices",
        Access::Perm(Perm::ManageChildcareBills),
    ),
    (
        "GET",
        "/api/childcare/institutions/{id}/bills",
        Access::Perm(Perm::ReadChildcareBills),
    ),
    (
        "POST",
        "/api/childcare/institutions/{id}/bills",
        Access::Perm(Perm::ManageChildcareBills),
    ),
    (
        "GET",
        "/api/childcare/institutions/{id}/statement.csv",
        Access::Perm(Perm::ReadChildcareBills),
    ),
    (
        "GET",
        "/api/childcare/bills",
        Access::Perm(Perm::ReadChildcareBills),
    ),
    (
        "GET",
        "/api/childcare/bills/{id}",
        Access::Perm(Perm::ReadChildcareBills),
    ),
    (
        "POST",
        "/api/childcare/bills/{id}/payments",
        Access::Perm(Perm::ManageChildcareBills),
    ),
    (
        "GET",
        "/api/family/children/{id}/bills",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/bills/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/complaints",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/complaints",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/complaints/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/complaints/{id}/close",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/complaints",
        Access::Perm(Perm::HandleComplaints),
    ),
    (
        "GET",
        "/api/complaints/figures",
        Access::Perm(Perm::SuperviseComplaints),
    ),
    (
        "GET",
        "/api/complaints/{id}",
        Access::Perm(Perm::HandleComplaints),
    ),
    (
        "POST",
        "/api/complaints/{id}/acknowledge",
        Access::Perm(Perm::HandleComplaints),
    ),
    (
        "POST",
        "/api/complaints/{id}/answer",
        Access::Perm(Perm::HandleComplaints),
    ),
    (
        "GET",
        "/api/inspections",
        Access::Perm(Perm::ReadInspections),
    ),
    (
        "GET",
        "/api/inspections/checklists",
        Access::Perm(Perm::ReadInspections),
    ),
    (
        "GET",
        "/api/inspections/plans",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "POST",
        "/api/inspections/plans",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "GET",
        "/api/inspections/plans/{id}",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "POST",
        "/api/inspections/plans/{id}/commit",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "POST",
        "/api/inspections/plans/{id}/draw",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "GET",
        "/api/inspections/draws/{id}",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "GET",
        "/api/inspections/rectifications",
        Access::Perm(Perm::ReadInspections),
    ),
    (
        "POST",
        "/api/inspections/rectifications/{id}/report",
        Access::Perm(Perm::RectifyInspections),
    ),
    (
        "POST",
        "/api/inspections/rectifications/{id}/reinspect",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "GET",
        "/api/inspections/{id}",
        Access::Perm(Perm::ReadInspections),
    ),
    (
        "POST",
        "/api/inspections/{id}/record",
        Access::Perm(Perm::RecordInspections),
    ),
    (
        "POST",
        "/api/inspections/{id}/photos",
        Access::Perm(Perm::RecordInspections),
    ),
    (
        "GET",
        "/api/inspections/{id}/photos/{photo}",
        Access::Perm(Perm::ReadInspections),
    ),
    (
        "POST",
        "/api/inspections/{id}/publish",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "GET",
        "/api/key-projects",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "GET",
        "/api/key-projects/{number}",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "POST",
        "/api/key-projects/{number}/reports",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "POST",
        "/api/key-projects/{number}/reports/{report}/photos",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "GET",
        "/api/key-projects/{number}/photos/{photo}",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "POST",
        "/api/key-projects/{number}/milestones",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "POST",
        "/api/key-projects/{number}/complete",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "GET",
        "/api/family/notifications",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/notifications/read",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/children/{id}/messages",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/children/{id}/messages",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/childcare/messages",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "GET",
        "/api/childcare/messages/{id}",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "POST",
        "/api/childcare/messages/{id}",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "POST",
        "/api/childcare/classes/{id}/notices",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "GET",
        "/api/childcare/notices",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "GET",
        "/api/notifications/health",
        Access::Perm(Perm::ManageUsers),
    ),
    (
        "GET",
        "/api/childcare/applications",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/api/childcare/applications",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "GET",
        "/api/childcare/applications/{id}",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/api/childcare/applications/{id}/offer",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/api/childcare/applications/{id}/accept",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/api/childcare/applications/{id}/decline",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/api/childcare/applications/{id}/withdraw",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/api/childcare/applications/{id}/cancel",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/api/childcare/applications/{id}/enrol",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "GET",
        "/api/childcare/institutions/{id}/intake",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "GET",
        "/api/family/children",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/children/{id}/institutions",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/childcare-applications",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/childcare-applications",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/childcare-applications/{id}/accept",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/childcare-applications/{id}/decline",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/childcare-applications/{id}/withdraw",
        Access::Perm(Perm::OrderServices),
    ),
    ("GET", "/api/audit", Access::Perm(Perm::ReadAudit)),
    (
        "GET",
        "/api/people/{id}/views",
        Access::Perm(Perm::ReadViews),
    ),
    ("GET", "/api/indicators", Access::Perm(Perm::Aggregates)),
    (
        "GET",
        "/api/indicators/values",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/api/indicators/export",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/api/indicators/reported",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "POST",
        "/api/indicators/reported",
        Access::Perm(Perm::ReportIndicators),
    ),
    (
        "POST",
        "/api/indicators/targets",
        Access::Perm(Perm::ReportIndicators),
    ),
    (
        "GET",
        "/api/indicators/publications",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "POST",
        "/api/indicators/publications",
        Access::Perm(Perm::PublishIndicators),
    ),
    (
        "GET",
        "/api/indicators/publications/{period}/changes",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/api/indicators/{number}",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/api/indicators/{number}/trend",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/api/family/relatives",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/relatives/{id}/catalogue",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/relatives/{id}/care-homes",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/admission-applications",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/admission-applications",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/admission-applications/{id}/accept",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/admission-applications/{id}/decline",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/admission-applications/{id}/withdraw",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/links",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/links",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/family/links/pending",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "POST",
        "/api/family/links/{id}/verify",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "POST",
        "/api/family/links/{id}/refuse",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "GET",
        "/api/family/orders",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/orders",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/orders/{id}/cancel",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/api/family/orders/{id}/rate",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/api/provider/orders",
        Access::Perm(Perm::ServeOrders),
    ),
    (
        "POST",
        "/api/provider/orders/{id}/accept",
        Access::Perm(Perm::ServeOrders),
    ),
    (
        "POST",
        "/api/provider/orders/{id}/refuse",
        Access::Perm(Perm::ServeOrders),
    ),
    (
        "POST",
        "/api/provider/orders/{id}/deliver",
        Access::Perm(Perm::ServeOrders),
    ),
    ("GET", "/api/settlement", Access::Perm(Perm::ReadSettlement)),
    (
        "GET",
        "/api/subsidies/rules",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "GET",
        "/api/subsidies/runs",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "POST",
        "/api/subsidies/runs",
        Access::Perm(Perm::ManageSubsidies),
    ),
    (
        "GET",
        "/api/subsidies/runs/{id}",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "GET",
        "/api/subsidies/runs/{id}/lines",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "GET",
        "/api/subsidies/runs/{id}/lines/{line}",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "POST",
        "/api/subsidies/runs/{id}/approve",
        Access::Perm(Perm::ManageSubsidies),
    ),
    (
        "POST",
        "/api/subsidies/runs/{id}/reject",
        Access::Perm(Perm::ManageSubsidies),
    ),
    (
        "POST",
        "/api/subsidies/runs/{id}/paid",
        Access::Perm(Perm::ManageSubsidies),
    ),
    (
        "GET",
        "/api/subsidies/runs/{id}/export",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "GET",
        "/api/subsidies/explain",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "POST",
        "/api/subsidies/whatif",
        Access::Perm(Perm::ManageSubsidies),
    ),
    (
        "GET",
        "/api/planning/coverage",
        Access::Perm(Perm::Aggregates),
    ),
    ("GET", "/api/planning/cells", Access::Perm(Perm::Aggregates)),
    (
        "GET",
        "/api/planning/facilities",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/api/planning/access",
        Access::Perm(Perm::Aggregates),
    ),
    ("GET", "/api/planning/slots", Access::Perm(Perm::Aggregates)),
    (
        "POST",
        "/api/planning/siting",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "POST",
        "/api/planning/sites",
        Access::Perm(Perm::WriteFacilities),
    ),
    (
        "GET",
        "/api/planning/resident-grid",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "POST",
        "/api/planning/resident-grid",
        Access::Perm(Perm::Import),
    ),
    (
        "DELETE",
        "/api/planning/resident-grid",
        Access::Perm(Perm::Import),
    ),
    // Every account lands at `/`: the overview, or a redirect to its own home.
    ("GET", "/", Access::Account),
    ("GET", "/console/overview", Access::Perm(Perm::Aggregates)),
    ("GET", "/console/home", Access::Account),
    ("GET", "/console/my-facility", Access::Account),
    ("GET", "/console/worklist", Access::Account),
    ("GET", "/console", Access::Public),
    ("GET", "/console/", Access::Public),
    ("GET", "/console/login", Access::Public),
    ("POST", "/console/login", Access::Public),
    ("POST", "/console/logout", Access::Account),
    ("GET", "/console/password", Access::Account),
    ("POST", "/console/password", Access::Account),
    (
        "GET",
        "/console/facilities",
        Access::Perm(Perm::ReadFacilities),
    ),
    (
        "POST",
        "/console/facilities",
        Access::Perm(Perm::WriteFacilities),
    ),
    (
        "GET",
        "/console/facilities/new",
        Access::Perm(Perm::WriteFacilities),
    ),
    (
        "GET",
        "/console/facilities/{id}",
        Access::Perm(Perm::ReadFacilities),
    ),
    (
        "POST",
        "/console/facilities/{id}",
        Access::Perm(Perm::WriteFacilities),
    ),
    (
        "GET",
        "/console/facilities/{id}/edit",
        Access::Perm(Perm::WriteFacilities),
    ),
    ("GET", "/console/elderly", Access::Perm(Perm::ReadPeople)),
    ("GET", "/console/infants", Access::Perm(Perm::ReadPeople)),
    (
        "GET",
        "/console/people/{id}",
        Access::Perm(Perm::ReadPeople),
    ),
    ("GET", "/console/plan", Access::Perm(Perm::Aggregates)),
    ("GET", "/console/indicators", Access::Perm(Perm::Aggregates)),
    ("GET", "/console/planning", Access::Perm(Perm::Aggregates)),
    (
        "GET",
        "/console/planning/access",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/console/planning/siting",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "POST",
        "/console/planning/siting",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "POST",
        "/console/planning/siting/save",
        Access::Perm(Perm::WriteFacilities),
    ),
    (
        "GET",
        "/console/indicators/export",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/console/indicators/{number}",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "POST",
        "/console/indicators/{number}",
        Access::Perm(Perm::ReportIndicators),
    ),
    (
        "GET",
        "/console/subsidies",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "POST",
        "/console/subsidies",
        Access::Perm(Perm::ManageSubsidies),
    ),
    (
        "GET",
        "/console/subsidies/whatif",
        Access::Perm(Perm::ManageSubsidies),
    ),
    (
        "POST",
        "/console/subsidies/whatif",
        Access::Perm(Perm::ManageSubsidies),
    ),
    (
        "GET",
        "/console/subsidies/runs/{id}",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "POST",
        "/console/subsidies/runs/{id}",
        Access::Perm(Perm::ManageSubsidies),
    ),
    (
        "GET",
        "/console/subsidies/runs/{id}/export",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "GET",
        "/console/subsidies/runs/{id}/lines/{line}",
        Access::Perm(Perm::ReadSubsidies),
    ),
    (
        "GET",
        "/console/assessments",
        Access::Perm(Perm::ReadPeople),
    ),
    ("POST", "/console/assessments", Access::Perm(Perm::Assess)),
    (
        "GET",
        "/console/assessments/new",
        Access::Perm(Perm::Assess),
    ),
    (
        "GET",
        "/console/assessments/due",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "POST",
        "/console/assessments/due",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "GET",
        "/console/assessments/{id}",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "POST",
        "/console/assessments/{id}",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "GET",
        "/console/assessments/{id}/edit",
        Access::Perm(Perm::Assess),
    ),
    (
        "POST",
        "/console/assessments/{id}/edit",
        Access::Perm(Perm::Assess),
    ),
    (
        "GET",
        "/console/assessments/{id}/report",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "GET",
        "/console/assessments/import",
        Access::Perm(Perm::Assess),
    ),
    (
        "POST",
        "/console/assessments/import",
        Access::Perm(Perm::Assess),
    ),
    (
        "POST",
        "/console/assessments/import/confirm",
        Access::Perm(Perm::Assess),
    ),
    (
        "GET",
        "/console/assessments/import/template.csv",
        Access::Perm(Perm::Assess),
    ),
    ("GET", "/console/family", Access::Perm(Perm::OrderServices)),
    ("POST", "/console/family", Access::Perm(Perm::OrderServices)),
    (
        "GET",
        "/console/family/relatives/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/relatives/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/relatives/{id}/admission",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/admission/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/children/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/childcare-applications/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/console/family/children/{id}/day",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/children/{id}/day",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/console/childcare/bills",
        Access::Perm(Perm::ReadChildcareBills),
    ),
    (
        "POST",
        "/console/childcare/bills",
        Access::Perm(Perm::ManageChildcareBills),
    ),
    (
        "GET",
        "/console/childcare/bills/{id}",
        Access::Perm(Perm::ReadChildcareBills),
    ),
    (
        "POST",
        "/console/childcare/bills/{id}",
        Access::Perm(Perm::ManageChildcareBills),
    ),
    (
        "GET",
        "/console/family/children/{id}/bills",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/console/inspections",
        Access::Perm(Perm::ReadInspections),
    ),
    (
        "POST",
        "/console/inspections",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "GET",
        "/console/inspections/plans/{id}",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "POST",
        "/console/inspections/plans/{id}",
        Access::Perm(Perm::PlanInspections),
    ),
    (
        "GET",
        "/console/inspections/{id}",
        Access::Perm(Perm::ReadInspections),
    ),
    (
        "POST",
        "/console/inspections/{id}",
        Access::Perm(Perm::ReadInspections),
    ),
    (
        "GET",
        "/console/key-projects",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "GET",
        "/console/key-projects/{number}",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "POST",
        "/console/key-projects/{number}",
        Access::Perm(Perm::ManageKeyProjects),
    ),
    (
        "GET",
        "/console/complaints",
        Access::Perm(Perm::HandleComplaints),
    ),
    (
        "GET",
        "/console/complaints/{id}",
        Access::Perm(Perm::HandleComplaints),
    ),
    (
        "POST",
        "/console/complaints/{id}",
        Access::Perm(Perm::HandleComplaints),
    ),
    (
        "GET",
        "/console/family/complaints",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/complaints",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/console/family/complaints/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/complaints/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/console/childcare/day",
        Access::Perm(Perm::ReadChildcareDay),
    ),
    (
        "POST",
        "/console/childcare/day",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "GET",
        "/console/childcare/figures",
        Access::Perm(Perm::ReadChildcareDay),
    ),
    (
        "GET",
        "/console/family/notifications",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/notifications",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/console/family/children/{id}/messages",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "POST",
        "/console/family/children/{id}/messages",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/console/childcare/messages",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "POST",
        "/console/childcare/messages",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "GET",
        "/console/childcare/messages/{id}",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "POST",
        "/console/childcare/messages/{id}",
        Access::Perm(Perm::RecordChildcareDay),
    ),
    (
        "GET",
        "/console/notifications",
        Access::Perm(Perm::ManageUsers),
    ),
    (
        "GET",
        "/console/childcare/applications",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/console/childcare/applications",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "GET",
        "/console/childcare/applications/{id}",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/console/childcare/applications/{id}",
        Access::Perm(Perm::ManageEnrolments),
    ),
    (
        "POST",
        "/console/family/my-orders/{id}",
        Access::Perm(Perm::OrderServices),
    ),
    (
        "GET",
        "/console/family/links",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "POST",
        "/console/family/links/{id}",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "GET",
        "/console/family/orders",
        Access::Perm(Perm::ServeOrders),
    ),
    (
        "POST",
        "/console/family/orders/{id}",
        Access::Perm(Perm::ServeOrders),
    ),
    (
        "GET",
        "/console/family/settlement",
        Access::Perm(Perm::ReadSettlement),
    ),
    ("GET", "/console/alarms", Access::Perm(Perm::ReadAlarms)),
    (
        "GET",
        "/console/alarms/figures",
        Access::Perm(Perm::Aggregates),
    ),
    (
        "GET",
        "/console/alarms/{id}",
        Access::Perm(Perm::ReadAlarms),
    ),
    (
        "POST",
        "/console/alarms/{id}",
        Access::Perm(Perm::RespondAlarms),
    ),
    (
        "GET",
        "/console/admission",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/console/admission",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "GET",
        "/console/admission/homes/{id}",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/console/admission/homes/{id}",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "GET",
        "/console/admission/applications/{id}",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "POST",
        "/console/admission/applications/{id}",
        Access::Perm(Perm::ManageAdmissions),
    ),
    (
        "GET",
        "/console/childcare/filings",
        Access::Perm(Perm::ReadFilings),
    ),
    (
        "POST",
        "/console/childcare/filings",
        Access::Perm(Perm::FileChildcare),
    ),
    (
        "GET",
        "/console/childcare/filings/{id}",
        Access::Perm(Perm::ReadFilings),
    ),
    // The store decides which side may take each action.
    (
        "POST",
        "/console/childcare/filings/{id}",
        Access::Perm(Perm::ReadFilings),
    ),
    (
        "POST",
        "/console/childcare/filings/{id}/documents",
        Access::Perm(Perm::FileChildcare),
    ),
    (
        "GET",
        "/console/childcare/filings/{id}/documents/{doc}",
        Access::Perm(Perm::ReadFilings),
    ),
    ("GET", "/console/transfers", Access::Perm(Perm::WritePeople)),
    (
        "POST",
        "/console/transfers",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "POST",
        "/console/transfers/{id}",
        Access::Perm(Perm::WritePeople),
    ),
    ("GET", "/console/visits", Access::Perm(Perm::ReadPeople)),
    ("POST", "/console/visits", Access::Perm(Perm::ManageVisits)),
    (
        "GET",
        "/console/visits/mine",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "GET",
        "/console/visits/overdue",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "GET",
        "/console/visits/tasks/{id}",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "POST",
        "/console/visits/tasks/{id}",
        Access::Perm(Perm::WritePeople),
    ),
    (
        "GET",
        "/console/visits/followups",
        Access::Perm(Perm::ReadPeople),
    ),
    (
        "POST",
        "/console/visits/followups/{id}",
        Access::Perm(Perm::ManageVisits),
    ),
    (
        "GET",
        "/console/visits/completion",
        Access::Perm(Perm::ReadFacilities),
    ),
    (
        "GET",
        "/console/visits/contracts/{id}",
        Access::Perm(Perm::ReadFacilities),
    ),
    (
        "POST",
        "/console/visits/contracts/{id}",
        Access::Perm(Perm::WriteFacilities),
    ),
    ("GET", "/console/import", Access::Perm(Perm::Import)),
    ("POST", "/console/import", Access::Perm(Perm::Import)),
    (
        "POST",
        "/console/import/confirm",
        Access::Perm(Perm::Import),
    ),
    (
        "GET",
        "/console/import/templates/{file}",
        Access::Perm(Perm::Import),
    ),
    ("GET", "/console/audit", Access::Perm(Perm::ReadAudit)),
    ("GET", "/console/static/{*path}", Access::Public),
    // The public portal (公众服务门户): published and aggregate figures only.
    ("GET", "/portal", Access::Public),
    ("GET", "/portal/places", Access::Public),
    ("GET", "/portal/places.json", Access::Public),
    ("GET", "/portal/places/{ref}", Access::Public),
    ("GET", "/portal/statistics", Access::Public),
    ("GET", "/portal/projects", Access::Public),
    ("GET", "/portal/data", Access::Public),
    ("GET", "/portal/data/catalog.json", Access::Public),
    ("GET", "/portal/data/{id}", Access::Public),
    ("GET", "/portal/data/{id}/{file}", Access::Public),
    // Complaints from the public and inspection results (console/portal_complaints.rs).
    ("GET", "/portal/complaints", Access::Public),
    ("POST", "/portal/complaints", Access::Public),
    ("GET", "/portal/complaints/track", Access::Public),
    ("POST", "/portal/complaints/track", Access::Public),
    ("GET", "/portal/inspections", Access::Public),
    ("GET", "/portal/entitlements", Access::Public),
];

/// The declared access of a route (HEAD is GET).
pub fn access(method: &Method, path: &str) -> Option<Access> {
    let m = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|(rm, rp, _)| *rm == m && *rp == path)
        .map(|r| r.2)
        .or_else(|| {
            crate::registers::routes()
                .into_iter()
                .chain(crate::console::registers::routes_declared())
                .find(|(rm, rp, _)| *rm == m && *rp == path)
                .map(|r| Access::Perm(r.2))
        })
}

/// Every declared route: [`ROUTES`] and the generic registers' routes (from
/// their declarations), as (method, route template, access).
pub fn policy() -> Vec<(&'static str, &'static str, Access)> {
    let mut out = ROUTES.to_vec();
    out.extend(
        crate::registers::routes()
            .into_iter()
            .chain(crate::console::registers::routes_declared())
            .map(|(m, p, perm)| (m, p, Access::Perm(perm))),
    );
    out
}

/// The caller of a request, as the middleware found it.
#[derive(Debug, Clone, Default)]
pub struct Auth {
    pub principal: Option<Principal>,
    /// The client address (the socket peer).
    pub ip: Option<String>,
    /// The session's CSRF token (console sessions only).
    pub csrf: Option<String>,
}

impl Auth {
    /// The store scope of the caller; 401 without one.
    pub fn scope(&self) -> Result<Scope, ApiError> {
        self.principal
            .as_ref()
            .map(|p| p.scope(self.ip.clone()))
            .ok_or(ApiError::Unauthenticated)
    }

    pub fn can(&self, p: Perm) -> bool {
        self.principal.as_ref().is_some_and(|x| x.user.role.can(p))
    }

    /// The scope for pages: an anonymous caller gets one that sees nothing.
    pub fn page_scope(&self) -> Scope {
        self.scope().unwrap_or_else(|_| {
            Scope::user(
                laoxiao_store::Actor {
                    user: "anonymous".into(),
                    ip: self.ip.clone(),
                },
                laoxiao_store::Role::Analyst,
                "/none/",
                None,
            )
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Auth>().cloned().unwrap_or_default())
    }
}

/// A cookie's value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn deny(api: bool, status: StatusCode, path_and_query: &str, auth: &Auth) -> Response {
    if api {
        return if status == StatusCode::UNAUTHORIZED {
            ApiError::Unauthenticated.into_response()
        } else {
            ApiError::Store(StoreError::Forbidden(
                "your role may not use this endpoint".into(),
            ))
            .into_response()
        };
    }
    if status == StatusCode::UNAUTHORIZED {
        let next = crate::console::enc(path_and_query);
        return Redirect::to(&format!("/console/login?next={next}")).into_response();
    }
    refused(
        denial_page(status, "无权访问", "Forbidden", ""),
        status,
        auth,
    )
}

/// Marks a console refusal for `console::error_layer`, which renders it as a
/// page in the console's layout (the bare page stays as the fallback).
fn refused(mut r: Response, status: StatusCode, auth: &Auth) -> Response {
    r.extensions_mut().insert(crate::console::Refused {
        status,
        auth: auth.clone(),
    });
    r
}

/// Runs `f` as the request of `auth` (the console's pages read the caller
/// from [`current`]).
pub async fn with_caller<F: std::future::Future>(auth: Auth, f: F) -> F::Output {
    CURRENT.scope(auth, f).await
}

/// A small bilingual page for refusals made before a console page context exists
/// (no session language yet): a document with a language, a title, a heading and
/// a way back, so that it reads like the console's pages to assistive technology.
fn denial_page(status: StatusCode, zh: &str, en: &str, detail_zh: &str) -> Response {
    let code = status.as_u16();
    let detail = if detail_zh.is_empty() {
        String::new()
    } else {
        format!("<p>{detail_zh}</p>")
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{code} {zh} · {en}</title>\n\
         <link rel=\"stylesheet\" href=\"/console/static/console.css\">\n</head>\n<body>\n\
         <main id=\"main\">\n<h1>{code} {zh} · <span lang=\"en\">{en}</span></h1>\n{detail}\n\
         <p><a href=\"/\">概览</a> · <a href=\"/\" lang=\"en\">Overview</a></p>\n</main>\n</body>\n</html>\n"
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

/// The middleware: identify, check the route's access, check CSRF on console posts.
pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let uri_path = req.uri().path().to_owned();
    let api = uri_path.starts_with("/api");
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| uri_path.clone());
    let secret = if api {
        bearer(req.headers())
    } else {
        cookie(req.headers(), SESSION_COOKIE)
    };
    let mut auth = Auth {
        principal: None,
        ip,
        csrf: None,
    };
    if let Some(secret) = secret.filter(|s| !s.is_empty() && s.len() < 200) {
        let store = state.store.clone();
        let found = state
            .db_tasks
            .run(move || {
                let mut c = store.conn()?;
                if api {
                    Ok::<_, StoreError>(
                        accounts::token_principal(&mut c, &store.reference, &secret)?
                            .map(|p| (p, None)),
                    )
                } else {
                    Ok(
                        accounts::session_principal(&mut c, &store.reference, &secret)?
                            .map(|(p, csrf)| (p, Some(csrf))),
                    )
                }
            })
            .await;
        match found {
            Ok(Ok(Some((p, csrf)))) => {
                auth.principal = Some(p);
                auth.csrf = csrf;
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => return ApiError::Store(e).into_response(),
            Err(e) => return ApiError::Internal(format!("auth task: {e}")).into_response(),
        }
    }
    let Some(route) = route else {
        // No route matched: the fallbacks answer (404/405), nothing to protect.
        req.extensions_mut().insert(auth.clone());
        return CURRENT.scope(auth, next.run(req)).await;
    };
    let Some(access) = access(req.method(), &route) else {
        if policy().iter().any(|(_, p, _)| *p == route) {
            // A declared path with another method: 405, never an undeclared handler.
            return if api {
                ApiError::MethodNotAllowed(req.method().clone()).into_response()
            } else {
                refused(
                    denial_page(
                        StatusCode::METHOD_NOT_ALLOWED,
                        "不支持此操作",
                        "Method not allowed",
                        "",
                    ),
                    StatusCode::METHOD_NOT_ALLOWED,
                    &auth,
                )
            };
        }
        if route == "/api/" || route.contains("__private__") {
            // The API's 404 fallbacks.
            req.extensions_mut().insert(auth.clone());
            return CURRENT.scope(auth, next.run(req)).await;
        }
        tracing::error!(route = %route, "route without a declared access; refused");
        return deny(api, StatusCode::FORBIDDEN, &pq, &auth);
    };
    match access {
        Access::Public | Access::Platform => {}
        Access::Account | Access::Perm(_) if auth.principal.is_none() => {
            return deny(api, StatusCode::UNAUTHORIZED, &pq, &auth);
        }
        Access::Perm(p) if !auth.can(p) => return deny(api, StatusCode::FORBIDDEN, &pq, &auth),
        _ => {}
    }
    // A one-time password is changed before anything else on the console.
    if !api
        && auth
            .principal
            .as_ref()
            .is_some_and(|p| p.user.must_change_password)
        && !matches!(
            route.as_str(),
            "/console/password" | "/console/logout" | "/console/login" | "/console/static/{*path}"
        )
    {
        return Redirect::to("/console/password").into_response();
    }
    // Console form posts by a session carry its CSRF token (the login form has its own).
    // The portal's forms act for no account (no session, nothing a forged
    // post could borrow): their own checks stand in (proof of work).
    if !api
        && req.method() == Method::POST
        && route != "/console/login"
        && !route.starts_with("/portal/")
    {
        let Some(expected) = auth.csrf.clone() else {
            return deny(api, StatusCode::FORBIDDEN, &pq, &auth);
        };
        let (parts, body) = req.into_parts();
        let limit = if route.starts_with("/console/import")
            || route.starts_with("/console/assessments/import")
        {
            crate::console::MAX_UPLOAD_BYTES
        } else if route == "/console/childcare/filings/{id}/documents" {
            usize::try_from(state.config.upload_max_bytes)
                .unwrap_or(usize::MAX)
                .saturating_add(crate::console::UPLOAD_FORM_OVERHEAD)
        } else {
            state.config.max_body_bytes
        };
        let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
            return (StatusCode::PAYLOAD_TOO_LARGE, "payload too large").into_response();
        };
        let given = csrf_field(&parts.headers, &bytes);
        if !given.is_some_and(|g| laoxiao_store::crypto::ct_eq(&g, &expected)) {
            return denial_page(
                StatusCode::FORBIDDEN,
                "表单已失效",
                "CSRF token missing or wrong",
                "请刷新页面后重试。",
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }
    req.extensions_mut().insert(auth.clone());
    CURRENT.scope(auth, next.run(req)).await
}

tokio::task_local! {
    /// The caller of the request being handled (for the console's page context).
    static CURRENT: Auth;
}

/// The caller of the request being handled; anonymous outside the middleware.
pub fn current() -> Auth {
    CURRENT.try_with(Auth::clone).unwrap_or_default()
}

/// The `_csrf` field of a urlencoded or multipart form body.
pub fn csrf_field(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct.starts_with("multipart/form-data") {
        let needle = b"name=\"_csrf\"";
        let at = body.windows(needle.len()).position(|w| w == needle)?;
        let rest = &body[at..];
        let start = rest.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let val = &rest[start..];
        let end = val.windows(2).position(|w| w == b"\r\n")?;
        return String::from_utf8(val[..end].to_vec()).ok();
    }
    // The token is URL-safe base64: no percent-decoding needed.
    std::str::from_utf8(body)
        .ok()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "_csrf")
        .map(|(_, v)| v.to_string())
}

/// Security headers on every response. Everything but the console's static
/// files and the public portal's pages is `Cache-Control: no-store` (pages and API answers carry personal
/// data; no browser or proxy cache may keep them), and with secure cookies
/// (the server is behind TLS) `Strict-Transport-Security` too.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let static_file = req.uri().path().starts_with("/console/static/");
    // The public portal's pages carry nothing personal: a portal handler may
    // let them be cached (`public, max-age=…`); everything else is no-store.
    let portal = req.uri().path().starts_with("/portal");
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    // A handler's stricter policy stands (uploaded files: `sandbox`).
    if !h.contains_key("content-security-policy") {
        set(
            h,
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        );
    }
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    // The portal's place search may ask the browser where the visitor is
    // ("use my location"); no other page may.
    set(
        h,
        "permissions-policy",
        if portal {
            "camera=(), microphone=(), geolocation=(self)"
        } else {
            "camera=(), microphone=(), geolocation=()"
        },
    );
    let portal_public = portal
        && h.get("cache-control")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("public"));
    if !static_file && !portal_public {
        set(h, "cache-control", "no-store");
    }
    if state.config.secure_cookies {
        set(h, "strict-transport-security", "max-age=31536000");
    }
    r
}

/// `Set-Cookie` for a session (`None`: clear it).
pub fn session_cookie(secret: Option<&str>, secure: bool) -> String {
    let sec = if secure { "; Secure" } else { "" };
    match secret {
        Some(s) => format!(
            "{SESSION_COOKIE}={s}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{sec}",
            accounts::SESSION_HOURS * 3600
        ),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{sec}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_is_found_in_both_encodings() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        assert_eq!(
            csrf_field(&h, b"a=1&_csrf=abc-_9&b=2").as_deref(),
            Some("abc-_9")
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("multipart/form-data; boundary=X"),
        );
        let body = b"--X\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\ntok\r\n--X--\r\n";
        assert_eq!(csrf_field(&h, body).as_deref(), Some("tok"));
    }

    #[test]
    fn every_route_is_declared_once() {
        let mut seen = std::collections::HashSet::new();
        for (m, p, _) in policy() {
            assert!(seen.insert((m, p)), "{m} {p} twice");
        }
        assert_eq!(access(&Method::HEAD, "/api/health"), Some(Access::Public));
        assert_eq!(access(&Method::GET, "/api/nope"), None);
    }
}
