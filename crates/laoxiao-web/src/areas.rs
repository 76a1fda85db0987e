//! The area register (行政区划), read-only: `GET /api/areas`, `GET /api/areas/{code}`.

use axum::Json;
use axum::extract::State;
use laoxiao_model::{Area, AreaLevel, FieldError};
use laoxiao_store::areas;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiPath, ApiQuery, query_params};
use crate::schema::AreaLevelSchema;
use crate::{AppState, blocking};

/// An administrative area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AreaView {
    /// Division code: 6 digits for city and county, 9 for town, 12 for village.
    #[schema(example = "330402007")]
    pub code: String,
    pub name: String,
    #[schema(value_type = AreaLevelSchema)]
    pub level: AreaLevel,
    /// The parent's code (the city's parent is the province, 330000, outside the tree).
    pub parent_code: Option<String>,
    /// Codes from the city down, `/330400/330402/330402007/`.
    pub path: String,
    /// 城乡分类代码 (111 … 220), villages only, where known.
    pub urban_rural_code: Option<u16>,
    /// Centre longitude, WGS-84, where known.
    pub lng: Option<f64>,
    /// Centre latitude, WGS-84, where known.
    pub lat: Option<f64>,
}

impl From<Area> for AreaView {
    fn from(a: Area) -> Self {
        AreaView {
            code: a.code,
            name: a.name,
            level: a.level,
            parent_code: a.parent_code,
            path: a.path,
            urban_rural_code: a.urban_rural_code,
            lng: a.centre.map(|c| c.0),
            lat: a.centre.map(|c| c.1),
        }
    }
}

/// One area with its breadcrumbs and how many areas sit directly below it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AreaDetail {
    #[serde(flatten)]
    pub area: AreaView,
    /// The chain from the city down to the parent (the area itself not included).
    pub ancestors: Vec<AreaView>,
    /// Number of direct children.
    pub child_count: i64,
}

/// A list of areas, in code order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AreaList {
    pub items: Vec<AreaView>,
    pub total: i64,
}

query_params! {
    /// Filters for `GET /api/areas`; all combine.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AreaListParams {
        /// Only the direct children of this area code.
        pub parent: Option<String>,
        /// Only areas at this level.
        #[param(value_type = Option<AreaLevelSchema>)]
        pub level: Option<AreaLevel>,
        /// Only areas in the subtree of this code (the area itself included).
        pub within: Option<String>,
    }
}

/// Area codes are 6, 9 or 12 digits.
fn is_area_code(s: &str) -> bool {
    matches!(s.len(), 6 | 9 | 12) && s.bytes().all(|b| b.is_ascii_digit())
}

/// List areas.
#[utoipa::path(
    get,
    path = "/api/areas",
    operation_id = "list_areas",
    tag = "areas",
    params(AreaListParams),
    responses(
        (status = 200, description = "Areas in code order", body = AreaList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<AreaListParams>,
) -> Result<Json<AreaList>, ApiError> {
    let mut errs = Vec::new();
    for (name, v) in [("parent", &p.parent), ("within", &p.within)] {
        if let Some(code) = v
            && state.store.reference.areas.get(code).is_none()
        {
            errs.push(FieldError::new(name, format!("unknown area code {code:?}")));
        }
    }
    if !errs.is_empty() {
        return Err(ApiError::InvalidQuery(errs));
    }
    let items = blocking(&state, move |c, _| {
        Ok(areas::list(
            c,
            p.parent.as_deref(),
            p.level,
            p.within.as_deref(),
        )?)
    })
    .await?;
    let items: Vec<AreaView> = items.into_iter().map(AreaView::from).collect();
    Ok(Json(AreaList {
        total: items.len() as i64,
        items,
    }))
}

/// One area with its ancestors and child count.
#[utoipa::path(
    get,
    path = "/api/areas/{code}",
    operation_id = "get_area",
    tag = "areas",
    params(("code" = String, Path, description = "Division code (6, 9 or 12 digits)", example = "330402007")),
    responses(
        (status = 200, description = "The area", body = AreaDetail),
        (status = 404, description = "No such area (a value that is not 6, 9 or 12 digits names none either)", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<AreaDetail>, ApiError> {
    // Not found rather than a bad request: a client that checks the code's
    // shape (the document's pattern) still gets a not-found for a code that
    // names nothing, and one that does not gets the same answer.
    if !is_area_code(&code) {
        return Err(ApiError::Store(laoxiao_store::StoreError::NotFound {
            what: "area (codes are 6, 9 or 12 digits)",
            id: code,
        }));
    }
    let detail = blocking(&state, move |c, _| {
        let area = areas::get(c, &code)?;
        let mut ancestors = Vec::new();
        for anc in area
            .path
            .split('/')
            .filter(|s| !s.is_empty() && *s != area.code)
        {
            ancestors.push(AreaView::from(areas::get(c, anc)?));
        }
        let child_count = areas::child_count(c, &area.code)?;
        Ok(AreaDetail {
            area: AreaView::from(area),
            ancestors,
            child_count,
        })
    })
    .await?;
    Ok(Json(detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_codes_have_6_9_or_12_digits() {
        assert!(is_area_code("330402"));
        assert!(is_area_code("330402007"));
        assert!(is_area_code("330402007001"));
        assert!(!is_area_code("33040"));
        assert!(!is_area_code("33040200x"));
    }
}
