//! The console sink: one readable line per record, for people.
//!
//! ```text
//! chart            sigma_svc.wb123_el456  "Revenue by Region" (bar)
//! ```
//! Display names are printed with Rust's string escaping, so a name holding a newline or
//! an escape sequence cannot forge extra lines on a terminal.

use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use super::{Sink, SinkError, SinkSummary};
use crate::records::{Entity, Record};

/// Width of the kind column: the longest kind, `dashboardService`.
const KIND_WIDTH: usize = 16;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The line the console sink prints for `record` (without the newline).
pub fn console_line(record: &Record) -> String {
    let kind = record.kind();
    let subject = record.subject();
    let rest = match &record.entity {
        Entity::DashboardService(s) => match &s.display_name {
            Some(d) => format!("{d:?} (Sigma)"),
            None => "(Sigma)".to_owned(),
        },
        Entity::Chart(c) => {
            let t = format!("{:?}", c.chart_type).to_lowercase();
            format!("{:?} ({t})", c.display_name)
        }
        Entity::DataModel(m) => format!(
            "{:?} ({})",
            m.display_name,
            plural(m.columns.len(), "column", "columns")
        ),
        Entity::Dashboard(d) => format!(
            "{:?} ({}, {})",
            d.display_name,
            plural(d.charts.len(), "chart", "charts"),
            plural(d.data_models.len(), "data model", "data models")
        ),
        Entity::Lineage(l) => {
            return format!(
                "{kind:<KIND_WIDTH$} {} {} -> {} {}{}",
                l.from.entity_type.as_str(),
                l.from.fqn,
                l.to.entity_type.as_str(),
                l.to.fqn,
                if l.columns.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", plural(l.columns.len(), "column", "columns"))
                }
            );
        }
        Entity::Delete(d) => {
            return format!("{kind:<KIND_WIDTH$} {} {subject}", d.entity_type.as_str());
        }
    };
    format!("{kind:<KIND_WIDTH$} {subject}  {rest}")
}

/// Prints [`console_line`]s to a writer (stdout by default).
pub struct ConsoleSink {
    out: Box<dyn Write + Send>,
    summary: SinkSummary,
}

impl fmt::Debug for ConsoleSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsoleSink")
            .field("records", &self.summary.records)
            .finish_non_exhaustive()
    }
}

impl ConsoleSink {
    /// To standard output.
    pub fn stdout() -> Self {
        Self::new(Box::new(io::stdout()), "stdout")
    }

    /// To any writer (tests, a log file).
    pub fn new(out: Box<dyn Write + Send>, destination: &str) -> Self {
        Self {
            out,
            summary: SinkSummary {
                destination: destination.to_owned(),
                ..SinkSummary::default()
            },
        }
    }

    fn io(&self) -> impl FnOnce(io::Error) -> SinkError + use<> {
        let path = Path::new(&self.summary.destination).to_owned();
        move |source| SinkError::Io {
            action: "cannot write to",
            path,
            source,
        }
    }
}

impl Sink for ConsoleSink {
    async fn healthcheck(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    async fn write(&mut self, record: &Record) -> Result<(), SinkError> {
        let line = console_line(record);
        let err = self.io();
        writeln!(self.out, "{line}").map_err(err)?;
        self.summary.count(record.kind());
        Ok(())
    }

    async fn commit(mut self) -> Result<SinkSummary, SinkError> {
        let err = self.io();
        self.out.flush().map_err(err)?;
        Ok(self.summary)
    }

    async fn abort(mut self) {
        let _ = self.out.flush();
    }
}
