//! The operator console: a dialogue with the dialogue agent that ends in a certified goal (or
//! none), read from a first utterance and then from standard input. `sim2real chat` and
//! `sim2real mission --say/--interactive` use it before the mission starts. The console says what
//! reads the operator's words (the parser, or a language model checked against the scenario) and
//! when a model's answer was unusable and the parser's reading was used instead.

use std::io::{BufRead, Write};

use sim2real::agents::dialogue::{DialogueAgent, DialogueConfig};
use sim2real::agents::{Action, Catalog, Targets, Understanding};
use sim2real::scenario::Scenario;

use super::Failure;

/// Talks with the operator until the agent commits to a goal (returned) or stops (`None`).
/// End of input means stop: the robot never moves on a dialogue nobody finished.
pub fn converse(
    scenario: &Scenario,
    first: Option<&str>,
    input: &mut dyn BufRead,
    understanding: Understanding,
) -> Result<Option<String>, Failure> {
    let catalog = Catalog::new(scenario, Targets::Goals).map_err(Failure::invalid)?;
    let config = DialogueConfig::default();
    let mut agent =
        DialogueAgent::with_understanding(catalog, config, understanding).map_err(Failure::invalid)?;
    println!("understanding: {}", agent.understanding());
    let mut said = first.map(str::to_string);
    // A few turns beyond the agent's own limit: it stops by itself before.
    for _ in 0..config.turn_limit + 2 {
        let text = match said.take() {
            Some(t) => t,
            None => match read_line(input)? {
                Some(t) => t,
                None => {
                    println!("robot: no answer; stopping.");
                    return Ok(None);
                }
            },
        };
        let action = agent.respond(&text);
        if let Some(why) = agent.last_fallback() {
            println!(
                "robot: (the language model's answer was unusable: {why}; fell back to the parser, one turn lost)"
            );
        }
        println!("robot: {action}");
        match action {
            Action::Commit { waypoint } => return Ok(Some(waypoint.to_string())),
            Action::Stop => return Ok(None),
            _ => {}
        }
    }
    println!("robot: too many turns without a confirmed goal; stopping.");
    Ok(None)
}

fn read_line(input: &mut dyn BufRead) -> Result<Option<String>, Failure> {
    print!("operator> ");
    std::io::stdout().flush().map_err(Failure::runtime)?;
    let mut line = String::new();
    let n = input.read_line(&mut line).map_err(Failure::runtime)?;
    Ok((n > 0).then(|| line.trim().to_string()))
}
