//! A one-line status on the terminal while long work runs: `render`, `validate`, `bench`.
//!
//! It shows only on a terminal, and only once the work has taken a second: a quick command
//! prints what it always printed, and output sent to a file or a pipe (CI, scripts, the
//! tests) never holds a status line. The line is drawn on stderr, ten times a second, from
//! counters the work updates as it goes, and erased before the command prints its results.
//!
//! Written here rather than taken from `indicatif`: a single redrawn line needs `IsTerminal`
//! and a carriage return, not a crate of bars, styles and terminal handling.

use std::io::{IsTerminal as _, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long work runs before its status shows: below it, a status would only flicker.
const SHOW_AFTER: Duration = Duration::from_secs(1);
/// How often the line is redrawn.
const REDRAW: Duration = Duration::from_millis(100);
/// Carriage return, then erase the line: where the next status, or the results, begin.
const ERASE: &str = "\r\x1b[2K";

/// A status line shown while it lives; dropping it erases the line.
pub struct Progress {
    stop: Option<Sender<()>>,
    drawer: Option<JoinHandle<()>>,
}

/// What a status line reads: counts the work raises, from any thread, and the step it is at.
#[derive(Debug, Default)]
pub struct Counts {
    counts: [AtomicUsize; 4],
    step: Mutex<String>,
}

impl Counts {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn add(&self, which: usize, by: usize) {
        self.counts[which].fetch_add(by, Ordering::Relaxed);
    }

    pub fn get(&self, which: usize) -> usize {
        self.counts[which].load(Ordering::Relaxed)
    }

    pub fn set_step(&self, step: impl Into<String>) {
        *self.step.lock().unwrap_or_else(|e| e.into_inner()) = step.into();
    }

    pub fn step(&self) -> String {
        self.step.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Progress {
    /// A status line on stderr from `describe`, if stderr is a terminal; else nothing.
    pub fn on_terminal(describe: impl Fn() -> String + Send + 'static) -> Self {
        let stderr = std::io::stderr();
        let dumb = std::env::var_os("TERM").is_some_and(|term| term == "dumb");
        if !stderr.is_terminal() || dumb {
            return Self::none();
        }
        Self::to(Box::new(stderr), SHOW_AFTER, REDRAW, describe)
    }

    /// No status line.
    pub fn none() -> Self {
        Self {
            stop: None,
            drawer: None,
        }
    }

    /// A status line into `sink`, first drawn `after` the work began, then every `every`.
    pub fn to(
        mut sink: Box<dyn Write + Send>,
        after: Duration,
        every: Duration,
        describe: impl Fn() -> String + Send + 'static,
    ) -> Self {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let drawer = std::thread::spawn(move || {
            let mut wait = after;
            let mut drawn: Option<String> = None;
            // Drawing never fails the work: a status that cannot be written is not shown.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                wait = every;
                let line = describe();
                if drawn.as_ref() == Some(&line) {
                    continue;
                }
                let _ = write!(sink, "{ERASE}{line}");
                let _ = sink.flush();
                drawn = Some(line);
            }
            if drawn.is_some() {
                let _ = write!(sink, "{ERASE}");
                let _ = sink.flush();
            }
        });
        Self {
            stop: Some(stop),
            drawer: Some(drawer),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

/// `1,234`: counts of thousands of files are read at a glance.
pub fn thousands(count: usize) -> String {
    let digits = count.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test reads while the drawer writes into it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn work_done_before_the_delay_shows_nothing() {
        let sink = Shared::default();
        let progress = Progress::to(
            Box::new(sink.clone()),
            Duration::from_secs(60),
            REDRAW,
            || "never".to_owned(),
        );
        drop(progress);
        assert_eq!(sink.text(), "");
    }

    #[test]
    fn long_work_shows_its_counts_as_they_rise_and_erases_the_line_at_the_end() {
        let sink = Shared::default();
        let counts = Counts::new();
        counts.set_step("rendering");
        let read = Arc::clone(&counts);
        let progress = Progress::to(
            Box::new(sink.clone()),
            Duration::ZERO,
            Duration::from_millis(1),
            move || format!("{}: {} files", read.step(), thousands(read.get(0))),
        );
        let shown = |text: &str| {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while !sink.text().contains(text) {
                assert!(std::time::Instant::now() < deadline, "{:?}", sink.text());
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        shown("\r\x1b[2Krendering: 0 files");
        counts.add(0, 1234);
        counts.set_step("writing");
        shown("\r\x1b[2Kwriting: 1,234 files");
        drop(progress);
        assert!(sink.text().ends_with("files\r\x1b[2K"), "{:?}", sink.text());
    }

    #[test]
    fn thousands_are_grouped_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(45265), "45,265");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
