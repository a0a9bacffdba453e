//! Every text of the console, in Simplified Chinese and English, side by side so that the two
//! cannot drift apart: one line per text, the Chinese first. The Chinese names of the open
//! protocol's page follow Exmail's own console (工具箱 → 开放协议, 立即申请, 查看明文, 操作记录), which
//! the seed documents describe and admins look for.

/// Declares a struct of texts and a function giving it in a language: `texts! { struct Ct; fn ct;
/// field: "中文", "English"; … }`. Each page area of the console declares its own.
macro_rules! texts {
    (struct $name:ident; fn $getter:ident; $( $(#[$doc:meta])* $field:ident: $zh:literal, $en:literal; )*) => {
        /// Texts of the console in one language.
        #[derive(Debug)]
        pub struct $name { $( $(#[$doc])* pub $field: &'static str, )* }

        /// The texts in `lang`.
        pub fn $getter(lang: $crate::http::i18n::Lang) -> &'static $name {
            static ZH: $name = $name { $( $field: $zh, )* };
            static EN: $name = $name { $( $field: $en, )* };
            match lang {
                $crate::http::i18n::Lang::Zh => &ZH,
                $crate::http::i18n::Lang::En => &EN,
            }
        }
    };
}
pub(crate) use texts;

texts! {
    struct Ct;
    fn ct;
    /// The console's name in the header.
    console: "管理端", "Admin console";
    /// The operator's console's name in the header.
    operator_console: "运营管理", "Operator console";
    /// Sign-in page title.
    sign_in: "管理员登录", "Admin sign-in";
    /// Operator sign-in page title.
    operator_sign_in: "运营者登录", "Operator sign-in";
    /// The admin's name field.
    admin_name: "管理员账号", "Admin account";
    /// The operator's name field.
    operator_name: "运营者账号", "Operator account";
    /// Password field.
    password: "密码", "Password";
    /// Sign-in button.
    sign_in_button: "登录", "Sign in";
    /// Link to the other kind of sign-in (from the admin's).
    to_operator: "运营者登录", "Operator sign-in";
    /// Link to the other kind of sign-in (from the operator's).
    to_admin: "管理员登录", "Admin sign-in";
    /// Wrong name or password.
    wrong_credentials: "账号或密码错误", "Wrong account or password";
    /// Too many attempts.
    too_many_attempts: "尝试次数过多，请稍后再试", "Too many attempts; try again later";
    /// A stale form.
    form_expired: "页面已过期，请重试", "This page expired; please try again";
    /// A challenge that ran out.
    challenge_expired: "登录已超时，请重新输入密码", "The sign-in timed out; enter your password again";
    /// Second-factor page title.
    second_factor: "动态验证码", "Verification code";
    /// Enrolment text.
    enrol_intro: "管理端登录必须使用动态验证码。请用身份验证器应用（如腾讯身份验证器、Google Authenticator）扫描二维码，然后输入它显示的 6 位验证码。", "The console always asks for a verification code. Scan the QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, …) and type the 6-digit code it shows.";
    /// Under the QR code: the secret by hand.
    enrol_manual: "无法扫码时，手动输入密钥：", "Cannot scan? Type this key:";
    /// QR code's alt text.
    qr_alt: "身份验证器二维码", "QR code for the authenticator app";
    /// Code page text for an enrolled account.
    code_intro: "请输入身份验证器显示的 6 位验证码。", "Type the 6-digit code from your authenticator app.";
    /// Code field.
    code_label: "验证码", "Code";
    /// Verify button.
    verify_button: "验证", "Verify";
    /// Wrong code.
    wrong_code: "验证码错误或已使用", "Wrong or already used code";
    /// Log out button.
    log_out: "退出", "Sign out";
    /// Shown after signing out.
    signed_out: "已退出管理端", "You have signed out of the console";
    /// The store failed.
    unavailable: "服务暂时不可用，请稍后再试", "The service is temporarily unavailable; try again later";
    /// Nav: the open protocol.
    nav_openapi: "开放协议", "Open protocol";
    /// Nav: the operation log.
    nav_log: "操作记录", "Operation log";
    /// Nav: the directory.
    nav_directory: "通讯录", "Directory";
    /// Nav: mail settings.
    nav_mail: "邮件设置", "Mail settings";
    /// Nav: the newer API's applications.
    nav_apps: "新版接口", "Newer API";
    /// Nav: the operator's tenants.
    nav_tenants: "租户", "Tenants";
    /// Toolbox label before the open protocol's title.
    toolbox: "工具箱", "Toolbox";
    /// The open protocol's pitch (as on Exmail's page).
    openapi_pitch: "申请开放接口，与公司的 OA、网站无缝结合，支持帐号管理、邮件提醒、快捷登录等功能。", "Apply for the open interface to connect the company's OA and web sites: account management, new-mail notices and single sign-on.";
    /// Apply button.
    apply: "立即申请", "Apply now";
    /// After applying.
    applied: "你已申请成功。请通过以下 key 连接开放接口：", "You have applied. Connect to the open interface with this key:";
    /// The `client_id` label.
    client_id: "client_id（管理员账号）", "client_id (the admin account)";
    /// The key label.
    interface_key: "接口 key", "Interface key";
    /// Reveal button.
    reveal: "查看明文", "Show the key";
    /// Reveal form's text.
    reveal_intro: "输入管理员密码以查看接口 key：", "Type the admin password to see the interface key:";
    /// Confirm button.
    confirm: "确定", "OK";
    /// Wrong password on reveal.
    wrong_password: "管理员密码错误", "Wrong admin password";
    /// Rotate button.
    rotate: "更换 key", "Replace the key";
    /// What rotation does.
    rotate_warning: "更换后，旧 key 换取的所有 token 立即失效，接入系统需改用新 key。", "Every token issued under the old key stops working at once; connected systems must use the new key.";
    /// After rotation.
    rotated: "接口 key 已更换。点击“查看明文”查看新 key。", "The interface key was replaced. Use “Show the key” to see the new one.";
    /// Sync switch's label.
    sync: "同步", "Sync";
    /// Sync on.
    sync_on: "已启用", "On";
    /// Sync off.
    sync_off: "已关闭", "Off";
    /// Switch on.
    enable_sync: "启用同步", "Switch sync on";
    /// Switch off.
    disable_sync: "关闭同步", "Switch sync off";
    /// After switching on.
    enabled_notice: "同步已启用。", "Sync is on.";
    /// After switching off.
    disabled_notice: "同步已关闭：所有接口调用将被拒绝。", "Sync is off: every interface call is refused.";
    /// The allow list's title.
    allow_list: "IP 白名单", "IP allow list";
    /// An empty allow list.
    allow_any: "未设置：任何地址均可调用接口。", "Empty: any address may call the interface.";
    /// Add-entry field.
    allow_entry: "IP 地址或网段（如 203.0.113.0/24）", "An address or range (e.g. 203.0.113.0/24)";
    /// Add button.
    add: "添加", "Add";
    /// Remove button.
    remove: "删除", "Remove";
    /// A bad allow-list entry.
    bad_entry: "不是有效的 IP 地址或网段", "Not an IP address or range";
    /// The abilities list's title.
    abilities: "你可以通过开放接口实现以下功能：", "With the open interface you can:";
    /// Ability: sync.
    ability_sync: "数据同步：同步部门成员信息，创建、删除、修改帐号。", "Sync data: departments and members; create, delete and change accounts.";
    /// Ability: notices.
    ability_notice: "来信提醒：即时在 OA 等办公系统提醒新邮件。", "New-mail notices: tell the OA or other office systems at once.";
    /// Ability: SSO.
    ability_sso: "单点登录：从办公系统直接进入邮箱。", "Single sign-on: open the mailbox straight from office systems.";
    /// Link to the log.
    see_log: "查看操作记录", "See the operation log";
    /// Log filters: from.
    from: "开始日期", "From";
    /// Log filters: to.
    to: "结束日期", "To";
    /// Log filters and column: endpoint.
    endpoint: "接口", "Endpoint";
    /// Log filters: outcome.
    outcome: "结果", "Outcome";
    /// Any outcome.
    outcome_any: "全部", "Any";
    /// Successful.
    outcome_ok: "成功", "Succeeded";
    /// Failed.
    outcome_failed: "失败", "Failed";
    /// Log filters and column: client address.
    client_ip: "来源 IP", "Client address";
    /// Filter button.
    filter: "查询", "Search";
    /// CSV link.
    export_csv: "导出 CSV", "Export CSV";
    /// Column: time.
    time: "时间", "Time";
    /// Column: who.
    operator: "操作者", "By";
    /// Column: parameters.
    params: "参数", "Parameters";
    /// An empty log page.
    no_rows: "没有符合条件的记录", "No entries match";
    /// Newer page.
    newer: "较新", "Newer";
    /// Older page.
    older: "较早", "Older";
    /// Times are UTC.
    utc_note: "时间为 UTC；日期按 UTC 计算。", "Times are UTC; dates are UTC days.";
    /// A bad date in the filter.
    bad_date: "日期格式应为 YYYY-MM-DD", "Dates are YYYY-MM-DD";
    /// Tenants page title.
    tenants: "租户", "Tenants";
    /// Column: domains.
    domains: "域名", "Domains";
    /// Column: members.
    members: "成员数", "Members";
    /// Column: state.
    state: "状态", "State";
    /// Tenant active.
    active: "正常", "Active";
    /// Tenant disabled.
    disabled: "已停用", "Disabled";
    /// Disable a tenant.
    disable: "停用", "Disable";
    /// Enable a tenant.
    enable: "启用", "Enable";
    /// New tenant form's title.
    new_tenant: "新建租户", "New tenant";
    /// New tenant's domains field.
    new_domains: "域名（多个用空格分隔）", "Domains (separated by spaces)";
    /// New tenant's admin field.
    new_admin: "管理员账号", "Admin account";
    /// Create button.
    create: "创建", "Create";
    /// After creating a tenant: the generated password.
    created_tenant: "租户已创建。管理员初始密码（只显示这一次）：", "The tenant was created. The admin's first password (shown only this once):";
    /// Something refused, generic prefix.
    refused: "未能完成：", "Not done: ";
}
