//! The high-level model (HLM): a parametric MDP whose states are interface sets and whose
//! actions are subtasks; its maximum reach probability and optimal meta-policy.

mod requirements;
#[cfg(test)]
mod tests;

pub use requirements::{MAX_SIMPLE_PATHS, Requirements, SPENT_BUDGET_COST};

use crate::Error;

/// A state of an [`Hlm`]: an interface set by index, or the absorbing failure state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HlmState {
    /// Interface set `0..n_states`.
    Set(usize),
    /// Where every failed subtask leads; absorbing, never the goal.
    Fail,
}

/// High-level model: states 0..n_states plus [`HlmState::Fail`]; one start, one goal
/// (absorbing). Action a (a subtask) is available only in its entry state `from` and, with
/// probability p_a, moves to its one success successor `to`; otherwise to `Fail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hlm {
    n_states: usize,
    start: usize,
    goal: usize,
    /// (from, to) per action.
    actions: Vec<(usize, usize)>,
    /// Actions available in each state, ascending.
    available: Vec<Vec<usize>>,
}

impl Hlm {
    /// Builds a model over states `0..n_states` from each action's `(from, to)`.
    ///
    /// Errors: a state index ≥ `n_states`, `start == goal` (the task would be trivial), or an
    /// action leaving the goal (it is absorbing). Self-loops and parallel actions are allowed;
    /// a state without actions is a dead end.
    pub fn new(
        n_states: usize,
        start: usize,
        goal: usize,
        actions: Vec<(usize, usize)>,
    ) -> Result<Hlm, Error> {
        let check = |field: &'static str, state: usize| {
            if state < n_states { Ok(()) } else { Err(Error::StateOutOfRange { field, state, n_states }) }
        };
        check("start", start)?;
        check("goal", goal)?;
        if start == goal {
            return Err(Error::StartIsGoal { state: start });
        }
        let mut available = vec![Vec::new(); n_states];
        for (a, &(from, to)) in actions.iter().enumerate() {
            check("actions.from", from)?;
            check("actions.to", to)?;
            if from == goal {
                return Err(Error::ActionFromGoal { action: a, goal });
            }
            available[from].push(a);
        }
        Ok(Hlm { n_states, start, goal, actions, available })
    }

    /// Number of interface-set states (the fail state not counted).
    pub fn n_states(&self) -> usize {
        self.n_states
    }

    /// Number of actions (subtasks).
    pub fn n_actions(&self) -> usize {
        self.actions.len()
    }

    /// The start state.
    pub fn start(&self) -> usize {
        self.start
    }

    /// The goal state.
    pub fn goal(&self) -> usize {
        self.goal
    }

    /// Each action's (entry state, success successor).
    pub fn actions(&self) -> &[(usize, usize)] {
        &self.actions
    }

    /// Actions available in `state`, ascending (empty for an unknown state).
    pub fn available(&self, state: usize) -> &[usize] {
        self.available.get(state).map_or(&[], Vec::as_slice)
    }

    /// Outcomes of `action` with success probability `p`: `[(success successor, p),
    /// (Fail, 1 − p)]`; `None` for an unknown action.
    pub fn outcomes(&self, action: usize, p: f64) -> Option<[(HlmState, f64); 2]> {
        let &(_, to) = self.actions.get(action)?;
        Some([(HlmState::Set(to), p), (HlmState::Fail, 1.0 - p)])
    }

    /// Checks a per-action probability vector: one entry per action, each in [0, 1].
    pub(crate) fn check_probabilities(&self, field: &'static str, p: &[f64]) -> Result<(), Error> {
        if p.len() != self.actions.len() {
            return Err(Error::LengthMismatch { field, expected: self.actions.len(), got: p.len() });
        }
        match p.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            Some(&value) => Err(Error::OutOfRange { field, range: "[0, 1]", value }),
            None => Ok(()),
        }
    }

    /// Maximum probability of reaching the goal from each state, under success probabilities
    /// `p` (validated by the caller).
    ///
    /// Value iteration (Jacobi sweeps from V = 0, V(goal) = 1) run to an exact fixed point:
    /// after k sweeps V(s) is the best product over walks of at most k actions, and since
    /// every p ≤ 1 (and floating-point products are monotone) a cycle never helps, so the
    /// values settle within n_states − 1 sweeps. The cap of n_states + 1 sweeps therefore
    /// never binds; it only bounds the loop.
    fn reach_values(&self, p: &[f64]) -> Vec<f64> {
        let mut v = vec![0.0; self.n_states];
        v[self.goal] = 1.0;
        for _ in 0..=self.n_states {
            let next: Vec<f64> = (0..self.n_states)
                .map(|s| {
                    if s == self.goal {
                        return 1.0;
                    }
                    self.available[s].iter().map(|&a| p[a] * v[self.actions[a].1]).fold(0.0, f64::max)
                })
                .collect();
            if next == v {
                break;
            }
            v = next;
        }
        v
    }

    /// Maximum probability of reaching the goal from the start, with success probabilities
    /// `p` (one per action, in [0, 1]), and an optimal deterministic memoryless meta-policy.
    ///
    /// The policy picks, in each state whose value is positive, an action attaining the
    /// value; among those, the lowest-index one whose successor already has its action
    /// committed (committing states outwards from the goal, Dijkstra-like), so the policy
    /// never circles on a cycle of ties and reaches the goal with exactly the stated
    /// probability. States of value 0 (no action helps) and the goal get `None`.
    pub fn max_reach(&self, p: &[f64]) -> Result<(f64, MetaPolicy), Error> {
        self.check_probabilities("p", p)?;
        let v = self.reach_values(p);
        let mut choice: Vec<Option<usize>> = vec![None; self.n_states];
        let mut committed = vec![false; self.n_states];
        committed[self.goal] = true;
        // Each round commits at least one state of positive value (the unsettled state of
        // highest value on the last leg of its best path), so n_states rounds suffice.
        for _ in 0..self.n_states {
            let mut progress = false;
            for s in 0..self.n_states {
                if committed[s] || v[s] <= 0.0 {
                    continue;
                }
                let best = self.available[s].iter().copied().find(|&a| {
                    let to = self.actions[a].1;
                    committed[to] && p[a] * v[to] == v[s]
                });
                if let Some(a) = best {
                    choice[s] = Some(a);
                    committed[s] = true;
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        let mut route = Vec::new();
        let mut s = self.start;
        // Committed actions lead to earlier-committed states, so this walk ends; the bound
        // is a guard only.
        while let Some(a) = choice[s] {
            route.push(a);
            s = self.actions[a].1;
            if route.len() > self.n_states {
                break;
            }
        }
        Ok((v[self.start], MetaPolicy { choice, route }))
    }

    /// All simple start→goal paths as action sequences, in depth-first order (actions tried
    /// in ascending index). Errors past [`MAX_SIMPLE_PATHS`].
    pub fn simple_paths(&self) -> Result<Vec<Vec<usize>>, Error> {
        let mut paths = Vec::new();
        let mut on_path = vec![false; self.n_states];
        let mut path = Vec::new();
        on_path[self.start] = true;
        self.extend_paths(self.start, &mut on_path, &mut path, &mut paths)?;
        Ok(paths)
    }

    fn extend_paths(
        &self,
        s: usize,
        on_path: &mut [bool],
        path: &mut Vec<usize>,
        paths: &mut Vec<Vec<usize>>,
    ) -> Result<(), Error> {
        for &a in &self.available[s] {
            let to = self.actions[a].1;
            if on_path[to] {
                continue;
            }
            path.push(a);
            if to == self.goal {
                if paths.len() == MAX_SIMPLE_PATHS {
                    return Err(Error::TooManyPaths { limit: MAX_SIMPLE_PATHS });
                }
                paths.push(path.clone());
            } else {
                on_path[to] = true;
                self.extend_paths(to, on_path, path, paths)?;
                on_path[to] = false;
            }
            path.pop();
        }
        Ok(())
    }
}

/// A deterministic memoryless meta-policy: which subtask to run in each interface set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaPolicy {
    choice: Vec<Option<usize>>,
    route: Vec<usize>,
}

impl MetaPolicy {
    /// The action for `state`; `None` at the goal, where nothing reaches the goal, or for an
    /// unknown state.
    pub fn action(&self, state: usize) -> Option<usize> {
        self.choice.get(state).copied().flatten()
    }

    /// The action of every state, indexed by state.
    pub fn actions(&self) -> &[Option<usize>] {
        &self.choice
    }

    /// The subtasks the policy runs from the start when all succeed, in order; it ends at the
    /// goal, or is empty when the goal cannot be reached.
    pub fn route(&self) -> &[usize] {
        &self.route
    }
}
