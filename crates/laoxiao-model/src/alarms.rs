//! Smart devices (智能设备) installed at elderly people's homes, and the
//! enumerations of the alarms (紧急呼叫/告警) they raise. The device register
//! is declared here; the alarm workflow (dispatch, deadlines, escalation) is a
//! store module (`laoxiao_store::alarms`), its deadlines data in
//! `data/policy/alarms.toml`.

use chrono::NaiveDate;

use crate::check::Checker;
use crate::error::FieldError;
use crate::person::PersonRole;
use crate::refs::{KnownRefs, References};
use crate::register::{Domain, Rules, ScopeRule};

crate::code_enum! {
    /// Kind of smart device (设备类型); an alarm's kind is its device's kind.
    pub enum DeviceKind {
        /// 紧急呼叫按钮 (一键呼叫)
        EmergencyButton = ("emergency_button", "紧急呼叫按钮", "Emergency button"),
        /// 跌倒监测
        FallDetector = ("fall_detector", "跌倒监测", "Fall detector"),
        /// 烟感
        SmokeSensor = ("smoke_sensor", "烟感", "Smoke sensor"),
        /// 燃气 (可燃气体探测)
        GasSensor = ("gas_sensor", "燃气", "Gas sensor"),
        /// 门磁 (no door opened for a long time, for people living alone)
        DoorSensor = ("door_sensor", "门磁", "Door sensor"),
        /// 水表 (no water used for a long time, for people living alone)
        WaterMeter = ("water_meter", "水表", "Water meter"),
    }
}

crate::code_enum! {
    /// Where a device stands (设备状态).
    pub enum DeviceStatus {
        /// 在用: alarms from it are accepted.
        Active = ("active", "在用", "Active"),
        /// 故障: alarms still accepted (a faulty sensor may still call), flagged.
        Faulty = ("faulty", "故障", "Faulty"),
        /// 已拆除: alarms refused as from an unknown device.
        Removed = ("removed", "已拆除", "Removed"),
    }
}

crate::code_enum! {
    /// Who owns a device (产权方).
    pub enum DeviceOwner {
        /// 政府配置 (适老化改造, 家庭养老床位)
        Government = ("government", "政府配置", "Government"),
        /// 家庭自购
        Family = ("family", "家庭自购", "Family"),
        /// 服务机构
        Provider = ("provider", "服务机构", "Provider"),
    }
}

crate::code_enum! {
    /// Where an alarm stands (告警状态): open → acknowledged → on_site → closed.
    pub enum AlarmState {
        /// 待响应
        Open = ("open", "待响应", "Open"),
        /// 已响应: someone took it and called the person.
        Acknowledged = ("acknowledged", "已响应", "Acknowledged"),
        /// 已到达: someone reached the person.
        OnSite = ("on_site", "已到达", "On site"),
        /// 已关闭, with an outcome.
        Closed = ("closed", "已关闭", "Closed"),
    }
}

crate::code_enum! {
    /// How an alarm ended (处置结果).
    pub enum AlarmOutcome {
        /// 误报
        FalseAlarm = ("false_alarm", "误报", "False alarm"),
        /// 居家处置
        ResolvedAtHome = ("resolved_at_home", "居家处置", "Resolved at home"),
        /// 送医
        SentToHospital = ("sent_to_hospital", "送医", "Sent to hospital"),
        /// 其他
        Other = ("other", "其他", "Other"),
    }
}

crate::register! {
    /// A smart device (智能设备) installed at an elderly person's home.
    /// The platform's own device id (`platform_device_id`) is how alarms
    /// name it; a platform's ids are unique among devices not removed.
    pub struct Device in DEVICES {
        key: "devices", table: "device", zh: "智能设备", en: "Smart devices",
        scope: ScopeRule::Person("person_id"), domain: Domain::People,
    }
    fields {
        id: String = id(),
        /// 设备类型
        kind: DeviceKind = enumeration("设备类型", "Kind", DeviceKind::VALUES).required().filter(),
        /// The elderly person at whose home it is installed (安装对象).
        person_id: String = reference("安装对象编号", "Person", "people").required().filter(),
        /// 安装日期
        installed_date: NaiveDate = date("安装日期", "Installed").required().filter(),
        /// 产权方
        owner: DeviceOwner = enumeration("产权方", "Owner", DeviceOwner::VALUES).required().filter(),
        /// The provider who answers its alarms with the village staff (服务机构).
        #[serde(default)]
        provider_id: Option<String> = reference("服务机构编号", "Provider", "facilities").filter(),
        /// The device platform (设备平台) that posts its alarms.
        platform_id: String = text("设备平台编号", "Platform").required().filter(),
        /// The platform's id of the device (平台设备编号).
        platform_device_id: String = text("平台设备编号", "Platform device id").required().search(),
        /// 设备状态
        status: DeviceStatus = enumeration("设备状态", "Status", DeviceStatus::VALUES).required().filter(),
        #[serde(default)]
        note: Option<String> = note("备注", "Note").personal(),
    }
}

impl Rules for Device {
    fn rules(&self, _ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if self.installed_date > today {
            errs.push(FieldError::new(
                "installed_date",
                format!("{} is in the future", self.installed_date),
            ));
        }
        for (field, v) in [
            ("platform_id", &self.platform_id),
            ("platform_device_id", &self.platform_device_id),
        ] {
            if v.trim() != v || v.is_empty() || v.chars().count() > 64 {
                errs.push(FieldError::new(
                    field,
                    "1 to 64 characters, no leading or trailing spaces",
                ));
            }
        }
        errs
    }
}

impl References for Device {
    /// Installed at an elderly person's home; the provider is on the register.
    fn references(&self, refs: &KnownRefs) -> Vec<FieldError> {
        let mut out = Vec::new();
        if let Err(e) = refs.person(&self.person_id, PersonRole::Elderly) {
            out.push(FieldError::new("person_id", e));
        }
        if let Some(f) = &self.provider_id
            && let Err(e) = refs.facility(f)
        {
            out.push(FieldError::new("provider_id", e));
        }
        out
    }
}
