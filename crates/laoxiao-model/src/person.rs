//! People on the registers: elderly people (老年人) and infants under three (婴幼儿).

use chrono::{Datelike, NaiveDate};

use crate::bounds;
use crate::check::Checker;
use crate::error::FieldError;
use crate::register::{Domain, Register, Rules, ScopeRule};

crate::code_enum! {
    /// Which register a person is on.
    #[derive(Default)]
    pub enum PersonRole {
        #[default]
        Elderly = ("elderly", "老年人", "Elderly person"),
        Infant = ("infant", "婴幼儿", "Infant"),
    }
}

crate::code_enum! {
    /// Sex as recorded on the citizen ID.
    #[derive(Default)]
    pub enum Sex {
        #[default]
        Male = ("male", "男", "Male"),
        Female = ("female", "女", "Female"),
    }
}

crate::code_enum! {
    /// Living arrangement (居住状况).
    pub enum LivingArrangement {
        WithFamily = ("with_family", "与家人同住", "With family"),
        /// 空巢
        EmptyNest = ("empty_nest", "空巢", "Empty nest"),
        /// 独居
        LivingAlone = ("living_alone", "独居", "Living alone"),
        /// 留守
        LeftBehind = ("left_behind", "留守", "Left behind"),
        InInstitution = ("in_institution", "入住机构", "In a care home"),
    }
}

crate::code_enum! {
    /// Special-difficulty category (特殊困难老年人的类别); a person may have several.
    pub enum SpecialDifficulty {
        /// 特困
        ExtremePoverty = ("extreme_poverty", "特困", "Extreme poverty"),
        /// 低保
        MinimumLivingAllowance = ("minimum_living_allowance", "低保", "Minimum living allowance"),
        /// 低保边缘
        LowIncomeMargin = ("low_income_margin", "低保边缘", "Near minimum allowance"),
        /// 计划生育特殊家庭
        FamilyPlanningSpecialFamily = ("family_planning_special_family", "计划生育特殊家庭", "Family-planning special family"),
        /// 重度残疾
        SevereDisability = ("severe_disability", "重度残疾", "Severe disability"),
    }
}

crate::code_enum! {
    /// Ability level (老年人能力等级, GB/T 42195-2022): 0 intact … 4 complete loss.
    pub enum AbilityLevel {
        Intact = ("0", "能力完好", "Intact"),
        Mild = ("1", "轻度失能", "Mildly impaired"),
        Moderate = ("2", "中度失能", "Moderately impaired"),
        Severe = ("3", "重度失能", "Severely impaired"),
        Complete = ("4", "完全失能", "Complete loss"),
    }
}

crate::code_enum! {
    /// Register status of a person.
    #[derive(Default)]
    pub enum PersonStatus {
        #[default]
        Active = ("active", "在册", "Active"),
        Deceased = ("deceased", "已故", "Deceased"),
        MovedOut = ("moved_out", "已迁出", "Moved out"),
    }
}

impl AbilityLevel {
    /// The numeric level 0–4.
    pub fn number(self) -> u8 {
        match self {
            AbilityLevel::Intact => 0,
            AbilityLevel::Mild => 1,
            AbilityLevel::Moderate => 2,
            AbilityLevel::Severe => 3,
            AbilityLevel::Complete => 4,
        }
    }

    /// Counts as 失能 (moderate or worse), as the plan's coverage indicators use it.
    pub fn is_disabled(self) -> bool {
        self.number() >= 2
    }
}

crate::register! {
    /// A person on the register (老年人 or 婴幼儿, by `role`). `id_number` is
    /// held in full in memory only; every output masks it unless the caller is
    /// allowed and asks (see [`mask_id_number`]). The store keeps it as a
    /// keyed hash (lookups) and a ciphertext.
    #[derive(Default)]
    pub struct Person in PEOPLE {
        key: "people", table: "person", zh: "人员", en: "People",
        scope: ScopeRule::AreaPath("area_path"), domain: Domain::People,
    }
    fields in person_fields {
        // Every field but the register id, the register and the residence
        // area (which scopes the record; an area, not an address) is personal
        // data: the audit trail keeps only digests of them.
        /// The register's own id (an import file's id column).
        id: String = id(),
        /// Which register (登记册) the person is on; files take it from the import kind.
        role: PersonRole = enumeration("登记册", "Register", PersonRole::VALUES).required().filter(),
        /// 公民身份号码 (GB 11643), 18 characters.
        id_number: String = id_number("身份证号码", "ID number").required().listed(),
        name: String = text("姓名", "Name").required().search().personal(),
        sex: Sex = enumeration("性别", "Sex", Sex::VALUES).required().listed().personal(),
        birth_date: NaiveDate = date("出生日期", "Birth date").required().listed().personal(),
        /// 户籍 area.
        #[serde(default)]
        hukou_area_code: Option<String> = area("户籍区划代码", "Hukou area").personal(),
        /// Where the person lives (居住地): a town- or village-level area.
        residence_area_code: String = area("居住区划代码", "Residence area").required().listed(),
        #[serde(default)]
        address: Option<String> = text("居住地址", "Address").personal(),
        #[serde(default)]
        lng: Option<f64> = decimal("经度", "Longitude", -180.0, 180.0).personal(),
        #[serde(default)]
        lat: Option<f64> = decimal("纬度", "Latitude", -90.0, 90.0).personal(),
        /// 居住状况 (elderly).
        #[serde(default)]
        living_arrangement: Option<LivingArrangement> = enumeration("居住状况", "Living arrangement", LivingArrangement::VALUES).filter().personal(),
        /// 特殊困难类别 (elderly).
        #[serde(default)]
        special_difficulty: Vec<SpecialDifficulty> = enum_list("特殊困难类别", "Special difficulty", SpecialDifficulty::VALUES).filter().personal(),
        /// 能力等级 (elderly).
        #[serde(default)]
        ability_level: Option<AbilityLevel> = enumeration("能力等级", "Ability level", AbilityLevel::VALUES).filter().personal(),
        /// 失智 (elderly).
        #[serde(default)]
        dementia: bool = boolean("失智", "Dementia").or("false").personal(),
        /// 享受长期护理保险（长护险）待遇 (elderly): counted by indicator 15 and
        /// the subsidy rules.
        #[serde(default)]
        care_insurance: bool = boolean("享受长护险待遇", "Long-term care insurance").or("false").personal(),
        /// Infants: 孩次 (1 = first child).
        #[serde(default)]
        birth_order: Option<i64> = int("孩次", "Birth order", &bounds::BIRTH_ORDER).personal(),
        /// Infants: guardian's name (监护人姓名).
        #[serde(default)]
        guardian_name: Option<String> = text("监护人姓名", "Guardian").listed().personal(),
        /// Infants: guardian's phone (监护人电话).
        #[serde(default)]
        guardian_phone: Option<String> = text("监护人电话", "Guardian's phone").personal(),
        /// 状态 on the register.
        #[serde(default)]
        status: PersonStatus = enumeration("状态", "Status", PersonStatus::VALUES).or("active").personal(),
        /// 死亡日期
        #[serde(default)]
        death_date: Option<NaiveDate> = date("死亡日期", "Death date").personal(),
        /// 迁出日期: the day the person moved out of the city (status
        /// `moved_out`); the record stays on the register.
        #[serde(default)]
        moved_out_date: Option<NaiveDate> = date("迁出日期", "Moved-out date").personal(),
    }
    file_only {
        /// 坐标系 of `lng`/`lat` in a file; imports convert to WGS-84, exports write `wgs84`.
        coord_system = coord_system("坐标系", "Coordinate system"),
    }
    subsets {
        /// The register of elderly people (老年人): the `person` rows of role `elderly`.
        ELDERLY = ("elderly", "老年人", "Elderly people") [
            id, id_number, name, sex, birth_date, hukou_area_code, residence_area_code, address,
            lng, lat, coord_system, living_arrangement, special_difficulty, ability_level,
            dementia, care_insurance, status, death_date, moved_out_date,
        ],
        /// The register of infants under three (婴幼儿): the `person` rows of role `infant`.
        INFANTS = ("infants", "婴幼儿", "Infants") [
            id, id_number, name, sex, birth_date, hukou_area_code, residence_area_code, address,
            lng, lat, coord_system, birth_order, guardian_name, guardian_phone, status,
            death_date, moved_out_date,
        ],
    }
}

/// Fields that default to what the ID number says when left out of a form
/// or an API body (the rules check that, given, they agree with it).
pub const FROM_ID_NUMBER: &[&str] = &["sex", "birth_date"];

impl PersonRole {
    /// The register of people of this role (a subset of [`PEOPLE`]'s fields).
    pub fn register(self) -> &'static Register {
        match self {
            PersonRole::Elderly => &ELDERLY,
            PersonRole::Infant => &INFANTS,
        }
    }

    /// For each file column of the role's register, the index of its field in
    /// [`PEOPLE`] (`None` for a column only files carry), found once by key.
    pub fn file_plan(self) -> &'static [Option<usize>] {
        static PLANS: std::sync::LazyLock<[Vec<Option<usize>>; 2]> =
            std::sync::LazyLock::new(|| {
                [PersonRole::Elderly, PersonRole::Infant].map(|role| {
                    role.register()
                        .fields
                        .iter()
                        .map(|f| PEOPLE.fields.iter().position(|g| g.key == f.key))
                        .collect()
                })
            });
        &PLANS[usize::from(self == PersonRole::Infant)]
    }
}

/// Masks a citizen ID number for display: the first 6 and last 4 characters stay,
/// the 8 between become `*` (`330402********123X`). Shorter strings are fully masked.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 12 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(n - 10));
    out.extend(&chars[n - 4..]);
    out
}

/// Masks a name for display: the family name stays (`张**`).
pub fn mask_name(name: &str) -> String {
    let mut it = name.chars();
    match it.next() {
        Some(first) => {
            let rest = it.count();
            format!("{first}{}", "*".repeat(rest.max(1)))
        }
        None => String::new(),
    }
}

/// Age in whole years on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Age in whole months on `on`.
pub fn age_months_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut m = (on.year() - birth.year()) * 12 + on.month() as i32 - birth.month() as i32;
    if on.day() < birth.day() {
        m -= 1;
    }
    m
}

impl Person {
    /// A live person with only identity, register, area and birth date set;
    /// the ID number is left empty for the caller (it must agree with the
    /// birth date and sex). Tests and tools start from it.
    pub fn blank(
        id: impl Into<String>,
        role: PersonRole,
        residence_area_code: impl Into<String>,
        birth_date: NaiveDate,
        sex: Sex,
    ) -> Self {
        Person {
            id: id.into(),
            role,
            sex,
            birth_date,
            residence_area_code: residence_area_code.into(),
            ..Person::default()
        }
    }

    /// The date the record's age rule is checked on (its own date): the
    /// day the person left the register (死亡日期 `death_date`, 迁出日期
    /// `moved_out_date`) when that is before `today`, else `today` — the
    /// registration date the caller gives (an import's or an API write's
    /// date; the synthetic city's `as_of`).
    pub fn record_date(&self, today: NaiveDate) -> NaiveDate {
        [self.death_date, self.moved_out_date]
            .into_iter()
            .flatten()
            .fold(today, NaiveDate::min)
    }

    /// 超龄 (aged out): an infant who has turned three by `on`. Such a child
    /// stays on the infant register (it was under three on the register's
    /// date); lists and record pages mark them, and counts of under-threes
    /// leave them out by their birth date.
    pub fn aged_out(&self, on: NaiveDate) -> bool {
        self.role == PersonRole::Infant && age_on(self.birth_date, on) >= 3
    }

    /// Checks every rule that needs no database: the declaration's field
    /// checks, then [`Rules::rules`]. `today` bounds birth dates.
    pub fn validate(&self, ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        crate::register::Record::validate(self, ck, today)
    }
}

/// The rules of a person that involve more than one field, or reference data.
/// A person refers to no other record (areas are reference data).
impl crate::refs::References for Person {
    fn references(&self, _refs: &crate::refs::KnownRefs) -> Vec<FieldError> {
        Vec::new()
    }
}

impl Rules for Person {
    fn rules(&self, ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        match crate::idcard::parse(&self.id_number) {
            Err(reason) => errs.push(FieldError::new("id_number", reason)),
            Ok(info) => {
                if info.birth_date != self.birth_date {
                    errs.push(FieldError::new(
                        "birth_date",
                        format!(
                            "{} disagrees with the ID number's birth date {}",
                            self.birth_date, info.birth_date
                        ),
                    ));
                }
                if info.sex != self.sex {
                    errs.push(FieldError::new(
                        "sex",
                        format!(
                            "{} disagrees with the ID number, which gives {}",
                            self.sex, info.sex
                        ),
                    ));
                }
            }
        }
        if self.birth_date > today {
            errs.push(FieldError::new(
                "birth_date",
                format!("{} is in the future", self.birth_date),
            ));
        }
        let levels = [crate::AreaLevel::Town, crate::AreaLevel::Village];
        if let Err(reason) = ck.area_at_levels(&self.residence_area_code, &levels) {
            errs.push(FieldError::new("residence_area_code", reason));
        }
        if let Some(h) = &self.hukou_area_code {
            // Hukou may lie outside Jiaxing; only a code that claims to be in Jiaxing must exist.
            if h.len() < 6 || !h.chars().all(|c| c.is_ascii_digit()) {
                errs.push(FieldError::new(
                    "hukou_area_code",
                    format!("{h:?} is not a division code"),
                ));
            } else if h.starts_with("3304") && ck.areas.get(h).is_none() {
                errs.push(FieldError::new(
                    "hukou_area_code",
                    format!("unknown Jiaxing area code {h:?}"),
                ));
            }
        }
        ck.check_point(self.lng, self.lat, &mut errs);
        let on = self.record_date(today);
        match self.role {
            PersonRole::Elderly => {
                let age = age_on(self.birth_date, on);
                if age < 60 {
                    errs.push(FieldError::new(
                        "birth_date",
                        format!("elderly register starts at 60; age on {on} is {age}"),
                    ));
                }
                if self.birth_order.is_some() {
                    errs.push(FieldError::new("birth_order", "only for infants"));
                }
            }
            PersonRole::Infant => {
                // Under three on the record's own date; a child who turned
                // three since stays on the register, aged out (超龄).
                let age = age_on(self.birth_date, on);
                if age >= 3 {
                    errs.push(FieldError::new(
                        "birth_date",
                        format!("infant register is for under-threes; age on {on} is {age}"),
                    ));
                }
                if self.ability_level.is_some() {
                    errs.push(FieldError::new("ability_level", "only for elderly people"));
                }
            }
        }
        if self.status == PersonStatus::Deceased && self.death_date.is_none() {
            errs.push(FieldError::new(
                "death_date",
                "required when status is deceased",
            ));
        }
        if let Some(d) = self.death_date {
            if d < self.birth_date {
                errs.push(FieldError::new("death_date", "before the birth date"));
            }
            if self.status != PersonStatus::Deceased {
                errs.push(FieldError::new(
                    "death_date",
                    format!("only when status is deceased, not {}", self.status.code()),
                ));
            }
        }
        if let Some(d) = self.moved_out_date {
            if d < self.birth_date {
                errs.push(FieldError::new("moved_out_date", "before the birth date"));
            }
            if self.status != PersonStatus::MovedOut {
                errs.push(FieldError::new(
                    "moved_out_date",
                    format!("only when status is moved_out, not {}", self.status.code()),
                ));
            }
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::test_rules::with_checker;

    fn d(s: &str) -> NaiveDate {
        crate::columns::parse_date(s).expect("date")
    }

    fn person(role: PersonRole, birth: &str) -> Person {
        let b = d(birth);
        let mut p = Person::blank("P1", role, "330402007024", b, Sex::Male);
        p.id_number = crate::idcard::make("330402", b, 11);
        p.name = "张三".into();
        p
    }

    fn fields(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn infants_are_under_three_on_the_record_s_own_date() {
        with_checker(|ck| {
            let p = person(PersonRole::Infant, "2020-06-01");
            // Under three on the register's date: accepted, though four today.
            assert!(p.validate(ck, d("2022-12-31")).is_empty());
            assert!(p.aged_out(d("2024-01-01")));
            assert!(!p.aged_out(d("2022-12-31")));
            // Three on the date given: refused, naming the date.
            let errs = p.validate(ck, d("2024-01-01"));
            assert_eq!(fields(&errs), vec!["birth_date"]);
            assert!(errs[0].reason.contains("2024-01-01"), "{}", errs[0].reason);
            // A child who died at two is checked on the day of death.
            let mut dead = p.clone();
            dead.status = PersonStatus::Deceased;
            dead.death_date = Some(d("2022-03-01"));
            assert!(dead.validate(ck, d("2026-01-01")).is_empty());
            assert_eq!(dead.record_date(d("2026-01-01")), d("2022-03-01"));
            // Elderly people: 60 on the date given.
            let e = person(PersonRole::Elderly, "1962-06-01");
            assert!(e.validate(ck, d("2022-12-31")).is_empty());
            assert_eq!(fields(&e.validate(ck, d("2022-01-01"))), vec!["birth_date"]);
        });
    }

    #[test]
    fn leaving_dates_need_their_status_and_follow_birth() {
        with_checker(|ck| {
            let today = d("2022-12-31");
            let mut p = person(PersonRole::Elderly, "1950-06-01");
            p.moved_out_date = Some(d("2022-05-01"));
            assert_eq!(fields(&p.validate(ck, today)), vec!["moved_out_date"]);
            p.status = PersonStatus::MovedOut;
            assert!(p.validate(ck, today).is_empty());
            // Before birth (and so, on that date, not yet 60).
            p.moved_out_date = Some(d("1949-01-01"));
            assert_eq!(
                fields(&p.validate(ck, today)),
                vec!["birth_date", "moved_out_date"]
            );
            let mut q = person(PersonRole::Elderly, "1950-06-01");
            q.death_date = Some(d("2022-05-01"));
            let errs = q.validate(ck, today);
            assert_eq!(fields(&errs), vec!["death_date"]);
            assert!(errs[0].reason.contains("active"), "{}", errs[0].reason);
            q.status = PersonStatus::Deceased;
            assert!(q.validate(ck, today).is_empty());
            q.death_date = None;
            assert_eq!(fields(&q.validate(ck, today)), vec!["death_date"]);
        });
    }

    #[test]
    fn masks_keep_prefix_and_suffix() {
        assert_eq!(mask_id_number("33040219491231123X"), "330402********123X");
        assert_eq!(mask_id_number("123"), "***");
        assert_eq!(mask_name("张三丰"), "张**");
    }

    #[test]
    fn ages_count_whole_years_and_months() {
        let b = NaiveDate::from_ymd_opt(1950, 6, 15).expect("date");
        assert_eq!(
            age_on(b, NaiveDate::from_ymd_opt(2020, 6, 14).expect("date")),
            69
        );
        assert_eq!(
            age_on(b, NaiveDate::from_ymd_opt(2020, 6, 15).expect("date")),
            70
        );
        let i = NaiveDate::from_ymd_opt(2024, 1, 31).expect("date");
        assert_eq!(
            age_months_on(i, NaiveDate::from_ymd_opt(2024, 3, 30).expect("date")),
            1
        );
    }
}
