//! Deterministic understanding of operator text (research spec §5: normalise, lexicon, slots).
//!
//! It does not understand language: it lower-cases the text, strips punctuation, and matches the
//! longest phrases of a lexicon built from the scenario (waypoint ids, aliases, zones, kinds,
//! colours, landmarks). Every word is accounted for: a lexicon phrase, a stop word, yes/no, a
//! negation, a known function word, or listed in [`Reading::unknown`], so nothing is dropped
//! silently. Stop words ("stop", "cancel", "abort", ...) set [`Reading::stop`] wherever they
//! appear, even inside a longer sentence ("don't stop" stops too: safety wins over grammar).

use super::{Attribute, Catalog};
use std::collections::BTreeMap;

/// Lower case, apostrophes removed, `-`, `_` and other punctuation turned into single spaces.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c == '\'' || c == '’' {
            continue;
        }
        out.push(if c.is_alphanumeric() { c } else { ' ' });
    }
    out.split_whitespace().map(synonym).collect::<Vec<_>>().join(" ")
}

/// Spelling variants folded into the scenario's spelling.
fn synonym(word: &str) -> &str {
    match word {
        "gray" => "grey",
        "color" => "colour",
        "center" => "centre",
        "southwest" => "south west",
        _ => word,
    }
}

const STOP_WORDS: &[&str] = &["stop", "cancel", "abort", "halt", "estop", "freeze"];
const YES_WORDS: &[&str] = &[
    "yes",
    "yeah",
    "yep",
    "yup",
    "correct",
    "affirmative",
    "right",
    "confirm",
    "confirmed",
    "sure",
    "ok",
    "okay",
    "exactly",
];
const NO_WORDS: &[&str] = &["no", "nope", "nah", "wrong", "negative", "incorrect"];
const NEGATIONS: &[&str] = &["not", "isnt", "dont", "never", "aint", "except"];
const FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "to",
    "go",
    "goto",
    "drive",
    "take",
    "it",
    "head",
    "move",
    "over",
    "one",
    "ones",
    "by",
    "near",
    "next",
    "beside",
    "in",
    "at",
    "on",
    "please",
    "i",
    "want",
    "you",
    "is",
    "its",
    "that",
    "this",
    "of",
    "side",
    "somewhere",
    "area",
    "me",
    "we",
    "there",
    "thing",
    "with",
    "and",
    "for",
    "place",
    "just",
    "well",
    "um",
    "uh",
    "zone",
    "kind",
    "colour",
    "landmark",
    "part",
    "towards",
    "toward",
    "up",
    "down",
    "out",
    "can",
    "could",
    "would",
    "should",
    "let",
    "lets",
    "s",
    "the",
    "now",
    "then",
    "get",
    "bring",
    "send",
    "robot",
    "warthog",
];

/// What a phrase can mean.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Sense {
    /// It names a waypoint (id or alias); index into the catalog entries.
    Waypoint(usize),
    /// It is a value of an attribute.
    Attr(Attribute, String),
}

/// What a constraint is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An attribute has this (normalised) value.
    Attr(Attribute, String),
    /// The goal is one of these waypoints (catalog indices; an alias can name several, e.g.
    /// "loading dock").
    Waypoints(Vec<usize>),
}

/// One slot the operator filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    /// What it says.
    pub subject: Subject,
    /// "not the red one".
    pub negated: bool,
}

impl Constraint {
    /// Whether catalog entry `i` satisfies the constraint.
    pub fn holds(&self, catalog: &Catalog, i: usize) -> bool {
        let plain = match &self.subject {
            Subject::Attr(a, v) => catalog.entries().get(i).is_some_and(|e| e.attr(*a) == v),
            Subject::Waypoints(ws) => ws.contains(&i),
        };
        plain != self.negated
    }
}

/// The parser's reading of one operator utterance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// A stop/cancel/abort word appeared: the dialogue must end, whatever else was said.
    pub stop: bool,
    /// An affirmative word appeared.
    pub yes: bool,
    /// A negative answer word appeared.
    pub no: bool,
    /// Slots, in the order they were said.
    pub constraints: Vec<Constraint>,
    /// Words the parser did not understand (reported, never guessed at).
    pub unknown: Vec<String>,
}

impl Reading {
    /// A clean yes (yes without no); `None` when neither or both were said.
    pub fn answer(&self) -> Option<bool> {
        match (self.yes, self.no) {
            (true, false) => Some(true),
            (false, true) => Some(false),
            _ => None,
        }
    }
    /// The first positive value given for an attribute.
    pub fn value_of(&self, a: Attribute) -> Option<&str> {
        self.constraints.iter().find_map(|c| match &c.subject {
            Subject::Attr(b, v) if *b == a && !c.negated => Some(v.as_str()),
            _ => None,
        })
    }
}

/// Lexicon-based parser for one scenario.
#[derive(Debug, Clone)]
pub struct Parser {
    /// Phrases as token lists with their senses, longest first (ties: alphabetical).
    phrases: Vec<(Vec<String>, Vec<Sense>)>,
}

impl Parser {
    /// Builds the lexicon from the catalog: ids (with `_` read as a space), aliases, attribute
    /// values, and plural kinds ("docks").
    pub fn new(catalog: &Catalog) -> Self {
        let mut lex: BTreeMap<String, Vec<Sense>> = BTreeMap::new();
        let mut add = |phrase: String, sense: Sense| {
            if !phrase.is_empty() {
                let senses = lex.entry(phrase).or_default();
                if !senses.contains(&sense) {
                    senses.push(sense);
                }
            }
        };
        for (i, e) in catalog.entries().iter().enumerate() {
            add(normalise(e.id().as_str()), Sense::Waypoint(i));
            for alias in e.aliases() {
                add(alias.clone(), Sense::Waypoint(i));
            }
            for a in Attribute::ALL {
                let v = e.attr(a).to_string();
                if a == Attribute::Kind && !v.is_empty() {
                    add(format!("{v}s"), Sense::Attr(a, v.clone()));
                }
                add(v.clone(), Sense::Attr(a, v));
            }
        }
        let mut phrases: Vec<(Vec<String>, Vec<Sense>)> = lex
            .into_iter()
            .map(|(p, mut s)| {
                s.sort();
                (p.split(' ').map(str::to_string).collect(), s)
            })
            .collect();
        phrases.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Self { phrases }
    }

    /// Reads one utterance.
    pub fn read(&self, text: &str) -> Reading {
        let norm = normalise(text);
        let tokens: Vec<&str> = norm.split(' ').filter(|t| !t.is_empty()).collect();
        let mut r = Reading::default();
        let mut negate = false;
        let mut i = 0;
        while i < tokens.len() {
            let t = tokens[i];
            if STOP_WORDS.contains(&t) {
                r.stop = true;
                i += 1;
                continue;
            }
            if let Some((len, senses)) = self.longest_match(&tokens[i..]) {
                let mut waypoints = Vec::new();
                for s in senses {
                    match s {
                        Sense::Waypoint(w) => waypoints.push(*w),
                        Sense::Attr(a, v) => r
                            .constraints
                            .push(Constraint { subject: Subject::Attr(*a, v.clone()), negated: negate }),
                    }
                }
                if !waypoints.is_empty() {
                    r.constraints
                        .push(Constraint { subject: Subject::Waypoints(waypoints), negated: negate });
                }
                negate = false;
                i += len;
                continue;
            }
            if YES_WORDS.contains(&t) {
                r.yes = true;
            } else if NO_WORDS.contains(&t) {
                r.no = true;
            } else if NEGATIONS.contains(&t) {
                negate = true;
            } else if !FILLER.contains(&t) {
                r.unknown.push(t.to_string());
            }
            i += 1;
        }
        // A negation with nothing after it ("not really") answers no.
        if negate {
            r.no = true;
        }
        r
    }

    fn longest_match(&self, tokens: &[&str]) -> Option<(usize, &[Sense])> {
        self.phrases
            .iter()
            .find(|(p, _)| p.len() <= tokens.len() && p.iter().zip(tokens).all(|(a, b)| a == b))
            .map(|(p, s)| (p.len(), s.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Targets;
    use crate::agents::tests_support::yard;

    fn setup() -> (Catalog, Parser) {
        let s = yard();
        let c = Catalog::new(&s, Targets::All).unwrap();
        let p = Parser::new(&c);
        (c, p)
    }

    /// The waypoints that satisfy every constraint of a reading.
    fn matches(c: &Catalog, r: &Reading) -> Vec<String> {
        (0..c.entries().len())
            .filter(|&i| r.constraints.iter().all(|k| k.holds(c, i)))
            .map(|i| c.entries()[i].id().to_string())
            .collect()
    }

    #[test]
    fn aliases_and_attributes_pick_the_right_waypoints() {
        let (c, p) = setup();
        assert_eq!(matches(&c, &p.read("Take it to the green shed!")), ["shed_pond"]);
        assert_eq!(matches(&c, &p.read("the shed by the pond")), ["shed_pond"]);
        assert_eq!(matches(&c, &p.read("go to the red one up north")), ["shed_north"]);
        assert_eq!(matches(&c, &p.read("the dock by the rail siding")), ["dock_south"]);
        assert_eq!(matches(&c, &p.read("the loading dock")), ["dock_east", "dock_south"]);
        assert_eq!(matches(&c, &p.read("go to dock_east")), ["dock_east"]);
        assert_eq!(matches(&c, &p.read("the blue one in the east")), ["dock_east"]);
        assert_eq!(matches(&c, &p.read("base, south-west")), ["depot"]);
        assert_eq!(matches(&c, &p.read("the sheds")), ["shed_north", "shed_pond"]);
        assert_eq!(matches(&c, &p.read("the shed, not the red one")), ["shed_pond"]);
    }

    #[test]
    fn unknown_words_are_reported_not_dropped() {
        let (_, p) = setup();
        let r = p.read("Go to the purple helipad quickly");
        assert!(r.constraints.is_empty());
        assert_eq!(r.unknown, ["purple", "helipad", "quickly"]);
    }

    #[test]
    fn stop_words_win_anywhere() {
        let (_, p) = setup();
        for text in ["stop", "Yes — no wait, CANCEL that", "abort the green shed", "don't stop at the dock"]
        {
            assert!(p.read(text).stop, "{text}");
        }
        assert!(!p.read("yes the green shed").stop);
    }

    #[test]
    fn yes_no_answers() {
        let (_, p) = setup();
        assert_eq!(p.read("Yes.").answer(), Some(true));
        assert_eq!(p.read("nope").answer(), Some(false));
        assert_eq!(p.read("not really").answer(), Some(false));
        assert_eq!(p.read("yes and no").answer(), None);
        assert_eq!(p.read("in the east").value_of(Attribute::Zone), Some("east"));
    }
}
