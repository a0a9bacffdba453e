//! Callback cryptography of the new-mail notice (§4.7): WeCom's `WXBizMsgCrypt`, no I/O, no randomness.
//!
//! Receivers run WeCom's own SDKs (Python, Java, PHP…), so every byte follows them: AES-256-CBC with the IV
//! taken from the key, PKCS#7 over 32-byte blocks, a big-endian length prefix and the corpid appended.

use aes::Aes256;
use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use cbc::cipher::generic_array::GenericArray;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use sha1::{Digest, Sha1};

/// AES block size in bytes.
const AES_BLOCK: usize = 16;
/// WeCom's `PKCS7Encoder` pads to 32 bytes, not to the AES block: pad values run 1..=32.
const PAD_BLOCK: usize = 32;
/// Random prefix (16) + length field (4): the least a plaintext holds before the message.
const HEADER: usize = 20;
const CDATA_OPEN: &str = "<![CDATA[";
const CDATA_CLOSE: &str = "]]>";

/// Standard base64 that ignores the unused low bits of the last character. A 43-character
/// `EncodingAESKey` carries 258 bits for 256: WeCom's SDKs drop the extra 2 bits (WeCom's own sample key
/// "jWmYm7qr…B2C" has them set), so a strict decoder would refuse keys that real tenants hold.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Why a key or a ciphertext was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum CryptoError {
    /// The `EncodingAESKey` is not 43 base64 characters decoding to 32 bytes.
    #[error("EncodingAESKey must be 43 base64 characters decoding to 32 bytes")]
    InvalidKey,
    /// The ciphertext is not standard padded base64.
    #[error("ciphertext is not valid base64")]
    Base64,
    /// The decoded ciphertext is empty or not a whole number of AES blocks.
    #[error("ciphertext length is not a positive multiple of 16 bytes")]
    BlockLength,
    /// The last plaintext byte is not a pad value 1..=32 that fits the plaintext.
    #[error("invalid PKCS#7 padding")]
    Padding,
    /// The plaintext is shorter than its header, or its length field runs past its end.
    #[error("plaintext too short or its length field is out of range")]
    Length,
    /// The message or the receive id is not UTF-8.
    #[error("message or receive id is not UTF-8")]
    Utf8,
}

/// The 32-byte AES key derived from a tenant's `EncodingAESKey`; its first 16 bytes are also the IV.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackKey {
    key: [u8; 32],
}

/// Hand-written so that logging a key never prints it.
impl std::fmt::Debug for CallbackKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallbackKey(..)")
    }
}

impl CallbackKey {
    /// Derives the key as WeCom does, `base64_decode(s + "=")`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidKey`] when `s` is not 43 characters of base64 decoding to 32 bytes.
    pub fn from_encoding_aes_key(s: &str) -> Result<CallbackKey, CryptoError> {
        // The length check comes first: `s + "="` with 42 or 44 characters would also decode.
        if s.len() != 43 {
            return Err(CryptoError::InvalidKey);
        }
        let bytes = LENIENT
            .decode(format!("{s}="))
            .map_err(|_| CryptoError::InvalidKey)?;
        let key = <[u8; 32]>::try_from(bytes).map_err(|_| CryptoError::InvalidKey)?;
        Ok(CallbackKey { key })
    }

    /// Encrypts `msg` for `receive_id` (the corpid) and returns the ciphertext in padded base64.
    ///
    /// `random16` is the random prefix; the caller draws it, so this stays deterministic and testable.
    #[must_use]
    pub fn encrypt(&self, random16: [u8; 16], msg: &str, receive_id: &str) -> String {
        // The field cannot describe more than u32::MAX bytes; no notice comes near, and saturating
        // (the receiver then refuses it) is better than panicking in a delivery worker.
        let len = u32::try_from(msg.len()).unwrap_or(u32::MAX);
        let mut buf = Vec::with_capacity(HEADER + msg.len() + receive_id.len() + PAD_BLOCK);
        buf.extend_from_slice(&random16);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(msg.as_bytes());
        buf.extend_from_slice(receive_id.as_bytes());
        // A plaintext already a multiple of 32 gets a whole block of 32s, never zero padding.
        let pad = PAD_BLOCK - buf.len() % PAD_BLOCK;
        #[allow(clippy::cast_possible_truncation)] // pad is 1..=32
        buf.resize(buf.len() + pad, pad as u8);
        self.cbc_encrypt(&mut buf);
        STANDARD.encode(&buf)
    }

    /// Decrypts a ciphertext and returns `(msg, receive_id)`; the caller compares the receive id.
    ///
    /// # Errors
    /// Bad base64, a length that is not whole AES blocks, a pad value outside 1..=32, a length field
    /// running past the plaintext, or text that is not UTF-8 (typically a wrong key).
    pub fn decrypt(&self, encrypted_b64: &str) -> Result<(String, String), CryptoError> {
        let mut buf = LENIENT
            .decode(encrypted_b64)
            .map_err(|_| CryptoError::Base64)?;
        if buf.is_empty() || buf.len() % AES_BLOCK != 0 {
            return Err(CryptoError::BlockLength);
        }
        let mut cipher = cbc::Decryptor::<Aes256>::new(&self.key.into(), &self.iv().into());
        for block in buf.chunks_exact_mut(AES_BLOCK) {
            cipher.decrypt_block_mut(GenericArray::from_mut_slice(block));
        }
        // Only the last byte is read, as WeCom's SDKs do: their PKCS7Encoder never checks the other
        // pad bytes, so checking them here could refuse a ciphertext that every SDK accepts.
        let pad = buf.last().map_or(0, |&b| usize::from(b));
        if !(1..=PAD_BLOCK).contains(&pad) || pad > buf.len() {
            return Err(CryptoError::Padding);
        }
        buf.truncate(buf.len() - pad);
        let body = buf.get(AES_BLOCK..).ok_or(CryptoError::Length)?;
        let (len, rest) = body.split_first_chunk::<4>().ok_or(CryptoError::Length)?;
        let len = usize::try_from(u32::from_be_bytes(*len)).map_err(|_| CryptoError::Length)?;
        if len > rest.len() {
            return Err(CryptoError::Length);
        }
        let (msg, receive_id) = rest.split_at(len);
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| CryptoError::Utf8);
        Ok((text(msg)?, text(receive_id)?))
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0; 16];
        iv.copy_from_slice(&self.key[..16]);
        iv
    }

    /// CBC over whole blocks, no padding of its own: the 32-byte padding is already in `buf`.
    fn cbc_encrypt(&self, buf: &mut [u8]) {
        let mut cipher = cbc::Encryptor::<Aes256>::new(&self.key.into(), &self.iv().into());
        for block in buf.chunks_exact_mut(AES_BLOCK) {
            cipher.encrypt_block_mut(GenericArray::from_mut_slice(block));
        }
    }
}

/// `msg_signature`: lowercase hex SHA-1 of the four strings sorted bytewise and concatenated.
#[must_use]
pub fn signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    // `str` orders bytewise, the order of Python's `list.sort()` over the ASCII values involved.
    let mut parts = [token, timestamp, nonce, encrypt];
    parts.sort_unstable();
    let mut sha = Sha1::new();
    for part in parts {
        sha.update(part.as_bytes());
    }
    hex::encode(sha.finalize())
}

/// The POST body of a notice: the corpid, `AgentID` "exmail" and the ciphertext, each in CDATA.
#[must_use]
pub fn envelope(corp_id: &str, encrypt: &str) -> String {
    format!(
        "<xml><CorpID>{}</CorpID><AgentID>{}</AgentID><Encrypt>{}</Encrypt></xml>",
        cdata(corp_id),
        cdata("exmail"),
        cdata(encrypt)
    )
}

/// The text of the first top-level `<Encrypt>` element (CDATA sections joined, entities decoded),
/// as a receiver reads it; `None` when there is none or it holds markup.
#[must_use]
pub fn extract_encrypt(envelope_xml: &str) -> Option<String> {
    let mut rest = envelope_xml;
    loop {
        rest = &rest[rest.find('<')?..];
        // Skip CDATA sections and comments whole, so an "<Encrypt>" inside another value is not taken.
        if let Some(after) = rest.strip_prefix(CDATA_OPEN) {
            rest = &after[after.find(CDATA_CLOSE)? + CDATA_CLOSE.len()..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix("<Encrypt>") {
            return element_text(after, "</Encrypt>");
        } else {
            rest = &rest[1..];
        }
    }
}

/// Text content up to `close`: CDATA taken as is, character data with its entities decoded.
fn element_text(mut rest: &str, close: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        if let Some(after) = rest.strip_prefix(CDATA_OPEN) {
            let end = after.find(CDATA_CLOSE)?;
            out.push_str(&after[..end]);
            rest = &after[end + CDATA_CLOSE.len()..];
        } else if rest.starts_with(close) {
            return Some(out);
        } else if rest.starts_with('<') {
            return None;
        } else {
            let end = rest.find('<')?;
            unescape_into(&rest[..end], &mut out)?;
            rest = &rest[end..];
        }
    }
}

/// Decodes the five predefined entities and numeric character references; `None` on any other.
fn unescape_into(text: &str, out: &mut String) -> Option<()> {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';')? + amp;
        let name = &rest[amp + 1..semi];
        let c = match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match name.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => name.strip_prefix('#')?.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Some(())
}

/// `true` for the characters XML 1.0 allows (`Char`); Rust strings hold no surrogates.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// A value wrapped as `<![CDATA[...]]>`: characters XML 1.0 forbids are dropped (a receiver's parser
/// would reject the whole notice), and each `]]>` is split across two sections (`]]]]><![CDATA[>`).
#[must_use]
pub fn cdata(value: &str) -> String {
    // Filter first: removing a control character may join "]]" and ">" into a terminator.
    let clean: String = value.chars().filter(|&c| xml_char(c)).collect();
    format!(
        "{CDATA_OPEN}{}{CDATA_CLOSE}",
        clean.replace("]]>", "]]]]><![CDATA[>")
    )
}

/// A new-mail notice (`MsgType` "Mail"), as recorded from the real service on 2021-01-07.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailNotice<'a> {
    /// The tenant's corpid.
    pub corp_id: &'a str,
    /// Opaque mail id (32 random bytes in base64).
    pub mail_id: &'a str,
    /// The recipient member's userid (primary address).
    pub to: &'a str,
    /// The sender's display name; empty when the sender has none.
    pub from_name: &'a str,
    /// The sender's address.
    pub from_address: &'a str,
    /// The subject.
    pub title: &'a str,
    /// Arrival time, Unix seconds.
    pub time: i64,
    /// The recipient's unread inbox count after this mail.
    pub new_count: i64,
}

impl MailNotice<'_> {
    /// The plaintext XML of the notice, elements in the recorded order.
    #[must_use]
    pub fn to_xml(&self) -> String {
        // The recorded notice quotes the address when there is no name: `"a@x"<a@x>`.
        let name = if self.from_name.trim().is_empty() {
            self.from_address
        } else {
            self.from_name
        };
        // Backslash-escape as an RFC 5322 quoted-string, so a quote in the name cannot end it early.
        let name = name.replace('\\', "\\\\").replace('"', "\\\"");
        let from = format!("\"{name}\"<{}>", self.from_address);
        format!(
            "<xml><CorpID>{}</CorpID><MsgType>{}</MsgType><MailID>{}</MailID><ToUserID>{}</ToUserID>\
             <FromUser>{}</FromUser><Title>{}</Title><Time>{}</Time><NewCount>{}</NewCount></xml>",
            cdata(self.corp_id),
            cdata("Mail"),
            cdata(self.mail_id),
            cdata(self.to),
            cdata(&from),
            cdata(self.title),
            self.time,
            self.new_count
        )
    }
}

/// An unread-count change (`MsgType` `UnRead`) that is not a new mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnreadNotice<'a> {
    /// The tenant's corpid.
    pub corp_id: &'a str,
    /// The member's userid (primary address).
    pub user: &'a str,
    /// Time of the change, Unix seconds.
    pub time: i64,
    /// The member's unread inbox count after the change.
    pub unread_count: i64,
}

impl UnreadNotice<'_> {
    /// The plaintext XML of the notice, elements in the recorded order.
    #[must_use]
    pub fn to_xml(&self) -> String {
        format!(
            "<xml><CorpID>{}</CorpID><MsgType>{}</MsgType><UserID>{}</UserID><Time>{}</Time>\
             <UnReadCount>{}</UnReadCount></xml>",
            cdata(self.corp_id),
            cdata("UnRead"),
            cdata(self.user),
            self.time,
            self.unread_count
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// WeCom's sample `EncodingAESKey`; its last character carries non-zero spare bits.
    const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    const CORP: &str = "ww878809d01b17fb5e";
    const MSG1: &str = "<xml><CorpID><![CDATA[ww878809d01b17fb5e]]></CorpID><MsgType><![CDATA[Mail]]>\
        </MsgType><MailID><![CDATA[Hr/VDOqk59quI8=]]></MailID><ToUserID><![CDATA[b@x.cn]]></ToUserID>\
        <FromUser><![CDATA[\"张三\"<a@x.cn>]]></FromUser><Title><![CDATA[邮件到达了]]></Title>\
        <Time>1610007415</Time><NewCount>11</NewCount></xml>";
    // Produced by the Python reference (pycryptodome, written after WeCom's WXBizMsgCrypt3.py).
    const ENC1: &str = "1C/wyqHozjEoNvNBY7e7azQUNm1z30BqnjE+4xMBwXcYhTl387P6ht2TKRwHbnW0JNAd+RYB33mCyvIiIz4Vm\
        gZ3IjguNDfzG++SREtgFRhYJFJ0qzVHCra6hC2CHz3aqoVXI+0HkMRGNt3WrBDGjn5rtpzRxioRFA85vrA7abl9j8LWASFU+b9z\
        UbZQHCoL/mYTByTLo0yr4w2weejTSGlhoO1pi64VUpFgDC5UztK6yxfh/bSrcDb0AGzqGlsLJhKm4rPHo1cMpGOXa85aM4LKUUE\
        vdzz5tyYyfOVzXmxGt0o9J92ZQTkHGCfjQsp7YWynl4vB7Oc45hDWC6Cr+7wJXJmmrP+TDot+BzzHOYNntSQ+1ritOtVyTwzegE\
        UIJosvTI8VjDdNTCRRTuDLhA/9c1kKcWxjxDKm1b5WH/yL3mXyb0FU/gWTCGC8n7jWIJ80Q8l9jvaHJIBFYfgpiQ==";
    const SIG1: &str = "fd49e9f5e3500de309f48bff779c4696ea23a05b";
    // 16 + 4 + 26 + 18 = 64 bytes: the pad is a whole 32-byte block.
    const ENC2: &str = "y514aRT8yYkYNee3kPvkrN/CJHn/XLqiOp/KR+UcXAg8o3FjY7jPrMP81NzQR+KGVrhqj7aSx5hnyP8WDJqzf\
        pTTP+ySoSm3mH2dC4Qf9pi2ipaVvPpGUoz3TbzKC6Do";
    const SIG2: &str = "1852cac25995a16bf21011bb70d9d6a598583fce";

    fn key() -> CallbackKey {
        CallbackKey::from_encoding_aes_key(KEY).unwrap()
    }

    fn sig(encrypt: &str) -> String {
        signature("QDG6eK", "1409659813", "1372623149", encrypt)
    }

    /// Encrypts a hand-made plaintext (whole blocks) to probe the decrypt checks.
    fn raw(plain: &[u8]) -> String {
        let mut buf = plain.to_vec();
        key().cbc_encrypt(&mut buf);
        STANDARD.encode(&buf)
    }

    #[test]
    fn interop_with_python_reference() {
        let r1: [u8; 16] = std::array::from_fn(|i| 0xF0 + u8::try_from(i).unwrap());
        assert_eq!(key().encrypt(r1, MSG1, CORP), ENC1);
        assert_eq!(sig(ENC1), SIG1);
        assert_eq!(
            key().decrypt(ENC1).unwrap(),
            (MSG1.to_owned(), CORP.to_owned())
        );

        let msg2 = "x".repeat(26);
        assert_eq!(key().encrypt(*b"1234567890123456", &msg2, CORP), ENC2);
        assert_eq!(sig(ENC2), SIG2);
        assert_eq!(key().decrypt(ENC2).unwrap(), (msg2, CORP.to_owned()));
    }

    #[test]
    fn key_derivation() {
        let k = key();
        assert_eq!(
            hex::encode(k.key),
            "8d69989bbaabe67328014c194631ad0719b3dca035b64023df292447aab60760"
        );
        assert_eq!(format!("{k:?}"), "CallbackKey(..)");
        let bad = [
            &KEY[..42],
            &format!("{KEY}="),
            &format!("{}!", &KEY[..42]),
            "",
        ];
        for bad in bad.into_iter().chain([&*format!("{}a", "é".repeat(21))]) {
            let got = CallbackKey::from_encoding_aes_key(bad);
            assert_eq!(got, Err(CryptoError::InvalidKey), "{bad}");
        }
    }

    #[test]
    fn round_trip() {
        let k = key();
        for (msg, id) in [
            ("", ""),
            ("hello", CORP),
            ("邮件到达了 ]]> \u{1F600}", "wm0123456789abcdef"),
            (MSG1, ""),
        ] {
            let enc = k.encrypt([7; 16], msg, id);
            assert_eq!(k.decrypt(&enc).unwrap(), (msg.to_owned(), id.to_owned()));
        }
        // The random prefix changes the whole ciphertext (CBC with a fixed IV relies on it).
        assert_ne!(k.encrypt([1; 16], "a", CORP), k.encrypt([2; 16], "a", CORP));
    }

    #[test]
    fn padding_sizes() {
        let k = key();
        for n in 0..=100 {
            let msg = "m".repeat(n);
            let plain = HEADER + n + CORP.len();
            let bytes = STANDARD.decode(k.encrypt([0; 16], &msg, CORP)).unwrap();
            // Always 1..=32 bytes of padding: a plaintext already a multiple of 32 gains a full block.
            assert_eq!(bytes.len(), (plain / PAD_BLOCK + 1) * PAD_BLOCK, "n = {n}");
            assert_eq!(k.decrypt(&STANDARD.encode(&bytes)).unwrap().0, msg);
        }
    }

    #[test]
    fn rejects_bad_padding() {
        let mut plain = [0u8; 64];
        plain[19] = 4; // length field: 4 bytes of message
        for pad in [0u8, 33, 255] {
            plain[63] = pad;
            assert_eq!(
                key().decrypt(&raw(&plain)),
                Err(CryptoError::Padding),
                "pad {pad}"
            );
        }
        // A pad longer than the whole plaintext.
        let mut short = [0u8; 16];
        short[15] = 20;
        assert_eq!(key().decrypt(&raw(&short)), Err(CryptoError::Padding));
    }

    #[test]
    fn rejects_bad_input() {
        let k = key();
        assert_eq!(k.decrypt("not base64!"), Err(CryptoError::Base64));
        assert_eq!(k.decrypt("AAAA="), Err(CryptoError::Base64));
        assert_eq!(k.decrypt(""), Err(CryptoError::BlockLength));
        for short in [&STANDARD.encode([0u8; 15]), &ENC1[4..]] {
            assert_eq!(k.decrypt(short), Err(CryptoError::BlockLength));
        }
        // Short: 32 bytes with 13 of padding leave 3 after the random prefix, no room for the length.
        let mut plain = [0u8; 32];
        plain[31] = 13;
        assert_eq!(k.decrypt(&raw(&plain)), Err(CryptoError::Length));
        // A length field running past the end.
        plain[31] = 1;
        plain[19] = 12; // 11 bytes follow the field
        assert_eq!(k.decrypt(&raw(&plain)), Err(CryptoError::Length));
        plain[19] = 11;
        let eleven_nuls = ("\0".repeat(11), String::new());
        assert_eq!(k.decrypt(&raw(&plain)), Ok(eleven_nuls));
        plain[20] = 0xFF;
        assert_eq!(k.decrypt(&raw(&plain)), Err(CryptoError::Utf8));
    }

    #[test]
    fn rejects_wrong_key() {
        let other = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
        let other = CallbackKey::from_encoding_aes_key(other).unwrap();
        for enc in [ENC1, ENC2] {
            assert!(other.decrypt(enc).is_err());
        }
    }

    #[test]
    fn signature_sorts_bytewise() {
        // Bytewise: digits < upper case < lower case.
        let expected = hex::encode(Sha1::digest(b"1Ca_b"));
        assert_eq!(signature("b", "1", "a_", "C"), expected);
        assert_eq!(signature("C", "a_", "1", "b"), expected);
        let empty = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
        assert_eq!(signature("", "", "", ""), empty);
    }

    #[test]
    fn cdata_splits_and_filters() {
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
        assert_eq!(
            cdata("]]>]]>"),
            "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>"
        );
        assert_eq!(
            cdata("x\u{1}\u{8}\t\n\ry\u{FFFE}\u{FFFF}\u{FFFD}"),
            "<![CDATA[x\t\n\ry\u{FFFD}]]>"
        );
        assert_eq!(cdata("]]\u{0}>"), "<![CDATA[]]]]><![CDATA[>]]>");
        assert_eq!(
            extract_encrypt(&format!("<Encrypt>{}</Encrypt>", cdata("a]]>b"))).unwrap(),
            "a]]>b"
        );
    }

    #[test]
    fn notices_xml() {
        let mut mail = MailNotice {
            corp_id: CORP,
            mail_id: "Hr/VDOqk59quI8=",
            to: "b@x.cn",
            from_name: "张三",
            from_address: "a@x.cn",
            title: "邮件到达了",
            time: 1_610_007_415,
            new_count: 11,
        };
        assert_eq!(mail.to_xml(), MSG1);
        mail.from_name = " ";
        assert!(
            mail.to_xml()
                .contains("<FromUser><![CDATA[\"a@x.cn\"<a@x.cn>]]></FromUser>")
        );
        mail.from_name = "say \"hi\" \\o/";
        assert!(
            mail.to_xml()
                .contains(r#"<![CDATA["say \"hi\" \\o/"<a@x.cn>]]>"#)
        );
        let unread = UnreadNotice {
            corp_id: CORP,
            user: "b@x",
            time: 1_610_007_514,
            unread_count: 10,
        };
        assert_eq!(
            unread.to_xml(),
            "<xml><CorpID><![CDATA[ww878809d01b17fb5e]]></CorpID><MsgType><![CDATA[UnRead]]></MsgType>\
             <UserID><![CDATA[b@x]]></UserID><Time>1610007514</Time><UnReadCount>10</UnReadCount></xml>"
        );
    }

    #[test]
    fn envelope_round_trip() {
        let body = envelope(CORP, ENC1);
        assert_eq!(
            body,
            format!(
                "<xml><CorpID><![CDATA[{CORP}]]></CorpID><AgentID><![CDATA[exmail]]></AgentID>\
                 <Encrypt><![CDATA[{ENC1}]]></Encrypt></xml>"
            )
        );
        let enc = extract_encrypt(&body).unwrap();
        assert_eq!(key().decrypt(&enc).unwrap().0, MSG1);
    }

    #[test]
    fn extract_encrypt_variants() {
        assert_eq!(
            extract_encrypt("<xml><Encrypt>a&amp;b&#x2B;&#61;</Encrypt></xml>").unwrap(),
            "a&b+="
        );
        assert_eq!(extract_encrypt("<Encrypt></Encrypt>").unwrap(), "");
        // An "<Encrypt>" inside another value or a comment is not the element.
        let xml = "<xml><A><![CDATA[<Encrypt>no</Encrypt>]]></A><!-- <Encrypt>no</Encrypt> -->\
                   <Encrypt> <![CDATA[yes]]></Encrypt></xml>";
        assert_eq!(extract_encrypt(xml).unwrap(), " yes");
        let bad = [
            "<xml/>",
            "<xml><Encrypt>abc",
            "<Encrypt><b/></Encrypt>",
            "<Encrypt>&x;</Encrypt>",
        ];
        for bad in bad {
            assert_eq!(extract_encrypt(bad), None, "{bad}");
        }
    }
}
