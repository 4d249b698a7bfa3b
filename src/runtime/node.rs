//! The [`Node`] trait every runtime node implements, and node parameters.
//!
//! A node is a plain state machine: it is handed messages and timer ticks with the current
//! time and pushes what it publishes into an [`Outbox`]. The in-process [`Bus`](super::Bus)
//! calls it in lockstep on a simulated clock; the ROS 2 bridge calls it from subscriptions and
//! a wall-clock timer. Nothing in a node reads a clock or knows which one drives it.

use std::collections::BTreeMap;
use std::fmt;

use crate::msg::{Msg, Topic};

/// Messages a node publishes while it handles one input.
#[derive(Debug, Default)]
pub struct Outbox(Vec<Msg>);

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// Publishes `msg`.
    pub fn push(&mut self, msg: Msg) {
        self.0.push(msg);
    }

    /// Takes the published messages, in order.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Msg> {
        self.0.drain(..)
    }
}

/// A runtime node.
pub trait Node: Send + fmt::Debug {
    /// The node name (also its ROS node name).
    fn name(&self) -> &'static str;
    /// Topics it subscribes to.
    fn subscriptions(&self) -> &'static [Topic];
    /// Topics it publishes.
    fn publications(&self) -> &'static [Topic];
    /// Its timer period (s), if it has a timer.
    fn period_s(&self) -> Option<f64>;
    /// A message on one of its subscriptions, at time `now_s`.
    fn on_message(&mut self, now_s: f64, msg: &Msg, out: &mut Outbox);
    /// Its timer fired at `now_s`.
    fn on_tick(&mut self, now_s: f64, out: &mut Outbox);
    /// The graph is shutting down: flush and close what the node writes (the recorder's file).
    fn finish(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// A parameter value (the ROS 2 parameter types the nodes use).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// `bool`.
    Bool(bool),
    /// `integer`.
    Int(i64),
    /// `double`.
    Double(f64),
    /// `string`.
    String(String),
    /// `double_array`.
    DoubleArray(Vec<f64>),
}

impl fmt::Display for ParamValue {
    /// As a YAML scalar or flow sequence (what a parameter file holds).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Double(x) => write!(f, "{x:?}"),
            ParamValue::String(s) => write!(f, "{s:?}"),
            ParamValue::DoubleArray(v) => {
                let items: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
                write!(f, "[{}]", items.join(", "))
            }
        }
    }
}

/// One parameter a node declares: name, default and meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Parameter name.
    pub name: &'static str,
    /// Default value (also fixes the type).
    pub default: ParamValue,
    /// What it means, with units.
    pub doc: &'static str,
}

/// Why parameters were refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("node `{node}`, parameter `{name}`: {reason}")]
pub struct ParamError {
    /// Node name.
    pub node: String,
    /// Parameter name.
    pub name: String,
    /// What is wrong.
    pub reason: String,
}

/// A node's parameter values: the declared defaults overridden by what was given.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    node: &'static str,
    values: BTreeMap<&'static str, ParamValue>,
}

impl Params {
    /// The defaults of `specs` with `given` applied; an unknown name or a value of another
    /// type is an error naming the node and parameter. An integer is accepted for a double.
    pub fn new(
        node: &'static str,
        specs: &[ParamSpec],
        given: &[(String, ParamValue)],
    ) -> Result<Params, ParamError> {
        let mut values: BTreeMap<&'static str, ParamValue> =
            specs.iter().map(|s| (s.name, s.default.clone())).collect();
        for (name, value) in given {
            let error = |reason: String| ParamError { node: node.into(), name: name.clone(), reason };
            let Some(spec) = specs.iter().find(|s| s.name == name) else {
                let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
                return Err(error(format!("unknown (this node has: {})", known.join(", "))));
            };
            let value = match (&spec.default, value) {
                (ParamValue::Double(_), ParamValue::Int(i)) => ParamValue::Double(*i as f64),
                (ParamValue::DoubleArray(_), ParamValue::DoubleArray(v)) => {
                    ParamValue::DoubleArray(v.clone())
                }
                (d, v) if std::mem::discriminant(d) == std::mem::discriminant(v) => v.clone(),
                (d, v) => return Err(error(format!("expected a value like {d}, got {v}"))),
            };
            values.insert(spec.name, value);
        }
        Ok(Params { node, values })
    }

    /// The node these parameters belong to.
    pub fn node(&self) -> &'static str {
        self.node
    }

    fn error(&self, name: &str, reason: String) -> ParamError {
        ParamError { node: self.node.into(), name: name.into(), reason }
    }

    /// A bool parameter.
    pub fn bool(&self, name: &str) -> Result<bool, ParamError> {
        match self.values.get(name) {
            Some(ParamValue::Bool(b)) => Ok(*b),
            _ => Err(self.error(name, "not a declared bool".into())),
        }
    }

    /// An integer parameter.
    pub fn int(&self, name: &str) -> Result<i64, ParamError> {
        match self.values.get(name) {
            Some(ParamValue::Int(i)) => Ok(*i),
            _ => Err(self.error(name, "not a declared integer".into())),
        }
    }

    /// A finite double parameter within `range`.
    pub fn double(&self, name: &str, range: std::ops::RangeInclusive<f64>) -> Result<f64, ParamError> {
        match self.values.get(name) {
            Some(ParamValue::Double(x)) if range.contains(x) => Ok(*x),
            Some(ParamValue::Double(x)) => {
                Err(self.error(name, format!("must be in [{}, {}] (got {x})", range.start(), range.end())))
            }
            _ => Err(self.error(name, "not a declared double".into())),
        }
    }

    /// A string parameter.
    pub fn string(&self, name: &str) -> Result<&str, ParamError> {
        match self.values.get(name) {
            Some(ParamValue::String(s)) => Ok(s),
            _ => Err(self.error(name, "not a declared string".into())),
        }
    }

    /// A double-array parameter of exactly `N` finite values.
    pub fn doubles<const N: usize>(&self, name: &str) -> Result<[f64; N], ParamError> {
        match self.values.get(name) {
            Some(ParamValue::DoubleArray(v)) if v.len() == N && v.iter().all(|x| x.is_finite()) => {
                let mut out = [0.0; N];
                out.copy_from_slice(v);
                Ok(out)
            }
            Some(ParamValue::DoubleArray(v)) => {
                Err(self.error(name, format!("expected {N} finite numbers, got {v:?}")))
            }
            _ => Err(self.error(name, "not a declared double array".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: [ParamSpec; 3] = [
        ParamSpec { name: "timeout_s", default: ParamValue::Double(0.25), doc: "" },
        ParamSpec { name: "use_stamped", default: ParamValue::Bool(false), doc: "" },
        ParamSpec { name: "bundle", default: ParamValue::String(String::new()), doc: "" },
    ];

    #[test]
    fn given_values_override_defaults_and_bad_ones_name_the_parameter() {
        let p = Params::new("safety_monitor", &SPECS, &[("timeout_s".into(), ParamValue::Int(1))])
            .expect("valid");
        assert_eq!(p.double("timeout_s", 0.0..=10.0), Ok(1.0));
        assert_eq!(p.bool("use_stamped"), Ok(false));
        let e = Params::new(
            "safety_monitor",
            &SPECS,
            &[("use_stamped".into(), ParamValue::String("yes".into()))],
        )
        .expect_err("wrong type");
        assert!(e.to_string().contains("`use_stamped`"), "{e}");
        let e = Params::new("safety_monitor", &SPECS, &[("speed".into(), ParamValue::Int(1))])
            .expect_err("unknown");
        assert!(e.to_string().contains("unknown"), "{e}");
        let p = Params::new("safety_monitor", &SPECS, &[("timeout_s".into(), ParamValue::Double(f64::NAN))])
            .expect("typed");
        assert!(p.double("timeout_s", 0.0..=10.0).is_err(), "NaN fails the range check");
    }
}
