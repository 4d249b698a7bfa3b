//! Rollout storage, collection for one environment, and GAE.

use crate::vec_env::{EpisodeStat, Slot};
use crate::{Action, ActionSpace, ActorCritic, Done, Env};

/// The transitions one environment contributed to a rollout, in time order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Segment {
    pub(crate) obs_dim: usize,
    /// Continuous action width (0 for discrete).
    pub(crate) act_dim: usize,
    /// Normalised observations, `n × obs_dim` (what the networks saw).
    pub(crate) obs: Vec<f32>,
    /// Raw observations, `n × obs_dim` (to update the normaliser afterwards).
    pub(crate) raw_obs: Vec<f32>,
    /// Unclipped Gaussian samples, `n × act_dim`.
    pub(crate) actions: Vec<f32>,
    /// Discrete action indices.
    pub(crate) discrete: Vec<u32>,
    pub(crate) logp: Vec<f32>,
    pub(crate) values: Vec<f32>,
    pub(crate) rewards: Vec<f32>,
    pub(crate) dones: Vec<Done>,
    /// Value of the final observation where the step was truncated, else 0.
    pub(crate) boot: Vec<f32>,
    /// Value of the observation after the last step.
    pub(crate) last_value: f32,
    pub(crate) advantages: Vec<f32>,
    pub(crate) returns: Vec<f32>,
    pub(crate) episodes: Vec<EpisodeStat>,
}

impl Segment {
    pub(crate) fn new(n: usize, obs_dim: usize, space: ActionSpace) -> Self {
        let act_dim = space.buffer_len();
        Self {
            obs_dim,
            act_dim,
            obs: vec![0.0; n * obs_dim],
            raw_obs: vec![0.0; n * obs_dim],
            actions: vec![0.0; n * act_dim],
            discrete: vec![0; n],
            logp: vec![0.0; n],
            values: vec![0.0; n],
            rewards: vec![0.0; n],
            dones: vec![Done::NotDone; n],
            boot: vec![0.0; n],
            last_value: 0.0,
            advantages: vec![0.0; n],
            returns: vec![0.0; n],
            episodes: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.rewards.len()
    }

    pub(crate) fn obs_at(&self, t: usize) -> &[f32] {
        &self.obs[t * self.obs_dim..(t + 1) * self.obs_dim]
    }

    pub(crate) fn action_at(&self, t: usize) -> &[f32] {
        &self.actions[t * self.act_dim..(t + 1) * self.act_dim]
    }
}

/// Runs `seg.len()` steps of one environment with the current (frozen) agent.
pub(crate) fn collect<E: Env>(env: &mut E, slot: &mut Slot, seg: &mut Segment, agent: &ActorCritic) {
    let d = seg.obs_dim;
    let head_dim = agent.actor.net().output_dim();
    let mut head = vec![0.0f32; head_dim];
    let mut clipped = vec![0.0f32; seg.act_dim];
    let mut tmp = vec![0.0f32; d];
    seg.episodes.clear();
    if !slot.started {
        slot.reset(env);
    }
    for t in 0..seg.len() {
        seg.raw_obs[t * d..(t + 1) * d].copy_from_slice(&slot.obs);
        let obs_t = &mut seg.obs[t * d..(t + 1) * d];
        agent.normalize_obs(&slot.obs, obs_t);
        agent.actor.net().forward(obs_t, &mut head);
        seg.values[t] = agent.value(obs_t);
        let raw = &mut seg.actions[t * seg.act_dim..(t + 1) * seg.act_dim];
        let (lp, idx) = agent.actor.sample(&head, &mut slot.rng, raw);
        seg.logp[t] = lp;
        seg.discrete[t] = idx as u32;
        let action = if seg.act_dim > 0 {
            for (c, r) in clipped.iter_mut().zip(raw.iter()) {
                *c = r.clamp(-1.0, 1.0);
            }
            Action::Continuous(&clipped)
        } else {
            Action::Discrete(idx)
        };
        let step = env.step(action, &mut slot.obs);
        seg.rewards[t] = step.reward;
        seg.dones[t] = step.done;
        seg.boot[t] = 0.0;
        slot.ep_return += f64::from(step.reward);
        slot.ep_len += 1;
        if step.done.is_done() {
            if step.done == Done::Truncated {
                agent.normalize_obs(&slot.obs, &mut tmp);
                seg.boot[t] = agent.value(&tmp);
            }
            seg.episodes.push(EpisodeStat {
                ret: slot.ep_return,
                length: slot.ep_len,
                outcome: step.outcome,
            });
            slot.reset(env);
        }
    }
    agent.normalize_obs(&slot.obs, &mut tmp);
    seg.last_value = agent.value(&tmp);
}

/// Generalised advantage estimation over one segment. A terminated step has no future value;
/// a truncated one bootstraps from the value of its final observation; neither carries the
/// next episode's advantage back.
pub(crate) fn gae(seg: &mut Segment, gamma: f32, lambda: f32) {
    let n = seg.len();
    let mut carry = 0.0f32;
    for t in (0..n).rev() {
        let (next_v, cont) = match seg.dones[t] {
            Done::NotDone => (if t + 1 < n { seg.values[t + 1] } else { seg.last_value }, 1.0),
            Done::Terminated => (0.0, 0.0),
            Done::Truncated => (seg.boot[t], 0.0),
        };
        let delta = seg.rewards[t] + gamma * next_v - seg.values[t];
        carry = delta + gamma * lambda * cont * carry;
        seg.advantages[t] = carry;
        seg.returns[t] = carry + seg.values[t];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(rewards: &[f32], values: &[f32], dones: &[Done], boot: &[f32], last: f32) -> Segment {
        let mut s = Segment::new(rewards.len(), 1, ActionSpace::Discrete(2));
        s.rewards.copy_from_slice(rewards);
        s.values.copy_from_slice(values);
        s.dones.copy_from_slice(dones);
        s.boot.copy_from_slice(boot);
        s.last_value = last;
        s
    }

    #[test]
    fn gae_handles_termination_truncation_and_the_rollout_end() {
        let (g, l) = (0.9f32, 0.8f32);
        let mut s = seg(
            &[1.0, 2.0, 3.0, 4.0],
            &[0.5, 0.6, 0.7, 0.8],
            &[Done::NotDone, Done::Terminated, Done::Truncated, Done::NotDone],
            &[0.0, 0.0, 10.0, 0.0],
            5.0,
        );
        gae(&mut s, g, l);
        let d3 = 4.0 + g * 5.0 - 0.8; // bootstraps from the value after the rollout
        let d2 = 3.0 + g * 10.0 - 0.7; // truncated: bootstraps from V(final obs), stops the carry
        let d1 = 2.0 - 0.6; // terminated: no future
        let d0 = 1.0 + g * 0.6 - 0.5;
        let want = [d0 + g * l * d1, d1, d2, d3];
        for (a, w) in s.advantages.iter().zip(want) {
            assert!((a - w).abs() < 1e-5, "{:?} vs {want:?}", s.advantages);
        }
        for t in 0..4 {
            assert!((s.returns[t] - (s.advantages[t] + s.values[t])).abs() < 1e-6);
        }
    }
}
