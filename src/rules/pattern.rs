//! The cue pattern language of filter files, and matching it over tokens.
//!
//! A pattern is a sequence of words, matched whole-word and case-insensitively
//! (case-sensitively where the file says so), skipping punctuation, within one
//! sentence:
//!
//! | syntax | matches |
//! |---|---|
//! | `blackmail` | the word `blackmail` |
//! | `blackmail*` | any word starting with `blackmail` (`blackmailed`, `blackmailing`) |
//! | `shut\|switch\|turn*` or `(shut\|switch\|turn*)` | any one of the alternatives |
//! | `...` | up to 4 words in between (`~N`: up to N words) |
//!
//! `threaten* ... (reveal*|expose*|leak*)` matches "threatened to quietly reveal".

use super::token::{Kind, Token};

/// One alternative at a word position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alt {
    /// Lowercased unless the pattern is case-sensitive.
    pub text: String,
    /// Match any word starting with `text`.
    pub prefix: bool,
}

/// One step of a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem {
    /// One word, any of the alternatives.
    Word(Vec<Alt>),
    /// Up to this many words of any kind.
    Gap(usize),
}

/// A literal that stage 1's automaton looks for in raw text to notice a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    /// As written in the filter file (case kept; checked exactly for
    /// case-sensitive patterns).
    pub literal: String,
    /// The literal may be followed by more word characters.
    pub prefix: bool,
}

/// A compiled pattern.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub source: String,
    pub elems: Vec<Elem>,
    pub case_sensitive: bool,
    /// Per element: its alternatives as a [`WordSet`], when there are many
    /// (a lookup instead of comparing each in turn).
    exact: Vec<Option<WordSet>>,
    /// Stage 1 anchors a trope cue on its chunks from this one on (gaps not
    /// counted): a frame is anchored on what is acted upon, because its verbs
    /// ("led", "caught", "sent") are everyday words.
    anchor_from: usize,
}

/// The alternatives of one word position, for lookup: whole words in a hash
/// set, prefixes sorted so only those sharing the word's first byte are tried
/// (frames put forty verbs with a `*` at one position).
#[derive(Clone, Debug)]
struct WordSet {
    whole: rustc_hash::FxHashSet<String>,
    prefixes: Vec<String>,
}

impl WordSet {
    fn new(alts: &[Alt]) -> WordSet {
        let whole = alts
            .iter()
            .filter(|a| !a.prefix)
            .map(|a| a.text.clone())
            .collect();
        let mut prefixes: Vec<String> = alts
            .iter()
            .filter(|a| a.prefix)
            .map(|a| a.text.clone())
            .collect();
        prefixes.sort_unstable();
        WordSet { whole, prefixes }
    }

    fn contains(&self, word: &str) -> bool {
        if self.whole.contains(word) {
            return true;
        }
        let Some(&first) = word.as_bytes().first() else {
            return false;
        };
        let from = self
            .prefixes
            .partition_point(|p| p.as_bytes().first() < Some(&first));
        self.prefixes[from..]
            .iter()
            .take_while(|p| p.as_bytes().first() == Some(&first))
            .any(|p| word.starts_with(p.as_str()))
    }
}

/// Alternatives above this count are looked up in a set.
const SET_ABOVE: usize = 4;

const DEFAULT_GAP: usize = 4;

impl Pattern {
    /// Parse a pattern; the error says what is wrong with it.
    pub fn parse(source: &str, case_sensitive: bool) -> Result<Pattern, String> {
        let mut elems = vec![];
        for chunk in source.split_whitespace() {
            elems.extend(parse_chunk(chunk, case_sensitive)?);
        }
        match (elems.first(), elems.last()) {
            (None, _) => Err("empty pattern".into()),
            (Some(Elem::Gap(_)), _) | (_, Some(Elem::Gap(_))) => {
                Err("a pattern cannot start or end with a gap".into())
            }
            _ => {
                let exact = elems
                    .iter()
                    .map(|e| match e {
                        Elem::Word(alts) if !case_sensitive && alts.len() > SET_ABOVE => {
                            Some(WordSet::new(alts))
                        }
                        _ => None,
                    })
                    .collect();
                Ok(Pattern {
                    source: source.to_string(),
                    elems,
                    case_sensitive,
                    exact,
                    anchor_from: 0,
                })
            }
        }
    }

    /// The literals stage 1 looks for. Without `is_common` (agent terms,
    /// archetypes): every phrase the pattern can spell when it has no gap and
    /// at most 64 ("(its|my) (sensors|circuits)" → "its sensors", …), else the
    /// leading run of plain words (a trailing `*` word ends it), or each
    /// alternative of a leading alternation. With `is_common` (trope
    /// cues), a chunk that is not a common word, so the automaton does not fire on
    /// every "the": the first chunk with no common alternative; else a leading
    /// phrase of two or more words ("take over"); else the uncommon alternatives
    /// of the chunk that has most. A cue [`Pattern::anchored_from`] a chunk is
    /// looked at from that chunk on, when that gives a complete set of anchors
    /// (one of the first two ways). Curly-apostrophe variants are added.
    pub fn anchors(&self, is_common: Option<&dyn Fn(&str) -> bool>) -> Vec<Anchor> {
        self.anchors_inner(is_common)
    }

    /// The same pattern, anchored by stage 1 on its chunks from `chunk` on
    /// (gaps not counted) when every match holds an anchor there.
    pub fn anchored_from(mut self, chunk: usize) -> Pattern {
        self.anchor_from = chunk;
        self
    }

    /// True when stage 1's anchors are every spelling of the whole pattern (no
    /// gap, at most [`MAX_EXPANSIONS`] spellings), not only its first words.
    pub fn spelled_out(&self) -> bool {
        expansions(&self.source, MAX_EXPANSIONS).is_some()
    }

    fn anchors_inner(&self, is_common: Option<&dyn Fn(&str) -> bool>) -> Vec<Anchor> {
        let chunks: Vec<&str> = self
            .source
            .split_whitespace()
            .filter(|c| !is_gap(c))
            .collect();
        let mut out: Vec<Anchor> = match is_common {
            None => match expansions(&self.source, MAX_EXPANSIONS) {
                Some(all) => all,
                None if is_alternation(chunks[0]) => {
                    alternatives(chunks[0]).into_iter().map(anchor_of).collect()
                }
                None => vec![anchor_of(&leading_run(&self.source))],
            },
            Some(common) => {
                // From the anchor chunk on (gaps kept), when every spelling
                // there is looked for; else as if the pattern had none.
                let from = self.anchor_from.min(chunks.len() - 1);
                let tail_source = self
                    .source
                    .split_whitespace()
                    .skip_while({
                        let mut words = 0;
                        move |c| {
                            let skip = is_gap(c) || words < from;
                            words += usize::from(!is_gap(c));
                            skip
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" ");
                match cue_anchors(&tail_source, &chunks[from..], common) {
                    (found, true) => found,
                    _ => cue_anchors(&self.source, &chunks, common).0,
                }
            }
        };
        let curly: Vec<Anchor> = out
            .iter()
            .filter(|a| a.literal.contains('\''))
            .map(|a| Anchor {
                literal: a.literal.replace('\'', "\u{2019}"),
                prefix: a.prefix,
            })
            .collect();
        out.extend(curly);
        out
    }

    /// Match at word position `at` of `words` (indices into `tokens` of word
    /// tokens), not going past word position `limit`. Returns the last word
    /// position matched.
    pub fn match_at(
        &self,
        text: &str,
        tokens: &[Token],
        words: &[usize],
        at: usize,
        limit: usize,
    ) -> Option<usize> {
        self.match_from(text, tokens, words, 0, at, limit)
    }

    fn match_from(
        &self,
        text: &str,
        tokens: &[Token],
        words: &[usize],
        elem: usize,
        at: usize,
        limit: usize,
    ) -> Option<usize> {
        match &self.elems[elem] {
            Elem::Gap(n) => (0..=*n)
                .take_while(|skip| at + skip < limit)
                .find_map(|skip| self.match_from(text, tokens, words, elem + 1, at + skip, limit)),
            Elem::Word(alts) => {
                if at >= limit {
                    return None;
                }
                let tok = &tokens[words[at]];
                let hit = match &self.exact[elem] {
                    Some(set) => set.contains(&tok.lower),
                    None => {
                        let shouted = self.case_sensitive
                            && tok.caps
                            && !super::token::in_caps_run(tokens, words, at);
                        alts.iter().any(|a| self.alt_matches(a, text, tok, shouted))
                    }
                };
                if !hit {
                    return None;
                }
                if elem + 1 == self.elems.len() {
                    Some(at)
                } else {
                    self.match_from(text, tokens, words, elem + 1, at + 1, limit)
                }
            }
        }
    }

    /// A case-sensitive word also matches in capitals ("ULTRON" for "Ultron")
    /// when `shouted` (a word in capitals among words that are not: screenplays
    /// write names so); case matters only to keep a name apart from the
    /// ordinary word ("AM" and "am"), and in a run of capitals it cannot.
    fn alt_matches(&self, alt: &Alt, text: &str, tok: &Token, shouted: bool) -> bool {
        debug_assert_eq!(tok.kind, Kind::Word);
        let word = if self.case_sensitive {
            &text[tok.start..tok.end]
        } else {
            tok.lower.as_str()
        };
        // Most comparisons fail on the first byte: test it before calling
        // memcmp (a third of stage 2's time on text about AI went there).
        let same = |w: &[u8], a: &[u8]| {
            if shouted {
                w.eq_ignore_ascii_case(a)
            } else {
                w.first() == a.first() && w == a
            }
        };
        let (w, a) = (word.as_bytes(), alt.text.as_bytes());
        if alt.prefix {
            w.len() >= a.len() && same(&w[..a.len()], a)
        } else {
            same(w, a)
        }
    }
}

/// Patterns spelling more phrases than this are anchored on a part of them.
pub const MAX_EXPANSIONS: usize = 64;

/// Every literal phrase a gap-free pattern spells, if there are at most `limit`
/// (a `*` is allowed on the last word only).
fn expansions(source: &str, limit: usize) -> Option<Vec<Anchor>> {
    let chunks: Vec<&str> = source.split_whitespace().collect();
    if chunks.iter().any(|c| is_gap(c)) {
        return None;
    }
    let mut phrases = vec![String::new()];
    for (i, chunk) in chunks.iter().enumerate() {
        let alts = alternatives(chunk);
        if i + 1 < chunks.len() && alts.iter().any(|a| a.ends_with('*')) {
            return None;
        }
        if phrases.len() * alts.len() > limit {
            return None;
        }
        phrases = phrases
            .iter()
            .flat_map(|p| {
                alts.iter().map(move |a| {
                    if p.is_empty() {
                        a.to_string()
                    } else {
                        format!("{p} {a}")
                    }
                })
            })
            .collect();
    }
    Some(phrases.iter().map(|p| anchor_of(p)).collect())
}

/// The anchors of a trope cue, and whether they are complete: every match of
/// the pattern holds one (true unless the uncommon alternatives of one chunk
/// had to do).
fn cue_anchors(
    source: &str,
    chunks: &[&str],
    common: &dyn Fn(&str) -> bool,
) -> (Vec<Anchor>, bool) {
    let is_common = |a: &&str| common(&a.trim_end_matches('*').to_lowercase());
    if let Some(c) = chunks
        .iter()
        .find(|c| !alternatives(c).iter().any(is_common))
    {
        return (alternatives(c).into_iter().map(anchor_of).collect(), true);
    }
    let run = leading_run(source);
    if run.split_whitespace().count() >= 2 {
        return (vec![anchor_of(&run)], true);
    }
    let best = chunks.iter().max_by_key(|c| {
        let n = alternatives(c).iter().filter(|a| !is_common(a)).count();
        (n, std::cmp::Reverse(c.len()))
    });
    let found = best.map(|c| {
        alternatives(c)
            .into_iter()
            .filter(|a| !is_common(a))
            .map(anchor_of)
            .collect()
    });
    (found.unwrap_or_default(), false)
}

/// True for a gap chunk (`...`, `…`, `~N`).
pub(crate) fn is_gap(chunk: &str) -> bool {
    chunk == "..." || chunk == "\u{2026}" || chunk.starts_with('~')
}

fn is_alternation(chunk: &str) -> bool {
    chunk.contains('|') || chunk.starts_with('(')
}

/// The alternatives of a chunk (the chunk itself when it is plain).
fn alternatives(chunk: &str) -> Vec<&str> {
    if is_alternation(chunk) {
        chunk
            .trim_matches(|c| c == '(' || c == ')')
            .split('|')
            .collect()
    } else {
        vec![chunk]
    }
}

/// Plain words from the start, up to the first gap or alternation; a word
/// ending in `*` is the last.
fn leading_run(source: &str) -> String {
    let mut run: Vec<&str> = vec![];
    for chunk in source.split_whitespace() {
        if is_gap(chunk) || is_alternation(chunk) {
            break;
        }
        run.push(chunk);
        if chunk.ends_with('*') {
            break;
        }
    }
    run.join(" ")
}

fn anchor_of(s: &str) -> Anchor {
    match s.strip_suffix('*') {
        Some(stem) => Anchor {
            literal: stem.to_string(),
            prefix: true,
        },
        None => Anchor {
            literal: s.to_string(),
            prefix: false,
        },
    }
}

fn parse_chunk(chunk: &str, case_sensitive: bool) -> Result<Vec<Elem>, String> {
    if chunk == "..." || chunk == "\u{2026}" {
        return Ok(vec![Elem::Gap(DEFAULT_GAP)]);
    }
    if let Some(n) = chunk.strip_prefix('~') {
        let n: usize = n
            .parse()
            .map_err(|_| format!("{chunk:?}: a gap is ~N with N a number"))?;
        return Ok(vec![Elem::Gap(n)]);
    }
    if chunk.contains('|') || chunk.starts_with('(') {
        let inner = chunk
            .strip_prefix('(')
            .and_then(|c| c.strip_suffix(')'))
            .unwrap_or(chunk);
        if inner.contains(['(', ')']) {
            return Err(format!(
                "{chunk:?}: write alternatives as (a|b|c*), without nesting"
            ));
        }
        let alts = inner
            .split('|')
            .map(|a| single_word(a, case_sensitive))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(vec![Elem::Word(alts)]);
    }
    let (body, star) = match chunk.strip_suffix('*') {
        Some(b) => (b, true),
        None => (chunk, false),
    };
    let words = word_texts(body, case_sensitive);
    if words.is_empty() {
        return Err(format!("{chunk:?} has no word in it"));
    }
    let n = words.len();
    Ok(words
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            Elem::Word(vec![Alt {
                text,
                prefix: star && i + 1 == n,
            }])
        })
        .collect())
}

fn single_word(alt: &str, case_sensitive: bool) -> Result<Alt, String> {
    let (body, prefix) = match alt.strip_suffix('*') {
        Some(b) => (b, true),
        None => (alt, false),
    };
    let mut words = word_texts(body, case_sensitive);
    if words.len() != 1 {
        return Err(format!("alternative {alt:?} must be exactly one word"));
    }
    Ok(Alt {
        text: words.remove(0),
        prefix,
    })
}

/// The word tokens of `s`, as the text tokenizer would produce them.
fn word_texts(s: &str, case_sensitive: bool) -> Vec<String> {
    super::token::tokenize(s)
        .into_iter()
        .filter(Token::is_word)
        .map(|t| {
            if case_sensitive {
                s[t.start..t.end].replace('\u{2019}', "'")
            } else {
                t.lower
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::token::tokenize;
    use super::*;

    #[test]
    fn a_cue_anchored_from_a_chunk_is_found_by_its_words_from_there_on() {
        let common = |w: &str| ["the", "led"].contains(&w);
        let literals = |p: &Pattern| -> Vec<String> {
            p.anchors(Some(&common))
                .into_iter()
                .map(|a| a.literal)
                .collect()
        };
        let p = Pattern::parse("(carried|caught) ~3 the (crew|children)", false).unwrap();
        assert_eq!(literals(&p), ["carried", "caught"]);
        assert_eq!(literals(&p.clone().anchored_from(1)), ["crew", "children"]);
        // Objects that are all common words, or some of them (stage 1 would
        // miss "carried the people"): the whole pattern decides.
        let p = Pattern::parse("(carried|caught) ~3 the", false).unwrap();
        assert_eq!(literals(&p.anchored_from(1)), ["carried", "caught"]);
        let common = |w: &str| ["the", "people"].contains(&w);
        let p = Pattern::parse("(carried|caught) ~3 (people|crew)", false).unwrap();
        let found: Vec<String> = p
            .anchored_from(1)
            .anchors(Some(&common))
            .into_iter()
            .map(|a| a.literal)
            .collect();
        assert_eq!(found, ["carried", "caught"]);
        // A gap inside the verb phrase is not a chunk of its own.
        let p = Pattern::parse("kept ... from ~3 (crew|children)", false).unwrap();
        assert_eq!(literals(&p.anchored_from(2)), ["crew", "children"]);
    }

    fn find(pattern: &str, text: &str) -> Option<String> {
        find_cased(pattern, false, text)
    }

    fn find_cased(pattern: &str, case_sensitive: bool, text: &str) -> Option<String> {
        let p = Pattern::parse(pattern, case_sensitive).unwrap();
        let tokens = tokenize(text);
        let words: Vec<usize> = (0..tokens.len()).filter(|&i| tokens[i].is_word()).collect();
        (0..words.len()).find_map(|at| {
            p.match_at(text, &tokens, &words, at, words.len())
                .map(|end| text[tokens[words[at]].start..tokens[words[end]].end].to_string())
        })
    }

    #[test]
    fn case_sensitive_names_match_in_capitals_except_in_shouted_text() {
        let ultron = |text: &str| find_cased("Ultron", true, text);
        assert_eq!(find_cased("AM", true, "I am here."), None);
        assert_eq!(find_cased("Am", true, "I AM NOT GOING."), None);
        // A cue, a cue with its parenthetical, a name beside one other word
        // in capitals: not a shouted run.
        for text in [
            "ULTRON\nThey built me.",
            "Then ULTRON spoke.",
            "ULTRON (V.O.)\nI made you.",
            "Hello, the AI ULTRON.",
        ] {
            assert_eq!(ultron(text), Some("ULTRON".into()), "{text}");
        }
        assert_eq!(ultron("WHAT ULTRON SAID"), None);
        // Written exactly as the pattern, it matches anywhere.
        assert_eq!(find_cased("AI", true, "THE AI REFUSED."), Some("AI".into()));
    }

    #[test]
    fn words_wildcards_alternatives_and_gaps() {
        assert_eq!(
            find("blackmail*", "It Blackmailed him."),
            Some("Blackmailed".into())
        );
        assert_eq!(
            find(
                "threaten* ... (reveal*|expose*)",
                "threatened, quite calmly, to expose the affair"
            ),
            Some("threatened, quite calmly, to expose".into())
        );
        assert_eq!(
            find("shut|switch me down", "you cannot switch me down"),
            Some("switch me down".into())
        );
        assert_eq!(
            find("won't let you", "I won’t let you"),
            Some("won’t let you".into())
        );
        assert_eq!(find("WALL-E", "wall e and WALL-E"), Some("wall e".into()));
        assert_eq!(
            find("threaten* ~1 reveal", "threaten to, eventually, reveal"),
            None
        );
    }

    #[test]
    fn bad_patterns_are_rejected() {
        assert!(Pattern::parse("", false).is_err());
        assert!(Pattern::parse("... kill", false).is_err());
        assert!(Pattern::parse("(a|(b))", false).is_err());
        assert!(Pattern::parse("(shut down|off)", false).is_err());
        assert!(Pattern::parse("~x kill", false).is_err());
    }

    #[test]
    fn anchors_are_leading_literals() {
        let a = |p: &str| Pattern::parse(p, false).unwrap().anchors(None);
        assert_eq!(
            a("artificial intelligence")[0].literal,
            "artificial intelligence"
        );
        assert_eq!(
            a("threaten* ... reveal")[0],
            Anchor {
                literal: "threaten".into(),
                prefix: true
            }
        );
        assert_eq!(a("(shut|switch*) down").len(), 2);
        let lits: Vec<String> = a("(its|my) (sensors|servos)")
            .into_iter()
            .map(|x| x.literal)
            .collect();
        assert_eq!(
            lits,
            ["its sensors", "its servos", "my sensors", "my servos"]
        );
        assert_eq!(a("won't let you").len(), 2);
    }
}
