//! The `console` sink: a readable line per record, for people.

use std::io::Write;

use serde_json::Value;

use super::{Sink, SinkError, SinkSummary};

#[derive(Default)]
pub struct ConsoleSink {
    out: Option<std::io::BufWriter<std::io::Stdout>>,
}

impl ConsoleSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// `kind  fqn  "display name" (chart type)`.
    pub fn line(record: &Value) -> String {
        let entity = &record["entity"];
        let display = entity
            .get("displayName")
            .and_then(|v| v.as_str())
            .map(|d| format!("  \"{d}\""))
            .unwrap_or_default();
        let extra = entity
            .get("chartType")
            .and_then(|v| v.as_str())
            .map(|t| format!(" ({t})"))
            .unwrap_or_default();
        let kind = record["kind"].as_str().unwrap_or_default();
        let fqn = record["fqn"].as_str().unwrap_or_default();
        format!("{kind:<17} {fqn}{display}{extra}")
    }
}

impl Sink for ConsoleSink {
    async fn healthcheck(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    async fn write(&mut self, record: &Value) -> Result<(), SinkError> {
        let out = self
            .out
            .get_or_insert_with(|| std::io::BufWriter::new(std::io::stdout()));
        writeln!(out, "{}", Self::line(record)).map_err(SinkError::Stdout)
    }

    async fn commit(self) -> Result<SinkSummary, SinkError> {
        if let Some(mut out) = self.out {
            out.flush().map_err(SinkError::Stdout)?;
        }
        Ok(SinkSummary::default())
    }

    async fn abort(self) {
        if let Some(mut out) = self.out {
            let _ = out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_readable_line() {
        let r = json!({"kind": "chart", "fqn": "svc.wb_el",
            "entity": {"displayName": "Revenue", "chartType": "Bar"}});
        assert_eq!(
            ConsoleSink::line(&r),
            "chart             svc.wb_el  \"Revenue\" (Bar)"
        );
    }
}
