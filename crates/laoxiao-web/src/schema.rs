//! OpenAPI schemas for the model's code enumerations. The model crate knows nothing of
//! utoipa, so each enumeration gets a marker type here whose schema is a string with
//! the enumeration's identifiers; DTO fields of a model enum type point at it with
//! `#[schema(value_type = …)]`. The values come from the enum's `ALL`, so the document
//! cannot drift from the model.

use std::borrow::Cow;

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

macro_rules! code_enum_schemas {
    ($( $marker:ident => $ty:ty, $name:literal, $doc:literal; )*) => {$(
        #[doc = $doc]
        #[derive(Debug, Clone, Copy)]
        pub struct $marker;

        impl utoipa::PartialSchema for $marker {
            fn schema() -> RefOr<Schema> {
                let values: Vec<&'static str> = <$ty>::ALL.iter().map(|v| v.code()).collect();
                let labels: Vec<String> = <$ty>::ALL
                    .iter()
                    .map(|v| format!("`{}` {} ({})", v.code(), v.label_zh(), v.label_en()))
                    .collect();
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(values))
                    .description(Some(format!("{}: {}.", $doc, labels.join("; "))))
                    .into()
            }
        }

        impl utoipa::ToSchema for $marker {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    )*};
}

code_enum_schemas! {
    AreaLevelSchema => laoxiao_model::AreaLevel, "AreaLevel", "Area level";
    FacilityKindSchema => laoxiao_model::FacilityKind, "FacilityKind", "Facility kind";
    FacilityLevelSchema => laoxiao_model::facility::FacilityLevel, "FacilityLevel",
        "Administrative level of a guidance centre or wellness alliance";
    OwnershipSchema => laoxiao_model::facility::Ownership, "Ownership", "Ownership";
    RatingSchema => laoxiao_model::facility::Rating, "Rating", "Rating (3A–5A or 1–5 stars)";
    FilingStatusSchema => laoxiao_model::facility::FilingStatus, "FilingStatus", "Filing (备案) status";
    FacilityStatusSchema => laoxiao_model::FacilityStatus, "FacilityStatus", "Operating status";
    ClassTypeSchema => laoxiao_model::ClassType, "ClassType", "Childcare class type";
    PersonRoleSchema => laoxiao_model::PersonRole, "PersonRole", "Register";
    SexSchema => laoxiao_model::person::Sex, "Sex", "Sex";
    LivingArrangementSchema => laoxiao_model::person::LivingArrangement, "LivingArrangement",
        "Living arrangement";
    SpecialDifficultySchema => laoxiao_model::person::SpecialDifficulty, "SpecialDifficulty",
        "Special-difficulty category";
    AbilityLevelSchema => laoxiao_model::person::AbilityLevel, "AbilityLevel",
        "Ability level (GB/T 42195-2022), as a string 0–4";
    PersonStatusSchema => laoxiao_model::person::PersonStatus, "PersonStatus", "Register status";
}

/// A schema written as JSON (from a register's declaration) as utoipa's.
fn from_json(name: &str, v: serde_json::Value) -> RefOr<Schema> {
    serde_json::from_value(v).unwrap_or_else(|e| {
        tracing::error!(schema = name, "declared schema not representable: {e}");
        RefOr::T(Schema::Object(ObjectBuilder::new().build()))
    })
}

macro_rules! declared_schemas {
    ($( $marker:ident, $name:literal, $doc:literal => $build:expr; )*) => {$(
        #[doc = $doc]
        #[derive(Debug, Clone, Copy)]
        pub struct $marker;

        impl utoipa::PartialSchema for $marker {
            fn schema() -> RefOr<Schema> {
                from_json($name, $build)
            }
        }

        impl utoipa::ToSchema for $marker {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    )*};
}

fn schema_ref(name: &str) -> serde_json::Value {
    serde_json::json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A facility with its classes, as answered.
fn facility_detail() -> serde_json::Value {
    let mut v = crate::openapi::record_schema(&laoxiao_model::FACILITIES, &[]);
    if let Some(o) = v.as_object_mut() {
        if let Some(p) = o.get_mut("properties").and_then(|p| p.as_object_mut()) {
            p.insert(
                "classes".into(),
                serde_json::json!({"type": "array", "description": "The facility's classes, in id order (empty for kinds without classes).", "items": schema_ref("ClassView")}),
            );
        }
        if let Some(r) = o.get_mut("required").and_then(|r| r.as_array_mut()) {
            r.push("classes".into());
        }
    }
    v
}

/// A facility as created (`POST`) or replaced (`PUT`), with its classes.
fn facility_input() -> serde_json::Value {
    let mut v = crate::openapi::record_schema(&laoxiao_model::FACILITIES, &["id"]);
    if let Some(o) = v.as_object_mut() {
        o.insert("description".into(), "A facility as created (`POST`) or replaced (`PUT`). `PUT` replaces every field: an absent optional field is cleared (or takes its default). On `POST`, leave `id` out: the server assigns one (only city-wide accounts may choose it). On `PUT` it may be absent and otherwise must equal the path's id. `classes`, when present, is the facility's complete set of classes (on `PUT`, classes not listed are removed); when absent the classes are left as they are.".into());
        if let Some(p) = o.get_mut("properties").and_then(|p| p.as_object_mut()) {
            p.insert(
                "classes".into(),
                serde_json::json!({"oneOf": [{"type": "array", "items": schema_ref("ClassInput")}, {"type": "null"}]}),
            );
        }
    }
    v
}

/// A class inside a facility body: `id` left out adds a class; `facility_id`, if given, is the facility's.
fn class_input() -> serde_json::Value {
    let mut v = crate::openapi::record_schema(&laoxiao_model::CLASSES, &["id", "facility_id"]);
    if let Some(o) = v.as_object_mut() {
        o.insert("description".into(), "A childcare class inside a facility body. Leave `id` out to add a class (the server assigns the id; only city-wide accounts may choose a new id); `facility_id`, if given, must be the facility's id.".into());
    }
    v
}

declared_schemas! {
    FacilityViewSchema, "FacilityView", "A facility on the register (from its declaration)."
        => crate::openapi::record_schema(&laoxiao_model::FACILITIES, &[]);
    ClassViewSchema, "ClassView", "A childcare class (from its declaration)."
        => crate::openapi::record_schema(&laoxiao_model::CLASSES, &[]);
    FacilityDetailSchema, "FacilityDetail", "A facility with its live childcare classes."
        => facility_detail();
    FacilityInputSchema, "FacilityInput", "A facility body."
        => facility_input();
    ClassInputSchema, "ClassInput", "A class inside a facility body."
        => class_input();
    FacilityPageSchema, "FacilityPage", "One page of facilities in id order."
        => serde_json::json!({"type": "object", "required": ["items", "next_cursor", "total"], "properties": {
            "items": {"type": "array", "items": schema_ref("FacilityView")},
            "next_cursor": {"oneOf": [{"type": "string"}, {"type": "null"}], "description": "Pass as `after` for the next page; `null` on the last page."},
            "total": {"type": "integer", "format": "int64", "minimum": 0, "description": "How many facilities match the filters (all pages)."}}});
}

/// JSON-schema helpers for the planning answers.
mod plan_schema {
    use serde_json::{Value, json};

    pub fn num() -> Value {
        json!({"type": "number"})
    }
    pub fn opt_num() -> Value {
        json!({"type": ["number", "null"]})
    }
    pub fn int() -> Value {
        json!({"type": "integer", "minimum": 0})
    }
    pub fn text() -> Value {
        json!({"type": "string"})
    }
    pub fn opt_text() -> Value {
        json!({"type": ["string", "null"]})
    }
    pub fn obj(props: Value, required: &[&str]) -> Value {
        json!({"type": "object", "properties": props, "required": required})
    }
    pub fn area_ref() -> Value {
        obj(
            json!({"code": text(), "name": text(), "level": {"type": "string", "enum": ["city", "county", "town", "village"]}}),
            &["code", "name", "level"],
        )
    }
    pub fn reading() -> Value {
        obj(
            json!({
                "date": opt_text(), "params_source": text(), "params_version": text(), "projection": text(),
                "cell_m": {"type": "number", "enum": [100, 250, 1000]},
                "density_basis": {"type": "string", "enum": ["residents", "elderly", "infants"]},
                "density_basis_zh": text(), "density_window_m": num(), "high_above": num(), "medium_from": num(),
                "residents_source": {"type": "string", "enum": ["estimated", "imported"]},
                "with_planned": {"type": "boolean"}, "people": int(), "people_without_point": int(),
                "facilities": int(), "facilities_without_point": int(),
            }),
            &[
                "params_version",
                "cell_m",
                "density_basis",
                "residents_source",
                "with_planned",
                "people",
                "facilities",
            ],
        )
    }
    pub fn counts() -> Value {
        obj(
            json!({"people": int(), "in_scope": int(), "covered": int(), "not_covered": int(), "not_assessed": int()}),
            &[
                "people",
                "in_scope",
                "covered",
                "not_covered",
                "not_assessed",
            ],
        )
    }
    pub fn coverage() -> Value {
        let row = obj(
            json!({"area": text(), "name": text(), "level": text(), "total": counts(),
                   "by_class": {"type": "array", "description": "High, medium and low density (高/中/低密度)", "items": counts(), "minItems": 3, "maxItems": 3}}),
            &["area", "name", "level", "total", "by_class"],
        );
        let cluster = obj(
            json!({"rank": int(), "cells": int(), "people": int(), "lng": num(), "lat": num(), "area": text(), "area_name": text()}),
            &["rank", "cells", "people", "lng", "lat", "area", "area_name"],
        );
        let rule = obj(
            json!({"code": text(), "zh": text(), "en": text(), "kinds": {"type": "array", "items": text()},
                   "population": text(), "high_m": opt_num(), "medium_m": opt_num(), "low_m": opt_num(),
                   "walk": {"type": ["object", "null"]}, "clause": text()}),
            &["code", "zh", "en", "kinds", "clause"],
        );
        let mut v = obj(
            json!({"reading": reading(), "rule": rule, "area": area_ref(),
                   "rows": {"type": "array", "description": "The area first, then the areas directly below it", "items": row},
                   "clusters": {"type": "array", "items": cluster}, "clusters_total": int()}),
            &[
                "reading",
                "rule",
                "area",
                "rows",
                "clusters",
                "clusters_total",
            ],
        );
        v["description"] = json!("Coverage under a distance rule (服务半径覆盖).");
        v
    }
    pub fn cells() -> Value {
        let cell = obj(
            json!({"col": {"type": "integer"}, "row": {"type": "integer"}, "lng": num(), "lat": num(), "area": text(),
                   "elderly": num(), "infants": num(), "residents": num(), "density": num(),
                   "class": {"type": "string", "enum": ["high", "medium", "low"]},
                   "rules": {"type": "array", "items": obj(json!({"rule": text(), "nearest_id": opt_text(), "nearest_m": opt_num(),
                       "centre_covered": {"type": ["boolean", "null"]}, "people": int(), "uncovered": int()}), &["rule", "people", "uncovered"])}}),
            &["col", "row", "lng", "lat", "area", "class", "rules"],
        );
        obj(
            json!({"reading": reading(), "cell_m": num(), "total": int(), "items": {"type": "array", "items": cell}}),
            &["reading", "cell_m", "total", "items"],
        )
    }
    pub fn geojson() -> Value {
        json!({"type": "object", "description": "A GeoJSON FeatureCollection (RFC 7946), WGS-84.",
               "required": ["type", "features"],
               "properties": {"type": {"type": "string", "enum": ["FeatureCollection"]},
                 "features": {"type": "array", "items": {"type": "object", "required": ["type", "geometry", "properties"],
                   "properties": {"type": {"type": "string", "enum": ["Feature"]},
                     "geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {"type": {"type": "string", "enum": ["Point", "Polygon"]}, "coordinates": {"type": "array"}}},
                     "properties": {"type": "object"}}}}}})
    }
    pub fn facility_ref() -> Value {
        obj(
            json!({"id": text(), "name": text(), "kind": text(), "kind_zh": text(), "lng": num(), "lat": num(),
                   "beds": num(), "slots": num(), "area": text(), "planned": {"type": "boolean"}}),
            &["id", "name", "kind", "lng", "lat"],
        )
    }
    pub fn access() -> Value {
        let row = obj(
            json!({"area": text(), "name": text(), "level": text(), "demand": num(), "demand_without_access": num(),
                   "mean": opt_num(), "mean_per_1000": opt_num()}),
            &["area", "name", "level", "demand", "demand_without_access"],
        );
        let cell = obj(
            json!({"col": {"type": "integer"}, "row": {"type": "integer"}, "lng": num(), "lat": num(), "demand": num(), "value": opt_num()}),
            &["col", "row", "lng", "lat", "demand", "value"],
        );
        let mut v = obj(
            json!({"reading": reading(), "side": {"type": "string", "enum": ["beds", "slots"]},
                   "demand": {"type": "string", "enum": ["elderly", "infants", "residents"]},
                   "radius_m": num(), "decay": text(), "area": area_ref(),
                   "rows": {"type": "array", "items": row}, "unserved": {"type": "array", "items": facility_ref()},
                   "millis": num(), "cells": {"type": "array", "description": "With `cells=true`: the area's cells; `value` null where no facility is in reach", "items": cell}}),
            &[
                "reading", "side", "demand", "radius_m", "decay", "area", "rows", "unserved",
            ],
        );
        v["description"] = json!("Accessibility (可达性) by 2SFCA / E2SFCA.");
        v
    }
    pub fn slots() -> Value {
        let row = obj(
            json!({"area": text(), "name": text(), "level": text(), "residents": num(), "slots": num(),
                   "per_1000": opt_num(), "norm_per_1000": num(), "gap": num(),
                   "status": {"type": "string", "enum": ["met", "short", "no_residents"]}}),
            &[
                "area",
                "name",
                "level",
                "residents",
                "slots",
                "norm_per_1000",
                "gap",
                "status",
            ],
        );
        obj(
            json!({"reading": reading(), "area": area_ref(), "clause": text(), "rows": {"type": "array", "items": row}}),
            &["reading", "area", "clause", "rows"],
        )
    }
    pub fn site_to_save() -> Value {
        json!({"type": "object", "additionalProperties": false,
               "required": ["name", "kind", "lng", "lat", "area_code"],
               "properties": {
                 "name": {"type": "string", "maxLength": 100},
                 "kind": {"$ref": "#/components/schemas/FacilityKind"},
                 "lng": {"type": "number"},
                 "lat": {"type": "number"},
                 "area_code": {"type": "string", "pattern": "^[0-9]{9}([0-9]{3})?$", "description": "The town, or (a village care station) the village the site lies in"},
                 "beds": {"type": ["integer", "null"], "minimum": 0, "maximum": 100000},
                 "approved_slots": {"type": ["integer", "null"], "minimum": 0, "maximum": 100000}}})
    }
    pub fn saved_sites() -> Value {
        obj(json!({"ids": {"type": "array", "items": text()}}), &["ids"])
    }
    pub fn siting() -> Value {
        let site = obj(
            json!({"rank": int(), "name": text(), "source": {"type": "string", "enum": ["town_centre", "village_centre", "grid", "file"]},
                   "lng": num(), "lat": num(), "area": text(), "area_name": text(), "kind": text(),
                   "gain": num(), "slots": opt_num(), "need_in_reach": opt_num()}),
            &[
                "rank",
                "name",
                "source",
                "lng",
                "lat",
                "area",
                "area_name",
                "kind",
                "gain",
            ],
        );
        let mut v = obj(
            json!({"reading": reading(), "area": area_ref(), "mode": {"type": "string", "enum": ["count", "target", "slots"]},
                   "rule": opt_text(), "candidates": int(), "demand_cells": int(),
                   "in_scope": num(), "covered_before": num(), "covered_after": num(),
                   "upper_bound": opt_num(), "gap": opt_num(), "optimal": {"type": ["boolean", "null"]},
                   "nodes": {"type": ["integer", "null"], "minimum": 0},
                   "slots_needed": opt_num(), "slots_proposed": opt_num(),
                   "sites": {"type": "array", "items": site}, "millis": num()}),
            &[
                "reading",
                "area",
                "mode",
                "candidates",
                "in_scope",
                "covered_before",
                "covered_after",
                "sites",
                "millis",
            ],
        );
        v["description"] = json!(
            "The siting tool's answer (选址). Slots mode: `in_scope` is the county's residents, `covered_before`/`covered_after` its slots."
        );
        v
    }
    pub fn grid_info() -> Value {
        json!({"oneOf": [{"type": "null"}, obj(
            json!({"points": int(), "residents": num(), "source": text(), "imported_at": text(), "imported_by": text()}),
            &["points", "residents", "source", "imported_at", "imported_by"],
        )], "description": "The imported resident grid (常住人口网格), or null when none is in force"})
    }
}

declared_schemas! {
    CoverageReportSchema, "CoverageReport", "Coverage of an area under a distance rule."
        => plan_schema::coverage();
    PlanningCellsSchema, "PlanningCells", "The cells of the gap map."
        => plan_schema::cells();
    GeoJsonSchema, "GeoJsonFeatureCollection", "A GeoJSON FeatureCollection."
        => plan_schema::geojson();
    AccessReportSchema, "AccessReport", "Accessibility by area."
        => plan_schema::access();
    SlotsReportSchema, "SlotsReport", "The slot table."
        => plan_schema::slots();
    SiteToSaveSchema, "SiteToSave", "A site to save as a planned facility."
        => plan_schema::site_to_save();
    SavedSitesSchema, "SavedSites", "The saved facilities' ids."
        => plan_schema::saved_sites();
    GridInfoSchema, "GridInfo", "The resident grid in force."
        => plan_schema::grid_info();
    SitingReportSchema, "SitingReport", "The siting tool's answer."
        => plan_schema::siting();
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::{PartialSchema, ToSchema};

    #[test]
    fn enum_schemas_list_the_identifiers() {
        assert_eq!(FacilityKindSchema::name(), "FacilityKind");
        let json = serde_json::to_value(FacilityKindSchema::schema()).expect("json");
        let values = json["enum"].as_array().expect("enum");
        assert_eq!(values.len(), laoxiao_model::FacilityKind::ALL.len());
        assert!(values.iter().any(|v| v == "elderly_institution"));
    }
}
