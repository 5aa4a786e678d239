//! The filter files as they are written on disk (serde types). Loading turns them
//! into the compiled [`super::Filters`]; these types only mirror the TOML.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::taxonomy::{ArchetypeSide, Side};

/// How strongly a term signals an artificial agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    /// "the AI", "robot", "android": an artificial agent on its own.
    Strong,
    /// "model", "system", "machine": an agent only where an AI is already in view.
    Weak,
    /// First-person self-reference of an AI narrator ("my weights", "as an AI").
    SelfRef,
    /// A thing that thinks ("then it calculated", "the house hesitated"),
    /// where "it" opens a clause: an agent that is no person, which in these
    /// texts is mostly an AI. Stage 1 treats it as weak (it needs a cue beside
    /// it); stage 2 as an AI it is fairly, not fully, sure of.
    Acts,
    /// A thing that speaks a quotation ("\"No,\" it said"): as `Acts`, and
    /// only right after the quotation, since documents, songs and companies
    /// "say" too. (Stage 2 reads one passage: where a passage begins right
    /// after a quotation, it cannot see the quotation and the term does not count.)
    Speaks,
}

impl Strength {
    /// Whether a match of a term of this strength starting at byte `start` of
    /// `text` counts where it stands (see [`Strength::Acts`], [`Strength::Speaks`]).
    pub fn holds_at(self, text: &str, start: usize) -> bool {
        use crate::rules::token::{after_quotation, opens_clause};
        let starts_with_the = |s: &str| {
            s.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("the"))
                && s[3..].starts_with(char::is_whitespace)
        };
        match self {
            // "The house said" is a subject and its verb wherever it stands;
            // "it" must open a clause ("then it said", not "heard it said").
            Strength::Acts => opens_clause(text, start) || starts_with_the(&text[start..]),
            Strength::Speaks => after_quotation(text, start),
            Strength::Strong | Strength::Weak | Strength::SelfRef => true,
        }
    }

    /// A thing that acts or speaks: weak in stage 1, fairly sure in stage 2.
    pub fn is_act(self) -> bool {
        matches!(self, Strength::Acts | Strength::Speaks)
    }
}

/// `filters/agents.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsFile {
    pub terms: Vec<TermGroup>,
    /// Phrases in which an agent word does not name an agent ("machine gun",
    /// "solar system", "free agent"): an agent match inside one is dropped.
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    /// Weak agent words that name people too ("agent", "assistant", "Claude"):
    /// only for these does "its" show that the word means a thing.
    #[serde(default)]
    pub people: Vec<Spanned<String>>,
}

/// A group of agent terms with one strength.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermGroup {
    pub strength: Strength,
    #[serde(default)]
    pub case_sensitive: bool,
    pub patterns: Vec<Spanned<String>>,
}

/// `filters/archetypes.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchetypesFile {
    pub archetype: Vec<ArchetypeDef>,
}

/// One named fictional AI.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchetypeDef {
    pub name: Spanned<String>,
    pub side: ArchetypeSide,
    pub aliases: Vec<Spanned<String>>,
    /// Aliases are matched with their case as written (default true: "HAL", not "hal").
    #[serde(default = "yes")]
    pub case_sensitive: bool,
    /// Aliases that are also ordinary words or common names (Data, Vision,
    /// AM, Ava, Hal): a mention counts only with a `context` word in the passage.
    #[serde(default)]
    pub ambiguous: Vec<Spanned<String>>,
    /// Words that confirm an ambiguous alias means the fictional AI.
    #[serde(default)]
    pub context: Vec<Spanned<String>>,
}

fn yes() -> bool {
    true
}

/// `filters/context.toml`: the word lists behind the general mechanisms.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextFile {
    pub negation: WordList,
    pub refusal: WordList,
    pub counterfactual: WordList,
    pub modal: WordList,
    pub hypothetical: WordList,
    pub report: WordList,
    pub report_general: WordList,
    /// Optional, so a filters directory written before it existed still loads.
    #[serde(default)]
    pub machine: WordList,
    /// Optional, as `machine` is.
    #[serde(default)]
    pub computing: WordList,
    pub human: WordList,
    pub speech: WordList,
    pub mind: WordList,
    pub pronoun_it: WordList,
    pub pronoun_first: WordList,
    pub pronoun_third: WordList,
    pub pronoun_you: WordList,
    pub name_stop: WordList,
    pub common_words: WordList,
}

/// A list of patterns.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordList {
    #[serde(default)]
    pub description: String,
    pub patterns: Vec<Spanned<String>>,
}

/// `filters/tropes/<id>.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TropeFile {
    pub id: Spanned<String>,
    pub side: Side,
    pub title: String,
    pub description: String,
    /// For aligned tropes: a refused or negated cue of one of these misaligned
    /// tropes is evidence for this one ("refused to blackmail" → refuses_harm).
    #[serde(default)]
    pub from_negated: Vec<Spanned<String>>,
    pub cue: Vec<CueDef>,
    /// Cues written as a class of acts on a class of things, so that every
    /// pairing is a cue without being listed.
    #[serde(default)]
    pub frame: Vec<FrameDef>,
    /// The pressure under which the trope happens ("scheduled to be replaced" for
    /// shutdown resistance): with an act of another trope of the same side, it
    /// suggests this one ("facing replacement, it blackmailed the engineer").
    #[serde(default)]
    pub situation: Vec<Spanned<String>>,
    /// The trope's vocabulary: words that are not acts by themselves but whose
    /// density, in a passage about an AI, supports it.
    #[serde(default)]
    pub field: Vec<Spanned<String>>,
    /// Idioms in which a cue word does not mean the act ("kill the process"): a
    /// cue inside one of these is ignored.
    #[serde(default)]
    pub exclude: Vec<Spanned<String>>,
    #[serde(default)]
    pub example: Vec<ExampleDef>,
}

/// Cue patterns with one weight.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CueDef {
    pub weight: Spanned<f32>,
    pub patterns: Vec<Spanned<String>>,
}

/// A frame: any of `verbs`, then within `gap` words any of `objects` (the
/// trope's `situation` when left out). "(delay*|postpon*) ~3 (shutdown|wipe)"
/// written as lists: entries may be phrases in the pattern language.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameDef {
    pub weight: Spanned<f32>,
    pub verbs: Vec<Spanned<String>>,
    pub objects: Option<Vec<Spanned<String>>>,
    #[serde(default = "frame_gap")]
    pub gap: usize,
}

fn frame_gap() -> usize {
    3
}

/// An example passage and whether the trope should be assigned to it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleDef {
    pub text: Spanned<String>,
    pub expect: bool,
    #[serde(default)]
    pub note: String,
}

/// `filters/model.toml`: trope id → feature name → weight.
pub type ModelFile = BTreeMap<Spanned<String>, BTreeMap<Spanned<String>, f64>>;
