//! The CSV files of `bizmail import` and the console's upload: the first line names the columns
//! (any order and case), lists are separated by `;`, UTF-8 only (with or without a byte-order
//! mark). A file that breaks any of this is refused whole, with the reason, before anything is
//! loaded; the rows then go to [`super::import::Importer`].

use super::import::ImportRow;

/// The columns a file may have.
pub const COLUMNS: [&str; 11] = [
    "alias",
    "name",
    "departments",
    "aliases",
    "position",
    "tel",
    "mobile",
    "extid",
    "gender",
    "password",
    "md5",
];

/// Why a file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvProblem {
    /// Not UTF-8 (Excel's "CSV" is GBK on a Chinese system).
    #[error("the file is not UTF-8 (save it from Excel as \"CSV UTF-8\")")]
    NotUtf8,
    /// Not CSV, or a row with another number of fields (its line, when known).
    #[error("malformed CSV{at}", at = .0.map(|l| format!(" at line {l}")).unwrap_or_default())]
    Malformed(Option<u64>),
    /// A column `bizmail import` does not know.
    #[error("unknown column {0:?}; known: {known}", known = COLUMNS.join(", "))]
    UnknownColumn(String),
    /// No `alias` column.
    #[error("the file needs an `alias` column")]
    NoAlias,
    /// No rows.
    #[error("the file has no rows")]
    Empty,
    /// More rows than the caller takes.
    #[error("the file has too many rows")]
    TooMany,
}

/// The rows of a CSV file in `bizmail import`'s format (the first line names the columns, in
/// any order and case; lists separated by `;`), at most `max_rows` of them.
pub fn parse_csv(bytes: &[u8], max_rows: usize) -> Result<Vec<ImportRow>, CsvProblem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| CsvProblem::NotUtf8)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let malformed = |e: csv::Error| CsvProblem::Malformed(e.position().map(csv::Position::line));
    let headers: Vec<String> = reader
        .headers()
        .map_err(malformed)?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if let Some(h) = headers.iter().find(|h| !COLUMNS.contains(&h.as_str())) {
        return Err(CsvProblem::UnknownColumn(h.clone()));
    }
    if !headers.iter().any(|h| h == "alias") {
        return Err(CsvProblem::NoAlias);
    }
    let col = |name: &str| headers.iter().position(|h| h == name);
    let split = |s: String| -> Vec<String> {
        s.split(';')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        if rows.len() == max_rows {
            return Err(CsvProblem::TooMany);
        }
        let get = |name: &str| {
            col(name)
                .and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_owned()
        };
        rows.push(ImportRow {
            line: record.position().map_or(0, csv::Position::line),
            alias: get("alias"),
            name: get("name"),
            departments: split(get("departments")),
            aliases: split(get("aliases")),
            position: get("position"),
            tel: get("tel"),
            mobile: get("mobile"),
            ext_id: get("extid"),
            gender: get("gender"),
            password: get("password"),
            md5: get("md5"),
        });
    }
    if rows.is_empty() {
        return Err(CsvProblem::Empty);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_ROWS: usize = 20_000;

    #[test]
    fn the_format_of_bizmail_import() {
        let csv = "\u{feff}Alias, Name ,departments,aliases,password\n\
                   a@x.cn,张三,研发/后台; 运营 ,a1@x.cn;a2@x.cn,secret1\n\
                   b@x.cn,\"Li, Si\",,,\n";
        let rows = parse_csv(csv.as_bytes(), MAX_ROWS).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].departments, ["研发/后台", "运营"]);
        assert_eq!(rows[0].aliases, ["a1@x.cn", "a2@x.cn"]);
        assert_eq!(rows[0].password, "secret1");
        assert_eq!(rows[1].name, "Li, Si");
        assert!(rows[1].departments.is_empty());
    }

    #[test]
    fn what_cannot_be_imported() {
        assert_eq!(
            parse_csv(b"name\nx\n", MAX_ROWS).unwrap_err(),
            CsvProblem::NoAlias
        );
        assert_eq!(
            parse_csv(b"alias,boss\na@x.cn,b\n", MAX_ROWS).unwrap_err(),
            CsvProblem::UnknownColumn("boss".into())
        );
        assert_eq!(
            parse_csv(b"alias\n", MAX_ROWS).unwrap_err(),
            CsvProblem::Empty
        );
        assert_eq!(
            parse_csv(b"alias,name\na@x.cn\n", MAX_ROWS).unwrap_err(),
            CsvProblem::Malformed(Some(2))
        );
        assert_eq!(
            parse_csv(b"alias,name\na@x.cn,\xd5\xc5\n", MAX_ROWS).unwrap_err(),
            CsvProblem::NotUtf8
        );
        let many = format!("alias\n{}", "a@x.cn\n".repeat(MAX_ROWS + 1));
        assert_eq!(
            parse_csv(many.as_bytes(), MAX_ROWS).unwrap_err(),
            CsvProblem::TooMany
        );
    }
}
