//! Facilities (设施): care homes, home-care centres and stations, childcare
//! institutions and the other service sites the plan counts.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::bounds;
use crate::check::Checker;
use crate::error::FieldError;

crate::code_enum! {
    /// Kind of facility.
    pub enum FacilityKind {
        /// 养老机构
        ElderlyInstitution = ("elderly_institution", "养老机构", "Care home"),
        /// 镇（街道）居家养老服务中心
        TownHomeCareCenter = ("town_home_care_center", "镇（街道）居家养老服务中心", "Town home-care centre"),
        /// 村（社区）居家养老服务照料中心
        VillageCareStation = ("village_care_station", "村（社区）居家养老服务照料中心", "Village care station"),
        /// 托育机构
        ChildcareInstitution = ("childcare_institution", "托育机构", "Childcare institution"),
        /// 幼儿园托班
        KindergartenNurseryClass = ("kindergarten_nursery_class", "幼儿园托班", "Kindergarten nursery class"),
        /// 向日葵亲子乐园
        SunflowerPark = ("sunflower_park", "向日葵亲子乐园", "Sunflower park"),
        /// 向日葵亲子小屋
        SunflowerHut = ("sunflower_hut", "向日葵亲子小屋", "Sunflower hut"),
        /// 婴幼儿照护服务指导中心
        GuidanceCenter = ("guidance_center", "婴幼儿照护服务指导中心", "Childcare guidance centre"),
        /// 康养联合体
        WellnessAlliance = ("wellness_alliance", "康养联合体", "Wellness alliance"),
        /// 老年学校 / 老年大学
        ElderlySchool = ("elderly_school", "老年学校", "Elderly school"),
        /// 老年食堂
        ElderlyCanteen = ("elderly_canteen", "老年食堂", "Elderly canteen"),
        /// 康复辅助器具社区租赁点
        AssistiveDeviceRental = ("assistive_device_rental", "康复辅助器具社区租赁点", "Assistive-device rental point"),
    }
}

impl FacilityKind {
    /// True for the elderly-care side of the plan (养老).
    pub fn is_elderly(self) -> bool {
        matches!(
            self,
            FacilityKind::ElderlyInstitution
                | FacilityKind::TownHomeCareCenter
                | FacilityKind::VillageCareStation
                | FacilityKind::WellnessAlliance
                | FacilityKind::ElderlySchool
                | FacilityKind::ElderlyCanteen
                | FacilityKind::AssistiveDeviceRental
        )
    }

    /// Kinds that take residents in beds.
    pub fn has_beds(self) -> bool {
        matches!(
            self,
            FacilityKind::ElderlyInstitution | FacilityKind::TownHomeCareCenter
        )
    }

    /// Kinds that offer childcare slots (托位) and classes.
    pub fn has_slots(self) -> bool {
        matches!(
            self,
            FacilityKind::ChildcareInstitution | FacilityKind::KindergartenNurseryClass
        )
    }

    /// Kinds that must sit at village level rather than town level.
    fn village_level(self) -> bool {
        matches!(self, FacilityKind::VillageCareStation)
    }
}

crate::code_enum! {
    /// Administrative level of a guidance centre (市/县/镇级) or wellness alliance (省/市级).
    pub enum FacilityLevel {
        Provincial = ("provincial", "省级", "Provincial"),
        City = ("city", "市级", "City"),
        County = ("county", "县级", "County"),
        Town = ("town", "镇级", "Town"),
    }
}

crate::code_enum! {
    /// Ownership (公办 / 公建民营 / 民办).
    pub enum Ownership {
        Public = ("public", "公办", "Public"),
        PublicBuiltPrivateRun = ("public_built_private_run", "公建民营", "Public-built, privately run"),
        Private = ("private", "民办", "Private"),
    }
}

crate::code_enum! {
    /// Rating (等级评定): 3A–5A for home-care stations, 1–5 stars for care homes (GB/T 37276).
    pub enum Rating {
        A3 = ("3a", "3A", "3A"),
        A4 = ("4a", "4A", "4A"),
        A5 = ("5a", "5A", "5A"),
        Star1 = ("star1", "一星级", "1 star"),
        Star2 = ("star2", "二星级", "2 stars"),
        Star3 = ("star3", "三星级", "3 stars"),
        Star4 = ("star4", "四星级", "4 stars"),
        Star5 = ("star5", "五星级", "5 stars"),
    }
}

impl Rating {
    /// True for the A-scale (stations and centres), false for stars.
    pub fn is_a_scale(self) -> bool {
        matches!(self, Rating::A3 | Rating::A4 | Rating::A5)
    }
}

crate::code_enum! {
    /// Filing (备案) status with the county health commission.
    pub enum FilingStatus {
        NotRequired = ("not_required", "无需备案", "Not required"),
        Unfiled = ("unfiled", "未备案", "Not filed"),
        Pending = ("pending", "备案中", "Pending"),
        Filed = ("filed", "已备案", "Filed"),
    }
}

crate::code_enum! {
    /// Operating status.
    pub enum FacilityStatus {
        Planned = ("planned", "筹建中", "Planned"),
        Operating = ("operating", "运营中", "Operating"),
        Suspended = ("suspended", "暂停运营", "Suspended"),
        Closed = ("closed", "已关闭", "Closed"),
    }
}

crate::code_enum! {
    /// Childcare class type (乳儿班 / 托小班 / 托大班 / 混龄班).
    pub enum ClassType {
        InfantClass = ("infant_class", "乳儿班", "Infant class"),
        YoungToddlerClass = ("young_toddler_class", "托小班", "Young toddler class"),
        OlderToddlerClass = ("older_toddler_class", "托大班", "Older toddler class"),
        MixedAgeClass = ("mixed_age_class", "混龄班", "Mixed-age class"),
    }
}

/// A facility on the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facility {
    /// The register's own id (an import file's id column); stable across re-imports.
    pub id: String,
    pub name: String,
    pub kind: FacilityKind,
    #[serde(default)]
    pub level: Option<FacilityLevel>,
    #[serde(default)]
    pub ownership: Option<Ownership>,
    #[serde(default)]
    pub operator_name: Option<String>,
    /// 统一社会信用代码 (GB 32100) of the operator.
    #[serde(default)]
    pub operator_credit_code: Option<String>,
    /// Town- or village-level area code.
    pub area_code: String,
    #[serde(default)]
    pub address: Option<String>,
    /// Longitude, WGS-84.
    #[serde(default)]
    pub lng: Option<f64>,
    /// Latitude, WGS-84.
    #[serde(default)]
    pub lat: Option<f64>,
    /// 养老床位
    #[serde(default)]
    pub beds: Option<i64>,
    /// 护理型床位
    #[serde(default)]
    pub nursing_beds: Option<i64>,
    /// 认知障碍床位
    #[serde(default)]
    pub dementia_beds: Option<i64>,
    /// 核定托位数
    #[serde(default)]
    pub approved_slots: Option<i64>,
    /// 普惠
    #[serde(default)]
    pub inclusive: bool,
    /// 备案
    #[serde(default = "default_filing")]
    pub filing_status: FilingStatus,
    #[serde(default)]
    pub filing_date: Option<NaiveDate>,
    #[serde(default)]
    pub rating: Option<Rating>,
    #[serde(default)]
    pub rating_valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub rating_valid_until: Option<NaiveDate>,
    /// 智慧养老院
    #[serde(default)]
    pub smart: bool,
    /// 示范性 (demonstration) institution
    #[serde(default)]
    pub demonstration: bool,
    #[serde(default)]
    pub opening_date: Option<NaiveDate>,
    #[serde(default = "default_status")]
    pub status: FacilityStatus,
    #[serde(default)]
    pub phone: Option<String>,
}

fn default_filing() -> FilingStatus {
    FilingStatus::NotRequired
}

fn default_status() -> FacilityStatus {
    FacilityStatus::Operating
}

/// A class in a childcare institution or kindergarten nursery class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildcareClass {
    /// The register's own id of the class.
    pub id: String,
    pub facility_id: String,
    pub class_type: ClassType,
    /// Places in the class.
    pub capacity: i64,
    /// Children enrolled.
    #[serde(default)]
    pub enrolled: i64,
    /// Caregivers (保育人员) assigned.
    #[serde(default)]
    pub caregivers: i64,
    /// Monthly fee in fen (分); imports take yuan.
    #[serde(default)]
    pub monthly_fee_fen: Option<i64>,
}

impl Facility {
    /// A facility with only its identity and area set: no capacity, not filed,
    /// unrated, operating. Forms, tests and the generator start from it.
    pub fn blank(
        id: impl Into<String>,
        name: impl Into<String>,
        kind: FacilityKind,
        area_code: impl Into<String>,
    ) -> Self {
        let area_code: String = area_code.into();
        Facility {
            id: id.into(),
            name: name.into(),
            kind,
            level: None,
            ownership: None,
            operator_name: None,
            operator_credit_code: None,
            area_code,
            address: None,
            lng: None,
            lat: None,
            beds: None,
            nursing_beds: None,
            dementia_beds: None,
            approved_slots: None,
            inclusive: false,
            filing_status: FilingStatus::NotRequired,
            filing_date: None,
            rating: None,
            rating_valid_from: None,
            rating_valid_until: None,
            smart: false,
            demonstration: false,
            opening_date: None,
            status: FacilityStatus::Operating,
            phone: None,
        }
    }

    /// Checks every rule that needs no database: codes, ranges, geography.
    /// Returns every failing field, not just the first.
    pub fn validate(&self, ck: &Checker<'_>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if self.id.trim().is_empty() {
            errs.push(FieldError::new("id", "must not be empty"));
        }
        if self.name.trim().is_empty() {
            errs.push(FieldError::new("name", "must not be empty"));
        }
        for (field, v) in [
            ("id", Some(&self.id)),
            ("name", Some(&self.name)),
            ("operator_name", self.operator_name.as_ref()),
            ("operator_credit_code", self.operator_credit_code.as_ref()),
            ("area_code", Some(&self.area_code)),
            ("address", self.address.as_ref()),
            ("phone", self.phone.as_ref()),
        ] {
            bounds::check_opt_text(field, v.map(String::as_str), &mut errs);
        }
        if let Some(code) = &self.operator_credit_code
            && let Err(reason) = crate::credit_code::validate(code)
        {
            errs.push(FieldError::new("operator_credit_code", reason));
        }
        let want = if self.kind.village_level() {
            &[crate::AreaLevel::Village][..]
        } else {
            &[crate::AreaLevel::Town, crate::AreaLevel::Village][..]
        };
        if let Err(reason) = ck.area_at_levels(&self.area_code, want) {
            errs.push(FieldError::new("area_code", reason));
        }
        ck.check_point(self.lng, self.lat, &mut errs);
        for (bound, v) in [
            (bounds::BEDS, self.beds),
            (bounds::NURSING_BEDS, self.nursing_beds),
            (bounds::DEMENTIA_BEDS, self.dementia_beds),
            (bounds::APPROVED_SLOTS, self.approved_slots),
        ] {
            bound.check_opt(v, &mut errs);
        }
        let beds = self.beds.unwrap_or(0);
        if let Some(n) = self.nursing_beds
            && n > beds
        {
            errs.push(FieldError::new(
                "nursing_beds",
                format!("{n} nursing beds exceed the {beds} beds"),
            ));
        }
        if let Some(n) = self.dementia_beds
            && n > beds
        {
            errs.push(FieldError::new(
                "dementia_beds",
                format!("{n} dementia beds exceed the {beds} beds"),
            ));
        }
        if self.filing_status == FilingStatus::Filed && self.filing_date.is_none() {
            errs.push(FieldError::new(
                "filing_date",
                "required when filing_status is filed",
            ));
        }
        if let (Some(from), Some(until)) = (self.rating_valid_from, self.rating_valid_until)
            && until < from
        {
            errs.push(FieldError::new(
                "rating_valid_until",
                format!("{until} is before rating_valid_from {from}"),
            ));
        }
        if let Some(r) = self.rating {
            let stations = matches!(
                self.kind,
                FacilityKind::VillageCareStation | FacilityKind::TownHomeCareCenter
            );
            if stations && !r.is_a_scale() {
                errs.push(FieldError::new(
                    "rating",
                    "home-care centres and stations are rated 3A, 4A or 5A",
                ));
            }
            if self.kind == FacilityKind::ElderlyInstitution && r.is_a_scale() {
                errs.push(FieldError::new(
                    "rating",
                    "care homes are rated in stars (1–5)",
                ));
            }
        }
        errs
    }
}

impl ChildcareClass {
    /// Checks class size against the national maximum for its type, and the counts.
    pub fn validate(&self, ck: &Checker<'_>) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if self.id.trim().is_empty() {
            errs.push(FieldError::new("id", "must not be empty"));
        }
        if self.facility_id.trim().is_empty() {
            errs.push(FieldError::new("facility_id", "must not be empty"));
        }
        for (field, v) in [("id", &self.id), ("facility_id", &self.facility_id)] {
            bounds::check_text(field, v, false, &mut errs);
        }
        bounds::CLASS_CAPACITY.check(self.capacity, &mut errs);
        if let Some((max_size, source)) = ck.class_limits.max_class_size(self.class_type)
            && self.capacity > max_size
        {
            errs.push(FieldError::new(
                "capacity",
                format!(
                    "{} places exceed the national maximum of {} for a {} ({})",
                    self.capacity,
                    max_size,
                    self.class_type.label_zh(),
                    source
                ),
            ));
        }
        if !bounds::CLASS_ENROLLED.contains(self.enrolled) {
            bounds::CLASS_ENROLLED.check(self.enrolled, &mut errs);
        } else if self.enrolled > self.capacity && self.capacity > 0 {
            errs.push(FieldError::new(
                "enrolled",
                format!(
                    "{} enrolled exceed the class capacity of {}",
                    self.enrolled, self.capacity
                ),
            ));
        }
        bounds::CLASS_CAREGIVERS.check(self.caregivers, &mut errs);
        bounds::MONTHLY_FEE.check_opt(self.monthly_fee_fen, &mut errs);
        errs
    }
}
