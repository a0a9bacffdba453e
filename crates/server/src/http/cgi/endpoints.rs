//! The newer API's endpoints (EXMAIL_API.md §4): each parses its request with
//! `bizmail_protocol::cgi`, makes one domain call, and serializes the answer.

use super::{AppState, CgiRequest, answer, dir_code};
use crate::auth::corp::CorpGrant;
use crate::directory::cgi::{self as dir, CgiOutcome, departments, groups, members, tags};
use crate::tenants::OplogEntry;
use bizmail_protocol::cgi::answers::{
    Answer, CheckedList, Created, Departments, FoundDepartments, LoginUrl, NewCount, Nothing,
    OptionValue, Options, SimpleUser, TagCreated, TagInvalid, Tags, Users,
};
use bizmail_protocol::cgi::requests as rq;
use bizmail_protocol::cgi::{Code, Fields};

/// Every endpoint served (EXMAIL_API.md §4); anything else is `other`.
pub(super) const KNOWN: &[&str] = &[
    "department/create",
    "department/update",
    "department/delete",
    "department/list",
    "department/search",
    "user/create",
    "user/update",
    "user/delete",
    "user/get",
    "user/simplelist",
    "user/list",
    "user/batchcheck",
    "group/create",
    "group/update",
    "group/delete",
    "group/get",
    "tag/create",
    "tag/update",
    "tag/delete",
    "tag/get",
    "tag/addtagusers",
    "tag/deltagusers",
    "tag/list",
    "useroption/get",
    "useroption/update",
    "service/get_login_url",
    "mail/newcount",
    "log/mailstatus",
    "log/mail",
    "log/login",
    "log/batchjob",
    "log/operation",
];

/// What an endpoint works with.
pub(super) struct Ctx<'a> {
    pub state: &'a AppState,
    pub grant: &'a CorpGrant,
    pub fields: &'a Fields,
    pub req: &'a CgiRequest,
    pub row: &'a mut OplogEntry,
}

type Outcome = Result<(Vec<u8>, bool), Code>;

fn read<T: serde::Serialize>(body: T) -> Outcome {
    Ok((answer(&Answer::ok(body))?, false))
}

/// Runs one endpoint. The flag says whether the operation-log row was written with the change.
pub(super) async fn dispatch(ctx: Ctx<'_>, endpoint: &str) -> Outcome {
    let f = ctx.fields;
    let Some(change) = dir::parse_change(endpoint, f).await.map_err(dir_code)? else {
        return reads(ctx, endpoint).await;
    };
    let errmsg = match endpoint.rsplit('/').next() {
        Some("create") => "created",
        Some("delete") => "deleted",
        Some("update") if endpoint == "useroption/update" => "update",
        Some("update") => "updated",
        _ => "ok",
    };
    let outcome = ctx
        .state
        .directory
        .cgi_change(ctx.grant.tenant_id, change, Some(ctx.row))
        .await
        .map_err(dir_code)?;
    let body = match outcome {
        CgiOutcome::Done => answer(&Answer::done(errmsg, Nothing {}))?,
        CgiOutcome::DeptCreated(id) => answer(&Answer::done(errmsg, Created { id }))?,
        CgiOutcome::TagCreated(tagid) => answer(&Answer::done(errmsg, TagCreated { tagid }))?,
        CgiOutcome::Partial(users, parties) => answer(&Answer::done(
            errmsg,
            TagInvalid {
                invalidlist: (!users.is_empty()).then(|| users.join("|")),
                invalidparty: (!parties.is_empty()).then_some(parties),
            },
        ))?,
    };
    Ok((body, true))
}

async fn reads(ctx: Ctx<'_>, endpoint: &str) -> Outcome {
    let (f, tenant, dirs) = (ctx.fields, ctx.grant.tenant_id, &ctx.state.directory);
    match endpoint {
        "department/list" => {
            let id = match f.int("id") {
                Ok(id) => id.unwrap_or(dir::ROOT),
                Err(_) => return Err(Code::DeptNotFound),
            };
            let department = dirs
                .cgi_read(tenant, async |c, s| departments::list(c, s, id).await)
                .await
                .map_err(dir_code)?;
            read(Departments { department })
        }
        "department/search" => {
            let q = rq::DeptSearch::from_fields(f)?;
            let department = dirs
                .cgi_read(tenant, async |c, s| departments::search(c, s, &q).await)
                .await
                .map_err(dir_code)?;
            read(FoundDepartments { department })
        }
        "user/get" => {
            let userid = rq::userid(f)?;
            let user = dirs
                .cgi_read(tenant, async |c, s| members::get(c, s, &userid).await)
                .await
                .map_err(dir_code)?;
            read(user)
        }
        "user/list" | "user/simplelist" => {
            let q = rq::UserListing::from_fields(f)?;
            let users = dirs
                .cgi_read(tenant, async |c, s| members::list(c, s, q).await)
                .await
                .map_err(dir_code)?;
            if endpoint == "user/list" {
                return read(Users { userlist: users });
            }
            let userlist = users
                .into_iter()
                .map(|u| SimpleUser {
                    userid: u.userid,
                    name: u.name,
                    department: u.department,
                })
                .collect();
            read(Users { userlist })
        }
        "user/batchcheck" => {
            let list = rq::batchcheck(f)?;
            let list = dirs
                .cgi_read(tenant, async |c, s| members::batchcheck(c, s, list).await)
                .await
                .map_err(dir_code)?;
            read(CheckedList { list })
        }
        "group/get" => {
            let g = rq::address(f, "groupid", Code::InvalidGroupid)?;
            let group = dirs
                .cgi_read(tenant, async |c, s| groups::get(c, s, &g).await)
                .await
                .map_err(dir_code)?;
            read(group)
        }
        "tag/get" => {
            let id = rq::tag_id(f)?;
            let tag = dirs
                .cgi_read(tenant, async |c, s| tags::get(c, s, id).await)
                .await
                .map_err(dir_code)?;
            read(tag)
        }
        "tag/list" => {
            let taglist = dirs
                .cgi_read(tenant, async |c, s| tags::list(c, s).await)
                .await
                .map_err(dir_code)?;
            read(Tags { taglist })
        }
        "useroption/get" => {
            let userid = rq::userid(f)?;
            let types = rq::option_types(f)?;
            let values = dirs
                .cgi_read(tenant, async |c, s| {
                    members::options(c, s, &userid, &types).await
                })
                .await
                .map_err(dir_code)?;
            let option = values
                .into_iter()
                .map(|(kind, v)| OptionValue {
                    kind,
                    value: if v { "1" } else { "0" }.into(),
                })
                .collect();
            read(Options { option })
        }
        "mail/newcount" => {
            let userid = rq::userid(f)?;
            let range = rq::optional_day_range(f)?.map(|(b, e)| {
                (
                    super::logs::day_start_ms(b),
                    super::logs::day_start_ms(e).saturating_add(86_400_000),
                )
            });
            let count = dirs
                .cgi_read(tenant, async |c, s| {
                    members::new_count(c, s, &userid, range).await
                })
                .await
                .map_err(dir_code)?;
            read(NewCount { count })
        }
        "service/get_login_url" => login_url(&ctx).await,
        _ if endpoint.starts_with("log/") => super::logs::respond(&ctx, endpoint).await,
        _ => Err(Code::InvalidParameter),
    }
}

/// What a `userid` keeps unencoded in the login URL (everything else, `+` and `@` included, is
/// percent-encoded, so no decoder turns a `+` into a space).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `service/get_login_url`: a single-use ticket from the same store as the old API's
/// `mail/authkey`, as a URL on `public_url`, or else on the host the client called.
async fn login_url(ctx: &Ctx<'_>) -> Outcome {
    let userid = rq::userid(ctx.fields)?;
    let state = ctx.state;
    let scope = state
        .directory
        .scope(ctx.grant.tenant_id)
        .await
        .map_err(|e| dir_code(e.into()))?;
    if !scope.owns(&userid) {
        return Err(Code::InvalidUserid);
    }
    let lifetime = state.config.ticket_lifetime_secs;
    let ticket = state
        .auth
        .issue_ticket(&scope, &userid, (lifetime, crate::auth::tickets::OPENAPI))
        .await
        .map_err(dir_code)?;
    let public = state.config.public_url.trim().trim_end_matches('/');
    let base = if public.is_empty() {
        let host = ctx.req.host.clone().unwrap_or_else(|| "localhost".into());
        let scheme = if ctx.req.https { "https" } else { "http" };
        format!("{scheme}://{host}")
    } else {
        public.to_owned()
    };
    let login_url = format!(
        "{base}/cgi-bin/login?fun=bizopenssologin&method=openapi&userid={}&authkey={ticket}",
        percent_encoding::utf8_percent_encode(userid.as_str(), QUERY_VALUE)
    );
    read(LoginUrl {
        login_url,
        expires_in: lifetime,
    })
}
