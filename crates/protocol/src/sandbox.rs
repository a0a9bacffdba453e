//! The sandbox's fault plan (bizmail's own contract, `docs/SANDBOX.md`): the JSON the control
//! endpoint and the console take, the one-line rules of `bizmail sandbox faults --rule`, which
//! calls a rule matches, and the seeded draw that makes a share of calls fail the same way on
//! every run. No I/O: the server keeps the counters and applies the faults.

use crate::ErrorCode;
use crate::cgi::Code;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Rules per plan: enough for any test, few enough that matching stays a short loop.
pub const MAX_RULES: usize = 64;
/// The longest latency or cut delay a rule may ask for.
pub const MAX_DELAY_MS: u64 = 120_000;
/// The endpoint name of SMTP sessions in a rule.
pub const SMTP: &str = "smtp";
/// The endpoint name of the held poll, the only one a `cut` or `idle` fault applies to.
pub const LISTEN: &str = "openapi/listen";

/// A tenant's faults: which calls fail and how, drawn from `seed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The seed of every share's draw: the same seed and the same calls give the same faults.
    #[serde(default)]
    pub seed: u64,
    /// Tokens of either API issued from now on stop working after this many seconds, while
    /// their answer still says the configured `expires_in` (a token that "expired early").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ttl_secs: Option<u64>,
    /// The rules, tried in order.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// One rule: the calls it matches, what it does to them, and how many of them.
///
/// A rule may add latency, and may do at most one of: answer an error, cut a held poll, answer
/// a held poll with `{"Ret":0}` at once, answer an SMTP session's recipient with a code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `openapi/user/get`, `cgi-bin/gettoken`, `cgi-bin/user/get`, `cgi-bin/token` (the
    /// OpenApi's token), `smtp`; a trailing `*` matches a prefix (`cgi-bin/*`, `*`).
    pub endpoint: String,
    /// Answer this error code in the endpoint's own API shape. A code only fires on endpoints
    /// of an API that has it (1002 on the OpenApi, -1 on the newer API).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<i64>,
    /// Milliseconds added before the call is handled (or answered with the fault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// `openapi/listen` only: drop the connection after this many milliseconds, no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_after_ms: Option<u64>,
    /// `openapi/listen` only: answer `{"Ret":0}` at once instead of holding the poll.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub idle: bool,
    /// `smtp` only: answer RCPT TO for the tenant's addresses with this code (421 also closes
    /// the session; 450, 451 and 452 are temporary refusals of that recipient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<u16>,
    /// The share of matching calls that fail, drawn from the plan's seed (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// At most this many matching calls fail; later ones pass (default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// Which API an endpoint belongs to, for the shape of an injected error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The BizMail OpenApi (`openapi/*` and its token, `cgi-bin/token`).
    OpenApi,
    /// The newer Exmail API (every other `cgi-bin/*`).
    Newer,
    /// SMTP sessions.
    Smtp,
}

impl Api {
    /// The API of an endpoint name as rules spell it.
    pub fn of(endpoint: &str) -> Api {
        if endpoint == SMTP {
            Api::Smtp
        } else if endpoint.starts_with("openapi/") || endpoint == "cgi-bin/token" {
            Api::OpenApi
        } else {
            Api::Newer
        }
    }

    /// Whether this API has the error code `code`.
    pub fn knows(self, code: i64) -> bool {
        match self {
            Api::OpenApi => u32::try_from(code)
                .ok()
                .and_then(ErrorCode::from_code)
                .is_some(),
            Api::Newer => Code::from_number(code).is_some(),
            Api::Smtp => false,
        }
    }
}

/// What a rule does to a call it fires on, besides latency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer this error code.
    Error(i64),
    /// Drop the held poll's connection after the delay.
    Cut(Duration),
    /// Answer the held poll `{"Ret":0}` at once.
    Idle,
    /// Answer the SMTP recipient with this code.
    Smtp(u16),
}

/// What a rule does to one endpoint's calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing: the rule's error code is not one of that endpoint's API.
    NotHere,
    /// It only adds latency.
    LatencyOnly,
    /// It answers with this fault (after any latency).
    Fault(Fault),
}

impl Fault {
    /// How the operation log and the record name it.
    pub fn describe(self) -> String {
        match self {
            Fault::Error(code) => format!("error {code}"),
            Fault::Cut(after) => format!("cut after {} ms", after.as_millis()),
            Fault::Idle => "idle answer".to_owned(),
            Fault::Smtp(code) => format!("smtp {code}"),
        }
    }
}

impl Rule {
    /// Whether the rule's endpoint pattern matches `endpoint`.
    pub fn matches(&self, endpoint: &str) -> bool {
        match self.endpoint.strip_suffix('*') {
            // `*` alone is every API call, not SMTP sessions.
            Some("") => endpoint != SMTP,
            Some(prefix) => endpoint.starts_with(prefix),
            None => self.endpoint == endpoint,
        }
    }

    /// What this rule does to a call of `endpoint` when it fires.
    pub fn effect_on(&self, endpoint: &str) -> Effect {
        if let Some(code) = self.error {
            return if Api::of(endpoint).knows(code) {
                Effect::Fault(Fault::Error(code))
            } else {
                Effect::NotHere
            };
        }
        if let Some(ms) = self.cut_after_ms {
            Effect::Fault(Fault::Cut(Duration::from_millis(ms)))
        } else if self.idle {
            Effect::Fault(Fault::Idle)
        } else if let Some(code) = self.smtp {
            Effect::Fault(Fault::Smtp(code))
        } else {
            Effect::LatencyOnly
        }
    }

    /// Checks the rule; the error says what is wrong in a sentence.
    pub fn check(&self) -> Result<(), String> {
        let e = &self.endpoint;
        if e.is_empty() || e.len() > 100 || !e.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "endpoint {e:?}: expected a name like openapi/user/get"
            ));
        }
        if e.contains('*') && !e.ends_with('*') || e.matches('*').count() > 1 {
            return Err(format!("endpoint {e}: `*` may only end the name"));
        }
        let actions = [
            self.error.is_some(),
            self.cut_after_ms.is_some(),
            self.idle,
            self.smtp.is_some(),
        ];
        match actions.iter().filter(|a| **a).count() {
            0 if self.latency_ms.is_none() => {
                return Err(format!(
                    "{e}: a rule needs error, latency, cut, idle or smtp"
                ));
            }
            0 | 1 => {}
            _ => {
                return Err(format!(
                    "{e}: one rule may do only one of error, cut, idle, smtp"
                ));
            }
        }
        if let Some(code) = self.error {
            // A pattern fires only where the code exists, so it needs one API that has it;
            // a plain endpoint needs its own API to have it.
            let fits = match e.strip_suffix('*') {
                Some(prefix) if !prefix.starts_with("openapi/") => {
                    Api::OpenApi.knows(code) || Api::Newer.knows(code)
                }
                _ => Api::of(e).knows(code),
            };
            if !fits {
                return Err(format!(
                    "{e}: error {code} is not a code of that API (the OpenApi's are 1001 to \
                     10002, the newer API's e.g. -1, 40014, 45009)"
                ));
            }
        }
        let listen_only = self.cut_after_ms.is_some() || self.idle;
        if listen_only && e != LISTEN {
            return Err(format!("{e}: cut and idle apply to {LISTEN} only"));
        }
        if let Some(code) = self.smtp {
            if e != SMTP {
                return Err(format!(
                    "{e}: an smtp code applies to the endpoint smtp only"
                ));
            }
            if ![421, 450, 451, 452].contains(&code) {
                return Err(format!("smtp {code}: expected 421, 450, 451 or 452"));
            }
        } else if e == SMTP && self.latency_ms.is_none() {
            return Err("smtp: expected smtp=421|450|451|452 or latency".to_owned());
        }
        for (name, ms) in [("latency", self.latency_ms), ("cut", self.cut_after_ms)] {
            if ms.is_some_and(|ms| ms > MAX_DELAY_MS) {
                return Err(format!("{e}: {name} over {MAX_DELAY_MS} ms"));
            }
        }
        if let Some(share) = self.share
            && !(share > 0.0 && share <= 1.0)
        {
            return Err(format!("{e}: share {share} is not in (0, 1]"));
        }
        if self.count == Some(0) {
            return Err(format!("{e}: count must be at least 1"));
        }
        Ok(())
    }

    /// Parses a rule from one line: the endpoint, then `key=value` words, e.g.
    /// `openapi/user/get error=1002 share=0.5`, `openapi/listen cut=2s count=1`,
    /// `cgi-bin/* latency=300ms`, `smtp smtp=421 count=1`, `openapi/listen idle`.
    pub fn parse_line(line: &str) -> Result<Rule, String> {
        let mut words = line.split_whitespace();
        let endpoint = words.next().ok_or("an empty rule")?.to_owned();
        let mut rule = Rule {
            endpoint,
            ..Rule::default()
        };
        for word in words {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            let bad = |what: &str| format!("{word}: {what}");
            match key {
                "error" => rule.error = Some(value.parse().map_err(|_| bad("expected a code"))?),
                "latency" => rule.latency_ms = Some(millis(value).map_err(|e| bad(&e))?),
                "cut" => {
                    rule.cut_after_ms = Some(if value.is_empty() {
                        0
                    } else {
                        millis(value).map_err(|e| bad(&e))?
                    });
                }
                "idle" if value.is_empty() => rule.idle = true,
                "smtp" => rule.smtp = Some(value.parse().map_err(|_| bad("expected 421"))?),
                "share" => {
                    let share = match value.strip_suffix('%') {
                        Some(pct) => pct.parse::<f64>().map(|p| p / 100.0),
                        None => value.parse(),
                    };
                    rule.share = Some(share.map_err(|_| bad("expected 0.5 or 50%"))?);
                }
                "count" => rule.count = Some(value.parse().map_err(|_| bad("expected a number"))?),
                _ => {
                    return Err(bad(
                        "unknown; expected error=, latency=, cut=, idle, smtp=, share=, count=",
                    ));
                }
            }
        }
        rule.check()?;
        Ok(rule)
    }
}

impl Plan {
    /// Checks every rule and the token lifetime.
    pub fn check(&self) -> Result<(), String> {
        if self.rules.len() > MAX_RULES {
            return Err(format!("{} rules: at most {MAX_RULES}", self.rules.len()));
        }
        if self.token_ttl_secs == Some(0) {
            return Err("token_ttl_secs must be at least 1".to_owned());
        }
        self.rules.iter().try_for_each(Rule::check)
    }

    /// Whether the plan does nothing.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.token_ttl_secs.is_none()
    }

    /// Whether the `n`th matching call (from 0) of rule `index` falls in the rule's share: a
    /// SplitMix64 draw from the seed, the rule and `n`, so a run is reproducible.
    pub fn drawn(&self, index: usize, n: u64) -> bool {
        let Some(share) = self.rules.get(index).and_then(|r| r.share) else {
            return true;
        };
        let mut z = self
            .seed
            .wrapping_add((index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_add(n.wrapping_mul(0xD1B5_4A32_D192_ED03));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits as a fraction in [0, 1).
        let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
        unit < share
    }
}

/// A duration in milliseconds: `300` or `300ms`, `2s`, `1m`.
fn millis(text: &str) -> Result<u64, String> {
    let (digits, scale) = if let Some(d) = text.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = text.strip_suffix('s') {
        (d, 1000)
    } else if let Some(d) = text.strip_suffix('m') {
        (d, 60_000)
    } else {
        (text, 1)
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| "expected a duration like 300ms, 2s or 1m".to_owned())
}

/// Parses a clock shift: `+2h`, `-30m`, `+1d12h`, `+90s`, or `0` (back to the real clock).
/// Returns milliseconds.
pub fn parse_shift(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let bad = || format!("{text:?}: expected a shift like +2h, -30m, +1d12h or 0");
    if text == "0" {
        return Ok(0);
    }
    let (sign, rest) = match text.as_bytes().first() {
        Some(b'+') => (1, &text[1..]),
        Some(b'-') => (-1, &text[1..]),
        _ => return Err(bad()),
    };
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in rest.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: i64 = match c {
            'd' => 86_400_000,
            'h' => 3_600_000,
            'm' => 60_000,
            's' => 1000,
            _ => return Err(bad()),
        };
        let n: i64 = number.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || rest.is_empty() {
        return Err(bad());
    }
    // A year either way is far more than any expiry bizmail has.
    if total > 366 * 86_400_000 {
        return Err(format!("{text}: at most a year either way"));
    }
    Ok(sign * total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_into_checked_rules() {
        let r = Rule::parse_line("openapi/user/get error=1002 share=50% latency=2s").unwrap();
        assert_eq!(r.error, Some(1002));
        assert_eq!(r.share, Some(0.5));
        assert_eq!(r.latency_ms, Some(2000));
        let cut = Rule::parse_line("openapi/listen cut=1500ms count=1").unwrap();
        assert_eq!(
            cut.effect_on(LISTEN),
            Effect::Fault(Fault::Cut(Duration::from_millis(1500)))
        );
        assert!(Rule::parse_line("openapi/user/get cut=1s").is_err());
        assert!(Rule::parse_line("cgi-bin/user/get error=1002").is_err());
        assert!(Rule::parse_line("cgi-bin/user/get error=-1").is_ok());
        assert!(Rule::parse_line("smtp smtp=500").is_err());
        assert!(Rule::parse_line("openapi/user/get").is_err());
        assert!(Rule::parse_line("open*api error=1002").is_err());
        assert!(Rule::parse_line("openapi/x error=1002 share=1.5").is_err());
    }

    #[test]
    fn an_error_fires_only_where_its_api_has_it() {
        let r = Rule::parse_line("* error=-1").unwrap();
        assert!(r.matches("cgi-bin/user/get"));
        assert_eq!(r.effect_on("openapi/user/get"), Effect::NotHere);
        assert_eq!(
            r.effect_on("cgi-bin/user/get"),
            Effect::Fault(Fault::Error(-1))
        );
        assert!(!r.matches(SMTP));
        assert_eq!(Api::of("cgi-bin/token"), Api::OpenApi);
    }

    #[test]
    fn draws_are_reproducible_and_near_their_share() {
        let plan = Plan {
            seed: 7,
            rules: vec![Rule::parse_line("* latency=1 share=0.3").unwrap()],
            ..Plan::default()
        };
        let first: Vec<bool> = (0..1000).map(|n| plan.drawn(0, n)).collect();
        let again: Vec<bool> = (0..1000).map(|n| plan.drawn(0, n)).collect();
        assert_eq!(first, again);
        let hits = first.iter().filter(|h| **h).count();
        assert!((250..350).contains(&hits), "{hits}");
        let other = Plan {
            seed: 8,
            ..plan.clone()
        };
        assert_ne!(
            first,
            (0..1000).map(|n| other.drawn(0, n)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn shifts() {
        assert_eq!(parse_shift("+2h"), Ok(7_200_000));
        assert_eq!(parse_shift("-1d30m"), Ok(-88_200_000));
        assert_eq!(parse_shift("0"), Ok(0));
        assert!(parse_shift("2h").is_err());
        assert!(parse_shift("+2x").is_err());
        assert!(parse_shift("+5").is_err());
        assert!(parse_shift("+400d").is_err());
    }
}
