//! Who is asking, and what part of the registers they may touch.
//!
//! Every repository function that reads or writes facilities, classes or people
//! takes a [`Scope`]. The scope's area subtree (and, for facility operators, their
//! facility) is added to the SQL `WHERE`, so a record outside it is simply not
//! found (404, its existence does not leak). What a role may do at all is
//! [`Role::can`]; a role without the permission gets [`StoreError::Forbidden`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::db::Value;
use crate::error::{Result, StoreError};
use crate::path_upper;

/// The roles of the platform. The public has no account and no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 市级管理员: everything in the city, accounts included.
    CityAdmin,
    /// 县（市、区）管理员: everything in their county.
    CountyAdmin,
    /// 镇（街道）工作人员: registers of their town.
    TownStaff,
    /// 村（社区）工作人员: registers of their village, ID numbers masked.
    VillageStaff,
    /// 机构运营方: their own facility only, no personal records.
    FacilityOperator,
    /// 督查人员: reads facilities and (masked) people in their area.
    Inspector,
    /// 审计员: reads the audit trail, nothing else.
    Auditor,
    /// 分析员: aggregates only, never a person's record.
    Analyst,
    /// 家属: a relative of elderly people, who sees only the relatives a staff
    /// member has verified (their name, ability level, orders, balance) and
    /// orders services for them; no register at all.
    Family,
}

/// What a role may do (the area scope comes on top).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Perm {
    ReadFacilities,
    WriteFacilities,
    ReadPeople,
    WritePeople,
    /// See full citizen ID numbers (each read audited).
    RevealIds,
    /// Export personal data (each export audited).
    ExportPeople,
    /// Counts and sums over an area (overview, plan).
    Aggregates,
    ReadAudit,
    /// See who viewed a person's record (auditors, and the city and county
    /// administrators who answer a person's request to know).
    ReadViews,
    /// Bulk import from the console (city-wide: imports are not scoped row by row).
    Import,
    ManageUsers,
    /// Enter reported indicator values, an area's own targets and resident
    /// figures (填报) for areas in scope.
    ReportIndicators,
    /// Publish a period's indicator values (发布).
    PublishIndicators,
    /// Read subsidy runs, their lines (a county: its own) and explanations.
    ReadSubsidies,
    /// Prepare, review (a second account), mark paid and cost subsidy runs;
    /// load county incomes.
    ManageSubsidies,
    /// Draft and finish ability assessments (老年人能力评估) of people in the
    /// area, and import paper ones: town, county and city staff.
    Assess,
    /// Request links to relatives and order services for verified ones
    /// (家属下单); families only.
    OrderServices,
    /// Accept, refuse and deliver the orders of one's own facility (服务商).
    ServeOrders,
    /// Read the monthly settlement of ordered services (结算).
    ReadSettlement,
    /// Generate the monthly visiting rounds (探访关爱) for areas in scope and
    /// close the follow-ups that visits raise (towns and above).
    ManageVisits,
    /// See alarms (告警) in the area (operators: their provider's).
    ReadAlarms,
    /// Acknowledge, reach and close alarms (响应、到达、关闭).
    RespondAlarms,
    /// Device platforms (设备平台) and their refused-request counters.
    ManagePlatforms,
    /// Care-home admission (养老机构入住轮候): apply for people of the area,
    /// read the applications and waiting lists in scope (an operator: its
    /// home's), offer beds, record answers, discharge residents.
    ManageAdmissions,
    /// Read childcare filings (托育机构备案) in scope (an operator: its own).
    ReadFilings,
    /// Draft, fill in, upload to, submit and withdraw the filings of one's own
    /// childcare institution (机构备案申报).
    FileChildcare,
    /// Review filings for the county health commission (备案审核): accept,
    /// ask for corrections, refuse.
    ReviewFilings,
    /// Childcare applications and enrolment (入托申请与录取): apply for
    /// children of the area (area staff), read the applications and waiting
    /// lists in scope, offer places, confirm the health check and enrol (an
    /// operator: its own institution's).
    ManageEnrolments,
    /// Read a childcare institution's day (托育一日生活): attendance, checks,
    /// entries, refused handovers and the daily reports (an operator: its
    /// own institution's; county and city staff and inspectors: their area's).
    ReadChildcareDay,
    /// Record the day at one's own institution: check-in and check-out by an
    /// authorised person, the morning and midday check, absences, meals,
    /// naps, outdoor time, incidents, caregivers on duty (机构人员).
    RecordChildcareDay,
    /// Read childcare bills and payments (托育费账单): an operator its own
    /// institution's, county and city staff their area's statements.
    ReadChildcareBills,
    /// Keep one's own institution's bills: the price list, the monthly
    /// bills, the payments families make (机构人员).
    ManageChildcareBills,
    /// Work the complaint register (投诉办理) in scope: a facility's operator
    /// reads, acknowledges (受理确认) and answers (答复) its own facility's
    /// complaints; county and city staff read their area's (answering there
    /// needs `SuperviseComplaints` and a late complaint).
    HandleComplaints,
    /// Supervise complaints (投诉督办): the area's complaints with the late
    /// ones first, answering a late one, and the figures (county and city).
    SuperviseComplaints,
    /// Plan random inspections (双随机、一公开): create plans, freeze the
    /// rosters and publish the commitment, draw, publish results, order
    /// re-inspections (county and city civil-affairs and health staff).
    PlanInspections,
    /// Record an inspection (检查结果录入) and its evidence photos: only the
    /// inspectors drawn for it (the store checks the draw).
    RecordInspections,
    /// Read inspections in scope: planners their area's, inspectors those
    /// drawn for them, an operator its facility's results and orders.
    ReadInspections,
    /// Report a rectification done (整改完成报告): the facility's operator.
    RectifyInspections,
    /// The key projects (重点项目) of the area: read them, record progress
    /// reports and photos, set milestones, mark one completed (county and
    /// city staff).
    ManageKeyProjects,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::CityAdmin,
        Role::CountyAdmin,
        Role::TownStaff,
        Role::VillageStaff,
        Role::FacilityOperator,
        Role::Inspector,
        Role::Auditor,
        Role::Analyst,
        Role::Family,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::CityAdmin => "city_admin",
            Role::CountyAdmin => "county_admin",
            Role::TownStaff => "town_staff",
            Role::VillageStaff => "village_staff",
            Role::FacilityOperator => "facility_operator",
            Role::Inspector => "inspector",
            Role::Auditor => "auditor",
            Role::Analyst => "analyst",
            Role::Family => "family",
        }
    }

    /// The permission table; `docs/security.md` shows the same.
    pub fn can(self, p: Perm) -> bool {
        use Perm::*;
        use Role::*;
        match self {
            CityAdmin => !matches!(p, ReadAudit | OrderServices),
            CountyAdmin => matches!(
                p,
                ManageVisits
                    | ReportIndicators
                    | ReadSubsidies
                    | ReadFacilities
                    | WriteFacilities
                    | ReadPeople
                    | WritePeople
                    | RevealIds
                    | ExportPeople
                    | Aggregates
                    | ReadViews
                    | Assess
                    | ReadSettlement
                    | ReadAlarms
                    | RespondAlarms
                    | ManageAdmissions
                    | ReadFilings
                    | ReviewFilings
                    | ManageEnrolments
                    | ReadChildcareDay
                    | ReadChildcareBills
                    | HandleComplaints
                    | SuperviseComplaints
                    | PlanInspections
                    | ReadInspections
                    | ManageKeyProjects
            ),
            TownStaff => matches!(
                p,
                ManageVisits
                    | ReadFacilities
                    | WriteFacilities
                    | ReadPeople
                    | WritePeople
                    | RevealIds
                    | Aggregates
                    | Assess
                    | ReadAlarms
                    | RespondAlarms
                    | ManageAdmissions
                    | ManageEnrolments
            ),
            VillageStaff => matches!(
                p,
                ReadFacilities
                    | ReadPeople
                    | WritePeople
                    | Aggregates
                    | ReadAlarms
                    | RespondAlarms
                    | ManageAdmissions
                    | ManageEnrolments
            ),
            FacilityOperator => matches!(
                p,
                ReadFacilities
                    | WriteFacilities
                    | ServeOrders
                    | ReadAlarms
                    | RespondAlarms
                    | ManageAdmissions
                    | ReadFilings
                    | FileChildcare
                    | ManageEnrolments
                    | ReadChildcareDay
                    | RecordChildcareDay
                    | ReadChildcareBills
                    | ManageChildcareBills
                    | HandleComplaints
                    | ReadInspections
                    | RectifyInspections
            ),
            Inspector => matches!(
                p,
                ReadFacilities
                    | ReadPeople
                    | Aggregates
                    | ReadAlarms
                    | ReadFilings
                    | ReadChildcareDay
                    | RecordInspections
                    | ReadInspections
            ),
            Auditor => matches!(p, ReadAudit | ReadViews),
            Analyst => matches!(p, Aggregates),
            // Everything a family sees goes through `family`, by verified link.
            Family => matches!(p, OrderServices),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s.trim())
            .ok_or_else(|| {
                format!(
                    "unknown role {s:?}; one of {}",
                    Role::ALL.map(|r| r.code()).join(", ")
                )
            })
    }
}

/// Who acts, for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    pub user: String,
    /// The client address, when over HTTP.
    pub ip: Option<String>,
}

/// The part of the registers a caller may see, and what they may do there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub actor: Actor,
    /// `None`: the system itself (CLI, migrations, tests), unrestricted.
    role: Option<Role>,
    /// The home area's materialised path, `/330400/330402/`; `None` for the whole city.
    area_path: Option<String>,
    /// Facility operators: their facility.
    facility: Option<String>,
}

impl Scope {
    /// The system acting for itself (CLI commands run by the operator of the server).
    pub fn system(user: &str) -> Scope {
        Scope {
            actor: Actor {
                user: user.to_string(),
                ip: None,
            },
            role: None,
            area_path: None,
            facility: None,
        }
    }

    /// The system, acting for a named actor from an address (logins).
    pub fn system_as(actor: Actor) -> Scope {
        Scope {
            actor,
            ..Scope::system("")
        }
    }

    /// A user's scope: their role, home area path and (operators) facility.
    pub fn user(actor: Actor, role: Role, area_path: &str, facility: Option<String>) -> Scope {
        Scope {
            actor,
            role: Some(role),
            area_path: Some(area_path.to_string()),
            facility: if role == Role::FacilityOperator {
                // An operator without a facility sees none.
                Some(facility.unwrap_or_default())
            } else {
                None
            },
        }
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// The role's code for the audit trail (`system` for the system).
    pub fn role_code(&self) -> &'static str {
        self.role.map(Role::code).unwrap_or("system")
    }

    pub fn area_path(&self) -> Option<&str> {
        self.area_path.as_deref()
    }

    pub fn facility(&self) -> Option<&str> {
        self.facility.as_deref()
    }

    pub fn can(&self, p: Perm) -> bool {
        self.role.is_none_or(|r| r.can(p))
    }

    /// `Forbidden` unless the role has the permission.
    pub fn require(&self, p: Perm) -> Result<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(StoreError::Forbidden(format!(
                "the role {} may not do this",
                self.role_code()
            )))
        }
    }

    /// Whether the scope covers every record of the city (the system, or a
    /// city-wide account that is not tied to one facility). Only such callers
    /// may choose record ids: for anyone else an id taken outside their area
    /// would answer differently from a free one (an existence oracle).
    pub fn is_city_wide(&self) -> bool {
        self.role != Some(Role::Family)
            && self.facility.is_none()
            && self
                .area_path
                .as_deref()
                .is_none_or(|p| p.matches('/').count() <= 2)
    }

    /// Whether the scope is a family account's (家属): it finds people only
    /// through its verified links (`family::relatives`), never by area.
    pub fn is_family(&self) -> bool {
        self.role == Some(Role::Family)
    }

    /// Whether an area path lies in the scope's subtree (never, for a family
    /// account: it finds only its linked relatives, by link).
    pub fn contains_path(&self, path: &str) -> bool {
        if self.is_family() {
            return false;
        }
        self.area_path
            .as_deref()
            .is_none_or(|p| path.starts_with(p))
    }

    /// Whether a facility lies in the scope (area and, for operators, the facility).
    pub fn contains_facility(&self, id: &str, area_path: &str) -> bool {
        self.contains_path(area_path) && self.facility.as_deref().is_none_or(|f| f == id)
    }

    /// Appends the scope's conditions (` AND …`) on an area-path column and,
    /// for operators, a facility-id column (`None`: the table has no such column,
    /// so an operator sees nothing).
    pub fn push_sql(
        &self,
        w: &mut String,
        p: &mut Vec<Value>,
        path_col: &str,
        facility_col: Option<&str>,
    ) {
        if self.is_family() {
            // A family account finds nothing by area (see `is_family`).
            w.push_str(" AND 1 = 0");
            return;
        }
        if let Some(path) = &self.area_path {
            p.push(path.as_str().into());
            w.push_str(&format!(" AND {path_col} >= ${}", p.len()));
            p.push(path_upper(path).into());
            w.push_str(&format!(" AND {path_col} < ${}", p.len()));
        }
        if let Some(f) = &self.facility {
            match facility_col {
                Some(col) => {
                    p.push(f.as_str().into());
                    w.push_str(&format!(" AND {col} = ${}", p.len()));
                }
                None => w.push_str(" AND 1 = 0"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_analysts_see_no_people() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>(), Ok(r));
        }
        assert!(!Role::Analyst.can(Perm::ReadPeople));
        assert!(!Role::CityAdmin.can(Perm::ReadAudit));
        assert!(Role::Auditor.can(Perm::ReadAudit));
    }

    #[test]
    fn scope_sql_bounds_the_subtree() {
        let s = Scope::user(
            Actor::default(),
            Role::TownStaff,
            "/330400/330402/330402001/",
            None,
        );
        let mut w = String::new();
        let mut p = Vec::new();
        s.push_sql(&mut w, &mut p, "area_path", Some("id"));
        assert_eq!(w, " AND area_path >= $1 AND area_path < $2");
        assert!(s.contains_path("/330400/330402/330402001/330402001001/"));
        assert!(!s.contains_path("/330400/330402/330402002/"));
        let op = Scope::user(Actor::default(), Role::FacilityOperator, "/330400/", None);
        let mut w = String::new();
        op.push_sql(&mut w, &mut p, "area_path", None);
        assert!(w.ends_with("1 = 0"));
        assert!(!op.is_city_wide());
        assert!(!s.is_city_wide());
        assert!(Scope::user(Actor::default(), Role::CityAdmin, "/330400/", None).is_city_wide());
        assert!(Scope::system("t").is_city_wide());
        let fam = Scope::user(Actor::default(), Role::Family, "/330400/", None);
        let mut w = String::new();
        fam.push_sql(&mut w, &mut p, "area_path", Some("id"));
        assert_eq!(w, " AND 1 = 0");
        assert!(!fam.is_city_wide());
        assert!(!fam.contains_path("/330400/330402/"));
        assert!(!Role::Family.can(Perm::ReadPeople));
        assert!(!Role::Family.can(Perm::ReadFacilities));
        assert!(Role::Family.can(Perm::OrderServices));
    }
}
