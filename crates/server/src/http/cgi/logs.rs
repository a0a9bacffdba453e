//! `log/mailstatus|mail|login|batchjob|operation` (EXMAIL_API.md §4.8), answered from what bizmail
//! records: the mail log, the login log and the operation log. Days are the tenant's days in
//! China Standard Time (UTC+8), Exmail's own zone [S].

use super::endpoints::Ctx;
use super::{answer, dir_code};
use crate::activity::{MailFilter, Operations};
use bizmail_protocol::Address;
use bizmail_protocol::cgi::answers::{
    Answer, BatchJobRow, LogList, LoginLogRow, MailLogRow, MailStatus, OperationRow,
};
use bizmail_protocol::cgi::requests::{self as rq, Day};
use bizmail_protocol::cgi::{Code, Fields};

/// Seconds east of UTC of the days the logs are asked in.
const ZONE_SECS: i64 = 8 * 3600;

/// The first millisecond of a day (UTC+8).
pub fn day_start_ms(d: Day) -> i64 {
    chrono::NaiveDate::from_ymd_opt(d.year, u32::from(d.month), u32::from(d.day))
        .and_then(|n| n.and_hms_opt(0, 0, 0))
        .map_or(0, |t| t.and_utc().timestamp() - ZONE_SECS)
        .saturating_mul(1000)
}

fn range(f: &Fields, max_days: u32) -> Result<(i64, i64), Code> {
    let (b, e) = rq::day_range(f)?;
    let (from, to) = (day_start_ms(b), day_start_ms(e).saturating_add(86_400_000));
    if max_days > 0 && (to - from) / 86_400_000 > i64::from(max_days) {
        return Err(Code::DateRangeTooLong);
    }
    Ok((from, to))
}

/// The operation-log type of a call (19/20/23 member add/delete/edit, 28–30 department, 32–34
/// group, 39 interface: everything else), from its endpoint; the console's directory changes
/// count as what they change.
fn operation_type(endpoint: &str) -> u8 {
    // The web console's directory pages: `console/directory/<area>/<action>`, and `import`
    // (members added or changed).
    if let Some(c) = endpoint.strip_prefix("console/directory/") {
        return match c.split_once('/') {
            Some(("member", "create")) => 19,
            Some(("member", "delete")) => 20,
            Some(("member", _)) => 23,
            Some(("department", "create")) => 28,
            Some(("department", "delete")) => 30,
            Some(("department", _)) => 29,
            Some(("group", "create")) => 32,
            Some(("group", "delete")) => 33,
            Some(("group", _)) => 34,
            _ => 19,
        };
    }
    let e = endpoint
        .trim_start_matches("openapi/")
        .trim_start_matches("cgi-bin/");
    match e {
        "user/create" | "user/sync" => 19,
        "user/delete" => 20,
        "user/update" | "user/swapalias" => 23,
        "department/create" | "party/sync" => 28,
        "department/update" => 29,
        "department/delete" => 30,
        "group/create" | "group/add" => 32,
        "group/delete" => 33,
        _ if e.starts_with("group/") => 34,
        _ => 39,
    }
}

/// The operand of a call: the first of its identifying parameters in its log line.
fn operand(params: &str) -> String {
    for key in [
        "userid",
        "alias",
        "groupid",
        "group_alias",
        "id",
        "name",
        "tagid",
    ] {
        for pair in params.split('&') {
            if let Some(v) = pair.strip_prefix(key).and_then(|r| r.strip_prefix('=')) {
                return v.to_owned();
            }
        }
    }
    String::new()
}

/// Answers one `log/*` endpoint.
pub(super) async fn respond(ctx: &Ctx<'_>, endpoint: &str) -> Result<(Vec<u8>, bool), Code> {
    let (f, tenant) = (ctx.fields, ctx.grant.tenant_id);
    let activity = &ctx.state.activity;
    let busy = |e: crate::StoreError| dir_code(e.into());
    let max_days = ctx.state.config.log_max_days;
    let body = match endpoint {
        "log/mailstatus" => {
            let domain = f
                .text("domain")
                .map_err(|_| Code::InvalidDomain)?
                .ok_or(Code::InvalidDomain)?
                .to_ascii_lowercase();
            if Address::parse(&format!("x@{domain}")).is_none() {
                return Err(Code::InvalidDomain);
            }
            let scope = ctx.state.directory.scope(tenant).await.map_err(busy)?;
            if !scope.domains.contains(&domain) {
                return Err(Code::DomainNotFound);
            }
            let span = range(f, max_days)?;
            let (sendsum, recvsum) = activity
                .mail_counts(tenant, span, &domain)
                .await
                .map_err(busy)?;
            answer(&Answer::ok(MailStatus { sendsum, recvsum }))?
        }
        "log/mail" => {
            let mailtype = match f.int("mailtype") {
                Ok(Some(t @ 0..=2)) => t,
                _ => return Err(Code::InvalidMailtype),
            };
            let span = range(f, max_days)?;
            let user = f
                .text("userid")
                .ok()
                .flatten()
                .map(|u| u.to_ascii_lowercase());
            let subject = f.text("subject").ok().flatten();
            let filter = MailFilter {
                mailtype: (mailtype != 0).then_some(mailtype),
                user: user.as_deref(),
                subject: subject.as_deref(),
            };
            let rows = activity.mails(tenant, span, &filter).await.map_err(busy)?;
            let list = rows
                .into_iter()
                .map(|r| MailLogRow {
                    mailtype: u8::try_from(r.mailtype).unwrap_or(0),
                    subject: r.subject,
                    sender: r.sender,
                    receiver: r.receiver,
                    time: r.at_ms / 1000,
                    status: u8::try_from(r.status).unwrap_or(0),
                })
                .collect();
            answer(&Answer::ok(LogList { list }))?
        }
        "log/login" => {
            let userid = rq::userid(f)?;
            let span = range(f, max_days)?;
            let member = ctx
                .state
                .directory
                .cgi_read(tenant, async |c, s| {
                    crate::directory::cgi::member_of(c, s, &userid).await
                })
                .await
                .map_err(dir_code)?;
            let list = activity
                .logins(member.id, span)
                .await
                .map_err(busy)?
                .into_iter()
                .map(|(at, ip, kind)| LoginLogRow {
                    time: at / 1000,
                    ip,
                    kind: u8::try_from(kind).unwrap_or(5),
                })
                .collect();
            answer(&Answer::ok(LogList { list }))?
        }
        "log/batchjob" => {
            range(f, max_days)?;
            // bizmail runs no batch jobs of the kinds this log lists (imports are the CLI's).
            answer(&Answer::ok(LogList::<BatchJobRow> { list: Vec::new() }))?
        }
        "log/operation" => {
            let query = match f.int("type") {
                Ok(Some(t @ 1..=10)) => t,
                _ => return Err(Code::InvalidLogType),
            };
            let span = range(f, max_days)?;
            let which = match query {
                1 => Operations::All,
                2 => Operations::Interface,
                8 => Operations::Directory,
                // Types bizmail records nothing of (mail settings, admins' sign-ins, …).
                _ => {
                    let none = LogList::<OperationRow> { list: Vec::new() };
                    return Ok((answer(&Answer::ok(none))?, false));
                }
            };
            let list = activity
                .operations(tenant, span, which)
                .await
                .map_err(busy)?
                .into_iter()
                .map(|(at, admin, endpoint, params)| OperationRow {
                    time: at / 1000,
                    operator: admin,
                    kind: operation_type(&endpoint),
                    operand: operand(&params),
                    remark: endpoint,
                })
                .collect();
            answer(&Answer::ok(LogList { list }))?
        }
        _ => return Err(Code::InvalidParameter),
    };
    Ok((body, false))
}

#[cfg(test)]
mod tests {
    use super::operation_type;

    #[test]
    fn console_directory_changes_have_their_apis_types() {
        assert_eq!(operation_type("openapi/user/sync"), 19);
        assert_eq!(operation_type("cgi-bin/group/update"), 34);
        assert_eq!(operation_type("console/directory/member/create"), 19);
        assert_eq!(operation_type("console/directory/member/password"), 23);
        assert_eq!(operation_type("console/directory/department/move"), 29);
        assert_eq!(operation_type("console/directory/group/delete"), 33);
        assert_eq!(operation_type("console/directory/import"), 19);
        assert_eq!(operation_type("console/openapi/rotate"), 39);
    }
}
