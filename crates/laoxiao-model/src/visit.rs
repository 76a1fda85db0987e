//! Visiting rounds (探访关爱): what a visit found. The workflow itself (tasks,
//! follow-ups) lives in `laoxiao_store::visits`.

crate::code_enum! {
    /// How a visit went (探访结果).
    pub enum VisitOutcome {
        /// 上门探访: visited in person.
        InPerson = ("in_person", "上门探访", "Visited in person"),
        /// 电话探访: reached by phone.
        ByPhone = ("by_phone", "电话探访", "Reached by phone"),
        /// 未联系上: not reached; the task stays open and counts as attempted.
        NotReached = ("not_reached", "未联系上", "Not reached"),
    }
}

impl VisitOutcome {
    /// Whether the person was reached (a `visit` service record is written;
    /// indicator 8 counts it).
    pub fn reached(self) -> bool {
        !matches!(self, VisitOutcome::NotReached)
    }
}

crate::code_enum! {
    /// A concern a visit found (发现问题); a visit may find several.
    pub enum VisitConcern {
        /// 健康状况
        Health = ("health", "健康状况", "Health"),
        /// 安全隐患
        Safety = ("safety", "安全隐患", "Safety"),
        /// 居住条件
        Living = ("living", "居住条件", "Living conditions"),
        /// 精神状态
        Mental = ("mental", "精神状态", "Mental state"),
        /// 其他
        Other = ("other", "其他", "Other"),
    }
}
