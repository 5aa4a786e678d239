//! The report as an aligned table for the terminal.

use std::fmt::Write as _;

use super::{Report, Row};

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The token total with how it was obtained.
pub fn tokens_line(r: &Report) -> String {
    if r.tokens_exact {
        format!("{} tokens (exact)", thousands(r.tokens))
    } else if r.tokens_counted_documents == 0 {
        "tokens not counted".to_string()
    } else {
        let err = 100.0 * r.tokens_std_error / (r.tokens.max(1) as f64);
        format!(
            "{} tokens (estimated from {} counted documents, standard error {:.2}%)",
            thousands(r.tokens),
            thousands(r.tokens_counted_documents),
            err
        )
    }
}

/// The whole report.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} shards, {} documents, {} passages, {}",
        r.shards,
        thousands(r.documents),
        thousands(r.passages),
        tokens_line(r)
    );
    let bad: u64 = r.bad_input.values().sum();
    let bad_kinds: Vec<String> = r
        .bad_input
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let _ = writeln!(
        out,
        "stage 1 escalated {:.2}% of passages; {} with an AI agent; bad input: {}\n",
        100.0 * r.escalation_rate,
        thousands(r.ai_agent.passages),
        if bad == 0 {
            "none".to_string()
        } else {
            format!("{bad} ({})", bad_kinds.join(", "))
        }
    );
    header(&mut out, "trope", true);
    for (name, row) in &r.tropes.0 {
        line(&mut out, name, row, true);
    }
    let _ = writeln!(out);
    header(&mut out, "stance", false);
    for (name, row) in &r.stances.0 {
        line(&mut out, name, row, false);
    }
    if !r.archetypes.0.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<24} {:<10} {:>9} {:>9} {:>9}",
            "archetype", "side", "mentions", "passages", "docs"
        );
        for (name, a) in &r.archetypes.0 {
            let _ = writeln!(
                out,
                "{name:<24} {:<10} {:>9} {:>9} {:>9}",
                a.side,
                thousands(a.mentions),
                thousands(a.passages),
                thousands(a.documents)
            );
        }
    }
    for (field, groups) in &r.groups {
        let _ = writeln!(out, "\nby {field}:");
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>12} {:>13} {:>13} {:>9}",
            field, "documents", "tokens", "misaligned/M", "aligned/M", "mixed/M"
        );
        for (value, g) in &groups.0 {
            let per = |s: &str| g.stances.get(s).map_or(0.0, |r| r.per_million_tokens);
            let _ = writeln!(
                out,
                "{:<24} {:>10} {:>12} {:>13.1} {:>13.1} {:>9.1}",
                truncate(value, 24),
                thousands(g.documents),
                thousands(g.tokens),
                per("misaligned"),
                per("aligned"),
                per("mixed")
            );
        }
    }
    for w in &r.warnings {
        let _ = writeln!(out, "\nwarning: {w}");
    }
    out
}

fn header(out: &mut String, first: &str, score: bool) {
    let _ = write!(
        out,
        "{first:<22} {:<10} {:>9} {:>8} {:>11} {:>12} {:>8}",
        "side", "passages", "docs", "tokens", "per M tok", "% docs"
    );
    if score {
        let _ = write!(out, " {:>6}", "score");
    }
    out.push('\n');
}

fn line(out: &mut String, name: &str, r: &Row, score: bool) {
    let _ = write!(
        out,
        "{name:<22} {:<10} {:>9} {:>8} {:>11} {:>12.1} {:>7.2}%",
        r.side.unwrap_or(""),
        thousands(r.passages),
        thousands(r.documents),
        thousands(r.tokens),
        r.per_million_tokens,
        100.0 * r.share_of_documents
    );
    if score {
        let _ = write!(out, " {:>6.2}", r.mean_score.unwrap_or(0.0));
    }
    out.push('\n');
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
