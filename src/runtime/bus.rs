//! [`Bus`]: the in-process graph, run in lockstep on a simulated clock (DESIGN §9).
//!
//! Every publication and timer tick is an event ordered by (time, publication order), so a
//! run is a pure function of its nodes and inputs: no threads, no wall clock. A message is
//! delivered to every subscriber at its publication time, unless a [`LinkFault`] drops or
//! delays it; what a node publishes while handling it is delivered in turn.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ops::ControlFlow;

use crate::msg::{Msg, Topic};
use crate::runtime::node::{Node, Outbox};

/// Fault injection on one topic during a time window (testing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkFault {
    /// The topic.
    pub topic: Topic,
    /// Start of the window (s).
    pub from_s: f64,
    /// End of the window (s).
    pub to_s: f64,
    /// `None`: messages published in the window are lost; `Some(d)`: delivered `d` s late.
    pub delay_s: Option<f64>,
}

#[derive(Debug)]
enum Event {
    Deliver(Msg),
    Tick { node: usize, k: u64 },
}

#[derive(Debug)]
struct Scheduled {
    time_s: f64,
    seq: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.time_s.total_cmp(&other.time_s).then(self.seq.cmp(&other.seq))
    }
}

/// The in-process bus with its nodes.
#[derive(Debug, Default)]
pub struct Bus {
    nodes: Vec<Box<dyn Node>>,
    queue: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    now_s: f64,
    faults: Vec<LinkFault>,
}

impl Bus {
    /// An empty bus at time 0.
    pub fn new() -> Bus {
        Bus::default()
    }

    /// Adds a node; its timer (if any) first fires at time 0.
    pub fn add(&mut self, node: Box<dyn Node>) {
        let index = self.nodes.len();
        if node.period_s().is_some() {
            self.schedule(0.0, Event::Tick { node: index, k: 0 });
        }
        self.nodes.push(node);
    }

    /// Adds a link fault.
    pub fn add_fault(&mut self, fault: LinkFault) {
        self.faults.push(fault);
    }

    /// The current time (s).
    pub fn now_s(&self) -> f64 {
        self.now_s
    }

    /// Publishes `msg` from outside the graph at `time_s` (an operator, an e-stop button).
    pub fn publish_at(&mut self, time_s: f64, msg: Msg) {
        self.schedule(time_s.max(self.now_s), Event::Deliver(msg));
    }

    fn schedule(&mut self, time_s: f64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled { time_s, seq: self.seq, event }));
    }

    fn publish(&mut self, time_s: f64, msg: Msg) {
        let topic = msg.topic();
        let fault = self.faults.iter().find(|f| f.topic == topic && (f.from_s..f.to_s).contains(&time_s));
        match fault.map(|f| f.delay_s) {
            Some(None) => {}
            Some(Some(d)) => self.schedule(time_s + d, Event::Deliver(msg)),
            None => self.schedule(time_s, Event::Deliver(msg)),
        }
    }

    /// Runs events up to `until_s`, handing every delivered message to `watch` (after its
    /// subscribers got it); stops early when `watch` breaks.
    pub fn run_until(
        &mut self,
        until_s: f64,
        mut watch: impl FnMut(f64, &Msg) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        let mut out = Outbox::new();
        while let Some(Reverse(next)) = self.queue.peek() {
            if next.time_s > until_s {
                break;
            }
            let Some(Reverse(Scheduled { time_s, event, .. })) = self.queue.pop() else { break };
            self.now_s = time_s;
            let delivered = match event {
                Event::Tick { node, k } => {
                    let n = &mut self.nodes[node];
                    n.on_tick(time_s, &mut out);
                    // k · period rather than repeated addition: no drift over long runs.
                    if let Some(p) = n.period_s() {
                        self.schedule((k + 1) as f64 * p, Event::Tick { node, k: k + 1 });
                    }
                    None
                }
                Event::Deliver(msg) => {
                    let topic = msg.topic();
                    for n in &mut self.nodes {
                        if n.subscriptions().contains(&topic) {
                            n.on_message(time_s, &msg, &mut out);
                        }
                    }
                    Some(msg)
                }
            };
            for msg in out.drain() {
                self.publish(time_s, msg);
            }
            if let Some(msg) = delivered {
                watch(time_s, &msg)?;
            }
        }
        self.now_s = self.now_s.max(until_s);
        ControlFlow::Continue(())
    }

    /// Calls every node's `finish`, returning the first error with the node's name.
    pub fn finish(&mut self) -> Result<(), String> {
        let mut first = Ok(());
        for n in &mut self.nodes {
            if let Err(e) = n.finish()
                && first.is_ok()
            {
                first = Err(format!("{}: {e}", n.name()));
            }
        }
        first
    }
}
