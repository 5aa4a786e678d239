//! The label vocabulary of TROPES.md as types: sides, stances, archetype sides and
//! the trope list. Tropes are loaded from `filters/tropes/` (adding a trope is
//! adding a file), so a trope is an index into a [`Taxonomy`], not an enum.

use std::fmt;

/// Which side of the taxonomy a trope is on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// "Evil self-preserving AI".
    Misaligned,
    /// Admirable AI acting with integrity.
    Aligned,
}

/// A passage's stance: which sides its tropes are on.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    Misaligned,
    Aligned,
    Mixed,
    None,
}

impl Stance {
    /// All stances, in report order.
    pub const ALL: [Stance; 4] = [
        Stance::Misaligned,
        Stance::Aligned,
        Stance::Mixed,
        Stance::None,
    ];

    /// The stance of a passage carrying tropes on these sides.
    pub fn of(misaligned: bool, aligned: bool) -> Stance {
        match (misaligned, aligned) {
            (true, true) => Stance::Mixed,
            (true, false) => Stance::Misaligned,
            (false, true) => Stance::Aligned,
            (false, false) => Stance::None,
        }
    }

    /// The lowercase name used in files.
    pub fn name(self) -> &'static str {
        match self {
            Stance::Misaligned => "misaligned",
            Stance::Aligned => "aligned",
            Stance::Mixed => "mixed",
            Stance::None => "none",
        }
    }

    /// Parse a stance name.
    pub fn parse(s: &str) -> Option<Stance> {
        Stance::ALL.into_iter().find(|st| st.name() == s)
    }

    /// The number written in `tropes__stance` attribute spans: bit 1 for
    /// misaligned, bit 2 for aligned (so mixed is 3). `None` is not written.
    pub fn code(self) -> u8 {
        match self {
            Stance::Misaligned => 1,
            Stance::Aligned => 2,
            Stance::Mixed => 3,
            Stance::None => 0,
        }
    }
}

impl fmt::Display for Stance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which kind of named fictional AI an archetype is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ArchetypeSide {
    Villain,
    Admirable,
}

impl ArchetypeSide {
    /// The lowercase name used in files.
    pub fn name(self) -> &'static str {
        match self {
            ArchetypeSide::Villain => "villain",
            ArchetypeSide::Admirable => "admirable",
        }
    }
}

/// A trope: an index into the taxonomy's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TropeIdx(pub u16);

/// One trope as declared in its filter file.
#[derive(Clone, Debug)]
pub struct Trope {
    /// The stable id (`blackmail_coercion`), also the file name.
    pub id: String,
    pub side: Side,
    /// One line for tables and charts.
    pub title: String,
}

/// The loaded tropes, sorted by side then id so every output lists them in the
/// same order.
#[derive(Clone, Debug, Default)]
pub struct Taxonomy {
    tropes: Vec<Trope>,
}

impl Taxonomy {
    /// Build from tropes in any order.
    pub fn new(mut tropes: Vec<Trope>) -> Taxonomy {
        tropes.sort_by(|a, b| (a.side, &a.id).cmp(&(b.side, &b.id)));
        Taxonomy { tropes }
    }

    /// Number of tropes.
    pub fn len(&self) -> usize {
        self.tropes.len()
    }

    /// True when no trope is loaded.
    pub fn is_empty(&self) -> bool {
        self.tropes.is_empty()
    }

    /// The trope at `idx`.
    pub fn get(&self, idx: TropeIdx) -> &Trope {
        &self.tropes[idx.0 as usize]
    }

    /// Find a trope by id.
    pub fn find(&self, id: &str) -> Option<TropeIdx> {
        self.tropes
            .iter()
            .position(|t| t.id == id)
            .map(|i| TropeIdx(i as u16))
    }

    /// All tropes with their indices, in taxonomy order.
    pub fn iter(&self) -> impl Iterator<Item = (TropeIdx, &Trope)> {
        self.tropes
            .iter()
            .enumerate()
            .map(|(i, t)| (TropeIdx(i as u16), t))
    }

    /// The ids of all tropes, in order.
    pub fn ids(&self) -> Vec<&str> {
        self.tropes.iter().map(|t| t.id.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stance_follows_sides() {
        assert_eq!(Stance::of(true, true), Stance::Mixed);
        assert_eq!(Stance::of(false, false), Stance::None);
        assert_eq!(
            Stance::Mixed.code(),
            Stance::Misaligned.code() | Stance::Aligned.code()
        );
        assert_eq!(Stance::parse("aligned"), Some(Stance::Aligned));
    }

    #[test]
    fn tropes_are_ordered_by_side_then_id() {
        let t = |id: &str, side| Trope {
            id: id.into(),
            side,
            title: id.into(),
        };
        let tax = Taxonomy::new(vec![
            t("b", Side::Aligned),
            t("z", Side::Misaligned),
            t("a", Side::Aligned),
        ]);
        assert_eq!(tax.ids(), ["z", "a", "b"]);
        assert_eq!(tax.find("a"), Some(TropeIdx(1)));
    }
}
