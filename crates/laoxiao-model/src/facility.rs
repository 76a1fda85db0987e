//! Facilities (设施): care homes, home-care centres and stations, childcare
//! institutions and the other service sites the plan counts.

use chrono::NaiveDate;

use crate::bounds;
use crate::check::Checker;
use crate::error::FieldError;
use crate::register::{Domain, Rules, ScopeRule, Wgs84};

crate::code_enum! {
    /// Kind of facility (a blank form starts at a care home).
    #[derive(Default)]
    pub enum FacilityKind {
        /// 养老机构
        #[default]
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
    #[derive(Default)]
    pub enum FilingStatus {
        #[default]
        NotRequired = ("not_required", "无需备案", "Not required"),
        Unfiled = ("unfiled", "未备案", "Not filed"),
        Pending = ("pending", "备案中", "Pending"),
        Filed = ("filed", "已备案", "Filed"),
    }
}

crate::code_enum! {
    /// Care type (托育服务类型) an institution offers and a child is enrolled for:
    /// 全日托, 半日托, 计时托, 临时托 (the scope of 托育机构设置标准（试行）).
    pub enum CareType {
        FullDay = ("full_day", "全日托", "Full day"),
        HalfDay = ("half_day", "半日托", "Half day"),
        Hourly = ("hourly", "计时托", "Hourly"),
        Temporary = ("temporary", "临时托", "Temporary"),
    }
}

crate::code_enum! {
    /// Operating status.
    #[derive(Default)]
    pub enum FacilityStatus {
        Planned = ("planned", "筹建中", "Planned"),
        #[default]
        Operating = ("operating", "运营中", "Operating"),
        Suspended = ("suspended", "暂停运营", "Suspended"),
        Closed = ("closed", "已关闭", "Closed"),
    }
}

crate::code_enum! {
    /// Childcare class type (乳儿班 / 托小班 / 托大班 / 混龄班).
    #[derive(Default)]
    pub enum ClassType {
        InfantClass = ("infant_class", "乳儿班", "Infant class"),
        YoungToddlerClass = ("young_toddler_class", "托小班", "Young toddler class"),
        OlderToddlerClass = ("older_toddler_class", "托大班", "Older toddler class"),
        #[default]
        MixedAgeClass = ("mixed_age_class", "混龄班", "Mixed-age class"),
    }
}

crate::register! {
    /// A facility on the register (设施). Scoped by the area path of its
    /// `area_code` (kept by the store).
    #[derive(Default)]
    pub struct Facility in FACILITIES {
        key: "facilities", table: "facility", zh: "设施", en: "Facilities",
        scope: ScopeRule::AreaPath("area_path"), domain: Domain::Facilities,
    }
    fields {
        /// The register's own id (an import file's id column); stable across re-imports.
        id: String = id(),
        name: String = text("名称", "Name").required().search(),
        kind: FacilityKind = enumeration("设施类型", "Kind", FacilityKind::VALUES).required().filter(),
        #[serde(default)]
        level: Option<FacilityLevel> = enumeration("层级", "Level", FacilityLevel::VALUES),
        #[serde(default)]
        ownership: Option<Ownership> = enumeration("性质", "Ownership", Ownership::VALUES).filter(),
        #[serde(default)]
        operator_name: Option<String> = text("运营主体", "Operator"),
        /// 统一社会信用代码 (GB 32100) of the operator.
        #[serde(default)]
        operator_credit_code: Option<String> = text("统一社会信用代码", "Operator credit code"),
        /// Town- or village-level area code.
        area_code: String = area("所在区划代码", "Area").required().label("所在区划").listed(),
        #[serde(default)]
        address: Option<String> = text("地址", "Address"),
        /// Longitude, WGS-84.
        #[serde(default)]
        lng: Option<f64> = decimal("经度", "Longitude (WGS-84)", -180.0, 180.0).label("经度（WGS-84）"),
        /// Latitude, WGS-84.
        #[serde(default)]
        lat: Option<f64> = decimal("纬度", "Latitude (WGS-84)", -90.0, 90.0).label("纬度（WGS-84）"),
        /// The coordinate system of `lng`/`lat` in a file; records hold WGS-84.
        #[serde(skip)]
        coord_system: Wgs84 = coord_system("坐标系", "Coordinate system"),
        /// 养老床位
        #[serde(default)]
        beds: Option<i64> = int("床位数", "Beds", &bounds::BEDS).label("养老床位").listed(),
        /// 护理型床位
        #[serde(default)]
        nursing_beds: Option<i64> = int("护理型床位数", "Nursing beds", &bounds::NURSING_BEDS).label("护理型床位"),
        /// 认知障碍床位
        #[serde(default)]
        dementia_beds: Option<i64> = int("认知障碍床位数", "Dementia beds", &bounds::DEMENTIA_BEDS).label("认知障碍床位"),
        /// 核定托位数
        #[serde(default)]
        approved_slots: Option<i64> = int("核定托位数", "Approved slots", &bounds::APPROVED_SLOTS).listed(),
        /// 月收费 in fen (分), files give yuan: what a place costs a family
        /// each month (the public portal filters by it).
        #[serde(default)]
        monthly_fee: Option<i64> = money("月收费（元）", "Monthly fee (yuan)", &bounds::MONTHLY_FEE).label("月收费").filter(),
        /// 普惠
        #[serde(default)]
        inclusive: bool = boolean("普惠性", "Inclusive").label("普惠").or("false").filter(),
        /// 备案
        #[serde(default)]
        filing_status: FilingStatus = enumeration("备案状态", "Filing", FilingStatus::VALUES).or("not_required").filter(),
        #[serde(default)]
        filing_date: Option<NaiveDate> = date("备案日期", "Filing date"),
        /// 等级评定
        #[serde(default)]
        rating: Option<Rating> = enumeration("等级", "Rating", Rating::VALUES).label("等级评定").filter(),
        #[serde(default)]
        rating_valid_from: Option<NaiveDate> = date("等级有效期起", "Rating valid from").label("评定有效期起"),
        #[serde(default)]
        rating_valid_until: Option<NaiveDate> = date("等级有效期止", "Rating valid until").label("评定有效期止"),
        /// 智慧养老院
        #[serde(default)]
        smart: bool = boolean("智慧养老院", "Smart care home").or("false"),
        /// 示范性 (demonstration) institution
        #[serde(default)]
        demonstration: bool = boolean("示范性", "Demonstration institution").or("false"),
        /// 省级示范性托育机构: a city-level demonstration institution later
        /// rated at provincial level (a further one-time award).
        #[serde(default)]
        provincial_demonstration: bool = boolean("省级示范性", "Provincial demonstration").or("false"),
        /// 临时托、计时托功能 (sunflower parks and huts): decides the operating subsidy.
        #[serde(default)]
        temporary_care: bool = boolean("临时托/计时托", "Temporary or hourly care").or("false"),
        /// 已享受市本级医养结合补助 (wellness alliances): the alliance award is
        /// not paid on top of it.
        #[serde(default)]
        medical_care_subsidy: bool = boolean("已享受医养结合补助", "Has the medical-care-integration subsidy").or("false"),
        #[serde(default)]
        opening_date: Option<NaiveDate> = date("开业日期", "Opening date"),
        #[serde(default)]
        status: FacilityStatus = enumeration("运营状态", "Status", FacilityStatus::VALUES).or("operating").filter(),
        /// 停业日期: the day the facility closed (status `closed`); it stays
        /// on the register.
        #[serde(default)]
        closed_date: Option<NaiveDate> = date("停业日期", "Closed date"),
        #[serde(default)]
        /// Often a person's mobile: personal (hidden in the audit trail).
        phone: Option<String> = text("联系电话", "Phone").label("电话").personal(),
        /// 开放时间, e.g. `Mo-Fr 07:30-17:30; Sa 08:00-12:00` or `24/7`
        /// ([`crate::hours`]); published on the portal.
        #[serde(default)]
        opening_hours: Option<String> = text("开放时间", "Opening hours"),
        /// 对外咨询电话: the number the place publishes for the public (the
        /// portal shows it; `phone` stays internal).
        #[serde(default)]
        public_phone: Option<String> = text("对外咨询电话", "Public phone").label("咨询电话"),
    }
}

crate::register! {
    /// A class (托育班级) in a childcare institution or kindergarten nursery
    /// class; scoped through its facility.
    #[derive(Default)]
    pub struct ChildcareClass in CLASSES {
        key: "classes", table: "childcare_class", zh: "托育班级", en: "Childcare classes",
        scope: ScopeRule::Facility("facility_id"), domain: Domain::Facilities,
    }
    fields {
        /// The register's own id of the class.
        id: String = id().label("班级编号"),
        facility_id: String = reference("设施编号", "Facility", "facilities").required().filter(),
        class_type: ClassType = enumeration("班级类型", "Class type", ClassType::VALUES).required().filter(),
        /// Places in the class.
        capacity: i64 = int("班额", "Capacity", &bounds::CLASS_CAPACITY).required().listed(),
        /// Children enrolled.
        #[serde(default)]
        enrolled: i64 = int("在托人数", "Enrolled", &bounds::CLASS_ENROLLED).or("0").listed(),
        /// Caregivers (保育人员) assigned.
        #[serde(default)]
        caregivers: i64 = int("保育人员数", "Caregivers", &bounds::CLASS_CAREGIVERS).or("0").label("保育人员").listed(),
        /// Monthly fee in fen (分); files give yuan.
        #[serde(default)]
        monthly_fee_fen: Option<i64> = money("月收费（元）", "Monthly fee (yuan)", &bounds::MONTHLY_FEE).file_key("monthly_fee_yuan").listed(),
    }
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
        Facility {
            id: id.into(),
            name: name.into(),
            kind,
            area_code: area_code.into(),
            ..Default::default()
        }
    }
}

/// The facility's rules beyond its fields' types and bounds (those come from
/// the declaration): the operator's credit code, the area's level, the point
/// inside the city, bed shares, filing and rating.
/// A facility refers to no other record (its area is reference data).
impl crate::refs::References for Facility {
    fn references(&self, _refs: &crate::refs::KnownRefs) -> Vec<FieldError> {
        Vec::new()
    }
}

/// A class belongs to a facility that offers childcare slots.
impl crate::refs::References for ChildcareClass {
    fn references(&self, refs: &crate::refs::KnownRefs) -> Vec<FieldError> {
        crate::refs::facility_of_kind(
            refs,
            "facility_id",
            &self.facility_id,
            FacilityKind::has_slots,
            "which has no childcare classes",
        )
        .into_iter()
        .collect()
    }
}

/// A published number: digits, `+` first, `-` and spaces between, 5–20 digits.
fn public_phone_ok(p: &str) -> bool {
    let p = p.trim();
    let digits = p.bytes().filter(u8::is_ascii_digit).count();
    p.len() <= 32
        && (5..=20).contains(&digits)
        && p.bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || b == b'-' || b == b' ' || (b == b'+' && i == 0))
}

impl Rules for Facility {
    fn rules(&self, ck: &Checker<'_>, _today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
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
        if !self.area_code.trim().is_empty()
            && let Err(reason) = ck.area_at_levels(&self.area_code, want)
        {
            errs.push(FieldError::new("area_code", reason));
        }
        ck.check_point(self.lng, self.lat, &mut errs);
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
        if let Some(c) = self.closed_date {
            if let Some(o) = self.opening_date
                && c < o
            {
                errs.push(FieldError::new(
                    "closed_date",
                    format!("{c} is before opening_date {o}"),
                ));
            }
            if self.status != FacilityStatus::Closed {
                errs.push(FieldError::new(
                    "closed_date",
                    format!("only when status is closed, not {}", self.status.code()),
                ));
            }
        }
        if let Some(h) = &self.opening_hours
            && !h.trim().is_empty()
            && let Err(reason) = crate::hours::Hours::parse(h)
        {
            errs.push(FieldError::new("opening_hours", reason));
        }
        if let Some(p) = &self.public_phone
            && !public_phone_ok(p)
        {
            errs.push(FieldError::new(
                "public_phone",
                "a phone number: digits with an optional leading + and - or spaces, 5 to 20 digits",
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

/// A class's rules beyond its fields' bounds: the national maximum size for
/// its type, no more children than places, and enough caregivers for the
/// children by the type's ratio (师幼比) in force on the day of the change.
impl Rules for ChildcareClass {
    fn rules(&self, ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
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
        if bounds::CLASS_ENROLLED.contains(self.enrolled)
            && self.enrolled > self.capacity
            && self.capacity > 0
        {
            errs.push(FieldError::new(
                "enrolled",
                format!(
                    "{} enrolled exceed the class capacity of {}",
                    self.enrolled, self.capacity
                ),
            ));
        }
        if let Some((per, source)) = ck
            .class_limits
            .children_per_caregiver(self.class_type, today)
            && per > 0
            && bounds::CLASS_ENROLLED.contains(self.enrolled)
            && bounds::CLASS_CAREGIVERS.contains(self.caregivers)
        {
            let need = (self.enrolled + per - 1) / per;
            if self.caregivers < need {
                errs.push(FieldError::new(
                    "caregivers",
                    format!(
                        "{} children need at least {} caregivers in a {} (1:{}, {}); {} assigned",
                        self.enrolled,
                        need,
                        self.class_type.label_zh(),
                        per,
                        source,
                        self.caregivers
                    ),
                ));
            }
        }
        errs
    }
}
