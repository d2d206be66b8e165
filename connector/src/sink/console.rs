//! The `console` sink: a readable line per record, for people.

use std::io::Write;

use super::{Sink, SinkError, SinkSummary};
use crate::catalog::GroupKind;
use crate::records::{Entity, Record};

#[derive(Default)]
pub struct ConsoleSink {
    out: Option<std::io::BufWriter<std::io::Stdout>>,
}

impl ConsoleSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// `kind  fqn  "display name" (chart type)  [group]`.
    pub fn line(record: &Record) -> String {
        let (display, chart_type) = match &record.entity {
            Entity::DashboardService(s) => (s.display_name.as_deref(), None),
            Entity::Chart(c) => (Some(c.display_name.as_str()), Some(c.chart_type)),
            Entity::DataModel(m) => (Some(m.display_name.as_str()), None),
            Entity::Dashboard(d) => (Some(d.display_name.as_str()), None),
            Entity::Lineage(_) | Entity::Delete(_) => (None, None),
        };
        let display = display.map(|d| format!("  \"{d}\"")).unwrap_or_default();
        let extra = chart_type.map(|t| format!(" ({t:?})")).unwrap_or_default();
        let group = record
            .group
            .as_ref()
            .map(|g| format!("  [{} {}]", group_kind(g.kind), g.id))
            .unwrap_or_default();
        format!(
            "{:<17} {}{display}{extra}{group}",
            record.kind(),
            record.fqn()
        )
    }
}

fn group_kind(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Org => "org",
        GroupKind::Document => "document",
        GroupKind::DataModel => "dataModel",
        GroupKind::Dataset => "dataset",
    }
}

impl Sink for ConsoleSink {
    async fn healthcheck(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    async fn write(&mut self, record: &Record) -> Result<(), SinkError> {
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

    /// A console has no last output to keep: print as a commit does.
    async fn set_aside(self) -> Result<SinkSummary, SinkError> {
        self.commit().await
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
    use crate::records::{ChartType, CreateChartRequest};

    #[test]
    fn one_readable_line() {
        let r = Record::new(Entity::Chart(CreateChartRequest {
            name: "wb_el".into(),
            display_name: "Revenue".into(),
            description: None,
            chart_type: ChartType::Bar,
            source_url: "https://x/wb?:nodeId=el".into(),
            service: "svc".into(),
            tags: vec![],
            owners: vec![],
        }));
        assert_eq!(
            ConsoleSink::line(&r),
            "chart             svc.wb_el  \"Revenue\" (Bar)"
        );
    }
}
