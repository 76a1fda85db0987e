//! The planning answers as tables (CSV with a BOM, or XLSX) with Chinese
//! headers, for the CLI's `--out` and the console's downloads; GeoJSON comes
//! from `laoxiao_rules::planning::report`.

use laoxiao_rules::planning::report::{
    AccessReport, AccessRun, CellRow, CoverageReport, SlotsReport,
};
use laoxiao_rules::planning::siting::SitingReport;
use laoxiao_rules::planning::{Analysis, DensityClass, SlotStatus};

use crate::error::Result;
use crate::indicators::excel::write;
use crate::io::ExportFormat;

fn n(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_default()
}

fn share(covered: u64, in_scope: u64) -> String {
    if in_scope == 0 {
        String::new()
    } else {
        format!("{:.1}%", covered as f64 * 100.0 / in_scope as f64)
    }
}

/// Coverage by area: one row per area, totals then each density class.
pub fn coverage(report: &CoverageReport, format: ExportFormat) -> Result<Vec<u8>> {
    let mut headers = vec![
        "区划代码",
        "区划",
        "层级",
        "人数",
        "适用人数",
        "已覆盖",
        "未覆盖",
        "不适用（低密度）",
        "覆盖率",
    ];
    for c in DensityClass::ALL {
        headers.push(match c {
            DensityClass::High => "高密度：适用",
            DensityClass::Medium => "中密度：适用",
            DensityClass::Low => "低密度：人数",
        });
        if c != DensityClass::Low {
            headers.push(match c {
                DensityClass::High => "高密度：已覆盖",
                _ => "中密度：已覆盖",
            });
        }
    }
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| {
            let t = &r.total;
            let mut row = vec![
                r.area.clone(),
                r.name.clone(),
                r.level.to_string(),
                t.people.to_string(),
                t.in_scope.to_string(),
                t.covered.to_string(),
                t.not_covered.to_string(),
                t.not_assessed.to_string(),
                share(t.covered, t.in_scope),
            ];
            for c in DensityClass::ALL {
                let k = &r.by_class[c.index()];
                if c == DensityClass::Low {
                    row.push(k.people.to_string());
                } else {
                    row.push(k.in_scope.to_string());
                    row.push(k.covered.to_string());
                }
            }
            row
        })
        .collect();
    write(&headers, &rows, format, "覆盖情况")
}

/// The uncovered clusters.
pub fn clusters(report: &CoverageReport, format: ExportFormat) -> Result<Vec<u8>> {
    let headers = [
        "排名",
        "未覆盖人数",
        "网格数",
        "镇（街道）代码",
        "镇（街道）",
        "经度",
        "纬度",
    ];
    let rows: Vec<Vec<String>> = report
        .clusters
        .iter()
        .map(|c| {
            vec![
                c.rank.to_string(),
                c.people.to_string(),
                c.cells.to_string(),
                c.area.clone(),
                c.area_name.clone(),
                format!("{:.6}", c.lng),
                format!("{:.6}", c.lat),
            ]
        })
        .collect();
    write(&headers, &rows, format, "未覆盖聚集区")
}

/// Cells with their people, density class and every rule's answer.
pub fn cells(rows: &[CellRow], format: ExportFormat) -> Result<Vec<u8>> {
    let mut headers: Vec<String> = [
        "列",
        "行",
        "中心经度",
        "中心纬度",
        "区划代码",
        "老年人",
        "婴幼儿",
        "常住人口",
        "密度（人/平方公里）",
        "密度分区",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(first) = rows.first() {
        for r in &first.rules {
            for h in ["最近设施", "距离（米）", "中心已覆盖", "人数", "未覆盖"] {
                headers.push(format!("{}：{h}", r.rule));
            }
        }
        if first.access.is_some() {
            headers.push("可达性".into());
        }
    }
    let out: Vec<Vec<String>> = rows
        .iter()
        .map(|c| {
            let mut row = vec![
                c.col.to_string(),
                c.row.to_string(),
                format!("{:.6}", c.lng),
                format!("{:.6}", c.lat),
                c.area.clone(),
                n(c.elderly),
                n(c.infants),
                format!("{:.1}", c.residents),
                n(c.density),
                c.class.to_string(),
            ];
            for r in &c.rules {
                row.push(r.nearest_id.clone().unwrap_or_default());
                row.push(opt(r.nearest_m, 1));
                row.push(match r.centre_covered {
                    Some(true) => "是".into(),
                    Some(false) => "否".into(),
                    None => "不适用".into(),
                });
                row.push(r.people.to_string());
                row.push(r.uncovered.to_string());
            }
            if let Some(a) = c.access {
                row.push(a.map(|v| format!("{v:.9}")).unwrap_or_default());
            }
            row
        })
        .collect();
    let h: Vec<&str> = headers.iter().map(String::as_str).collect();
    write(&h, &out, format, "网格")
}

/// Accessibility by area.
pub fn access(report: &AccessReport, format: ExportFormat) -> Result<Vec<u8>> {
    let headers = [
        "区划代码",
        "区划",
        "层级",
        "需求人数",
        "无可达设施人数",
        "可达性（每千人）",
    ];
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| {
            vec![
                r.area.clone(),
                r.name.clone(),
                r.level.to_string(),
                n(r.demand),
                n(r.demand_without_access),
                opt(r.mean_per_1000, 3),
            ]
        })
        .collect();
    write(&headers, &rows, format, "可达性")
}

/// Per cell accessibility over the whole grid (for comparisons).
pub fn access_cells(a: &Analysis, run: &AccessRun) -> Vec<Vec<String>> {
    (0..a.grid.len())
        .map(|c| {
            let p = a.grid.centre(c);
            vec![
                c.to_string(),
                format!("{:?}", p.x),
                format!("{:?}", p.y),
                format!("{:?}", a.grid.value(c, run.request.demand.index())),
                run.value[c].map(|v| format!("{v:?}")).unwrap_or_default(),
            ]
        })
        .collect()
}

/// Slots per 1,000 residents by area.
pub fn slots(report: &SlotsReport, format: ExportFormat) -> Result<Vec<u8>> {
    let headers = [
        "区划代码",
        "区划",
        "层级",
        "常住人口",
        "托位",
        "每千人托位",
        "标准",
        "缺口",
        "状态",
    ];
    let rows: Vec<Vec<String>> = report
        .rows
        .iter()
        .map(|r| {
            vec![
                r.area.clone(),
                r.name.clone(),
                r.level.to_string(),
                format!("{:.0}", r.residents),
                n(r.slots),
                opt(r.per_1000, 2),
                n(r.norm_per_1000),
                n(r.gap),
                match r.status {
                    SlotStatus::Met => "达标",
                    SlotStatus::Short => "不足",
                    SlotStatus::NoResidents => "无常住人口",
                }
                .to_string(),
            ]
        })
        .collect();
    write(&headers, &rows, format, "千人托位")
}

/// The proposed sites.
pub fn sites(report: &SitingReport, format: ExportFormat) -> Result<Vec<u8>> {
    let headers = [
        "序号",
        "名称",
        "来源",
        "经度",
        "纬度",
        "区划代码",
        "区划",
        "设施类型",
        "新增覆盖人数",
        "托位",
        "覆盖范围内需求",
    ];
    let rows: Vec<Vec<String>> = report
        .sites
        .iter()
        .map(|s| {
            vec![
                s.rank.to_string(),
                s.name.clone(),
                s.source.to_string(),
                format!("{:.6}", s.lng),
                format!("{:.6}", s.lat),
                s.area.clone(),
                s.area_name.clone(),
                s.kind.to_string(),
                n(s.gain),
                s.slots.map(n).unwrap_or_default(),
                opt(s.need_in_reach, 1),
            ]
        })
        .collect();
    write(&headers, &rows, format, "选址方案")
}
