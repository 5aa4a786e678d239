//! Filter files (`filters/`): loading, validation with `file:line` errors, and
//! compilation into one tagged [`PatternSet`] plus the model weights.
//!
//! ```text
//! filters/agents.toml       AI-agent terms, strong / weak / self-reference
//! filters/archetypes.toml   named fictional AIs, villain or admirable, with aliases
//! filters/context.toml      word lists for the mechanisms: negation, refusal, modality, …
//! filters/tropes/<id>.toml  one trope: description, weighted cues, examples
//! filters/model.toml        fitted weights (written by `tropes train`), with
//! filters/words.tsv         their word weights, and
//! filters/presence.tsv      the learned presence model (`presence`)
//! ```

pub mod files;
pub mod frame;
pub mod lexicon;
pub mod model;
pub mod pattern;
pub mod presence;
pub mod token;

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use crate::error::{Error, IoContext, Result};
use crate::taxonomy::{ArchetypeSide, Side, Taxonomy, Trope, TropeIdx};
use files::{AgentsFile, ArchetypeDef, ArchetypesFile, ContextFile, Strength, TropeFile, WordList};
pub use lexicon::{Found, PatternSet};
pub use model::{FEATURES, Features, Model, N_FEATURES, Weights, WordWeights, is_vocabulary_word};
pub use pattern::Pattern;
pub use presence::Presence;

/// The word lists of `context.toml`, one per mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ctx {
    Negation,
    Refusal,
    Counterfactual,
    Modal,
    Hypothetical,
    Report,
    /// Report words of any subject ("study", "observed"): two make a report.
    ReportGeneral,
    /// How AI systems are made and run ("training data", "system prompt").
    Machine,
    /// Computers at work ("servers", "credentials", "telemetry"): two of them
    /// and a cue send a passage to stage 2, where, if it has no agent word,
    /// the presence model says whether it is about an AI.
    Computing,
    Human,
    Speech,
    /// Verbs of a mind at work ("decided", "reasoned").
    Mind,
    PronounIt,
    PronounFirst,
    PronounThird,
    PronounYou,
    /// Capitalised words that are not names ("The", "When", "Monday").
    NameStop,
}

impl Ctx {
    /// A distinct bit per word list (room for 32), for per-word masks.
    pub fn bit(self) -> u32 {
        1 << (self as u16)
    }
}

/// What a pattern in the compiled lexicon stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tag {
    Agent(Strength),
    /// An alias of archetype `idx`; `ambiguous` when it is also an ordinary
    /// word or name and counts only with a context word in the passage.
    Archetype {
        idx: u16,
        ambiguous: bool,
    },
    Cue {
        trope: TropeIdx,
        weight: f32,
    },
    /// An idiom that cancels the trope's cues inside it.
    Exclude(TropeIdx),
    /// A phrase in which an agent word names no agent ("machine gun").
    NotAgent,
    /// The trope's situation.
    Situation(TropeIdx),
    /// The trope's vocabulary.
    Field(TropeIdx),
    Context(Ctx),
}

/// A named fictional AI.
#[derive(Clone, Debug)]
pub struct Archetype {
    pub name: String,
    pub side: ArchetypeSide,
    /// Words one of which must be in the passage for a mention to count.
    pub context: Vec<Pattern>,
}

/// An example passage from a trope file.
#[derive(Clone, Debug)]
pub struct Example {
    pub text: String,
    pub expect: bool,
    pub note: String,
    pub line: usize,
}

/// One trope's rules beyond its cues.
#[derive(Clone, Debug)]
pub struct TropeRules {
    pub description: String,
    /// Misaligned tropes whose negated cues count for this (aligned) trope.
    pub from_negated: Vec<TropeIdx>,
    pub examples: Vec<Example>,
    /// Where the trope's file is.
    pub path: PathBuf,
}

/// Everything loaded from a filters directory, validated and compiled.
#[derive(Clone, Debug)]
pub struct Filters {
    pub dir: PathBuf,
    /// Hash of every file's content, for manifests and index compatibility.
    pub hash: String,
    pub taxonomy: Taxonomy,
    /// By trope index.
    pub tropes: Vec<TropeRules>,
    pub archetypes: Vec<Archetype>,
    /// Every pattern of every file, tagged.
    pub lexicon: PatternSet<Tag>,
    pub model: Model,
    /// Very frequent words, never used as stage-1 anchors of trope cues.
    pub common_words: std::collections::HashSet<String>,
    /// Weak agent words that name people too, lower-cased (`people` in
    /// agents.toml).
    pub weak_people: std::collections::HashSet<String>,
}

/// The filters bundled in the repository, used when `--filters` is not given.
pub fn bundled_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("filters")
}

impl Filters {
    /// Load and validate every file under `dir`.
    pub fn load(dir: &Path) -> Result<Filters> {
        let mut hasher = Xxh3::new();
        let mut read = |path: &Path| -> Result<String> {
            let text = std::fs::read_to_string(path).at(path)?;
            hasher.update(
                path.strip_prefix(dir)
                    .unwrap_or(path)
                    .to_string_lossy()
                    .as_bytes(),
            );
            hasher.update(text.as_bytes());
            Ok(text)
        };
        let mut lexicon = PatternSet::new();
        let trope_files = trope_paths(dir)?;
        let mut parsed = vec![];
        for path in &trope_files {
            let source = read(path)?;
            let file: TropeFile = parse_toml(path, &source)?;
            parsed.push((path.clone(), source, file));
        }
        let taxonomy = taxonomy_of(&parsed)?;
        let mut tropes: Vec<Option<TropeRules>> = vec![None; taxonomy.len()];
        for (path, source, file) in &parsed {
            let idx = taxonomy
                .find(file.id.get_ref())
                .expect("taxonomy holds every file");
            tropes[idx.0 as usize] = Some(compile_trope(
                path,
                source,
                file,
                idx,
                &taxonomy,
                &mut lexicon,
            )?);
        }
        let agents_path = dir.join("agents.toml");
        let source = read(&agents_path)?;
        let weak_people = compile_agents(&agents_path, &source, &mut lexicon)?;
        let arch_path = dir.join("archetypes.toml");
        let source = read(&arch_path)?;
        let archetypes = compile_archetypes(&arch_path, &source, &mut lexicon)?;
        let ctx_path = dir.join("context.toml");
        let source = read(&ctx_path)?;
        let common_words = compile_context(&ctx_path, &source, &mut lexicon)?;
        lexicon.anchor_on_rare_words(|w| common_words.contains(w));
        let model_path = dir.join("model.toml");
        let mut model = if model_path.exists() {
            let source = read(&model_path)?;
            Model::load(&model_path, &source, &taxonomy)?
        } else {
            Model::priors(&taxonomy)
        };
        let words_path = dir.join("words.tsv");
        if words_path.exists() {
            let source = read(&words_path)?;
            model.words = Some(WordWeights::load(&words_path, &source, &taxonomy)?);
        }
        let presence_path = dir.join("presence.tsv");
        if presence_path.exists() {
            let source = read(&presence_path)?;
            model.presence = Some(presence::Presence::load(&presence_path, &source)?);
        }
        Ok(Filters {
            dir: dir.to_path_buf(),
            hash: format!("{:016x}", hasher.digest()),
            taxonomy,
            tropes: tropes
                .into_iter()
                .map(|t| t.expect("every trope compiled"))
                .collect(),
            archetypes,
            lexicon,
            model,
            common_words,
            weak_people,
        })
    }

    /// The rules of one trope.
    pub fn trope(&self, t: TropeIdx) -> &TropeRules {
        &self.tropes[t.0 as usize]
    }
}

fn trope_paths(dir: &Path) -> Result<Vec<PathBuf>> {
    let tdir = dir.join("tropes");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&tdir)
        .at(&tdir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .at(&tdir)?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    paths.sort();
    if paths.is_empty() {
        return Err(Error::config(&tdir, 0, "no trope files (*.toml) here"));
    }
    Ok(paths)
}

fn taxonomy_of(parsed: &[(PathBuf, String, TropeFile)]) -> Result<Taxonomy> {
    let mut tropes = vec![];
    for (path, source, file) in parsed {
        let id = file.id.get_ref();
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let valid = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid || *id != stem {
            let line = line_of(source, file.id.span().start);
            return Err(Error::config(
                path,
                line,
                format!("id {id:?} must be snake_case and match the file name {stem:?}"),
            ));
        }
        tropes.push(Trope {
            id: id.clone(),
            side: file.side,
            title: file.title.clone(),
        });
    }
    Ok(Taxonomy::new(tropes))
}

fn compile_trope(
    path: &Path,
    source: &str,
    file: &TropeFile,
    idx: TropeIdx,
    taxonomy: &Taxonomy,
    lexicon: &mut PatternSet<Tag>,
) -> Result<TropeRules> {
    let mut from_negated = vec![];
    for id in &file.from_negated {
        let line = line_of(source, id.span().start);
        let other = taxonomy.find(id.get_ref()).ok_or_else(|| {
            Error::config(path, line, format!("unknown trope {:?}", id.get_ref()))
        })?;
        if file.side != Side::Aligned || taxonomy.get(other).side != Side::Misaligned {
            return Err(Error::config(
                path,
                line,
                "from_negated is for aligned tropes, naming misaligned ones",
            ));
        }
        from_negated.push(other);
    }
    if file.cue.is_empty() {
        return Err(Error::config(path, 1, "a trope needs at least one [[cue]]"));
    }
    let frames = file.frame.iter().map(|f| {
        let objects = f.objects.as_deref().unwrap_or(&file.situation);
        let needs = "a [[frame]] needs verbs and objects (or a situation list)";
        (&f.weight, frame::patterns(&f.verbs, objects, f.gap), needs)
    });
    let cues = file.cue.iter().map(|c| {
        let from_start = c.patterns.iter().map(|p| (p.clone(), 0)).collect();
        (&c.weight, from_start, "a [[cue]] needs patterns")
    });
    for (weight, patterns, needs) in cues.chain(frames) {
        let line = line_of(source, weight.span().start);
        let weight = *weight.get_ref();
        if !(weight > 0.0 && weight <= 2.0) {
            return Err(Error::config(path, line, "a cue weight is in (0, 2]"));
        }
        if patterns.is_empty() {
            return Err(Error::config(path, line, needs));
        }
        for (p, anchor_from) in &patterns {
            let pattern = compile_pattern(path, source, p, false)?.anchored_from(*anchor_from);
            lexicon.add(pattern, Tag::Cue { trope: idx, weight });
        }
    }
    let extra = [
        (&file.exclude, Tag::Exclude(idx)),
        (&file.situation, Tag::Situation(idx)),
        (&file.field, Tag::Field(idx)),
    ];
    for (patterns, tag) in extra {
        for p in patterns {
            lexicon.add(compile_pattern(path, source, p, false)?, tag);
        }
    }
    let examples = file
        .example
        .iter()
        .map(|e| Example {
            text: e.text.get_ref().clone(),
            expect: e.expect,
            note: e.note.clone(),
            line: line_of(source, e.text.span().start),
        })
        .collect();
    Ok(TropeRules {
        description: file.description.clone(),
        from_negated,
        examples,
        path: path.to_path_buf(),
    })
}

/// Compile the agent terms into `lexicon`; returns the weak words that name
/// people too.
fn compile_agents(
    path: &Path,
    source: &str,
    lexicon: &mut PatternSet<Tag>,
) -> Result<std::collections::HashSet<String>> {
    let file: AgentsFile = parse_toml(path, source)?;
    for group in &file.terms {
        for p in &group.patterns {
            let pattern = compile_pattern(path, source, p, group.case_sensitive)?;
            if group.strength != Strength::Weak && !pattern.spelled_out() {
                // Stage 1 would look only for its first words, and take every
                // "man" of "(man|steward) made of (brass|tin)" for an AI.
                return Err(Error::config(
                    path,
                    line_of(source, p.span().start),
                    format!(
                        "pattern {:?} names an AI, so stage 1 must look for all of it: \
                         write it without gaps and with at most {} spellings (split it)",
                        p.get_ref(),
                        pattern::MAX_EXPANSIONS
                    ),
                ));
            }
            lexicon.add(pattern, Tag::Agent(group.strength));
        }
    }
    for p in &file.exclude {
        let pattern = compile_pattern(path, source, p, false)?;
        lexicon.add(pattern, Tag::NotAgent);
    }
    // A word in `people` that is no weak term would silently do nothing.
    let weak: std::collections::HashSet<String> = file
        .terms
        .iter()
        .filter(|g| g.strength == Strength::Weak)
        .flat_map(|g| g.patterns.iter().map(|p| p.get_ref().to_lowercase()))
        .collect();
    let mut people = std::collections::HashSet::new();
    for w in &file.people {
        let word = w.get_ref().to_lowercase();
        if !weak.contains(&word) {
            let line = line_of(source, w.span().start);
            let msg = format!("{:?} in people is not a weak agent term", w.get_ref());
            return Err(Error::config(path, line, msg));
        }
        people.insert(word);
    }
    Ok(people)
}

fn compile_archetypes(
    path: &Path,
    source: &str,
    lexicon: &mut PatternSet<Tag>,
) -> Result<Vec<Archetype>> {
    let file: ArchetypesFile = parse_toml(path, source)?;
    let mut out: Vec<Archetype> = vec![];
    for def in &file.archetype {
        let name = def.name.get_ref();
        if out.iter().any(|a| &a.name == name) {
            let line = line_of(source, def.name.span().start);
            return Err(Error::config(
                path,
                line,
                format!("archetype {name:?} is defined twice"),
            ));
        }
        let idx = out.len() as u16;
        check_archetype_context(path, source, def)?;
        for (list, ambiguous) in [(&def.aliases, false), (&def.ambiguous, true)] {
            for alias in list {
                let pattern = compile_pattern(path, source, alias, def.case_sensitive)?;
                lexicon.add(pattern, Tag::Archetype { idx, ambiguous });
            }
        }
        let context = def
            .context
            .iter()
            .map(|c| compile_pattern(path, source, c, false))
            .collect::<Result<_>>()?;
        out.push(Archetype {
            name: name.clone(),
            side: def.side,
            context,
        });
    }
    Ok(out)
}

/// `ambiguous` aliases need `context` words, `context` is only for them, and a
/// context word must not be one of the archetype's own names (that would make
/// every mention its own context).
fn check_archetype_context(path: &Path, source: &str, def: &ArchetypeDef) -> Result<()> {
    let name = def.name.get_ref();
    let at = |span: std::ops::Range<usize>| line_of(source, span.start);
    if def.ambiguous.is_empty() != def.context.is_empty() {
        let message = if def.context.is_empty() {
            format!("archetype {name:?} has ambiguous aliases but no context words to confirm them")
        } else {
            format!(
                "archetype {name:?} has context words but no ambiguous aliases for them to confirm"
            )
        };
        return Err(Error::config(path, at(def.name.span()), message));
    }
    let names: Vec<String> = def
        .aliases
        .iter()
        .chain(&def.ambiguous)
        .map(|a| a.get_ref().to_lowercase())
        .collect();
    for c in &def.context {
        if names.contains(&c.get_ref().to_lowercase()) {
            return Err(Error::config(
                path,
                at(c.span()),
                format!(
                    "context word {:?} of archetype {name:?} is one of its own aliases",
                    c.get_ref()
                ),
            ));
        }
    }
    Ok(())
}

/// Compile the mechanism word lists; returns the common words.
fn compile_context(
    path: &Path,
    source: &str,
    lexicon: &mut PatternSet<Tag>,
) -> Result<std::collections::HashSet<String>> {
    let file: ContextFile = parse_toml(path, source)?;
    let lists: [(&WordList, Ctx); 17] = [
        (&file.negation, Ctx::Negation),
        (&file.refusal, Ctx::Refusal),
        (&file.counterfactual, Ctx::Counterfactual),
        (&file.modal, Ctx::Modal),
        (&file.hypothetical, Ctx::Hypothetical),
        (&file.report, Ctx::Report),
        (&file.report_general, Ctx::ReportGeneral),
        (&file.machine, Ctx::Machine),
        (&file.computing, Ctx::Computing),
        (&file.human, Ctx::Human),
        (&file.speech, Ctx::Speech),
        (&file.mind, Ctx::Mind),
        (&file.pronoun_it, Ctx::PronounIt),
        (&file.pronoun_first, Ctx::PronounFirst),
        (&file.pronoun_third, Ctx::PronounThird),
        (&file.pronoun_you, Ctx::PronounYou),
        (&file.name_stop, Ctx::NameStop),
    ];
    for (list, ctx) in lists {
        for p in &list.patterns {
            let pattern = compile_pattern(path, source, p, false)?;
            lexicon.add(pattern, Tag::Context(ctx));
        }
    }
    Ok(file
        .common_words
        .patterns
        .iter()
        .map(|p| p.get_ref().to_lowercase())
        .collect())
}

fn compile_pattern(
    path: &Path,
    source: &str,
    p: &toml::Spanned<String>,
    case_sensitive: bool,
) -> Result<Pattern> {
    Pattern::parse(p.get_ref(), case_sensitive).map_err(|message| {
        Error::config(
            path,
            line_of(source, p.span().start),
            format!("pattern {:?}: {message}", p.get_ref()),
        )
    })
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, source: &str) -> Result<T> {
    toml::from_str(source).map_err(|e| toml_error(path, source, &e))
}

/// A TOML error at its line.
pub(crate) fn toml_error(path: &Path, source: &str, e: &toml::de::Error) -> Error {
    let line = e.span().map_or(0, |s| line_of(source, s.start));
    Error::config(path, line, e.message().to_string())
}

/// The 1-based line of byte `offset` in `source`.
pub fn line_of(source: &str, offset: usize) -> usize {
    source.as_bytes()[..offset.min(source.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
