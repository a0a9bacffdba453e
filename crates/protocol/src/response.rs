//! The JSON answers of the protocol, with their keys in the documented order.
//!
//! Field order in these structs *is* the wire order (one recorded client reads the token answer by
//! position), so never reorder fields. Successful calls that return no data answer HTTP 200 with an
//! empty body instead (§1): they have no type here.

use serde::{Deserialize, Serialize};

/// The answer of `/cgi-bin/token` (§3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// 86 characters of base64url; a new one on every request.
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Lifetime in seconds (86400 unless configured otherwise).
    pub expires_in: u64,
    /// Always `""`: client-credentials tokens are not refreshed, they are requested anew.
    pub refresh_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_keys_in_documented_order() {
        let t = TokenResponse {
            access_token: "t".into(),
            token_type: "Bearer".into(),
            expires_in: 86400,
            refresh_token: String::new(),
        };
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"access_token":"t","token_type":"Bearer","expires_in":86400,"refresh_token":""}"#
        );
    }
}
