//! The activity registers (phase 2): staff (从业人员), service records (服务记录),
//! childcare enrolments (入托), care-home residences (入住), eldercare student
//! cohorts (养老服务相关专业学生) and insurance enrolments (参保登记). They link
//! people and facilities, and are what the plan's staffing, service and
//! insurance indicators (6–8, 16–19, 24, 30, 41–43, 45) count.

use chrono::{Datelike, NaiveDate};

use crate::bounds;
use crate::check::Checker;
use crate::error::FieldError;
use crate::facility::{CareType, FacilityKind};
use crate::person::{AbilityLevel, PersonRole};
use crate::refs::{KnownRefs, References, facility_of_kind};
use crate::register::{Domain, Rules, ScopeRule};

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
        /// 儿童健康检查: a health check of a child under three (婴幼儿健康管理,
        /// indicator 43).
        ChildHealthCheck = ("child_health_check", "儿童健康检查", "Child health check"),
        /// 发育筛查: a developmental screening of a child under three
        /// (indicator 45).
        DevelopmentalScreening = ("developmental_screening", "发育筛查", "Developmental screening"),
        /// 上门服务: a home service a family ordered from a provider's
        /// catalogue (助浴、助洁、康复、陪诊 …; meals are 助餐).
        HomeService = ("home_service", "上门服务", "Home service"),
    }
}

impl ServiceKind {
    /// True when the person served is an infant rather than an elderly person.
    pub fn for_infants(self) -> bool {
        matches!(
            self,
            ServiceKind::NewbornVisit
                | ServiceKind::ChildHealthCheck
                | ServiceKind::DevelopmentalScreening
        )
    }
}

crate::register! {
    /// A staff member (从业人员) of a facility. `name` is personal data: outputs
    /// shown to users mask it as they mask people's names.
    pub struct Staff in STAFF {
        key: "staff", table: "staff", zh: "从业人员", en: "Staff",
        scope: ScopeRule::Facility("facility_id"), domain: Domain::Facilities,
    }
    fields {
        /// The register's own id.
        id: String = id(),
        /// The employer (用人单位).
        facility_id: String = reference("用人单位编号", "Employer", "facilities").required().filter(),
        role: StaffRole = enumeration("岗位", "Role", StaffRole::VALUES).required().filter(),
        name: String = text("姓名", "Name").required().personal().search(),
        /// Holds a qualification certificate for the job (持证上岗).
        #[serde(default)]
        certified: bool = boolean("持证", "Certified").or("false").filter(),
        /// The certificate's name (证书名称), e.g. 养老护理员职业技能等级证书.
        #[serde(default)]
        certificate: Option<String> = text("证书名称", "Certificate"),
        /// 职业技能等级 of the certificate.
        #[serde(default = "default_grade")]
        skill_grade: SkillGrade = enumeration("技能等级", "Skill grade", SkillGrade::VALUES).or("none").filter(),
        /// 入职日期
        hired_date: NaiveDate = date("入职日期", "Hired").required().filter(),
        /// 离职日期; absent while employed.
        #[serde(default)]
        left_date: Option<NaiveDate> = date("离职日期", "Left").filter(),
        /// 最近体检日期: the last health check (管理规范 第二十八条: before
        /// starting work, then once a year). Health data, so personal: lists
        /// show it masked; the worklist names who is due.
        #[serde(default)]
        health_check_date: Option<NaiveDate> = date("体检日期", "Health check").personal().filter(),
    }
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

crate::register! {
    /// One service given to a person (服务记录).
    pub struct ServiceRecord in SERVICES {
        key: "services", table: "service_record", zh: "服务记录", en: "Service records",
        scope: ScopeRule::Person("person_id"), domain: Domain::People,
    }
    fields {
        id: String = id(),
        /// The person served: an elderly person, or an infant for newborn visits.
        person_id: String = reference("服务对象编号", "Person", "people").required().filter(),
        kind: ServiceKind = enumeration("服务类型", "Kind", ServiceKind::VALUES).required().filter(),
        date: NaiveDate = date("服务日期", "Date").required().filter(),
        /// The provider, where one is on the register.
        #[serde(default)]
        facility_id: Option<String> = reference("服务机构编号", "Provider", "facilities").filter(),
        /// The level found, for ability assessments only.
        #[serde(default)]
        ability_level: Option<AbilityLevel> = enumeration("评估能力等级", "Ability level found", AbilityLevel::VALUES).personal(),
        #[serde(default)]
        note: Option<String> = note("备注", "Note").personal(),
    }
}

crate::register! {
    /// A childcare enrolment (入托) of an infant in a facility and class.
    pub struct Enrolment in ENROLMENTS {
        key: "enrolments", table: "enrolment", zh: "入托", en: "Childcare enrolments",
        scope: ScopeRule::Facility("facility_id"), domain: Domain::People,
    }
    fields {
        id: String = id(),
        infant_id: String = reference("婴幼儿编号", "Infant", "infants").required().filter(),
        facility_id: String = reference("托育机构编号", "Childcare facility", "facilities").required().filter(),
        /// The class, when the facility has classes on the register.
        #[serde(default)]
        class_id: Option<String> = reference("班级编号", "Class", "classes").listed(),
        /// 入托日期
        start_date: NaiveDate = date("入托日期", "Start").required().filter(),
        /// 离托日期; absent while enrolled.
        #[serde(default)]
        end_date: Option<NaiveDate> = date("离托日期", "End").filter(),
        /// 托育类型 (全日托, 半日托, 计时托, 临时托), which the monthly bill prices;
        /// absent on older imported rows.
        #[serde(default)]
        care_type: Option<CareType> = enumeration("托育类型", "Care type", CareType::VALUES).filter(),
    }
}

impl Enrolment {
    /// True when enrolled on `d`.
    pub fn active_on(&self, d: NaiveDate) -> bool {
        self.start_date <= d && self.end_date.is_none_or(|e| e >= d)
    }
}

crate::register! {
    /// A stay of an elderly person in a care home (入住).
    pub struct Residence in RESIDENCES {
        key: "residences", table: "residence", zh: "入住", en: "Care-home residences",
        scope: ScopeRule::Facility("facility_id"), domain: Domain::People,
    }
    fields {
        id: String = id(),
        person_id: String = reference("老年人编号", "Elderly person", "elderly").required().filter(),
        /// The care home.
        facility_id: String = reference("养老机构编号", "Care home", "facilities").required().filter(),
        /// 入住日期
        admitted_date: NaiveDate = date("入住日期", "Admitted").required().filter(),
        /// 退住日期; absent while living there.
        #[serde(default)]
        discharged_date: Option<NaiveDate> = date("退住日期", "Discharged").filter(),
    }
}

impl Residence {
    /// True when living in the home on `d`.
    pub fn active_on(&self, d: NaiveDate) -> bool {
        self.admitted_date <= d && self.discharged_date.is_none_or(|e| e > d)
    }
}

crate::register! {
    /// One intake of an eldercare-related programme (养老服务相关专业) at a school:
    /// counts only, no personal data.
    pub struct StudentCohort in STUDENT_COHORTS {
        key: "student_cohorts", table: "student_cohort", zh: "养老服务相关专业学生", en: "Eldercare students",
        scope: ScopeRule::City, domain: Domain::Facilities,
    }
    fields {
        id: String = id(),
        /// 院校
        institution: String = text("院校", "School").required().search(),
        /// 专业
        program: String = text("专业", "Programme").required().search(),
        /// 入学年份
        intake_year: i64 = int("入学年份", "Intake year", &bounds::INTAKE_YEAR).required().filter(),
        /// 入学人数
        enrolled: i64 = int("入学人数", "Enrolled", &bounds::COHORT_ENROLLED).required().listed(),
        /// 毕业人数 (0 until the cohort graduates).
        #[serde(default)]
        graduated: i64 = int("毕业人数", "Graduated", &bounds::COHORT_GRADUATED).or("0").listed(),
    }
}

crate::code_enum! {
    /// Kind of insurance a person is enrolled in (参保险种).
    pub enum InsuranceKind {
        /// 政策性老年人意外伤害保险 (indicator 24): elderly people.
        ElderlyAccident = ("elderly_accident", "政策性老年人意外伤害保险", "Policy accident insurance for the elderly"),
        /// 长期护理保险 (长护险): elderly people.
        LongTermCare = ("long_term_care", "长期护理保险", "Long-term care insurance"),
        /// 托育婴幼儿意外伤害保险: children in childcare.
        ChildcareAccident = ("childcare_accident", "托育婴幼儿意外伤害保险", "Childcare accident insurance"),
    }
}

impl InsuranceKind {
    /// True when the insured person is an infant rather than an elderly person.
    pub fn for_infants(self) -> bool {
        self == InsuranceKind::ChildcareAccident
    }
}

crate::register! {
    /// An insurance enrolment (参保登记): one person insured by one kind of
    /// insurance from a start date, until an end date when it has ended.
    pub struct InsuranceEnrolment in INSURANCE {
        key: "insurance", table: "insurance_enrolment", zh: "参保登记", en: "Insurance enrolments",
        scope: ScopeRule::Person("person_id"), domain: Domain::People,
    }
    fields {
        id: String = id(),
        /// The insured (参保人): an elderly person, or an infant for childcare accident insurance.
        person_id: String = reference("参保人编号", "Person", "people").required().filter(),
        /// 险种
        kind: InsuranceKind = enumeration("险种", "Kind", InsuranceKind::VALUES).required().filter(),
        /// 参保起始日期
        start_date: NaiveDate = date("参保起始日期", "Start").required().filter(),
        /// 参保终止日期; absent while insured.
        #[serde(default)]
        end_date: Option<NaiveDate> = date("参保终止日期", "End").filter(),
        #[serde(default)]
        note: Option<String> = note("备注", "Note").personal(),
    }
}

crate::register! {
    /// A home-care bed contract (家庭养老床位服务协议): a provider (服务机构)
    /// serves an elderly person at home by a service plan, so many hours a
    /// month, with devices installed, from a start date until an end date.
    /// Service visits against it (laoxiao_store::visits) write service
    /// records of kind `home_care_bed`.
    pub struct HomeCareContract in HOME_CARE_CONTRACTS {
        key: "home_care_beds", table: "home_care_contract", zh: "家庭养老床位", en: "Home-care beds",
        scope: ScopeRule::Person("person_id"), domain: Domain::People,
    }
    fields {
        id: String = id(),
        /// The person served at home (服务对象).
        person_id: String = reference("服务对象编号", "Person", "people").required().filter(),
        /// The provider (服务机构): an elderly-care facility.
        facility_id: String = reference("服务机构编号", "Provider", "facilities").required().filter(),
        /// 服务计划
        service_plan: String = note("服务计划", "Service plan").required().personal(),
        /// 每月服务时长（小时）
        hours_per_month: i64 = int("每月服务时长（小时）", "Hours per month", &bounds::CARE_HOURS).required().listed(),
        /// 安装设备 (e.g. 紧急呼叫按钮、烟感、床垫传感器)
        #[serde(default)]
        devices: Option<String> = note("安装设备", "Devices installed"),
        /// 协议起始日期
        start_date: NaiveDate = date("起始日期", "Start").required().filter(),
        /// 协议终止日期; absent while running.
        #[serde(default)]
        end_date: Option<NaiveDate> = date("终止日期", "End").filter(),
    }
}

impl HomeCareContract {
    /// True when the contract runs on `d` (both ends count).
    pub fn runs_on(&self, d: NaiveDate) -> bool {
        self.start_date <= d && self.end_date.is_none_or(|e| e >= d)
    }
}

impl InsuranceEnrolment {
    /// True when insured on `d` (both ends count).
    pub fn covers(&self, d: NaiveDate) -> bool {
        self.start_date <= d && self.end_date.is_none_or(|e| e >= d)
    }
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

impl Rules for Staff {
    fn rules(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
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
        if let Some(h) = self.health_check_date {
            not_future(&mut errs, "health_check_date", h, today);
        }
        errs
    }
}

impl Rules for ServiceRecord {
    fn rules(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        not_future(&mut errs, "date", self.date, today);
        if let Some(f) = &self.facility_id
            && f.trim().is_empty()
        {
            errs.push(FieldError::new("facility_id", "must not be empty"));
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

impl Rules for Enrolment {
    fn rules(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if let Some(c) = &self.class_id
            && c.trim().is_empty()
        {
            errs.push(FieldError::new("class_id", "must not be empty"));
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

impl Rules for Residence {
    fn rules(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
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

impl Rules for HomeCareContract {
    fn rules(&self, _ck: &Checker<'_>, _today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if self.service_plan.trim().is_empty() {
            errs.push(FieldError::new("service_plan", "must not be empty"));
        }
        in_order(
            &mut errs,
            ("start_date", self.start_date),
            ("end_date", self.end_date),
        );
        errs
    }
}

impl Rules for InsuranceEnrolment {
    fn rules(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        not_future(&mut errs, "start_date", self.start_date, today);
        in_order(
            &mut errs,
            ("start_date", self.start_date),
            ("end_date", self.end_date),
        );
        errs
    }
}

impl Rules for StudentCohort {
    fn rules(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
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
        if bounds::COHORT_GRADUATED.contains(self.graduated)
            && self.graduated > self.enrolled.max(0)
        {
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

// What each record's references must point to (checked by the import and the
// API alike, against what the caller may see).

impl References for Staff {
    fn references(&self, refs: &KnownRefs) -> Vec<FieldError> {
        let k = match refs.facility(&self.facility_id) {
            Err(e) => return vec![FieldError::new("facility_id", e)],
            Ok(k) => k,
        };
        let wrong = match self.role {
            StaffRole::CareWorker => !k.is_elderly(),
            StaffRole::NurseryStaff | StaffRole::InfantCarer => k.is_elderly(),
            _ => false,
        };
        if wrong {
            vec![FieldError::new(
                "role",
                format!(
                    "a {} does not work at a {} ({})",
                    self.role.label_en().to_lowercase(),
                    k.label_en().to_lowercase(),
                    self.facility_id
                ),
            )]
        } else {
            Vec::new()
        }
    }
}

impl References for ServiceRecord {
    fn references(&self, refs: &KnownRefs) -> Vec<FieldError> {
        let mut out = Vec::new();
        let want = if self.kind.for_infants() {
            PersonRole::Infant
        } else {
            PersonRole::Elderly
        };
        if let Err(e) = refs.person(&self.person_id, want) {
            out.push(FieldError::new("person_id", e));
        }
        if let Some(f) = &self.facility_id
            && let Err(e) = refs.facility(f)
        {
            out.push(FieldError::new("facility_id", e));
        }
        out
    }
}

impl Enrolment {
    /// The child's age on the start date must be one the class's type takes
    /// (托育机构设置标准 第十五条: 乳儿班 6–12 months, 托小班 12–24, 托大班
    /// 24–36, 混合编班 from 18). Checked where the class type, the child's
    /// birth date and the ages are known.
    fn age_fits(&self, class: &str, refs: &KnownRefs) -> Option<FieldError> {
        let ty = refs.class_types.get(class)?;
        let birth = refs.birth_dates.get(&self.infant_id)?;
        let (lo, hi, source) = refs.class_ages.get(ty)?;
        let takes = format!(
            "a {} takes children of {lo} to {hi} months ({source})",
            ty.label_zh()
        );
        if *birth > self.start_date {
            return Some(FieldError::new(
                "class_id",
                format!("the child is not yet born on {}; {takes}", self.start_date),
            ));
        }
        let age = crate::person::age_months_on(*birth, self.start_date);
        (age < *lo || age >= *hi).then(|| {
            FieldError::new(
                "class_id",
                format!(
                    "the child is {age} months old on {}; {takes}",
                    self.start_date
                ),
            )
        })
    }
}

impl References for Enrolment {
    fn references(&self, refs: &KnownRefs) -> Vec<FieldError> {
        let mut out = Vec::new();
        if let Err(e) = refs.person(&self.infant_id, PersonRole::Infant) {
            out.push(FieldError::new("infant_id", e));
        }
        out.extend(facility_of_kind(
            refs,
            "facility_id",
            &self.facility_id,
            FacilityKind::has_slots,
            "which takes no enrolments",
        ));
        if let Some(c) = &self.class_id {
            match refs.class_facility(c) {
                Err(e) => out.push(FieldError::new("class_id", e)),
                Ok(f) if f != self.facility_id => out.push(FieldError::new(
                    "class_id",
                    format!(
                        "class {c:?} belongs to facility {f:?}, not {:?}",
                        self.facility_id
                    ),
                )),
                Ok(_) => out.extend(self.age_fits(c, refs)),
            }
        }
        out
    }
}

impl References for Residence {
    fn references(&self, refs: &KnownRefs) -> Vec<FieldError> {
        let mut out = Vec::new();
        if let Err(e) = refs.person(&self.person_id, PersonRole::Elderly) {
            out.push(FieldError::new("person_id", e));
        }
        out.extend(facility_of_kind(
            refs,
            "facility_id",
            &self.facility_id,
            FacilityKind::has_beds,
            "which has no beds",
        ));
        out
    }
}

impl References for HomeCareContract {
    fn references(&self, refs: &KnownRefs) -> Vec<FieldError> {
        let mut out = Vec::new();
        if let Err(e) = refs.person(&self.person_id, PersonRole::Elderly) {
            out.push(FieldError::new("person_id", e));
        }
        out.extend(facility_of_kind(
            refs,
            "facility_id",
            &self.facility_id,
            FacilityKind::is_elderly,
            "which is not an elderly-care provider",
        ));
        out
    }
}

impl References for InsuranceEnrolment {
    /// Elderly kinds insure elderly people; childcare accident insurance, infants.
    fn references(&self, refs: &KnownRefs) -> Vec<FieldError> {
        let want = if self.kind.for_infants() {
            PersonRole::Infant
        } else {
            PersonRole::Elderly
        };
        match refs.person(&self.person_id, want) {
            Err(e) => vec![FieldError::new("person_id", e)],
            Ok(()) => Vec::new(),
        }
    }
}

impl References for StudentCohort {
    /// Cohorts name schools by text, not by reference.
    fn references(&self, _refs: &KnownRefs) -> Vec<FieldError> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_rules::{NationalMaxima, with_checker};
    use crate::register::Record;

    fn d(s: &str) -> NaiveDate {
        crate::columns::parse_date(s).expect("date")
    }

    /// A child born 2025-03-15 enrolled on days that make it 5, 6, 11, 12,
    /// 17 and 18 whole months old: each class type takes exactly its ages
    /// (from inclusive, to exclusive), and a refusal names the class, the age
    /// and the clause.
    #[test]
    fn a_child_enrols_only_in_a_class_of_its_age() {
        use crate::facility::ClassType;
        let mut refs = KnownRefs::default().with_class_ages(&NationalMaxima);
        refs.facilities
            .insert("F1".into(), FacilityKind::ChildcareInstitution);
        refs.people.insert("I1".into(), PersonRole::Infant);
        refs.birth_dates.insert("I1".into(), d("2025-03-15"));
        for (c, t) in [
            ("INF", ClassType::InfantClass),
            ("YT", ClassType::YoungToddlerClass),
            ("MIX", ClassType::MixedAgeClass),
        ] {
            refs.classes.insert(c.into(), "F1".into());
            refs.class_types.insert(c.into(), t);
        }
        let enrol = |class: &str, start: &str| Enrolment {
            id: "E1".into(),
            infant_id: "I1".into(),
            facility_id: "F1".into(),
            class_id: Some(class.into()),
            start_date: d(start),
            end_date: None,
            care_type: None,
        };
        // (class, start, months old that day, accepted)
        for (class, start, age, ok) in [
            ("INF", "2025-09-14", 5, false),
            ("INF", "2025-09-15", 6, true),
            ("INF", "2026-03-14", 11, true),
            ("INF", "2026-03-15", 12, false),
            ("YT", "2026-03-15", 12, true),
            ("YT", "2026-03-14", 11, false),
            ("MIX", "2026-09-14", 17, false),
            ("MIX", "2026-09-15", 18, true),
            ("INF", "2025-03-14", -1, false),
        ] {
            let errs = enrol(class, start).references(&refs);
            assert_eq!(errs.is_empty(), ok, "{class} on {start}: {errs:?}");
            if !ok {
                assert_eq!(fields(&errs), ["class_id"]);
                let said = if age < 0 {
                    format!("is not yet born on {start}")
                } else {
                    format!("is {age} months old on {start}")
                };
                assert!(
                    errs[0].reason.contains(&said) && errs[0].reason.contains("第十五条"),
                    "{}",
                    errs[0].reason
                );
            }
        }
        // Without the child's birth date (outside the caller's view) nothing
        // more is said than the references' own rules.
        refs.birth_dates.clear();
        assert!(enrol("INF", "2025-09-14").references(&refs).is_empty());
    }

    fn fields(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.field.as_str()).collect()
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
                health_check_date: Some(d("2023-02-01")),
            };
            assert_eq!(
                fields(&s.validate(ck, today)),
                vec![
                    "facility_id",
                    "certificate",
                    "skill_grade",
                    "left_date",
                    "health_check_date"
                ]
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
                care_type: None,
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
    fn insurance_dates_in_order_and_kinds_for_their_register() {
        let today = d("2022-12-31");
        with_checker(|ck| {
            let x = InsuranceEnrolment {
                id: "I1".into(),
                person_id: "E1".into(),
                kind: InsuranceKind::ElderlyAccident,
                start_date: d("2022-01-01"),
                end_date: Some(d("2021-12-31")),
                note: None,
            };
            assert_eq!(fields(&x.validate(ck, today)), vec!["end_date"]);
            let ok = InsuranceEnrolment {
                end_date: Some(d("2022-12-31")),
                ..x.clone()
            };
            assert!(ok.validate(ck, today).is_empty());
            assert!(ok.covers(d("2022-12-31")) && !ok.covers(d("2023-01-01")));
            let future = InsuranceEnrolment {
                start_date: d("2023-01-01"),
                end_date: None,
                ..x.clone()
            };
            assert_eq!(fields(&future.validate(ck, today)), vec!["start_date"]);
            let mut refs = KnownRefs::default();
            refs.people.insert("E1".into(), PersonRole::Elderly);
            refs.people.insert("B1".into(), PersonRole::Infant);
            assert!(ok.references(&refs).is_empty());
            let child = InsuranceEnrolment {
                person_id: "B1".into(),
                ..ok.clone()
            };
            let e = child.references(&refs);
            assert_eq!(fields(&e), vec!["person_id"]);
            assert!(e[0].reason.contains("infant"), "{}", e[0].reason);
            let childcare = InsuranceEnrolment {
                kind: InsuranceKind::ChildcareAccident,
                ..child
            };
            assert!(childcare.references(&refs).is_empty());
            let wrong = InsuranceEnrolment {
                kind: InsuranceKind::ChildcareAccident,
                ..ok
            };
            assert_eq!(fields(&wrong.references(&refs)), vec!["person_id"]);
        });
    }

    #[test]
    fn child_health_services_are_for_infants() {
        assert!(ServiceKind::ChildHealthCheck.for_infants());
        assert!(ServiceKind::DevelopmentalScreening.for_infants());
        assert!(!ServiceKind::Visit.for_infants());
        let mut refs = KnownRefs::default();
        refs.people.insert("E1".into(), PersonRole::Elderly);
        let r = ServiceRecord {
            id: "V1".into(),
            person_id: "E1".into(),
            kind: ServiceKind::ChildHealthCheck,
            date: d("2022-05-06"),
            facility_id: None,
            ability_level: None,
            note: None,
        };
        assert_eq!(fields(&r.references(&refs)), vec!["person_id"]);
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
