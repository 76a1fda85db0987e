//! The codes of a childcare institution's day (托育机构一日生活): the morning
//! and midday health check (晨午检, 《托育机构管理规范（试行）》 art. 24), the
//! reasons for an absence, meals, naps, outdoor time (art. 18), incidents and
//! the people a family authorises to drop off and collect a child (接送人).

crate::code_enum! {
    /// Where a child stands on a day (出勤状态).
    pub enum AttendanceStatus {
        Present = ("present", "在园", "Present"),
        Left = ("left", "已离园", "Collected"),
        SentHome = ("sent_home", "晨检劝返", "Sent home at the morning check"),
        Absent = ("absent", "缺勤", "Absent"),
    }
}

crate::code_enum! {
    /// The result of a morning or midday check (晨午检结果).
    pub enum HealthCheck {
        Normal = ("normal", "正常", "Normal"),
        Observe = ("observe", "需观察", "Keep under observation"),
        SentHome = ("sent_home", "劝返回家", "Sent home"),
    }
}

crate::code_enum! {
    /// Why a child is absent (缺勤原因).
    pub enum AbsenceReason {
        Ill = ("ill", "病假", "Ill"),
        Family = ("family", "事假", "Family reasons"),
        Other = ("other", "其他", "Other"),
    }
}

crate::code_enum! {
    /// What a day's entry records (一日生活记录).
    pub enum DayEventKind {
        Meal = ("meal", "进餐", "Meal"),
        Nap = ("nap", "午睡", "Nap"),
        Outdoor = ("outdoor", "户外活动", "Outdoor time"),
        Incident = ("incident", "意外事件", "Incident"),
    }
}

crate::code_enum! {
    /// Which meal (餐次).
    pub enum Meal {
        Breakfast = ("breakfast", "早餐", "Breakfast"),
        Lunch = ("lunch", "午餐", "Lunch"),
        Snack = ("snack", "点心", "Snack"),
        Dinner = ("dinner", "晚餐", "Dinner"),
    }
}

crate::code_enum! {
    /// How much of a meal a child ate (进食量).
    pub enum MealAmount {
        All = ("all", "全部吃完", "All"),
        Most = ("most", "大部分", "Most"),
        Little = ("little", "少量", "A little"),
        Nothing = ("none", "未进食", "Nothing"),
    }
}

crate::code_enum! {
    /// How serious an incident is (意外事件程度).
    pub enum IncidentSeverity {
        Minor = ("minor", "轻微（无需处理）", "Minor"),
        Treated = ("treated", "受伤已处理", "Injury treated"),
        Serious = ("serious", "严重（送医）", "Serious (to hospital)"),
    }
}

crate::code_enum! {
    /// Why a handover at the door was refused (拒绝交接原因).
    pub enum RefusalReason {
        NotListed = ("not_listed", "不在接送授权名单上", "Not on the child's list of authorised people"),
        NotAuthorised = ("not_authorised", "授权已取消或非该幼儿的接送人", "Not (or no longer) authorised for this child"),
    }
}

crate::code_enum! {
    /// Who a person authorised to drop off and collect a child is to it (接送人关系).
    pub enum PickupRelation {
        Parent = ("parent", "父母", "Parent"),
        Grandparent = ("grandparent", "祖父母/外祖父母", "Grandparent"),
        Guardian = ("guardian", "其他监护人", "Other guardian"),
        Relative = ("relative", "其他亲属", "Other relative"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_back_and_labels_are_chinese() {
        for h in HealthCheck::ALL {
            assert_eq!(HealthCheck::parse(h.code()), Some(*h));
        }
        assert_eq!(MealAmount::parse("none"), Some(MealAmount::Nothing));
        assert_eq!(AbsenceReason::parse("病假"), Some(AbsenceReason::Ill));
        assert_eq!(PickupRelation::parse("nobody"), None);
    }
}
