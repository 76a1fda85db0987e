//! Extractors whose every failure is the API's JSON error with per-field details:
//! [`ApiJson`] for bodies, [`ApiQuery`] for query strings, [`ApiPath`] for path
//! parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

// ---------------------------------------------------------------------------
// Query strings

/// A type a single query parameter parses into. Values are taken as sent (no
/// trimming): the OpenAPI document states each parameter's type, format, bounds
/// or values, and what it refuses the parser refuses too (an empty value is
/// refused for every type, see [`QueryPairs::take`]).
pub trait QueryValue: Sized {
    /// Parses the (already percent-decoded, non-empty) value; the error is the reason shown.
    fn parse_value(s: &str) -> Result<Self, String>;
}

impl QueryValue for String {
    fn parse_value(s: &str) -> Result<Self, String> {
        Ok(s.to_string())
    }
}

impl QueryValue for u32 {
    fn parse_value(s: &str) -> Result<Self, String> {
        // Digits only: `u32::from_str` would also take `+5`.
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("expected a whole number, got {s:?}"));
        }
        s.parse()
            .map_err(|_| format!("expected a whole number, got {s:?}"))
    }
}

impl QueryValue for i64 {
    fn parse_value(s: &str) -> Result<Self, String> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("expected an integer, got {s:?}"));
        }
        s.parse()
            .map_err(|_| format!("expected an integer, got {s:?}"))
    }
}

impl QueryValue for bool {
    fn parse_value(s: &str) -> Result<Self, String> {
        // As the document's `type: boolean` serialises: nothing else.
        match s {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("expected true or false, got {s:?}")),
        }
    }
}

impl QueryValue for NaiveDate {
    fn parse_value(s: &str) -> Result<Self, String> {
        // `format: date` is exactly YYYY-MM-DD (chrono's parser alone would
        // also take `2024-1-5`).
        let b = s.as_bytes();
        let shaped = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        shaped
            .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .flatten()
            .ok_or_else(|| format!("expected a date as YYYY-MM-DD, got {s:?}"))
    }
}

macro_rules! code_enum_query_value {
    ($($t:ty),* $(,)?) => {$(
        impl QueryValue for $t {
            fn parse_value(s: &str) -> Result<Self, String> {
                // The identifier only, as the document's enum lists it (the
                // model's own parser also takes labels, for imports).
                <$t>::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code() == s)
                    .ok_or_else(|| {
                        format!("unknown value {s:?}; expected one of: {}", <$t>::expected())
                    })
            }
        }
    )*};
}

code_enum_query_value!(
    laoxiao_model::AreaLevel,
    laoxiao_model::FacilityKind,
    laoxiao_model::FacilityStatus,
    laoxiao_model::facility::Ownership,
    laoxiao_model::facility::Rating,
    laoxiao_model::facility::FilingStatus,
    laoxiao_model::PersonRole,
    laoxiao_model::person::SpecialDifficulty,
    laoxiao_model::person::AbilityLevel,
    laoxiao_model::person::LivingArrangement,
    laoxiao_model::person::PersonStatus,
);

/// The decoded `name=value` pairs of a query string, taken one parameter at a time.
/// Parse failures, repeated parameters and (at [`QueryPairs::finish`]) parameters no
/// one took are collected as field errors, so one answer lists every problem.
#[derive(Debug, Default)]
pub struct QueryPairs {
    pairs: Vec<(String, String)>,
    taken: Vec<bool>,
    errors: Vec<FieldError>,
}

impl QueryPairs {
    /// Decodes the query of `uri` (no query is an empty set).
    pub fn from_uri(uri: &Uri) -> Result<Self, ApiError> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map_err(|e| ApiError::InvalidQuery(vec![FieldError::new("query", e.body_text())]))?;
        let taken = vec![false; pairs.len()];
        Ok(QueryPairs {
            pairs,
            taken,
            errors: Vec::new(),
        })
    }

    fn value<T: QueryValue>(&self, name: &str) -> (Vec<usize>, Option<Result<T, String>>) {
        let idx: Vec<usize> = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(_, (k, _))| k == name)
            .map(|(i, _)| i)
            .collect();
        let parsed = match idx.as_slice() {
            [] => None,
            [i] => {
                let v = &self.pairs[*i].1;
                // `?as_of=` is neither a date nor "no filter" to a client
                // generated from the document: leave the parameter out instead.
                if v.is_empty() {
                    Some(Err(
                        "is empty: give a value or leave the parameter out".to_string()
                    ))
                } else {
                    Some(T::parse_value(v))
                }
            }
            _ => Some(Err("given more than once".to_string())),
        };
        (idx, parsed)
    }

    /// Takes parameter `name`: absent is `None`; a bad or empty value is recorded.
    pub fn take<T: QueryValue>(&mut self, name: &str) -> Option<T> {
        let (idx, parsed) = self.value::<T>(name);
        for i in idx {
            self.taken[i] = true;
        }
        match parsed {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(reason)) => {
                self.errors.push(FieldError::new(name, reason));
                None
            }
        }
    }

    /// Reads parameter `name` without taking it; a bad value reads as `None`.
    pub fn peek<T: QueryValue>(&mut self, name: &str) -> Option<T> {
        self.value::<T>(name).1.and_then(Result::ok)
    }

    /// Fails with every recorded error, plus one per parameter nobody took.
    pub fn finish(mut self) -> Result<(), ApiError> {
        let mut unknown: Vec<&str> = self
            .pairs
            .iter()
            .zip(&self.taken)
            .filter(|(_, t)| !**t)
            .map(|((k, _), _)| k.as_str())
            .collect();
        unknown.dedup();
        for k in unknown {
            self.errors
                .push(FieldError::new(k, "unknown query parameter".to_string()));
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::InvalidQuery(self.errors))
        }
    }
}

/// Built from a query string, one parameter at a time.
pub trait FromQuery: Sized {
    fn from_query(q: &mut QueryPairs) -> Self;
}

/// Declares a query-parameter struct (every field `Option<T>` with `T: QueryValue`)
/// and its [`FromQuery`] impl, so the parameter names the parser accepts are the
/// field names the OpenAPI document lists.
macro_rules! query_params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : Option<$ty:ty> ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name { $( $(#[$fmeta])* pub $field: Option<$ty> ),* }

        impl $crate::extract::FromQuery for $name {
            fn from_query(q: &mut $crate::extract::QueryPairs) -> Self {
                $name { $( $field: q.take::<$ty>(stringify!($field)) ),* }
            }
        }
    };
}
pub(crate) use query_params;

/// Query parameters, parsed by [`FromQuery`]; unknown parameters are rejected.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<T: FromQuery> ApiQuery<T> {
    pub fn from_uri(uri: &Uri) -> Result<Self, ApiError> {
        let mut q = QueryPairs::from_uri(uri)?;
        let v = T::from_query(&mut q);
        q.finish()?;
        Ok(ApiQuery(v))
    }
}

impl<S: Send + Sync, T: FromQuery> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        ApiQuery::from_uri(&parts.uri)
    }
}

/// Largest page the store serves.
pub const MAX_LIMIT: u32 = 1000;

/// A page size, 1–[`MAX_LIMIT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(pub u32);

impl QueryValue for PageLimit {
    fn parse_value(s: &str) -> Result<Self, String> {
        let n = u32::parse_value(s)?;
        if (1..=MAX_LIMIT).contains(&n) {
            Ok(PageLimit(n))
        } else {
            Err(format!("must be between 1 and {MAX_LIMIT} (got {n})"))
        }
    }
}

/// An age in whole years, 0–[`MAX_AGE`] (larger values are typos, and would overflow
/// the store's date arithmetic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgeYears(pub u32);

/// Largest age a filter accepts.
pub const MAX_AGE: u32 = 150;

impl QueryValue for AgeYears {
    fn parse_value(s: &str) -> Result<Self, String> {
        let n = u32::parse_value(s)?;
        if n <= MAX_AGE {
            Ok(AgeYears(n))
        } else {
            Err(format!("must be at most {MAX_AGE} (got {n})"))
        }
    }
}

// ---------------------------------------------------------------------------
// Path parameters

/// A path parameter; a value that cannot be decoded is 400 `invalid_path`.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::InvalidPath(FieldError::new(
                "path",
                e.body_text(),
            ))),
        }
    }
}

// ---------------------------------------------------------------------------
// JSON bodies

/// A JSON body. Wrong content type → 415, too large → 413, not JSON → 400
/// `malformed_json`, JSON of the wrong shape or type → 422 `validation_failed` with the
/// offending field's path (`classes[0].capacity`).
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

fn is_json_content_type(v: &str) -> bool {
    let mime = v
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        match ct.as_deref() {
            Some(v) if is_json_content_type(v) => {}
            Some(v) => return Err(ApiError::UnsupportedMediaType(format!("{v:?}"))),
            None => return Err(ApiError::UnsupportedMediaType("no Content-Type".into())),
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge {
                    limit: state.config.max_body_bytes,
                }
            } else {
                ApiError::BadRequest(format!(
                    "could not read the request body: {}",
                    e.body_text()
                ))
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Trims a body's text field; blank is absent.
pub(crate) fn text(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// Parses a JSON object body, mapping errors as [`ApiJson`] documents. Other JSON
/// values are rejected: serde would otherwise read an array as a struct's fields in
/// order.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map_err(|e| ApiError::MalformedJson(e.to_string()))?;
        return Err(ApiError::invalid(vec![FieldError::new(
            "body",
            "expected a JSON object",
        )]));
    }
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    integral_numbers(&mut value);
    serde_path_to_error::deserialize(value).map_err(body_error)
}

/// `2939.0` is an integer to JSON Schema (and to the OpenAPI document's
/// `type: integer`); serde would refuse it for an `i64`. Numbers without a
/// fraction become integers (a float field takes them as well).
fn integral_numbers(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(x) = n.as_f64()
                && x.fract() == 0.0
                && (-9_007_199_254_740_992.0..=9_007_199_254_740_992.0).contains(&x)
            {
                // Within ±2^53 every such float is exactly an integer.
                *v = Value::from(x as i64);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(integral_numbers),
        Value::Object(o) => o.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// serde_json appends " at line L column C" to data errors; the field path says more.
fn strip_position(msg: &str) -> &str {
    msg.rfind(" at line ").map(|i| &msg[..i]).unwrap_or(msg)
}

/// The name between the first pair of backticks: serde's "missing field `x`".
fn backticked(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(&msg[start..start + len])
}

fn join_path(path: &str, field: &str) -> String {
    if path.is_empty() || path == "." {
        field.to_string()
    } else if path == field || path.ends_with(&format!(".{field}")) {
        path.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn body_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.classify() != serde_json::error::Category::Data {
        return ApiError::MalformedJson(inner.to_string());
    }
    let full = inner.to_string();
    let msg = strip_position(&full);
    let (field, reason) = if let Some(rest) = msg.strip_prefix("missing field ") {
        (
            join_path(&path, backticked(rest).unwrap_or(rest)),
            "is required".to_string(),
        )
    } else if let Some(rest) = msg.strip_prefix("unknown field ") {
        let name = backticked(rest).unwrap_or(rest);
        let expected = rest.split_once(", ").map(|(_, e)| e).unwrap_or("");
        (
            join_path(&path, name),
            if expected.is_empty() {
                "unknown field".to_string()
            } else {
                format!("unknown field; {expected}")
            },
        )
    } else if path == "." {
        ("body".to_string(), msg.to_string())
    } else {
        (path, msg.to_string())
    };
    ApiError::invalid(vec![FieldError::new(field, reason)])
}

#[cfg(test)]
mod tests {
    use super::*;

    query_params! {
        #[derive(Debug)]
        pub struct P {
            pub limit: Option<u32>,
            pub flag: Option<bool>,
            pub kind: Option<laoxiao_model::FacilityKind>,
        }
    }

    fn parse(q: &str) -> Result<P, ApiError> {
        let uri: Uri = format!("/x?{q}").parse().expect("uri");
        ApiQuery::<P>::from_uri(&uri).map(|ApiQuery(p)| p)
    }

    fn fields(e: ApiError) -> Vec<String> {
        e.body()
            .error
            .details
            .into_iter()
            .map(|d| d.field)
            .collect()
    }

    #[test]
    fn query_params_parse_and_report_each_bad_one() {
        let p = parse("limit=5&flag=true&kind=sunflower_hut").expect("ok");
        assert_eq!(p.limit, Some(5));
        assert_eq!(p.flag, Some(true));
        assert_eq!(p.kind, Some(laoxiao_model::FacilityKind::SunflowerHut));
        let e = parse("kind=&limit=").expect_err("empty is not absent");
        assert_eq!(fields(e), vec!["limit", "kind"]);
        let e = parse("limit=ten&kind=hospital&colour=red&flag=1&flag=0").expect_err("bad");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(fields(e), vec!["limit", "flag", "kind", "colour"]);
        // Only what the document's types allow: no blanks, signs, labels or short dates.
        for q in [
            "limit=%205",
            "limit=+5",
            "flag=1",
            "flag=TRUE",
            "kind=Sunflower%20hut",
            "kind=%20sunflower_hut",
        ] {
            assert!(parse(q).is_err(), "{q}");
        }
        assert_eq!(NaiveDate::parse_value("2024-1-5").ok(), None);
        assert_eq!(
            NaiveDate::parse_value("2024-01-05").ok(),
            NaiveDate::from_ymd_opt(2024, 1, 5)
        );
        assert_eq!(i64::parse_value("-12"), Ok(-12));
        assert!(i64::parse_value("-").is_err() && i64::parse_value("+1").is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        capacity: i64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        #[serde(default)]
        classes: Vec<Inner>,
    }

    fn body_err(s: &str) -> (StatusCode, String, Vec<String>) {
        let e = parse_json::<Body>(s.as_bytes()).expect_err("should fail");
        let b = e.body();
        (e.status(), b.error.code, fields(e))
    }

    #[test]
    fn body_errors_name_the_field() {
        assert!(parse_json::<Body>(br#"{"name":"x","classes":[{"capacity":3}]}"#).is_ok());
        let (s, code, _) = body_err(r#"{"name": "x""#);
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::BAD_REQUEST, "malformed_json")
        );
        let (s, _, _) = body_err(r#"{"name": "x"} trailing"#);
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, code, f) = body_err(r#"{"name":"x","classes":[{"capacity":"many"}]}"#);
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code, "validation_failed");
        assert_eq!(f, vec!["classes[0].capacity"]);
        let (_, _, f) = body_err(r#"{"classes":[]}"#);
        assert_eq!(f, vec!["name"]);
        let (_, _, f) = body_err(r#"{"name":"x","colour":1}"#);
        assert_eq!(f, vec!["colour"]);
        let (_, _, f) = body_err(r#"{"name":"x","classes":[{"capacity":1,"size":2}]}"#);
        assert_eq!(f, vec!["classes[0].size"]);
        let (s, _, f) = body_err(r#"["x", []]"#);
        assert_eq!(
            (s, f),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["body".to_string()])
        );
        let (s, code, _) = body_err("[1");
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::BAD_REQUEST, "malformed_json")
        );
        let (s, code, _) = body_err("  ");
        assert_eq!(
            (s, code.as_str()),
            (StatusCode::BAD_REQUEST, "malformed_json")
        );
        // A number without a fraction is an integer, as JSON Schema has it.
        assert!(parse_json::<Body>(br#"{"name":"x","classes":[{"capacity":3.0}]}"#).is_ok());
        let (_, _, f) = body_err(r#"{"name":"x","classes":[{"capacity":3.5}]}"#);
        assert_eq!(f, vec!["classes[0].capacity"]);
        let (_, _, f) = body_err(r#"{"name":"x","classes":[{"capacity":1e300}]}"#);
        assert_eq!(f, vec!["classes[0].capacity"]);
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("Application/JSON; charset=utf-8"));
        assert!(is_json_content_type("application/merge-patch+json"));
        assert!(!is_json_content_type("text/plain"));
        assert!(!is_json_content_type("application/x-www-form-urlencoded"));
    }
}
