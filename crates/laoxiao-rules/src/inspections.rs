//! Random inspections (双随机、一公开, `random_inspection`): the reproducible
//! draw ([`draw`]) and the checklists per facility kind ([`checklists`]).
//! Pure rules: no SQL, no IO; the store keeps plans and records
//! (`laoxiao_store::inspections`), `docs/inspections.md` explains them.

pub mod checklists;
pub mod draw;
