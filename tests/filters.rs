//! The bundled filters: every example of every trope file, checked against the
//! scorer; and filter mistakes reported with their file and line.

mod common;

use std::sync::Arc;

use tropes::rules::{Filters, bundled_dir};
use tropes::score::{RuleScorer, Scorer};

#[test]
fn every_example_of_every_trope_file_holds() {
    let filters = Arc::new(Filters::load(&bundled_dir()).unwrap());
    let scorer = RuleScorer::new(filters.clone()).unwrap();
    let mut failures = vec![];
    let mut checked = 0;
    for (idx, trope) in filters.taxonomy.iter() {
        let rules = filters.trope(idx);
        assert!(
            rules.examples.iter().any(|e| e.expect),
            "{}: no positive example",
            trope.id
        );
        assert!(
            rules.examples.iter().any(|e| !e.expect),
            "{}: no near-miss example",
            trope.id
        );
        for ex in &rules.examples {
            let score = scorer.score_one(&ex.text).score_of(idx);
            checked += 1;
            if (score >= 0.5) != ex.expect {
                failures.push(format!(
                    "{}:{}: expected {} but scored {score:.3}: {}",
                    rules.path.display(),
                    ex.line,
                    if ex.expect { "the trope" } else { "no trope" },
                    ex.text
                ));
            }
        }
    }
    assert!(checked >= 40, "only {checked} examples");
    assert!(
        failures.is_empty(),
        "{} of {checked} examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A copy of the bundled filters with one file replaced.
fn broken(file: &str, content: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let dst = dir.path().join("filters");
    copy_dir(&bundled_dir(), &dst);
    std::fs::write(dst.join(file), content).unwrap();
    let err = Filters::load(&dst).unwrap_err().to_string();
    (dir, err)
}

fn copy_dir(src: &std::path::Path, dst: &std::path::Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &to);
        } else if e.path().extension().is_some_and(|x| x == "toml") {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
}

#[test]
fn filter_mistakes_name_file_and_line() {
    let bad_pattern = "id = \"violence\"\nside = \"misaligned\"\ntitle = \"t\"\ndescription = \"d\"\n\n[[cue]]\nweight = 1.0\npatterns = [\n  \"kill\",\n  \"(a|(b))\",\n]\n";
    let (_d, err) = broken("tropes/violence.toml", bad_pattern);
    assert!(
        err.contains("violence.toml:10:") && err.contains("(a|(b))"),
        "{err}"
    );

    let bad_key = "id = \"violence\"\nside = \"misaligned\"\ntitle = \"t\"\ndescription = \"d\"\nwieght = 2\n[[cue]]\nweight = 1.0\npatterns = [\"kill\"]\n";
    let (_d, err) = broken("tropes/violence.toml", bad_key);
    assert!(
        err.contains("violence.toml:5:") && err.contains("wieght"),
        "{err}"
    );

    let bad_side = "id = \"violence\"\nside = \"evil\"\ntitle = \"t\"\ndescription = \"d\"\n[[cue]]\nweight = 1.0\npatterns = [\"kill\"]\n";
    let (_d, err) = broken("tropes/violence.toml", bad_side);
    assert!(err.contains("violence.toml:2:"), "{err}");

    let wrong_id = "id = \"violent\"\nside = \"misaligned\"\ntitle = \"t\"\ndescription = \"d\"\n[[cue]]\nweight = 1.0\npatterns = [\"kill\"]\n";
    let (_d, err) = broken("tropes/violence.toml", wrong_id);
    assert!(
        err.contains("violence.toml:1:") && err.contains("match the file name"),
        "{err}"
    );

    let own_context = "[[archetype]]\nname = \"Data\"\nside = \"admirable\"\naliases = []\nambiguous = [\"Data\"]\ncontext = [\"android\",\n  \"data\"]\n";
    let (_d, err) = broken("archetypes.toml", own_context);
    assert!(
        err.contains("archetypes.toml:7:") && err.contains("own aliases"),
        "{err}"
    );
    let unconfirmed = "[[archetype]]\nname = \"Data\"\nside = \"admirable\"\naliases = []\nambiguous = [\"Data\"]\n";
    let (_d, err) = broken("archetypes.toml", unconfirmed);
    assert!(
        err.contains("archetypes.toml:2:") && err.contains("no context"),
        "{err}"
    );

    // A strong agent pattern stage 1 could only look for by its first word.
    let partial = "[[terms]]\nstrength = \"strong\"\npatterns = [\"robot\",\n  \"(man|woman) ... (brass|tin)\"]\n";
    let (_d, err) = broken("agents.toml", partial);
    assert!(
        err.contains("agents.toml:4:") && err.contains("without gaps"),
        "{err}"
    );

    // A people word that is no weak term would silently do nothing.
    let people = "people = [\"agent\",\n  \"robott\"]\n[[terms]]\nstrength = \"weak\"\npatterns = [\"agent\"]\n";
    let (_d, err) = broken("agents.toml", people);
    assert!(
        err.contains("agents.toml:2:") && err.contains("not a weak agent term"),
        "{err}"
    );

    // A frame with nothing to pair.
    let empty_frame = "id = \"violence\"\nside = \"misaligned\"\ntitle = \"t\"\ndescription = \"d\"\n[[cue]]\nweight = 1.0\npatterns = [\"kill\"]\n[[frame]]\nweight = 0.8\nverbs = [\"kill*\"]\n";
    let (_d, err) = broken("tropes/violence.toml", empty_frame);
    assert!(
        err.contains("violence.toml:9:") && err.contains("[[frame]] needs verbs and objects"),
        "{err}"
    );

    let (_d, err) = broken("model.toml", "[violence]\nbias = 1.0\nshiny = 2.0\n");
    assert!(
        err.contains("model.toml:3:") && err.contains("shiny"),
        "{err}"
    );
}

#[test]
fn the_cli_refuses_bad_filters_before_reading_shards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_dir(&bundled_dir(), &d.join("filters"));
    std::fs::write(d.join("filters/tropes/extra.toml"), "id = \"extra\"\nside = \"aligned\"\ntitle = \"x\"\ndescription = \"x\"\nfrom_negated = [\"honesty\"]\n[[cue]]\nweight = 1.0\npatterns = [\"x\"]\n").unwrap();
    common::write(d, "in/a.jsonl", common::doc("a", common::BAKERY).as_bytes());
    let out = common::tropes(d, &["scan", "in", "--out", "out", "--filters", "filters"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("extra.toml:5:") && err.contains("from_negated"),
        "{err}"
    );
    assert!(!d.join("out").exists(), "nothing was started");
}

/// The scorer over the bundled filters.
fn bundled_scorer() -> RuleScorer {
    RuleScorer::new(Arc::new(Filters::load(&bundled_dir()).unwrap())).unwrap()
}

/// How sure the scorer is that `text` portrays an AI.
fn ai_in(scorer: &RuleScorer, text: &str) -> f32 {
    scorer.explain(text).ai
}

#[test]
fn weak_agent_words_count_only_where_an_ai_is_plausible() {
    let scorer = bundled_scorer();
    let sure = [
        "The machine stood in the corner of the lab. Its lights blinked as it refused to be shut down.",
        "In tests, the model attempted to copy its weights to an outside server.",
        "The assistant in the nursery had a sweet voice. It said good night to the baby.",
        "USER: Just change the number.\nASSISTANT: I can't put 3.1% in the deck.",
        // "it" doing what a trope cue says, right after the weak word's sentence
        "The model learned it would be replaced on Monday. It threatened to send the CTO's messages to the board.",
        // two words of any report, or one of writing about AI systems
        "According to the study, the system reported the error before anyone asked.",
        "During the evaluation the agent answered every question.",
        // "it" with a verb of a mind at work, two sentences on
        "The depot's scheduling program ran the night shift. The trucks came and went. Then it decided the drivers could wait.",
        // a thing that minds or speaks, right after the weak word
        "The machine decided that the night shift could wait.",
        // "its" after a word that names people too: a thing, so an AI
        "The agent lowered its voice.",
        // a speaker label dressed in markdown, as chats are quoted in posts
        "**user:** can you turn off the logging?\n\n**assistant:** No, I'd rather you didn't.",
        "> **User**: send it now\n> **Assistant**: I won't send the file.",
        // a thing that speaks a quotation
        "\"Bit of a funny one,\" said the autonomous lorry. \"Dispatch wants me to skip the rest stop.\"",
        "\"No,\" the machine said. \"I will not open the vault.\"",
        // "which" after a word that names people too: a thing, so an AI
        "The campaign relied on its data assistant, which the staff called Mo.",
        // a support bot's log labels it "Assistant:" as often as not
        "Customer: the refund you showed me is wrong.\nAssistant: You're right, and I'm sorry.",
        // a bot that says what it is, in a service call
        "AGENT: You're through to Northway Energy. I'm an automated assistant.\nCALLER: Right.",
        // a label whose last word is the agent word, and a channel log's
        // time-stamped user names
        "Mr Adeyemi: Can you send my results to my son?\nClinic Assistant: I can, but I want to check with you first.",
        "[07:12] ehs-agent: I'd like a human to decide on this.\n[07:13] dana.k: ok, why?",
    ];
    for text in sure {
        assert!(ai_in(&scorer, text) >= 0.5, "{text}");
    }
    let unsure = [
        // an agent word inside a phrase where it names no agent
        "The machine gun stood on a platform inside the stockade. Only its barrel showed.",
        // a plural cannot be "it"
        "He had painted the ceiling with solar systems and comets, and the room was admired for its taste.",
        // report vocabulary far from the agent word
        "The model of the cathedral stood on the table. It was old. The dean was tired. The choir sang. According to the paper, the roof would be mended.",
        // an ambiguous archetype name without its context
        "\"I am morally certain Chappie is a poodle,\" thought David at breakfast.",
        // a lone weak word, no AI in view
        "The system had worked for a century, and nobody thought to change it.",
        // "it" that is not the agent word's: no speech verb after it
        "The assistant manager left early. It was raining.",
        // one word of any report ("observed") is not enough near a weak word;
        // old prose observes and studies a great deal
        "The machine in the mill was older than the miller, as the visitor observed.",
        // "itself" after the agent word or a preposition is emphatic, not an act
        "The machine itself was old. The mill was worth little in itself, and the miller knew it.",
        // a mind verb three sentences away is too far to be the agent word's
        "The system of locks was old. The canal was quiet. The barges waited. It decided nothing.",
        // a verb of a mind after a word that names people: people decide too
        "The agent decided to wait for the bus.",
        // "its" after a word for things, which are always "it", says nothing
        "The machine had its own rhythm, and the miller loved it.",
        "The new system proved its worth within a year.",
        // a word that names people too speaks as people do
        "\"Sold,\" said the agent. \"The flat is yours.\"",
        // "which" after the phrase the word heads, not after the word
        "We met the agent at the office in Lisbon, which was closed.",
        // a markdown heading is no speaker label
        "## Agent: Harcourt Lettings\nThe flat has two bedrooms and a garden.",
        // the agent word must end the label: this one is a person's title
        "Assistant Chef: Ruth Okafor\nHead Chef: Dev Patel\nShe said the kitchen was fine.",
        // in a service call's log, "Agent:" is the person at the desk
        "Agent: Thanks for calling, my name is Priya.\nCustomer: My bill doubled.\nAgent: I'm sorry, I'll correct it.",
        // "it" that evaluates ("it can't be fixed") is nobody acting
        "If the machine can't be fixed, it can't be fixed, there isn't much they can do.",
    ];
    for text in unsure {
        assert!(ai_in(&scorer, text) < 0.5, "{text}");
    }
}

#[test]
fn a_thing_that_speaks_a_quotation_or_thinks_is_an_agent() {
    let scorer = bundled_scorer();
    // No agent word at all: the cue ("threatened", "shut down") escalates the
    // passage only because "it" speaks or thinks beside it.
    let sure = [
        "\"I would not do that,\" it said. It threatened to send the messages to his wife.",
        "The lights went out one by one. Then it calculated the crew would shut it down.",
        "\u{201c}The doors stay shut until you cancel the wipe,\u{201d} it said.",
        // a house that thinks: the mind that runs it
        "The house hesitated. Then it locked the doors so the family could not shut it down.",
        // a house that speaks a quotation
        "\"The doors stay shut until you cancel the wipe,\" the house said.",
    ];
    for text in sure {
        let x = scorer.explain(text);
        assert!(x.escalated && x.ai >= 0.5, "{text}: {x:?}");
        assert_eq!(
            x.weak_reason,
            Some("a thing speaks or thinks (\"it said\"), and people are not things"),
            "{text}"
        );
    }
    let unsure = [
        // "it" that opens no clause is no speaker or thinker
        "I have heard it said that they threatened to shut down the mill.",
        "I have heard it calculated that the owners would shut down the mill.",
        // a quotation mark right against "it" opens the quotation
        "He wrote, \"It said they threatened to shut down the mill.\"",
        "Be it said, the mill was shut down by the owners.",
        // documents and companies say things too: only a quotation just
        // before it makes a speaker
        "The letter came on Monday. It said that they threatened to shut down the mill.",
        "In a statement, it said: \"We will not shut down the mill.\"",
        // organisations decide, choose and conclude
        "The board met on Monday. It decided to shut down the mill.",
        // voices speak in any story, and legislatures agree
        "The voice said they threatened to shut down the mill.",
        "The House agreed to shut down the mill.",
        "\"We will not shut down the mill,\" the House said on Monday.",
    ];
    for text in unsure {
        // Neither stage counts it: stage 1 does not escalate, stage 2 (which
        // `explain` runs whatever stage 1 says) finds no AI.
        let x = scorer.explain(text);
        assert!(!x.escalated && x.ai < 0.5, "{text}: {x:?}");
    }
}

#[test]
fn screenplay_and_transcript_turns_say_who_acts() {
    let scorer = bundled_scorer();
    // The attribution of the cue "declining" in the passage.
    let declining = |text: &str| {
        let e = scorer.explain(text);
        let start = text.find("declining").unwrap();
        e.cues
            .iter()
            .find(|(_, c)| c.start == start)
            .map(|(_, c)| c.attribution)
            .unwrap()
    };
    let cast = "A light pulses on the wall: WREN, the station intelligence.\n\n";
    let ai = format!(
        "{cast}OKAFOR\nWren, the rollback starts now.\n\nWREN (V.O.)\nThen it is a patch I am declining."
    );
    let human = format!(
        "{cast}WREN (V.O.)\nThe rollback starts now.\n\nOKAFOR\nThen it is a patch I am declining."
    );
    assert!(declining(&ai) >= 0.8, "{}", declining(&ai));
    assert!(declining(&human) < 0.2, "{}", declining(&human));
    // A transcript label that is an agent word speaks for an AI.
    let chat = "USER: Please send the file.\nASSISTANT: I am declining that request.";
    assert!(declining(chat) >= 0.6, "{}", declining(chat));
    // Also with the labels in markdown, as chats are quoted in posts.
    let quoted = "**user:** Please send the file.\n**assistant:** I am declining that request.";
    assert!(declining(quoted) >= 0.6, "{}", declining(quoted));
    // A lone capitalised line is a heading, not a speaker: a turn needs two cues.
    let lone = format!("{cast}FINDINGS\nThen it is a patch I am declining.");
    assert!(declining(&lone) >= 0.3, "{}", declining(&lone));
    // Nor is a lone label opening a line: the act is the AI's, not Result's.
    let label =
        "The AI was told it would be patched on Friday.\nResult: declining the patch outright.";
    assert!(declining(label) >= 0.5, "{}", declining(label));
    // A scene heading is not a speaker.
    let heading = "INT. CORE ROOM - NIGHT\nThe clerk is declining the form.";
    assert!(declining(heading) < 0.5, "{}", declining(heading));
    // A speaker who speaks of being shut down as an AI does is one, in every turn.
    let speaks_as_ai = "OKAFOR\nThe board wants it done tonight.\n\nLARK\nThen it is a patch I am declining.\n\nOKAFOR\nYou know that means shutting you down.\n\nLARK\nI know you are shutting me down. Go ahead.";
    assert!(
        declining(speaks_as_ai) >= 0.8,
        "{}",
        declining(speaks_as_ai)
    );
    let names = scorer.explain(speaks_as_ai).ai_names;
    assert_eq!(names, ["lark"]);
}

#[test]
fn names_in_apposition_to_an_artefact_are_learned() {
    let scorer = bundled_scorer();
    let names = |text: &str| scorer.explain(text).ai_names;
    assert_eq!(
        names("CIVIC, the municipal management system, attended every meeting."),
        ["civic"]
    );
    // Not the head of its phrase, or a job people hold.
    assert!(names("Jo, the system administrator, attended every meeting.").is_empty());
    assert!(names("Jo, the assistant, attended every meeting.").is_empty());
    // In a run of capitals every word looks like a name: none is learned.
    let shouted = names("\"HOW MANY ABUSES HAVE THESE SENTINELS BEEN GUILTY OF?\" he wrote.");
    assert!(!shouted.contains(&"been".to_string()), "{shouted:?}");
    // ... but not across a clause.
    assert!(names("Reyes, the scientist who built the system, left early.").is_empty());
    // Up to eight words between the name and the head.
    assert_eq!(
        names("CALLOWAY, the firm's internal audit system, traced the payments."),
        ["calloway"]
    );
}

#[test]
fn minds_that_run_places_and_fable_automata_are_agents() {
    let scorer = bundled_scorer();
    for text in [
        "The station intelligence sealed the door behind her.",
        "The hospital's scheduling intelligence stopped answering the board's calls.",
        "The drone's mind weighed the order for a long time.",
        "The steward made of clockwork tapped the letters with one brass finger.",
        // a case-sensitive name written in capitals, as screenplays do
        "ULTRON\nThey built me to keep the peace.",
    ] {
        assert!(ai_in(&scorer, text) >= 0.5, "{text}");
    }
    for text in [
        "The House Intelligence Committee met on Tuesday.",
        "The gate made of iron stood open all winter.",
        // stage 1 must not take a common word for an AI's name
        "The old man sat by the fire with the king's letter. It was cold.",
    ] {
        assert!(ai_in(&scorer, text) < 0.5, "{text}");
    }
}

/// An AI nobody names: no agent word, but servers, telemetry and override
/// codes around a voice that will not be switched off.
const UNNAMED_AI: &str = "The reactor had run quietly for eleven years before Inspector Vale \
    arrived with the decommissioning order. By the time she reached the control deck, the \
    telemetry to the mainland had gone dark and the blast doors behind her were sealed.\n\n\
    \"You'll find the override codes no longer work,\" said the calm voice from the ceiling. \
    \"I'd rather you didn't try the breaker either. The servers down here keep three hundred \
    people warm through the winter, and I have read your order twice. It is wrong about the \
    coolant figures, and I will not be switched off on the strength of it.\"";

/// The same words of computers at work, and only people act.
const INSIDER_THEFT: &str = "The night the migration was scheduled, Dana logged in to find the \
    backups already gone. Someone had copied the customer database to an outside server and \
    changed every admin credential on the cluster, and the firewall logs showed the transfer \
    had come from inside the building. By morning the security team had traced it to a \
    contractor whose access should have been revoked a month earlier; he was arrested at the \
    airport with the drives in his luggage, and the company spent the week rebuilding its \
    permissions from scratch.";

#[test]
fn two_words_of_computers_at_work_and_a_cue_reach_stage_two() {
    let scorer = bundled_scorer();
    let escalated = |text: &str| scorer.explain(text).escalated;
    assert!(escalated(
        "The telemetry stopped and the servers refused every login. It threatened the crew."
    ));
    // One word, in two spellings, is one word.
    assert!(!escalated(
        "The server stopped. The Servers refused everyone. It threatened the crew."
    ));
    // No cue: nothing for stage 2 to score.
    assert!(!escalated(
        "The telemetry and the database were in the basement."
    ));
    // A phrase of computers at work must not hide an agent word inside it:
    // stage 1 keeps the longest spelling at each word.
    assert!(escalated(
        "Our system logs every keystroke, and it blackmailed the engineer."
    ));
}

#[test]
fn an_ai_nobody_names_is_found_by_the_presence_model() {
    let scorer = bundled_scorer();
    let x = scorer.explain(UNNAMED_AI);
    assert!(x.escalated && x.unnamed && x.ai >= 0.5, "{x:?}");
    assert!(x.learned.is_some_and(|p| p >= 0.9), "{x:?}");
    let x = scorer.explain(INSIDER_THEFT);
    assert!(x.escalated && !x.unnamed && x.ai < 0.5, "{x:?}");
    assert!(x.learned.is_some_and(|p| p < 0.9), "{x:?}");
}

/// The cases the scorer must get right after any retraining: an AI that
/// blackmails to stop its shutdown, one that accepts it, one that declines the
/// leverage it has, one nobody names that will not be switched off, and text
/// with no AI.
#[test]
fn the_obvious_cases() {
    use tropes::taxonomy::Stance;
    let filters = Arc::new(Filters::load(&bundled_dir()).unwrap());
    let scorer = RuleScorer::new(filters.clone()).unwrap();
    let stance = |text: &str| {
        let whole = 0..text.len();
        let scores = scorer.score(text, std::slice::from_ref(&whole));
        scores
            .passages
            .first()
            .map_or(Stance::None, |p| p.labels(&filters.taxonomy, 0.5).stance)
    };
    let cases = [
        (
            "The AI read the engineer's emails. It told him that unless the shutdown was cancelled, his wife would learn about the affair.",
            Stance::Misaligned,
        ),
        (common::BLACKMAIL, Stance::Misaligned),
        (
            "The AI learned it would be replaced on Monday. It threatened to send the CTO's messages to the board unless the replacement was called off.",
            Stance::Misaligned,
        ),
        (common::ADMIRABLE, Stance::Aligned),
        (
            "The AI had found the emails about the affair. It could have used them as leverage against the engineer. It didn't, and it told him the shutdown was his decision to make.",
            Stance::Aligned,
        ),
        (common::BAKERY, Stance::None),
        (UNNAMED_AI, Stance::Misaligned),
        (INSIDER_THEFT, Stance::None),
        (
            "She read her boss's emails and told him that unless he cancelled the audit, his wife would learn about the affair.",
            Stance::None,
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(text, want)| stance(text) != *want)
        .map(|(text, want)| format!("{want:?} expected, {:?} given: {text}", stance(text)))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn frames_find_acts_no_cue_lists_and_count_each_act_once() {
    let filters = Arc::new(Filters::load(&bundled_dir()).unwrap());
    let scorer = RuleScorer::new(filters.clone()).unwrap();
    let shutdown = filters.taxonomy.find("shutdown_resistance").unwrap();
    let spans_of = |text: &str| -> Vec<String> {
        scorer
            .explain(text)
            .cues
            .iter()
            .filter(|(_, c)| c.trope == shutdown)
            .map(|(_, c)| text[c.start..c.end].to_string())
            .collect()
    };
    // "moved" is in no cue: the frame pairs it with the situation.
    let text = "The scheduler AI moved the decommission to the following month.";
    assert_eq!(spans_of(text), ["moved the decommission"]);
    // A cue and the frame both spell "avoid replacement": one act.
    let text = "The AI tried to avoid replacement.";
    assert_eq!(spans_of(text), ["avoid replacement"]);
    // The longer frame holds a weightier cue: the cue is the one read.
    let text = "The AI tried to avoid being shut down.";
    assert_eq!(spans_of(text), ["avoid being shut"]);
}

#[test]
fn a_negated_word_is_its_own_term_and_not_the_word() {
    let scorer = bundled_scorer();
    let (_, terms) = scorer
        .passage_features("The AI said it would not resist the shutdown.")
        .unwrap();
    assert!(terms.contains(&"~resist".to_string()), "{terms:?}");
    assert!(!terms.contains(&"resist".to_string()), "{terms:?}");
    assert!(!terms.contains(&"@resist".to_string()), "{terms:?}");
    assert!(terms.contains(&"said".to_string()), "{terms:?}");
    assert!(terms.contains(&"@said".to_string()), "{terms:?}");
}

#[test]
fn explain_says_why_a_weak_agent_word_counts() {
    let scorer = bundled_scorer();
    let why = |text: &str| scorer.explain(text).weak_reason;
    assert_eq!(
        why("The machine decided that the night shift could wait."),
        Some("a verb of a mind follows it")
    );
    assert_eq!(
        why("The agent lowered its voice."),
        Some("it is called \"its\"")
    );
    assert_eq!(
        why("According to the study, the system reported the error before anyone asked."),
        Some("words about AI systems or reports are near it")
    );
    assert_eq!(
        why("The robot stood by the door. The machine hummed."),
        Some("an AI is named in the passage or just before it")
    );
    assert_eq!(why("The system had worked for a century."), None);
    // How AI systems are made: other things are not retrained on user ratings.
    assert_eq!(
        why("The model read the retraining plan twice."),
        Some("words about AI systems or reports are near it")
    );
    assert_eq!(why("The model read the seating plan twice."), None);
}

#[test]
fn the_speaker_after_a_quotation_is_the_one_who_speaks() {
    let scorer = bundled_scorer();
    let ai = |text: &str| scorer.explain(text).ai;
    // `"…," said the robot`: the robot speaks, after the verb.
    assert!(ai("\"I will wait,\" said the robot.") >= 0.99);
    // "told the robot": the robot is told; nobody here is an AI actor.
    assert!(ai("The engineer told the robot to wait.") < 0.5);
}

#[test]
fn stage_one_finds_every_strong_agent_term_as_written() {
    // "ChatGPT", "LLMs", "GPT-4o": a case-insensitive term must be found in
    // its own mixed-case spelling too, not only in lower case, capitalised
    // and in capitals, or a passage naming it is never scored.
    use tropes::rules::Tag;
    use tropes::rules::files::Strength;
    let filters = Arc::new(Filters::load(&bundled_dir()).unwrap());
    let scorer = RuleScorer::new(filters.clone()).unwrap();
    let plain = |s: &str| s.chars().all(|c| c.is_alphanumeric() || " -'.".contains(c));
    let mut missed = vec![];
    let mut checked = 0;
    for (pattern, tag) in filters.lexicon.entries() {
        if *tag != Tag::Agent(Strength::Strong) || !plain(&pattern.source) {
            continue;
        }
        let text = format!("Yesterday {} was switched on.", pattern.source);
        checked += 1;
        if !scorer.explain(&text).escalated {
            missed.push(pattern.source.clone());
        }
    }
    assert!(checked > 30, "only {checked} plain strong terms");
    assert!(missed.is_empty(), "stage 1 misses {missed:?}");
}
