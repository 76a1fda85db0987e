//! The worklist (待办): what a user has to act on today, gathered from every
//! workflow. Each workflow module offers
//! `pub fn work_items(conn: &mut Conn, scope: &Scope, today: NaiveDate) -> Result<Vec<WorkItem>>`
//! answering only what the scope may see and act on; the role homes of the
//! console list them, most urgent first.

use serde::Serialize;

/// One line of a worklist: a count of records waiting for one action, and where
/// to act on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkItem {
    /// Stable snake_case key, e.g. `visits_overdue` (tests and the API use it).
    pub key: &'static str,
    /// The line in Chinese, e.g. 本月逾期未探访.
    pub zh: String,
    /// The line in English.
    pub en: String,
    /// How many records wait (0 lines are left out by the callers).
    pub count: i64,
    /// The console page that lists them, filtered (a path starting with `/console/`).
    pub url: String,
    /// Past a deadline (overdue visits, alarms not acknowledged, offers about to lapse).
    pub urgent: bool,
}

impl WorkItem {
    /// A line; `urgent` false.
    pub fn new(key: &'static str, zh: &str, en: &str, count: i64, url: &str) -> Self {
        WorkItem {
            key,
            zh: zh.to_string(),
            en: en.to_string(),
            count,
            url: url.to_string(),
            urgent: false,
        }
    }

    /// The same line, marked past its deadline.
    pub fn urgent(mut self) -> Self {
        self.urgent = true;
        self
    }
}

/// Most urgent first, then the largest counts; lines with nothing waiting dropped.
pub fn order(mut items: Vec<WorkItem>) -> Vec<WorkItem> {
    items.retain(|i| i.count > 0);
    items.sort_by(|a, b| b.urgent.cmp(&a.urgent).then(b.count.cmp(&a.count)));
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_puts_urgent_first_and_drops_empty_lines() {
        let items = vec![
            WorkItem::new("a", "甲", "A", 5, "/console/a"),
            WorkItem::new("b", "乙", "B", 0, "/console/b").urgent(),
            WorkItem::new("c", "丙", "C", 1, "/console/c").urgent(),
            WorkItem::new("d", "丁", "D", 9, "/console/d"),
        ];
        let keys: Vec<_> = order(items).into_iter().map(|i| i.key).collect();
        assert_eq!(keys, ["c", "d", "a"]);
    }
}
