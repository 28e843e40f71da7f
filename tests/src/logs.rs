//! One log capture per test process: a global subscriber writing to a buffer, so a test can
//! check that nothing identifying reached the logs (the server logs from its own threads).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The captured text, for a check that something is absent from the logs: fails unless
    /// the capture holds the server's request lines (at least `requests` of them), so that
    /// "absent" cannot pass on an empty or broken capture.
    pub fn read(&self, requests: usize) -> String {
        let text = self.text();
        let seen = text.matches("request handled").count();
        assert!(
            seen >= requests && requests > 0,
            "the log capture holds {seen} request lines ({} bytes), expected at least {requests}",
            text.len()
        );
        text
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The process's capture, installed on first use at trace level for our crates.
pub fn capture() -> Captured {
    static CAPTURE: OnceLock<Captured> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let captured = Captured::default();
            let subscriber = tracing_subscriber::fmt()
                .with_env_filter("info,relais_api=trace,relais_core=trace,relais_bots=trace,actix_web=debug")
                .with_writer(captured.clone())
                .with_ansi(false)
                .finish();
            let _ = tracing::subscriber::set_global_default(subscriber);
            captured
        })
        .clone()
}
