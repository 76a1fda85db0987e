//! Services families order (子女网上下单): the service catalogue (服务目录)
//! that providers publish, and the codes of family links and orders. The
//! links and orders themselves are workflows (`laoxiao_store::family`).

use chrono::NaiveDate;

use crate::area::AreaLevel;
use crate::bounds;
use crate::check::Checker;
use crate::error::FieldError;
use crate::refs::{KnownRefs, References};
use crate::register::{Domain, Rules, ScopeRule};

crate::code_enum! {
    /// Category of a home service (居家服务类别).
    pub enum ServiceCategory {
        /// 助餐
        Meals = ("meals", "助餐", "Meals"),
        /// 助浴
        Bathing = ("bathing", "助浴", "Bathing"),
        /// 助洁
        Cleaning = ("cleaning", "助洁", "Cleaning"),
        /// 康复
        Rehabilitation = ("rehabilitation", "康复", "Rehabilitation"),
        /// 陪诊: escorting to hospital.
        Escort = ("escort", "陪诊", "Escort to hospital"),
        /// 其他
        Other = ("other", "其他", "Other"),
    }
}

crate::code_enum! {
    /// How a family member is related to the elderly person or the child
    /// (亲属关系).
    pub enum Relationship {
        /// 子女 (of an elderly person)
        Child = ("child", "子女", "Child"),
        /// 配偶 (of an elderly person)
        Spouse = ("spouse", "配偶", "Spouse"),
        /// 其他亲属 (of an elderly person)
        Other = ("other", "其他亲属", "Other relative"),
        /// 父母 (of a child: the guardian by law)
        Parent = ("parent", "父母", "Parent"),
        /// 其他监护人 (of a child: a guardian who is not a parent)
        Guardian = ("guardian", "其他监护人", "Other guardian"),
    }
}

impl Relationship {
    /// Whether this relationship can link a family account to a person of
    /// `role`: parents and guardians to children, the others to elderly people.
    pub fn fits(self, role: crate::person::PersonRole) -> bool {
        let of_child = matches!(self, Relationship::Parent | Relationship::Guardian);
        of_child == (role == crate::person::PersonRole::Infant)
    }
}

/// Most areas one catalogue item may list.
pub const MAX_AREAS_SERVED: usize = 50;

crate::register! {
    /// An item of a provider's service catalogue (服务目录项目): what families
    /// may order, at what price, where.
    pub struct ServiceItem in CATALOGUE {
        key: "catalogue", table: "service_item", zh: "服务目录", en: "Service catalogue",
        scope: ScopeRule::Facility("facility_id"), domain: Domain::Facilities,
    }
    fields {
        id: String = id(),
        /// The provider (服务机构).
        facility_id: String = reference("服务机构编号", "Provider", "facilities").required().filter(),
        category: ServiceCategory = enumeration("服务类别", "Category", ServiceCategory::VALUES).required().filter(),
        name: String = text("服务名称", "Name").required().search(),
        /// 单价, in fen (written in yuan in files and forms).
        price_fen: i64 = money("单价（元）", "Price (yuan)", &bounds::SERVICE_PRICE).file_key("price_yuan").label("单价").required().listed(),
        /// 计价单位, e.g. 次, 餐, 小时.
        unit: String = text("计价单位", "Unit").required().listed(),
        /// 服务区域: county or town codes, `;`-separated.
        areas_served: String = text("服务区域", "Areas served").required().help("county or town codes separated by ;"),
        /// 上架: offered to families.
        #[serde(default = "yes")]
        active: bool = boolean("上架", "Active").or("true").filter(),
    }
}

fn yes() -> bool {
    true
}

impl ServiceItem {
    /// The area codes served, trimmed, blanks dropped.
    pub fn area_codes(&self) -> Vec<&str> {
        self.areas_served
            .split([';', '；', ',', '，', '|'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }
}

impl Rules for ServiceItem {
    fn rules(&self, ck: &Checker<'_>, _today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if self.name.trim().is_empty() {
            errs.push(FieldError::new("name", "must not be empty"));
        }
        if self.unit.trim().is_empty() {
            errs.push(FieldError::new("unit", "must not be empty"));
        }
        let codes = self.area_codes();
        if codes.is_empty() {
            errs.push(FieldError::new("areas_served", "name at least one area"));
        } else if codes.len() > MAX_AREAS_SERVED {
            errs.push(FieldError::new(
                "areas_served",
                format!("at most {MAX_AREAS_SERVED} areas"),
            ));
        }
        for c in codes.iter().take(MAX_AREAS_SERVED) {
            if let Err(why) = ck.area_at_levels(c, &[AreaLevel::County, AreaLevel::Town]) {
                errs.push(FieldError::new("areas_served", why));
                break;
            }
        }
        errs
    }
}

impl References for ServiceItem {
    fn references(&self, refs: &KnownRefs) -> Vec<FieldError> {
        match refs.facility(&self.facility_id) {
            Err(e) => vec![FieldError::new("facility_id", e)],
            Ok(_) => Vec::new(),
        }
    }
}
