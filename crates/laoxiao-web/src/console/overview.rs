//! The overview (概览): the area's headline figures, a map of its children shaded by
//! a chosen figure with the facilities as points, and the same figures as a table.
//!
//! Aggregates are plain SQL over the registers' `area_path` (a subtree is
//! `area_path >= $1 AND area_path < $2`), grouped by the child area's code, which is
//! the fixed-width segment of the path right after the area's own path. The SQL runs
//! unchanged on SQLite and PostgreSQL. People are counted through the tally
//! (`laoxiao_store::tally`), facilities (a few thousand rows) directly.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use laoxiao_model::person::PersonStatus;
use laoxiao_model::{AreaLevel, FacilityKind, PersonRole};
use laoxiao_store::Scope;
use laoxiao_store::tally::{self, Band};
use laoxiao_store::{Conn, Value, path_upper};
use serde::Serialize;
use serde_json::json;

use super::{ConsoleState, Ctx, ctx_or_error};

/// Figures of one area (or one child of it).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    pub elderly_60: i64,
    pub elderly_80: i64,
    pub infants: i64,
    pub care_homes: i64,
    pub beds: i64,
    pub nursing_beds: i64,
    pub dementia_beds: i64,
    pub stations: i64,
    pub stations_3a: i64,
    pub childcare: i64,
    pub childcare_filed: i64,
    pub slots: i64,
    pub inclusive_slots: i64,
}

impl Figures {
    // Saturating: totals of bounded values cannot overflow, but a figure is
    // better capped than a page lost should a bound ever be raised too far.
    fn add(&mut self, o: &Figures) {
        for (a, b) in [
            (&mut self.elderly_60, o.elderly_60),
            (&mut self.elderly_80, o.elderly_80),
            (&mut self.infants, o.infants),
            (&mut self.care_homes, o.care_homes),
            (&mut self.beds, o.beds),
            (&mut self.nursing_beds, o.nursing_beds),
            (&mut self.dementia_beds, o.dementia_beds),
            (&mut self.stations, o.stations),
            (&mut self.stations_3a, o.stations_3a),
            (&mut self.childcare, o.childcare),
            (&mut self.childcare_filed, o.childcare_filed),
            (&mut self.slots, o.slots),
            (&mut self.inclusive_slots, o.inclusive_slots),
        ] {
            *a = a.saturating_add(b);
        }
    }

    /// Share of nursing beds among beds, percent.
    pub fn nursing_share(&self) -> Option<f64> {
        ratio(self.nursing_beds, self.beds, 100.0)
    }

    /// Dementia beds per 10,000 elderly people (60+).
    pub fn dementia_per_10k(&self) -> Option<f64> {
        ratio(self.dementia_beds, self.elderly_60, 10_000.0)
    }

    /// Share of inclusive slots, percent.
    pub fn inclusive_share(&self) -> Option<f64> {
        ratio(self.inclusive_slots, self.slots, 100.0)
    }

    /// Slots per 1,000 residents.
    pub fn slots_per_1000(&self, residents: Option<i64>) -> Option<f64> {
        residents.and_then(|r| ratio(self.slots, r, 1000.0))
    }
}

fn ratio(a: i64, b: i64, scale: f64) -> Option<f64> {
    (b > 0).then(|| a as f64 * scale / b as f64)
}

fn years_before(d: NaiveDate, years: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year() - years, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(d.year() - years, d.month(), 28))
        .unwrap_or(d)
}

/// Width of the code of the level below `level` (6 county, 9 town, 12 village).
fn child_code_len(level: AreaLevel) -> usize {
    match level {
        AreaLevel::City => 6,
        AreaLevel::County => 9,
        AreaLevel::Town | AreaLevel::Village => 12,
    }
}

/// Figures of an area's subtree grouped by child code (`""` for records placed on
/// the area itself), as of `today`.
pub fn figures_by_child(
    conn: &mut Conn,
    path: &str,
    level: AreaLevel,
    today: NaiveDate,
) -> laoxiao_store::Result<BTreeMap<String, Figures>> {
    let start = path.len() + 1;
    let len = child_code_len(level);
    // Integer literals, not parameters: they are computed here, and PostgreSQL wants
    // to know substr's argument types.
    let child = format!("substr(area_path, {start}, {len})");
    let range: Vec<Value> = vec![path.into(), path_upper(path).into()];
    let mut out: BTreeMap<String, Figures> = BTreeMap::new();

    // People from the tally (see `laoxiao_store::tally`): a city's figures
    // without a scan of its million people.
    let bands = [
        Band {
            role: PersonRole::Elderly,
            after: None,
            until: Some(years_before(today, 60)),
        },
        Band {
            role: PersonRole::Elderly,
            after: None,
            until: Some(years_before(today, 80)),
        },
        Band {
            role: PersonRole::Infant,
            after: Some(years_before(today, 3)),
            until: None,
        },
    ];
    let at = tally::Where {
        path,
        child: Some((start, len)),
        status: Some(PersonStatus::Active),
    };
    let counts = tally::count(conn, &Scope::system("overview"), &at, &bands)?;
    for (i, by_child) in counts.into_iter().enumerate() {
        for (child, n) in by_child {
            let f = out.entry(child).or_default();
            let slot = match i {
                0 => &mut f.elderly_60,
                1 => &mut f.elderly_80,
                _ => &mut f.infants,
            };
            *slot = slot.saturating_add(n);
        }
    }

    let inst = FacilityKind::ElderlyInstitution.code();
    let town = FacilityKind::TownHomeCareCenter.code();
    let station = FacilityKind::VillageCareStation.code();
    let childcare = FacilityKind::ChildcareInstitution.code();
    let nursery = FacilityKind::KindergartenNurseryClass.code();
    let beds_kinds = format!("kind IN ('{inst}', '{town}')");
    let slot_kinds = format!("kind IN ('{childcare}', '{nursery}')");
    let sum = |cond: &str, expr: &str| {
        format!("CAST(SUM(CASE WHEN {cond} THEN {expr} ELSE 0 END) AS BIGINT)")
    };
    // Each value is clamped into its plausible range before it is summed: a
    // row stored before the ranges were enforced (beds = i64::MAX) would
    // otherwise overflow SQLite's SUM and PostgreSQL's cast back to BIGINT.
    // Bounded values summed over any number of facilities stay far below
    // i64::MAX.
    let clamped = |col: &str, b: laoxiao_model::bounds::Bound| {
        format!(
            "CASE WHEN {col} IS NULL OR {col} < {min} THEN {min} WHEN {col} > {max} THEN {max} \
             ELSE {col} END",
            min = b.min,
            max = b.max
        )
    };
    use laoxiao_model::bounds::{APPROVED_SLOTS, BEDS, DEMENTIA_BEDS, NURSING_BEDS};
    let beds = clamped("beds", BEDS);
    let nursing = clamped("nursing_beds", NURSING_BEDS);
    let dementia = clamped("dementia_beds", DEMENTIA_BEDS);
    let slots = clamped("approved_slots", APPROVED_SLOTS);
    let sql = format!(
        "SELECT {child} AS c, {}, {}, {}, {}, {}, {}, {}, {}, {}, {} \
         FROM facility WHERE deleted_at IS NULL AND status = 'operating' \
         AND area_path >= $1 AND area_path < $2 GROUP BY {child}",
        sum(&format!("kind = '{inst}'"), "1"),
        sum(&beds_kinds, &beds),
        sum(&beds_kinds, &nursing),
        sum(&beds_kinds, &dementia),
        sum(&format!("kind = '{station}'"), "1"),
        sum(
            &format!("kind = '{station}' AND rating IN ('3a', '4a', '5a')"),
            "1"
        ),
        sum(&format!("kind = '{childcare}'"), "1"),
        sum(
            &format!("kind = '{childcare}' AND filing_status = 'filed'"),
            "1"
        ),
        sum(&slot_kinds, &slots),
        sum(&format!("{slot_kinds} AND inclusive"), &slots),
    );
    for r in conn.query(&sql, &range)? {
        let f = out.entry(r.text(0)).or_default();
        f.add(&Figures {
            care_homes: r.int(1),
            beds: r.int(2),
            nursing_beds: r.int(3),
            dementia_beds: r.int(4),
            stations: r.int(5),
            stations_3a: r.int(6),
            childcare: r.int(7),
            childcare_filed: r.int(8),
            slots: r.int(9),
            inclusive_slots: r.int(10),
            ..Figures::default()
        });
    }
    Ok(out)
}

/// A facility as a map point: public fields only (`laoxiao_store::facilities::map_points`).
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    #[serde(flatten)]
    pub point: laoxiao_store::facilities::MapPoint,
    pub elderly: bool,
}

/// At most this many facility points go on a map.
pub const MAX_POINTS: usize = laoxiao_store::facilities::MAX_POINTS;

/// Facilities with coordinates in the subtree, as the scope may see them.
pub fn points(conn: &mut Conn, scope: &Scope, path: &str) -> laoxiao_store::Result<Vec<Point>> {
    Ok(laoxiao_store::facilities::map_points(conn, scope, path)?
        .into_iter()
        .map(|p| Point {
            elderly: p.kind.is_elderly(),
            point: p,
        })
        .collect())
}

/// The figures a map can be shaded by: (key, message key).
pub const MAP_FIGURES: &[(&str, &str)] = &[
    ("elderly_60", "fig.elderly_60"),
    ("elderly_80", "fig.elderly_80"),
    ("infants", "fig.infants"),
    ("care_homes", "fig.care_homes"),
    ("beds", "fig.beds"),
    ("nursing_share", "fig.nursing_share"),
    ("dementia_per_10k", "fig.dementia_per_10k"),
    ("stations_3a", "fig.stations_3a"),
    ("childcare_filed", "fig.childcare_filed"),
    ("slots", "fig.slots"),
    ("slots_per_1000", "fig.slots_per_1000"),
    ("inclusive_share", "fig.inclusive_share"),
];

fn round1(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 10.0).round() / 10.0)
}

/// A figure's value by key, for the map.
fn figure(f: &Figures, key: &str, residents: Option<i64>) -> Option<f64> {
    match key {
        "elderly_60" => Some(f.elderly_60 as f64),
        "elderly_80" => Some(f.elderly_80 as f64),
        "infants" => Some(f.infants as f64),
        "care_homes" => Some(f.care_homes as f64),
        "beds" => Some(f.beds as f64),
        "nursing_share" => round1(f.nursing_share()),
        "dementia_per_10k" => round1(f.dementia_per_10k()),
        "stations_3a" => Some(f.stations_3a as f64),
        "childcare_filed" => Some(f.childcare_filed as f64),
        "slots" => Some(f.slots as f64),
        "slots_per_1000" => round1(f.slots_per_1000(residents)),
        "inclusive_share" => round1(f.inclusive_share()),
        _ => None,
    }
}

/// `GET /` — the overview.
pub async fn page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/", headers, q);
    match build(&s, &ctx).await {
        Ok(page) => s.render(&ctx, "overview.html", "overview", page),
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn build(s: &ConsoleState, ctx: &Ctx) -> Result<serde_json::Value, super::PageError> {
    let area = ctx.area.clone();
    let today = chrono::Local::now().date_naive();
    let path = area.path.clone();
    let scope = ctx.scope();
    let (groups, pts) = s
        .db(move |c, _| {
            let g = figures_by_child(c, &path, area.level, today)?;
            let p = points(c, &scope, &path)?;
            Ok((g, p))
        })
        .await?;
    let mut total = Figures::default();
    for f in groups.values() {
        total.add(f);
    }
    let residents = s.census.get(&ctx.area.code).copied();
    let pct = |x: Option<f64>| round1(x);

    let areas = &s.store.reference.areas;
    let children: Vec<serde_json::Value> = areas
        .children(&ctx.area.code)
        .iter()
        .map(|a| {
            let f = groups.get(&a.code).cloned().unwrap_or_default();
            let res = s.census.get(&a.code).copied();
            let values: serde_json::Map<String, serde_json::Value> = MAP_FIGURES
                .iter()
                .map(|(k, _)| ((*k).to_string(), json!(figure(&f, k, res))))
                .collect();
            json!({
                "code": a.code,
                "name": a.name,
                "url": format!("/?area={}", a.code),
                "centre": a.centre.map(|c| [c.0, c.1]),
                "f": f,
                "nursing_share": pct(f.nursing_share()),
                "dementia_per_10k": pct(f.dementia_per_10k()),
                "inclusive_share": pct(f.inclusive_share()),
                "slots_per_1000": pct(f.slots_per_1000(res)),
                "values": values,
            })
        })
        .collect();
    // The county whose outline frames a map below the city.
    let county = areas
        .ancestor_at(&ctx.area.code, AreaLevel::County)
        .map(|a| a.code.clone());
    let figures: Vec<serde_json::Value> = MAP_FIGURES
        .iter()
        .map(|(k, label)| json!({"key": k, "label": s.t(ctx, label)}))
        .collect();
    let kinds: serde_json::Map<String, serde_json::Value> = FacilityKind::ALL
        .iter()
        .map(|k| {
            (
                k.code().to_string(),
                json!(s.label(ctx, "facility_kind", k.code())),
            )
        })
        .collect();
    let chosen = ctx
        .param("figure")
        .filter(|f| MAP_FIGURES.iter().any(|(k, _)| k == f))
        .unwrap_or("elderly_60")
        .to_string();
    let map = json!({
        "level": ctx.area.level.code(),
        "area": ctx.area.code,
        "county": county,
        "centre": ctx.area.centre.map(|c| [c.0, c.1]),
        "children": children,
        "points": pts,
        "kinds": kinds,
        "figure": chosen,
        "figures": figures,
        "geo_url": "/console/static/geo/jiaxing.json",
        "labels": {
            "elderly_points": s.t(ctx, "map.elderly_points"),
            "childcare_points": s.t(ctx, "map.childcare_points"),
            "no_data": s.t(ctx, "map.no_data"),
        },
    });
    Ok(json!({
        "total": total,
        "nursing_share": pct(total.nursing_share()),
        "dementia_per_10k": pct(total.dementia_per_10k()),
        "inclusive_share": pct(total.inclusive_share()),
        "slots_per_1000": total.slots_per_1000(residents).map(|v| (v * 100.0).round() / 100.0),
        "residents": residents,
        "children": children,
        "map": map,
        "figure": chosen,
        "figures": figures,
        "points_capped": pts_len_capped(&map),
    }))
}

fn pts_len_capped(map: &serde_json::Value) -> bool {
    map.get("points")
        .and_then(|p| p.as_array())
        .is_some_and(|a| a.len() >= MAX_POINTS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use laoxiao_model::Facility;
    use laoxiao_model::facility::{FilingStatus, Rating};

    fn facility(id: &str, kind: FacilityKind, area: &str) -> Facility {
        Facility::blank(id, format!("{id} name"), kind, area)
    }

    #[test]
    fn figures_group_by_child_area() {
        let store = laoxiao_store::Store::open_url(":memory:").expect("store");
        let mut c = store.conn().expect("conn");
        let r = &store.reference;
        let town = r
            .areas
            .children("330402")
            .first()
            .map(|a| a.code.clone())
            .expect("a town");
        let village = r
            .areas
            .children(&town)
            .first()
            .map(|a| a.code.clone())
            .expect("a village");
        let mut home = facility("F1", FacilityKind::ElderlyInstitution, &town);
        home.beds = Some(100);
        home.nursing_beds = Some(60);
        home.dementia_beds = Some(10);
        let mut st = facility("F2", FacilityKind::VillageCareStation, &village);
        st.rating = Some(Rating::A4);
        let mut cc = facility("F3", FacilityKind::ChildcareInstitution, &town);
        cc.approved_slots = Some(80);
        cc.inclusive = true;
        cc.filing_status = FilingStatus::Filed;
        cc.filing_date = NaiveDate::from_ymd_opt(2023, 1, 1);
        let other = facility("F4", FacilityKind::ElderlyInstitution, "330481001");
        for f in [&home, &st, &cc] {
            laoxiao_store::facilities::create(&mut c, r, &laoxiao_store::Scope::system("test"), f)
                .expect("create");
        }
        let _ = laoxiao_store::facilities::create(
            &mut c,
            r,
            &laoxiao_store::Scope::system("test"),
            &other,
        );
        let today = NaiveDate::from_ymd_opt(2024, 6, 1).expect("date");
        let city = figures_by_child(&mut c, "/330400/", AreaLevel::City, today).expect("city");
        let nanhu = city.get("330402").expect("330402 group");
        assert_eq!(nanhu.care_homes, 1);
        assert_eq!(nanhu.beds, 100);
        assert_eq!(nanhu.nursing_share(), Some(60.0));
        assert_eq!(nanhu.stations_3a, 1);
        assert_eq!(nanhu.childcare_filed, 1);
        assert_eq!(nanhu.inclusive_share(), Some(100.0));
        let path = r.areas.get("330402").map(|a| a.path.clone()).expect("path");
        let county = figures_by_child(&mut c, &path, AreaLevel::County, today).expect("county");
        assert_eq!(county.get(&town).map(|f| f.care_homes), Some(1));
        assert_eq!(county.len(), 1);
        assert_eq!(nanhu.slots_per_1000(Some(8000)), Some(10.0));
        assert_eq!(nanhu.slots_per_1000(None), None);
    }
    #[test]
    fn people_figures_count_exact_ages_on_the_day() {
        let db = laoxiao_store::testdb::TestDb::sqlite().expect("db");
        let store = &db.store;
        let mut c = store.conn().expect("conn");
        let r = &store.reference;
        let sys = laoxiao_store::Scope::system("test");
        let today = chrono::Local::now().date_naive();
        let back = |years: i32, days: u64| {
            let d = years_before(today, years);
            d + chrono::Days::new(days)
        };
        let person = |id: &str, area: &str, role: PersonRole, born: NaiveDate, seq: u16| {
            use laoxiao_model::person::Sex;
            let sex = if seq % 2 == 1 { Sex::Male } else { Sex::Female };
            let mut p = laoxiao_model::Person::blank(id, role, area, born, sex);
            p.id_number = laoxiao_model::idcard::make(&area[..6], born, seq);
            p.name = "王某".into();
            p
        };
        let village = "330402007024";
        let mut dead = person("E4", village, PersonRole::Elderly, back(70, 0), 14);
        dead.status = PersonStatus::Deceased;
        dead.death_date = Some(today);
        for p in [
            // Eighty today, one day short of eighty, sixty today.
            person("E1", village, PersonRole::Elderly, back(80, 0), 11),
            person("E2", village, PersonRole::Elderly, back(80, 1), 12),
            person("E3", village, PersonRole::Elderly, back(60, 0), 13),
            dead,
            person("E5", "330481001003", PersonRole::Elderly, back(90, 0), 15),
            // Three tomorrow (still under three), and one year old.
            person("I1", village, PersonRole::Infant, back(3, 1), 21),
            person("I2", village, PersonRole::Infant, back(1, 0), 22),
        ] {
            laoxiao_store::people::create(&mut c, r, &sys, &p).expect("create");
        }
        let city = figures_by_child(&mut c, "/330400/", AreaLevel::City, today).expect("city");
        let nanhu = city.get("330402").expect("330402 group");
        assert_eq!(
            (nanhu.elderly_60, nanhu.elderly_80, nanhu.infants),
            (3, 1, 2)
        );
        let haining = city.get("330481").expect("330481 group");
        assert_eq!((haining.elderly_60, haining.elderly_80), (1, 1));
        // A day later the one-day-short person is eighty as well.
        let tomorrow = today + chrono::Days::new(1);
        let city = figures_by_child(&mut c, "/330400/", AreaLevel::City, tomorrow).expect("city");
        let nanhu = city.get("330402").expect("330402 group");
        assert_eq!((nanhu.elderly_80, nanhu.infants), (2, 1));
    }
}
