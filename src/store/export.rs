//! Lead export formats, shared by the admin API (`GET /api/v1/leads`) and `splitmark export`.
//!
//! One writer, lead by lead, so an export of any size streams: CSV with stable columns (every
//! cell neutralised against spreadsheet formulas), JSON (`{"leads": [...]}`, the API's shape)
//! or NDJSON (one lead per line). The consent proof of a lead is in every format: `consent`
//! (the text agreed to), `page`, `form_version`, `received_at`, and for double opt-in
//! `confirmation` and `confirmed_at`.

use super::Lead;
use crate::capture::app::neutralize_cell;
use std::io::Write;

/// The CSV header, in order. Stable: scripts and spreadsheets rely on it.
/// The sales columns come last, so scripts reading the earlier ones by position still work.
pub const CSV_COLUMNS: [&str; 29] = [
    "id",
    "received_at",
    "form",
    "email",
    "qualified",
    "score",
    "experiment",
    "variant",
    "attribution_flag",
    "visitor",
    "page",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "spam_reason",
    "consent",
    "answers",
    "confirmation",
    "confirmed_at",
    "form_version",
    "stage",
    "stage_at",
    "contacted_at",
    "pipeline_value",
    "revenue_value",
    "currency",
];

/// An export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values with [`CSV_COLUMNS`].
    Csv,
    /// One JSON document `{"leads": [...]}`.
    Json,
    /// One JSON object per line.
    Ndjson,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<ExportFormat, String> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            "ndjson" => Ok(ExportFormat::Ndjson),
            other => Err(format!("unknown format {other:?}: use csv, json or ndjson")),
        }
    }
}

/// A lead's CSV cells, in [`CSV_COLUMNS`] order.
fn csv_record(l: &Lead) -> [String; 29] {
    let n = &l.lead;
    let st = &l.stage;
    let t =
        |v: Option<chrono::DateTime<chrono::Utc>>| v.map(|t| t.to_rfc3339()).unwrap_or_default();
    let value = |minor: Option<i64>| match (minor, &st.currency) {
        (Some(m), Some(c)) => crate::lifecycle::money::format_minor(m, c),
        _ => String::new(),
    };
    let o = |v: &Option<String>| neutralize_cell(v.as_deref().unwrap_or(""));
    let flag = n.attribution_flag.map(|f| f.as_str().to_owned());
    [
        neutralize_cell(&l.id),
        n.received_at.to_rfc3339(),
        neutralize_cell(&n.form),
        o(&n.email),
        n.qualified.to_string(),
        n.score.to_string(),
        o(&n.experiment),
        o(&n.variant),
        o(&flag),
        o(&n.visitor),
        o(&n.page),
        o(&n.referrer),
        o(&n.utm.source),
        o(&n.utm.medium),
        o(&n.utm.campaign),
        o(&n.utm.term),
        o(&n.utm.content),
        o(&n.spam_reason),
        o(&n.consent),
        neutralize_cell(&serde_json::Value::Object(n.answers.clone()).to_string()),
        n.confirmation
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        l.confirmed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        o(&n.form_version),
        st.stage.as_str().to_owned(),
        t(st.stage_at),
        t(st.contacted_at),
        value(st.pipeline_minor),
        value(st.revenue_minor),
        o(&st.currency),
    ]
}

enum Sink<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Json { out: W, first: bool },
    Ndjson(W),
}

/// Writes leads one at a time in an [`ExportFormat`].
pub struct LeadWriter<W: Write> {
    sink: Sink<W>,
    count: u64,
}

fn csv_io(e: csv::Error) -> std::io::Error {
    std::io::Error::other(e)
}

impl<W: Write> LeadWriter<W> {
    /// Starts an export into `out` (the CSV header, or the JSON document's opening).
    pub fn new(mut out: W, format: ExportFormat) -> std::io::Result<LeadWriter<W>> {
        let sink = match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(CSV_COLUMNS).map_err(csv_io)?;
                Sink::Csv(Box::new(w))
            }
            ExportFormat::Json => {
                out.write_all(b"{\"leads\":[")?;
                Sink::Json { out, first: true }
            }
            ExportFormat::Ndjson => Sink::Ndjson(out),
        };
        Ok(LeadWriter { sink, count: 0 })
    }

    /// Appends one lead.
    pub fn write(&mut self, lead: &Lead) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Csv(w) => w.write_record(csv_record(lead)).map_err(csv_io)?,
            Sink::Json { out, first } => {
                if !*first {
                    out.write_all(b",")?;
                }
                *first = false;
                serde_json::to_writer(&mut *out, lead)?;
            }
            Sink::Ndjson(out) => {
                serde_json::to_writer(&mut *out, lead)?;
                out.write_all(b"\n")?;
            }
        }
        self.count += 1;
        Ok(())
    }

    /// Leads written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Ends the export (closes the JSON document), flushes, and gives the output back.
    pub fn finish(self) -> std::io::Result<W> {
        let mut out = match self.sink {
            Sink::Csv(w) => w.into_inner().map_err(|e| e.into_error())?,
            Sink::Json { mut out, .. } => {
                out.write_all(b"]}")?;
                out
            }
            Sink::Ndjson(out) => out,
        };
        out.flush()?;
        Ok(out)
    }
}

/// Leads as one CSV document in memory (the API's and the dashboard's download).
pub fn leads_csv(leads: &[Lead]) -> std::io::Result<Vec<u8>> {
    let mut w = LeadWriter::new(Vec::new(), ExportFormat::Csv)?;
    for l in leads {
        w.write(l)?;
    }
    w.finish()
}
