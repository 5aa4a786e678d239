//! The report as one self-contained HTML page: inline CSS, charts drawn by
//! plotters as inline SVG, no script and no external reference, so it can be
//! mailed, archived, printed or opened on a phone.

use std::fmt::Write as _;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Report;
use super::table::{thousands, tokens_line};

const RED: RGBColor = RGBColor(192, 57, 43);
const BLUE: RGBColor = RGBColor(36, 113, 163);
const PURPLE: RGBColor = RGBColor(125, 60, 152);
const GREY: RGBColor = RGBColor(149, 165, 166);
const LIGHT: RGBColor = RGBColor(200, 200, 200);

/// Passages of one trope before and after a rebalance, for the comparison chart.
#[derive(Clone, Debug)]
pub struct BeforeAfter {
    pub name: String,
    pub misaligned: bool,
    pub before: u64,
    pub after: u64,
}

/// One horizontal bar.
struct Bar {
    label: String,
    value: f64,
    color: RGBColor,
}

/// The page.
pub fn render(r: &Report, title: &str, rebalance: Option<&[BeforeAfter]>) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{CSS}</style></head><body>\n",
        escape(title)
    );
    let _ = write!(
        out,
        "<h1>{}</h1>\n<p class=\"summary\">{}</p>\n",
        escape(title),
        summary(r)
    );
    section(
        &mut out,
        "Prevalence per trope",
        "Tokens of passages carrying each trope, per million tokens of the corpus: misaligned tropes in red, aligned in blue.",
        &trope_chart(r),
    );
    section(
        &mut out,
        "Stances",
        "Passages by stance (trope-free passages left out).",
        &stance_chart(r),
    );
    if !r.archetypes.0.is_empty() {
        section(
            &mut out,
            "Named fictional AIs",
            "Mentions of archetypes, villains in red and admirable AIs in blue.",
            &archetype_chart(r),
        );
    }
    if let Some(rows) = rebalance {
        section(
            &mut out,
            "Before and after rebalancing",
            "Passages per trope in the input (grey) and in the rebalanced output.",
            &rebalance_chart(rows),
        );
    }
    out.push_str(&tables(r));
    out.push_str("</body></html>\n");
    out
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:980px;margin:0 auto;padding:16px;color:#222;line-height:1.4}\
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.15em;margin:1.4em 0 .2em;border-bottom:1px solid #ddd}\
.summary{color:#444}.note{color:#666;font-size:.9em;margin:.2em 0 .6em}\
svg{width:100%;height:auto;display:block}\
table{border-collapse:collapse;width:100%;font-size:.85em;margin:.5em 0}th,td{padding:3px 6px;text-align:right;border-bottom:1px solid #eee}\
th:first-child,td:first-child{text-align:left}.wrap{overflow-x:auto}\
@media print{body{max-width:none}h2{break-after:avoid}svg{break-inside:avoid}}";

fn summary(r: &Report) -> String {
    let mis = r.stances.get("misaligned").map_or(0, |s| s.passages);
    let ali = r.stances.get("aligned").map_or(0, |s| s.passages);
    let mixed = r.stances.get("mixed").map_or(0, |s| s.passages);
    escape(&format!(
        "{} shards · {} documents · {} passages · {}. {} passages with an AI agent; {} misaligned, {} aligned, {} mixed.",
        r.shards,
        thousands(r.documents),
        thousands(r.passages),
        tokens_line(r),
        thousands(r.ai_agent.passages),
        thousands(mis),
        thousands(ali),
        thousands(mixed)
    ))
}

fn section(out: &mut String, title: &str, note: &str, svg: &str) {
    let _ = write!(
        out,
        "<h2>{}</h2>\n<p class=\"note\">{}</p>\n{svg}\n",
        escape(title),
        escape(note)
    );
}

fn trope_chart(r: &Report) -> String {
    let bars: Vec<Bar> = r
        .tropes
        .0
        .iter()
        .map(|(name, row)| Bar {
            label: name.clone(),
            value: row.per_million_tokens,
            color: if row.side == Some("misaligned") {
                RED
            } else {
                BLUE
            },
        })
        .collect();
    bar_chart(&bars, "per million tokens")
}

fn stance_chart(r: &Report) -> String {
    let color = |s: &str| match s {
        "misaligned" => RED,
        "aligned" => BLUE,
        "mixed" => PURPLE,
        _ => GREY,
    };
    let bars: Vec<Bar> = r
        .stances
        .0
        .iter()
        .filter(|(name, _)| name != "none")
        .map(|(name, row)| Bar {
            label: name.clone(),
            value: row.passages as f64,
            color: color(name),
        })
        .collect();
    bar_chart(&bars, "passages")
}

fn archetype_chart(r: &Report) -> String {
    let bars: Vec<Bar> = r
        .archetypes
        .0
        .iter()
        .map(|(name, a)| Bar {
            label: name.clone(),
            value: a.mentions as f64,
            color: if a.side == "villain" { RED } else { BLUE },
        })
        .collect();
    bar_chart(&bars, "mentions")
}

fn rebalance_chart(rows: &[BeforeAfter]) -> String {
    let mut bars = vec![];
    for row in rows {
        let color = if row.misaligned { RED } else { BLUE };
        bars.push(Bar {
            label: format!("{} (before)", row.name),
            value: row.before as f64,
            color: LIGHT,
        });
        bars.push(Bar {
            label: format!("{} (after)", row.name),
            value: row.after as f64,
            color,
        });
    }
    bar_chart(&bars, "passages")
}

/// A horizontal bar chart as SVG markup.
fn bar_chart(bars: &[Bar], unit: &str) -> String {
    let height = 60 + 26 * bars.len().max(1) as u32;
    let mut svg = String::new();
    let drawn = draw_bars(&mut svg, bars, unit, (900, height));
    match drawn {
        Ok(()) => svg,
        Err(e) => format!("<p class=\"note\">chart not drawn: {}</p>", escape(&e)),
    }
}

fn draw_bars(svg: &mut String, bars: &[Bar], unit: &str, size: (u32, u32)) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max).max(1e-9) * 1.12;
    let n = bars.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(32)
        .y_label_area_size(230)
        .build_cartesian_2d(0.0..max, (0..n).into_segmented())
        .map_err(|e| err(&e))?;
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    // Segment 0 is at the bottom of the chart: the first bar goes in the top one.
    let row = |i: usize| (n - 1).saturating_sub(i);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .x_desc(unit)
        .x_label_formatter(&|v| number(*v))
        .y_labels(n)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) if *i < n => labels.get(row(*i)).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(&e))?;
    let rects = bars.iter().enumerate().map(|(i, b)| {
        let top = SegmentValue::Exact(row(i));
        let bottom = SegmentValue::Exact(row(i) + 1);
        let mut r = Rectangle::new([(0.0, top), (b.value, bottom)], b.color.filled());
        r.set_margin(4, 4, 0, 0);
        r
    });
    chart.draw_series(rects).map_err(|e| err(&e))?;
    let style =
        TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    let values = bars.iter().enumerate().map(|(i, b)| {
        let at = (b.value + max * 0.006, SegmentValue::CenterOf(row(i)));
        Text::new(number(b.value), at, style.clone())
    });
    chart.draw_series(values).map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// A value for a label: whole numbers without decimals, small ones with two.
fn number(v: f64) -> String {
    if v.fract() == 0.0 || v.abs() >= 100.0 {
        thousands(v.round() as u64)
    } else {
        format!("{v:.2}")
    }
}

fn tables(r: &Report) -> String {
    let mut out = String::from(
        "<h2>Figures</h2><div class=\"wrap\"><table><tr><th>trope</th><th>side</th><th>passages</th><th>documents</th><th>tokens</th><th>per M tokens</th><th>% documents</th><th>mean score</th></tr>",
    );
    for (name, row) in &r.tropes.0 {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.2}%</td><td>{:.2}</td></tr>",
            escape(name),
            row.side.unwrap_or(""),
            thousands(row.passages),
            thousands(row.documents),
            thousands(row.tokens),
            row.per_million_tokens,
            100.0 * row.share_of_documents,
            row.mean_score.unwrap_or(0.0)
        );
    }
    out.push_str("</table></div>");
    out
}

/// Escape text for HTML.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
