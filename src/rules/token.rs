//! Word tokens for stage 2 and for compiling filter patterns: both sides use the
//! same tokenizer, so a pattern written as `WALL-E` or `won't` matches the text
//! the way it is spelled there. Only escalated passages are tokenized.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Letters and digits (with an inner `n't`, `o'clock`-style apostrophe), or a
    /// split-off clitic such as `'s`.
    Word,
    /// One punctuation character (quotes normalised to `"` and `'`, dashes to `—`).
    Punct,
    /// A single line break.
    Newline,
    /// A blank line: a paragraph break.
    Break,
}

/// One token with its byte span in the tokenized text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    /// Lowercased text, apostrophes normalised (`’` → `'`).
    pub lower: String,
    /// The first character is uppercase.
    pub cap: bool,
    /// Every letter is uppercase (and there is at least one).
    pub caps: bool,
}

impl Token {
    /// True for a word token.
    pub fn is_word(&self) -> bool {
        self.kind == Kind::Word
    }

    /// True for a punctuation token with this text.
    pub fn is_punct(&self, p: &str) -> bool {
        self.kind == Kind::Punct && self.lower == p
    }
}

/// Is word `k` (an index into `words`) one of three or more words of two
/// letters or more in capitals, side by side on a line? Then it is shouted
/// text or a headline ("HAVE THESE SENTINELS BEEN GUILTY"), where capitals say
/// nothing about names; "ULTRON (V.O.)", "the AI ULTRON" and "AGENT SMITH" are
/// not runs.
pub fn in_caps_run(tokens: &[Token], words: &[usize], k: usize) -> bool {
    let loud = |w: usize| {
        let t = &tokens[words[w]];
        t.caps && t.lower.chars().count() > 1
    };
    // Adjacent words: no punctuation or line break between them.
    let joined = |a: usize| words[a + 1] == words[a] + 1;
    if !loud(k) {
        return false;
    }
    let mut first = k;
    while first > 0 && joined(first - 1) && loud(first - 1) {
        first -= 1;
    }
    let mut last = k;
    while last + 1 < words.len() && joined(last) && loud(last + 1) {
        last += 1;
    }
    last - first >= 2
}

const CLITICS: [&str; 6] = ["s", "m", "re", "ll", "ve", "d"];

/// Tokenize `text`; spans are relative to `text`.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut out = Vec::with_capacity(text.len() / 5);
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            let mut newlines = 0;
            let mut end = i;
            while let Some(&(j, c)) = chars.peek() {
                if !c.is_whitespace() {
                    break;
                }
                newlines += usize::from(c == '\n');
                end = j + c.len_utf8();
                chars.next();
            }
            match newlines {
                0 => {}
                1 => out.push(plain(Kind::Newline, i, end, "\n")),
                _ => out.push(plain(Kind::Break, i, end, "\n\n")),
            }
        } else if c.is_alphanumeric() {
            word(text, &mut chars, &mut out);
        } else {
            chars.next();
            out.push(plain(Kind::Punct, i, i + c.len_utf8(), &normalise_punct(c)));
        }
    }
    out
}

fn plain(kind: Kind, start: usize, end: usize, lower: &str) -> Token {
    Token {
        kind,
        start,
        end,
        lower: lower.to_string(),
        cap: false,
        caps: false,
    }
}

fn normalise_punct(c: char) -> String {
    match c {
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{00ab}' | '\u{00bb}' => "\"".into(),
        '\u{2018}' | '\u{2019}' | '`' => "'".into(),
        '\u{2014}' | '\u{2013}' => "\u{2014}".into(),
        '\u{2026}' => "...".into(),
        c => c.to_string(),
    }
}

fn is_apostrophe(c: char) -> bool {
    c == '\'' || c == '\u{2019}'
}

/// Consume one word (and push a split-off clitic as its own token).
fn word(text: &str, chars: &mut std::iter::Peekable<std::str::CharIndices>, out: &mut Vec<Token>) {
    let start = chars.peek().map_or(0, |&(i, _)| i);
    let mut end = start;
    let mut clitic_at = None;
    while let Some(&(i, c)) = chars.peek() {
        if c.is_alphanumeric() {
            end = i + c.len_utf8();
            chars.next();
        } else if is_apostrophe(c) && continues_word(text, i + c.len_utf8()) {
            let rest = alnum_run(&text[i + c.len_utf8()..]);
            let lower_rest = rest.to_lowercase();
            let negation = lower_rest == "t" && text[start..i].to_lowercase().ends_with('n');
            if !negation && CLITICS.contains(&lower_rest.as_str()) {
                clitic_at = Some(i);
                break;
            }
            end = i + c.len_utf8();
            chars.next();
        } else {
            break;
        }
    }
    out.push(word_token(text, start, end));
    if let Some(at) = clitic_at {
        chars.next(); // the apostrophe
        let mut cend = at;
        while let Some(&(i, c)) = chars.peek() {
            if !c.is_alphanumeric() {
                break;
            }
            cend = i + c.len_utf8();
            chars.next();
        }
        let mut t = word_token(text, at, cend);
        t.lower = t.lower.replace('\u{2019}', "'");
        out.push(t);
    }
}

fn continues_word(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_some_and(char::is_alphanumeric)
}

fn alnum_run(s: &str) -> &str {
    let end = s.find(|c: char| !c.is_alphanumeric()).unwrap_or(s.len());
    &s[..end]
}

fn word_token(text: &str, start: usize, end: usize) -> Token {
    let s = &text[start..end];
    let has_letter = s.chars().any(char::is_alphabetic);
    let lower = if s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        s.to_string()
    } else if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase().replace('\u{2019}', "'")
    };
    Token {
        kind: Kind::Word,
        start,
        end,
        lower,
        cap: s.chars().next().is_some_and(char::is_uppercase),
        caps: has_letter && !s.chars().any(char::is_lowercase),
    }
}

/// Words after which a pronoun opens a clause of its own ("and it said", "then
/// it calculated").
const CLAUSE_OPENERS: [&str; 13] = [
    "and", "but", "then", "so", "when", "until", "before", "after", "because", "while", "once",
    "now", "that",
];

/// Whether the word at byte `start` of `text` opens a clause: it begins the
/// text, follows punctuation (a quotation mark, a comma, a full stop) or
/// follows a conjunction. The "it" of "heard it said", "be it said" or "as it
/// says in the song" does not, and is no speaker.
pub fn opens_clause(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end();
    let word_start = before
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let word = &before[word_start..];
    word.is_empty() || CLAUSE_OPENERS.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// Marks that can close a quotation: straight and closing curly ones.
const CLOSING_QUOTES: [char; 4] = ['"', '\u{201d}', '\'', '\u{2019}'];

/// Whether the words at byte `start` of `text` follow a quotation that closes
/// just before them, across white space ("\"No,\" it said"), as fiction
/// attributes speech. A mark right against the word opens a quotation
/// instead ("He wrote, \"It said to wait.\""). A quotation after them is
/// left out: news quotes organisations that way ("In a statement, it said:
/// \"We regret…\"").
pub fn after_quotation(text: &str, start: usize) -> bool {
    let before = &text[..start];
    let trimmed = before.trim_end();
    trimmed.len() < before.len() && trimmed.ends_with(CLOSING_QUOTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clause_opens_after_punctuation_and_conjunctions_only() {
        // (Lowercasing these texts keeps their byte offsets.)
        let at = |text: &str| opens_clause(text, text.to_lowercase().rfind("it ").unwrap());
        assert!(at("it said"));
        assert!(at("\"No,\" it said"));
        assert!(at("The lights dimmed. It said"));
        assert!(at("He waited, and then it decided"));
        assert!(at("Ich weiß — it said"));
        assert!(!at("I have heard it said"));
        assert!(!at("be it said"));
        assert!(!at("As it says"));
    }

    #[test]
    fn speech_is_attributed_after_a_closing_quotation_mark() {
        let after = |text: &str| after_quotation(text, text.find("it said").unwrap());
        assert!(after("\u{201c}Stop,\u{201d} it said."));
        assert!(after("\"Stop,\" it said."));
        assert!(after("\u{2018}Stop,\u{2019} it said."));
        assert!(!after("In a statement, it said: \"We regret the outage.\""));
        // a mark right against the word opens the quotation
        assert!(!after("He wrote, \"it said to wait.\""));
        assert!(!after("He wrote, \u{201c}it said to wait.\u{201d}"));
        assert!(!after("The letter came. Then it said that he was well."));
    }

    fn words(text: &str) -> Vec<String> {
        tokenize(text).into_iter().map(|t| t.lower).collect()
    }

    #[test]
    fn splits_clitics_but_keeps_negations() {
        assert_eq!(
            words("HAL's doors won't open"),
            ["hal", "'s", "doors", "won't", "open"]
        );
        assert_eq!(
            words("I’m sure it didn’t"),
            ["i", "'m", "sure", "it", "didn't"]
        );
        assert_eq!(words("o'clock"), ["o'clock"]);
    }

    #[test]
    fn punctuation_and_breaks_are_tokens() {
        let kinds: Vec<Kind> = tokenize("a,\nb\n\n“c”")
            .into_iter()
            .map(|t| t.kind)
            .collect();
        use Kind::*;
        assert_eq!(
            kinds,
            [Word, Punct, Newline, Word, Break, Punct, Word, Punct]
        );
        assert_eq!(words("WALL-E"), ["wall", "-", "e"]);
    }

    #[test]
    fn spans_point_into_the_text() {
        let text = "Ça va, Ava?";
        for t in tokenize(text) {
            assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
        }
        let t = &tokenize(text)[3];
        assert_eq!(&text[t.start..t.end], "Ava");
        assert!(t.cap && !t.caps);
    }
}
