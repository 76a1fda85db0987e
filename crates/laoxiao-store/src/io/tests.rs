//! Import/export tests, on SQLite and, when `TEST_DATABASE_URL` is set, on
//! PostgreSQL (each database a fresh schema).

use chrono::NaiveDate;
use laoxiao_model::columns::{self, HeaderLang, RecordKind};
use laoxiao_model::{ChildcareClass, Facility, Person, PersonRole, credit_code, idcard};
use laoxiao_spatial::{CoordSystem, wgs84_to_gcj02};

use super::template::template_with_rows;
use super::{
    ExportFormat, ImportOptions, ImportReport, MASKED_ID_HEADER_ZH, export, load_records, read,
    write_template,
};
use crate::error::{RowError, StoreError};
use crate::testdb::TestDb;
use crate::{Store, people};

const TOWN: &str = "330402007";
const VILLAGE: &str = "330402007024";
const LNG: &str = "120.755";
const LAT: &str = "30.755";

type Cells = Vec<(&'static str, String)>;

#[track_caller]
fn dbs() -> Vec<TestDb> {
    TestDb::all().expect("test databases")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")
}

fn opts() -> ImportOptions<'static> {
    ImportOptions::default()
}

/// Imports with ages checked on [`today`], so the tests do not age.
fn import_bytes(
    store: &Store,
    kind: RecordKind,
    name: &str,
    bytes: &[u8],
    opts: &ImportOptions<'_>,
) -> crate::Result<ImportReport> {
    super::import::import_bytes_on(store, kind, name, bytes, opts, today())
}

fn import_file(
    store: &Store,
    kind: RecordKind,
    path: &std::path::Path,
    opts: &ImportOptions<'_>,
) -> crate::Result<ImportReport> {
    super::import::import_file_on(store, kind, path, opts, today())
}

fn set(row: &mut Cells, key: &'static str, value: &str) {
    match row.iter_mut().find(|(k, _)| *k == key) {
        Some(c) => c.1 = value.to_string(),
        None => row.push((key, value.to_string())),
    }
}

fn credit() -> String {
    credit_code::make("91330402MA2B3C4D5").expect("credit code")
}

fn facility(id: &str) -> Cells {
    vec![
        ("id", id.to_string()),
        ("name", format!("测试养老院{id}")),
        ("kind", "elderly_institution".into()),
        ("ownership", "public".into()),
        ("operator_credit_code", credit()),
        ("area_code", TOWN.into()),
        ("lng", LNG.into()),
        ("lat", LAT.into()),
        ("beds", "100".into()),
        ("nursing_beds", "60".into()),
        ("dementia_beds", "10".into()),
        ("rating", "star3".into()),
        ("smart", "true".into()),
        ("opening_date", "2019-05-01".into()),
    ]
}

fn nursery(id: &str) -> Cells {
    vec![
        ("id", id.to_string()),
        ("name", format!("测试托育园{id}")),
        ("kind", "childcare_institution".into()),
        ("area_code", VILLAGE.into()),
        ("approved_slots", "80".into()),
        ("inclusive", "是".into()),
        ("filing_status", "filed".into()),
        ("filing_date", "2023-03-01".into()),
    ]
}

fn class(id: &str, facility: &str, ty: &str, capacity: i64) -> Cells {
    vec![
        ("id", id.to_string()),
        ("facility_id", facility.to_string()),
        ("class_type", ty.to_string()),
        ("capacity", capacity.to_string()),
        ("enrolled", "5".into()),
        ("caregivers", "2".into()),
        ("monthly_fee_yuan", "2800.50".into()),
    ]
}

fn elderly(i: u32) -> Cells {
    let birth = NaiveDate::from_ymd_opt(1940 + (i % 20) as i32, 1 + i % 12, 1 + i % 28)
        .expect("birth date");
    let seq = (i % 1000) as u16;
    vec![
        ("id", format!("E{i:05}")),
        ("id_number", idcard::make("330402", birth, seq)),
        ("name", "王大伯".into()),
        ("sex", if seq % 2 == 1 { "male" } else { "female" }.into()),
        ("birth_date", birth.to_string()),
        ("hukou_area_code", "330402".into()),
        ("residence_area_code", VILLAGE.into()),
        ("address", "建设街道某弄1号".into()),
        ("lng", format!("{}", 120.75 + f64::from(i % 10) * 0.001)),
        ("lat", LAT.into()),
        ("living_arrangement", "living_alone".into()),
        (
            "special_difficulty",
            "extreme_poverty;severe_disability".into(),
        ),
        ("ability_level", "2".into()),
        ("dementia", "false".into()),
    ]
}

fn infant(i: u32) -> Cells {
    let birth =
        NaiveDate::from_ymd_opt(2025, 1, 1).expect("date") + chrono::Days::new(u64::from(i % 500));
    let seq = (i % 1000) as u16;
    vec![
        ("id", format!("I{i:05}")),
        ("id_number", idcard::make("330402", birth, seq)),
        ("name", "小明".into()),
        ("sex", if seq % 2 == 1 { "男" } else { "女" }.into()),
        ("birth_date", birth.to_string()),
        ("residence_area_code", TOWN.into()),
        ("birth_order", "1".into()),
        ("guardian_name", "王女士".into()),
        ("guardian_phone", "13800000000".into()),
    ]
}

fn csv_text(kind: RecordKind, lang: HeaderLang, rows: &[Cells]) -> String {
    let cols = columns::columns(kind);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns::headers(kind, lang))
        .expect("header");
    for r in rows {
        w.write_record(cols.iter().map(|c| {
            r.iter()
                .find(|(k, _)| *k == c.file_key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        }))
        .expect("row");
    }
    String::from_utf8(w.into_inner().expect("csv")).expect("utf8")
}

fn import(store: &Store, kind: RecordKind, text: &str) -> crate::Result<ImportReport> {
    import_bytes(store, kind, "upload.csv", text.as_bytes(), &opts())
}

fn import_rows(store: &Store, kind: RecordKind, rows: &[Cells]) -> crate::Result<ImportReport> {
    import(store, kind, &csv_text(kind, HeaderLang::English, rows))
}

fn rejected(r: crate::Result<ImportReport>) -> Vec<RowError> {
    match r {
        Err(StoreError::ImportRejected(v)) => v,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[track_caller]
fn assert_error(errs: &[RowError], row: usize, column: &str, needle: &str) {
    assert!(
        errs.iter()
            .any(|e| e.row == row && e.column == column && e.reason.contains(needle)),
        "no error at row {row}, column {column} containing {needle:?} in:\n{}",
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn count(store: &Store, table: &str) -> i64 {
    store
        .conn()
        .expect("conn")
        .query_i64(&format!("SELECT COUNT(*) FROM {table}"), &[])
        .expect("count")
}

fn report(
    kind: RecordKind,
    rows: u64,
    inserted: u64,
    updated: u64,
    unchanged: u64,
) -> ImportReport {
    ImportReport {
        kind,
        rows,
        inserted,
        updated,
        unchanged,
        dry_run: false,
    }
}

#[test]
fn facility_rules_reject_rows_with_row_and_column() {
    for db in dbs() {
        let s = &db.store;
        let mut rows = vec![facility("F1")];
        let mut r = facility("F2");
        // Change the check character only.
        let mut code = credit();
        let last = code.pop().expect("char");
        code.push(if last == '0' { '1' } else { '0' });
        set(&mut r, "operator_credit_code", &code);
        rows.push(r);
        let mut r = facility("F3");
        set(&mut r, "area_code", "330402999");
        rows.push(r);
        let mut r = facility("F4");
        set(&mut r, "area_code", "330402");
        rows.push(r);
        let mut r = facility("F5");
        set(&mut r, "lng", "121.47");
        set(&mut r, "lat", "31.23");
        rows.push(r);
        let mut r = facility("F6");
        set(&mut r, "nursing_beds", "101");
        set(&mut r, "dementia_beds", "150");
        rows.push(r);
        rows.push(facility("F1"));
        let errs = rejected(import_rows(s, RecordKind::Facilities, &rows));
        assert_error(&errs, 3, "operator_credit_code", "check character");
        assert_error(&errs, 4, "area_code", "unknown area code");
        assert_error(&errs, 5, "area_code", "county level");
        assert_error(&errs, 6, "lng", "outside Jiaxing");
        assert_error(&errs, 7, "nursing_beds", "exceed the 100 beds");
        assert_error(&errs, 7, "dementia_beds", "exceed the 100 beds");
        assert_error(&errs, 8, "id", "also on row 2");
        assert_eq!(errs.len(), 7, "{errs:?}");
        assert!(errs.windows(2).all(|w| w[0].row <= w[1].row));
        assert_eq!(count(s, "facility"), 0, "nothing written");
        assert_eq!(
            errs[0].to_string(),
            format!("row 3, column operator_credit_code: {}", errs[0].reason)
        );
    }
}

#[test]
fn class_sizes_are_capped_by_the_national_table() {
    for db in dbs() {
        let s = &db.store;
        let r = import_rows(s, RecordKind::Facilities, &[nursery("N1")]).expect("nursery");
        assert_eq!(r, report(RecordKind::Facilities, 1, 1, 0, 0));
        let ok = [
            class("C1", "N1", "infant_class", 10),
            class("C2", "N1", "young_toddler_class", 15),
            class("C3", "N1", "托大班", 20),
            class("C4", "N1", "mixed_age_class", 18),
        ];
        let bad = [
            class("C1", "N1", "infant_class", 11),
            class("C2", "N1", "young_toddler_class", 16),
            class("C3", "N1", "托大班", 21),
            class("C4", "N1", "mixed_age_class", 19),
            class("C5", "N9", "mixed_age_class", 10),
        ];
        let errs = rejected(import_rows(s, RecordKind::Classes, &bad));
        assert_error(&errs, 2, "capacity", "national maximum of 10");
        assert_error(&errs, 3, "capacity", "national maximum of 15");
        assert_error(&errs, 4, "capacity", "national maximum of 20");
        assert_error(&errs, 5, "capacity", "national maximum of 18");
        assert_error(
            &errs,
            6,
            "facility_id",
            "neither on the register nor in this import",
        );
        assert_eq!(errs.len(), 5, "{errs:?}");
        assert_eq!(count(s, "childcare_class"), 0);
        let r = import_rows(s, RecordKind::Classes, &ok).expect("classes at the maximum");
        assert_eq!(r, report(RecordKind::Classes, 4, 4, 0, 0));
        let c = crate::facilities::classes_of(
            &mut s.conn().expect("conn"),
            &crate::Scope::system("test"),
            "N1",
        )
        .expect("classes");
        assert_eq!(c[0].monthly_fee_fen, Some(280_050));
    }
}

#[test]
fn person_rules_reject_rows_with_row_and_column() {
    for db in dbs() {
        let s = &db.store;
        let mut rows: Vec<Cells> = (0..3).map(elderly).collect();
        // Row 5: wrong check digit.
        let mut r = elderly(3);
        let mut id = r[1].1.clone();
        let last = id.pop().expect("char");
        id.push(if last == '0' { '1' } else { '0' });
        set(&mut r, "id_number", &id);
        rows.push(r);
        // Row 6: birth date and sex disagree with the ID number.
        let mut r = elderly(5);
        set(&mut r, "birth_date", "1950-01-02");
        set(&mut r, "sex", "female");
        rows.push(r);
        // Row 7: same ID number as row 2; row 8: same id as row 3.
        let mut r = elderly(7);
        set(&mut r, "id_number", &elderly(0)[1].1);
        rows.push(r);
        let mut r = elderly(8);
        set(&mut r, "id", "E00001");
        rows.push(r);
        // Row 9: too young for the elderly register.
        let mut r = elderly(9);
        let b = NaiveDate::from_ymd_opt(1990, 5, 5).expect("date");
        set(&mut r, "id_number", &idcard::make("330402", b, 9));
        set(&mut r, "birth_date", "1990-05-05");
        rows.push(r);
        // Row 10: unparsable values.
        let mut r = elderly(10);
        set(&mut r, "birth_date", "1950-02-30");
        set(&mut r, "ability_level", "9");
        rows.push(r);
        let errs = rejected(import_rows(s, RecordKind::Elderly, &rows));
        assert_error(&errs, 5, "id_number", "check character");
        assert_error(&errs, 6, "birth_date", "disagrees with the ID number");
        assert_error(&errs, 6, "sex", "disagrees with the ID number");
        assert_error(&errs, 7, "id_number", "also on row 2");
        assert_error(&errs, 8, "id", "also on row 3");
        assert_error(&errs, 9, "birth_date", "starts at 60");
        assert_error(&errs, 10, "birth_date", "not a date");
        assert_error(&errs, 10, "ability_level", "unknown value");
        assert_eq!(count(s, "person"), 0, "nothing written");
        // No error echoes an ID number.
        for e in &errs {
            assert!(!e.reason.contains(&elderly(0)[1].1), "{e}");
        }

        // ID numbers already held by another person, and ids of the other register.
        let r = import_rows(s, RecordKind::Elderly, &rows[..3]).expect("three people");
        assert_eq!(r, report(RecordKind::Elderly, 3, 3, 0, 0));
        let mut taken = elderly(20);
        set(&mut taken, "id_number", &elderly(1)[1].1);
        set(&mut taken, "birth_date", &elderly(1)[4].1);
        set(&mut taken, "sex", &elderly(1)[3].1);
        let mut clash = infant(1);
        set(&mut clash, "id", "E00002");
        let errs = rejected(import_rows(s, RecordKind::Elderly, &[elderly(21), taken]));
        assert_error(
            &errs,
            3,
            "id_number",
            "already registered as person \"E00001\"",
        );
        assert_eq!(errs.len(), 1, "{errs:?}");
        let errs = rejected(import_rows(s, RecordKind::Infants, &[clash]));
        assert_error(&errs, 2, "id", "another register");
        assert_eq!(count(s, "person"), 3, "nothing more written");
    }
}

#[test]
fn header_errors_are_row_one() {
    for db in dbs() {
        let s = &db.store;
        let errs = rejected(import(
            s,
            RecordKind::Elderly,
            "编号,姓名,colour\nE1,张三,red\n",
        ));
        assert_error(&errs, 1, "colour", "unknown column");
        assert_error(&errs, 1, "id_number", "required column missing");
        assert_error(&errs, 1, "birth_date", "required column missing");
        let errs = rejected(import(s, RecordKind::Facilities, ""));
        assert_error(&errs, 1, "*", "empty");
        // A value outside the header's columns.
        let base = csv_text(
            RecordKind::Facilities,
            HeaderLang::English,
            &[facility("F1")],
        );
        let mut lines = base.lines();
        let text = format!(
            "{},\n{},extra\n",
            lines.next().expect("header"),
            lines.next().expect("row")
        );
        let errs = rejected(import(s, RecordKind::Facilities, &text));
        let beyond = super::import::col_letters(columns::columns(RecordKind::Facilities).len());
        assert_error(&errs, 2, &format!("column {beyond}"), "without a header");
        assert_eq!(errs.len(), 1, "{errs:?}");
    }
}

#[test]
fn reimport_changes_nothing_and_updates_what_changed() {
    for db in dbs() {
        let s = &db.store;
        let people: Vec<Cells> = (0..50).map(elderly).collect();
        let text = csv_text(RecordKind::Elderly, HeaderLang::English, &people);
        let fac = csv_text(
            RecordKind::Facilities,
            HeaderLang::English,
            &[facility("F1"), nursery("N1")],
        );
        let cls = csv_text(
            RecordKind::Classes,
            HeaderLang::English,
            &[class("C1", "N1", "infant_class", 8)],
        );
        assert_eq!(
            import(s, RecordKind::Elderly, &text).expect("first"),
            report(RecordKind::Elderly, 50, 50, 0, 0)
        );
        assert_eq!(
            import(s, RecordKind::Facilities, &fac).expect("facilities"),
            report(RecordKind::Facilities, 2, 2, 0, 0)
        );
        assert_eq!(
            import(s, RecordKind::Classes, &cls).expect("classes"),
            report(RecordKind::Classes, 1, 1, 0, 0)
        );
        let mut c = s.conn().expect("conn");
        for t in ["person", "facility", "childcare_class"] {
            c.execute(
                &format!("UPDATE {t} SET updated_at = '2000-01-01T00:00:00Z'"),
                &[],
            )
            .expect("mark");
        }
        assert_eq!(
            import(s, RecordKind::Elderly, &text).expect("again"),
            report(RecordKind::Elderly, 50, 0, 0, 50)
        );
        assert_eq!(
            import(s, RecordKind::Facilities, &fac).expect("facilities again"),
            report(RecordKind::Facilities, 2, 0, 0, 2)
        );
        assert_eq!(
            import(s, RecordKind::Classes, &cls).expect("classes again"),
            report(RecordKind::Classes, 1, 0, 0, 1)
        );
        for t in ["person", "facility", "childcare_class"] {
            let touched = c
                .query_i64(
                    &format!("SELECT COUNT(*) FROM {t} WHERE updated_at <> '2000-01-01T00:00:00Z'"),
                    &[],
                )
                .expect("count");
            assert_eq!(touched, 0, "{t}");
        }
        // One changed row, one new row, one soft-deleted row that comes back.
        people::soft_delete(
            &mut c,
            &s.reference,
            &crate::Scope::system("test"),
            "E00003",
        )
        .expect("delete");
        let mut changed = people.clone();
        set(&mut changed[0], "address", "新地址");
        changed.push(elderly(50));
        let r = import(
            s,
            RecordKind::Elderly,
            &csv_text(RecordKind::Elderly, HeaderLang::English, &changed),
        )
        .expect("changed");
        assert_eq!(r, report(RecordKind::Elderly, 51, 1, 2, 48));
        let touched = c
            .query_i64(
                "SELECT COUNT(*) FROM person WHERE updated_at <> '2000-01-01T00:00:00Z'",
                &[],
            )
            .expect("count");
        assert_eq!(touched, 3);
        assert_eq!(
            people::get(
                &mut c,
                &s.reference,
                &crate::Scope::system("test"),
                "E00000"
            )
            .expect("get")
            .address
            .as_deref(),
            Some("新地址")
        );
        // A dry run reports without writing.
        let mut more = changed.clone();
        more.push(elderly(51));
        let preview = import_bytes(
            s,
            RecordKind::Elderly,
            "x.csv",
            csv_text(RecordKind::Elderly, HeaderLang::English, &more).as_bytes(),
            &ImportOptions {
                dry_run: true,
                ..opts()
            },
        )
        .expect("dry run");
        assert_eq!(
            preview,
            ImportReport {
                dry_run: true,
                ..report(RecordKind::Elderly, 52, 1, 0, 51)
            }
        );
        assert_eq!(count(s, "person"), 51);
    }
}

#[test]
fn chinese_and_english_headers_gbk_and_blank_lines() {
    for db in dbs() {
        let s = &db.store;
        let zh = csv_text(
            RecordKind::Infants,
            HeaderLang::Chinese,
            &[infant(1), infant(2)],
        );
        assert_eq!(
            import(s, RecordKind::Infants, &zh)
                .expect("chinese")
                .inserted,
            2
        );
        let en = csv_text(RecordKind::Infants, HeaderLang::English, &[infant(3)]);
        assert_eq!(
            import(s, RecordKind::Infants, &en)
                .expect("english")
                .inserted,
            1
        );
        // Excel in China saves CSV as GBK; a BOM'd UTF-8 file also works.
        let rows: Vec<Cells> = (4..6).map(infant).collect();
        let zh = csv_text(RecordKind::Infants, HeaderLang::Chinese, &rows);
        let (gbk, _, bad) = encoding_rs::GB18030.encode(&zh);
        assert!(!bad);
        assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
        let r = import_bytes(s, RecordKind::Infants, "婴幼儿.csv", &gbk, &opts()).expect("gbk");
        assert_eq!(r.inserted, 2);
        let p = people::get(
            &mut s.conn().expect("conn"),
            &s.reference,
            &crate::Scope::system("test"),
            "I00004",
        )
        .expect("get");
        assert_eq!(p.name, "小明");
        assert_eq!(p.guardian_name.as_deref(), Some("王女士"));
        let bom = format!(
            "\u{feff}{}",
            csv_text(RecordKind::Infants, HeaderLang::Chinese, &[infant(6)])
        );
        assert_eq!(
            import(s, RecordKind::Infants, &bom).expect("bom").inserted,
            1
        );
        // Blank lines are skipped but counted, as a spreadsheet shows them.
        let mut bad = infant(8);
        set(&mut bad, "sex", "unknown");
        let text = csv_text(RecordKind::Infants, HeaderLang::English, &[infant(7), bad]);
        let text = text.replacen('\n', "\n\n,,,\n", 2);
        let errs = rejected(import(s, RecordKind::Infants, &text));
        assert_error(&errs, 7, "sex", "unknown value");
    }
}

#[test]
fn gcj02_coordinates_are_converted() {
    for db in dbs() {
        let s = &db.store;
        let (g_lng, g_lat) = wgs84_to_gcj02(120.755, 30.755);
        let mut row = facility("F1");
        set(&mut row, "lng", &g_lng.to_string());
        set(&mut row, "lat", &g_lat.to_string());
        set(&mut row, "coord_system", "gcj02");
        let mut row2 = facility("F2");
        set(&mut row2, "lng", &g_lng.to_string());
        set(&mut row2, "lat", &g_lat.to_string());
        let text = csv_text(RecordKind::Facilities, HeaderLang::English, &[row]);
        import(s, RecordKind::Facilities, &text).expect("row gcj02");
        let text = csv_text(RecordKind::Facilities, HeaderLang::English, &[row2]);
        import_bytes(
            s,
            RecordKind::Facilities,
            "f.csv",
            text.as_bytes(),
            &ImportOptions {
                coords: CoordSystem::Gcj02,
                ..opts()
            },
        )
        .expect("file default gcj02");
        let mut c = s.conn().expect("conn");
        for id in ["F1", "F2"] {
            let f = crate::facilities::get(&mut c, &crate::Scope::system("test"), id).expect("get");
            let (x, y) = (f.lng.expect("lng"), f.lat.expect("lat"));
            assert!(
                (x - 120.755).abs() < 1e-7 && (y - 30.755).abs() < 1e-7,
                "{id}: ({x}, {y})"
            );
        }
    }
}

fn load_all(s: &Store) {
    let fac = [facility("F1"), nursery("N1")];
    import_rows(s, RecordKind::Facilities, &fac).expect("facilities");
    import_rows(
        s,
        RecordKind::Classes,
        &[
            class("C1", "N1", "infant_class", 8),
            class("C2", "N1", "mixed_age_class", 18),
        ],
    )
    .expect("classes");
    let el: Vec<Cells> = (0..30).map(elderly).collect();
    import_rows(s, RecordKind::Elderly, &el).expect("elderly");
    let inf: Vec<Cells> = (0..10).map(infant).collect();
    import_rows(s, RecordKind::Infants, &inf).expect("infants");
    for (kind, rows) in activity_rows() {
        import_rows(s, kind, &rows).expect("activity");
    }
}

#[test]
fn export_import_round_trip_is_lossless() {
    let dir = tempfile::tempdir().expect("tempdir");
    for db in dbs() {
        let s = &db.store;
        load_all(s);
        // A GCJ-02 point gives coordinates with many decimals.
        let (g_lng, g_lat) = wgs84_to_gcj02(120.7512345678, 30.7598765432);
        let mut p = elderly(40);
        set(&mut p, "lng", &g_lng.to_string());
        set(&mut p, "lat", &g_lat.to_string());
        set(&mut p, "coord_system", "GCJ-02");
        import_rows(s, RecordKind::Elderly, &[p]).expect("gcj");
        let target = TestDb::sqlite().expect("second database");
        for kind in RecordKind::ALL {
            for (format, lang) in [
                (ExportFormat::Xlsx, HeaderLang::Chinese),
                (ExportFormat::Csv, HeaderLang::English),
                (ExportFormat::Csv, HeaderLang::Chinese),
                (ExportFormat::Xlsx, HeaderLang::English),
            ] {
                let path =
                    dir.path()
                        .join(format!("{}-{lang:?}.{}", kind.code(), format.extension()));
                let n = export(
                    s,
                    &crate::Scope::system("test"),
                    *kind,
                    format,
                    lang,
                    true,
                    &path,
                )
                .expect("export");
                assert!(n > 0, "{kind}");
                // Into the same database: nothing changes.
                let r = import_file(s, *kind, &path, &opts()).expect("re-import");
                assert_eq!(
                    (r.rows, r.unchanged),
                    (n as u64, n as u64),
                    "{kind} {format:?} {lang:?}"
                );
                // Into an empty one: everything arrives as it was.
                let r = import_file(&target.store, *kind, &path, &opts()).expect("import");
                assert_eq!(r.rows, n as u64);
            }
        }
        let (mut a, mut b) = (s.conn().expect("conn"), target.store.conn().expect("conn"));
        for role in [PersonRole::Elderly, PersonRole::Infant] {
            let mut left = Vec::new();
            people::for_each(
                &mut a,
                &s.reference,
                &crate::Scope::system("test"),
                role,
                |p| {
                    left.push(p.clone());
                    Ok(())
                },
            )
            .expect("left");
            let mut right = Vec::new();
            people::for_each(
                &mut b,
                &s.reference,
                &crate::Scope::system("test"),
                role,
                |p| {
                    right.push(p.clone());
                    Ok(())
                },
            )
            .expect("right");
            assert_eq!(left, right, "{role}");
        }
        let fa = crate::facilities::get(&mut a, &crate::Scope::system("test"), "F1").expect("F1");
        let fb = crate::facilities::get(&mut b, &crate::Scope::system("test"), "F1").expect("F1");
        assert_eq!(fa, fb);
        assert_eq!(
            crate::facilities::all_classes(&mut a, &crate::Scope::system("test")).expect("classes"),
            crate::facilities::all_classes(&mut b, &crate::Scope::system("test")).expect("classes")
        );
    }
}

#[test]
fn masked_exports_cannot_be_reimported() {
    let dir = tempfile::tempdir().expect("tempdir");
    for db in dbs() {
        let s = &db.store;
        load_all(s);
        for (format, lang) in [
            (ExportFormat::Csv, HeaderLang::Chinese),
            (ExportFormat::Xlsx, HeaderLang::English),
        ] {
            let path = dir.path().join(format!("masked.{}", format.extension()));
            export(
                s,
                &crate::Scope::system("test"),
                RecordKind::Elderly,
                format,
                lang,
                false,
                &path,
            )
            .expect("export");
            let errs = rejected(import_file(s, RecordKind::Elderly, &path, &opts()));
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_error(&errs, 1, "id_number", "masked export");
            if format == ExportFormat::Csv {
                let text = std::fs::read_to_string(&path).expect("read");
                assert!(text.starts_with('\u{feff}'), "BOM for Excel");
                assert!(text.contains("330402********"), "masked");
                // Renaming the header back still fails, with a clear reason.
                let renamed = text.replacen(MASKED_ID_HEADER_ZH, "身份证号码", 1);
                let errs = rejected(import(s, RecordKind::Elderly, &renamed));
                assert_error(&errs, 2, "id_number", "masked");
                assert_eq!(errs.len(), 30, "one per row");
            }
        }
    }
}

#[test]
fn filled_templates_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    for kind in RecordKind::ALL {
        let path = dir.path().join(format!("{}.xlsx", kind.code()));
        write_template(*kind, &path).expect("template");
        // The empty template reads as a header without rows.
        let mut src =
            read::SheetSource::new(&std::fs::read(&path).expect("read"), Default::default())
                .expect("sheet");
        use read::RowSource;
        let (row, headers) = src.header().expect("header").expect("some");
        assert_eq!(row, 1);
        assert_eq!(headers, columns::headers(*kind, HeaderLang::Chinese));
    }
    for db in dbs() {
        let s = &db.store;
        for (kind, row) in [
            (RecordKind::Facilities, nursery("N1")),
            (RecordKind::Classes, class("C1", "N1", "托小班", 12)),
            (RecordKind::Elderly, elderly(1)),
            (RecordKind::Infants, infant(1)),
        ] {
            // As a user fills it: Chinese labels from the dropdowns, 是/否.
            let cols = columns::columns(kind);
            let cells: Vec<String> = cols
                .iter()
                .map(|c| {
                    let v = row
                        .iter()
                        .find(|(k, _)| *k == c.file_key)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    match c.ty {
                        columns::ColType::Enum(values) => values
                            .iter()
                            .find(|e| e.code == v)
                            .map(|e| e.zh.to_string())
                            .unwrap_or(v),
                        columns::ColType::Bool if v == "true" => "是".into(),
                        columns::ColType::Bool if v == "false" => "否".into(),
                        _ => v,
                    }
                })
                .collect();
            let bytes = template_with_rows(kind, &[cells]).expect("filled");
            let r = import_bytes(s, kind, "filled.xlsx", &bytes, &opts()).expect("filled imports");
            assert_eq!(r.inserted, 1, "{kind}");
        }
    }
}

#[test]
fn load_records_is_all_or_nothing() {
    for db in dbs() {
        let s = &db.store;
        let hdr = |kind| {
            columns::HeaderMap::new(
                kind,
                &columns::headers(kind, HeaderLang::English)
                    .iter()
                    .map(|h| h.to_string())
                    .collect::<Vec<_>>(),
            )
            .expect("header")
        };
        let cells = |kind, row: &Cells| -> Vec<String> {
            columns::columns(kind)
                .iter()
                .map(|c| {
                    row.iter()
                        .find(|(k, _)| *k == c.file_key)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                })
                .collect()
        };
        let fh = hdr(RecordKind::Facilities);
        let facilities: Vec<Facility> = [facility("F1"), nursery("N1")]
            .iter()
            .map(|r| {
                let c = cells(RecordKind::Facilities, r);
                columns::facility_from_row(fh.row(&c, CoordSystem::Wgs84)).expect("facility")
            })
            .collect();
        let ch = hdr(RecordKind::Classes);
        let c = cells(RecordKind::Classes, &class("C1", "N1", "infant_class", 9));
        let classes: Vec<ChildcareClass> =
            vec![columns::class_from_row(ch.row(&c, CoordSystem::Wgs84)).expect("class")];
        let eh = hdr(RecordKind::Elderly);
        let ih = hdr(RecordKind::Infants);
        let mut persons: Vec<Person> = (0..20)
            .map(|i| {
                let c = cells(RecordKind::Elderly, &elderly(i));
                columns::person_from_row(eh.row(&c, CoordSystem::Wgs84), PersonRole::Elderly)
                    .expect("person")
            })
            .collect();
        // Infants born recently enough to be under three today.
        let born = chrono::Local::now().date_naive() - chrono::Days::new(200);
        for i in 0..5u32 {
            let mut r = infant(i);
            set(&mut r, "birth_date", &born.to_string());
            let seq = (i % 1000) as u16;
            set(&mut r, "id_number", &idcard::make("330402", born, seq));
            let c = cells(RecordKind::Infants, &r);
            persons.push(
                columns::person_from_row(ih.row(&c, CoordSystem::Wgs84), PersonRole::Infant)
                    .expect("infant"),
            );
        }
        let mut bad = persons.clone();
        bad[3].residence_area_code = "330411".into();
        bad[21].id = bad[0].id.clone();
        let mut bad_classes = classes.clone();
        bad_classes[0].facility_id = "N9".into();
        let errs = match load_records(s, &facilities, &bad_classes, &bad, None) {
            Err(StoreError::ImportRejected(v)) => v,
            other => panic!("expected a rejection, got {other:?}"),
        };
        assert_error(&errs, 1, "classes.facility_id", "neither");
        assert_error(&errs, 4, "people.residence_area_code", "county level");
        assert_error(&errs, 22, "people.id", "also on row 1");
        assert_eq!(
            count(s, "facility") + count(s, "person"),
            0,
            "nothing written"
        );

        let calls = std::cell::Cell::new(0u32);
        let progress = |_: u64, _: u64| calls.set(calls.get() + 1);
        let r = load_records(s, &facilities, &classes, &persons, Some(&progress)).expect("load");
        assert!(calls.get() >= 1);
        assert_eq!(r.facilities.inserted, 2);
        assert_eq!(r.classes.inserted, 1);
        assert_eq!(r.elderly, report(RecordKind::Elderly, 20, 20, 0, 0));
        assert_eq!(r.infants, report(RecordKind::Infants, 5, 5, 0, 0));
        let again = load_records(s, &facilities, &classes, &persons, None).expect("again");
        assert_eq!(again.elderly.unchanged, 20);
        assert_eq!(again.facilities.unchanged, 2);
        let back = people::get(
            &mut s.conn().expect("conn"),
            &s.reference,
            &crate::Scope::system("test"),
            &persons[0].id,
        )
        .expect("get");
        assert_eq!(back, persons[0]);
    }
}

/// The example files in `docs/examples/` import, in order, into a fresh database.
#[test]
fn documented_examples_import() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    for db in dbs() {
        for (kind, file) in [
            (RecordKind::Facilities, "facilities.csv"),
            (RecordKind::Classes, "classes.csv"),
            (RecordKind::Elderly, "elderly.csv"),
            (RecordKind::Infants, "infants.csv"),
        ] {
            let r = import_file(&db.store, kind, &dir.join(file), &opts())
                .unwrap_or_else(|e| panic!("{file}: {e}: {e:?}"));
            assert!(r.inserted > 0, "{file}");
        }
    }
}

#[test]
fn repeats_within_a_file_are_reported_once() {
    for db in dbs() {
        let s = &db.store;
        let first = elderly(0);
        let mut same_number = elderly(3);
        for k in ["id_number", "birth_date", "sex"] {
            let v = first.iter().find(|(c, _)| *c == k).expect("cell").1.clone();
            set(&mut same_number, k, &v);
        }
        let mut same_id = elderly(5);
        set(&mut same_id, "id", "E00001");
        let rows = [elderly(0), elderly(1), same_number, same_id];
        // Into an empty register (bulk path), then into a non-empty one.
        for round in 0..2 {
            let errs = rejected(import_rows(s, RecordKind::Elderly, &rows));
            assert_error(&errs, 4, "id_number", "also on row 2");
            assert_error(&errs, 5, "id", "\"E00001\": also on row 3");
            assert_eq!(errs.len(), 2, "round {round}: {errs:?}");
            if round == 0 {
                assert_eq!(count(s, "person"), 0);
                import_rows(s, RecordKind::Elderly, &[elderly(0), elderly(1)]).expect("two");
            }
        }
        assert_eq!(count(s, "person"), 2);
    }
}

#[test]
fn sqlite_settings_are_restored_after_a_bulk_import() {
    let db = TestDb::sqlite().expect("sqlite");
    let s = &db.store;
    let rows: Vec<Cells> = (0..10).map(elderly).collect();
    import_rows(s, RecordKind::Elderly, &rows).expect("import");
    // A failed one too.
    let mut bad = elderly(11);
    set(&mut bad, "sex", "x");
    rejected(import_rows(s, RecordKind::Elderly, &[bad]));
    // Every pooled connection has the pool's settings back, and the indexes
    // dropped for the bulk load are there again.
    let conns: Vec<_> = (0..4).map(|_| s.conn().expect("conn")).collect();
    for mut c in conns {
        assert_eq!(c.query_i64("PRAGMA foreign_keys", &[]).expect("fk"), 1);
        assert_eq!(c.query_i64("PRAGMA synchronous", &[]).expect("sync"), 1);
        assert_eq!(
            c.query_i64("PRAGMA cache_size", &[]).expect("cache"),
            -crate::db::PAGE_CACHE_KIB
        );
        let idx = c
            .query_i64(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'person' \
                 AND name IN ('person_id_number_hmac_idx', 'person_list_idx', 'person_birth_idx')",
                &[],
            )
            .expect("indexes");
        assert_eq!(idx, 3);
        let triggers = c
            .query_i64(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' \
                 AND name LIKE 'person_tally_%'",
                &[],
            )
            .expect("triggers");
        assert_eq!(triggers, 4);
    }
}

#[test]
fn bulk_loads_leave_wal_only_when_alone_and_always_return_to_it() {
    let db = TestDb::sqlite().expect("sqlite");
    let s = &db.store;
    let wal = std::path::PathBuf::from(format!("{}-wal", db.url));
    let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    // Alone: the load ran with a rollback journal, so the log holds nothing.
    let rows: Vec<Cells> = (0..10).map(elderly).collect();
    import_rows(s, RecordKind::Elderly, &rows).expect("import");
    let mut c = s.conn().expect("conn");
    assert_eq!(
        c.query("PRAGMA journal_mode", &[]).expect("mode")[0]
            .get::<String>("journal_mode")
            .expect("journal_mode"),
        "wal"
    );
    assert_eq!(wal_len(), 0, "pages went through the log");
    // With another connection open the switch is refused and the load goes
    // through the log as usual, without waiting for that connection.
    assert_eq!(
        c.query_i64("SELECT COUNT(*) FROM person", &[]).expect("n"),
        10
    );
    let rows: Vec<Cells> = (20..30).map(elderly).collect();
    import_rows(s, RecordKind::Elderly, &rows).expect("import beside a reader");
    assert!(wal_len() > 0);
    assert_eq!(
        c.query("PRAGMA journal_mode", &[]).expect("mode")[0]
            .get::<String>("journal_mode")
            .expect("journal_mode"),
        "wal"
    );
    assert_eq!(
        c.query_i64("SELECT COUNT(*) FROM person", &[]).expect("n"),
        20
    );
    assert!(!std::path::Path::new(&format!("{}-journal", db.url)).exists());
}

/// A load beside a running server (the demo's insurance register) stays in
/// WAL mode even alone: its pages go through the log, where a load alone
/// would have left WAL and held the file (every page waiting for it).
#[test]
fn a_load_while_serving_keeps_wal_even_alone() {
    use laoxiao_model::activity::{InsuranceEnrolment, InsuranceKind};
    let db = TestDb::sqlite().expect("sqlite");
    let s = &db.store;
    let wal = std::path::PathBuf::from(format!("{}-wal", db.url));
    let wal_len = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let rows: Vec<Cells> = (0..10).map(elderly).collect();
    import_rows(s, RecordKind::Elderly, &rows).expect("import");
    assert_eq!(wal_len(), 0, "alone, the import left WAL");
    let ins: Vec<InsuranceEnrolment> = (0..10)
        .map(|i| InsuranceEnrolment {
            id: format!("INS{i:03}"),
            person_id: format!("E{i:05}"),
            kind: InsuranceKind::LongTermCare,
            start_date: NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"),
            end_date: None,
            note: None,
        })
        .collect();
    let batch = super::ActivityBatch {
        staff: &[],
        services: &[],
        enrolments: &[],
        residences: &[],
        student_cohorts: &[],
        insurance: &ins,
    };
    super::load_activity_while_serving(s, &batch, today()).expect("load");
    assert!(wal_len() > 0, "the load went through the log");
    let mut c = s.conn().expect("conn");
    assert_eq!(
        c.query_i64("SELECT COUNT(*) FROM insurance_enrolment", &[])
            .expect("n"),
        10
    );
}

#[test]
fn indexes_are_back_after_a_bulk_load() {
    for db in dbs() {
        let s = &db.store;
        let mut c = s.conn().expect("conn");
        let sql = match c.backend() {
            crate::Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'person' \
                 ORDER BY name"
            }
            crate::Backend::Postgres => {
                "SELECT indexname FROM pg_indexes WHERE tablename = 'person' \
                 AND schemaname = current_schema() ORDER BY indexname"
            }
        };
        let before = c.query(sql, &[]).expect("indexes");
        assert!(before.len() >= 3, "{before:?}");
        let rows: Vec<Cells> = (0..10).map(elderly).collect();
        import_rows(s, RecordKind::Elderly, &rows).expect("import");
        assert_eq!(c.query(sql, &[]).expect("indexes"), before);
        // The unique index works again.
        let mut dup = elderly(20);
        set(&mut dup, "id_number", &elderly(1)[1].1);
        set(&mut dup, "birth_date", &elderly(1)[4].1);
        set(&mut dup, "sex", &elderly(1)[3].1);
        let errs = rejected(import_rows(s, RecordKind::Elderly, &[dup]));
        assert_error(&errs, 2, "id_number", "already registered");
    }
}

fn cells(v: &[(&'static str, &str)]) -> Cells {
    v.iter().map(|(k, x)| (*k, x.to_string())).collect()
}

/// One or two rows of each activity register, naming what `load_all` loads.
fn activity_rows() -> Vec<(RecordKind, Vec<Cells>)> {
    vec![
        (
            RecordKind::StudentCohorts,
            vec![cells(&[
                ("id", "K2020-1"),
                ("institution", "嘉兴康颐职业技术学院"),
                ("program", "智慧健康养老服务与管理"),
                ("intake_year", "2020"),
                ("enrolled", "40"),
                ("graduated", "37"),
            ])],
        ),
        (
            RecordKind::Staff,
            vec![
                cells(&[
                    ("id", "S1"),
                    ("facility_id", "F1"),
                    ("role", "care_worker"),
                    ("name", "李护理"),
                    ("certified", "true"),
                    ("certificate", "养老护理员职业技能等级证书"),
                    ("skill_grade", "senior"),
                    ("hired_date", "2021-03-01"),
                ]),
                cells(&[
                    ("id", "S2"),
                    ("facility_id", "N1"),
                    ("role", "保育员"),
                    ("name", "周保育"),
                    ("certified", "否"),
                    ("hired_date", "2023-09-01"),
                    ("left_date", "2024-06-30"),
                ]),
            ],
        ),
        (
            RecordKind::Residences,
            vec![cells(&[
                ("id", "R1"),
                ("person_id", "E00001"),
                ("facility_id", "F1"),
                ("admitted_date", "2024-05-01"),
            ])],
        ),
        (
            RecordKind::Enrolments,
            vec![cells(&[
                ("id", "EN1"),
                ("infant_id", "I00001"),
                ("facility_id", "N1"),
                ("class_id", "C2"),
                ("start_date", "2026-09-01"),
            ])],
        ),
        (
            RecordKind::Services,
            vec![
                cells(&[
                    ("id", "V1"),
                    ("person_id", "E00002"),
                    ("kind", "visit"),
                    ("date", "2026-03-05"),
                    ("facility_id", "F1"),
                    ("note", "电话探访"),
                ]),
                cells(&[
                    ("id", "A1"),
                    ("person_id", "E00002"),
                    ("kind", "能力评估"),
                    ("date", "2026-04-05"),
                    ("ability_level", "2"),
                ]),
                cells(&[
                    ("id", "NV1"),
                    ("person_id", "I00003"),
                    ("kind", "newborn_visit"),
                    ("date", "2025-01-10"),
                ]),
                cells(&[
                    ("id", "CH1"),
                    ("person_id", "I00003"),
                    ("kind", "儿童健康检查"),
                    ("date", "2025-06-10"),
                ]),
            ],
        ),
        (
            RecordKind::Insurance,
            vec![
                cells(&[
                    ("id", "EA1"),
                    ("person_id", "E00002"),
                    ("kind", "elderly_accident"),
                    ("start_date", "2025-01-01"),
                    ("end_date", "2025-12-31"),
                ]),
                cells(&[
                    ("id", "CA1"),
                    ("person_id", "I00001"),
                    ("kind", "托育婴幼儿意外伤害保险"),
                    ("start_date", "2026-09-01"),
                    ("note", "入托期间"),
                ]),
            ],
        ),
        (
            RecordKind::Catalogue,
            vec![cells(&[
                ("id", "SI1"),
                ("facility_id", "F1"),
                ("category", "bathing"),
                ("name", "上门助浴"),
                ("price_yuan", "80.50"),
                ("unit", "次"),
                ("areas_served", "330402"),
            ])],
        ),
        (
            RecordKind::HomeCareBeds,
            vec![cells(&[
                ("id", "HB1"),
                ("person_id", "E00002"),
                ("facility_id", "F1"),
                ("service_plan", "助浴、康复训练"),
                ("hours_per_month", "12"),
                ("devices", "紧急呼叫按钮"),
                ("start_date", "2025-03-01"),
            ])],
        ),
        (
            RecordKind::Devices,
            vec![cells(&[
                ("id", "D1"),
                ("kind", "emergency_button"),
                ("person_id", "E00002"),
                ("installed_date", "2025-03-02"),
                ("owner", "government"),
                ("provider_id", "F1"),
                ("platform_id", "P1"),
                ("platform_device_id", "BTN-0001"),
                ("status", "active"),
            ])],
        ),
    ]
}

#[test]
fn activity_rows_are_checked_against_the_registers() {
    for db in dbs() {
        let s = &db.store;
        load_all(s);
        // Re-importing changes nothing.
        for (kind, rows) in activity_rows() {
            let r = import_rows(s, kind, &rows).expect("again");
            assert_eq!(r.unchanged, rows.len() as u64, "{kind}");
        }
        let bad = vec![
            cells(&[
                ("id", "V9"),
                ("person_id", "I00001"),
                ("kind", "visit"),
                ("date", "2026-03-05"),
            ]),
            cells(&[
                ("id", "V9"),
                ("person_id", "E99999"),
                ("kind", "meal_assistance"),
                ("date", "2026-03-05"),
                ("facility_id", "NOPE"),
                ("ability_level", "1"),
            ]),
            cells(&[
                ("id", "A9"),
                ("person_id", "E00003"),
                ("kind", "ability_assessment"),
                ("date", "2027-03-05"),
            ]),
        ];
        let errs = rejected(import_rows(s, RecordKind::Services, &bad));
        assert_error(&errs, 2, "person_id", "infant register, not the elderly");
        assert_error(&errs, 3, "id", "duplicate id");
        assert_error(&errs, 3, "person_id", "not on the register");
        assert_error(&errs, 3, "facility_id", "not on the register");
        assert_error(&errs, 3, "ability_level", "only for ability assessments");
        assert_error(&errs, 4, "date", "future");
        assert_error(&errs, 4, "ability_level", "required");
        assert_eq!(errs.len(), 7, "{errs:?}");
        let bad = vec![cells(&[
            ("id", "EN9"),
            ("infant_id", "E00001"),
            ("facility_id", "F1"),
            ("class_id", "C1"),
            ("start_date", "2026-09-01"),
        ])];
        let errs = rejected(import_rows(s, RecordKind::Enrolments, &bad));
        assert_error(&errs, 2, "infant_id", "elderly");
        assert_error(&errs, 2, "facility_id", "takes no enrolments");
        assert_error(&errs, 2, "class_id", "belongs to facility \"N1\"");
        let bad = vec![cells(&[
            ("id", "S9"),
            ("facility_id", "N1"),
            ("role", "care_worker"),
            ("name", "某"),
            ("hired_date", "2021-01-01"),
        ])];
        let errs = rejected(import_rows(s, RecordKind::Staff, &bad));
        assert_error(&errs, 2, "role", "does not work at");
        // Insurance: the kind's register, dates in order, not in the future.
        let bad = vec![
            cells(&[
                ("id", "EA9"),
                ("person_id", "I00001"),
                ("kind", "elderly_accident"),
                ("start_date", "2025-01-01"),
            ]),
            cells(&[
                ("id", "CA9"),
                ("person_id", "E00001"),
                ("kind", "childcare_accident"),
                ("start_date", "2025-01-01"),
                ("end_date", "2024-12-31"),
            ]),
            cells(&[
                ("id", "LT9"),
                ("person_id", "E00001"),
                ("kind", "long_term_care"),
                ("start_date", "2027-01-01"),
            ]),
        ];
        let errs = rejected(import_rows(s, RecordKind::Insurance, &bad));
        assert_error(&errs, 2, "person_id", "infant register, not the elderly");
        assert_error(&errs, 3, "person_id", "elderly register, not the infant");
        assert_error(&errs, 3, "end_date", "before start_date");
        assert_error(&errs, 4, "start_date", "future");
        assert_eq!(errs.len(), 4, "{errs:?}");
        // A health check is for an infant.
        let bad = vec![cells(&[
            ("id", "DS9"),
            ("person_id", "E00001"),
            ("kind", "developmental_screening"),
            ("date", "2026-03-05"),
        ])];
        let errs = rejected(import_rows(s, RecordKind::Services, &bad));
        assert_error(&errs, 2, "person_id", "elderly register, not the infant");
        // Nothing of the rejected files was written.
        assert_eq!(count(s, "service_record"), 4);
        assert_eq!(count(s, "enrolment"), 1);
        assert_eq!(count(s, "staff"), 2);
        assert_eq!(count(s, "insurance_enrolment"), 2);
    }
}

#[test]
fn documented_activity_examples_import() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    for db in dbs() {
        for (kind, file) in [
            (RecordKind::Facilities, "facilities.csv"),
            (RecordKind::Classes, "classes.csv"),
            (RecordKind::Elderly, "elderly.csv"),
            (RecordKind::Infants, "infants.csv"),
            (RecordKind::Staff, "staff.csv"),
            (RecordKind::Services, "services.csv"),
            (RecordKind::Enrolments, "enrolments.csv"),
            (RecordKind::Residences, "residences.csv"),
            (RecordKind::StudentCohorts, "student_cohorts.csv"),
            (RecordKind::Insurance, "insurance.csv"),
        ] {
            let r = import_file(&db.store, kind, &dir.join(file), &opts())
                .unwrap_or_else(|e| panic!("{file}: {e}: {e:?}"));
            assert!(r.inserted > 0, "{file}");
        }
    }
}

// ---- Issue 9: hostile files, bounds, formulas, control characters ----

/// A minimal XLSX written by hand: the given sheet XML and the few parts a
/// reader needs around it.
fn hand_xlsx(sheet: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opt = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let ns = "http://schemas.openxmlformats.org";
    let parts: Vec<(&str, String)> = vec![
        (
            "[Content_Types].xml",
            format!(
                "<Types xmlns=\"{ns}/package/2006/content-types\"><Override PartName=\"/xl/workbook.xml\" \
                 ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
                 <Override PartName=\"/xl/worksheets/sheet1.xml\" \
                 ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>"
            ),
        ),
        (
            "_rels/.rels",
            format!(
                "<Relationships xmlns=\"{ns}/package/2006/relationships\"><Relationship Id=\"rId1\" \
                 Type=\"{ns}/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"
            ),
        ),
        (
            "xl/workbook.xml",
            format!(
                "<workbook xmlns=\"{ns}/spreadsheetml/2006/main\" xmlns:r=\"{ns}/officeDocument/2006/relationships\">\
                 <sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(
                "<Relationships xmlns=\"{ns}/package/2006/relationships\"><Relationship Id=\"rId1\" \
                 Type=\"{ns}/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>"
            ),
        ),
        ("xl/worksheets/sheet1.xml", sheet.to_string()),
    ];
    for (name, body) in &parts {
        z.start_file(*name, opt).expect("part");
        z.write_all(body.as_bytes()).expect("write");
    }
    for (name, body) in extra {
        z.start_file(*name, opt).expect("part");
        z.write_all(body).expect("write");
    }
    z.finish().expect("zip").into_inner()
}

/// Inline-string cells of one row.
fn xlsx_row(r: u32, cells: &[(&str, &str)]) -> String {
    let mut s = format!("<row r=\"{r}\">");
    for (at, v) in cells {
        s.push_str(&format!(
            "<c r=\"{at}{r}\" t=\"inlineStr\"><is><t>{v}</t></is></c>"
        ));
    }
    s.push_str("</row>");
    s
}

fn sheet_xml(dimension: &str, rows: &str) -> String {
    format!(
        "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
         <dimension ref=\"{dimension}\"/><sheetData>{rows}</sheetData></worksheet>"
    )
}

/// The 1.5 KB sheet of the review: a header in row 1 and the grid's last cell.
fn last_cell_xlsx(header: &[(&str, &str)]) -> Vec<u8> {
    hand_xlsx(
        &sheet_xml(
            "A1:XFD1048576",
            &format!(
                "{}<row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c></row>",
                xlsx_row(1, header)
            ),
        ),
        &[],
    )
}

/// Every column of a register as (letter, English header).
fn full_header(kind: RecordKind) -> Vec<(String, &'static str)> {
    columns::columns(kind)
        .iter()
        .enumerate()
        .map(|(i, c)| (super::import::col_letters(i), c.key))
        .collect()
}

#[test]
fn hole_01_hostile_xlsx_is_refused_within_the_limits() {
    let bytes = last_cell_xlsx(&[("A", "id")]);
    assert!(bytes.len() < 2048, "{} bytes", bytes.len());
    let header = full_header(RecordKind::Facilities);
    let header: Vec<(&str, &str)> = header.iter().map(|(a, k)| (a.as_str(), *k)).collect();
    let with_header = last_cell_xlsx(&header);
    for db in dbs() {
        let s = &db.store;
        // The review's file as it was: its header lacks the required columns,
        // which is all there is to say (the last cell is never sized).
        let errs = rejected(import_bytes(
            s,
            RecordKind::Facilities,
            "evil.xlsx",
            &bytes,
            &opts(),
        ));
        assert_error(&errs, 1, "name", "required");
        // With a real header and the default limits: the column limit, named
        // with its value.
        let e = import_bytes(
            s,
            RecordKind::Facilities,
            "evil.xlsx",
            &with_header,
            &opts(),
        )
        .expect_err("refused");
        let msg = e.to_string();
        assert_eq!(e.code(), "import_limit_exceeded", "{msg}");
        assert_eq!(e.http_status(), 413);
        assert!(
            msg.contains("row 1048576, column XFD") && msg.contains("max_columns = 100"),
            "{msg}"
        );
        // Even with room for the whole grid's width, memory follows the two
        // cells: the stray value is an ordinary row error.
        let wide = ImportOptions {
            limits: super::ImportLimits {
                max_columns: 20_000,
                ..Default::default()
            },
            ..opts()
        };
        let errs = rejected(import_bytes(
            s,
            RecordKind::Facilities,
            "evil.xlsx",
            &with_header,
            &wide,
        ));
        assert_error(&errs, 1048576, "column XFD", "without a header");
        // Through a file, as `laoxiao import` reads it.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("evil.xlsx");
        std::fs::write(&path, &with_header).expect("write");
        let e = import_file(s, RecordKind::Facilities, &path, &opts()).expect_err("refused");
        assert_eq!(e.code(), "import_limit_exceeded", "{e}");
        assert_eq!(count(s, "facility"), 0);
    }
}

#[test]
fn hole_01_zip_bombs_and_oversized_files_name_their_limit() {
    let s = &TestDb::sqlite().expect("db").store;
    let header = sheet_xml("A1:B1", &xlsx_row(1, &[("A", "id"), ("B", "name")]));
    // 64 MiB of zeros packs into about 64 KiB: a ratio of about 1,000.
    let zeros = vec![b'0'; 64 << 20];
    let bomb = hand_xlsx(&header, &[("xl/sharedStrings.xml", &zeros)]);
    assert!(bomb.len() < 512 << 10, "{}", bomb.len());
    let e = import_bytes(s, RecordKind::Facilities, "bomb.xlsx", &bomb, &opts())
        .expect_err("bomb refused");
    assert!(
        e.to_string().contains("max_xlsx_ratio = 200")
            && e.to_string().contains("xl/sharedStrings.xml"),
        "{e}"
    );
    // The size of one part and of all parts, each with its own limit.
    let small = |f: fn(&mut super::ImportLimits)| {
        let mut limits = super::ImportLimits {
            max_xlsx_ratio: 100_000,
            ..Default::default()
        };
        f(&mut limits);
        ImportOptions { limits, ..opts() }
    };
    let e = import_bytes(
        s,
        RecordKind::Facilities,
        "bomb.xlsx",
        &bomb,
        &small(|l| l.max_xlsx_part_bytes = 1 << 20),
    )
    .expect_err("part refused");
    assert!(
        e.to_string().contains("max_xlsx_part_bytes = 1048576"),
        "{e}"
    );
    let e = import_bytes(
        s,
        RecordKind::Facilities,
        "bomb.xlsx",
        &bomb,
        &small(|l| l.max_xlsx_bytes = 2 << 20),
    )
    .expect_err("total refused");
    assert!(e.to_string().contains("max_xlsx_bytes = 2097152"), "{e}");

    // CSV: bytes, rows, columns, cell length, cells.
    let text = csv_text(
        RecordKind::Facilities,
        HeaderLang::English,
        &[facility("F1"), facility("F2"), facility("F3")],
    );
    let limited = |f: fn(&mut super::ImportLimits)| {
        let mut limits = super::ImportLimits::default();
        f(&mut limits);
        ImportOptions { limits, ..opts() }
    };
    for (o, needle) in [
        (limited(|l| l.max_csv_bytes = 100), "max_csv_bytes = 100"),
        (limited(|l| l.max_rows = 2), "max_rows = 2"),
        (limited(|l| l.max_columns = 5), "max_columns = 5"),
        (limited(|l| l.max_cell_chars = 8), "max_cell_chars = 8"),
        (limited(|l| l.max_cells = 20), "max_cells = 20"),
    ] {
        let e = import_bytes(s, RecordKind::Facilities, "f.csv", text.as_bytes(), &o)
            .expect_err(needle);
        assert_eq!(e.code(), "import_limit_exceeded");
        assert!(e.to_string().contains(needle), "{needle}: {e}");
    }
    // A line of a million commas is no million columns; a million-column value is.
    let commas = format!("{}\n", ",".repeat(1_000_000));
    let mut wide = text.clone();
    wide.push_str(&commas);
    import_bytes(s, RecordKind::Facilities, "f.csv", wide.as_bytes(), &opts())
        .expect("trailing empty cells are no columns");
    let mut wide = text;
    wide.push_str(&commas);
    wide.pop();
    wide.push_str("x\n");
    let e = import_bytes(s, RecordKind::Facilities, "f.csv", wide.as_bytes(), &opts())
        .expect_err("wide");
    assert!(e.to_string().contains("max_columns = 100"), "{e}");
    // Old binary workbooks are refused up front.
    let e = import_bytes(
        s,
        RecordKind::Facilities,
        "old.xls",
        &[0xD0, 0xCF, 0x11, 0xE0, 0, 0],
        &opts(),
    )
    .expect_err("xls");
    assert_eq!(e.code(), "unsupported_file");
}

#[test]
fn hand_made_xlsx_reads_sparse_rows_in_place() {
    let s = &TestDb::sqlite().expect("db").store;
    let cols = columns::columns(RecordKind::Facilities);
    let letter = |key: &str| {
        super::import::col_letters(cols.iter().position(|c| c.key == key).expect("column"))
    };
    let header = full_header(RecordKind::Facilities);
    let header: Vec<(&str, &str)> = header.iter().map(|(a, k)| (a.as_str(), *k)).collect();
    let (id, name, kind, area) = (
        letter("id"),
        letter("name"),
        letter("kind"),
        letter("area_code"),
    );
    // Row 5 lists its cells out of column order; rows 2 to 4 are absent.
    let rows = format!(
        "{}{}",
        xlsx_row(1, &header),
        xlsx_row(
            5,
            &[
                (area.as_str(), TOWN),
                (id.as_str(), "F9"),
                (kind.as_str(), "village_care_station"),
                (name.as_str(), "站"),
            ]
        )
    );
    let bytes = hand_xlsx(&sheet_xml("A1:XFD1048576", &rows), &[]);
    let errs = rejected(import_bytes(
        s,
        RecordKind::Facilities,
        "f.xlsx",
        &bytes,
        &opts(),
    ));
    // The station must sit at village level: the row and column are the sheet's own.
    assert_error(&errs, 5, "area_code", "village");
}

#[test]
fn hole_02_counts_out_of_range_are_refused_on_import() {
    for db in dbs() {
        let s = &db.store;
        let mut f = facility("F1");
        set(&mut f, "beds", "9223372036854775807");
        set(&mut f, "nursing_beds", "0");
        set(&mut f, "dementia_beds", "0");
        let mut g = nursery("N1");
        set(&mut g, "approved_slots", "5001");
        let errs = rejected(import_rows(s, RecordKind::Facilities, &[f, g]));
        assert_error(&errs, 2, "beds", "outside the plausible range 0 to 20000");
        assert_error(&errs, 3, "approved_slots", "0 to 5000");
        import_rows(s, RecordKind::Facilities, &[nursery("N1")]).expect("nursery");
        let mut c = class("C1", "N1", "mixed_age_class", 18);
        set(&mut c, "caregivers", "1000000");
        set(&mut c, "monthly_fee_yuan", "1e12");
        let errs = rejected(import_rows(s, RecordKind::Classes, &[c]));
        assert_error(&errs, 2, "caregivers", "0 to 50");
        assert_error(&errs, 2, "monthly_fee_yuan", "0 yuan to 100000 yuan");
        assert_eq!(count(s, "facility"), 1);
    }
}

#[test]
fn hole_09_formulas_are_neutralised_on_export_and_round_trip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hyperlink = "=HYPERLINK(\"http://x\",\"y\")";
    for db in dbs() {
        let s = &db.store;
        let mut f = facility("F1");
        set(&mut f, "name", hyperlink);
        set(&mut f, "address", "-1号楼");
        set(&mut f, "phone", "+86 573 8888 8888");
        // A quote typed before a formula character is taken as Excel takes it.
        set(&mut f, "operator_name", "'=quoted");
        import_rows(s, RecordKind::Facilities, &[f]).expect("facility");
        let mut p = elderly(1);
        set(&mut p, "name", "@张三");
        set(&mut p, "address", "\t=1+1");
        import_rows(s, RecordKind::Elderly, &[p]).expect("person");
        let mut conn = s.conn().expect("conn");
        let system = crate::Scope::system("test");
        let before = crate::facilities::get(&mut conn, &system, "F1").expect("get");
        assert_eq!(before.name, hyperlink);
        assert_eq!(before.operator_name.as_deref(), Some("=quoted"));
        let target = TestDb::sqlite().expect("target");
        for format in [ExportFormat::Csv, ExportFormat::Xlsx] {
            for kind in [RecordKind::Facilities, RecordKind::Elderly] {
                let path = dir
                    .path()
                    .join(format!("{}.{}", kind.code(), format.extension()));
                export(
                    s,
                    &crate::Scope::system("test"),
                    kind,
                    format,
                    HeaderLang::Chinese,
                    true,
                    &path,
                )
                .expect("export");
                // What a spreadsheet would open.
                let texts: Vec<String> = match format {
                    ExportFormat::Csv => {
                        let mut r = csv::ReaderBuilder::new()
                            .has_headers(false)
                            .from_path(&path)
                            .expect("csv");
                        r.records()
                            .flat_map(|rec| {
                                rec.expect("record")
                                    .iter()
                                    .map(str::to_string)
                                    .collect::<Vec<_>>()
                            })
                            .collect()
                    }
                    ExportFormat::Xlsx => {
                        use calamine::Reader;
                        let mut book: calamine::Xlsx<_> =
                            calamine::open_workbook(&path).expect("xlsx");
                        let range = book.worksheet_range_at(0).expect("sheet").expect("range");
                        range
                            .used_cells()
                            .filter_map(|(_, _, d)| match d {
                                calamine::Data::String(s) => Some(s.clone()),
                                _ => None,
                            })
                            .collect()
                    }
                };
                for t in &texts {
                    assert!(
                        !t.starts_with(['=', '+', '-', '@', '\t', '\r']),
                        "{format:?}: {t:?} would run as a formula"
                    );
                }
                if kind == RecordKind::Facilities {
                    let quoted = format!("'{hyperlink}");
                    assert!(texts.contains(&quoted), "{format:?}: {texts:?}");
                    assert!(texts.contains(&"'=quoted".to_string()), "{texts:?}");
                    // Numbers stay numbers (no quote on the beds or coordinates).
                    assert!(!texts.iter().any(|t| t.starts_with("'1")), "{texts:?}");
                }
                // Re-imported: the same values, nothing changed.
                let r = import_file(s, kind, &path, &opts()).expect("re-import");
                assert_eq!((r.rows, r.unchanged), (1, 1), "{kind} {format:?}");
                import_file(&target.store, kind, &path, &opts()).expect("import elsewhere");
            }
            let mut tc = target.store.conn().expect("conn");
            let after = crate::facilities::get(&mut tc, &system, "F1").expect("get");
            assert_eq!(after, before, "{format:?}");
            let p = people::get(
                &mut tc,
                &target.store.reference,
                &crate::Scope::system("test"),
                "E00001",
            )
            .expect("person");
            let source = people::get(&mut conn, &s.reference, &system, "E00001").expect("person");
            assert_eq!(p, source, "{format:?}");
            // Cells are trimmed on import: the tab went, the formula stayed.
            assert_eq!(
                (p.name.as_str(), p.address.as_deref()),
                ("@张三", Some("=1+1"))
            );
        }
    }
}

#[test]
fn hole_13_control_characters_are_refused_on_import() {
    for db in dbs() {
        let s = &db.store;
        let mut f = facility("F1");
        set(&mut f, "name", "养老\0院");
        let mut g = facility("F2");
        set(&mut g, "address", "一号\u{1b}[31m");
        let errs = rejected(import_rows(s, RecordKind::Facilities, &[f, g]));
        assert_error(&errs, 2, "name", "NUL");
        assert_error(&errs, 3, "address", "U+001B");
        let mut p = elderly(1);
        set(&mut p, "name", "王\u{7f}");
        let errs = rejected(import_rows(s, RecordKind::Elderly, &[p]));
        assert_error(&errs, 2, "name", "U+007F");
        assert_eq!(count(s, "facility") + count(s, "person"), 0);
    }
}

/// The facility's monthly fee (月收费（元）) imports from its declared column
/// in yuan, is held in fen, exports in yuan, and is refused outside its bound.
#[test]
fn facility_monthly_fee_imports_in_yuan() {
    for db in dbs() {
        let s = &db.store;
        let mut f = facility("F1");
        set(&mut f, "monthly_fee", "3500.5");
        import(
            s,
            RecordKind::Facilities,
            &csv_text(RecordKind::Facilities, HeaderLang::Chinese, &[f]),
        )
        .expect("import");
        let got = crate::facilities::get(
            &mut s.conn().expect("conn"),
            &crate::Scope::system("test"),
            "F1",
        )
        .expect("facility");
        assert_eq!(got.monthly_fee, Some(350_050));
        let row = laoxiao_model::columns::facility_to_row(&got);
        assert!(row.contains(&"3500.50".to_string()), "{row:?}");
        let mut g = facility("F2");
        set(&mut g, "monthly_fee", "200000");
        let errs = rejected(import_rows(s, RecordKind::Facilities, &[g]));
        assert_error(&errs, 2, "monthly_fee", "0 yuan to 100000 yuan");
    }
}

/// A register of infants dated when they were under three imports on that
/// date and loads, though every child is over three on the import's own day;
/// on a later date it is refused, naming the row, the column and the age.
#[test]
fn infants_over_three_now_import_as_of_their_register_date() {
    let as_of = NaiveDate::from_ymd_opt(2022, 12, 31).expect("date");
    for db in dbs() {
        let s = &db.store;
        let rows: Vec<Cells> = (0..4u32)
            .map(|i| {
                let mut r = infant(i);
                let birth = NaiveDate::from_ymd_opt(2020, 3, 1).expect("date")
                    + chrono::Days::new(u64::from(i * 100));
                set(&mut r, "birth_date", &birth.to_string());
                set(
                    &mut r,
                    "id_number",
                    &idcard::make("330402", birth, i as u16),
                );
                set(&mut r, "sex", if i % 2 == 1 { "男" } else { "女" });
                r
            })
            .collect();
        let mut dead = rows[3].clone();
        set(&mut dead, "status", "deceased");
        set(&mut dead, "death_date", "2021-06-01");
        let rows = [rows[0].clone(), rows[1].clone(), rows[2].clone(), dead];
        let text = csv_text(RecordKind::Infants, HeaderLang::English, &rows);
        let errs = rejected(import_bytes(
            s,
            RecordKind::Infants,
            "i.csv",
            text.as_bytes(),
            &opts(),
        ));
        // Checked on 2026-11-01, the three alive are over three; the child
        // who died is checked on the day of death.
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert_error(
            &errs,
            2,
            "birth_date",
            "under-threes; age on 2026-11-01 is 6",
        );
        assert_eq!(count(s, "person"), 0);
        let r = super::import::import_bytes_on(
            s,
            RecordKind::Infants,
            "i.csv",
            text.as_bytes(),
            &opts(),
            as_of,
        )
        .expect("imports as of 2022-12-31");
        assert_eq!(r.inserted, 4);
        // Loaded: the register holds them, aged out today (超龄).
        let people: Vec<laoxiao_model::Person> = {
            let mut c = s.conn().expect("conn");
            let mut v = Vec::new();
            crate::people::for_each(
                &mut c,
                &s.reference,
                &crate::Scope::system("test"),
                laoxiao_model::PersonRole::Infant,
                |p: &laoxiao_model::Person| {
                    v.push(p.clone());
                    Ok(())
                },
            )
            .expect("read");
            v
        };
        assert_eq!(people.len(), 4);
        assert!(people.iter().all(|p| p.aged_out(today())));
        assert!(people.iter().all(|p| !p.aged_out(as_of)));
    }
}
