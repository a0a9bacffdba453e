//! RFC 6238 codes, the second factor of both password logins (a member's forced one, and every
//! console sign-in): making a secret, opening a sealed one, drawing its enrolment QR code and
//! finding the time step a typed code belongs to. Where enrolments live is the caller's business.

use super::member_login::{Enrolment, Failed};
use super::random_bytes;
use super::secrets_equal;
use super::vault::Vault;
use totp_rs::{Algorithm, TOTP};

/// Seconds a TOTP code covers (RFC 6238's default, which every authenticator app uses).
const STEP_SECS: u64 = 30;
/// Steps either side of now that are still accepted, for clocks a little apart.
const SKEW_STEPS: i64 = 1;
/// Bytes of a new TOTP secret: 160 bits, RFC 4226's recommendation.
const SECRET_BYTES: usize = 20;

/// A new secret, base32-encoded (as it is sealed and stored).
pub(crate) fn new_secret() -> String {
    totp_rs::Secret::Raw(random_bytes::<SECRET_BYTES>().to_vec())
        .to_encoded()
        .to_string()
}

/// The TOTP of a sealed secret, labelled for an authenticator app as `issuer (label)`.
pub(crate) fn totp_for(
    vault: &Vault,
    tenant_id: i64,
    sealed: &[u8],
    (issuer, label): (&str, &str),
) -> Result<TOTP, Failed> {
    let secret = vault.open(tenant_id, sealed).map_err(|e| {
        Failed::Unavailable(format!(
            "a TOTP secret does not open with this key file: {e}"
        ))
    })?;
    let bytes = totp_rs::Secret::Encoded(secret)
        .to_bytes()
        .map_err(|e| Failed::Unavailable(format!("a stored TOTP secret: {e:?}")))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS,
        bytes,
        Some(issuer.to_owned()),
        label.to_owned(),
    )
    .map_err(|e| Failed::Unavailable(format!("a stored TOTP secret is unusable: {e}")))
}

/// What an enrolment page shows of `totp`: the secret and its QR code.
pub(crate) fn enrolment(totp: &TOTP) -> Result<Enrolment, Failed> {
    Ok(Enrolment {
        secret_base32: totp.get_secret_base32(),
        qr_png_base64: totp
            .get_qr_base64()
            .map_err(|e| Failed::Unavailable(format!("drawing a TOTP QR code: {e}")))?,
    })
}

/// The time step `code` is right for, now or one step either side; `Code` when none. The caller
/// records the step so that the code cannot be used twice.
pub(crate) fn matching_step(totp: &TOTP, code: &str) -> Result<i64, Failed> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let now_step = i64::try_from(unix_secs() / STEP_SECS).unwrap_or(i64::MAX);
    (now_step - SKEW_STEPS..=now_step + SKEW_STEPS)
        .find(|&s| {
            let at = u64::try_from(s).unwrap_or(0).saturating_mul(STEP_SECS);
            secrets_equal(totp.generate(at).as_bytes(), code.as_bytes())
        })
        .ok_or(Failed::Code)
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
