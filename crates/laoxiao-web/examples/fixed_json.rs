//! The baseline of the portal search benchmark (bench/portal.sh): a minimal
//! axum server answering one fixed JSON document, on the same runtime
//! settings as laoxiao (tokio multi-thread, one worker per core).
//!
//!     cargo run --release -p laoxiao-web --example fixed_json -- 127.0.0.1:18950

use axum::Router;
use axum::http::header;
use axum::routing::get;

/// About the size of a page of search results (20 places).
fn document() -> String {
    let place = r#"{"ref":"0123456789ab","name":"嘉兴市南湖区示例养老院","kind":"elderly_institution","area_code":"330402001","address":"南湖路1号","lng":120.76,"lat":30.76,"distance_m":955,"rating":"star3","inclusive":false,"fee_min_fen":300000,"fee_max_fen":300000,"beds":120,"free_beds":9,"approved_slots":null,"free_slots":null,"status":"operating","opening_hours":"24/7","public_phone":"0573-82000001"}"#;
    let places: Vec<&str> = std::iter::repeat_n(place, 20).collect();
    format!(
        r#"{{"total":240,"page":1,"places":[{}]}}"#,
        places.join(",")
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18950".into());
    let body: &'static str = Box::leak(document().into_boxed_str());
    let app = Router::new().route(
        "/fixed.json",
        get(move || async move { ([(header::CONTENT_TYPE, "application/json")], body) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
