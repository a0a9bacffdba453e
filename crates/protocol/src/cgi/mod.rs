//! The newer Exmail API (`/cgi-bin/gettoken`, `/cgi-bin/<area>/<verb>`), whose contract is
//! `shared/spec/EXMAIL_API.md`: its fields ([`fields`]), requests and their checks
//! ([`requests`]), answers ([`answers`]), error codes ([`code`]) and the callback cryptography
//! ([`crypto`]). Section numbers (§) in this module refer to that contract.

pub mod answers;
pub mod code;
pub mod crypto;
pub mod fields;
pub mod requests;

pub use code::{Code, ErrorAnswer};
pub use fields::Fields;

/// The applications of a tenant, each with its own secret and its own tokens (§2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum App {
    /// 通讯录管理: departments, members, groups, tags.
    Directory,
    /// 单点登录: `service/get_login_url`.
    Sso,
    /// 新邮件提醒: `mail/newcount` and the callback.
    Mail,
    /// 日志查询: `log/*`.
    Log,
    /// 功能设置: `useroption/*`.
    Option,
}

impl App {
    /// Every application, in the order the CLI lists them.
    pub const ALL: [App; 5] = [App::Directory, App::Sso, App::Mail, App::Log, App::Option];

    /// The name the CLI and the store use.
    pub fn name(self) -> &'static str {
        match self {
            App::Directory => "directory",
            App::Sso => "sso",
            App::Mail => "mail",
            App::Log => "log",
            App::Option => "option",
        }
    }

    /// The application of a name.
    pub fn from_name(name: &str) -> Option<App> {
        App::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The application whose token an endpoint (`area/verb`) needs.
    pub fn of_endpoint(endpoint: &str) -> Option<App> {
        let area = endpoint.split('/').next().unwrap_or_default();
        Some(match area {
            "department" | "user" | "group" | "tag" => App::Directory,
            "service" => App::Sso,
            "mail" => App::Mail,
            "log" => App::Log,
            "useroption" => App::Option,
            _ => return None,
        })
    }
}
