//! The activity registers (phase 2): staff (从业人员), service records (服务记录),
//! childcare enrolments (入托), care-home residences (入住) and eldercare student
//! cohorts (养老服务相关专业学生). They link people and facilities, and are what
//! the plan's staffing and service indicators (6–8, 16–19, 30, 41–42) count.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::bounds;
use crate::check::Checker;
use crate::error::FieldError;
use crate::person::AbilityLevel;

crate::code_enum! {
    /// Job of a staff member (岗位).
    pub enum StaffRole {
        /// 养老护理员
        CareWorker = ("care_worker", "养老护理员", "Care worker"),
        /// 社会工作者
        SocialWorker = ("social_worker", "社会工作者", "Social worker"),
        /// 保育员
        NurseryStaff = ("nursery_staff", "保育员", "Nursery staff"),
        /// 育婴员
        InfantCarer = ("infant_carer", "育婴员", "Infant carer"),
        /// 保健员
        HealthStaff = ("health_staff", "保健员", "Health staff"),
        /// 其他 (managers, cooks, drivers …)
        Other = ("other", "其他", "Other"),
    }
}

impl StaffRole {
    /// The childcare roles (托育从业人员 of indicators 41–42).
    pub fn is_childcare(self) -> bool {
        matches!(
            self,
            StaffRole::NurseryStaff | StaffRole::InfantCarer | StaffRole::HealthStaff
        )
    }
}

crate::code_enum! {
    /// Vocational skill grade (职业技能等级) of a certificate, 五级 to 一级.
    pub enum SkillGrade {
        /// No graded certificate.
        Ungraded = ("none", "无", "None"),
        /// 初级工 (五级)
        Junior = ("junior", "初级工", "Junior"),
        /// 中级工 (四级)
        Intermediate = ("intermediate", "中级工", "Intermediate"),
        /// 高级工 (三级)
        Senior = ("senior", "高级工", "Senior"),
        /// 技师 (二级)
        Technician = ("technician", "技师", "Technician"),
        /// 高级技师 (一级)
        SeniorTechnician = ("senior_technician", "高级技师", "Senior technician"),
    }
}

impl SkillGrade {
    /// 高级工 or above: what indicator 18 counts.
    pub fn senior_or_above(self) -> bool {
        matches!(
            self,
            SkillGrade::Senior | SkillGrade::Technician | SkillGrade::SeniorTechnician
        )
    }
}

crate::code_enum! {
    /// Kind of service given to a person (服务类型).
    pub enum ServiceKind {
        /// 探访: a visit to a special-difficulty elderly person (indicator 8).
        Visit = ("visit", "探访", "Visit"),
        /// 助餐: meals (one record per person and month served).
        MealAssistance = ("meal_assistance", "助餐", "Meal assistance"),
        /// 家庭养老床位: a home-care bed set up for the person.
        HomeCareBed = ("home_care_bed", "家庭养老床位", "Home-care bed"),
        /// 老年人能力评估 (GB/T 42195-2022); the record carries the level found.
        AbilityAssessment = ("ability_assessment", "能力评估", "Ability assessment"),
        /// 新生儿访视 (indicator 30).
        NewbornVisit = ("newborn_visit", "新生儿访视", "Newborn home visit"),
        /// 喘息服务
        RespiteService = ("respite_service", "喘息服务", "Respite service"),
        /// 专业照护: professional care at home (indicator 7).
        ProfessionalCare = ("professional_care", "专业照护", "Professional care"),
    }
}

impl ServiceKind {
    /// True when the person served is an infant rather than an elderly person.
    pub fn for_infants(self) -> bool {
        self == ServiceKind::NewbornVisit
    }
}

/// A staff member (从业人员) of a facility. `name` is personal data: outputs
/// shown to users mask it as they mask people's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Staff {
    /// The register's own id.
    pub id: String,
    /// The employer (用人单位).
    pub facility_id: String,
    pub role: StaffRole,
    pub name: String,
    /// Holds a qualification certificate for the job (持证上岗).
    #[serde(default)]
    pub certified: bool,
    /// The certificate's name (证书名称), e.g. 养老护理员职业技能等级证书.
    #[serde(default)]
    pub certificate: Option<String>,
    /// 职业技能等级 of the certificate.
    #[serde(default = "default_grade")]
    pub skill_grade: SkillGrade,
    /// 入职日期
    pub hired_date: NaiveDate,
    /// 离职日期; absent while employed.
    #[serde(default)]
    pub left_date: Option<NaiveDate>,
}

fn default_grade() -> SkillGrade {
    SkillGrade::Ungraded
}

impl Staff {
    /// True when employed on `d`.
    pub fn employed_on(&self, d: NaiveDate) -> bool {
        self.hired_date <= d && self.left_date.is_none_or(|l| l > d)
    }
}

/// One service given to a person (服务记录).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub id: String,
    /// The person served: an elderly person, or an infant for newborn visits.
    pub person_id: String,
    pub kind: ServiceKind,
    pub date: NaiveDate,
    /// The provider, where one is on the register.
    #[serde(default)]
    pub facility_id: Option<String>,
    /// The level found, for ability assessments only.
    #[serde(default)]
    pub ability_level: Option<AbilityLevel>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A childcare enrolment (入托) of an infant in a facility and class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrolment {
    pub id: String,
    pub infant_id: String,
    pub facility_id: String,
    /// The class, when the facility has classes on the register.
    #[serde(default)]
    pub class_id: Option<String>,
    /// 入托日期
    pub start_date: NaiveDate,
    /// 离托日期; absent while enrolled.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
}

impl Enrolment {
    /// True when enrolled on `d`.
    pub fn active_on(&self, d: NaiveDate) -> bool {
        self.start_date <= d && self.end_date.is_none_or(|e| e >= d)
    }
}

/// A stay of an elderly person in a care home (入住).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Residence {
    pub id: String,
    pub person_id: String,
    /// The care home.
    pub facility_id: String,
    /// 入住日期
    pub admitted_date: NaiveDate,
    /// 退住日期; absent while living there.
    #[serde(default)]
    pub discharged_date: Option<NaiveDate>,
}

impl Residence {
    /// True when living in the home on `d`.
    pub fn active_on(&self, d: NaiveDate) -> bool {
        self.admitted_date <= d && self.discharged_date.is_none_or(|e| e > d)
    }
}

/// One intake of an eldercare-related programme (养老服务相关专业) at a school:
/// counts only, no personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentCohort {
    pub id: String,
    /// 院校
    pub institution: String,
    /// 专业
    pub program: String,
    /// 入学年份
    pub intake_year: i64,
    /// 入学人数
    pub enrolled: i64,
    /// 毕业人数 (0 until the cohort graduates).
    #[serde(default)]
    pub graduated: i64,
}

/// Programmes run three years (中职/高职): a cohort of intake year Y studies in
/// Y … Y+2 and graduates in Y+3's summer.
pub const PROGRAM_YEARS: i64 = 3;

impl StudentCohort {
    /// Students counted for year `y` by indicator 19 (就读学生数，含毕业): the
    /// enrolled of cohorts still studying in `y`, plus the graduates of `y`.
    pub fn counted_in(&self, y: i64) -> i64 {
        // Saturating: a stored year may predate the range checks.
        if (y.saturating_sub(PROGRAM_YEARS - 1)..=y).contains(&self.intake_year) {
            self.enrolled
        } else if self.intake_year.saturating_add(PROGRAM_YEARS) == y {
            self.graduated
        } else {
            0
        }
    }
}

fn required(errs: &mut Vec<FieldError>, field: &str, v: &str) {
    if v.trim().is_empty() {
        errs.push(FieldError::new(field, "must not be empty"));
    }
    bounds::check_text(field, v, false, errs);
}

fn not_future(errs: &mut Vec<FieldError>, field: &str, d: NaiveDate, today: NaiveDate) {
    if d > today {
        errs.push(FieldError::new(field, format!("{d} is in the future")));
    }
}

fn in_order(
    errs: &mut Vec<FieldError>,
    (from_field, from): (&str, NaiveDate),
    (to_field, to): (&str, Option<NaiveDate>),
) {
    if let Some(to) = to
        && to < from
    {
        errs.push(FieldError::new(
            to_field,
            format!("{to} is before {from_field} {from}"),
        ));
    }
}

impl Staff {
    /// Checks every rule that needs no database; returns every failing field.
    pub fn validate(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        required(&mut errs, "id", &self.id);
        required(&mut errs, "facility_id", &self.facility_id);
        required(&mut errs, "name", &self.name);
        bounds::check_opt_text("certificate", self.certificate.as_deref(), &mut errs);
        if !self.certified && self.certificate.is_some() {
            errs.push(FieldError::new(
                "certificate",
                "a certificate is named but certified is false",
            ));
        }
        if !self.certified && self.skill_grade != SkillGrade::Ungraded {
            errs.push(FieldError::new(
                "skill_grade",
                "a skill grade needs a certificate (certified is false)",
            ));
        }
        not_future(&mut errs, "hired_date", self.hired_date, today);
        in_order(
            &mut errs,
            ("hired_date", self.hired_date),
            ("left_date", self.left_date),
        );
        if let Some(l) = self.left_date {
            not_future(&mut errs, "left_date", l, today);
        }
        errs
    }
}

impl ServiceRecord {
    /// Checks every rule that needs no database; returns every failing field.
    pub fn validate(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        required(&mut errs, "id", &self.id);
        required(&mut errs, "person_id", &self.person_id);
        not_future(&mut errs, "date", self.date, today);
        if let Some(f) = &self.facility_id {
            required(&mut errs, "facility_id", f);
        }
        if let Some(n) = &self.note {
            bounds::check_text("note", n, true, &mut errs);
        }
        match (self.kind, self.ability_level) {
            (ServiceKind::AbilityAssessment, None) => errs.push(FieldError::new(
                "ability_level",
                "required for an ability assessment",
            )),
            (ServiceKind::AbilityAssessment, Some(_)) | (_, None) => {}
            (k, Some(_)) => errs.push(FieldError::new(
                "ability_level",
                format!("only for ability assessments, not {}", k.code()),
            )),
        }
        errs
    }
}

impl Enrolment {
    /// Checks every rule that needs no database; returns every failing field.
    pub fn validate(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        required(&mut errs, "id", &self.id);
        required(&mut errs, "infant_id", &self.infant_id);
        required(&mut errs, "facility_id", &self.facility_id);
        if let Some(c) = &self.class_id {
            required(&mut errs, "class_id", c);
        }
        not_future(&mut errs, "start_date", self.start_date, today);
        in_order(
            &mut errs,
            ("start_date", self.start_date),
            ("end_date", self.end_date),
        );
        errs
    }
}

impl Residence {
    /// Checks every rule that needs no database; returns every failing field.
    pub fn validate(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        required(&mut errs, "id", &self.id);
        required(&mut errs, "person_id", &self.person_id);
        required(&mut errs, "facility_id", &self.facility_id);
        not_future(&mut errs, "admitted_date", self.admitted_date, today);
        in_order(
            &mut errs,
            ("admitted_date", self.admitted_date),
            ("discharged_date", self.discharged_date),
        );
        if let Some(d) = self.discharged_date {
            not_future(&mut errs, "discharged_date", d, today);
        }
        errs
    }
}

impl StudentCohort {
    /// Checks every rule that needs no database; returns every failing field.
    pub fn validate(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        required(&mut errs, "id", &self.id);
        required(&mut errs, "institution", &self.institution);
        required(&mut errs, "program", &self.program);
        let this_year = i64::from(today.year());
        if !(1950..=this_year).contains(&self.intake_year) {
            errs.push(FieldError::new(
                "intake_year",
                format!(
                    "{} is not a year from 1950 to {this_year}",
                    self.intake_year
                ),
            ));
        }
        bounds::COHORT_ENROLLED.check(self.enrolled, &mut errs);
        if !bounds::COHORT_GRADUATED.contains(self.graduated) {
            bounds::COHORT_GRADUATED.check(self.graduated, &mut errs);
        } else if self.graduated > self.enrolled.max(0) {
            errs.push(FieldError::new(
                "graduated",
                format!(
                    "{} graduates exceed the {} enrolled",
                    self.graduated, self.enrolled
                ),
            ));
        }
        if self.graduated > 0 && self.intake_year.saturating_add(PROGRAM_YEARS) > this_year {
            errs.push(FieldError::new(
                "graduated",
                format!(
                    "a {}-year programme begun in {} has no graduates yet",
                    PROGRAM_YEARS, self.intake_year
                ),
            ));
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_rules::NationalMaxima;
    use laoxiao_spatial::IndexedBoundary;

    fn d(s: &str) -> NaiveDate {
        crate::columns::parse_date(s).expect("date")
    }

    fn fields(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.field.as_str()).collect()
    }

    fn with_checker(f: impl FnOnce(&Checker<'_>)) {
        let areas = crate::jiaxing::areas().expect("areas");
        let boundary: IndexedBoundary = crate::jiaxing::city_boundary().expect("boundary").into();
        let ck = Checker {
            areas: &areas,
            boundary: &boundary,
            class_limits: &NationalMaxima,
        };
        f(&ck);
    }

    #[test]
    fn every_failing_field_is_reported() {
        let today = d("2022-12-31");
        with_checker(|ck| {
            let s = Staff {
                id: "S1".into(),
                facility_id: " ".into(),
                role: StaffRole::CareWorker,
                name: "张三".into(),
                certified: false,
                certificate: Some("养老护理员".into()),
                skill_grade: SkillGrade::Senior,
                hired_date: d("2021-05-01"),
                left_date: Some(d("2020-01-01")),
            };
            assert_eq!(
                fields(&s.validate(ck, today)),
                vec!["facility_id", "certificate", "skill_grade", "left_date"]
            );
            let r = ServiceRecord {
                id: "V1".into(),
                person_id: "E1".into(),
                kind: ServiceKind::Visit,
                date: d("2023-01-05"),
                facility_id: None,
                ability_level: Some(AbilityLevel::Mild),
                note: None,
            };
            assert_eq!(
                fields(&r.validate(ck, today)),
                vec!["date", "ability_level"]
            );
            let a = ServiceRecord {
                kind: ServiceKind::AbilityAssessment,
                ability_level: None,
                date: d("2022-01-05"),
                ..r
            };
            assert_eq!(fields(&a.validate(ck, today)), vec!["ability_level"]);
            let e = Enrolment {
                id: "N1".into(),
                infant_id: "I1".into(),
                facility_id: "F1".into(),
                class_id: None,
                start_date: d("2022-09-01"),
                end_date: Some(d("2022-08-01")),
            };
            assert_eq!(fields(&e.validate(ck, today)), vec!["end_date"]);
            let h = Residence {
                id: "R1".into(),
                person_id: "E1".into(),
                facility_id: "H1".into(),
                admitted_date: d("2022-09-01"),
                discharged_date: Some(d("2022-08-01")),
            };
            assert_eq!(fields(&h.validate(ck, today)), vec!["discharged_date"]);
            let c = StudentCohort {
                id: "K1".into(),
                institution: "学院".into(),
                program: "智慧健康养老服务与管理".into(),
                intake_year: 2021,
                enrolled: 40,
                graduated: 41,
            };
            assert_eq!(
                fields(&c.validate(ck, today)),
                vec!["graduated", "graduated"]
            );
        });
    }

    #[test]
    fn cohorts_count_students_and_the_year_s_graduates() {
        let c = StudentCohort {
            id: "K".into(),
            institution: "x".into(),
            program: "y".into(),
            intake_year: 2018,
            enrolled: 40,
            graduated: 37,
        };
        assert_eq!(c.counted_in(2017), 0);
        assert_eq!(c.counted_in(2018), 40);
        assert_eq!(c.counted_in(2020), 40);
        assert_eq!(c.counted_in(2021), 37);
        assert_eq!(c.counted_in(2022), 0);
    }
}
