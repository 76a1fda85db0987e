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
