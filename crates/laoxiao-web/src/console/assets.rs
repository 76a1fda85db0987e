//! Static files compiled into the binary: stylesheet, scripts, vendored ECharts and
//! htmx (with their licences), and the county boundaries for the maps.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// (path under `/console/static/`, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/static/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/static/console.js"),
    ),
    (
        "portal.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/static/portal.js"),
    ),
    (
        "vendor/echarts.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/echarts.min.js"),
    ),
    (
        "vendor/htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx.min.js"),
    ),
    (
        "vendor/echarts.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/vendor/echarts.LICENSE"),
    ),
    (
        "vendor/echarts.NOTICE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/vendor/echarts.NOTICE"),
    ),
    (
        "vendor/echarts.LICENSE-d3",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/vendor/echarts.LICENSE-d3"),
    ),
    (
        "vendor/htmx.LICENSE",
        "text/plain; charset=utf-8",
        include_bytes!("../../assets/vendor/htmx.LICENSE"),
    ),
];

/// `GET /console/static/{*path}`.
pub async fn serve(Path(path): Path<String>) -> Response {
    if path == "geo/jiaxing.json" {
        let mut r = laoxiao_model::jiaxing::boundaries_geojson().into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/geo+json"),
        );
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=3600"),
        );
        return r;
    }
    match FILES.iter().find(|(p, _, _)| *p == path) {
        Some((_, ct, bytes)) => {
            let mut r = (*bytes).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            r
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
