//! Department paths (部门路径, §7.5): names joined by `/`, the root left out, a leading or trailing
//! `/` ignored, at most 5 levels, each name 1–64 characters. The root itself is the empty path,
//! spelled `""`, `"/"`, a parameter with no value, or no parameter at all (§8).

use crate::error::ErrorCode;

/// Deepest allowed department.
pub const MAX_LEVELS: usize = 5;
/// Longest department name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// A normalised department path; empty for the root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PartyPath(Vec<String>);

impl PartyPath {
    /// The root department.
    pub fn root() -> PartyPath {
        PartyPath(Vec::new())
    }

    /// Parses a path as clients send it. Errors: `invalid_party_path` for an empty name between
    /// slashes, a name over 64 characters, or more than 5 levels.
    pub fn parse(raw: &str) -> Result<PartyPath, ErrorCode> {
        let trimmed = raw.trim().trim_matches('/');
        if trimmed.trim().is_empty() {
            return Ok(PartyPath::root());
        }
        let names: Vec<String> = trimmed.split('/').map(|n| n.trim().to_owned()).collect();
        if names.len() > MAX_LEVELS
            || names.iter().any(|n| {
                n.is_empty() || n.chars().count() > MAX_NAME_CHARS || crate::text::has_control(n)
            })
        {
            return Err(ErrorCode::InvalidPartyPath);
        }
        Ok(PartyPath(names))
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The names from the top down.
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// The path as stored and answered: names joined by `/`, empty for the root.
    pub fn joined(&self) -> String {
        self.0.join("/")
    }

    /// The parent path; the root's parent is the root.
    pub fn parent(&self) -> PartyPath {
        let mut names = self.0.clone();
        names.pop();
        PartyPath(names)
    }

    /// Every proper ancestor below the root, top-down, then this path itself.
    pub fn lineage(&self) -> Vec<PartyPath> {
        (1..=self.0.len())
            .map(|n| PartyPath(self.0[..n].to_vec()))
            .collect()
    }

    /// Whether `self` is `other` or lies inside it.
    pub fn is_within(&self, other: &PartyPath) -> bool {
        self.0.len() >= other.0.len() && self.0[..other.0.len()] == other.0[..]
    }

    /// How many levels deep this path is (root = 0).
    pub fn depth(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_spellings() {
        for r in ["", "/", " / ", "//"] {
            assert!(PartyPath::parse(r).unwrap().is_root(), "{r:?}");
        }
    }

    #[test]
    fn leading_and_trailing_slashes_are_ignored() {
        let a = PartyPath::parse("/IT部/IT产品部").unwrap();
        let b = PartyPath::parse("IT部/IT产品部/").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.joined(), "IT部/IT产品部");
        assert_eq!(a.parent().joined(), "IT部");
        assert_eq!(a.lineage().len(), 2);
        assert!(a.is_within(&PartyPath::parse("IT部").unwrap()));
        assert!(!PartyPath::parse("IT").unwrap().is_within(&a));
    }

    #[test]
    fn limits() {
        assert!(PartyPath::parse("a/b/c/d/e").is_ok());
        assert_eq!(
            PartyPath::parse("a/b/c/d/e/f"),
            Err(ErrorCode::InvalidPartyPath)
        );
        assert_eq!(PartyPath::parse("a//b"), Err(ErrorCode::InvalidPartyPath));
        assert!(PartyPath::parse(&"部".repeat(64)).is_ok());
        assert_eq!(
            PartyPath::parse(&"部".repeat(65)),
            Err(ErrorCode::InvalidPartyPath)
        );
    }
}
