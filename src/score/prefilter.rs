//! Stage 1: Aho-Corasick automata over the anchors of the lexicons. A passage is
//! escalated to stage 2 when it names an AI (a strong agent term, an AI's
//! self-reference, an archetype), or holds a trope cue with an agent in view (a
//! weak agent word such as "the model" in the passage, or an AI named in it or in
//! the few passages before, so an AI met earlier and now called "it" or by name
//! still counts), or holds a cue and two words of computers at work
//! ("servers", "credentials"), for the presence model to read in stage 2, or a
//! cue and no agent word at all, when the presence model, asked here (through
//! a sketch of it cheap enough for every passage, then itself), confirms an
//! AI.
//!
//! The agent automaton (agent terms, archetype aliases and the words of
//! computers at work) runs over every document, but only from the words some
//! spelling begins with (see [`Anchors::find`]): most words are passed over
//! after one table lookup. The cue automaton (about 3,000 spellings of cue
//! words) runs only over passages with an agent in view: run over everything, it
//! fires on every "shut" and "fire" of ordinary prose, and on the Gutenberg
//! benchmark one automaton over both ran at 196 MB/s against 471 MB/s for the
//! agent automaton alone.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};

use crate::error::{Error, Result};
use crate::rules::files::Strength;
use crate::rules::{Ctx, Filters, Presence, Tag};
use crate::segment::Span;

/// What an anchor signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnchorKind {
    Strong,
    Weak,
    SelfRef,
    /// An archetype alias; `needs_context` when the alias is an ordinary word too.
    Archetype {
        idx: u16,
        needs_context: bool,
    },
    Cue,
    /// A word of computers at work ("servers", "telemetry"; `Ctx::Computing`).
    Computing,
}

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    kind: AnchorKind,
    prefix: bool,
    /// The agent term's strength, whose [`Strength::holds_at`] says where it counts.
    agent: Option<Strength>,
}

impl Anchors {
    /// The automaton over the anchors of the lexicon entries `kind_of` keeps.
    /// It matches exactly: a case-insensitive anchor is entered as "robot",
    /// "Robot" and "ROBOT" (an ASCII-case-insensitive automaton would also fire
    /// on every "am" inside "same" for the case-sensitive alias AM).
    fn new(
        filters: &Filters,
        kind_of: impl Fn(&Tag) -> Option<AnchorKind>,
        is_common: Option<&dyn Fn(&str) -> bool>,
    ) -> Result<Anchors> {
        let mut literals: Vec<String> = vec![];
        let mut entries: Vec<Vec<Entry>> = vec![];
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (pattern, tag) in filters.lexicon.entries() {
            let Some(kind) = kind_of(tag) else { continue };
            for anchor in pattern.anchors(is_common) {
                for literal in case_variants(&anchor.literal, pattern.case_sensitive) {
                    let i = *index.entry(literal.clone()).or_insert_with(|| {
                        literals.push(literal);
                        entries.push(vec![]);
                        literals.len() - 1
                    });
                    let entry = Entry {
                        kind,
                        prefix: anchor.prefix,
                        agent: match tag {
                            Tag::Agent(s) => Some(*s),
                            _ => None,
                        },
                    };
                    if !entries[i].contains(&entry) {
                        entries[i].push(entry);
                    }
                }
            }
        }
        Anchors::from_parts(literals, entries)
    }

    fn from_parts(literals: Vec<String>, entries: Vec<Vec<Entry>>) -> Result<Anchors> {
        let prefix = entries.iter().map(|es| es.iter().any(|e| e.prefix));
        Ok(Anchors {
            first: FirstWords::new(literals.iter().map(String::as_str).zip(prefix)),
            ac: build(&literals)?,
            entries,
        })
    }

    /// Whole-word anchors in `text`, appended to `out` with offsets moved by
    /// `offset`: at each word start whose word could begin some spelling (see
    /// [`FirstWords`]), the longest spelling that starts there and ends at a
    /// word end (or is a prefix pattern). Matches do not overlap: the search
    /// goes on after each one.
    fn find(&self, text: &str, offset: usize, out: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        if self.first.every_start {
            return self.find_everywhere(text, offset, out);
        }
        let masks: Vec<u64> = bytes.chunks(64).map(word_bytes).collect();
        let mut next = 0;
        let mut previous = 0u64;
        for (c, &word) in masks.iter().enumerate() {
            // Bits where a run of letters and digits begins, and the bits from
            // here on (the next chunk too) to measure each run.
            let mut starts = word & !(word << 1 | previous >> 63);
            previous = word;
            let ahead = u128::from(word) | u128::from(masks.get(c + 1).copied().unwrap_or(0)) << 64;
            while starts != 0 {
                let j = starts.trailing_zeros();
                starts &= starts - 1;
                let start = c * 64 + j as usize;
                let run = (!((ahead >> j) as u64)).trailing_zeros() as usize;
                if start >= next
                    && self.first.may_begin(bytes, start, run)
                    && let Some(end) = self.anchored(text, start, offset, out)
                {
                    next = end;
                }
            }
        }
    }

    /// [`Anchors::find`] for spellings that do not begin with an ASCII letter
    /// or digit: a search from every position after one that is not.
    fn find_everywhere(&self, text: &str, offset: usize, out: &mut Vec<Hit>) {
        let bytes = text.as_bytes();
        let mut next = 0;
        for i in 0..bytes.len() {
            let word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
            if i >= next
                && word_start
                && text.is_char_boundary(i)
                && let Some(end) = self.anchored(text, i, offset, out)
            {
                next = end;
            }
        }
    }

    /// The longest spelling at `start` that is a whole word; its hits are
    /// pushed and its end returned.
    fn anchored(
        &self,
        text: &str,
        start: usize,
        offset: usize,
        out: &mut Vec<Hit>,
    ) -> Option<usize> {
        let input = Input::new(text)
            .span(start..text.len())
            .anchored(Anchored::Yes);
        let m = self.ac.find(input)?;
        if !boundary_before(text, start) {
            return None;
        }
        let whole = boundary_after(text, m.end());
        let before = out.len();
        for e in &self.entries[m.pattern().as_usize()] {
            let holds = || e.agent.is_none_or(|s| s.holds_at(text, start));
            if (whole || e.prefix) && holds() {
                out.push(Hit {
                    kind: e.kind,
                    start: offset + start,
                    end: offset + m.end(),
                });
            }
        }
        (out.len() > before).then_some(m.end())
    }

    /// True when `text` holds at least one whole-word anchor.
    fn any(&self, text: &str) -> bool {
        let mut hits = vec![];
        self.find(text, 0, &mut hits);
        !hits.is_empty()
    }
}

/// What spellings begin with, as a 64 Kbit table of hashed keys, so deciding
/// whether a word is worth an automaton search costs a lookup or two. A
/// spelling that begins with a word of four or more bytes, or is one short word
/// ("AI", "HAL"), is keyed by its first word's first four bytes; one that
/// begins with a short word and goes on ("my weights", "the Machine", "as an
/// AI") by its first six bytes, so the commonest words ("the", "my", "as") are
/// passed over unless the right word follows. A prefix spelling shorter than
/// four bytes ("bot" for "bots", "botnet") enters every key it can begin.
struct FirstWords {
    bits: Vec<u64>,
    /// Some spelling does not begin with an ASCII letter or digit, or is a
    /// one-character prefix: every word start must be searched.
    every_start: bool,
}

/// Bytes of a word key.
const KEY_BYTES: usize = 4;
/// Bytes of a phrase key.
const PHRASE_BYTES: usize = 6;

impl FirstWords {
    fn new<'a>(spellings: impl Iterator<Item = (&'a str, bool)>) -> FirstWords {
        let mut table = FirstWords {
            bits: vec![0; (1 << 16) / 64],
            every_start: false,
        };
        for (spelling, prefix) in spellings {
            let bytes = spelling.as_bytes();
            let run = bytes
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric())
                .count();
            let whole_word = run == bytes.len();
            match run {
                0 => table.every_start = true,
                _ if run < KEY_BYTES && bytes.len() >= PHRASE_BYTES => {
                    table.insert(&bytes[..PHRASE_BYTES]);
                }
                1 if prefix && whole_word => table.every_start = true,
                _ if run >= KEY_BYTES || !(prefix && whole_word) => {
                    table.insert(&bytes[..run.min(KEY_BYTES)]);
                }
                _ => table.insert_extensions(&bytes[..run]),
            }
        }
        table
    }

    /// `word` and every key that starts with it.
    fn insert_extensions(&mut self, word: &[u8]) {
        self.insert(word);
        if word.len() < KEY_BYTES {
            let alnum = (b'0'..=b'9').chain(b'A'..=b'Z').chain(b'a'..=b'z');
            for c in alnum {
                let mut longer = word.to_vec();
                longer.push(c);
                self.insert_extensions(&longer);
            }
        }
    }

    fn insert(&mut self, key: &[u8]) {
        let k = slot(key_value(key));
        self.bits[k >> 6] |= 1 << (k & 63);
    }

    fn has(&self, value: u64) -> bool {
        let k = slot(value);
        self.bits[k >> 6] & (1 << (k & 63)) != 0
    }

    /// True when a spelling may begin at `start`, where a run of `run` ASCII
    /// letters and digits begins. Both keys are looked up whatever the run's
    /// length: a wrong one finds nothing but by a hash collision, which the
    /// automaton then rules out; skipping the branch is what makes this fast.
    fn may_begin(&self, bytes: &[u8], start: usize, run: usize) -> bool {
        let value = match bytes.get(start..start + 8) {
            Some(eight) => u64::from_le_bytes(eight.try_into().expect("eight bytes")),
            None => key_value(&bytes[start..]),
        };
        let word = value & low_bytes(run.min(KEY_BYTES));
        let phrase = value & low_bytes(PHRASE_BYTES);
        self.has(word) | self.has(phrase)
    }
}

/// A mask of the low `n` bytes of a u64 (n < 8).
fn low_bytes(n: usize) -> u64 {
    (1u64 << (8 * n)) - 1
}

/// Up to eight bytes as a little-endian u64, zero-padded (a key's bytes are
/// never zero, so its length is implied).
fn key_value(key: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = key.len().min(8);
    b[..n].copy_from_slice(&key[..n]);
    u64::from_le_bytes(b)
}

/// Where a key value falls in the 64 Kbit table.
fn slot(value: u64) -> usize {
    (value.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
}

/// One bit per byte of `chunk` (up to 64 bytes): set for ASCII letters and digits.
fn word_bytes(chunk: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if let Ok(full) = <&[u8; 64]>::try_from(chunk) {
        return word_bytes_sse2(full);
    }
    word_bytes_scalar(chunk)
}

fn word_bytes_scalar(chunk: &[u8]) -> u64 {
    chunk
        .iter()
        .enumerate()
        .fold(0u64, |m, (j, &b)| m | u64::from(WORD_BYTE[b as usize]) << j)
}

/// [`word_bytes`] on a whole chunk, sixteen bytes to a compare: stage 1 and the
/// presence sketch walk every byte of the input this way. SSE2 is part of
/// every x86-64 processor.
#[cfg(target_arch = "x86_64")]
fn word_bytes_sse2(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{
        __m128i, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_sub_epi8, _mm_xor_si128,
    };
    // SAFETY: SSE2 is baseline on x86-64, and each load reads sixteen bytes
    // inside the 64-byte array (unaligned loads are allowed).
    unsafe {
        let flip = _mm_set1_epi8(i8::MIN);
        // Unsigned `x - lo < len`, as a signed compare of both sides flipped.
        let in_range = |v: __m128i, lo: u8, len: u8| {
            let offset = _mm_sub_epi8(v, _mm_set1_epi8(lo as i8));
            let bound = _mm_set1_epi8((len ^ 0x80) as i8);
            _mm_cmplt_epi8(_mm_xor_si128(offset, flip), bound)
        };
        let mut mask = 0u64;
        for i in 0..4 {
            let v = _mm_loadu_si128(chunk.as_ptr().add(16 * i).cast::<__m128i>());
            let digit = in_range(v, b'0', 10);
            let letter = in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), b'a', 26);
            let bits = _mm_movemask_epi8(_mm_or_si128(digit, letter)) as u32 as u64;
            mask |= (bits & 0xFFFF) << (16 * i);
        }
        mask
    }
}

static WORD_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    t
};

/// The presence model folded into a table that stage 1 can afford on every
/// passage with no agent word: each word of ASCII letters and digits that the
/// model weighs [`SKETCH_MIN_WEIGHT`] or more either way is keyed by its first
/// eight bytes, lowercased, and its weight kept in sixteenths, in a table
/// small enough to stay in the processor's first cache; a passage is read as
/// its runs of ASCII letters and digits, each distinct key counted once, as
/// the model counts distinct words. It misses the lighter words and what the
/// model sees in other words ("'d", "self-driving", "café"), and merges words
/// that share eight bytes, so it only decides which passages the model itself
/// reads: those it puts at [`SKETCH_PASSES`] or more.
struct Sketch {
    /// Buckets of four (fingerprint, weight in sixteenths) byte pairs, one
    /// u64 each: fingerprint byte low, weight byte high; fingerprint 0 is empty.
    buckets: Vec<u64>,
    bias: f32,
}

/// Buckets as a power of two: 4 Ki buckets of eight bytes (32 KB) for about
/// 2,000 words. A word whose bucket is full (one in thousands) is left out.
const SKETCH_BITS: u32 = 12;
/// The lightest weight the sketch keeps (about 2,000 of the model's 17,000 words).
const SKETCH_MIN_WEIGHT: f32 = 1.0;
const SKETCH_SCALE: f32 = 16.0;
/// The sketch's probability from which the model is asked (it confirms from
/// [`crate::rules::presence::CONFIRMS`]).
const SKETCH_PASSES: f32 = 0.7;
const LANES: u64 = 0x0001_0001_0001_0001;

impl Sketch {
    fn new(model: &Presence) -> Sketch {
        let mut sketch = Sketch {
            buckets: vec![0; 1 << SKETCH_BITS],
            bias: model.bias,
        };
        let mut words: Vec<(&str, f32)> = model.weights().collect();
        // Heaviest first, so a full bucket loses a light word; then by
        // spelling, so the table does not depend on hash-map order.
        words.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(b.0)));
        for (word, weight) in words {
            let bytes = word.as_bytes();
            let alphanumeric = bytes.iter().all(u8::is_ascii_alphanumeric);
            if bytes.len() < 2 || !alphanumeric || weight.abs() < SKETCH_MIN_WEIGHT {
                continue;
            }
            let q = (weight * SKETCH_SCALE).round().clamp(-127.0, 127.0) as i8;
            let (b, fingerprint) = Sketch::place(key_value(&bytes[..bytes.len().min(8)]));
            let bucket = &mut sketch.buckets[b];
            // The first free lane, unless a word sharing the first eight bytes
            // (heavier, as it came first) holds one already.
            let lane_of = |lane: usize| (*bucket >> (16 * lane)) as u8;
            let held = (0..4).any(|lane| lane_of(lane) == fingerprint);
            if let Some(lane) = (0..4).find(|&lane| lane_of(lane) == 0).filter(|_| !held) {
                *bucket |= (u64::from(fingerprint) | u64::from(q as u8) << 8) << (16 * lane);
            }
        }
        sketch
    }

    /// The bucket and the (never zero) fingerprint of a key.
    fn place(key: u64) -> (usize, u8) {
        let h = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        ((h >> (64 - SKETCH_BITS)) as usize, (h >> 8) as u8 | 1)
    }

    fn passes(&self, passage: &str) -> bool {
        SCRATCH.with_borrow_mut(|scratch| {
            self.probability(passage.as_bytes(), scratch) >= SKETCH_PASSES
        })
    }

    /// The sketch's probability for `bytes`. `scratch` holds a bit per slot,
    /// all clear on entry and on return, and room for the slots set.
    fn probability(&self, bytes: &[u8], scratch: &mut Scratch) -> f32 {
        let Scratch { seen, touched } = scratch;
        seen.resize(1 << (SKETCH_BITS + 2 - 6), 0);
        // A word takes two bytes at least (a letter and a space), so this is
        // room for every distinct one.
        touched.resize(bytes.len() / 2 + 2, 0);
        let (mut n, mut sum) = (0usize, 0i32);
        let chunk_mask = |c: usize| {
            bytes
                .get(c * 64..)
                .map_or(0, |rest| word_bytes(&rest[..rest.len().min(64)]))
        };
        let mut word = chunk_mask(0);
        let mut previous = 0u64;
        for c in 0..bytes.len().div_ceil(64) {
            let next = chunk_mask(c + 1);
            let mut starts = word & !(word << 1 | previous >> 63);
            let ahead = u128::from(word) | u128::from(next) << 64;
            while starts != 0 {
                let j = starts.trailing_zeros();
                starts &= starts - 1;
                let start = c * 64 + j as usize;
                let run = (!((ahead >> j) as u64)).trailing_zeros() as usize;
                let key = match bytes.get(start..start + 8) {
                    Some(eight) => u64::from_le_bytes(eight.try_into().expect("eight bytes")),
                    None => key_value(&bytes[start..]),
                };
                // ASCII letters and digits all have bit 5 set once lowercased.
                let key = (key | 0x2020_2020_2020_2020) & low_bytes_or_all(run);
                let (b, fingerprint) = Sketch::place(key);
                let bucket = self.buckets[b];
                // Lanes whose fingerprint byte equals the key's: a zero byte
                // in the XOR. The lowest flagged lane is always a true one.
                let diff = (bucket ^ (LANES * u64::from(fingerprint))) & (LANES * 0xFF);
                let zero = diff.wrapping_sub(LANES) & !diff & (LANES * 0x80);
                // Without branches from here: most words are not weighted,
                // and which are is not predictable.
                let lane = (zero.trailing_zeros() as usize / 16) & 3;
                let slot = b * 4 + lane;
                let bit = 1u64 << (slot & 63);
                let new = u64::from(zero != 0) & (!seen[slot >> 6] >> (slot & 63)) & 1;
                seen[slot >> 6] |= bit * new;
                touched[n] = slot as u16;
                n += new as usize;
                sum += i32::from((bucket >> (16 * lane + 8)) as u8 as i8) * new as i32;
            }
            previous = word;
            word = next;
        }
        for &slot in &touched[..n] {
            seen[usize::from(slot) >> 6] = 0;
        }
        let lexical = if n == 0 {
            0.0
        } else {
            sum as f32 / SKETCH_SCALE / (n as f32).sqrt()
        };
        1.0 / (1.0 + (-(self.bias + lexical)).exp())
    }
}

/// The sketch's working memory, one per thread.
#[derive(Default)]
struct Scratch {
    seen: Vec<u64>,
    touched: Vec<u16>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// A mask of the low `n` bytes of a u64 (all of it from 8).
fn low_bytes_or_all(n: usize) -> u64 {
    if n >= 8 { u64::MAX } else { low_bytes(n) }
}

/// How close (in bytes, about a dozen words) a cue must be to a weak agent word
/// for the passage to go to stage 2.
const WEAK_CUE_DISTANCE: usize = 80;

/// Distinct words of computers at work ([`AnchorKind::Computing`]) that, with
/// a cue anywhere in it, send a passage to stage 2. One is any modern
/// passage; the Gutenberg benchmark has two in about one paragraph in 4,000.
pub const COMPUTING_WORDS: usize = 2;

/// How many distinct words `words` holds, ignoring ASCII case and a final
/// "s" ("server" and "Servers" are one word).
fn count_distinct_stems<'a>(words: impl Iterator<Item = &'a str>) -> usize {
    let mut seen: Vec<String> = words
        .map(|w| {
            let mut stem = w.to_ascii_lowercase();
            if stem.ends_with('s') {
                stem.pop();
            }
            stem
        })
        .collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

/// How many passages back an AI named in a document stays in view.
pub const SALIENCE_WINDOW: usize = 3;

/// Stage 1's verdict on a passage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Escalation {
    /// Send it to stage 2.
    pub escalate: bool,
    /// An AI is named in it or in the passages just before it.
    pub salient: bool,
}

/// One anchor found in a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: AnchorKind,
    pub start: usize,
    pub end: usize,
}

/// An automaton and what each of its patterns means.
struct Anchors {
    first: FirstWords,
    ac: AhoCorasick,
    entries: Vec<Vec<Entry>>,
}

/// The stage-1 automata.
pub struct Prefilter {
    agents: Anchors,
    cues: Anchors,
    /// Context words of archetypes whose aliases need context, tagged by archetype.
    context: Option<(AhoCorasick, Vec<u16>)>,
    /// The learned presence model, asked about the few passages with no agent
    /// word and a cue that its sketch lets through (see
    /// [`Prefilter::passage_escalates`]).
    presence: Option<Presence>,
    sketch: Option<Sketch>,
}

/// Whether stage 1 asks the presence model before it sends on a passage with
/// no agent word and one word of computers at work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Send it on only when the model confirms an AI (scanning: stage 2 would
    /// find none otherwise, and the escalation rate counts what stage 2 reads).
    Presence,
    /// Send it on and let stage 2 decide (training, which stands a held-out
    /// model's probability in for the shipped model's).
    Open,
}

impl Prefilter {
    /// Build the automata from the filters' anchors.
    pub fn new(filters: &Filters) -> Result<Prefilter> {
        let common = |w: &str| filters.common_words.contains(w);
        let wanted = |cues: bool| {
            move |tag: &Tag| match anchor_kind(tag) {
                Some(AnchorKind::Cue) => cues.then_some(AnchorKind::Cue),
                other if !cues => other,
                _ => None,
            }
        };
        Ok(Prefilter {
            agents: Anchors::new(filters, wanted(false), None)?,
            cues: Anchors::new(filters, wanted(true), Some(&common))?,
            context: context_automaton(filters)?,
            presence: filters.model.presence.clone(),
            sketch: filters.model.presence.as_ref().map(Sketch::new),
        })
    }

    /// Every agent, archetype and computing anchor in `text`, in order.
    pub fn hits(&self, text: &str, out: &mut Vec<Hit>) {
        out.clear();
        self.agents.find(text, 0, out);
    }

    /// Every trope-cue anchor in `text`, in order.
    pub fn cue_hits(&self, text: &str) -> Vec<Hit> {
        let mut out = vec![];
        self.cues.find(text, 0, &mut out);
        out
    }

    /// Which passages go to stage 2, given the document's hits (in order), and
    /// for each whether an AI is in view: named in it or in the few passages
    /// before it (a reader of a passage knows what came just before, not what a
    /// chapter mentioned pages ago).
    pub fn escalate(&self, text: &str, passages: &[Span], hits: &[Hit]) -> Vec<Escalation> {
        self.escalate_with(text, passages, hits, Gate::Presence)
    }

    /// [`Prefilter::escalate`] with the presence model's gate as `gate` says.
    pub fn escalate_with(
        &self,
        text: &str,
        passages: &[Span],
        hits: &[Hit],
        gate: Gate,
    ) -> Vec<Escalation> {
        let mut inside: Vec<&[Hit]> = Vec::with_capacity(passages.len());
        let mut h = 0;
        for span in passages {
            while h < hits.len() && hits[h].start < span.start {
                h += 1;
            }
            let n = hits[h..].iter().take_while(|x| x.start < span.end).count();
            inside.push(&hits[h..h + n]);
        }
        let names: Vec<bool> = inside
            .iter()
            .map(|hs| hs.iter().any(|x| names_an_ai(x.kind)))
            .collect();
        (0..passages.len())
            .map(|p| {
                let salient = names[p.saturating_sub(SALIENCE_WINDOW)..=p]
                    .iter()
                    .any(|b| *b);
                Escalation {
                    escalate: self.passage_escalates(text, &passages[p], inside[p], salient, gate),
                    salient,
                }
            })
            .collect()
    }

    /// `text` taken as one passage: would it go to stage 2?
    pub fn escalate_whole(&self, text: &str, hits: &[Hit], gate: Gate) -> Escalation {
        let whole = 0..text.len();
        self.escalate_with(text, std::slice::from_ref(&whole), hits, gate)[0]
    }

    fn passage_escalates(
        &self,
        text: &str,
        span: &Span,
        hits: &[Hit],
        salient: bool,
        gate: Gate,
    ) -> bool {
        let mut weak = vec![];
        let mut pending = vec![];
        let mut computing: Vec<&str> = vec![];
        for h in hits {
            match h.kind {
                k if names_an_ai(k) => return true,
                AnchorKind::Archetype { idx, .. } => pending.push(idx),
                AnchorKind::Weak => weak.push(h.start - span.start),
                AnchorKind::Computing => computing.push(&text[h.start..h.end]),
                _ => {}
            }
        }
        let passage = &text[span.clone()];
        if !pending.is_empty() && self.has_context(passage, &pending) {
            return true;
        }
        if salient {
            return self.cues.any(passage);
        }
        // Words of computers at work and a cue: stage 2 asks the presence
        // model whether an AI nobody names, or only calls "the system", is at
        // the centre of it.
        let computing = count_distinct_stems(computing.into_iter());
        if computing >= COMPUTING_WORDS {
            return self.cues.any(passage);
        }
        if weak.is_empty() {
            // No agent word at all: an AI nobody names ("said the station",
            // "MERIDIAN (V.O.)", an "I" that runs the building) is known only
            // by the passage's other words. The presence model reads them when
            // its sketch, cheap enough for every passage, lets the passage
            // through and there is a cue: stage 2 would find no AI in it
            // unless the model confirms one.
            return self.sketch_passes(passage, gate)
                && self.cues.any(passage)
                && self.confirms(passage, gate);
        }
        // A weak agent word counts only with a cue close to it: "the machine
        // killed", not "the machine" in one sentence and "killed" five later.
        let mut cues = vec![];
        self.cues.find(passage, 0, &mut cues);
        cues.iter().any(|c| {
            weak.iter()
                .any(|&w| c.start.abs_diff(w) <= WEAK_CUE_DISTANCE)
        })
    }

    /// Stand `model` in for the presence model the filters hold (tests).
    #[cfg(test)]
    fn set_presence(&mut self, model: Option<Presence>) {
        self.sketch = model.as_ref().map(Sketch::new);
        self.presence = model;
    }

    fn sketch_passes(&self, passage: &str, gate: Gate) -> bool {
        match (gate, &self.sketch) {
            (Gate::Open, _) => true,
            (Gate::Presence, Some(sketch)) => sketch.passes(passage),
            (Gate::Presence, None) => false,
        }
    }

    fn confirms(&self, passage: &str, gate: Gate) -> bool {
        match (gate, &self.presence) {
            (Gate::Open, _) => true,
            (Gate::Presence, Some(model)) => model.confirms(passage),
            (Gate::Presence, None) => false,
        }
    }

    /// True when a context word of one of `archetypes` is in `passage`.
    pub fn has_context(&self, passage: &str, archetypes: &[u16]) -> bool {
        let Some((ac, tags)) = &self.context else {
            return false;
        };
        ac.find_iter(passage).any(|m| {
            boundary_before(passage, m.start())
                && archetypes.contains(&tags[m.pattern().as_usize()])
        })
    }
}

/// True for anchors that name an AI by themselves.
pub fn names_an_ai(kind: AnchorKind) -> bool {
    matches!(
        kind,
        AnchorKind::Strong
            | AnchorKind::SelfRef
            | AnchorKind::Archetype {
                needs_context: false,
                ..
            }
    )
}

fn anchor_kind(tag: &Tag) -> Option<AnchorKind> {
    Some(match tag {
        Tag::Agent(Strength::Strong) => AnchorKind::Strong,
        Tag::Agent(Strength::Weak | Strength::Acts | Strength::Speaks) => AnchorKind::Weak,
        Tag::Agent(Strength::SelfRef) => AnchorKind::SelfRef,
        Tag::Archetype { idx, ambiguous } => AnchorKind::Archetype {
            idx: *idx,
            needs_context: *ambiguous,
        },
        Tag::Cue { .. } => AnchorKind::Cue,
        Tag::Context(Ctx::Computing) => AnchorKind::Computing,
        Tag::Context(_) | Tag::Exclude(_) | Tag::Situation(_) | Tag::Field(_) | Tag::NotAgent => {
            return None;
        }
    })
}

/// The spellings stage 1 looks for: the literal as written and in capitals
/// when case matters, else as written and in its lower-case, capitalised and
/// upper-case forms. (Matching exactly
/// rather than ignoring ASCII case keeps the case-sensitive alias AM from firing
/// on every "am".)
fn case_variants(literal: &str, case_sensitive: bool) -> Vec<String> {
    if case_sensitive {
        // As written, and in capitals (see `Pattern::alt_matches`).
        let mut forms = vec![literal.to_string(), literal.to_uppercase()];
        forms.dedup();
        return forms;
    }
    let lower = literal.to_lowercase();
    let mut chars = lower.chars();
    let capital: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    // As written too: "ChatGPT", "LLMs" and "GPT-4o" are none of the others.
    let mut forms = vec![literal.to_string(), lower, capital, literal.to_uppercase()];
    forms.sort();
    forms.dedup();
    forms
}

fn build(literals: &[String]) -> Result<AhoCorasick> {
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .start_kind(StartKind::Anchored)
        .build(literals)
        .map_err(|e| Error::Other(format!("building the stage-1 automaton: {e}")))
}

fn context_automaton(filters: &Filters) -> Result<Option<(AhoCorasick, Vec<u16>)>> {
    let mut literals = vec![];
    let mut tags = vec![];
    for (idx, a) in filters.archetypes.iter().enumerate() {
        for p in &a.context {
            for anchor in p.anchors(None) {
                literals.push(anchor.literal.to_ascii_lowercase());
                tags.push(idx as u16);
            }
        }
    }
    if literals.is_empty() {
        return Ok(None);
    }
    let ac = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(&literals)
        .map_err(|e| Error::Other(format!("building the archetype-context automaton: {e}")))?;
    Ok(Some((ac, tags)))
}

fn boundary_before(text: &str, start: usize) -> bool {
    text[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric())
}

fn boundary_after(text: &str, end: usize) -> bool {
    text[end..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const WORDS: [&str; 12] = [
        "AI",
        "robot",
        "robot dog",
        "dog",
        "Ava",
        "ai",
        "the machine",
        "x",
        "bot",
        "T-X",
        "my weights",
        "as an AI",
    ];
    const PREFIX: [&str; 2] = ["robot", "bot"];

    fn anchors_of(words: &[&str]) -> Anchors {
        let literals: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let entries = words
            .iter()
            .map(|w| {
                vec![Entry {
                    kind: AnchorKind::Strong,
                    prefix: PREFIX.contains(w),
                    agent: None,
                }]
            })
            .collect();
        Anchors::from_parts(literals, entries).unwrap()
    }

    fn anchors() -> Anchors {
        anchors_of(&WORDS)
    }

    /// The specification, checked naively: at every position where a word can
    /// start, left to right, the longest spelling that fits as a whole word
    /// (or a prefix pattern); the next search begins after it.
    fn naive(text: &str) -> Vec<(usize, usize)> {
        let mut out = vec![];
        let mut i = 0;
        while i < text.len() {
            let best = WORDS
                .iter()
                .enumerate()
                .filter(|(_, w)| text.is_char_boundary(i) && text[i..].starts_with(**w))
                .max_by_key(|(_, w)| w.len());
            let ok = best.filter(|(_, w)| {
                boundary_before(text, i)
                    && (boundary_after(text, i + w.len()) || PREFIX.contains(*w))
            });
            match ok {
                Some((_, w)) => {
                    out.push((i, i + w.len()));
                    i += w.len();
                }
                None => i += 1,
            }
        }
        out
    }

    fn found(text: &str) -> Vec<(usize, usize)> {
        let mut hits = vec![];
        anchors().find(text, 0, &mut hits);
        hits.iter().map(|h| (h.start, h.end)).collect()
    }

    #[test]
    fn word_starts_only() {
        assert_eq!(
            found("said again, AI. (ai) robots"),
            vec![(12, 14), (17, 19), (21, 26)]
        );
        assert_eq!(found("AI at the start"), vec![(0, 2)]);
        assert_eq!(found("the robot dog barked"), vec![(4, 13)]);
        assert_eq!(found("café Ava, éAva"), vec![(6, 9)]);
        assert!(found("maids, xylophone, Avatar").is_empty());
        assert_eq!(found("bots; botnet; abbot"), vec![(0, 3), (6, 9)]);
        assert_eq!(
            found("the T-X and my weights, as an AI"),
            vec![(4, 7), (12, 22), (24, 32)]
        );
        assert!(found("the same, as any, my word").is_empty());
    }

    #[test]
    fn spellings_not_starting_a_word_are_still_found() {
        let a = anchors_of(&["#AI", "AI"]);
        let mut hits = vec![];
        a.find("tag #AI and AI", 0, &mut hits);
        let spans: Vec<_> = hits.iter().map(|h| (h.start, h.end)).collect();
        assert_eq!(spans, vec![(4, 7), (12, 14)]);
    }

    proptest! {
        #[test]
        fn word_bytes_agree_with_the_table(bytes in prop::collection::vec(any::<u8>(), 64)) {
            prop_assert_eq!(word_bytes(&bytes), word_bytes_scalar(&bytes));
        }
    }

    /// One word of computers at work ("telemetry"), trope cues, no agent word.
    const ONE_WORD: &str = "The night shift had gone home and the pumping station was quiet. \
        At four in the morning the telemetry to the harbour office stopped, and a message \
        appeared on every screen in the control room: the flood gates would stay closed until \
        the engineers withdrew their request. It threatened to open them at high tide if anyone \
        came near the panel again.";

    #[test]
    fn with_no_agent_word_a_passage_goes_on_when_the_presence_model_confirms_an_ai() {
        let filters = Filters::load(&crate::rules::bundled_dir()).unwrap();
        let mut prefilter = Prefilter::new(&filters).unwrap();
        let escalates = |p: &Prefilter, text: &str, gate: Gate| {
            let mut hits = vec![];
            p.hits(text, &mut hits);
            p.escalate_whole(text, &hits, gate).escalate
        };
        // With no weighted words, the probability is the intercept's.
        prefilter.set_presence(Some(Presence::new(5.0, [])));
        assert!(escalates(&prefilter, ONE_WORD, Gate::Presence));
        // Too few words for the model to be asked: not sent on.
        let short = "The telemetry stopped. It threatened the crew.";
        assert!(!escalates(&prefilter, short, Gate::Presence));
        prefilter.set_presence(Some(Presence::new(-5.0, [])));
        assert!(!escalates(&prefilter, ONE_WORD, Gate::Presence));
        // Training asks stage 2 with a held-out model instead.
        assert!(escalates(&prefilter, ONE_WORD, Gate::Open));
        prefilter.set_presence(None);
        assert!(!escalates(&prefilter, ONE_WORD, Gate::Presence));
    }

    #[test]
    fn the_sketch_weighs_distinct_words_as_the_model_does() {
        let model = Presence::new(
            0.0,
            [
                ("deployed".to_string(), 2.0),
                ("horse".to_string(), -2.0),
                ("autonomous".to_string(), 1.5),
                ("it's".to_string(), 3.0),
                ("mild".to_string(), 0.5),
            ],
        );
        let sketch = Sketch::new(&model);
        let p = |text: &str| sketch.probability(text.as_bytes(), &mut Scratch::default());
        let near = |a: f32, b: f32| (a - b).abs() < 1e-3;
        assert!(near(p("nothing weighed here"), 0.5));
        assert!(near(
            p("DEPLOYED, deployed and Deployed"),
            model.probability(["deployed"].into_iter())
        ));
        assert!(near(p("the deployed horse"), 0.5));
        // The first eight bytes are the key: "autonomously" is "autonomous".
        assert!(near(
            p("autonomously"),
            model.probability(["autonomous"].into_iter())
        ));
        // Left out: words with other characters, and light words.
        assert!(near(p("it's mild"), 0.5));
        // Every bit of its scratch is clear again afterwards.
        let mut scratch = Scratch::default();
        sketch.probability(b"deployed horse autonomous", &mut scratch);
        assert!(scratch.seen.iter().all(|w| *w == 0));
    }

    /// The sketch must let through what the model confirms, or stage 1 would
    /// lose AIs the model would have found: measured on four development
    /// files (on all 96, it let through 6,970 of the 7,016 passages the model
    /// fitted before it confirms, 99.3%).
    #[test]
    fn the_sketch_lets_through_what_the_model_confirms() {
        let filters = Filters::load(&crate::rules::bundled_dir()).unwrap();
        let model = filters
            .model
            .presence
            .as_ref()
            .expect("filters/presence.tsv");
        let sketch = Sketch::new(model);
        let dev = crate::rules::bundled_dir().join("../corpora/labeled/dev");
        let (mut confirmed, mut kept) = (0, 0);
        for file in [
            "set-cr.jsonl",
            "set-bh.jsonl",
            "set-ck.jsonl",
            "set-ca.jsonl",
        ] {
            let text = std::fs::read_to_string(dev.join(file)).unwrap();
            for line in text.lines() {
                let row: serde_json::Value = serde_json::from_str(line).unwrap();
                let passage = row["text"].as_str().unwrap();
                if model.confirms(passage) {
                    confirmed += 1;
                    kept += usize::from(sketch.passes(passage));
                }
            }
        }
        assert!(confirmed >= 100, "{confirmed}");
        assert!(kept * 100 >= confirmed * 99, "{kept} of {confirmed}");
    }

    proptest! {
        #[test]
        fn agrees_with_the_naive_search(parts in prop::collection::vec(
            prop::sample::select(vec!["AI", "ai", "robot", "robots", "dog", " ", ", ", "é", "x",
                "the machine", "said", "Ava", "\n", "-", "“", "r", "ot", "bot", "bo", "T-X", "T",
                "my", "my weights", "as an", "as an AI", "the"]), 0..30)) {
            let text: String = parts.concat();
            prop_assert_eq!(found(&text), naive(&text));
        }
    }
}
