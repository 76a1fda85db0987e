//! Open statistics (数据开放): the published indicator values and the
//! reference lists behind them, as datasets anyone may download (CSV, XLSX,
//! JSON) with a data dictionary, a licence and a machine-readable catalogue
//! (DCAT). Only published values (发布) are open, never the live ones, and
//! never anything about a person: values that count a few people are withheld
//! (`laoxiao_rules::open_data`, `open_data.min_count`). See docs/open-data.md.

use chrono::NaiveDate;
use laoxiao_rules::indicators::{Definition, Period, definitions};
use laoxiao_rules::open_data::suppression;
use laoxiao_rules::subsidies::{Params, Value as ParamValue};
use serde::Serialize;
use serde_json::{Value as Json, json};

use crate::Reference;
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::indicators::{self, IndicatorValue, Publication, excel};
use crate::io::ExportFormat;

/// The most published periods a catalogue lists (bounds its size; ten years
/// of years and months is 130).
pub const MAX_RELEASES: usize = 200;

/// A dataset's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenFormat {
    Csv,
    Xlsx,
    Json,
}

impl OpenFormat {
    /// `data.csv`, `data.xlsx`, `data.json`.
    pub fn from_file_name(s: &str) -> Option<OpenFormat> {
        match s {
            "data.csv" => Some(OpenFormat::Csv),
            "data.xlsx" => Some(OpenFormat::Xlsx),
            "data.json" => Some(OpenFormat::Json),
            _ => None,
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            OpenFormat::Csv => "data.csv",
            OpenFormat::Xlsx => "data.xlsx",
            OpenFormat::Json => "data.json",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            OpenFormat::Csv => "text/csv; charset=utf-8",
            OpenFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            OpenFormat::Json => "application/json",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OpenFormat::Csv => "CSV",
            OpenFormat::Xlsx => "XLSX",
            OpenFormat::Json => "JSON",
        }
    }

    pub const ALL: [OpenFormat; 3] = [OpenFormat::Csv, OpenFormat::Xlsx, OpenFormat::Json];
}

/// One column of a dataset (数据字典).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Field {
    pub name: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    #[serde(rename = "type")]
    pub kind: &'static str,
}

const fn field(
    name: &'static str,
    zh: &'static str,
    en: &'static str,
    kind: &'static str,
) -> Field {
    Field { name, zh, en, kind }
}

/// The columns of an indicator-values dataset.
pub const VALUE_FIELDS: &[Field] = &[
    field("period", "统计期", "Period (a year, or a month)", "string"),
    field(
        "indicator",
        "指标序号",
        "The plan's indicator number",
        "integer",
    ),
    field(
        "indicator_name",
        "指标名称",
        "The indicator's name",
        "string",
    ),
    field("unit", "单位", "The plan's unit", "string"),
    field(
        "area_code",
        "区划代码",
        "The area's division code",
        "string",
    ),
    field("area_name", "区划名称", "The area's name", "string"),
    field("level", "层级", "city, county, town or village", "string"),
    field(
        "value",
        "值",
        "The value (empty: no data, or withheld)",
        "number",
    ),
    field(
        "numerator",
        "分子",
        "What the value counts (people, places…)",
        "integer",
    ),
    field("denominator", "分母", "What it is divided by", "integer"),
    field(
        "target",
        "目标",
        "The next target, as the plan prints it",
        "string",
    ),
    field(
        "target_year",
        "目标年份",
        "The year of that target",
        "integer",
    ),
    field(
        "status",
        "状态",
        "met, on_track, behind, no_target or no_data",
        "string",
    ),
    field(
        "withheld",
        "不公开原因",
        "Why the value is withheld: small_numerator, small_denominator or small_complement (empty: published)",
        "string",
    ),
    field(
        "publication",
        "发布批次",
        "The publication's number",
        "integer",
    ),
    field("published_at", "发布时间", "When it was published", "date"),
    field(
        "definitions_version",
        "指标口径版本",
        "The definitions' version",
        "string",
    ),
];

/// The columns of the indicator-definitions dataset.
pub const DEFINITION_FIELDS: &[Field] = &[
    field(
        "indicator",
        "指标序号",
        "The plan's indicator number",
        "integer",
    ),
    field(
        "group",
        "类别",
        "elderly or childcare (the plan's table)",
        "string",
    ),
    field("name_zh", "指标名称", "The name in Chinese", "string"),
    field("name_en", "英文名称", "The name in English", "string"),
    field("unit", "单位", "The plan's unit", "string"),
    field(
        "responsible_unit",
        "责任单位",
        "The responsible department",
        "string",
    ),
    field("direction", "方向", "higher or lower is better", "string"),
    field(
        "baseline_2020",
        "2020年基数",
        "The plan's 2020 baseline",
        "string",
    ),
    field(
        "target_2022",
        "2022年目标",
        "The plan's 2022 target",
        "string",
    ),
    field(
        "target_2025",
        "2025年目标",
        "The plan's 2025 target",
        "string",
    ),
    field(
        "method",
        "取得方式",
        "computed from the registers, or reported",
        "string",
    ),
    field(
        "clause",
        "出处",
        "Where in the plan it comes from",
        "string",
    ),
    field(
        "levels",
        "统计层级",
        "The levels it has values for",
        "string",
    ),
];

/// The columns of the areas dataset.
pub const AREA_FIELDS: &[Field] = &[
    field("code", "区划代码", "The division code", "string"),
    field("name", "名称", "The name", "string"),
    field("level", "层级", "city, county, town or village", "string"),
    field("parent_code", "上级区划代码", "The parent's code", "string"),
];

/// The columns of the key-projects dataset (附件1 with progress).
pub const KEY_PROJECT_FIELDS: &[Field] = &[
    field("number", "序号", "The plan's number (annex 1)", "integer"),
    field("name", "项目名称", "The project's name", "string"),
    field("type", "项目类型", "elderly or childcare", "string"),
    field(
        "county_code",
        "县（市、区）代码",
        "The county's division code",
        "string",
    ),
    field("county_name", "县（市、区）", "The county's name", "string"),
    field(
        "town",
        "镇（街道）",
        "The town, where the plan names one",
        "string",
    ),
    field(
        "description",
        "建设内容和规模",
        "What is built, as the plan prints it",
        "string",
    ),
    field("capacity_kind", "容量类型", "beds or slots", "string"),
    field(
        "capacity",
        "规划床位（托位）",
        "Beds or slots planned",
        "integer",
    ),
    field(
        "delivered_capacity",
        "已交付床位（托位）",
        "Beds or slots delivered at completion",
        "integer",
    ),
    field(
        "investment_planned_10k_yuan",
        "计划总投资（万元）",
        "Planned investment, 10k yuan",
        "number",
    ),
    field(
        "investment_spent_10k_yuan",
        "已完成投资（万元）",
        "Investment spent to date (latest report), 10k yuan",
        "number",
    ),
    field(
        "status",
        "进度状态",
        "on_track, behind or completed",
        "string",
    ),
    field(
        "percent_complete",
        "完成进度（%）",
        "Percent complete (latest report)",
        "integer",
    ),
    field(
        "last_report_date",
        "最近填报日期",
        "The latest progress report's date",
        "date",
    ),
    field("completed_on", "竣工日期", "The completion date", "date"),
];

/// A dataset of the catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    /// `indicators-2022`, `indicators-2023-06`, `indicator-definitions`, `areas`.
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub description_zh: String,
    pub description_en: String,
    pub fields: &'static [Field],
    /// The publication behind it (indicator values only).
    pub release: Option<Publication>,
    /// When its content last changed: the publication's time, or the
    /// definitions' version for reference lists.
    pub modified: Option<String>,
    pub version: String,
}

/// The licence and threshold in force today.
#[derive(Debug, Clone, Serialize)]
pub struct Terms {
    pub licence: String,
    pub min_count: i64,
}

fn params() -> Result<&'static Params> {
    Params::embedded().map_err(|e| StoreError::Reference(e.to_string()))
}

/// The licence and the small-count threshold in force on `day`.
pub fn terms(day: NaiveDate) -> Result<Terms> {
    let p = params()?;
    let min_count = p
        .int("open_data.min_count", day)
        .map_err(|e| StoreError::Reference(e.to_string()))?
        .0;
    let licence = match p
        .at("open_data.licence", day)
        .map_err(|e| StoreError::Reference(e.to_string()))?
        .value
    {
        ParamValue::Text(s) => s,
        ParamValue::Int(n) => n.to_string(),
    };
    Ok(Terms { licence, min_count })
}

/// The latest publication of every published period, newest period first.
pub fn releases(conn: &mut Conn) -> Result<Vec<Publication>> {
    let mut latest: Vec<Publication> = Vec::new();
    // `publications` is newest first: the first seen of a period is its latest.
    for p in indicators::publications(conn)? {
        if !latest.iter().any(|q| q.period == p.period) {
            latest.push(p);
        }
    }
    latest.sort_by(|a, b| b.period.cmp(&a.period));
    latest.truncate(MAX_RELEASES);
    Ok(latest)
}

fn defs() -> Result<&'static laoxiao_rules::indicators::Definitions> {
    definitions().map_err(|e| StoreError::Reference(e.to_string()))
}

/// The dataset id of a period's values.
pub fn values_id(period: &str) -> String {
    format!("indicators-{period}")
}

/// Every dataset, newest indicator values first.
pub fn catalogue(conn: &mut Conn) -> Result<Vec<Dataset>> {
    let ds = defs()?;
    let mut out = Vec::new();
    for p in releases(conn)? {
        out.push(Dataset {
            id: values_id(&p.period),
            title_zh: format!("嘉兴市“一老一小”指标监测值（{}）", period_zh(&p.period)),
            title_en: format!("Jiaxing elderly-care and childcare indicators, {}", p.period),
            description_zh: format!(
                "《嘉兴市“一老一小”整体解决方案》44项指标在{}的发布值，按市、县（市、区）、镇（街道）、村（社区）列出，含分子、分母、目标与状态。涉及人数过少的值不公开。",
                period_zh(&p.period)
            ),
            description_en: format!(
                "The published values of the plan's 44 indicators for {}, by city, county, town and village, with numerator, denominator, target and status. Values that count very few people are withheld.",
                p.period
            ),
            fields: VALUE_FIELDS,
            modified: Some(p.published_at.clone()),
            version: format!("{}-{}", p.id, p.definitions_version),
            release: Some(p),
        });
    }
    out.push(Dataset {
        id: "indicator-definitions".into(),
        title_zh: "嘉兴市“一老一小”指标口径".into(),
        title_en: "Jiaxing elderly-care and childcare indicator definitions".into(),
        description_zh: "44项指标的名称、单位、责任单位、2020年基数、2022年与2025年目标、取得方式及其在规划中的出处。".into(),
        description_en: "The 44 indicators' names, units, responsible units, 2020 baselines, 2022 and 2025 targets, how each is obtained and where in the plan it comes from.".into(),
        fields: DEFINITION_FIELDS,
        release: None,
        modified: None,
        version: ds.version.clone(),
    });
    out.push(Dataset {
        id: "areas".into(),
        title_zh: "嘉兴市行政区划代码".into(),
        title_en: "Jiaxing administrative division codes".into(),
        description_zh: "数据集所用的市、县（市、区）、镇（街道）、村（社区）区划代码与名称。"
            .into(),
        description_en:
            "The city, county, town and village division codes and names the datasets use.".into(),
        fields: AREA_FIELDS,
        release: None,
        modified: None,
        version: "2020".into(),
    });
    let modified = crate::key_projects::last_change(conn)?;
    out.push(Dataset {
        id: "key-projects".into(),
        title_zh: "嘉兴市“一老一小”重点项目进度".into(),
        title_en: "Jiaxing elderly-care and childcare key projects: progress".into(),
        description_zh: "《嘉兴市“一老一小”整体解决方案》附件1所列72个重点项目：建设内容、规划床位（托位）、计划总投资，以及最近一次填报的已完成投资、完成进度、进度状态和竣工交付情况。".into(),
        description_en: "The plan's 72 key projects (annex 1): what is built, beds or slots planned, planned investment, and from the latest progress report the investment spent, percent complete, schedule status and what was delivered at completion.".into(),
        fields: KEY_PROJECT_FIELDS,
        release: None,
        version: modified.clone().unwrap_or_else(|| "plan".into()),
        modified,
    });
    Ok(out)
}

/// One dataset by id, or `None`.
pub fn dataset(conn: &mut Conn, id: &str) -> Result<Option<Dataset>> {
    if id.len() > 64 {
        return Ok(None);
    }
    Ok(catalogue(conn)?.into_iter().find(|d| d.id == id))
}

/// `2022` → `2022年`, `2022-06` → `2022年6月`.
pub fn period_zh(p: &str) -> String {
    match Period::parse(p) {
        Ok(Period {
            year,
            month: Some(m),
        }) => format!("{year}年{m}月"),
        Ok(Period { year, month: None }) => format!("{year}年"),
        Err(_) => p.to_string(),
    }
}

/// A published value as it may be shown to anyone.
#[derive(Debug, Clone, Serialize)]
pub struct OpenValue {
    pub period: String,
    pub indicator: u32,
    pub indicator_name: String,
    pub unit: Option<String>,
    pub area_code: String,
    pub area_name: String,
    pub level: &'static str,
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub target: Option<String>,
    pub target_year: Option<i32>,
    pub status: String,
    /// Why withheld (`small_numerator` …), `None` when published.
    pub withheld: Option<&'static str>,
    pub publication: i64,
    pub published_at: String,
    pub definitions_version: String,
}

fn open_value(
    v: &IndicatorValue,
    def: Option<&Definition>,
    p: &Publication,
    min_count: i64,
) -> OpenValue {
    let withheld = def.and_then(|d| suppression(d, v.numerator, v.denominator, min_count));
    let status = serde_json::to_value(v.status.status)
        .ok()
        .and_then(|j| j.as_str().map(str::to_string))
        .unwrap_or_default();
    OpenValue {
        period: v.period.clone(),
        indicator: v.indicator,
        indicator_name: def.map(|d| d.name_zh.clone()).unwrap_or_default(),
        unit: def.and_then(|d| d.unit.clone()),
        area_code: v.area_code.clone(),
        area_name: v.area_name.clone(),
        level: v.level.code(),
        // A withheld value loses its counts too: any one of them, with the
        // others, gives it back.
        value: if withheld.is_some() { None } else { v.value },
        numerator: if withheld.is_some() {
            None
        } else {
            v.numerator
        },
        denominator: if withheld.is_some() {
            None
        } else {
            v.denominator
        },
        target: v.status.target.clone(),
        target_year: v.status.target_year,
        // A status says how the value compares with its target: withheld with it.
        status: if withheld.is_some() {
            "withheld".into()
        } else {
            status
        },
        withheld: withheld.map(|s| s.code()),
        publication: p.id,
        published_at: p.published_at.clone(),
        definitions_version: p.definitions_version.clone(),
    }
}

/// The published values of `period` (its latest publication), for every area
/// or for `area` alone; `None` when the period was never published.
pub fn values(
    conn: &mut Conn,
    reference: &Reference,
    period: Period,
    area: Option<&str>,
    today: NaiveDate,
) -> Result<Option<(Publication, Vec<OpenValue>)>> {
    let Some(p) = indicators::publication(conn, period)? else {
        return Ok(None);
    };
    let min_count = terms(today)?.min_count;
    let ds = defs()?;
    let table = indicators::table(conn, reference, period, today, false)?;
    let out = table
        .values
        .iter()
        .filter(|v| area.is_none_or(|a| v.area_code == a))
        .map(|v| {
            let def = ds.all.iter().find(|d| d.number == v.indicator);
            open_value(v, def, &p, min_count)
        })
        .collect();
    Ok(Some((p, out)))
}

fn num(v: Option<f64>) -> String {
    v.map(|x| {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    })
    .unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn value_rows(values: &[OpenValue]) -> Vec<Vec<String>> {
    values
        .iter()
        .map(|v| {
            vec![
                v.period.clone(),
                v.indicator.to_string(),
                v.indicator_name.clone(),
                v.unit.clone().unwrap_or_default(),
                v.area_code.clone(),
                v.area_name.clone(),
                v.level.to_string(),
                num(v.value),
                opt(v.numerator),
                opt(v.denominator),
                v.target.clone().unwrap_or_default(),
                opt(v.target_year),
                v.status.clone(),
                v.withheld.unwrap_or_default().to_string(),
                v.publication.to_string(),
                v.published_at.clone(),
                v.definitions_version.clone(),
            ]
        })
        .collect()
}

fn definition_rows() -> Result<Vec<Vec<String>>> {
    let ds = defs()?;
    Ok(ds
        .all
        .iter()
        .map(|d| {
            let code = |v: Json| v.as_str().map(str::to_string).unwrap_or_default();
            vec![
                d.number.to_string(),
                code(serde_json::to_value(d.group).unwrap_or_default()),
                d.name_zh.clone(),
                d.name_en.clone(),
                d.unit.clone().unwrap_or_default(),
                d.responsible_unit.clone(),
                code(serde_json::to_value(d.direction).unwrap_or_default()),
                d.baseline_2020.raw.clone(),
                d.target_2022.raw.clone(),
                d.target_2025.raw.clone(),
                code(serde_json::to_value(d.method).unwrap_or_default()),
                d.clause.clone(),
                d.levels
                    .iter()
                    .map(|l| l.code())
                    .collect::<Vec<_>>()
                    .join(" "),
            ]
        })
        .collect())
}

fn area_rows(reference: &Reference) -> Vec<Vec<String>> {
    reference
        .areas
        .all()
        .iter()
        .map(|a| {
            vec![
                a.code.clone(),
                a.name.clone(),
                a.level.code().to_string(),
                a.parent_code.clone().unwrap_or_default(),
            ]
        })
        .collect()
}

/// A number of 10k yuan as pages and files show it: at most two decimals,
/// no trailing zeros.
pub fn amount(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The key projects' public rows, as the portal page shows them.
pub fn key_project_rows(
    conn: &mut Conn,
    reference: &Reference,
    today: NaiveDate,
) -> Result<Vec<Vec<String>>> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    Ok(crate::key_projects::public(conn, reference, today)?
        .into_iter()
        .map(|p| {
            vec![
                p.number.to_string(),
                p.name,
                p.project_type,
                p.county_code,
                p.county_name,
                opt(p.town),
                p.description,
                opt(p.capacity_kind),
                opt(p.capacity.map(|n| n.to_string())),
                opt(p.delivered_capacity.map(|n| n.to_string())),
                amount(p.investment_planned_10k_yuan),
                amount(p.investment_spent_10k_yuan),
                p.status.code().to_string(),
                p.percent_complete.to_string(),
                opt(p.last_report_date.map(|d| d.to_string())),
                opt(p.completed_on.map(|d| d.to_string())),
            ]
        })
        .collect())
}

/// A dataset's file; `None` when there is no such dataset.
pub fn file(
    conn: &mut Conn,
    reference: &Reference,
    id: &str,
    format: OpenFormat,
    today: NaiveDate,
) -> Result<Option<Vec<u8>>> {
    let Some(d) = dataset(conn, id)? else {
        return Ok(None);
    };
    let rows = match &d.release {
        Some(p) => {
            let period =
                Period::parse(&p.period).map_err(|e| StoreError::Database(e.to_string()))?;
            match values(conn, reference, period, None, today)? {
                Some((_, v)) => value_rows(&v),
                None => return Ok(None),
            }
        }
        None if d.id == "indicator-definitions" => definition_rows()?,
        None if d.id == "key-projects" => key_project_rows(conn, reference, today)?,
        None => area_rows(reference),
    };
    let terms = terms(today)?;
    let bytes = match format {
        OpenFormat::Json => {
            let records: Vec<Json> = rows
                .iter()
                .map(|r| {
                    let mut m = serde_json::Map::new();
                    for (f, c) in d.fields.iter().zip(r) {
                        m.insert(f.name.to_string(), typed(f.kind, c));
                    }
                    Json::Object(m)
                })
                .collect();
            let doc = json!({
                "dataset": d.id,
                "title": {"zh": d.title_zh, "en": d.title_en},
                "version": d.version,
                "publication": d.release,
                "licence": terms.licence,
                "min_count": terms.min_count,
                "fields": d.fields,
                "records": records,
            });
            serde_json::to_vec(&doc).map_err(|e| StoreError::File(e.to_string()))?
        }
        OpenFormat::Csv | OpenFormat::Xlsx => {
            let headers: Vec<&str> = d.fields.iter().map(|f| f.name).collect();
            let fmt = if format == OpenFormat::Csv {
                ExportFormat::Csv
            } else {
                ExportFormat::Xlsx
            };
            let sheet: String = d.id.chars().take(31).collect();
            excel::write(&headers, &rows, fmt, &sheet)?
        }
    };
    Ok(Some(bytes))
}

/// A cell as the JSON type its field declares (empty: null).
fn typed(kind: &str, cell: &str) -> Json {
    if cell.is_empty() {
        return Json::Null;
    }
    match kind {
        "integer" => cell
            .parse::<i64>()
            .map(Json::from)
            .unwrap_or_else(|_| Json::from(cell)),
        "number" => cell
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .unwrap_or_else(|| Json::from(cell)),
        _ => Json::from(cell),
    }
}

/// The catalogue as DCAT (JSON-LD), with download addresses under `base`
/// (the portal's absolute address, e.g. `https://example.org/portal/data`).
pub fn dcat(conn: &mut Conn, base: &str, today: NaiveDate) -> Result<Json> {
    let terms = terms(today)?;
    let licence = format!("https://spdx.org/licenses/{}.html", terms.licence);
    let datasets: Vec<Json> = catalogue(conn)?
        .into_iter()
        .map(|d| {
            let url = format!("{base}/{}", d.id);
            let distributions: Vec<Json> = OpenFormat::ALL
                .iter()
                .map(|f| {
                    json!({
                        "@type": "dcat:Distribution",
                        "dct:title": format!("{} ({})", d.title_zh, f.label()),
                        "dct:format": f.label(),
                        "dcat:mediaType": f.media_type().split(';').next().unwrap_or_default(),
                        "dcat:downloadURL": format!("{url}/{}", f.file_name()),
                        "dct:license": licence,
                    })
                })
                .collect();
            let mut o = json!({
                "@id": url,
                "@type": "dcat:Dataset",
                "dct:identifier": d.id,
                "dct:title": [
                    {"@language": "zh", "@value": d.title_zh},
                    {"@language": "en", "@value": d.title_en},
                ],
                "dct:description": [
                    {"@language": "zh", "@value": d.description_zh},
                    {"@language": "en", "@value": d.description_en},
                ],
                "dct:spatial": "嘉兴市 330400",
                "dcat:keyword": ["一老一小", "养老", "托育", "嘉兴"],
                "dct:license": licence,
                "owl:versionInfo": d.version,
                "dcat:landingPage": url,
                "dcat:distribution": distributions,
            });
            if let Some(p) = &d.release {
                o["dct:issued"] = json!(p.published_at);
                o["dct:modified"] = json!(p.published_at);
                o["dct:temporal"] = json!(p.period);
            }
            o
        })
        .collect();
    Ok(json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "owl": "http://www.w3.org/2002/07/owl#",
        },
        "@type": "dcat:Catalog",
        "dct:title": [
            {"@language": "zh", "@value": "嘉兴市“一老一小”开放数据"},
            {"@language": "en", "@value": "Jiaxing elderly-care and childcare open data"},
        ],
        "dct:license": licence,
        "dcat:dataset": datasets,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip() {
        for f in OpenFormat::ALL {
            assert_eq!(OpenFormat::from_file_name(f.file_name()), Some(f));
        }
        assert_eq!(OpenFormat::from_file_name("data.exe"), None);
        assert_eq!(OpenFormat::from_file_name("../data.csv"), None);
    }

    #[test]
    fn every_dataset_row_fills_its_dictionary() {
        let rows = definition_rows().expect("rows");
        assert_eq!(rows.len(), defs().expect("defs").all.len());
        assert!(rows.iter().all(|r| r.len() == DEFINITION_FIELDS.len()));
        assert!(
            rows.iter()
                .all(|r| !r[2].is_empty() && !r[4].contains('\n')),
            "every indicator has a Chinese name"
        );
    }

    #[test]
    fn cells_take_their_declared_types() {
        assert_eq!(typed("integer", "12"), json!(12));
        assert_eq!(typed("number", "12.5"), json!(12.5));
        assert_eq!(typed("number", ""), Json::Null);
        assert_eq!(typed("string", "0330"), json!("0330"));
    }

    #[test]
    fn periods_read_in_chinese() {
        assert_eq!(period_zh("2022"), "2022年");
        assert_eq!(period_zh("2023-06"), "2023年6月");
    }

    #[test]
    fn terms_come_from_the_policy_file() {
        let t = terms(NaiveDate::from_ymd_opt(2026, 1, 1).expect("day")).expect("terms");
        assert!(t.min_count >= 2, "a threshold that withholds something");
        assert!(!t.licence.is_empty());
    }
}
