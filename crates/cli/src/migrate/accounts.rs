//! The accounts file of `migrate mail` and `migrate verify`: CSV, one account a line
//! (`address,login,password`). A bad line is an error naming its line, before anything is copied.

use anyhow::{Context as _, bail};
use std::path::Path;

/// One account to copy.
#[derive(Clone)]
pub struct Account {
    /// The line of the file it came from.
    pub line: u64,
    /// The member's address here.
    pub address: String,
    /// The login at the source.
    pub login: String,
    /// The password at the source (empty with a master user).
    pub password: String,
}

// The password must never reach a log or a terminal, so `{:?}` leaves it out.
impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("line", &self.line)
            .field("address", &self.address)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// Reads the accounts file; `with_master` allows lines without a password.
pub fn read(path: &Path, with_master: bool) -> anyhow::Result<Vec<Account>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&bytes, with_master).with_context(|| format!("{}", path.display()))
}

/// Parses the CSV text of an accounts file. Each line is read on its own (a password holds no
/// line break), so an error names the line as an editor counts it, comments and blank lines too.
pub fn parse(bytes: &[u8], with_master: bool) -> anyhow::Result<Vec<Account>> {
    let text = std::str::from_utf8(bytes).map_err(|e| anyhow::anyhow!("not UTF-8: {e}"))?;
    let mut accounts: Vec<Account> = Vec::new();
    let mut first = true;
    for (i, raw) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
            continue;
        }
        let record = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .from_reader(raw.as_bytes())
            .records()
            .next()
            .transpose()
            .map_err(|e| anyhow::anyhow!("line {line}: not CSV: {e}"))?
            .unwrap_or_default();
        let field = |n: usize| record.get(n).unwrap_or("").to_owned();
        if std::mem::take(&mut first) && field(0).eq_ignore_ascii_case("address") {
            continue;
        }
        if record.len() > 3 {
            bail!(
                "line {line}: {} fields; expected address,login,password",
                record.len()
            );
        }
        let address = field(0);
        if !address.contains('@') || address.contains(char::is_whitespace) {
            bail!("line {line}: {address:?} is not a mail address");
        }
        let login = Some(field(1))
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| address.clone());
        let password = field(2);
        if password.is_empty() && !with_master {
            bail!("line {line}: {address} has no password (or give --master-user)");
        }
        if let Some(earlier) = accounts
            .iter()
            .find(|a| a.address.eq_ignore_ascii_case(&address))
        {
            bail!(
                "line {line}: {address} is listed twice (line {} too)",
                earlier.line
            );
        }
        accounts.push(Account {
            line,
            address,
            login,
            password,
        });
    }
    if accounts.is_empty() {
        bail!("no accounts in the file");
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_comments_and_default_login() {
        let text = "address,login,password\n# a comment\n\na@x.com,,pw1\nb@x.com,bob,\"p,w\"\n";
        let accounts = parse(text.as_bytes(), false).unwrap();
        assert_eq!(accounts.len(), 2);
        assert_eq!(accounts[0].login, "a@x.com");
        assert_eq!(accounts[0].line, 4);
        assert_eq!(accounts[1].login, "bob");
        assert_eq!(accounts[1].password, "p,w");
        assert!(!format!("{:?}", accounts[1]).contains("p,w"));
    }

    #[test]
    fn bad_lines_are_named() {
        let e = parse(b"# who\n\na@x.com,,pw\nnot-an-address,,pw\n", false).unwrap_err();
        assert!(e.to_string().starts_with("line 4:"), "{e}");
        let e = parse(b"a@x.com,a,\n", false).unwrap_err();
        assert!(e.to_string().contains("no password"), "{e}");
        assert_eq!(parse(b"a@x.com,a,\n", true).unwrap().len(), 1);
        let e = parse(b"a@x.com,,1\nA@x.com,,2\n", false).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        let e = parse(b"a@x.com,,1,extra\n", false).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}
