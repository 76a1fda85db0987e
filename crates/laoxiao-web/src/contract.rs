//! The validation rules the OpenAPI document states, so that a client generated
//! from it (or schemathesis's conformance checks, `bench/schemathesis.sh`)
//! meets the server's rules: every numeric range from `laoxiao_model::bounds`,
//! the text rules (length, no control characters, blank is absent), the shapes
//! of ID numbers and credit codes, the division codes as enumerations, query
//! parameters that must not be empty, and, in the descriptions, the rules that
//! tie fields together or depend on the caller or the stored records (no
//! schema can state those; they answer 422 `validation_failed`).
//!
//! Applied to the generated document as a [`utoipa::Modify`], on its JSON form;
//! the ranges and codes are read from the model, never repeated here.

use laoxiao_model::bounds::{self, Bound};
use laoxiao_model::{AreaLevel, ClassType, FacilityKind};
use serde_json::{Map, Value, json};

/// Characters Rust's `str::trim` removes (Unicode White_Space), as a regex class body.
const WS: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Control characters (`char::is_control`), as a regex class body.
const CTRL: &str = r"\x00-\x1F\x7F-\x9F";
/// Control characters except the line feed a reason may hold.
const CTRL_BUT_LF: &str = r"\x00-\x09\x0B-\x1F\x7F-\x9F";

/// Longest single-line text after trimming ([`bounds::MAX_TEXT_CHARS`]), as a
/// repetition bound: the patterns bound the trimmed length (the server trims
/// before it counts, so a `maxLength`, which counts the blanks too, would
/// refuse what the server accepts).
fn text_max() -> usize {
    bounds::MAX_TEXT_CHARS
}

/// A single-line text: after trimming, no control characters and at most
/// [`text_max`] characters; blank is absent.
fn optional_text() -> String {
    let n = text_max() - 1;
    format!("^[{WS}]*(?:[^{CTRL}]{{0,{n}}}[^{CTRL}{WS}])?[{WS}]*$")
}

/// As [`optional_text`], and something other than blanks.
fn required_text() -> String {
    let n = text_max() - 2;
    format!("^[{WS}]*[^{CTRL}{WS}](?:[^{CTRL}]{{0,{n}}}[^{CTRL}{WS}])?[{WS}]*$")
}

/// A reason: line feeds allowed inside, at most 500 characters after
/// trimming; `required` refuses blank.
fn reason_text(required: bool) -> String {
    let n = laoxiao_store::transfers::MAX_REASON - 2;
    let body = format!("[^{CTRL}{WS}](?:[^{CTRL_BUT_LF}]{{0,{n}}}[^{CTRL}{WS}])?");
    if required {
        format!("^[{WS}]*{body}[{WS}]*$")
    } else {
        format!("^[{WS}]*(?:{body})?[{WS}]*$")
    }
}

/// An 18-character citizen ID number (GB 11643): a province code, four more
/// address digits, a birth date from 1880 on, three digits and the check
/// character (its value, and whether the date is a real one, are checked beyond
/// this shape); blanks around it ignored.
fn id_number(required: bool, masked: bool) -> String {
    let province = "(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3])[0-9]{4}";
    let date =
        "(?:18[89][0-9]|19[0-9]{2}|[2-9][0-9]{3})(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])";
    let number = if masked {
        format!(r"{province}(?:{date}|\*{{8}})[0-9]{{3}}[0-9Xx]")
    } else {
        format!("{province}{date}[0-9]{{3}}[0-9Xx]")
    };
    if required {
        format!("^[{WS}]*{number}[{WS}]*$")
    } else {
        format!("^[{WS}]*(?:{number}[{WS}]*)?$")
    }
}

/// A 统一社会信用代码 (GB 32100): 18 characters of its alphabet, digits 3–8.
fn credit_code() -> String {
    let a = "[0-9A-HJ-NPQRTUWXY]";
    format!("^[{WS}]*(?:{a}{{2}}[0-9]{{6}}{a}{{10}}[{WS}]*)?$")
}

/// A 户籍 division code: six digits or more.
fn hukou_code() -> String {
    format!("^[{WS}]*(?:[0-9]{{6,{}}}[{WS}]*)?$", text_max())
}

/// The planning operations' query parameters as enumerations: a cell side is
/// one of three sizes, and the `^(a|b)$` patterns of the handlers' attributes
/// are the values a client may send.
fn planning_params(doc: &mut Value) {
    let Some(paths) = doc.pointer_mut("/paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        if !path.starts_with("/api/planning/") {
            continue;
        }
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for op in ops.values_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in params {
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let Some(schema) = p.get_mut("schema") else {
                    continue;
                };
                if name == "cell" {
                    *schema = json!({"type": "integer", "enum": [100, 250, 1000]});
                    continue;
                }
                let pattern = schema
                    .get("pattern")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                let values = pattern.as_deref().and_then(|x| {
                    let inner = x.strip_prefix("^(")?.strip_suffix(")$")?;
                    inner
                        .split('|')
                        .all(|v| v.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
                        .then(|| inner.split('|').map(str::to_string).collect::<Vec<_>>())
                });
                if let Some(values) = values {
                    *schema = json!({"type": "string", "enum": values});
                }
            }
        }
    }
}

/// How one input property is constrained.
enum Rule {
    /// Optional single-line text (`MAX_TEXT_CHARS`).
    Text,
    /// Required single-line text, not blank.
    RequiredText,
    /// A transfer's reason (at most 500 characters, line feeds allowed).
    Reason {
        required: bool,
    },
    Pattern(String),
    /// A numeric range from the model.
    Range(Bound),
    /// A number with bounds of its own (coordinates).
    Between(f64, f64),
    /// One of the towns and villages.
    ResidenceArea,
}

/// Division-code schemas and others the document refers to.
const AREA_CODE: &str = "AreaCode";
const RESIDENCE_AREA_CODE: &str = "ResidenceAreaCode";
const TRANSFER_DIRECTION: &str = "TransferDirection";
const TRANSFER_STATUS: &str = "TransferStatus";
/// `POST /api/people`'s body: `PersonInput` with the full ID number required.
const PERSON_CREATE: &str = "PersonCreateInput";
/// `POST /api/transfers/{id}/refuse`'s body: a reason is required.
const REFUSAL: &str = "RefusalInput";

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The rules of each input schema's properties.
fn input_rules() -> Vec<(&'static str, &'static str, Rule)> {
    let coords = |s: &'static str| {
        // The city's outline lies inside this box; the outline itself is the
        // rule (described), the box is what a schema can say.
        let (min_lng, min_lat, max_lng, max_lat) = laoxiao_model::jiaxing::city_boundary()
            .map(|b| b.bbox())
            .unwrap_or((-180.0, -90.0, 180.0, 90.0));
        let out = |x: f64, up: bool| {
            let f = 1000.0;
            if up {
                (x * f).ceil() / f
            } else {
                (x * f).floor() / f
            }
        };
        [
            (
                s,
                "lng",
                Rule::Between(out(min_lng, false), out(max_lng, true)),
            ),
            (
                s,
                "lat",
                Rule::Between(out(min_lat, false), out(max_lat, true)),
            ),
        ]
    };
    let mut v = vec![
        ("FacilityInput", "id", Rule::Text),
        ("FacilityInput", "name", Rule::RequiredText),
        ("FacilityInput", "operator_name", Rule::Text),
        (
            "FacilityInput",
            "operator_credit_code",
            Rule::Pattern(credit_code()),
        ),
        ("FacilityInput", "area_code", Rule::ResidenceArea),
        ("FacilityInput", "address", Rule::Text),
        ("FacilityInput", "phone", Rule::Text),
        ("FacilityInput", "beds", Rule::Range(bounds::BEDS)),
        (
            "FacilityInput",
            "nursing_beds",
            Rule::Range(bounds::NURSING_BEDS),
        ),
        (
            "FacilityInput",
            "dementia_beds",
            Rule::Range(bounds::DEMENTIA_BEDS),
        ),
        (
            "FacilityInput",
            "approved_slots",
            Rule::Range(bounds::APPROVED_SLOTS),
        ),
        ("ClassInput", "id", Rule::Text),
        ("ClassInput", "facility_id", Rule::Text),
        (
            "ClassInput",
            "capacity",
            Rule::Range(bounds::CLASS_CAPACITY),
        ),
        (
            "ClassInput",
            "enrolled",
            Rule::Range(bounds::CLASS_ENROLLED),
        ),
        (
            "ClassInput",
            "caregivers",
            Rule::Range(bounds::CLASS_CAREGIVERS),
        ),
        (
            "ClassInput",
            "monthly_fee_fen",
            Rule::Range(bounds::MONTHLY_FEE),
        ),
        ("PersonInput", "id", Rule::Text),
        (
            "PersonInput",
            "id_number",
            Rule::Pattern(id_number(false, true)),
        ),
        ("PersonInput", "name", Rule::RequiredText),
        (
            "PersonInput",
            "hukou_area_code",
            Rule::Pattern(hukou_code()),
        ),
        ("PersonInput", "residence_area_code", Rule::ResidenceArea),
        ("PersonInput", "address", Rule::Text),
        (
            "PersonInput",
            "birth_order",
            Rule::Range(bounds::BIRTH_ORDER),
        ),
        ("PersonInput", "guardian_name", Rule::Text),
        ("PersonInput", "guardian_phone", Rule::Text),
        (
            "TransferInput",
            "id_number",
            Rule::Pattern(id_number(true, false)),
        ),
        ("TransferInput", "to_area_code", Rule::ResidenceArea),
        ("TransferInput", "reason", Rule::Reason { required: true }),
        ("DecisionInput", "reason", Rule::Reason { required: false }),
    ];
    v.extend(coords("FacilityInput"));
    v.extend(coords("PersonInput"));
    v.extend(coords("SiteToSave"));
    v.push(("SiteToSave", "name", Rule::RequiredText));
    v.push(("SiteToSave", "area_code", Rule::ResidenceArea));
    v
}

/// Rules across fields, or on the caller and the stored records, per schema.
fn input_notes() -> Vec<(&'static str, String)> {
    let limits = laoxiao_rules::ClassLimits::embedded()
        .map(|l| {
            ClassType::ALL
                .iter()
                .filter_map(|t| l.get(*t).map(|x| format!("{} {}", t.code(), x.max_size)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    vec![
        (
            "FacilityInput",
            format!(
                "`area_code` is a village for a {village} and a town or village for other kinds, \
                 inside the caller's area; `nursing_beds` and `dementia_beds` are at most `beds`; \
                 `filing_date` is required when `filing_status` is `filed`; `rating_valid_until` \
                 is not before `rating_valid_from`; home-care centres and stations are rated \
                 3a–5a, care homes in stars; `lng` and `lat` come together and lie inside \
                 Jiaxing's boundary (WGS-84); `operator_credit_code` carries a valid check \
                 character (GB 32100); `classes` only for {c1} and {c2}; on `POST` only \
                 city-wide accounts may give an `id`, on `PUT` it equals the path's id.",
                village = FacilityKind::VillageCareStation.code(),
                c1 = FacilityKind::ChildcareInstitution.code(),
                c2 = FacilityKind::KindergartenNurseryClass.code(),
            ),
        ),
        (
            "ClassInput",
            format!(
                "`capacity` is at most the national maximum for the `class_type` ({limits}); \
                 `enrolled` is at most `capacity`; `caregivers` is at least `enrolled` divided \
                 by the type's children per caregiver, rounded up (3, 5, 7; 5 for a mixed-age \
                 class, a dated parameter); `facility_id`, if given, is the facility's id; \
                 class ids are unique within the body, and an id of another facility's class is \
                 a conflict (409)."
            ),
        ),
        (
            "PersonInput",
            "The ID number carries a valid check character and birth date (GB 11643); \
             `birth_date` and `sex` agree with it (they default to it); elderly people are 60 \
             or older today, infants younger than 3; `birth_order` is for infants and \
             `ability_level` for elderly people only; `death_date` is required when `status` \
             is `deceased` and is not before `birth_date`; a `hukou_area_code` beginning 3304 \
             is a Jiaxing division; `lng` and `lat` come together and lie inside Jiaxing's \
             boundary; `residence_area_code` lies inside the caller's area; on `POST` only \
             city-wide accounts may give an `id`, on `PUT` it equals the path's id and \
             `id_number` may be left out or be the masked number as served to keep the stored \
             one."
                .to_string(),
        ),
        (
            "TransferInput",
            "`id_number` carries a valid check character and birth date (GB 11643); \
             `to_area_code` lies inside the caller's area; the person must be registered \
             outside it (422), and live (404)."
                .to_string(),
        ),
    ]
}

/// Query parameters that name a division: any level.
const AREA_PARAMS: &[(&str, &str)] = &[
    ("/api/facilities", "area"),
    ("/api/people", "area"),
    ("/api/areas", "parent"),
    ("/api/areas", "within"),
];

/// Adds the rules to a document's JSON form.
pub fn apply(doc: &mut Value) {
    add_component_schemas(doc);
    planning_params(doc);
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (schema, prop, rule) in input_rules() {
        if let Some(p) = schemas
            .get_mut(schema)
            .and_then(|s| s.pointer_mut(&format!("/properties/{prop}")))
        {
            constrain(p, &rule);
        }
    }
    for (schema, note) in input_notes() {
        if let Some(s) = schemas.get_mut(schema).and_then(Value::as_object_mut) {
            append_description(s, &format!("Rules across fields (422): {note}"));
        }
    }
    // POST /api/people requires the full number; PUT may keep the stored one.
    if let Some(mut create) = schemas.get("PersonInput").cloned() {
        if let Some(p) = create.pointer_mut("/properties/id_number") {
            set(p, "pattern", json!(id_number(true, false)));
            set(
                p,
                "description",
                json!("公民身份号码, 18 characters (a masked number cannot register a person)."),
            );
            if let Some(t) = p.get_mut("type") {
                *t = json!("string");
            }
        }
        if let Some(r) = create.get_mut("required").and_then(Value::as_array_mut) {
            r.push(json!("id_number"));
        }
        schemas.insert(PERSON_CREATE.into(), create);
    }
    // Refusing needs a reason; approving and withdrawing take one optionally.
    if let Some(mut refusal) = schemas.get("DecisionInput").cloned() {
        if let Some(p) = refusal.pointer_mut("/properties/reason") {
            set(p, "type", json!("string"));
            set(p, "pattern", json!(reason_text(true)));
        }
        if let Some(o) = refusal.as_object_mut() {
            o.insert("required".into(), json!(["reason"]));
        }
        schemas.insert(REFUSAL.into(), refusal);
    }
    set_body(doc, "/api/people", "post", PERSON_CREATE);
    set_body(doc, "/api/transfers/{id}/refuse", "post", REFUSAL);
    constrain_parameters(doc);
}

fn set(v: &mut Value, key: &str, x: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.into(), x);
    }
}

/// Appends a sentence to a property's description.
fn note(p: &mut Value, text: &str) {
    if let Some(o) = p.as_object_mut() {
        append_description(o, text);
    }
}

fn append_description(o: &mut Map<String, Value>, text: &str) {
    let d = match o.get("description").and_then(Value::as_str) {
        Some(d) => format!("{d}\n\n{text}"),
        None => text.to_string(),
    };
    o.insert("description".into(), json!(d));
}

fn constrain(p: &mut Value, rule: &Rule) {
    match rule {
        Rule::Text => {
            set(p, "pattern", json!(optional_text()));
            note(
                p,
                &format!(
                    "At most {} characters after trimming; blank is the same as absent.",
                    text_max()
                ),
            );
        }
        Rule::RequiredText => {
            set(p, "minLength", json!(1));
            set(p, "pattern", json!(required_text()));
            note(
                p,
                &format!(
                    "Not blank; at most {} characters after trimming.",
                    text_max()
                ),
            );
        }
        Rule::Reason { required } => {
            set(p, "pattern", json!(reason_text(*required)));
            note(
                p,
                &format!(
                    "At most {} characters after trimming; line breaks allowed.",
                    laoxiao_store::transfers::MAX_REASON
                ),
            );
        }
        Rule::Pattern(re) => {
            set(p, "pattern", json!(re));
        }
        Rule::Range(b) => {
            set(p, "minimum", json!(b.min));
            set(p, "maximum", json!(b.max));
        }
        Rule::Between(lo, hi) => {
            set(p, "minimum", json!(lo));
            set(p, "maximum", json!(hi));
        }
        Rule::ResidenceArea => {
            // Keep what the property says of itself; point it at the codes.
            let mut o = p.as_object().cloned().unwrap_or_default();
            o.remove("type");
            o.insert(
                "$ref".into(),
                json!(format!("#/components/schemas/{RESIDENCE_AREA_CODE}")),
            );
            *p = Value::Object(o);
        }
    }
}

fn add_component_schemas(doc: &mut Value) {
    let areas = laoxiao_model::jiaxing::areas().ok();
    let codes = |levels: &[AreaLevel]| -> Vec<String> {
        areas
            .iter()
            .flat_map(|t| t.all())
            .filter(|a| levels.is_empty() || levels.contains(&a.level))
            .map(|a| a.code.clone())
            .collect()
    };
    let extra = [
        (
            AREA_CODE,
            json!({
                "type": "string",
                "description": "A division code of Jiaxing (city, county, town or village; \
                    `GET /api/areas` lists them).",
                "enum": codes(&[]),
            }),
        ),
        (
            RESIDENCE_AREA_CODE,
            json!({
                "type": "string",
                "description": "The code of a town or village of Jiaxing (`GET /api/areas?level=town`, \
                    `?level=village`).",
                "enum": codes(&[AreaLevel::Town, AreaLevel::Village]),
            }),
        ),
        (
            TRANSFER_DIRECTION,
            json!({
                "type": "string",
                "description": "`incoming`: requests for records you hold; `outgoing`: requests of your area.",
                "enum": ["incoming", "outgoing"],
            }),
        ),
        (
            TRANSFER_STATUS,
            json!({
                "type": "string",
                "enum": laoxiao_store::transfers::TransferStatus::ALL
                    .iter()
                    .map(|s| s.code())
                    .collect::<Vec<_>>(),
            }),
        ),
    ];
    if let Some(s) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in extra {
            s.insert(name.into(), schema);
        }
    }
}

fn set_body(doc: &mut Value, path: &str, method: &str, schema: &str) {
    let pointer = format!(
        "/paths/{}/{method}/requestBody/content/application~1json/schema",
        path.replace('~', "~0").replace('/', "~1")
    );
    if let Some(s) = doc.pointer_mut(&pointer) {
        *s = schema_ref(schema);
    }
}

/// Query parameters: none may be empty; division codes and the transfer
/// filters are enumerations; the area path parameter has its shape.
fn constrain_parameters(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (_, op) in item.iter_mut() {
            let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
                continue;
            };
            for p in params {
                let name = p
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let (name, place) = (
                    name.as_str(),
                    p.get("in")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                );
                let place = place.as_str();
                let replace = match (place, name) {
                    ("query", _) if AREA_PARAMS.contains(&(path.as_str(), name)) => {
                        Some(schema_ref(AREA_CODE))
                    }
                    ("query", "direction") if path == "/api/transfers" => {
                        Some(schema_ref(TRANSFER_DIRECTION))
                    }
                    ("query", "status") if path == "/api/transfers" => {
                        Some(schema_ref(TRANSFER_STATUS))
                    }
                    ("path", "code") if path == "/api/areas/{code}" => Some(json!({
                        "type": "string",
                        "pattern": "^[0-9]{6}(?:[0-9]{3}){0,2}$",
                    })),
                    _ => None,
                };
                let Some(schema) = p.get_mut("schema") else {
                    continue;
                };
                if let Some(r) = replace {
                    *schema = r;
                } else if place == "query" && schema.get("type") == Some(&json!("string")) {
                    // `?q=` is refused like every other empty value.
                    set(schema, "minLength", json!(1));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(p: &str) -> regex::Regex {
        regex::Regex::new(p).expect("pattern")
    }

    static OPTIONAL: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| re(&optional_text()));
    static REQUIRED: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| re(&required_text()));

    #[test]
    fn text_patterns_follow_trim_then_no_control_characters() {
        let opt = re(&optional_text());
        let req = re(&required_text());
        for ok in [
            "",
            "  ",
            "张三",
            " 张三 ",
            "a b",
            "\t张三\n",
            "\u{3000}x\u{a0}",
        ] {
            assert!(opt.is_match(ok), "{ok:?}");
        }
        for bad in ["a\tb", "a\u{1}", "\u{7f}", "x\u{85}y", "a\nb"] {
            assert!(!opt.is_match(bad), "{bad:?}");
        }
        assert!(req.is_match(" 张 三 ") && req.is_match("x"));
        for bad in ["", " ", "\t\n", "a\tb"] {
            assert!(!req.is_match(bad), "{bad:?}");
        }
        let reason = re(&reason_text(true));
        assert!(reason.is_match("第一行\n第二行") && !reason.is_match("a\tb"));
        assert!(!reason.is_match("  ") && re(&reason_text(false)).is_match(""));
        let id = re(&id_number(false, true));
        for ok in [
            "",
            "33040219491231123X",
            " 33040219491231123x ",
            "330402********123X",
        ] {
            assert!(id.is_match(ok), "{ok:?}");
        }
        for bad in [
            "3304021949123112",
            "00040219491231123X",
            "33040218791231123X",
            "33040219491331123X",
        ] {
            assert!(!id.is_match(bad), "{bad:?}");
        }
        assert!(!re(&id_number(true, false)).is_match(""));
        // Numbers the model accepts fit the pattern.
        let full = re(&id_number(true, false));
        for (area, birth, seq) in [("330402", "1949-12-31", 7), ("110101", "2024-02-29", 998)] {
            let birth = chrono::NaiveDate::parse_from_str(birth, "%Y-%m-%d").expect("date");
            let n = laoxiao_model::idcard::make(area, birth, seq);
            assert!(
                laoxiao_model::idcard::parse(&n).is_ok() && full.is_match(&n),
                "{n}"
            );
        }
        assert!(re(&credit_code()).is_match("91330402MA2B3C4D5E"));
        assert!(!re(&credit_code()).is_match("91330402MA2B3C4D5I"));
        assert!(re(&hukou_code()).is_match("110101") && !re(&hukou_code()).is_match("11010"));
    }

    /// What the patterns accept the model accepts (the same trimming and
    /// control-character rule), and what they refuse it refuses.
    #[test]
    fn patterns_agree_with_the_model_on_samples() {
        let samples = [
            "",
            " ",
            "张三",
            " 张三\t",
            "a\u{1}b",
            "\u{85}x",
            "x\u{9f}",
            "a\nb",
            "\u{3000}",
        ];
        let opt = re(&optional_text());
        for s in samples {
            let t = s.trim();
            let mut errs = Vec::new();
            bounds::check_text("f", t, false, &mut errs);
            assert_eq!(opt.is_match(s), errs.is_empty(), "{s:?}");
        }
    }

    proptest::proptest! {
        /// Text: the pattern accepts exactly what trimming and the model's
        /// check accept (length aside), on strings mixing blanks, controls and
        /// ordinary characters.
        #[test]
        fn text_pattern_is_the_model_rule(s in "[ \t\n\r\u{1}\u{1f}\u{7f}\u{85}\u{a0}\u{3000}a张]{0,8}") {
            let t = s.trim();
            let mut errs = Vec::new();
            bounds::check_text("f", t, false, &mut errs);
            proptest::prop_assert_eq!(OPTIONAL.is_match(&s), errs.is_empty());
            proptest::prop_assert_eq!(REQUIRED.is_match(&s), errs.is_empty() && !t.is_empty());
        }

        /// ID numbers: whatever the model accepts fits the pattern (numbers
        /// built near the rules' edges, with their right check character).
        #[test]
        fn id_numbers_the_model_accepts_fit_the_pattern(
            province in 9u32..91,
            rest in 0u32..10_000,
            year in 1870u32..2200,
            month in 0u32..14,
            day in 0u32..33,
            seq in 0u32..1000,
        ) {
            let first17 = format!("{province:02}{rest:04}{year:04}{month:02}{day:02}{seq:03}");
            let check = laoxiao_model::idcard::check_char(&first17).unwrap_or('0');
            let n = format!("{first17}{check}");
            let pattern = re(&id_number(true, false)).is_match(&n);
            if laoxiao_model::idcard::parse(&n).is_ok() {
                proptest::prop_assert!(pattern, "{}", n);
            }
        }
    }

    #[test]
    fn the_document_states_bounds_codes_and_bodies() {
        let doc = serde_json::to_value(crate::openapi::document()).expect("json");
        let s = &doc["components"]["schemas"];
        assert_eq!(s["FacilityInput"]["properties"]["beds"]["minimum"], 0);
        assert_eq!(
            s["FacilityInput"]["properties"]["beds"]["maximum"],
            bounds::BEDS.max
        );
        assert_eq!(s["ClassInput"]["properties"]["capacity"]["minimum"], 1);
        assert_eq!(s["PersonInput"]["properties"]["birth_order"]["minimum"], 1);
        let name = re(s["PersonInput"]["properties"]["name"]["pattern"]
            .as_str()
            .expect("pattern"));
        let longest = "字".repeat(bounds::MAX_TEXT_CHARS);
        assert!(name.is_match(&format!("  {longest}\t")));
        assert!(!name.is_match(&format!("{longest}字")));
        assert_eq!(
            s["PersonInput"]["properties"]["residence_area_code"]["$ref"],
            "#/components/schemas/ResidenceAreaCode"
        );
        let codes = s[AREA_CODE]["enum"].as_array().expect("codes");
        assert!(codes.len() > 1000 && codes.contains(&json!("330402")));
        assert!(
            !s[RESIDENCE_AREA_CODE]["enum"]
                .as_array()
                .expect("codes")
                .contains(&json!("330402"))
        );
        assert!(
            s[PERSON_CREATE]["required"]
                .as_array()
                .expect("required")
                .contains(&json!("id_number"))
        );
        assert_eq!(s[REFUSAL]["required"], json!(["reason"]));
        assert_eq!(
            doc["paths"]["/api/people"]["post"]["requestBody"]["content"]["application/json"]["schema"]
                ["$ref"],
            format!("#/components/schemas/{PERSON_CREATE}")
        );
        let lng = &s["FacilityInput"]["properties"]["lng"];
        assert!(lng["minimum"].as_f64().expect("min") > 120.0);
        assert!(lng["maximum"].as_f64().expect("max") < 122.0);
        // Every numeric range of the model that an input carries is stated.
        for b in [bounds::BEDS, bounds::CLASS_CAREGIVERS, bounds::MONTHLY_FEE] {
            let found = ["FacilityInput", "ClassInput", "PersonInput"]
                .iter()
                .filter_map(|n| s[*n]["properties"].as_object())
                .flat_map(|p| p.values())
                .any(|p| p["maximum"] == json!(b.max) && p["minimum"] == json!(b.min));
            assert!(found, "{}", b.field);
        }
        // Query parameters: no empty strings; division codes and transfer filters enumerated.
        for (path, op) in [("/api/people", "get"), ("/api/facilities", "get")] {
            for p in doc["paths"][path][op]["parameters"]
                .as_array()
                .expect("params")
            {
                let schema = &p["schema"];
                if schema["type"] == "string" && schema.get("format").is_none() {
                    assert_eq!(schema["minLength"], 1, "{path} {}", p["name"]);
                }
                if p["name"] == "area" {
                    assert_eq!(schema["$ref"], "#/components/schemas/AreaCode");
                }
            }
        }
        let transfers = doc["paths"]["/api/transfers"]["get"]["parameters"]
            .as_array()
            .expect("params");
        assert!(
            transfers
                .iter()
                .all(|p| p["schema"]["$ref"].as_str().is_some())
        );
        let notes = s["FacilityInput"]["description"].as_str().expect("text");
        assert!(notes.contains("Rules across fields"), "{notes}");
    }
}
