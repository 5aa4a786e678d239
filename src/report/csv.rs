//! The report as CSV: one row per trope, stance and archetype, for the whole
//! corpus and then for each group.

use std::fmt::Write as _;

use super::{Report, Row};

const HEADER: &str = "group,section,name,side,passages,documents,characters,tokens,per_million_tokens,share_of_documents,mean_score,mentions";

/// The report as CSV text.
pub fn render(r: &Report) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    rows(&mut out, "", r);
    for (field, groups) in &r.groups {
        for (value, g) in &groups.0 {
            rows(&mut out, &format!("{field}={value}"), g);
        }
    }
    out
}

fn rows(out: &mut String, group: &str, r: &Report) {
    let total = Row {
        passages: r.passages,
        documents: r.documents,
        characters: r.characters,
        tokens: r.tokens,
        per_million_tokens: 1e6,
        share_of_documents: 1.0,
        ..Row::default()
    };
    row(out, group, "total", "all", &total, None);
    row(out, group, "ai_agent", "ai_agent", &r.ai_agent, None);
    for (name, t) in &r.tropes.0 {
        row(out, group, "trope", name, t, None);
    }
    for (name, s) in &r.stances.0 {
        row(out, group, "stance", name, s, None);
    }
    for (name, a) in &r.archetypes.0 {
        let counts = Row {
            passages: a.passages,
            documents: a.documents,
            side: Some(a.side),
            ..Row::default()
        };
        row(out, group, "archetype", name, &counts, Some(a.mentions));
    }
}

fn row(out: &mut String, group: &str, section: &str, name: &str, r: &Row, mentions: Option<u64>) {
    let _ = writeln!(
        out,
        "{},{section},{},{},{},{},{},{},{:.3},{:.6},{},{}",
        quote(group),
        quote(name),
        r.side.unwrap_or(""),
        r.passages,
        r.documents,
        r.characters,
        r.tokens,
        r.per_million_tokens,
        r.share_of_documents,
        r.mean_score.map(|m| format!("{m:.3}")).unwrap_or_default(),
        mentions.map(|m| m.to_string()).unwrap_or_default()
    );
}

/// Quote a CSV field when it needs it.
fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
