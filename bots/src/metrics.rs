//! Counters of the text line, rendered on `/metrics`: messages in (counted at the edge),
//! messages out and delivery failures (counted by the delivery step).

use std::sync::atomic::{AtomicU64, Ordering};

use relais_core::helpline::model::Channel;

/// Counters of the text line, rendered on `/metrics`.
#[derive(Default)]
pub struct LineMetrics {
    inbound: [AtomicU64; 3],
    outbound: [AtomicU64; 3],
    failures: [AtomicU64; 3],
}

fn index(channel: Channel) -> usize {
    match channel {
        Channel::Telegram => 0,
        Channel::Sms => 1,
        Channel::WebChat => 2,
    }
}

impl LineMetrics {
    pub fn inbound(&self, channel: Channel) {
        self.inbound[index(channel)].fetch_add(1, Ordering::Relaxed);
    }
    pub fn outbound(&self, channel: Channel) {
        self.outbound[index(channel)].fetch_add(1, Ordering::Relaxed);
    }
    pub fn failure(&self, channel: Channel) {
        self.failures[index(channel)].fetch_add(1, Ordering::Relaxed);
    }
    /// (channel, messages in, messages out, delivery failures).
    pub fn snapshot(&self) -> Vec<(Channel, u64, u64, u64)> {
        [Channel::Telegram, Channel::Sms, Channel::WebChat]
            .into_iter()
            .map(|c| {
                let i = index(c);
                (
                    c,
                    self.inbound[i].load(Ordering::Relaxed),
                    self.outbound[i].load(Ordering::Relaxed),
                    self.failures[i].load(Ordering::Relaxed),
                )
            })
            .collect()
    }
}

/// The stages of an inbound message's ingestion, each timed into a histogram
/// (`relais_ingest_stage_seconds`) and traced as a span of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The webhook's proof checked (Telegram's secret header, Twilio's signature).
    Verify,
    /// The provider's body parsed into a message.
    Parse,
    /// Waiting for a blocking thread and a database connection.
    Queue,
    /// Reading the words (lexicon and statistical reader), before the transaction.
    Read,
    /// The write: from asking for the write connection to the commit that holds the message.
    Transaction,
    /// Inside the transaction: choosing the replies (the script, the reading made before).
    Dialogue,
    /// Inside the transaction: the replies sealed, stored and queued for delivery.
    Enqueue,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Verify,
        Stage::Parse,
        Stage::Queue,
        Stage::Read,
        Stage::Transaction,
        Stage::Dialogue,
        Stage::Enqueue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Verify => "verify",
            Stage::Parse => "parse",
            Stage::Queue => "queue",
            Stage::Read => "read",
            Stage::Transaction => "transaction",
            Stage::Dialogue => "dialogue",
            Stage::Enqueue => "enqueue",
        }
    }
}

/// Upper bounds of the histograms' buckets, in seconds (10 µs to 2.5 s).
pub const BUCKETS: [f64; 15] = [
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// A Prometheus histogram with fixed buckets, lock-free.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// Total in nanoseconds.
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, elapsed: std::time::Duration) {
        let seconds = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Cumulative counts per bucket (as Prometheus wants them), the count and the sum in seconds.
    pub fn snapshot(&self) -> (Vec<u64>, u64, f64) {
        let mut running = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                running += b.load(Ordering::Relaxed);
                running
            })
            .collect();
        (
            cumulative,
            self.count.load(Ordering::Relaxed),
            self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
        )
    }
}

/// One histogram per ingestion stage.
#[derive(Default)]
pub struct StageMetrics {
    stages: [Histogram; Stage::ALL.len()],
}

impl StageMetrics {
    pub fn observe(&self, stage: Stage, elapsed: std::time::Duration) {
        self.stages[stage as usize].observe(elapsed);
    }

    /// Runs `f` as `stage`: timed into its histogram and inside a span of its name.
    pub fn time<T>(&self, stage: Stage, f: impl FnOnce() -> T) -> T {
        let span = tracing::debug_span!("ingest", stage = stage.as_str());
        let _entered = span.enter();
        let started = std::time::Instant::now();
        let value = f();
        self.observe(stage, started.elapsed());
        value
    }

    /// The histograms in Prometheus' text format.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let name = "relais_ingest_stage_seconds";
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP {name} Time spent in each stage of an inbound message's ingestion."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        for stage in Stage::ALL {
            let (cumulative, count, sum) = self.stages[stage as usize].snapshot();
            let label = stage.as_str();
            for (bound, n) in BUCKETS.iter().zip(&cumulative) {
                let _ = writeln!(out, "{name}_bucket{{stage=\"{label}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "{name}_bucket{{stage=\"{label}\",le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "{name}_sum{{stage=\"{label}\"}} {sum}");
            let _ = writeln!(out, "{name}_count{{stage=\"{label}\"}} {count}");
        }
        out
    }
}
