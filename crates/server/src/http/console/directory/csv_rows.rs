//! The console's upload of a `bizmail import` file: at most [`MAX_ROWS`] rows, read by the
//! directory's own reader (`directory::import_csv`); what is wrong with a file, said in the
//! page's language.

use super::texts::DirTexts;
use crate::directory::import::ImportRow;
use crate::directory::import_csv::{self, CsvProblem};

/// The most rows of one upload.
pub(super) const MAX_ROWS: usize = 20_000;

/// The rows of an uploaded file, or why it cannot be imported, as the page says it.
pub(super) fn parse_csv(bytes: &[u8], dt: &DirTexts) -> Result<Vec<ImportRow>, String> {
    import_csv::parse_csv(bytes, MAX_ROWS).map_err(|p| match p {
        CsvProblem::NotUtf8 => dt.csv_not_utf8.to_owned(),
        CsvProblem::Malformed(Some(line)) => format!("{}{} {line}", dt.csv_malformed, dt.line),
        CsvProblem::Malformed(None) => dt.csv_malformed.trim_end().to_owned(),
        CsvProblem::UnknownColumn(c) => format!("{}{c}", dt.csv_unknown_column),
        CsvProblem::NoAlias => dt.csv_no_alias.to_owned(),
        CsvProblem::Empty => dt.csv_empty.to_owned(),
        CsvProblem::TooMany => dt.csv_too_many.to_owned(),
    })
}
