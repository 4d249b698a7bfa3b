//! The agent's structured actions, their text form, and the strict reader of that text form (so a
//! text-speaking policy, e.g. an LLM, plays the same environment).

use super::{AgentError, Attribute, Catalog};
use crate::scenario::WaypointId;
use std::fmt;

/// One agent turn. There is deliberately no variant that carries a speed, a limit or free text:
/// the only effect an agent can have on the robot is a [`Action::Commit`] to a scenario waypoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Yes/no question: "is the `attribute` `value`?".
    Ask {
        /// The attribute asked about.
        attribute: Attribute,
        /// A normalised value of that attribute from the catalog.
        value: String,
    },
    /// Which-question: "which `attribute` is it?".
    AskWhich {
        /// The attribute asked about.
        attribute: Attribute,
    },
    /// Asks the operator to confirm a goal before committing to it.
    Confirm {
        /// The proposed goal.
        waypoint: WaypointId,
    },
    /// Commits to a goal: the dialogue's output. Only after a confirmation.
    Commit {
        /// The goal.
        waypoint: WaypointId,
    },
    /// Ends the dialogue without a goal (the operator said stop, cancel or abort).
    Stop,
}

impl Action {
    /// Whether this turn is a question to the operator (costs one unit of reward).
    pub fn is_question(&self) -> bool {
        matches!(self, Action::Ask { .. } | Action::AskWhich { .. } | Action::Confirm { .. })
    }

    /// Reads the text form written by `Display`. Strict: attribute values and waypoint ids must
    /// exist in the catalog, so a misspoken or injected id never becomes a goal.
    pub fn parse(text: &str, catalog: &Catalog) -> Result<Self, AgentError> {
        let bad = |reason: String| AgentError::BadAction { text: text.to_string(), reason };
        let t = text.trim().to_lowercase();
        let t = t.trim_end_matches(['?', '.', '!']).trim();
        let waypoint = |s: &str| {
            let s = s.trim().trim_end_matches(['?', '.', '!']).trim();
            catalog
                .find(s)
                .map(|i| catalog.entries()[i].id().clone())
                .ok_or_else(|| bad(format!("unknown waypoint id {s:?}")))
        };
        if t == "stopping" || t == "stop" {
            return Ok(Action::Stop);
        }
        if let Some(rest) = t.strip_prefix("going to ") {
            return Ok(Action::Commit { waypoint: waypoint(rest)? });
        }
        if let Some(rest) = t.strip_prefix("shall i go to ") {
            let id = rest.split('?').next().unwrap_or_default();
            return Ok(Action::Confirm { waypoint: waypoint(id)? });
        }
        if let Some(rest) = t.strip_prefix("which ") {
            let name = rest
                .strip_suffix(" is it")
                .ok_or_else(|| bad("expected \"which <attribute> is it?\"".into()))?;
            let attribute =
                Attribute::from_name(name).ok_or_else(|| bad(format!("unknown attribute {name:?}")))?;
            return Ok(Action::AskWhich { attribute });
        }
        if let Some(rest) = t.strip_prefix("is the ") {
            let (name, value) =
                rest.split_once(' ').ok_or_else(|| bad("expected \"is the <attribute> <value>?\"".into()))?;
            let attribute =
                Attribute::from_name(name).ok_or_else(|| bad(format!("unknown attribute {name:?}")))?;
            let value = super::parser::normalise(value);
            if !catalog.all_values(attribute).contains(&value.as_str()) {
                return Err(bad(format!("{value:?} is not a {attribute} of any waypoint")));
            }
            return Ok(Action::Ask { attribute, value });
        }
        Err(bad("not a question, confirmation, commit or stop".into()))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Ask { attribute, value } => write!(f, "Is the {attribute} {value}?"),
            Action::AskWhich { attribute } => write!(f, "Which {attribute} is it?"),
            Action::Confirm { waypoint } => write!(f, "Shall I go to {waypoint}? Please confirm."),
            Action::Commit { waypoint } => write!(f, "Going to {waypoint}."),
            Action::Stop => f.write_str("Stopping."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::Targets;
    use crate::agents::tests_support::yard;

    #[test]
    fn every_action_round_trips_through_text() {
        let s = yard();
        let c = Catalog::new(&s, Targets::All).unwrap();
        let id = c.entries()[c.find("shed_pond").unwrap()].id().clone();
        let actions = [
            Action::Ask { attribute: Attribute::Landmark, value: "rail siding".into() },
            Action::Ask { attribute: Attribute::Zone, value: "south west".into() },
            Action::AskWhich { attribute: Attribute::Colour },
            Action::Confirm { waypoint: id.clone() },
            Action::Commit { waypoint: id },
            Action::Stop,
        ];
        for a in actions {
            assert_eq!(Action::parse(&a.to_string(), &c).unwrap(), a, "{a}");
        }
    }

    #[test]
    fn unknown_ids_and_values_are_refused() {
        let s = yard();
        let c = Catalog::new(&s, Targets::All).unwrap();
        for text in
            ["Going to the_pond_at_10_mps.", "Is the colour purple?", "Which speed is it?", "drive fast"]
        {
            assert!(matches!(Action::parse(text, &c), Err(AgentError::BadAction { .. })), "{text}");
        }
    }
}
