//! The newer API's directory endpoints called in-process, as one tenant's admin, with the routes'
//! rules and the routes' answers (as JSON): `bizmail migrate directory` writes a directory read
//! from Exmail through them, so what it writes passes exactly what an API call would, bumps `Ver`
//! and enters the operation log the same way.

use super::{CgiOutcome, Directory, departments, groups, members, parse_change, tags};
use crate::directory::DirError;
use crate::tenants::OplogEntry;
use bizmail_protocol::cgi::answers::{
    Answer, Created, Departments, Nothing, TagCreated, TagInvalid, Tags, Users,
};
use bizmail_protocol::cgi::requests as rq;
use bizmail_protocol::cgi::{Code, Fields};
use serde_json::{Value, json};

/// One tenant's directory, reached like its newer API. Get one from
/// [`crate::tenants::Admin::corp_directory`].
#[derive(Debug, Clone)]
pub struct CorpDirectory {
    directory: Directory,
    tenant_id: i64,
    oplog: OplogEntry,
    /// The command its writes are logged under (`bizmail/<command>/<endpoint>`).
    command: &'static str,
}

impl CorpDirectory {
    /// Calls as `admin` of `tenant_id`; the operation log names `endpoint` under
    /// `bizmail/migrate/…` (see [`CorpDirectory::logged_as`]) from `local`.
    pub(crate) fn new(directory: Directory, tenant_id: i64, admin: &str) -> CorpDirectory {
        CorpDirectory {
            directory,
            tenant_id,
            oplog: OplogEntry {
                tenant_id: Some(tenant_id),
                at_ms: 0,
                client_ip: "local".into(),
                admin: admin.to_owned(),
                endpoint: String::new(),
                params: String::new(),
                errcode: 0,
            },
            command: "migrate",
        }
    }

    /// The same directory, its writes logged as `bizmail/<command>/<endpoint>` instead of
    /// `bizmail/migrate/…` (`bizmail seed` logs as `seed`), so the operation log says which
    /// command wrote them.
    #[must_use]
    pub fn logged_as(mut self, command: &'static str) -> CorpDirectory {
        self.command = command;
        self
    }

    /// Calls `endpoint` (`department/create`, `user/list`, …) with a JSON body; answers as the
    /// route would, refusals included (`{"errcode":60003,…}`). Reads served: `department/list`,
    /// `user/get`, `user/list`, `group/get`, `tag/list`, `tag/get`. A failure of the store is an error.
    pub async fn call(&self, endpoint: &str, body: Value) -> Result<Value, DirError> {
        let fields = Fields::from_json(body).ok_or(DirError::RefusedCgi(Code::InvalidParameter));
        let result = match fields {
            Ok(f) => self.dispatch(endpoint, &f, false).await,
            Err(e) => Err(e),
        };
        answer_or_refusal(result)
    }

    /// `user/create` without a password, which the API requires: the member signs in only
    /// through single sign-on until one is set (as `bizmail import` allows).
    pub async fn create_without_password(&self, body: Value) -> Result<Value, DirError> {
        let fields = Fields::from_json(body).ok_or(DirError::RefusedCgi(Code::InvalidParameter));
        let result = match fields {
            Ok(f) => self.dispatch("user/create", &f, true).await,
            Err(e) => Err(e),
        };
        answer_or_refusal(result)
    }

    async fn dispatch(
        &self,
        endpoint: &str,
        f: &Fields,
        no_password: bool,
    ) -> Result<Value, DirError> {
        let change = if no_password {
            let userid = rq::userid(f)?;
            let fields = rq::UserFields::from_fields(f)?;
            if fields.name.is_none() {
                return Err(Code::InvalidName.into());
            }
            if fields.department.as_ref().is_none_or(Vec::is_empty) {
                return Err(Code::MissingDepartmentId.into());
            }
            Some(super::CgiChange::UserCreate(
                members::prepare(userid, fields).await?,
            ))
        } else {
            parse_change(endpoint, f).await?
        };
        let Some(change) = change else {
            return self.read(endpoint, f).await;
        };
        let mut row = self.oplog.clone();
        row.at_ms = crate::store::now_ms();
        row.endpoint = format!("bizmail/{}/{endpoint}", self.command);
        row.params = f.to_log_line();
        let errmsg = match endpoint.rsplit('/').next() {
            Some("create") => "created",
            Some("delete") => "deleted",
            Some("update") => "updated",
            _ => "ok",
        };
        let outcome = self
            .directory
            .cgi_change(self.tenant_id, change, Some(&row))
            .await?;
        Ok(match outcome {
            CgiOutcome::Done => to_value(&Answer::done(errmsg, Nothing {})),
            CgiOutcome::DeptCreated(id) => to_value(&Answer::done(errmsg, Created { id })),
            CgiOutcome::TagCreated(tagid) => to_value(&Answer::done(errmsg, TagCreated { tagid })),
            CgiOutcome::Partial(users, parties) => to_value(&Answer::done(
                errmsg,
                TagInvalid {
                    invalidlist: (!users.is_empty()).then(|| users.join("|")),
                    invalidparty: (!parties.is_empty()).then_some(parties),
                },
            )),
        })
    }

    async fn read(&self, endpoint: &str, f: &Fields) -> Result<Value, DirError> {
        let (tenant, dirs) = (self.tenant_id, &self.directory);
        Ok(match endpoint {
            "department/list" => {
                let id = f
                    .int("id")
                    .map_err(|_| Code::DeptNotFound)?
                    .unwrap_or(super::ROOT);
                let department = dirs
                    .cgi_read(tenant, async |c, s| departments::list(c, s, id).await)
                    .await?;
                to_value(&Answer::ok(Departments { department }))
            }
            "user/get" => {
                let userid = rq::userid(f)?;
                let user = dirs
                    .cgi_read(tenant, async |c, s| members::get(c, s, &userid).await)
                    .await?;
                to_value(&Answer::ok(user))
            }
            "user/list" => {
                let q = rq::UserListing::from_fields(f)?;
                let userlist = dirs
                    .cgi_read(tenant, async |c, s| members::list(c, s, q).await)
                    .await?;
                to_value(&Answer::ok(Users { userlist }))
            }
            "group/get" => {
                let g = rq::address(f, "groupid", Code::InvalidGroupid)?;
                let group = dirs
                    .cgi_read(tenant, async |c, s| groups::get(c, s, &g).await)
                    .await?;
                to_value(&Answer::ok(group))
            }
            "tag/list" => {
                let taglist = dirs
                    .cgi_read(tenant, async |c, s| tags::list(c, s).await)
                    .await?;
                to_value(&Answer::ok(Tags { taglist }))
            }
            "tag/get" => {
                let id = rq::tag_id(f)?;
                let tag = dirs
                    .cgi_read(tenant, async |c, s| tags::get(c, s, id).await)
                    .await?;
                to_value(&Answer::ok(tag))
            }
            _ => return Err(Code::InvalidParameter.into()),
        })
    }
}

fn to_value<T: serde::Serialize>(answer: &T) -> Value {
    serde_json::to_value(answer).unwrap_or(Value::Null)
}

/// A refusal as the route words it; a failure stays an error.
fn answer_or_refusal(result: Result<Value, DirError>) -> Result<Value, DirError> {
    use bizmail_protocol::ErrorCode as Old;
    let code = match result {
        Ok(v) => return Ok(v),
        Err(DirError::RefusedCgi(c)) => c,
        Err(DirError::Refused(Old::UserNotFound | Old::MailboxNotFound)) => Code::UseridNotFound,
        Err(DirError::Refused(Old::InvalidAlias)) => Code::InvalidUserid,
        Err(DirError::Refused(_)) => Code::InvalidParameter,
        Err(e) => return Err(e),
    };
    Ok(json!({"errcode": code.number(), "errmsg": code.errmsg()}))
}
