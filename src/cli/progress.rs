//! Progress of long work (DESIGN §5): a bar on a terminal, a log line every 10 % otherwise.
//! Safe to update from worker threads.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    unit: &'static str,
    next_log: AtomicU64,
}

impl Progress {
    /// Progress toward `total` `unit`s (e.g. "steps", "trials").
    pub fn new(total: u64, unit: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let template = format!(
                "{{elapsed_precise}} {{bar:40}} {{pos}}/{{len}} {unit} ({{per_sec}}, eta {{eta}}) {{msg}}"
            );
            if let Ok(style) = ProgressStyle::with_template(&template) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, total, unit, next_log: AtomicU64::new(0) }
    }

    /// `done` units finished; `message` says how it goes (shown beside the bar, or in the log).
    pub fn update(&self, done: u64, message: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_position(done.min(self.total));
                bar.set_message(message.to_owned());
            }
            None => {
                let next = self.next_log.load(Ordering::Relaxed);
                let step = self.total.div_ceil(10).max(1);
                // One thread wins each 10 % mark.
                if done >= next
                    && self
                        .next_log
                        .compare_exchange(next, done + step, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    let sep = if message.is_empty() { "" } else { " " };
                    tracing::info!("{done}/{} {}{sep}{message}", self.total, self.unit);
                }
            }
        }
    }

    /// A line that is not progress (above the bar on a terminal).
    pub fn note(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.println(message),
            None => tracing::info!("{message}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
