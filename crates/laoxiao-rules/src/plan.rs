//! The tables of 《嘉兴市“十四五”时期“一老一小”整体解决方案（征求意见稿）》
//! as typed reference data.
//!
//! The CSVs in `data/jiaxing/plan/` (see its SOURCES.md) are embedded at
//! compile time, so the binary needs no data directory and the figures
//! cannot drift from the reviewed files. Cells keep the plan's text; only
//! the indicator targets are parsed further (into [`Target`]).

use std::collections::HashSet;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::RulesError;

const INDICATORS: (&str, &str) = (
    "indicators.csv",
    include_str!("../../../data/jiaxing/plan/indicators.csv"),
);
const FACILITY_FIGURES: (&str, &str) = (
    "facility_figures_2020.csv",
    include_str!("../../../data/jiaxing/plan/facility_figures_2020.csv"),
);
const KEY_PROJECTS: (&str, &str) = (
    "key_projects.csv",
    include_str!("../../../data/jiaxing/plan/key_projects.csv"),
);
const POLICIES: (&str, &str) = (
    "policies.csv",
    include_str!("../../../data/jiaxing/plan/policies.csv"),
);
const TEXT_FIGURES: (&str, &str) = (
    "text_figures.csv",
    include_str!("../../../data/jiaxing/plan/text_figures.csv"),
);

/// 类别: the plan's two halves, 养老 (elderly care) and 托育 (childcare).
/// Also used for 表1's 类别 and the key projects' 项目类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorGroup {
    /// 养老
    Elderly,
    /// 托育
    Childcare,
}

/// How a target relates to its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    /// A plain figure (“83”, “达到”, “提高到”).
    Eq,
    /// 以上 / 不低于 / 不少于 / 至少: the number itself included.
    AtLeast,
    /// 以下: the number itself included.
    AtMost,
}

/// A parsed target: comparator and number.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TargetValue {
    pub comparator: Comparator,
    pub value: f64,
}

/// One cell of the indicator table (2020 基期值, 2022 or 2025 目标值).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    /// The cell exactly as the plan prints it (“72以上”, “/”, “90.00”), so
    /// screens can show the official wording next to the parsed value.
    pub raw: String,
    /// `None` for “/” and “-”, the plan's marks for “no figure”.
    pub value: Option<TargetValue>,
}

impl Target {
    /// Parses a cell: “N” → `Eq`, “N以上” → `AtLeast`, “N以下” → `AtMost`,
    /// “/” and “-” → no value.
    pub fn parse(raw: &str) -> Result<Target, RulesError> {
        let invalid = || RulesError::InvalidTarget {
            raw: raw.to_string(),
        };
        let cell = raw.trim();
        let value = match cell {
            "/" | "-" => None,
            _ => {
                let (number, comparator) = if let Some(n) = cell.strip_suffix("以上") {
                    (n, Comparator::AtLeast)
                } else if let Some(n) = cell.strip_suffix("以下") {
                    (n, Comparator::AtMost)
                } else {
                    (cell, Comparator::Eq)
                };
                let value: f64 = number.trim().parse().map_err(|_| invalid())?;
                // f64 parsing accepts "inf" and "NaN"; no plan figure is either.
                if !value.is_finite() {
                    return Err(invalid());
                }
                Some(TargetValue { comparator, value })
            }
        };
        Ok(Target {
            raw: raw.to_string(),
            value,
        })
    }
}

/// One row of the indicator table in 二（三）具体指标
/// (嘉兴市“十四五”时期推动实现更高水平“一老一小”服务目标指标).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// 序号: 1–43 and 45 (the plan has no 44).
    pub number: u32,
    /// 类别
    pub group: IndicatorGroup,
    /// 指标, without the bracketed unit.
    pub name_zh: String,
    /// The bracketed unit (%, ‰, 岁, 万人, 张, 个, 人); `None` where the
    /// plan gives none (30 新生儿访视).
    pub unit: Option<String>,
    /// 2020年 (基期值)
    pub baseline_2020: Target,
    /// 2022年 (目标值)
    pub target_2022: Target,
    /// 2025年 (目标值)
    pub target_2025: Target,
    /// 责任单位
    pub responsible_unit: String,
}

/// The CSV shape of [`Indicator`]: targets still raw.
#[derive(Deserialize)]
struct IndicatorRow {
    number: u32,
    group: IndicatorGroup,
    name_zh: String,
    unit: Option<String>,
    baseline_2020: String,
    target_2022: String,
    target_2025: String,
    responsible_unit: String,
}

/// One row of 表1 嘉兴市“一老一小”服务设施情况 (the plan gives no date).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FacilityFigure {
    /// 序号
    pub number: u32,
    /// 类别
    pub group: IndicatorGroup,
    /// 指标
    pub name_zh: String,
    /// 数值, without its unit.
    pub value: f64,
    /// The unit printed after the number (家, 张, %, 个).
    pub unit: String,
}

/// What a key project's capacity counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapacityKind {
    /// 床位 (elderly-care and medical beds)
    Beds,
    /// 托位 (childcare places)
    Slots,
}

/// One row of 附表一 重点项目清单.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyProject {
    /// 序号
    pub number: u32,
    /// 项目名称
    pub name: String,
    /// 项目类型
    #[serde(rename = "type")]
    pub project_type: IndicatorGroup,
    /// 建设地点, county part (as printed: “经开区” is kept, not mapped to a
    /// county code).
    pub county: String,
    /// 建设地点, town/street part; `None` where only the county is given.
    pub town: Option<String>,
    /// 建设内容和规模, verbatim.
    pub description: String,
    /// What `capacity` counts; `None` when the description states no beds
    /// or places.
    pub capacity_kind: Option<CapacityKind>,
    /// Beds or places read from the description.
    pub capacity: Option<u32>,
    /// 总投资（万元）
    pub total_investment_10k_yuan: f64,
    /// 拟申请中央预算内投资（万元）; `None` where the plan prints “/”.
    pub central_funding_requested_10k_yuan: Option<f64>,
    /// The plan marks the request 已下达 (already granted).
    pub central_funding_granted: bool,
    /// 组织实施单位
    pub implementing_unit: String,
}

/// One quantified or dated target from 附表二 重要政策清单, 附表三 主要试点清单
/// or 附表四 重点市场主体清单 (one row per number; records without one are
/// left out, see SOURCES.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyTarget {
    /// 2, 3 or 4 (附表二/三/四).
    pub annex: u8,
    /// 类别 (附表二: 养老服务政策/托育服务政策; 附表四: its 类别 column).
    pub category: Option<String>,
    /// 序号; continuation rows carry their merged cell's number.
    pub number: u32,
    /// 政策领域 (附表二), 试点名称 (附表三) or 要素名称 (附表四).
    pub area: String,
    /// 重点工作举措和内容 / 主要试点措施 / “十四五”时期保障举措, verbatim.
    pub measure: String,
    /// The clause of 预期目标 that carries the number or date, verbatim.
    pub target_text: String,
    /// A short label of what the number measures (editorial, in the plan's
    /// words), since one clause may hold several numbers.
    pub target_subject: String,
    /// `None` for date-only targets.
    pub comparator: Option<Comparator>,
    pub target_value: Option<f64>,
    pub target_unit: Option<String>,
    /// The year the target is due (到20XX年); `None` if the plan names none.
    pub target_year: Option<i32>,
    /// 责任单位
    pub responsible_unit: Option<String>,
    /// 文件名称 (附表二 only).
    pub source_document: Option<String>,
}

/// A figure quoted in the plan's running text (一、实施背景 and others).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextFigure {
    /// Stable snake_case key, used by features to look the figure up.
    pub key: String,
    pub value: f64,
    pub unit: Option<String>,
    /// The year the figure refers to or is due; `None` if the plan says
    /// only “目前” or nothing.
    pub year: Option<i32>,
    /// Section of the plan, e.g. “一(二)1”.
    pub section: String,
    /// The Chinese phrase the number is taken from, verbatim.
    pub quote: String,
}

/// The whole plan as reference data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub indicators: Vec<Indicator>,
    pub facility_figures: Vec<FacilityFigure>,
    pub key_projects: Vec<KeyProject>,
    pub policies: Vec<PolicyTarget>,
    pub text_figures: Vec<TextFigure>,
}

impl Plan {
    /// Parses the embedded CSVs. An error means the shipped data is broken.
    pub fn embedded() -> Result<Plan, RulesError> {
        let indicators = read::<IndicatorRow>(INDICATORS)?
            .into_iter()
            .map(|r| {
                Ok(Indicator {
                    number: r.number,
                    group: r.group,
                    name_zh: r.name_zh,
                    unit: r.unit,
                    baseline_2020: Target::parse(&r.baseline_2020)?,
                    target_2022: Target::parse(&r.target_2022)?,
                    target_2025: Target::parse(&r.target_2025)?,
                    responsible_unit: r.responsible_unit,
                })
            })
            .collect::<Result<Vec<_>, RulesError>>()?;
        unique(INDICATORS.0, indicators.iter().map(|i| i.number))?;

        let facility_figures = read::<FacilityFigure>(FACILITY_FIGURES)?;
        unique(
            FACILITY_FIGURES.0,
            facility_figures.iter().map(|f| f.number),
        )?;

        let key_projects = read::<KeyProject>(KEY_PROJECTS)?;
        unique(KEY_PROJECTS.0, key_projects.iter().map(|p| p.number))?;
        // A capacity without its kind (or the reverse) would be misread.
        if let Some(p) = key_projects
            .iter()
            .find(|p| p.capacity_kind.is_some() != p.capacity.is_some())
        {
            return Err(bad(
                KEY_PROJECTS.0,
                format!(
                    "project {}: capacity_kind and capacity must be set together",
                    p.number
                ),
            ));
        }

        let policies = read::<PolicyTarget>(POLICIES)?;
        if let Some(p) = policies
            .iter()
            .find(|p| p.comparator.is_some() != p.target_value.is_some())
        {
            return Err(bad(
                POLICIES.0,
                format!(
                    "{:?}: comparator and target_value must be set together",
                    p.target_text
                ),
            ));
        }

        let text_figures = read::<TextFigure>(TEXT_FIGURES)?;
        unique(TEXT_FIGURES.0, text_figures.iter().map(|f| f.key.as_str()))?;

        Ok(Plan {
            indicators,
            facility_figures,
            key_projects,
            policies,
            text_figures,
        })
    }

    /// The indicator with 序号 `number`.
    pub fn indicator(&self, number: u32) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.number == number)
    }

    /// The running-text figure with `key`.
    pub fn figure(&self, key: &str) -> Option<&TextFigure> {
        self.text_figures.iter().find(|f| f.key == key)
    }

    /// Row `number` of 表1.
    pub fn facility_figure(&self, number: u32) -> Option<&FacilityFigure> {
        self.facility_figures.iter().find(|f| f.number == number)
    }

    /// Key project `number` of 附表一.
    pub fn key_project(&self, number: u32) -> Option<&KeyProject> {
        self.key_projects.iter().find(|p| p.number == number)
    }

    /// The indicators of one 类别, in the plan's order.
    pub fn indicators_in(&self, group: IndicatorGroup) -> impl Iterator<Item = &Indicator> {
        self.indicators.iter().filter(move |i| i.group == group)
    }
}

fn bad(file: &'static str, reason: String) -> RulesError {
    RulesError::PlanData { file, reason }
}

fn read<T: DeserializeOwned>((file, text): (&'static str, &str)) -> Result<Vec<T>, RulesError> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(|e| bad(file, e.to_string()))
}

fn unique<K: Copy + Eq + std::hash::Hash + std::fmt::Debug>(
    file: &'static str,
    keys: impl Iterator<Item = K>,
) -> Result<(), RulesError> {
    let mut seen = HashSet::new();
    for k in keys {
        if !seen.insert(k) {
            return Err(bad(file, format!("duplicate key {k:?}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan::embedded().expect("embedded plan data parses")
    }

    fn v(comparator: Comparator, value: f64) -> Option<TargetValue> {
        Some(TargetValue { comparator, value })
    }

    #[test]
    fn target_parsing() {
        let p = |s| Target::parse(s).expect("parses").value;
        assert_eq!(p("83"), v(Comparator::Eq, 83.0));
        assert_eq!(p("82.82"), v(Comparator::Eq, 82.82));
        assert_eq!(p("90.00"), v(Comparator::Eq, 90.0));
        assert_eq!(p("72以上"), v(Comparator::AtLeast, 72.0));
        assert_eq!(p("5以下"), v(Comparator::AtMost, 5.0));
        assert_eq!(p("/"), None);
        assert_eq!(p("-"), None);
        assert_eq!(Target::parse("90.00").expect("parses").raw, "90.00");
        for bad in ["", "以上", "约5", "5左右", "inf", "NaN", "5以上以下"] {
            let e = Target::parse(bad).expect_err(bad);
            assert_eq!(e.code(), "target_invalid");
        }
    }

    #[test]
    fn target_serializes_raw_and_parsed() {
        let t = Target::parse("72以上").expect("parses");
        assert_eq!(
            serde_json::to_value(&t).expect("serializes"),
            serde_json::json!({"raw": "72以上", "value": {"comparator": "at_least", "value": 72.0}})
        );
        let t = Target::parse("/").expect("parses");
        assert_eq!(
            serde_json::to_value(&t).expect("serializes"),
            serde_json::json!({"raw": "/", "value": null})
        );
    }

    #[test]
    fn indicator_numbers() {
        let plan = plan();
        assert_eq!(plan.indicators.len(), 44);
        let numbers: Vec<u32> = plan.indicators.iter().map(|i| i.number).collect();
        let expected: Vec<u32> = (1..=43).chain([45]).collect();
        assert_eq!(numbers, expected);
        assert!(plan.indicator(44).is_none());
        assert_eq!(plan.indicators_in(IndicatorGroup::Elderly).count(), 29);
        assert_eq!(plan.indicators_in(IndicatorGroup::Childcare).count(), 15);
    }

    #[test]
    fn indicator_values_match_the_plan() {
        let plan = plan();
        let ind = |n| plan.indicator(n).expect("indicator exists");

        let i = ind(11);
        assert_eq!(i.name_zh, "3A级以上居家社区养老服务照料中心覆盖率");
        assert_eq!(i.unit.as_deref(), Some("%"));
        assert_eq!(i.baseline_2020.value, v(Comparator::Eq, 83.0));
        assert_eq!(i.target_2022.value, v(Comparator::Eq, 95.0));
        assert_eq!(i.target_2025.value, v(Comparator::Eq, 100.0));
        assert_eq!(i.responsible_unit, "市民政局");

        let i = ind(1);
        assert_eq!(
            (i.name_zh.as_str(), i.unit.as_deref()),
            ("人均预期寿命", Some("岁"))
        );
        assert_eq!(i.baseline_2020.value, v(Comparator::Eq, 82.82));
        assert_eq!(i.target_2022.raw, "/");
        assert_eq!(i.target_2022.value, None);
        assert_eq!(i.responsible_unit, "市统计局");

        let i = ind(2);
        assert_eq!(i.baseline_2020.value, v(Comparator::Eq, 71.98));
        assert_eq!(i.target_2025.raw, "72以上");
        assert_eq!(i.target_2025.value, v(Comparator::AtLeast, 72.0));

        assert_eq!(ind(4).unit.as_deref(), Some("万人"));
        assert_eq!(ind(4).target_2025.value, v(Comparator::Eq, 350.0));
        assert_eq!(ind(5).baseline_2020.value, v(Comparator::AtLeast, 99.0));
        assert_eq!(ind(6).baseline_2020.raw, "-");
        assert_eq!(ind(6).baseline_2020.value, None);
        assert_eq!(ind(15).target_2025.value, v(Comparator::Eq, 5.5));
        assert_eq!(ind(19).name_zh, "养老服务相关专业就读学生数（含毕业）");
        assert_eq!(ind(19).unit.as_deref(), Some("人"));
        assert_eq!(ind(23).target_2025.value, None);
        assert_eq!(ind(23).responsible_unit, "市财政局");
        assert_eq!(ind(29).group, IndicatorGroup::Elderly);

        let i = ind(30);
        assert_eq!(i.name_zh, "新生儿访视");
        assert_eq!(i.unit, None);
        assert_eq!(i.group, IndicatorGroup::Childcare);
        assert_eq!(i.target_2022.value, v(Comparator::AtLeast, 90.0));

        let i = ind(31);
        assert_eq!(
            (i.name_zh.as_str(), i.unit.as_deref()),
            ("婴儿死亡率", Some("‰"))
        );
        assert_eq!(i.baseline_2020.value, v(Comparator::Eq, 2.0));
        assert_eq!(i.target_2022.value, v(Comparator::AtMost, 5.0));
        assert_eq!(i.target_2025.value, v(Comparator::AtMost, 5.0));

        assert_eq!(ind(38).unit.as_deref(), Some("张"));
        assert_eq!(ind(38).baseline_2020.value, v(Comparator::Eq, 0.8));
        assert_eq!(ind(42).target_2022.value, v(Comparator::AtLeast, 85.0));
        assert_eq!(ind(41).target_2025.value, v(Comparator::Eq, 1000.0));

        let i = ind(45);
        assert_eq!(i.name_zh, "0-3岁婴幼儿发育筛查率");
        assert_eq!(i.baseline_2020.raw, "90.00");
        assert_eq!(i.baseline_2020.value, v(Comparator::Eq, 90.0));
        assert_eq!(i.target_2025.value, v(Comparator::AtLeast, 85.0));
    }

    #[test]
    fn no_indicator_name_keeps_its_unit() {
        for i in plan().indicators {
            if let Some(u) = &i.unit {
                assert!(!i.name_zh.ends_with(&format!("（{u}）")), "{}", i.name_zh);
            }
        }
    }

    #[test]
    fn facility_figures_match_table_1() {
        let plan = plan();
        let values: Vec<f64> = plan.facility_figures.iter().map(|f| f.value).collect();
        assert_eq!(
            values,
            [
                118.0, 38788.0, 20907.0, 54.0, 79.0, 1044.0, 62.0, 15570.0, 3.11, 80.0
            ]
        );
        let units: Vec<&str> = plan
            .facility_figures
            .iter()
            .map(|f| f.unit.as_str())
            .collect();
        assert_eq!(
            units,
            ["家", "张", "张", "%", "家", "家", "家", "张", "个", "家"]
        );
        let numbers: Vec<u32> = plan.facility_figures.iter().map(|f| f.number).collect();
        assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
        let f = plan.facility_figure(1).expect("row 1");
        assert_eq!(
            (f.group, f.name_zh.as_str()),
            (IndicatorGroup::Elderly, "养老机构数")
        );
        let f = plan.facility_figure(9).expect("row 9");
        assert_eq!(f.group, IndicatorGroup::Childcare);
        assert_eq!(f.name_zh, "每千人口拥有3岁以下婴幼儿托位数");
    }

    #[test]
    fn key_projects_match_annex_1() {
        let plan = plan();
        assert_eq!(plan.key_projects.len(), 72);
        let numbers: Vec<u32> = plan.key_projects.iter().map(|p| p.number).collect();
        assert_eq!(numbers, (1..=72).collect::<Vec<_>>());
        let elderly = plan
            .key_projects
            .iter()
            .filter(|p| p.project_type == IndicatorGroup::Elderly)
            .count();
        assert_eq!(elderly, 23);
        let kp = |n| plan.key_project(n).expect("project exists");

        let p = kp(1);
        assert_eq!(p.name, "嘉兴市湘家荡颐养中心（二、三期）");
        assert_eq!((p.county.as_str(), p.town.as_deref()), ("南湖区", None));
        assert_eq!(
            (p.capacity_kind, p.capacity),
            (Some(CapacityKind::Beds), Some(668))
        );
        assert_eq!(p.total_investment_10k_yuan, 6900.0);
        // The plan prints “/” here: no central funding requested.
        assert_eq!(p.central_funding_requested_10k_yuan, None);
        assert!(!p.central_funding_granted);

        let p = kp(2);
        assert_eq!(p.central_funding_requested_10k_yuan, Some(1252.0));
        assert!(p.central_funding_granted);
        assert_eq!(p.implementing_unit, "浙江大树健康产业发展有限公司");

        let p = kp(3);
        assert_eq!(p.total_investment_10k_yuan, 25912.73);
        assert_eq!(p.capacity, Some(420));

        // Medical (300) and elderly-care (416) beds are summed.
        assert_eq!(kp(8).capacity, Some(716));
        // “共计床位260张，其中医疗床位99张”: the total, not 359.
        assert_eq!(kp(20).capacity, Some(260));

        let p = kp(14);
        assert_eq!(p.name, "海盐县老年活动中心（老年大学）");
        assert_eq!((p.capacity_kind, p.capacity), (None, None));
        assert_eq!(p.central_funding_requested_10k_yuan, Some(3000.0));

        let p = kp(29);
        assert_eq!(p.name, "大桥镇托育服务点");
        assert_eq!(p.project_type, IndicatorGroup::Childcare);
        assert_eq!(
            (p.county.as_str(), p.town.as_deref()),
            ("南湖区", Some("大桥镇"))
        );
        assert_eq!(
            (p.capacity_kind, p.capacity),
            (Some(CapacityKind::Slots), Some(300))
        );
        assert_eq!(p.total_investment_10k_yuan, 600.0);

        let p = kp(42);
        assert_eq!(
            (p.county.as_str(), p.town.as_deref()),
            ("经开区", Some("长水街道"))
        );
        assert_eq!(p.capacity, Some(60));
        assert_eq!(p.central_funding_requested_10k_yuan, Some(50.0));
        assert!(p.central_funding_granted);

        assert_eq!(kp(47).total_investment_10k_yuan, 31.2);
        assert_eq!(kp(57).description, "提供80位个托位。");
        assert_eq!(kp(57).capacity, Some(80));

        let p = kp(72);
        assert_eq!(p.name, "桐乡市经济开发区幼儿园高新园区托育部");
        assert_eq!(
            (p.county.as_str(), p.town.as_deref()),
            ("桐乡市", Some("高桥街道"))
        );
        assert_eq!(p.capacity, Some(40));
        assert_eq!(p.total_investment_10k_yuan, 50.0);
        assert_eq!(p.central_funding_requested_10k_yuan, Some(20.0));
        assert_eq!(p.implementing_unit, "机构及法人");

        let granted: Vec<u32> = plan
            .key_projects
            .iter()
            .filter(|p| p.central_funding_granted)
            .map(|p| p.number)
            .collect();
        assert_eq!(granted, [2, 7, 24, 25, 42, 53, 57, 58, 68]);
        let sum = |kind| -> u32 {
            plan.key_projects
                .iter()
                .filter(|p| p.capacity_kind == Some(kind))
                .filter_map(|p| p.capacity)
                .sum()
        };
        assert_eq!(sum(CapacityKind::Beds), 8741);
        assert_eq!(sum(CapacityKind::Slots), 3263);
        // Childcare projects all count places, elderly ones beds.
        for p in &plan.key_projects {
            let expected = match p.project_type {
                IndicatorGroup::Childcare => Some(CapacityKind::Slots),
                IndicatorGroup::Elderly if p.number == 14 => None,
                IndicatorGroup::Elderly => Some(CapacityKind::Beds),
            };
            assert_eq!(p.capacity_kind, expected, "project {}", p.number);
        }
    }

    #[test]
    fn policies_are_annexes_2_to_4() {
        let plan = plan();
        assert_eq!(plan.policies.len(), 46);
        let count = |a| plan.policies.iter().filter(|p| p.annex == a).count();
        assert_eq!((count(2), count(3), count(4)), (31, 9, 6));
        for p in &plan.policies {
            assert!(
                p.target_value.is_some() || p.target_year.is_some(),
                "{:?}",
                p.target_text
            );
            if let Some(v) = p.target_value
                && p.target_subject != "行动期限"
            {
                assert!(
                    p.target_text.replace(' ', "").contains(&v.to_string()),
                    "{:?}",
                    p.target_text
                );
            }
        }
        let p = plan
            .policies
            .iter()
            .find(|p| p.target_subject == "养老护理员高级工、技师比例")
            .expect("row exists");
        assert_eq!(p.annex, 2);
        assert_eq!(p.category.as_deref(), Some("养老服务政策"));
        assert_eq!((p.number, p.area.as_str()), (5, "人才补贴政策"));
        assert_eq!(
            (p.comparator, p.target_value),
            (Some(Comparator::Eq), Some(18.0))
        );
        assert_eq!(
            (p.target_unit.as_deref(), p.target_year),
            (Some("%"), Some(2025))
        );
        assert_eq!(
            p.source_document.as_deref(),
            Some(
                "市发展改革委 市民政局关于印发《嘉兴市养老服务发展“十四五”规划》的通知（嘉发改〔2021〕195号）"
            )
        );
        let p = plan
            .policies
            .iter()
            .find(|p| p.target_text.contains("福利彩票公益金至少55%"))
            .expect("row exists");
        assert_eq!((p.number, p.target_year), (4, Some(2022)));
        assert_eq!(p.comparator, Some(Comparator::AtLeast));
        let p = plan
            .policies
            .iter()
            .find(|p| p.annex == 4 && p.number == 3 && p.target_unit.as_deref() == Some("个"))
            .expect("row exists");
        assert_eq!(p.category.as_deref(), Some("社区办托育园"));
        assert_eq!(
            (p.comparator, p.target_value),
            (Some(Comparator::AtLeast), Some(20.0))
        );
        // The PDF broke “市卫生健康委” across lines; the transcription joins it.
        assert!(
            plan.policies.iter().all(|p| !p
                .responsible_unit
                .as_deref()
                .unwrap_or("")
                .contains('\n'))
        );
    }

    #[test]
    fn text_figures_match_the_plan() {
        let plan = plan();
        let fig = |k| plan.figure(k).unwrap_or_else(|| panic!("figure {k}"));
        let check = |k, value: f64, unit: Option<&str>, year: Option<i32>| {
            let f = fig(k);
            assert_eq!(
                (f.value, f.unit.as_deref(), f.year),
                (value, unit, year),
                "{k}"
            );
        };
        check("hukou_elderly_share_2021", 27.58, Some("%"), Some(2021));
        check(
            "hukou_elderly_share_2025_expected",
            32.0,
            Some("%"),
            Some(2025),
        );
        check("total_fertility_rate_2016_peak", 1.62, None, Some(2016));
        check("total_fertility_rate_2021", 0.81, None, Some(2021));
        check("filed_childcare_institutions", 50.0, Some("家"), None);
        check("filed_childcare_slots", 3151.0, Some("个"), None);
        check(
            "national_inclusive_childcare_projects",
            9.0,
            Some("家"),
            None,
        );
        check(
            "national_inclusive_childcare_slots",
            709.0,
            Some("个"),
            None,
        );
        check("childcare_town_coverage", 98.61, Some("%"), None);
        check("urban_rural_income_ratio_2021", 1.6, None, Some(2021));
        assert_eq!(fig("total_fertility_rate_2021").quote, "到2021年降至0.81");
        assert_eq!(fig("hukou_elderly_share_2021").section, "一(二)1");
        assert!(plan.figure("no_such_key").is_none());
        // Every quote shows its number (written “一” once, in 一所).
        for f in &plan.text_figures {
            assert!(
                f.quote.contains(&f.value.to_string()) || f.quote.contains("一所"),
                "{}: {}",
                f.key,
                f.quote
            );
        }
    }
}
