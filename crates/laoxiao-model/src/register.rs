//! Register declarations (登记册): each kind of record the city keeps is
//! declared once, as a static [`Register`] with its [`Field`]s, and everything
//! generic reads that table: import and export columns, templates and their
//! 填写说明 sheet, the store's SQL (by column name), the API's filters and
//! OpenAPI schemas, the console's list, detail and form pages, masking of
//! personal fields, the audit trail and the scope rule.
//!
//! The [`register!`](crate::register!) macro declares a record type and its
//! register in one go: each struct field is written once, with the builder that
//! describes it. Rules that involve more than one field stay in plain Rust,
//! beside the declaration, as the record's [`Rules`] implementation.
//!
//! ```ignore
//! laoxiao_model::register! {
//!     /// A staff member (从业人员) of a facility.
//!     pub struct Staff in STAFF {
//!         key: "staff", table: "staff", zh: "从业人员", en: "Staff",
//!         scope: ScopeRule::Facility("facility_id"), domain: Domain::Facilities,
//!     }
//!     fields {
//!         id: String = id(),
//!         facility_id: String = reference("用人单位编号", "Employer", "facilities").required(),
//!         name: String = text("姓名", "Name").required().personal().search(),
//!         hired_date: NaiveDate = date("入职日期", "Hired").required().filter(),
//!     }
//! }
//! ```

use chrono::NaiveDate;

use crate::bounds::{self, Bound};
use crate::check::Checker;
use crate::error::FieldError;

/// One value of an enumeration: glossary identifier, Chinese and English label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// The type of a field, with the bounds its values must keep.
#[derive(Debug, Clone, Copy)]
pub enum FieldType {
    /// Single-line text, at most [`bounds::MAX_TEXT_CHARS`] characters.
    Text,
    /// Multi-line text (notes), at most [`bounds::MAX_NOTE_CHARS`] characters.
    Note,
    /// A whole number within a bound.
    Int(&'static Bound),
    /// An amount of money held in fen (分), written in yuan in files and forms.
    Money(&'static Bound),
    /// A decimal number (coordinates).
    Decimal { min: f64, max: f64 },
    /// `YYYY-MM-DD`.
    Date,
    /// `true`/`false` (是/否 in files).
    Bool,
    /// One of the values.
    Enum(&'static [EnumValue]),
    /// Several of the values (`;`, `；`, `、` or `|` in files).
    EnumList(&'static [EnumValue]),
    /// The id of a record of another register (its key).
    Ref(&'static str),
    /// An administrative division code (GB/T 2260 and its town/village extension).
    Area,
    /// A citizen ID number (GB 11643): always personal, stored encrypted.
    IdNumber,
    /// The coordinate system of the record's `lng`/`lat` in a file
    /// (`wgs84`, `gcj02`, `bd09`): read on import to convert them, written as
    /// `wgs84` on export. Files only: records hold WGS-84 ([`Wgs84`]), so it
    /// has no database column and no API property.
    CoordSystem,
}

/// The coordinate systems a file may use (`coord_system`); the spatial crate
/// defines them, without the model's enumeration macro (a test keeps the two
/// in step).
pub const COORD_VALUES: &[EnumValue] = &[
    EnumValue {
        code: "wgs84",
        zh: "WGS-84",
        en: "WGS-84",
    },
    EnumValue {
        code: "gcj02",
        zh: "GCJ-02",
        en: "GCJ-02",
    },
    EnumValue {
        code: "bd09",
        zh: "BD-09",
        en: "BD-09",
    },
];

/// The value of a [`FieldType::CoordSystem`] field: records always hold
/// WGS-84 coordinates, converted on import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wgs84;

impl FieldValue for Wgs84 {
    fn cell_ref(&self) -> CellRef<'_> {
        CellRef::Null
    }
    fn to_cell(&self) -> Cell {
        Cell::Null
    }
    fn from_cell(_: Cell) -> Option<Self> {
        Some(Wgs84)
    }
}

/// Alias kept for the import/export code, which calls a field's type its column type.
pub type ColType = FieldType;

impl FieldType {
    /// A short name for documentation and messages.
    pub fn name(&self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Note => "multi-line text",
            FieldType::Int(_) => "integer",
            FieldType::Money(_) => "money (yuan, 2 decimals)",
            FieldType::Decimal { .. } => "decimal",
            FieldType::Date => "date",
            FieldType::Bool => "boolean",
            FieldType::Enum(_) => "enum",
            FieldType::EnumList(_) => "enum list",
            FieldType::Ref(_) => "reference",
            FieldType::Area => "area code",
            FieldType::IdNumber => "ID number",
            FieldType::CoordSystem => "enum",
        }
    }

    /// The values of an enumeration type.
    pub fn values(&self) -> &'static [EnumValue] {
        match self {
            FieldType::Enum(v) | FieldType::EnumList(v) => v,
            FieldType::CoordSystem => COORD_VALUES,
            _ => &[],
        }
    }
}

/// One field of a register.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Identifier in code, JSON, query strings and English file headers.
    pub key: &'static str,
    /// The English file header, when it differs from the key (a fee held in
    /// fen whose files give yuan: `monthly_fee_yuan`).
    pub file_key: &'static str,
    /// Chinese file header (may carry a unit, e.g. 月收费（元）).
    pub zh: &'static str,
    /// English label in the console.
    pub en: &'static str,
    /// Chinese label in the console, when it differs from the header.
    pub label_zh: &'static str,
    pub ty: FieldType,
    pub required: bool,
    /// Database column.
    pub column: &'static str,
    /// Personal data (PIPL): masked in lists and exports, each full read audited.
    pub personal: bool,
    /// Offered as a list filter (enums, booleans: equality; dates: a range; refs: equality).
    pub filter: bool,
    /// Matched by the list's text search (prefix).
    pub search: bool,
    /// Shown as a column of the console's list.
    pub list: bool,
    /// A short note for the template's 填写说明 sheet and the API description.
    pub help: &'static str,
    /// What a blank cell in a file or form means (empty: nothing).
    pub default: &'static str,
}

impl Field {
    const fn new(key: &'static str, zh: &'static str, en: &'static str, ty: FieldType) -> Field {
        Field {
            key,
            file_key: key,
            zh,
            en,
            label_zh: zh,
            ty,
            required: false,
            column: key,
            personal: false,
            filter: false,
            search: false,
            list: false,
            help: "",
            default: "",
        }
    }

    /// The record's own id (编号): required, listed.
    pub const fn id(key: &'static str) -> Field {
        Field::new(key, "编号", "ID", FieldType::Text)
            .required()
            .listed()
    }
    pub const fn text(key: &'static str, zh: &'static str, en: &'static str) -> Field {
        Field::new(key, zh, en, FieldType::Text)
    }
    pub const fn note(key: &'static str, zh: &'static str, en: &'static str) -> Field {
        Field::new(key, zh, en, FieldType::Note)
    }
    pub const fn int(
        key: &'static str,
        zh: &'static str,
        en: &'static str,
        b: &'static Bound,
    ) -> Field {
        Field::new(key, zh, en, FieldType::Int(b))
    }
    pub const fn money(
        key: &'static str,
        zh: &'static str,
        en: &'static str,
        b: &'static Bound,
    ) -> Field {
        Field::new(key, zh, en, FieldType::Money(b))
    }
    pub const fn decimal(
        key: &'static str,
        zh: &'static str,
        en: &'static str,
        min: f64,
        max: f64,
    ) -> Field {
        Field::new(key, zh, en, FieldType::Decimal { min, max })
    }
    pub const fn date(key: &'static str, zh: &'static str, en: &'static str) -> Field {
        Field::new(key, zh, en, FieldType::Date)
    }
    pub const fn boolean(key: &'static str, zh: &'static str, en: &'static str) -> Field {
        Field::new(key, zh, en, FieldType::Bool)
    }
    pub const fn enumeration(
        key: &'static str,
        zh: &'static str,
        en: &'static str,
        values: &'static [EnumValue],
    ) -> Field {
        Field::new(key, zh, en, FieldType::Enum(values))
    }
    pub const fn enum_list(
        key: &'static str,
        zh: &'static str,
        en: &'static str,
        values: &'static [EnumValue],
    ) -> Field {
        Field::new(key, zh, en, FieldType::EnumList(values))
    }
    /// The id of a record of the register `target` (its key).
    pub const fn reference(
        key: &'static str,
        zh: &'static str,
        en: &'static str,
        target: &'static str,
    ) -> Field {
        Field::new(key, zh, en, FieldType::Ref(target))
    }
    pub const fn area(key: &'static str, zh: &'static str, en: &'static str) -> Field {
        Field::new(key, zh, en, FieldType::Area)
    }
    pub const fn id_number(key: &'static str, zh: &'static str, en: &'static str) -> Field {
        let mut f = Field::new(key, zh, en, FieldType::IdNumber);
        f.personal = true;
        f
    }

    /// The coordinate system of the record's `lng`/`lat` in files.
    pub const fn coord_system(key: &'static str, zh: &'static str, en: &'static str) -> Field {
        Field::new(key, zh, en, FieldType::CoordSystem)
    }

    /// True for a column of files only ([`FieldType::CoordSystem`]): no
    /// database column, no API property, no form control.
    pub const fn file_only(&self) -> bool {
        matches!(self.ty, FieldType::CoordSystem)
    }

    /// The English file header (see [`Field::file_key`]).
    pub const fn file_key(mut self, header: &'static str) -> Field {
        self.file_key = header;
        self
    }

    pub const fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub const fn personal(mut self) -> Field {
        self.personal = true;
        self
    }
    pub const fn filter(mut self) -> Field {
        self.filter = true;
        self.list = true;
        self
    }
    pub const fn search(mut self) -> Field {
        self.search = true;
        self.list = true;
        self
    }
    pub const fn listed(mut self) -> Field {
        self.list = true;
        self
    }
    pub const fn column(mut self, column: &'static str) -> Field {
        self.column = column;
        self
    }
    pub const fn label(mut self, zh: &'static str) -> Field {
        self.label_zh = zh;
        self
    }
    /// The value a blank cell stands for.
    pub const fn or(mut self, default: &'static str) -> Field {
        self.default = default;
        self
    }
    pub const fn help(mut self, help: &'static str) -> Field {
        self.help = help;
        self
    }
}

/// Whose area a record belongs to: what the store adds to every read and
/// write so that a record outside the caller's scope is not found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeRule {
    /// The record carries its area's materialised path in this column.
    AreaPath(&'static str),
    /// Through the facility (this column holds its id): the facility's area,
    /// and for an operator the facility itself.
    Facility(&'static str),
    /// Through the person (this column holds their id): their residence area.
    Person(&'static str),
    /// City-wide figures that no area owns (e.g. student cohorts of the
    /// city's schools): readable by every role that reads the domain,
    /// writable by city-level roles only.
    City,
}

/// Which permissions govern a register (the store maps them to roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    /// Facilities and what belongs to them (classes, staff).
    Facilities,
    /// People and what belongs to them (services, enrolments, residences).
    People,
}

/// A register: a kind of record, its table and its fields.
#[derive(Debug)]
pub struct Register {
    /// Identifier in API paths, files and the CLI (`staff`, `services`).
    pub key: &'static str,
    /// Database table.
    pub table: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub scope: ScopeRule,
    pub domain: Domain,
    /// Fields in file and struct order; the first is the id.
    pub fields: &'static [Field],
    /// Where it is served: API collection and item, console list and item.
    pub paths: Paths,
}

/// A register's routes (`{id}` is the record's id).
#[derive(Debug, Clone, Copy)]
pub struct Paths {
    pub api: &'static str,
    pub api_item: &'static str,
    pub console: &'static str,
    pub console_item: &'static str,
    pub console_new: &'static str,
    pub console_edit: &'static str,
}

/// The routes of the register `key`, at compile time.
#[macro_export]
macro_rules! register_paths {
    ($key:literal) => {
        $crate::register::Paths {
            api: concat!("/api/", $key),
            api_item: concat!("/api/", $key, "/{id}"),
            console: concat!("/console/", $key),
            console_item: concat!("/console/", $key, "/{id}"),
            console_new: concat!("/console/", $key, "/new"),
            console_edit: concat!("/console/", $key, "/{id}/edit"),
        }
    };
}

impl Register {
    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The id field (the first).
    pub fn id_field(&self) -> &'static Field {
        &self.fields[0]
    }

    /// `GET/POST` path of the API.
    pub fn api_collection(&self) -> &'static str {
        self.paths.api
    }

    /// `GET/PUT/DELETE` path of one record in the API.
    pub fn api_item(&self) -> &'static str {
        self.paths.api_item
    }

    /// True when any field is personal data.
    pub fn has_personal(&self) -> bool {
        self.fields.iter().any(|f| f.personal)
    }
}

/// A typed cell of a record, between the Rust struct and the store or a file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    Real(f64),
    Bool(bool),
    Date(NaiveDate),
    List(Vec<String>),
}

/// A cell borrowed from a record, for writers that must not allocate per
/// value (the bulk import of a million people).
#[derive(Clone, Copy)]
pub enum CellRef<'a> {
    Null,
    Text(&'a str),
    Int(i64),
    Real(f64),
    Bool(bool),
    Date(NaiveDate),
    /// The codes of an enumeration list.
    Codes(&'a dyn CodeList),
}

impl std::fmt::Debug for CellRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CellRef::Null => f.write_str("Null"),
            CellRef::Text(s) => write!(f, "Text({s:?})"),
            CellRef::Int(n) => write!(f, "Int({n})"),
            CellRef::Real(x) => write!(f, "Real({x})"),
            CellRef::Bool(b) => write!(f, "Bool({b})"),
            CellRef::Date(d) => write!(f, "Date({d})"),
            CellRef::Codes(c) => {
                let mut v = Vec::new();
                c.each_code(&mut |s| v.push(s.to_string()));
                write!(f, "Codes({v:?})")
            }
        }
    }
}

/// A list of enumeration codes, seen without knowing the enumeration.
pub trait CodeList {
    fn each_code(&self, f: &mut dyn FnMut(&str));
    fn is_empty(&self) -> bool;
}

impl CodeList for Vec<String> {
    fn each_code(&self, f: &mut dyn FnMut(&str)) {
        for c in self {
            f(c);
        }
    }
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

impl<E: CodeEnum> CodeList for Vec<E> {
    fn each_code(&self, f: &mut dyn FnMut(&str)) {
        for e in self {
            f(e.code());
        }
    }
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

/// A Rust type a field can hold.
pub trait FieldValue: Sized {
    fn to_cell(&self) -> Cell;
    /// `None` when the cell is of another kind, or NULL for a required type.
    fn from_cell(c: Cell) -> Option<Self>;
    /// The value borrowed as a cell.
    fn cell_ref(&self) -> CellRef<'_>;
}

impl FieldValue for String {
    fn cell_ref(&self) -> CellRef<'_> {
        CellRef::Text(self)
    }
    fn to_cell(&self) -> Cell {
        Cell::Text(self.clone())
    }
    fn from_cell(c: Cell) -> Option<Self> {
        match c {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }
}
impl FieldValue for i64 {
    fn cell_ref(&self) -> CellRef<'_> {
        CellRef::Int(*self)
    }
    fn to_cell(&self) -> Cell {
        Cell::Int(*self)
    }
    fn from_cell(c: Cell) -> Option<Self> {
        match c {
            Cell::Int(n) => Some(n),
            _ => None,
        }
    }
}
impl FieldValue for f64 {
    fn cell_ref(&self) -> CellRef<'_> {
        CellRef::Real(*self)
    }
    fn to_cell(&self) -> Cell {
        Cell::Real(*self)
    }
    fn from_cell(c: Cell) -> Option<Self> {
        match c {
            Cell::Real(x) => Some(x),
            Cell::Int(n) => Some(n as f64),
            _ => None,
        }
    }
}
impl FieldValue for bool {
    fn cell_ref(&self) -> CellRef<'_> {
        CellRef::Bool(*self)
    }
    fn to_cell(&self) -> Cell {
        Cell::Bool(*self)
    }
    fn from_cell(c: Cell) -> Option<Self> {
        match c {
            Cell::Bool(b) => Some(b),
            _ => None,
        }
    }
}
impl FieldValue for NaiveDate {
    fn cell_ref(&self) -> CellRef<'_> {
        CellRef::Date(*self)
    }
    fn to_cell(&self) -> Cell {
        Cell::Date(*self)
    }
    fn from_cell(c: Cell) -> Option<Self> {
        match c {
            Cell::Date(d) => Some(d),
            _ => None,
        }
    }
}
impl<T: FieldValue> FieldValue for Option<T> {
    fn cell_ref(&self) -> CellRef<'_> {
        self.as_ref().map_or(CellRef::Null, T::cell_ref)
    }
    fn to_cell(&self) -> Cell {
        self.as_ref().map_or(Cell::Null, T::to_cell)
    }
    fn from_cell(c: Cell) -> Option<Self> {
        match c {
            Cell::Null => Some(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// Enumerations made by [`code_enum!`](crate::code_enum) are cells of text.
pub trait CodeEnum: Sized + Copy + 'static {
    const VALUES: &'static [EnumValue];
    fn code(self) -> &'static str;
    fn from_code(s: &str) -> Option<Self>;
}

/// A list of enumeration values (special-difficulty categories).
impl<E: CodeEnum> FieldValue for Vec<E> {
    fn cell_ref(&self) -> CellRef<'_> {
        CellRef::Codes(self)
    }
    fn to_cell(&self) -> Cell {
        Cell::List(self.iter().map(|e| e.code().to_string()).collect())
    }
    fn from_cell(c: Cell) -> Option<Self> {
        match c {
            Cell::List(v) => v.iter().map(|s| E::from_code(s)).collect(),
            // An empty list is stored as NULL.
            Cell::Null => Some(Vec::new()),
            _ => None,
        }
    }
}

/// Cross-field rules of a record, in plain Rust beside its declaration. The
/// field-level rules (required, bounds, text, enum values) come from the
/// declaration and are checked by [`check_fields`] first.
pub trait Rules {
    /// Every failing rule as a field error. `ck` holds the reference data
    /// (area tree, city boundary, national class limits); `today` is for
    /// dates that may not be in the future.
    fn rules(&self, ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError>;
}

/// A record of a declared register.
pub trait Record:
    Rules
    + crate::refs::References
    + Clone
    + Send
    + Sync
    + serde::Serialize
    + serde::de::DeserializeOwned
    + 'static
{
    /// The declaration.
    const REGISTER: &'static Register;
    /// The declaration (as a function, for generic code).
    fn register() -> &'static Register {
        Self::REGISTER
    }
    /// The record's id.
    fn id(&self) -> &str;
    /// The cells, in field order.
    fn to_cells(&self) -> Vec<Cell>;
    /// The cells borrowed, in field order.
    fn cell_refs(&self) -> Vec<CellRef<'_>>;
    /// The record from cells in field order; the first field whose cell has
    /// the wrong kind is the error.
    fn from_cells(cells: Vec<Cell>) -> Result<Self, FieldError>;

    /// Every failing field and rule: the declaration's, then [`Rules::rules`].
    fn validate(&self, ck: &Checker<'_>, today: NaiveDate) -> Vec<FieldError> {
        let mut errs = check_field_refs(Self::register(), &self.cell_refs());
        errs.extend(self.rules(ck, today));
        errs
    }
}

/// Checks each cell against its field: required, text length and characters,
/// numeric bounds, enum values, decimal ranges.
pub fn check_fields(reg: &Register, cells: &[Cell]) -> Vec<FieldError> {
    let refs: Vec<CellRef<'_>> = cells
        .iter()
        .map(|c| match c {
            Cell::Null => CellRef::Null,
            Cell::Text(s) => CellRef::Text(s),
            Cell::Int(n) => CellRef::Int(*n),
            Cell::Real(x) => CellRef::Real(*x),
            Cell::Bool(b) => CellRef::Bool(*b),
            Cell::Date(d) => CellRef::Date(*d),
            Cell::List(v) => CellRef::Codes(v),
        })
        .collect();
    check_field_refs(reg, &refs)
}

/// [`check_fields`] on borrowed cells (what [`Record::validate`] uses: a
/// million-row import validates without copying each record's text).
pub fn check_field_refs(reg: &Register, cells: &[CellRef<'_>]) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (f, c) in reg.fields.iter().zip(cells) {
        match (c, &f.ty) {
            (CellRef::Null, _) if f.required => errs.push(FieldError::new(f.key, "required")),
            (CellRef::Text(s), FieldType::Note) => bounds::check_text(f.key, s, true, &mut errs),
            // A code parsed against the enumeration's values is a value of it.
            (CellRef::Text(_), FieldType::Enum(_)) => {}
            (CellRef::Text(s), _) => {
                if f.required && s.trim().is_empty() {
                    errs.push(FieldError::new(f.key, "must not be empty"));
                }
                bounds::check_text(f.key, s, false, &mut errs);
            }
            (CellRef::Int(n), FieldType::Int(b) | FieldType::Money(b)) if !b.contains(*n) => {
                errs.push(FieldError::new(f.key, b.reason(*n)));
            }
            (CellRef::Real(x), FieldType::Decimal { min, max })
                if !(x.is_finite() && *min <= *x && *x <= *max) =>
            {
                errs.push(FieldError::new(
                    f.key,
                    format!("{x} is outside the range {min} to {max}"),
                ));
            }
            _ => {}
        }
    }
    errs
}

/// Masks a personal text for display: the first character stays, the rest
/// become `*` (`张**`). ID numbers have their own mask.
pub fn mask_text(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        out.push(if i == 0 { c } else { '*' });
    }
    out
}

/// A cell as a file writes it: dates `YYYY-MM-DD`, booleans `true`/`false`,
/// money in yuan with two decimals, lists joined by `;`.
pub fn format_cell(f: &Field, c: &Cell) -> String {
    match (c, &f.ty) {
        (Cell::Null, _) => String::new(),
        (Cell::Int(n), FieldType::Money(_)) => {
            let sign = if *n < 0 { "-" } else { "" };
            let a = n.unsigned_abs();
            format!("{sign}{}.{:02}", a / 100, a % 100)
        }
        (Cell::Text(s), _) => s.clone(),
        (Cell::Int(n), _) => n.to_string(),
        (Cell::Real(x), _) => format!("{x:.6}"),
        (Cell::Bool(b), _) => b.to_string(),
        (Cell::Date(d), _) => d.format("%Y-%m-%d").to_string(),
        (Cell::List(v), _) => v.join(";"),
    }
}

/// Parses a file's or a form's text into a cell of the field's type; blank
/// text is `Null` (whether that is allowed is [`check_fields`]'s job).
pub fn parse_cell(f: &Field, raw: &str) -> Result<Cell, String> {
    let v = raw.trim();
    if v.is_empty() {
        return Ok(Cell::Null);
    }
    Ok(match &f.ty {
        FieldType::Text | FieldType::Note | FieldType::Ref(_) | FieldType::Area => {
            Cell::Text(v.to_string())
        }
        // The check character is written either case; the register keeps `X`.
        FieldType::IdNumber => Cell::Text(v.to_ascii_uppercase()),
        FieldType::Int(_) => {
            // Spreadsheets write whole numbers as "12.0".
            let t = v.strip_suffix(".0").unwrap_or(v);
            Cell::Int(
                t.parse::<i64>()
                    .map_err(|_| format!("{v:?} is not a whole number"))?,
            )
        }
        FieldType::Money(b) => {
            Cell::Int(parse_yuan(v).or_else(|| sci_yuan(v)).ok_or_else(|| {
                format!(
                    "{v:?} is not an amount in yuan (at most 2 decimals); {}",
                    b.why
                )
            })?)
        }
        FieldType::Decimal { .. } => match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Cell::Real(x),
            _ => return Err(format!("{v:?} is not a number")),
        },
        FieldType::Date => Cell::Date(
            crate::columns::parse_date(v)
                .ok_or_else(|| format!("{v:?} is not a date (YYYY-MM-DD)"))?,
        ),
        FieldType::Bool => Cell::Bool(
            crate::columns::parse_bool(v)
                .ok_or_else(|| format!("{v:?} is not true/false (是/否)"))?,
        ),
        FieldType::Enum(values) => Cell::Text(enum_code(values, v)?.to_string()),
        FieldType::CoordSystem => Cell::Text(enum_code(COORD_VALUES, v)?.to_string()),
        FieldType::EnumList(values) => Cell::List(
            v.split([';', '；', '、', '|'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| enum_code(values, p).map(str::to_string))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// The identifier of an enumeration value given as identifier, Chinese or
/// English label.
pub fn enum_code(values: &'static [EnumValue], v: &str) -> Result<&'static str, String> {
    let t = v.trim();
    values
        .iter()
        .find(|e| e.code.eq_ignore_ascii_case(t) || e.zh == t || e.en.eq_ignore_ascii_case(t))
        .map(|e| e.code)
        .ok_or_else(|| {
            let codes: Vec<&str> = values.iter().map(|e| e.code).collect();
            format!("unknown value {t:?}; expected one of: {}", codes.join(", "))
        })
}

/// Yuan in a spreadsheet's scientific notation (`1e12`), as fen, when that
/// is a whole number of fen small enough to be exact; so that a huge amount
/// is refused by its bound, with the range in the message.
fn sci_yuan(v: &str) -> Option<i64> {
    if !v.contains(['e', 'E']) {
        return None;
    }
    let fen = v.parse::<f64>().ok()? * 100.0;
    (fen.is_finite() && fen.abs() < 9.0e15 && fen.fract() == 0.0).then_some(fen as i64)
}

/// Yuan with at most two decimals, as fen; exact (no floating point).
pub fn parse_yuan(v: &str) -> Option<i64> {
    let (neg, t) = match v.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, v),
    };
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    let fen = w.checked_mul(100)?.checked_add(f)?;
    Some(if neg { -fen } else { fen })
}

/// Declares a record type and its register in one place. See the module
/// documentation for the form; each field is `name: Type = builder(args)`
/// with any chained builder methods, and the key is the field's name.
///
/// Attributes before `pub struct` go on the struct (e.g. `#[derive(Default)]`
/// so that tools fill only the fields they know with `..Default::default()`).
///
/// The second form, `fields in module { … } file_only { … } subsets { … }`,
/// also writes each field as a constant of `module` (`module::name`), so that
/// further registers over the same table can be declared as subsets of the
/// record's fields, in their own file order, with columns that only files
/// carry (`file_only`, e.g. the coordinate system of `lng`/`lat`). The
/// people are declared this way: one `person` table, the elderly and the
/// infants registers each a subset of its fields.
#[macro_export]
macro_rules! register {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $reg:ident {
            key: $key:literal, table: $table:literal, zh: $zh:literal, en: $en:literal,
            scope: $scope:expr, domain: $domain:expr $(,)?
        }
        fields {
            $(
                $(#[$fmeta:meta])*
                $f:ident : $t:ty = $ctor:ident ( $($a:expr),* $(,)? ) $( . $m:ident ( $($ma:expr),* ) )*
            ),+ $(,)?
        }
    ) => {
        $crate::register! {
            @record $(#[$meta])* $name $reg
            [ $key, $table, $zh, $en, $scope, $domain ]
            [ $( $crate::register::Field::$ctor(stringify!($f), $($a),*) $( . $m ( $($ma),* ) )* ),+ ]
            { $( $(#[$fmeta])* $f : $t ),+ }
        }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $reg:ident {
            key: $key:literal, table: $table:literal, zh: $zh:literal, en: $en:literal,
            scope: $scope:expr, domain: $domain:expr $(,)?
        }
        fields in $fm:ident {
            $(
                $(#[$fmeta:meta])*
                $f:ident : $t:ty = $ctor:ident ( $($a:expr),* $(,)? ) $( . $m:ident ( $($ma:expr),* ) )*
            ),+ $(,)?
        }
        file_only {
            $(
                $(#[$xmeta:meta])*
                $x:ident = $xctor:ident ( $($xa:expr),* $(,)? ) $( . $xm:ident ( $($xma:expr),* ) )*
            ),* $(,)?
        }
        subsets {
            $(
                $(#[$smeta:meta])*
                $sreg:ident = ( $skey:literal, $szh:literal, $sen:literal ) [ $($sf:ident),+ $(,)? ]
            ),+ $(,)?
        }
    ) => {
        #[doc = concat!("The fields of the ", $en, " register (", $zh, "), one constant each.")]
        #[allow(non_upper_case_globals)]
        pub mod $fm {
            #[allow(unused_imports)]
            use super::*;
            $(
                pub const $f: $crate::register::Field =
                    $crate::register::Field::$ctor(stringify!($f), $($a),*) $( . $m ( $($ma),* ) )*;
            )+
            $(
                $(#[$xmeta])*
                pub const $x: $crate::register::Field =
                    $crate::register::Field::$xctor(stringify!($x), $($xa),*) $( . $xm ( $($xma),* ) )*;
            )*
        }

        $(
            $(#[$smeta])*
            pub static $sreg: $crate::register::Register = $crate::register::Register {
                key: $skey,
                table: $table,
                zh: $szh,
                en: $sen,
                scope: $scope,
                domain: $domain,
                paths: $crate::register_paths!($skey),
                fields: &[ $( $fm::$sf ),+ ],
            };
        )+

        $crate::register! {
            @record $(#[$meta])* $name $reg
            [ $key, $table, $zh, $en, $scope, $domain ]
            [ $( $fm::$f ),+ ]
            { $( $(#[$fmeta])* $f : $t ),+ }
        }
    };
    (
        @record $(#[$meta:meta])* $name:ident $reg:ident
        [ $key:literal, $table:literal, $zh:literal, $en:literal, $scope:expr, $domain:expr ]
        [ $($field:expr),+ ]
        { $( $(#[$fmeta:meta])* $f:ident : $t:ty ),+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* pub $f: $t, )+
        }

        #[doc = concat!("The declaration of the ", $en, " register (", $zh, ").")]
        pub static $reg: $crate::register::Register = $crate::register::Register {
            key: $key,
            table: $table,
            zh: $zh,
            en: $en,
            scope: $scope,
            domain: $domain,
            paths: $crate::register_paths!($key),
            fields: &[ $($field),+ ],
        };

        impl $crate::register::Record for $name {
            const REGISTER: &'static $crate::register::Register = &$reg;
            fn id(&self) -> &str {
                $crate::__first_field_str!(self; $($f),+)
            }
            fn to_cells(&self) -> Vec<$crate::register::Cell> {
                vec![ $( $crate::register::FieldValue::to_cell(&self.$f) ),+ ]
            }
            fn cell_refs(&self) -> Vec<$crate::register::CellRef<'_>> {
                vec![ $( $crate::register::FieldValue::cell_ref(&self.$f) ),+ ]
            }
            fn from_cells(
                cells: Vec<$crate::register::Cell>,
            ) -> Result<Self, $crate::error::FieldError> {
                let mut it = cells.into_iter();
                Ok($name {
                    $(
                        $f: {
                            let c = it.next().unwrap_or($crate::register::Cell::Null);
                            let null = c == $crate::register::Cell::Null;
                            $crate::register::FieldValue::from_cell(c).ok_or_else(|| {
                                $crate::error::FieldError::new(
                                    stringify!($f),
                                    if null { "required" } else { "has the wrong type" },
                                )
                            })?
                        },
                    )+
                })
            }
        }
    };
}

/// The first field of a record (its id), as `&str`.
#[doc(hidden)]
#[macro_export]
macro_rules! __first_field_str {
    ($s:ident; $first:ident $(, $rest:ident)*) => {
        &$s.$first
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_parses_exactly() {
        assert_eq!(parse_yuan("12"), Some(1200));
        assert_eq!(parse_yuan("12.5"), Some(1250));
        assert_eq!(parse_yuan("12.05"), Some(1205));
        assert_eq!(parse_yuan("0.10"), Some(10));
        assert_eq!(parse_yuan("-3.01"), Some(-301));
        assert_eq!(parse_yuan("1.005"), None);
        assert_eq!(parse_yuan("1e3"), None);
        assert_eq!(parse_yuan(".5"), None);
        assert_eq!(parse_yuan("99999999999999999999"), None);
    }

    #[test]
    fn money_formats_back() {
        let f = Field::money("fee", "费", "Fee", &bounds::MONTHLY_FEE);
        for s in ["0.00", "12.50", "1234.05", "-0.01"] {
            let c = parse_cell(&f, s).expect("parses");
            assert_eq!(format_cell(&f, &c), s);
        }
        // Scientific notation of a whole amount reaches the bound's check.
        assert_eq!(parse_cell(&f, "1e12"), Ok(Cell::Int(100_000_000_000_000)));
        assert!(parse_cell(&f, "1e-3").is_err());
        assert!(parse_cell(&f, "1e300").is_err());
    }

    #[test]
    fn masks_keep_first_char() {
        assert_eq!(mask_text("张三丰"), "张**");
        assert_eq!(mask_text(""), "");
    }
}
