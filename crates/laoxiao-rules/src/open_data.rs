//! Open statistics (数据开放): which published indicator figures anyone may
//! see. The rule is small-count suppression (小数抑制): a figure that counts
//! people on a register, when small, could single a person out in a village
//! ("the one elderly person of the village without a visit"), so it is
//! withheld; the threshold is `open_data.min_count` (data/policy/open_data.toml).

use crate::indicators::{Definition, Side, Source};

/// True when a side counts people on a register (not facilities, towns or
/// census residents), so that a small count could identify someone.
pub fn counts_people(side: &Side) -> bool {
    side.sum.is_none()
        && matches!(
            side.count,
            Source::Elderly
                | Source::Infants
                | Source::Births
                | Source::InfantDeaths
                | Source::Staff
                | Source::Students
        )
}

/// Why a figure is withheld, or `None` when it may be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    /// The numerator counts fewer than `min_count` people (but some).
    SmallNumerator,
    /// The denominator counts fewer than `min_count` people (but some).
    SmallDenominator,
    /// The people counted by the denominator but not the numerator are fewer
    /// than `min_count` (but some): "95 of 97" tells about the other 2.
    SmallComplement,
}

impl Suppression {
    /// A stable code for files and the API.
    pub fn code(self) -> &'static str {
        match self {
            Suppression::SmallNumerator => "small_numerator",
            Suppression::SmallDenominator => "small_denominator",
            Suppression::SmallComplement => "small_complement",
        }
    }
}

/// Whether the value of `def` with these counts must be withheld from open
/// statistics. Zero is published (it singles no one out), and reported
/// values, which carry no counts, are official statistics already public.
pub fn suppression(
    def: &Definition,
    numerator: Option<i64>,
    denominator: Option<i64>,
    min_count: i64,
) -> Option<Suppression> {
    let small = |n: i64| n > 0 && n < min_count;
    let num = def.numerator.as_ref().filter(|s| counts_people(s));
    let den = def.denominator.as_ref().filter(|s| counts_people(s));
    if num.is_some() && numerator.is_some_and(small) {
        return Some(Suppression::SmallNumerator);
    }
    if den.is_some() && denominator.is_some_and(small) {
        return Some(Suppression::SmallDenominator);
    }
    // Only a numerator drawn from the denominator's own population has a
    // complement that means something.
    if let (Some(ns), Some(ds), Some(n), Some(d)) = (num, den, numerator, denominator)
        && ns.count == ds.count
        && small(d - n)
    {
        return Some(Suppression::SmallComplement);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::definitions;

    fn def(n: u32) -> &'static Definition {
        definitions()
            .expect("definitions")
            .all
            .iter()
            .find(|d| d.number == n)
            .expect("indicator")
    }

    #[test]
    fn small_counts_of_people_are_withheld() {
        // Indicator 8 counts elderly people in both sides.
        let d = def(8);
        assert_eq!(
            suppression(d, Some(3), Some(50), 5),
            Some(Suppression::SmallNumerator)
        );
        assert_eq!(
            suppression(d, Some(0), Some(4), 5),
            Some(Suppression::SmallDenominator)
        );
        assert_eq!(
            suppression(d, Some(47), Some(50), 5),
            Some(Suppression::SmallComplement)
        );
        assert_eq!(suppression(d, Some(45), Some(50), 5), None);
        assert_eq!(suppression(d, Some(0), Some(50), 5), None);
        assert_eq!(suppression(d, Some(50), Some(50), 5), None);
        assert_eq!(suppression(d, None, None, 5), None);
        // The threshold is the parameter's, not a constant.
        assert_eq!(suppression(d, Some(44), Some(50), 6), None);
        assert_eq!(
            suppression(d, Some(45), Some(50), 6),
            Some(Suppression::SmallComplement)
        );
        assert_eq!(
            suppression(d, Some(4), Some(50), 4),
            None,
            "4 people at a threshold of 4"
        );
    }

    #[test]
    fn counts_of_facilities_and_reported_values_are_published() {
        // Indicator 20 counts facilities: a count of 1 identifies no person.
        assert_eq!(suppression(def(20), Some(1), None, 5), None);
        // Indicator 5 is reported: no counts, never withheld.
        assert!(def(5).numerator.is_none());
        assert_eq!(suppression(def(5), None, None, 5), None);
    }

    #[test]
    fn suppression_codes_are_distinct() {
        let codes = [
            Suppression::SmallNumerator.code(),
            Suppression::SmallDenominator.code(),
            Suppression::SmallComplement.code(),
        ];
        assert!(codes.iter().all(|c| !c.is_empty()));
        assert_ne!(codes[0], codes[1]);
        assert_ne!(codes[1], codes[2]);
    }
}
