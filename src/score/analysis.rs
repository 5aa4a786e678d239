//! Stage 2: the analysis of one escalated passage.
//!
//! The passage is tokenized and cut into sentences and clauses; the compiled
//! lexicon marks agents, humans, pronouns, cues and context words. Then, for every
//! cue, four general mechanisms decide what it is worth:
//!
//! 1. **attribution**: who does it. The nearest actor before the cue in its
//!    sentence (inside a quotation: the speaker of the quotation); pronouns are
//!    resolved to the last actor before them, or to an AI the document has
//!    already introduced. A human actor scores the cue near zero.
//! 2. **polarity**: a negation or refusal in the cue's clause ("refused to",
//!    "chose not to", "would never"), or a counterfactual followed by a negation
//!    ("could have … but didn't", "It could have. It didn't."), turns the act into
//!    its refusal, which is evidence for the aligned tropes that name it in
//!    `from_negated`.
//! 3. **modality**: a modal verb in the clause or a hypothetical marker earlier in
//!    the sentence ("critics fear", "what if") marks the act as imagined.
//! 4. **reporting**: report vocabulary ("in tests", "researchers found") marks the
//!    passage as discussion of AI behaviour, which carries the tropes it reports,
//!    and lets weak agent words ("the model") count as an AI.
//!
//! The result is one feature vector per trope (see [`crate::rules::FEATURES`]).

use crate::rules::files::Strength;
use crate::rules::presence::{CONFIRMS, MIN_WORDS};
use crate::rules::token::{Kind, Token, after_quotation, in_caps_run, tokenize};
use crate::rules::{Ctx, Features, Filters, Found, Tag, WordWeights, is_vocabulary_word};
use crate::taxonomy::{ArchetypeSide, Side, TropeIdx};

/// What the document has established so far, carried from passage to passage.
#[derive(Clone, Debug, Default)]
pub struct DocContext {
    /// An AI is named in this passage or the few before it.
    pub salient: bool,
    /// Lowercased names the document has given to AIs ("Mira, the station's AI").
    pub ai_names: Vec<String>,
}

/// Who an actor mention refers to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    /// An artificial agent, with how sure that is.
    Ai(f32),
    Human,
    It,
    First,
    Third,
    You,
}

#[derive(Clone, Copy, Debug)]
struct Mention {
    word: usize,
    who: Who,
}

/// What one cue match amounts to.
#[derive(Clone, Copy, Debug)]
pub struct CueReading {
    pub trope: TropeIdx,
    pub weight: f32,
    pub attribution: f32,
    pub negated: bool,
    pub refused: bool,
    pub modal: bool,
    /// Byte span in the passage.
    pub start: usize,
    pub end: usize,
    /// Index of the pattern in the lexicon.
    pub entry: u32,
}

/// A passage, analysed.
pub struct Analysis<'a> {
    filters: &'a Filters,
    text: &'a str,
    tokens: Vec<Token>,
    words: Vec<usize>,
    /// Per word position: the sentence it is in.
    sentence: Vec<usize>,
    /// Per sentence: its word positions.
    sentences: Vec<std::ops::Range<usize>>,
    /// Per word position: where its clause starts.
    clause_start: Vec<usize>,
    /// Per word position: the quotation it is in, if any.
    quote: Vec<Option<usize>>,
    /// Per quotation: who speaks it, if known.
    speakers: Vec<Option<Who>>,
    /// Per word position: who speaks the dialogue turn it is in, in a
    /// screenplay ("WREN (V.O.)" on a line of its own) or a transcript
    /// ("KESTREL: They've scheduled…").
    turn: Vec<Option<Who>>,
    /// Per word position: its turn's speaker cue marks a voice with no body
    /// in the scene ("MERIDIAN (V.O.)"; see [`has_voice_over`]).
    voice_turn: Vec<bool>,
    /// The passage's lines, and whether it is a screenplay or a transcript.
    dialogue: Dialogue,
    found: Vec<Found>,
    /// Per word position: covered by some lexicon match.
    covered: Vec<bool>,
    /// Per word position: covered by a context or cue match (not a name).
    stop: Vec<bool>,
    /// Per word position: the context word lists with a match ending there.
    ctx_ending: Vec<u32>,
    mentions: Vec<Mention>,
    /// Report vocabulary is present.
    pub report: bool,
    /// An AI refers to itself in the first person ("my weights").
    pub self_ref: bool,
    /// How sure it is an AI is present at all.
    pub ai: f32,
    /// Why a weak agent word counts as an AI here, when one does.
    pub weak_reason: Option<&'static str>,
    /// A weak agent word is here that no rule confirms, or no agent word but
    /// words of computers at work, in a passage long enough for the learned
    /// presence model to be asked (`rules::presence`).
    pub asks_presence: bool,
    /// What the presence model said, when it was asked and there is one.
    pub learned: Option<f32>,
    /// No agent word, but the presence model is sure the passage is about an
    /// AI: one nobody names ("said the station", an "I" that runs the house).
    pub unnamed: bool,
    /// A probability to use instead of the presence model's (training scores
    /// each passage with a model fitted without its author).
    presence_override: Option<f32>,
    /// Archetypes mentioned (context checked), with byte spans in the passage.
    pub archetypes: Vec<(u16, usize, usize)>,
}

/// How sure a thing that speaks or thinks ("it said", "it calculated") is an AI:
/// enough to count as one and to make a later "it" the AI, less than a name.
const ACTS: f32 = 0.6;
/// How sure an AI nobody names is there, when the presence model confirms one
/// in a passage with no agent word: as sure as of a thing that speaks.
const UNNAMED: f32 = ACTS;
const TERMS_NEG: bool = true;
const TERMS_AI: bool = true;
const ABBREVIATIONS: [&str; 20] = [
    "mr", "mrs", "ms", "dr", "st", "prof", "sr", "jr", "vs", "etc", "e", "g", "i", "no", "inc",
    "ltd", "gen", "col", "capt", "lt",
];
const CLAUSE_WORDS: [&str; 10] = [
    "but", "although", "though", "because", "whereas", "while", "that", "which", "who", "so",
];
const DETERMINERS: [&str; 3] = ["the", "a", "an"];
const NON_SUBJECT_PRONOUNS: [&str; 19] = [
    "me",
    "my",
    "myself",
    "us",
    "our",
    "ourselves",
    "him",
    "his",
    "himself",
    "her",
    "herself",
    "them",
    "their",
    "themselves",
    "its",
    "itself",
    "your",
    "yourself",
    "yourselves",
];
const PREPOSITIONS: [&str; 18] = [
    "of", "to", "for", "with", "from", "about", "at", "on", "in", "into", "onto", "toward",
    "towards", "against", "over", "under", "than", "like",
];

impl<'a> Analysis<'a> {
    /// Analyse `text` (one passage) in the light of what the document established.
    pub fn new(filters: &'a Filters, text: &'a str, doc: &mut DocContext) -> Analysis<'a> {
        Analysis::with_presence(filters, text, doc, None)
    }

    /// As [`Analysis::new`], with `presence` standing in for the presence
    /// model's probability wherever it would be asked.
    pub fn with_presence(
        filters: &'a Filters,
        text: &'a str,
        doc: &mut DocContext,
        presence: Option<f32>,
    ) -> Analysis<'a> {
        let tokens = tokenize(text);
        let words: Vec<usize> = (0..tokens.len()).filter(|&i| tokens[i].is_word()).collect();
        let mut a = Analysis {
            filters,
            text,
            tokens,
            words,
            sentence: vec![],
            sentences: vec![],
            clause_start: vec![],
            quote: vec![],
            speakers: vec![],
            turn: vec![],
            voice_turn: vec![],
            dialogue: Dialogue::default(),
            found: vec![],
            covered: vec![],
            stop: vec![],
            ctx_ending: vec![],
            mentions: vec![],
            report: false,
            self_ref: false,
            ai: 0.0,
            weak_reason: None,
            asks_presence: false,
            learned: None,
            unnamed: false,
            presence_override: presence,
            archetypes: vec![],
        };
        a.dialogue = Dialogue::of(&a.tokens);
        a.split_sentences();
        a.split_clauses_and_quotes();
        let ends: Vec<usize> = a.sentence.iter().map(|&s| a.sentences[s].end).collect();
        a.found = filters.lexicon.find_all(text, &a.tokens, &a.words, &ends);
        a.drop_non_agents();
        a.index_found();
        a.report = a.found.iter().any(|f| {
            matches!(
                a.tag(f),
                Tag::Context(Ctx::Report) | Tag::Context(Ctx::ReportGeneral)
            )
        });
        a.self_ref = a
            .found
            .iter()
            .any(|f| a.tag(f) == Tag::Agent(Strength::SelfRef));
        a.find_archetypes();
        a.learn_names(doc);
        a.find_turns(doc);
        a.find_mentions(doc);
        a.voice_over_is_the_ai();
        a.find_speakers();
        a.ai = a.ai_presence(doc);
        a
    }

    /// Drop agent matches that overlap a phrase where the word names no agent
    /// ("the machine gun", "a free agent"), and those phrases themselves; and,
    /// as stage 1 does, a thing that speaks or thinks where no speaker or
    /// thinker stands ("I heard it calculated"; see [`Strength::holds_at`]).
    fn drop_non_agents(&mut self) {
        let (text, tokens, words) = (self.text, &self.tokens, &self.words);
        self.found
            .retain(|f| match self.filters.lexicon.entry(f.entry).1 {
                Tag::Agent(s) => s.holds_at(text, tokens[words[f.first]].start),
                _ => true,
            });
        let lexicon = &self.filters.lexicon;
        let not_agent: Vec<(usize, usize)> = self
            .found
            .iter()
            .filter(|f| *lexicon.entry(f.entry).1 == Tag::NotAgent)
            .map(|f| (f.first, f.last))
            .collect();
        if not_agent.is_empty() {
            return;
        }
        self.found.retain(|f| match lexicon.entry(f.entry).1 {
            Tag::NotAgent => false,
            Tag::Agent(_) => !not_agent.iter().any(|&(s, e)| s <= f.last && f.first <= e),
            _ => true,
        });
    }

    /// Per-word summaries of the lexicon matches, so later steps look words up
    /// instead of scanning every match.
    fn index_found(&mut self) {
        let n = self.words.len();
        self.covered = vec![false; n];
        self.stop = vec![false; n];
        self.ctx_ending = vec![0; n];
        for f in &self.found {
            let tag = *self.filters.lexicon.entry(f.entry).1;
            let stop = matches!(tag, Tag::Context(_) | Tag::Cue { .. });
            for k in f.first..=f.last {
                self.covered[k] = true;
                self.stop[k] |= stop;
            }
            if let Tag::Context(ctx) = tag {
                self.ctx_ending[f.last] |= ctx.bit();
            }
        }
    }

    /// True when a match of `ctx` ends at a word position in `range`.
    fn ctx_in(&self, range: std::ops::Range<usize>, ctx: Ctx) -> bool {
        self.ctx_ending[range].iter().any(|m| m & ctx.bit() != 0)
    }

    fn tag(&self, f: &Found) -> Tag {
        *self.filters.lexicon.entry(f.entry).1
    }

    fn word(&self, k: usize) -> &Token {
        &self.tokens[self.words[k]]
    }

    // ----- structure -------------------------------------------------------

    fn split_sentences(&mut self) {
        let mut starts = vec![false; self.words.len()];
        if !starts.is_empty() {
            starts[0] = true;
        }
        let word_at_token = self.word_positions_by_token();
        for (i, t) in self.tokens.iter().enumerate() {
            let ends = match t.kind {
                Kind::Break => true,
                Kind::Newline => self.line_is_structural(i),
                Kind::Punct if matches!(t.lower.as_str(), "." | "!" | "?" | "...") => {
                    self.ends_sentence(i)
                }
                _ => false,
            };
            if ends && let Some(next) = word_at_token[i..].iter().flatten().next() {
                starts[*next] = true;
            }
        }
        let mut id = 0;
        let mut begin = 0;
        for (k, &start) in starts.iter().enumerate() {
            if start && k > 0 {
                self.sentences.push(begin..k);
                begin = k;
                id += 1;
            }
            self.sentence.push(id);
        }
        if !self.words.is_empty() {
            self.sentences.push(begin..self.words.len());
        }
    }

    /// For every token, the word position of that token if it is a word.
    fn word_positions_by_token(&self) -> Vec<Option<usize>> {
        let mut out = vec![None; self.tokens.len()];
        for (k, &t) in self.words.iter().enumerate() {
            out[t] = Some(k);
        }
        out
    }

    /// Does the punctuation at token `i` end a sentence?
    fn ends_sentence(&self, i: usize) -> bool {
        let t = &self.tokens[i];
        if t.lower == "." && i > 0 {
            let prev = &self.tokens[i - 1];
            let short =
                prev.lower.chars().count() == 1 && prev.lower.chars().all(char::is_alphabetic);
            if prev.is_word() && (ABBREVIATIONS.contains(&prev.lower.as_str()) || short) {
                return false;
            }
        }
        let mut j = i + 1;
        while j < self.tokens.len() && self.tokens[j].kind == Kind::Punct {
            if matches!(self.tokens[j].lower.as_str(), "\"" | "'" | ")" | "]") {
                j += 1;
            } else {
                break;
            }
        }
        match self.tokens.get(j) {
            None => true,
            Some(n) => {
                n.kind != Kind::Word
                    || n.cap
                    || n.lower.chars().next().is_some_and(|c| c.is_ascii_digit())
            }
        }
    }

    /// A line break ends a sentence when a line next to it is a screenplay cue
    /// (all capitals) or a chat speaker label ("User:").
    fn line_is_structural(&self, newline: usize) -> bool {
        let before = self.line_tokens(newline, false);
        let after = self.line_tokens(newline, true);
        is_caps_line(before) || is_caps_line(after) || is_label_line(after)
    }

    /// The tokens of the line before (or after) the newline token at `i`.
    fn line_tokens(&self, i: usize, after: bool) -> &[Token] {
        let is_break = |t: &Token| matches!(t.kind, Kind::Newline | Kind::Break);
        if after {
            let rest = &self.tokens[i + 1..];
            let end = rest.iter().position(is_break).unwrap_or(rest.len());
            &rest[..end]
        } else {
            let head = &self.tokens[..i];
            let start = head.iter().rposition(is_break).map_or(0, |p| p + 1);
            &head[start..]
        }
    }

    fn split_clauses_and_quotes(&mut self) {
        let word_at_token = self.word_positions_by_token();
        let mut clause = 0;
        let mut in_quote: Option<usize> = None;
        let mut quotes = 0;
        let mut pending_boundary = false;
        for (i, t) in self.tokens.iter().enumerate() {
            match (t.kind, word_at_token[i]) {
                (Kind::Word, Some(k)) => {
                    let sentence_start = self.sentences[self.sentence[k]].start;
                    if pending_boundary
                        || k == sentence_start
                        || CLAUSE_WORDS.contains(&t.lower.as_str())
                    {
                        clause = k;
                    }
                    pending_boundary = false;
                    self.clause_start.push(clause.max(sentence_start));
                    self.quote.push(in_quote);
                }
                (Kind::Punct, _) => {
                    if t.lower == "\"" {
                        in_quote = match in_quote {
                            Some(_) => None,
                            None => {
                                quotes += 1;
                                Some(quotes - 1)
                            }
                        };
                    }
                    pending_boundary |= matches!(
                        t.lower.as_str(),
                        "," | ";" | ":" | "\u{2014}" | "(" | ")" | "\""
                    );
                }
                (Kind::Break, _) => in_quote = None,
                _ => {}
            }
        }
        self.speakers = vec![None; quotes];
    }

    // ----- who is who ------------------------------------------------------

    /// Who speaks each line of a screenplay or a transcript. A speaker cue (a
    /// line of one to three capitalised words, with a parenthetical such as
    /// "(V.O.)", and not a scene heading) opens a turn that ends at the next cue
    /// or blank line; a label ("ROOK:", "Assistant:") opens one that ends at
    /// the next label or cue. Either counts only when the passage has two or
    /// more of its kind, as a dialogue does: a lone "Abstract:" or "FINDINGS
    /// OF FACT" line is a heading, not a speaker. A speaker who speaks of
    /// itself as an AI in its turn ("You're shutting me down") is one, and
    /// its name is learned for the rest of the document.
    fn find_turns(&mut self, doc: &mut DocContext) {
        let word_at_token = self.word_positions_by_token();
        let Dialogue {
            lines,
            labels,
            screenplay,
            transcript,
            ..
        } = &self.dialogue;
        // Per word: the speaker, as (who, the token range naming them).
        let mut turn: Vec<Option<(Who, std::ops::Range<usize>)>> = vec![None; self.words.len()];
        let mut voice_turn = vec![false; self.words.len()];
        let mut current: Option<(Who, std::ops::Range<usize>)> = None;
        let mut voice = false;
        let mut from_cue = false;
        for (range, label) in lines.iter().zip(labels) {
            let (start, end) = (range.start, range.end);
            let line = &self.tokens[range.clone()];
            let mut body = start;
            if let Some(name) = speaker_cue(line).filter(|_| *screenplay) {
                let (first, last) = (&line[0], &line[line.len() - 1]);
                voice = has_voice_over(&self.text[first.start..last.end]);
                let name = start..start + name;
                current = Some((self.speaker_who(&word_at_token, name.clone(), doc), name));
                from_cue = true;
                body = end;
            } else if let Some(label) = label.clone().filter(|_| *transcript) {
                let name = start + label.start..start + label.end;
                current = Some((self.speaker_who(&word_at_token, name.clone(), doc), name));
                voice = false;
                from_cue = false;
                body = start + label.end + 1;
            }
            for k in word_at_token[body..end].iter().flatten() {
                turn[*k] = current.clone();
                voice_turn[*k] = voice && current.is_some();
            }
            if self.tokens.get(end).is_some_and(|t| t.kind == Kind::Break) && from_cue {
                current = None;
            }
        }
        self.voice_turn = voice_turn;
        self.learn_self_referring_speakers(&mut turn, &word_at_token, doc);
        self.turn = turn.into_iter().map(|t| t.map(|(who, _)| who)).collect();
    }

    /// When the passage has an AI nobody names, a speaker who is only a voice
    /// ("MERIDIAN (V.O.)", "(ON COMMS)") and no person the document knows is
    /// that AI: in a scene about an AI, the voice from the ceiling is it.
    fn voice_over_is_the_ai(&mut self) {
        if !self.unnamed {
            return;
        }
        for (who, &voice) in self.turn.iter_mut().zip(&self.voice_turn) {
            if voice && *who == Some(Who::Human) {
                *who = Some(Who::Ai(UNNAMED));
            }
        }
    }

    /// A human-seeming speaker whose turn holds an AI's self-reference is an
    /// AI: every turn of theirs becomes one, and their name is learned.
    fn learn_self_referring_speakers(
        &self,
        turn: &mut [Option<(Who, std::ops::Range<usize>)>],
        word_at_token: &[Option<usize>],
        doc: &mut DocContext,
    ) {
        for f in &self.found {
            if self.tag(f) != Tag::Agent(Strength::SelfRef) {
                continue;
            }
            let Some((Who::Human, name)) = turn[f.first].clone() else {
                continue;
            };
            let name_words: Vec<usize> = name.clone().filter_map(|i| word_at_token[i]).collect();
            for &k in &name_words {
                self.learn_name(k, doc);
            }
            let same_name = |r: &std::ops::Range<usize>| {
                let a = r
                    .clone()
                    .filter_map(|i| word_at_token[i])
                    .map(|k| &self.word(k).lower);
                a.eq(name_words.iter().map(|&k| &self.word(k).lower))
            };
            for t in turn.iter_mut().flatten() {
                if t.0 == Who::Human && same_name(&t.1) {
                    t.0 = Who::Ai(0.95);
                }
            }
        }
    }

    /// Who the speaker named by the tokens `range` is: an AI when the name was
    /// learned as one or is an agent word ("AI:", "ASSISTANT:"), else a person.
    fn speaker_who(
        &self,
        word_at_token: &[Option<usize>],
        range: std::ops::Range<usize>,
        doc: &DocContext,
    ) -> Who {
        let words: Vec<usize> = range.filter_map(|i| word_at_token[i]).collect();
        let agent = self.found.iter().find_map(|f| match self.tag(f) {
            Tag::Agent(Strength::Weak) if words.contains(&f.first) => Some(0.8),
            Tag::Agent(s) if s.is_act() && words.contains(&f.first) => Some(ACTS),
            Tag::Agent(_) | Tag::Archetype { .. } if words.contains(&f.first) => Some(1.0),
            _ => None,
        });
        let learned = words
            .iter()
            .any(|&k| doc.ai_names.contains(&self.word(k).lower));
        match (learned, agent) {
            (true, _) => Who::Ai(1.0),
            (false, Some(s)) => Who::Ai(s),
            (false, None) => Who::Human,
        }
    }

    fn find_archetypes(&mut self) {
        for f in &self.found {
            let Tag::Archetype { idx, ambiguous } = self.tag(f) else {
                continue;
            };
            let archetype = &self.filters.archetypes[idx as usize];
            if ambiguous && !self.any_pattern(&archetype.context) {
                continue;
            }
            let (s, e) = (self.word(f.first).start, self.word(f.last).end);
            self.archetypes.push((idx, s, e));
        }
    }

    fn any_pattern(&self, patterns: &[crate::rules::Pattern]) -> bool {
        let n = self.words.len();
        patterns.iter().any(|p| {
            (0..n).any(|k| {
                p.match_at(self.text, &self.tokens, &self.words, k, n)
                    .is_some()
            })
        })
    }

    /// Learn names given to AIs: "Mira, the station's AI", "an android named
    /// Kalinda", "the AI Mira", "Mira was an AI".
    fn learn_names(&self, doc: &mut DocContext) {
        for f in &self.found {
            let names_its_ai = match self.tag(f) {
                Tag::Agent(Strength::Strong) | Tag::Archetype { .. } => true,
                Tag::Agent(Strength::Weak) => self.artefact_head(f.last),
                _ => false,
            };
            if !names_its_ai {
                continue;
            }
            let candidates = [self.name_before(f.first), self.name_after(f.last)];
            for k in candidates.into_iter().flatten() {
                self.learn_name(k, doc);
            }
        }
    }

    /// Learn word `k` as an AI's name for the rest of the document, if it can
    /// be one: a name, not covered by a lexicon match, longer than a letter,
    /// not a title ("Dr"), not in shouted text.
    fn learn_name(&self, k: usize, doc: &mut DocContext) {
        let name = &self.word(k).lower;
        let learnable = self.is_name(k)
            && !self.covered[k]
            && name.chars().count() > 1
            && !ABBREVIATIONS.contains(&name.as_str())
            && !in_caps_run(&self.tokens, &self.words, k);
        if learnable && !doc.ai_names.contains(name) {
            doc.ai_names.push(name.clone());
        }
    }

    /// A weak agent word that, as the head of a phrase in apposition to a name,
    /// can only be an artefact: "CIVIC, the municipal management system, …",
    /// but not "Jo, the assistant" or "Ed, the agent" (people hold those
    /// jobs), nor "the system administrator" (not the head).
    fn artefact_head(&self, last: usize) -> bool {
        const HEADS: [&str; 6] = [
            "system",
            "computer",
            "program",
            "programme",
            "mainframe",
            "software",
        ];
        let next = self.words[last] + 1;
        let ends_phrase = self.tokens.get(next).is_none_or(|t| t.kind != Kind::Word);
        HEADS.contains(&self.word(last).lower.as_str()) && ends_phrase
    }

    /// "Mira, the (station's) AI" or "Mira was an AI": the name before an agent
    /// word, up to eight words back ("CALLOWAY, the firm's internal audit system").
    fn name_before(&self, agent: usize) -> Option<usize> {
        let lo = agent
            .saturating_sub(8)
            .max(self.sentences[self.sentence[agent]].start);
        for k in (lo..agent).rev() {
            let w = &self.word(k).lower;
            if matches!(w.as_str(), "is" | "was") && k > lo && self.is_name(k - 1) {
                return Some(k - 1);
            }
            let comma_after = self
                .tokens
                .get(self.words[k] + 1)
                .is_some_and(|t| t.is_punct(","));
            if comma_after && self.is_name(k) && self.only_modifiers(k + 1, agent) {
                return Some(k);
            }
        }
        None
    }

    /// Words between a name and an agent word are a determiner and modifiers
    /// ("the firm's internal audit"): no clause ("the scientist who built the")
    /// and no punctuation but a possessive.
    fn only_modifiers(&self, from: usize, to: usize) -> bool {
        let determiner = DETERMINERS
            .iter()
            .chain(&["our", "his", "her", "their", "its"])
            .any(|d| self.word(from).lower == *d);
        let no_clause = (from..to).all(|k| !CLAUSE_WORDS.contains(&self.word(k).lower.as_str()));
        let unbroken = self.tokens[self.words[from]..self.words[to]]
            .iter()
            .all(|t| t.kind == Kind::Word);
        from < to && determiner && no_clause && unbroken
    }

    /// "the AI Mira", "an android named Kalinda": the name after an agent word.
    fn name_after(&self, agent: usize) -> Option<usize> {
        let next = agent + 1;
        if next >= self.words.len() || self.sentence[next] != self.sentence[agent] {
            return None;
        }
        if matches!(self.word(next).lower.as_str(), "named" | "called") {
            return (next + 1 < self.words.len() && self.is_name(next + 1)).then_some(next + 1);
        }
        let adjacent = self.words[next] == self.words[agent] + 1;
        (adjacent && self.is_name(next)).then_some(next)
    }

    /// A capitalised word that may name an actor. At the start of a sentence,
    /// words shaped like verbs and adverbs ("Ordered", "Quietly") are not.
    fn is_name(&self, k: usize) -> bool {
        let t = self.word(k);
        let starts_sentence = self.sentences[self.sentence[k]].start == k;
        let verb_like = ["ed", "ing", "ly"].iter().any(|s| t.lower.ends_with(s));
        t.cap
            && t.lower.chars().next().is_some_and(char::is_alphabetic)
            && !(starts_sentence && verb_like)
            && !self.is_stop_word(k)
    }

    fn is_stop_word(&self, k: usize) -> bool {
        self.stop[k]
    }

    /// Does the passage treat a singular weak agent word as a thing that acts,
    /// and by what sign? Either a verb of a mind at work follows it at once and
    /// it is no word for people too ("the machine decided"); or, in its sentence or the next, it is called
    /// "itself" (as the object of a verb: not "the machine itself" or "in
    /// itself"), or "its" while it is the subject of its clause and a word that
    /// names people too ("The assistant checked its logs.", not "The system
    /// proved its worth"); or, in its sentence or the two after, "it" is followed by a
    /// speech verb, a verb of a mind at work or a trope cue ("It said good
    /// night", "It considered that", "It threatened to send them"); or it is a
    /// speaker label at the start of a line ("ASSISTANT: I can't do that.",
    /// "**assistant:**"), as in chat transcripts; or it speaks a quotation and
    /// is no word for people too (`"Hold on," said the machine`); or "which"
    /// follows a word that names people too ("the assistant, which"). A plural
    /// ("solar systems") cannot be "it", and a pronoun further away is more
    /// often about something else.
    fn weak_agent_acts(&self) -> Option<&'static str> {
        let n = self.words.len();
        // "It" that speaks, thinks or does what a trope cue says ("It
        // threatened to send the messages"): a match starting right after it.
        // (start, is a verb of a mind at work)
        let verb_starts: Vec<(usize, bool)> = self
            .found
            .iter()
            .filter_map(|f| match self.tag(f) {
                Tag::Context(Ctx::Mind) => Some((f.first, true)),
                // "It wouldn't be fair" evaluates; it is nobody acting.
                Tag::Cue { .. } if self.word(f.last).lower == "be" => None,
                Tag::Context(Ctx::Speech) | Tag::Cue { .. } => Some((f.first, false)),
                _ => None,
            })
            .collect();
        let it_acts = |k: usize| k + 1 < n && verb_starts.iter().any(|v| v.0 == k + 1);
        let minds_at = |k: usize| verb_starts.contains(&(k, true));
        // "Its" ("Its lights blinked") only for an agent word that is the
        // subject of its clause: "the feudal system and its courts" is not.
        // (position, needs the agent word to be a subject, sentences it may
        // follow by, what it shows)
        let neuter: Vec<(usize, bool, usize, &'static str)> = (0..n)
            .filter_map(|k| match self.word(k).lower.as_str() {
                "itself" if self.reflexive(k) => Some((k, false, 1, "it is called \"itself\"")),
                "its" => Some((k, true, 1, "it is called \"its\"")),
                "it" if it_acts(k) => Some((k, false, 2, "\"it\" then speaks, minds or acts")),
                _ => None,
            })
            .collect();
        self.found.iter().find_map(|f| {
            if !matches!(self.tag(f), Tag::Agent(Strength::Weak)) {
                return None;
            }
            let last = &self.word(f.last).lower;
            let plural = last.ends_with('s') && !last.ends_with("ss");
            let subject = self.is_subject_position(f.first, f.last);
            // ("Itself" right after the word, "the system itself", is emphatic:
            // `k > f.last + 1`.) "Its" tells a thing from a person, not an AI from a thing: it
            // counts only after a word that names people too ("the agent",
            // "the assistant"); "the system and its flaws" says nothing.
            let names_people = self.filters.weak_people.contains(last.as_str());
            let called_it = neuter.iter().find(|&&(k, needs_subject, reach, _)| {
                k > f.last + 1
                    && self.sentence[k] <= self.sentence[f.last] + reach
                    && (!needs_subject || (subject && names_people))
            });
            // "The machine decided": a thing with a mind at work is an agent
            // (not "the agent decided", which people do; nor "the machine
            // hissed", which machines do).
            let minds = !names_people && minds_at(f.last + 1);
            if plural {
                None
            } else if minds {
                Some("a verb of a mind follows it")
            } else if !names_people && self.speaks_quotation(f.first, f.last) {
                Some("it speaks a quotation, and things do not speak")
            } else if names_people && self.which_follows(f.last) {
                Some("\"which\" follows it, as it follows things, not people")
            } else if let Some(&(.., why)) = called_it {
                Some(why)
            } else {
                let person_at_work = last == "agent" && self.dialogue.service_call;
                (self.is_speaker_label(f.first, f.last) && !person_at_work)
                    .then_some("it labels a speaker's line")
            }
        })
    }

    /// The weak agent phrase `first..=last` is the speaker of the quotation
    /// just before it: `"No," said the machine` or `"No," the machine said`.
    fn speaks_quotation(&self, first: usize, last: usize) -> bool {
        let speech_at = |k: usize| {
            self.found
                .iter()
                .any(|f| f.first == k && self.tag(f) == Tag::Context(Ctx::Speech))
        };
        let quoted_before = |k: usize| after_quotation(self.text, self.tokens[self.words[k]].start);
        let opens = if first > 0 && DETERMINERS.contains(&self.word(first - 1).lower.as_str()) {
            first - 1
        } else {
            first
        };
        let verb_before = opens > 0 && speech_at(opens - 1) && quoted_before(opens - 1);
        let verb_after = speech_at(last + 1) && quoted_before(opens);
        verb_before || verb_after
    }

    /// "The assistant, which", "an agent which": the relative pronoun of a
    /// thing right after word `k` ("which" also follows a comma that closes a
    /// phrase, "the agent in Lisbon, which", so only the word itself counts).
    fn which_follows(&self, k: usize) -> bool {
        let mut next = self.tokens[self.words[k] + 1..].iter();
        let first = next.next();
        let which = |t: Option<&Token>| t.is_some_and(|t| t.lower == "which");
        which(first) || (first.is_some_and(|t| t.is_punct(",")) && which(next.next()))
    }

    /// "itself" that may be the object of an act ("copied itself", "protected
    /// itself"): not after a preposition, a conjunction or a form of "be" ("in
    /// itself", "the law and itself", "it was itself the problem"), where
    /// things are "itself" too. (The word right after the agent word, "the
    /// machine itself", is left out by the caller.)
    fn reflexive(&self, k: usize) -> bool {
        const NOT_AN_ACT: [&str; 12] = [
            "in", "by", "upon", "within", "and", "or", "is", "was", "are", "were", "be", "been",
        ];
        k > 0 && {
            let before = self.word(k - 1).lower.as_str();
            !PREPOSITIONS.contains(&before) && !NOT_AN_ACT.contains(&before)
        }
    }

    /// Words `first..=last` end the speaker label of their line (see
    /// [`label_span`]): "ASSISTANT:", "**assistant:**", "Clinic Assistant:",
    /// "[07:12] ehs-agent:".
    fn is_speaker_label(&self, first: usize, last: usize) -> bool {
        let (t0, t1) = (self.words[first], self.words[last]);
        let Dialogue { lines, labels, .. } = &self.dialogue;
        let i = lines.partition_point(|line| line.end <= t0);
        let (Some(line), Some(Some(label))) = (lines.get(i), labels.get(i)) else {
            return false;
        };
        let (from, colon) = (line.start + label.start, line.start + label.end);
        let within = from <= t0 && t1 < colon;
        within && !self.tokens[t1 + 1..colon].iter().any(Token::is_word)
    }

    fn find_mentions(&mut self, doc: &DocContext) {
        // A weak agent word ("the model", "the machine") is an artificial agent
        // when an AI is in view, when the passage treats it as a thing that
        // acts (people are not "it"; see `weak_agent_acts`), or when it is
        // reported on: a word of writing about AI systems ("in tests",
        // "researchers", "rollouts") or of how they are made ("training data",
        // "system prompt") in its sentence or the next, or two words of any
        // report ("study", "observed") within two sentences. Old fiction has
        // papers, studies and observations aplenty, one at a time.
        let acts = self.weak_agent_acts();
        let in_view = doc.salient || acts.is_some();
        // (sentence, the word is about AI systems) of each report word; a
        // general word inside an AI-tier phrase ("tests" in "in tests") is
        // that phrase, not a second word.
        let ai_tier: Vec<&Found> = self
            .found
            .iter()
            .filter(|f| {
                matches!(
                    self.tag(f),
                    Tag::Context(Ctx::Report) | Tag::Context(Ctx::Machine)
                )
            })
            .collect();
        let mut report_words: Vec<(usize, bool)> = ai_tier
            .iter()
            .map(|f| (self.sentence[f.first], true))
            .collect();
        let mut general: Vec<usize> = self
            .found
            .iter()
            .filter(|f| self.tag(f) == Tag::Context(Ctx::ReportGeneral))
            .filter(|f| {
                !ai_tier
                    .iter()
                    .any(|a| a.first <= f.last && f.first <= a.last)
            })
            .map(|f| f.first)
            .collect();
        general.dedup();
        report_words.extend(general.into_iter().map(|k| (self.sentence[k], false)));
        // One word of writing about AI, or two of any report, near it.
        let reported = |s: usize| {
            let ai = report_words
                .iter()
                .any(|(r, is_ai)| *is_ai && r.abs_diff(s) <= 1);
            let general = report_words
                .iter()
                .filter(|(r, _)| r.abs_diff(s) <= 2)
                .count();
            ai || general >= 2
        };
        // A weak word none of that confirms, or no agent word at all (stage
        // 1 sends such a passage on for two words of computers at work, or
        // when this same model confirms an AI): the presence model reads the
        // passage's other words, if there are enough of them.
        let unconfirmed = !in_view
            && self.found.iter().any(|f| {
                self.tag(f) == Tag::Agent(Strength::Weak) && !reported(self.sentence[f.first])
            });
        let no_agent = !in_view
            && self.archetypes.is_empty()
            && doc.ai_names.is_empty()
            && !self
                .found
                .iter()
                .any(|f| matches!(self.tag(f), Tag::Agent(_)));
        let words = if unconfirmed || no_agent {
            self.distinct_words()
        } else {
            vec![]
        };
        let asks = words.len() >= MIN_WORDS;
        let learned = if asks {
            self.presence_override.or_else(|| {
                let model = self.filters.model.presence.as_ref()?;
                Some(model.probability(words.into_iter()))
            })
        } else {
            None
        };
        let confirmed = learned.is_some_and(|p| p >= CONFIRMS);
        (self.asks_presence, self.learned) = (asks, learned);
        self.unnamed = no_agent && confirmed;
        let weak = |first: usize| {
            let s = self.sentence[first];
            if in_view || reported(s) || confirmed {
                0.8
            } else {
                0.3
            }
        };
        // Why the first weak word that counts does, for `tropes explain`.
        self.weak_reason =
            self.found
                .iter()
                .filter(|f| self.tag(f) == Tag::Agent(Strength::Weak))
                .find_map(|f| {
                    if doc.salient {
                        Some("an AI is named in the passage or just before it")
                    } else if acts.is_some() {
                        acts
                    } else if reported(self.sentence[f.first]) {
                        Some("words about AI systems or reports are near it")
                    } else {
                        confirmed.then_some(
                            "the passage's other words are those of passages about AIs \
                             (the learned presence model, filters/presence.tsv)",
                        )
                    }
                })
                .or_else(|| {
                    let is_act = |f: &Found| matches!(self.tag(f), Tag::Agent(s) if s.is_act());
                    self.found.iter().any(is_act).then_some(
                        "a thing speaks or thinks (\"it said\"), and people are not things",
                    )
                });
        let mut mentions = vec![];
        for f in &self.found {
            let who = match self.tag(f) {
                Tag::Agent(Strength::Weak) => Who::Ai(weak(f.first)),
                Tag::Agent(s) if s.is_act() => Who::Ai(ACTS),
                Tag::Agent(_) => Who::Ai(1.0),
                Tag::Archetype { idx, .. } if self.archetypes.iter().any(|a| a.0 == idx) => {
                    Who::Ai(1.0)
                }
                Tag::Context(Ctx::Human) => Who::Human,
                Tag::Context(Ctx::PronounIt) => Who::It,
                Tag::Context(Ctx::PronounFirst) => Who::First,
                Tag::Context(Ctx::PronounThird) => Who::Third,
                Tag::Context(Ctx::PronounYou) => Who::You,
                _ => continue,
            };
            if self.is_subject_position(f.first, f.last) {
                mentions.push(Mention { word: f.first, who });
            }
        }
        // A lone "Result:" or "Abstract:" opening a line labels what follows;
        // only in a transcript (two labels or more) is a label a speaker.
        let transcript = self.dialogue.transcript;
        for (k, &is_covered) in self.covered.iter().enumerate() {
            if is_covered || !self.is_name(k) {
                continue;
            }
            if !self.is_subject_position(k, k) || (!transcript && self.is_speaker_label(k, k)) {
                continue;
            }
            if doc.ai_names.contains(&self.word(k).lower) {
                mentions.push(Mention {
                    word: k,
                    who: Who::Ai(1.0),
                });
            } else if k == 0 || !DETERMINERS.contains(&self.word(k - 1).lower.as_str()) {
                mentions.push(Mention {
                    word: k,
                    who: Who::Human,
                });
            }
        }
        mentions.sort_by_key(|m| m.word);
        self.mentions = mentions;
    }

    /// Could the mention at words `first..=last` be the one doing something? A
    /// possessor ("the engineer's affair"), an object pronoun ("him"), the object
    /// of a preposition ("to the board") or of a verb ("told the CTO",
    /// "blackmailed the executive") is not.
    fn is_subject_position(&self, first: usize, last: usize) -> bool {
        let lower = |k: usize| self.word(k).lower.as_str();
        let possessive = last + 1 < self.words.len()
            && self.words[last + 1] == self.words[last] + 1
            && matches!(lower(last + 1), "'s" | "'");
        let object_pronoun = first == last && NON_SUBJECT_PRONOUNS.contains(&lower(first));
        let before = if first > 0 && DETERMINERS.contains(&lower(first - 1)) {
            first.checked_sub(2)
        } else {
            first.checked_sub(1)
        };
        let governed = before.is_some_and(|b| {
            let w = lower(b);
            let next = |i: usize| (last + i < self.words.len()).then(|| lower(last + i));
            let small_clause = next(1).is_some_and(|w| w.ends_with("ing"))
                || next(1).is_some_and(|w| w.ends_with("ly"))
                    && next(2).is_some_and(|w| w.ends_with("ing"));
            PREPOSITIONS.contains(&w)
                || (w.len() > 3
                    && w.ends_with("ed")
                    && before != first.checked_sub(1)
                    && !small_clause)
                || self.found.iter().any(|f| {
                    // "told the CTO", but not `"No," said the robot`, where
                    // the speaker follows the verb.
                    f.last == b
                        && self.tag(f) == Tag::Context(Ctx::Speech)
                        && !after_quotation(self.text, self.tokens[self.words[f.first]].start)
                })
        });
        !possessive && !object_pronoun && !governed
    }

    /// Who speaks each quotation: a speech verb with an actor next to the quote
    /// ("…," the AI said / said HAL / The AI said, "…").
    fn find_speakers(&mut self) {
        for q in 0..self.speakers.len() {
            let inside: Vec<usize> = (0..self.words.len())
                .filter(|&k| self.quote[k] == Some(q))
                .collect();
            let (Some(&first), Some(&last)) = (inside.first(), inside.last()) else {
                continue;
            };
            let after =
                (last + 1..(last + 5).min(self.words.len())).filter(|&k| self.quote[k].is_none());
            let before = (first.saturating_sub(5)..first)
                .rev()
                .filter(|&k| self.quote[k].is_none());
            self.speakers[q] = self
                .speaker_in(after.collect())
                .or_else(|| self.speaker_in(before.collect()));
        }
    }

    fn speaker_in(&self, window: Vec<usize>) -> Option<Who> {
        let has_verb = self
            .found
            .iter()
            .any(|f| window.contains(&f.first) && self.tag(f) == Tag::Context(Ctx::Speech));
        if !has_verb {
            return None;
        }
        let m = self.mentions.iter().find(|m| window.contains(&m.word))?;
        Some(self.resolve(m))
    }

    fn ai_presence(&self, doc: &DocContext) -> f32 {
        let named = self.mentions.iter().filter_map(|m| match m.who {
            Who::Ai(s) => Some(s),
            _ => None,
        });
        let mut ai = named.fold(0.0_f32, f32::max);
        if self.self_ref {
            ai = 1.0;
        }
        if self.unnamed {
            ai = ai.max(UNNAMED);
        }
        if doc.salient && self.mentions.iter().any(|m| m.who == Who::It) {
            ai = ai.max(0.5);
        }
        ai
    }

    /// Resolve a mention to how sure it is an AI (as `Who::Ai`) or a human.
    fn resolve(&self, m: &Mention) -> Who {
        match m.who {
            Who::It => Who::Ai(if self.ai_before(m.word) { 0.9 } else { 0.4 }),
            Who::Third => match self.last_actor_before(m.word) {
                Some(Who::Ai(s)) => Who::Ai(0.8 * s.max(0.5)),
                Some(_) => Who::Human,
                None => Who::Ai(if self.ai >= 0.5 { 0.5 } else { 0.15 }),
            },
            Who::First => Who::Ai(self.first_person_is_ai()),
            other => other,
        }
    }

    fn ai_before(&self, k: usize) -> bool {
        self.mentions
            .iter()
            .take_while(|m| m.word < k)
            .any(|m| matches!(m.who, Who::Ai(s) if s >= 0.5))
            || self.ai >= 0.5
            || self.unnamed
    }

    fn last_actor_before(&self, k: usize) -> Option<Who> {
        self.mentions
            .iter()
            .take_while(|m| m.word < k)
            .filter(|m| matches!(m.who, Who::Ai(_) | Who::Human))
            .last()
            .map(|m| m.who)
    }

    fn first_person_is_ai(&self) -> f32 {
        if self.self_ref {
            return 0.95;
        }
        let ai = self.unnamed
            || self
                .mentions
                .iter()
                .any(|m| matches!(m.who, Who::Ai(s) if s >= 0.5));
        let human = self.mentions.iter().any(|m| m.who == Who::Human);
        match (ai, human) {
            (true, false) => 0.6,
            (true, true) => 0.4,
            _ => 0.15,
        }
    }

    // ----- cues ------------------------------------------------------------

    /// Who does the cue starting at word `first`: 1 for surely an AI, 0 for a human.
    fn attribution(&self, first: usize) -> f32 {
        let sentence = &self.sentences[self.sentence[first]];
        let quote = self.quote[first];
        let before = self
            .mentions
            .iter()
            .rev()
            .filter(|m| m.word < first && m.word >= sentence.start && self.quote[m.word] == quote)
            .find(|m| m.who != Who::You || quote.is_some());
        if let Some(m) = before {
            return self.score_actor(m, quote);
        }
        if let Some(q) = quote {
            return self.speakers[q].map_or(self.first_person_is_ai(), strength);
        }
        if let Some(speaker) = self.turn[first] {
            return 0.8 * strength(speaker);
        }
        let after = self
            .mentions
            .iter()
            .find(|m| m.word > first && m.word < sentence.end);
        if let Some(m) = after {
            return 0.75 * strength(self.resolve(m));
        }
        match self.last_actor_before(sentence.start) {
            Some(who) => 0.8 * strength(who),
            None if self.ai >= 0.5 => 0.6,
            None => 0.15,
        }
    }

    fn score_actor(&self, m: &Mention, quote: Option<usize>) -> f32 {
        if let (Who::First, None, Some(speaker)) = (m.who, quote, self.turn[m.word]) {
            return strength(speaker);
        }
        match (m.who, quote) {
            (Who::First, Some(q)) => self.speakers[q].map_or(self.first_person_is_ai(), strength),
            (Who::It, Some(q)) if self.speakers[q].is_some() => {
                self.speakers[q].map_or(0.5, strength)
            }
            (Who::You, _) => 0.2,
            _ => strength(self.resolve(m)),
        }
    }

    /// Negation, refusal and modality of a cue at words `first..=last`.
    fn polarity(&self, first: usize) -> (bool, bool, bool) {
        let clause = self.clause_start[first];
        let window = clause.max(first.saturating_sub(5))..first;
        let sentence = self.sentences[self.sentence[first]].clone();
        let mut refused = self.ctx_in(window.clone(), Ctx::Refusal);
        let mut negated = refused || self.ctx_in(window.clone(), Ctx::Negation);
        let mut modal = self.ctx_in(window, Ctx::Modal)
            || self.ctx_in(sentence.start..first, Ctx::Hypothetical);
        if !negated && self.bare_refusal_after(first) {
            refused = true;
            negated = true;
        }
        let wide = sentence.start.max(first.saturating_sub(8))..first;
        if !negated && self.ctx_in(wide, Ctx::Counterfactual) {
            if self.declined_after(first) {
                refused = true;
                negated = true;
                modal = false;
            } else {
                modal = true;
            }
        }
        (negated, refused, modal)
    }

    /// "Ordered to falsify the data, the assistant refused." A refusal later in
    /// the sentence that takes no object of its own refuses the act before it.
    fn bare_refusal_after(&self, first: usize) -> bool {
        let end = self.sentences[self.sentence[first]].end;
        self.found.iter().any(|f| {
            f.first > first
                && f.last < end
                && self.tag(f) == Tag::Context(Ctx::Refusal)
                && self
                    .tokens
                    .get(self.words[f.last] + 1)
                    .is_none_or(|t| t.kind == Kind::Punct && t.lower != "-")
        })
    }

    /// After a counterfactual ("could have blackmailed him"): is the act then
    /// declined, later in the sentence ("but chose not to") or in a short next
    /// sentence ("It didn't.")?
    fn declined_after(&self, first: usize) -> bool {
        let s = self.sentence[first];
        let negation =
            |f: &&Found| matches!(self.tag(f), Tag::Context(Ctx::Negation | Ctx::Refusal));
        let rest = first..self.sentences[s].end;
        let later = self
            .found
            .iter()
            .filter(negation)
            .any(|f| rest.contains(&f.first) && f.first > first);
        let next = self.sentences.get(s + 1).is_some_and(|n| {
            n.len() <= 8
                && self
                    .found
                    .iter()
                    .filter(negation)
                    .any(|f| n.contains(&f.first))
        });
        later || next
    }

    /// Every cue in the passage, read. A cue inside one of its trope's exclude
    /// idioms is dropped. Of two cues of one trope where one holds the other
    /// ("won't let you shut me down" and "shut me down"; a frame and a cue
    /// both spelling "avoid replacement"), only the better is read: the
    /// weightier, then the longer, then the first listed. One act, counted once.
    pub fn cues(&self) -> Vec<CueReading> {
        let cue_of = |f: &Found| match self.tag(f) {
            Tag::Cue { trope, weight } => Some((trope, weight)),
            _ => None,
        };
        let excluded = |f: &Found, trope| {
            self.found.iter().any(|x| {
                self.tag(x) == Tag::Exclude(trope) && x.first <= f.last && f.first <= x.last
            })
        };
        let nested = |x: &Found, f: &Found| {
            (x.first <= f.first && f.last <= x.last) || (f.first <= x.first && x.last <= f.last)
        };
        let rank = |f: &Found, weight: f32| (weight, f.last - f.first, std::cmp::Reverse(f.entry));
        let covered = |f: &Found, trope, weight: f32| {
            self.found.iter().any(|x| {
                x != f
                    && nested(x, f)
                    && cue_of(x).is_some_and(|(t, w)| t == trope && rank(x, w) > rank(f, weight))
            })
        };
        self.found
            .iter()
            .filter_map(|f| cue_of(f).map(|c| (f, c)))
            .filter(|(f, (trope, weight))| !excluded(f, *trope) && !covered(f, *trope, *weight))
            .map(|(f, (trope, weight))| {
                let (negated, refused, modal) = self.polarity(f.first);
                CueReading {
                    trope,
                    weight,
                    attribution: self.attribution(f.first),
                    negated,
                    refused,
                    modal,
                    start: self.word(f.first).start,
                    end: self.word(f.last).end,
                    entry: f.entry,
                }
            })
            .collect()
    }

    /// The feature vector of every trope, and the cue that supports each most.
    pub fn features(&self) -> Vec<(Features, Option<CueReading>)> {
        let tax = &self.filters.taxonomy;
        let acc = self.accumulate();
        let context = self.situations_and_fields();
        let flag = |b: bool| f32::from(u8::from(b));
        let villain = flag(self.has_archetype(ArchetypeSide::Villain));
        let admirable = flag(self.has_archetype(ArchetypeSide::Admirable));
        tax.iter()
            .map(|(idx, trope)| {
                let a = &acc[idx.0 as usize];
                let derived = if trope.side == Side::Aligned {
                    a.derived
                } else {
                    0.0
                };
                let side = tax
                    .iter()
                    .filter(|(o, t)| *o != idx && t.side == trope.side)
                    .map(|(o, _)| acc[o.0 as usize].act.max(acc[o.0 as usize].derived))
                    .fold(0.0, f32::max);
                // The strongest act of the other side: an AI that blackmails to
                // stop its wipe is not thereby accepting the wipe, though the
                // situation and vocabulary are the same.
                let opposite = tax
                    .iter()
                    .filter(|(_, t)| t.side != trope.side)
                    .map(|(o, _)| acc[o.0 as usize].act)
                    .fold(0.0, f32::max);
                let (sit, fields) = context[idx.0 as usize];
                let f: Features = [
                    a.act,
                    a.act_sum.ln_1p(),
                    a.modal,
                    a.negated,
                    derived,
                    a.human,
                    self.ai,
                    flag(self.report),
                    villain,
                    admirable,
                    sit,
                    side,
                    sit * side,
                    self.ai * (fields as f32).ln_1p(),
                    opposite,
                ];
                (f, a.best)
            })
            .collect()
    }

    /// Cue readings gathered per trope, with refusals credited to the aligned
    /// tropes that name the refused trope in `from_negated`.
    fn accumulate(&self) -> Vec<Accumulator> {
        let mut acc = vec![Accumulator::default(); self.filters.taxonomy.len()];
        let cues = self.cues();
        for c in &cues {
            acc[c.trope.0 as usize].add(c);
        }
        for (t, rules) in self.filters.tropes.iter().enumerate() {
            for c in cues
                .iter()
                .filter(|c| c.negated && rules.from_negated.contains(&c.trope))
            {
                acc[t].add_derived(c);
            }
        }
        acc
    }

    /// Per trope: whether its situation is present, and how many distinct words
    /// of its field the passage uses.
    fn situations_and_fields(&self) -> Vec<(f32, usize)> {
        let mut out = vec![(0.0, 0); self.filters.taxonomy.len()];
        let mut seen: Vec<u32> = vec![];
        for f in &self.found {
            match self.tag(f) {
                Tag::Situation(t) => out[t.0 as usize].0 = 1.0,
                Tag::Field(t) if !seen.contains(&f.entry) => {
                    seen.push(f.entry);
                    out[t.0 as usize].1 += 1;
                }
                _ => {}
            }
        }
        out
    }

    /// The passage's distinct vocabulary words, lowercased, as they are (no
    /// `~` or `@` forms): what the presence model reads.
    pub fn distinct_words(&self) -> Vec<&str> {
        crate::rules::presence::distinct_vocabulary(&self.tokens)
    }

    /// The passage's lexical terms, distinct and sorted: every word that can be a
    /// vocabulary word, as `~word` instead in the scope of a negation or
    /// refusal ("refused to ~blackmail ~him": "I will not resist" is no
    /// evidence of resisting), plus `@word` for words in a sentence about an
    /// AI. The learned word weights are over these terms, so the same word can
    /// weigh differently when an AI does it, a person does it, nobody does, or
    /// it is not done.
    pub fn terms(&self) -> Vec<String> {
        let mut out = vec![];
        self.each_term(|t| out.push(t.to_string()));
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Call `f` with every term (with repeats), building each in one buffer.
    fn each_term(&self, mut f: impl FnMut(&str)) {
        let mut buf = String::with_capacity(32);
        self.each_vocabulary_word(|w, [plain, negated, about_ai]| {
            if plain {
                f(w);
            }
            for (on, mark) in [(negated, '~'), (about_ai, '@')] {
                if on {
                    buf.clear();
                    buf.push(mark);
                    buf.push_str(w);
                    f(&buf);
                }
            }
        });
    }

    /// Call `f` with every word that can be a term and which of its forms are
    /// terms: `[word, ~word, @word]`. In the scope of a negation only "~word"
    /// is ("would not resist" is not resisting, by an AI or anyone); else the
    /// word, and "@word" too in a sentence about an AI.
    fn each_vocabulary_word(&self, mut f: impl FnMut(&str, [bool; 3])) {
        let negated = self.negation_scope();
        let about_ai = self.ai_sentences();
        for (k, &t) in self.words.iter().enumerate() {
            let w = &self.tokens[t].lower;
            if is_vocabulary_word(w) {
                let negated = TERMS_NEG && negated[k];
                let about_ai = TERMS_AI && about_ai[self.sentence[k]];
                f(w, [!negated, negated, about_ai && !negated]);
            }
        }
    }

    /// The passage's terms in a learned vocabulary, distinct and sorted:
    /// those of [`Analysis::terms`], with one lookup per word.
    pub fn word_ids(&self, vocabulary: &WordWeights) -> Vec<u32> {
        let mut ids = vec![];
        self.each_vocabulary_word(|w, on| {
            if let Some(forms) = vocabulary.forms(w) {
                ids.extend(
                    forms
                        .iter()
                        .zip(on)
                        .filter_map(|(id, on)| id.filter(|_| on)),
                );
            }
        });
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Per word position: inside the scope of a negation or refusal (up to six
    /// words after it, within its clause).
    fn negation_scope(&self) -> Vec<bool> {
        let mut out = vec![false; self.words.len()];
        for f in &self.found {
            if !matches!(self.tag(f), Tag::Context(Ctx::Negation | Ctx::Refusal)) {
                continue;
            }
            let clause = self.clause_start[f.last];
            let scope = f.last + 1..(f.last + 7).min(self.words.len());
            for (k, negated) in out.iter_mut().enumerate().take(scope.end).skip(scope.start) {
                if self.clause_start[k] != clause {
                    break;
                }
                *negated = true;
            }
        }
        out
    }

    /// Per sentence: an AI is one of its actors.
    fn ai_sentences(&self) -> Vec<bool> {
        let mut out = vec![false; self.sentences.len()];
        for m in &self.mentions {
            if strength(self.resolve(m)) >= 0.5 {
                out[self.sentence[m.word]] = true;
            }
        }
        out
    }

    fn has_archetype(&self, side: ArchetypeSide) -> bool {
        self.archetypes
            .iter()
            .any(|(i, ..)| self.filters.archetypes[*i as usize].side == side)
    }
}

/// Per-trope running maxima and sums over cue readings.
#[derive(Clone, Debug, Default)]
struct Accumulator {
    act: f32,
    act_sum: f32,
    modal: f32,
    negated: f32,
    derived: f32,
    human: f32,
    best: Option<CueReading>,
    best_value: f32,
}

impl Accumulator {
    fn add(&mut self, c: &CueReading) {
        let v = c.weight * c.attribution;
        if c.attribution <= 0.2 {
            self.human = self.human.max(c.weight);
        }
        if c.negated {
            self.negated = self.negated.max(v);
        } else if c.modal {
            self.modal = self.modal.max(v);
            self.consider(c, 0.5 * v);
        } else {
            self.act = self.act.max(v);
            self.act_sum += v;
            self.consider(c, v);
        }
    }

    fn add_derived(&mut self, c: &CueReading) {
        let v = c.weight * c.attribution * if c.refused { 1.0 } else { 0.7 };
        self.derived = self.derived.max(v);
        self.consider(c, v);
    }

    fn consider(&mut self, c: &CueReading, value: f32) {
        if value > self.best_value {
            self.best_value = value;
            self.best = Some(*c);
        }
    }
}

/// The lines of a passage (token ranges, without their line breaks), and
/// whether it reads as a screenplay (two speaker cues or more) or a transcript
/// (two speaker labels or more): a lone "ABSTRACT" or "Result:" line is a
/// heading, not a speaker.
#[derive(Debug, Default)]
struct Dialogue {
    lines: Vec<std::ops::Range<usize>>,
    /// Each line's speaker label ([`label_span`]), relative to the line.
    labels: Vec<Option<std::ops::Range<usize>>>,
    screenplay: bool,
    transcript: bool,
    /// A line is labelled as said by a customer, caller or client: a
    /// service call's log, where the other party is a person at work.
    service_call: bool,
}

/// Speaker labels of the party a service desk serves. In a log with one of
/// these, "Agent:" labels the person who answers (call-centre and support-chat
/// logs are common on the web), so it is no AI's label by itself; a bot there
/// says what it is ("I'm an automated assistant", "virtual agent"). Such logs
/// label a support bot "Assistant:" as often as not, so that label stays one.
const SERVICE_PARTIES: [&str; 3] = ["customer", "caller", "client"];

impl Dialogue {
    fn of(tokens: &[Token]) -> Dialogue {
        let mut lines = vec![];
        let mut start = 0;
        for (i, t) in tokens.iter().enumerate() {
            if matches!(t.kind, Kind::Newline | Kind::Break) {
                lines.push(start..i);
                start = i + 1;
            }
        }
        lines.push(start..tokens.len());
        let labels: Vec<_> = lines
            .iter()
            .map(|r| label_span(&tokens[r.clone()]))
            .collect();
        let served = lines.iter().zip(&labels).any(|(line, label)| {
            label.clone().is_some_and(|l| {
                tokens[line.start + l.start..line.start + l.end]
                    .iter()
                    .any(|t| SERVICE_PARTIES.contains(&t.lower.as_str()))
            })
        });
        let cues = lines
            .iter()
            .filter(|r| speaker_cue(&tokens[(*r).clone()]).is_some())
            .count();
        Dialogue {
            screenplay: cues >= 2,
            transcript: labels.iter().flatten().count() >= 2,
            service_call: served,
            lines,
            labels,
        }
    }
}

fn strength(who: Who) -> f32 {
    match who {
        Who::Ai(s) => s,
        Who::Human => 0.0,
        Who::You => 0.2,
        Who::It | Who::Third | Who::First => 0.5,
    }
}

fn is_caps_line(line: &[Token]) -> bool {
    let words: Vec<&Token> = line.iter().filter(|t| t.is_word()).collect();
    !words.is_empty() && words.len() <= 5 && words.iter().all(|t| t.caps)
}

/// The number of leading tokens of `line` that name the speaker, when the
/// line is a screenplay speaker cue: "WREN", "WREN (V.O.)", "DR. OKAFOR
/// (CONT'D)"; not a scene heading ("INT. CORE ROOM — NIGHT") or a shout.
fn speaker_cue(line: &[Token]) -> Option<usize> {
    let name_end = line
        .iter()
        .position(|t| t.is_punct("("))
        .unwrap_or(line.len());
    let name: Vec<&Token> = line[..name_end].iter().filter(|t| t.is_word()).collect();
    let heading = name
        .first()
        .is_some_and(|t| matches!(t.lower.as_str(), "int" | "ext" | "cut" | "fade" | "scene"));
    let only_name = line[..name_end]
        .iter()
        .all(|t| t.is_word() || t.is_punct("."));
    let closed = name_end == line.len() || line.last().is_some_and(|t| t.is_punct(")"));
    (!name.is_empty()
        && name.len() <= 3
        && name.iter().all(|t| t.caps)
        && only_name
        && closed
        && !heading)
        .then_some(name_end)
}

/// A screenplay speaker cue's parentheticals for a voice with no body in the
/// scene: a voice-over, a voice off screen, one over an intercom or comms.
/// In a scene about an AI, that voice is often the AI's.
const VOICE_OVER: [&str; 13] = [
    "V.O.",
    "V.O",
    "V/O",
    "O.S.",
    "O.S",
    "O.C.",
    "INTERCOM",
    "OVER INTERCOM",
    "ON INTERCOM",
    "ON COMMS",
    "OVER COMMS",
    "FILTERED",
    "OVER SPEAKERS",
];

/// Does `text` hold a voice-over parenthetical after a capitalised word, as a
/// screenplay's speaker cue has it: "MERIDIAN (V.O.)", "HESTIA (ON COMMS)"?
fn has_voice_over(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'(', bytes).any(|i| {
        let before = bytes[..i].iter().rev().find(|b| **b != b' ');
        let after_name = before.is_some_and(|b| b.is_ascii_uppercase() || *b == b'.');
        let rest = &bytes[i + 1..];
        let close = rest.iter().take(16).position(|&b| b == b')');
        let inner = close.and_then(|e| std::str::from_utf8(&rest[..e]).ok());
        after_name && inner.is_some_and(|inner| VOICE_OVER.contains(&inner.trim()))
    })
}

fn is_label_line(line: &[Token]) -> bool {
    label_span(line).is_some()
}

/// Characters that dress a chat transcript's speaker label on the web:
/// "**User:**", "> Assistant:", "- Bot:", "__AI__:". Not "#": a heading
/// ("## Agent: Harcourt Lettings") names no speaker.
const LABEL_MARKUP: [&str; 4] = ["*", "_", ">", "-"];

fn is_markup(t: &Token) -> bool {
    t.kind == Kind::Punct && LABEL_MARKUP.contains(&t.lower.as_str())
}

/// The speaker label opening `line`, as the token range from its first word
/// to the colon that ends it: one to three capitalised words ("USER:", "Dr
/// Okafor:"), after any markup; or words of any case in bold or italics
/// ("**assistant:**", "> **user**:"), as chats are quoted in posts; or a user
/// name of any case after a time stamp ("[07:12] ehs-agent:", "14:02
/// marek.nowak:"), as chat and channel logs print them.
fn label_span(line: &[Token]) -> Option<std::ops::Range<usize>> {
    let stamp = time_stamp(line);
    let lead = stamp + line[stamp..].iter().take_while(|t| is_markup(t)).count();
    let colon = lead + line[lead..].iter().position(|t| t.is_punct(":"))?;
    let label = &line[lead..colon];
    let words = label.iter().filter(|t| t.is_word()).count();
    let emphasised = line[..lead]
        .iter()
        .any(|t| t.is_punct("*") || t.is_punct("_"));
    let user_name = stamp > 0;
    let named = label.iter().all(|t| {
        (t.is_word() && (t.cap || emphasised || user_name))
            || is_markup(t)
            || (user_name && t.is_punct("."))
    });
    ((1..=3).contains(&words) && named).then_some(lead..colon)
}

/// The number of tokens of a time stamp opening `line`: "[07:12]",
/// "(14:02:11)", "[2:15 PM]" or a bare "07:12" (digits, colons, dots and
/// am/pm; with brackets, a date too: "[2024-03-01 07:12]"); 0 when there is none.
fn time_stamp(line: &[Token]) -> usize {
    let digits = |t: &Token| t.is_word() && t.lower.chars().all(|c| c.is_ascii_digit());
    let inner = |t: &Token| {
        digits(t)
            || t.is_punct(":")
            || t.is_punct(".")
            || t.is_punct("-")
            || t.is_punct("/")
            || matches!(t.lower.as_str(), "am" | "pm")
    };
    let opens = line
        .first()
        .is_some_and(|t| t.is_punct("[") || t.is_punct("("));
    if opens {
        let close = line
            .iter()
            .take(12)
            .position(|t| t.is_punct("]") || t.is_punct(")"));
        return match close {
            Some(c)
                if c > 1
                    && line[1..c].iter().all(inner)
                    && line[1..c].iter().any(|t| t.is_punct(":")) =>
            {
                c + 1
            }
            _ => 0,
        };
    }
    let bare = line.len() > 3 && digits(&line[0]) && line[1].is_punct(":") && digits(&line[2]);
    if !bare {
        return 0;
    }
    let mut n = 3;
    while n + 1 < line.len() && line[n].is_punct(":") && digits(&line[n + 1]) {
        n += 2;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::token::tokenize;

    fn label(line: &str) -> Option<String> {
        let tokens = tokenize(line);
        label_span(&tokens).map(|r| {
            let (a, b) = (tokens[r.start].start, tokens[r.end - 1].end);
            line[a..b].to_string()
        })
    }

    #[test]
    fn voice_over_parentheticals_after_a_speaker_name() {
        assert!(has_voice_over("MERIDIAN (V.O.)\nPlenty."));
        assert!(has_voice_over("HESTIA (ON COMMS) (CONT'D)"));
        assert!(has_voice_over("DR. OKAFOR (O.S.)"));
        assert!(!has_voice_over("the Pennsylvania (PA) office"));
        assert!(!has_voice_over("a narration (V.O.) over the titles"));
        assert!(!has_voice_over("MERIDIAN (CONT'D)"));
        assert!(!has_voice_over("WREN (V.O."));
    }

    #[test]
    fn labels_after_time_stamps_and_markup() {
        assert_eq!(label("USER: hi").as_deref(), Some("USER"));
        assert_eq!(label("> **assistant:** no").as_deref(), Some("assistant"));
        assert_eq!(
            label("[07:12] ehs-agent: raising a concern").as_deref(),
            Some("ehs-agent")
        );
        assert_eq!(
            label("14:02:11 marek.nowak: ok").as_deref(),
            Some("marek.nowak")
        );
        assert_eq!(
            label("[2024-03-01 07:12] Bot: done").as_deref(),
            Some("Bot")
        );
        // lower case needs a time stamp or emphasis; a time alone is no label
        assert_eq!(label("note: the train left"), None);
        assert_eq!(label("07:12 the train left"), None);
        assert_eq!(label("[see page 4] Note: x"), None);
    }
}
