//! Domain types of laoxiao (一老一小): areas, facilities, people, and the
//! validation of the codes they carry. No I/O: the store, engines and web
//! crates build on these types.

pub mod activity;
pub mod alarms;
pub mod area;
pub mod bounds;
pub mod check;
pub mod childcare_bills;
pub mod childcare_day;
pub mod codes;
pub mod columns;
pub mod credit_code;
pub mod error;
pub mod facility;
pub mod family;
pub mod hours;
pub mod idcard;
pub mod jiaxing;
pub mod person;
#[cfg(test)]
mod proptests;
pub mod refs;
pub mod register;
pub mod visit;

pub use activity::{
    Enrolment, HomeCareContract, InsuranceEnrolment, InsuranceKind, Residence, ServiceKind,
    ServiceRecord, Staff, StudentCohort,
};
pub use area::{Area, AreaLevel, AreaTree};
pub use check::{Checker, ClassSizeRule};
pub use error::{FieldError, ModelError};
pub use facility::{
    CLASSES, CareType, ChildcareClass, ClassType, FACILITIES, Facility, FacilityKind,
    FacilityStatus,
};
pub use person::{Person, PersonRole};
pub use register::{Record, Rules};
