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
