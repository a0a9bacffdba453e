//! The texts of the newer API's page (新版接口), in Simplified Chinese and English.

crate::http::console::texts::texts! {
    struct AppsTexts;
    fn at;
    /// The corp id's label.
    corp_id: "企业 ID（corpid）", "Corp ID (corpid)";
    /// What the page is about.
    intro: "新版接口（腾讯企业邮 API）的每个应用有自己的 secret：用 corpid 和应用的 secret 调用 /cgi-bin/gettoken，取得只能调用该应用接口的 access_token。", "Each application of the newer API (Tencent Exmail's API) has its own secret: /cgi-bin/gettoken with the corpid and an application's secret gives an access_token for that application's endpoints only.";
    /// Sync is off.
    sync_off: "开放协议的同步已关闭：新版接口的所有调用也会被拒绝。", "Sync is switched off on the open protocol page: every call of the newer API is refused too.";
    /// Applications title.
    apps: "应用", "Applications";
    /// Column: application.
    col_app: "应用", "Application";
    /// Column: state.
    col_state: "状态", "State";
    /// Column: secret.
    col_secret: "Secret", "Secret";
    /// Column: actions.
    col_actions: "操作", "Actions";
    /// The directory application.
    app_directory: "通讯录管理", "Directory";
    /// The SSO application.
    app_sso: "单点登录", "Single sign-on";
    /// The mail application.
    app_mail: "新邮件提醒", "New mail";
    /// The log application.
    app_log: "日志查询", "Logs";
    /// The option application.
    app_option: "功能设置", "Member options";
    /// An application that is on.
    on: "已启用", "On";
    /// An application that is off.
    off: "已停用", "Off";
    /// Switch on.
    switch_on: "启用", "Switch on";
    /// Switch off.
    switch_off: "停用", "Switch off";
    /// Rotate button.
    rotate: "更换 secret", "Replace the secret";
    /// What rotating does.
    rotate_warning: "更换后，用旧 secret 取得的 access_token 立即失效，接入系统需改用新 secret；更换单点登录的 secret 还会撤销所有成员的单点登录授权。新 secret 需输入密码查看。", "Tokens obtained with the old secret stop at once and connected systems must use the new one; replacing the single sign-on secret also takes back every member's single sign-on authorization. Type the password to see the new secret.";
    /// After rotating.
    rotated: "secret 已更换：", "The secret was replaced: ";
    /// After switching on.
    switched_on: "应用已启用：", "Switched on: ";
    /// After switching off.
    switched_off: "应用已停用，其 access_token 将被拒绝：", "Switched off, its tokens are refused: ";
    /// Reveal title.
    reveal_title: "查看 secret", "Show a secret";
    /// Reveal text.
    reveal_intro: "选择应用并输入管理员密码以查看它的 secret：", "Choose an application and type the admin password to see its secret:";
    /// Application field.
    app_field: "应用", "Application";
    /// An unknown application.
    no_app: "没有这个应用", "No such application";
    /// SSO switch title.
    sso_title: "单点登录首次确认密码", "Password on the first single sign-on";
    /// SSO switch text.
    sso_intro: "开启时，成员第一次通过新版接口的单点登录进入邮箱，需要输入一次邮箱密码以授权。", "When on, a member's first single sign-on of the newer API asks for their mailbox password once.";
    /// SSO confirmation on.
    sso_on: "已开启", "On";
    /// SSO confirmation off.
    sso_off: "已关闭", "Off";
    /// Switch SSO confirmation on.
    sso_turn_on: "开启首次确认", "Switch on";
    /// Switch SSO confirmation off.
    sso_turn_off: "关闭首次确认", "Switch off";
    /// After switching SSO confirmation on.
    sso_on_notice: "首次单点登录将要求确认密码。", "The first single sign-on asks for the password.";
    /// After switching SSO confirmation off.
    sso_off_notice: "首次单点登录不再要求确认密码。", "The first single sign-on no longer asks for the password.";
    /// Callback title.
    callback: "新邮件回调", "New-mail callback";
    /// Callback text.
    callback_intro: "设置后，新邮件和未读数的变化会加密、签名后推送到这个 URL，失败时在 1、5、30 分钟后重试。保存前先用加密的 echostr 校验 URL：接收端须解密后原样返回。", "Once set, new mail and unread-count changes are pushed to this URL, encrypted and signed, with retries after 1, 5 and 30 minutes. The URL is checked before it is kept: the receiver must decrypt an encrypted echostr and answer it.";
    /// No callback.
    callback_none: "尚未设置回调。", "No callback is set.";
    /// The receiver's URL.
    url: "回调 URL", "Callback URL";
    /// The Token field.
    token: "Token", "Token";
    /// The key field.
    aes_key: "EncodingAESKey", "EncodingAESKey";
    /// Replace the callback.
    replace_callback: "更换回调", "Replace the callback";
    /// Set button.
    save_callback: "校验并保存", "Check and save";
    /// After setting.
    callback_saved: "回调已设置：URL 已通过校验。", "The callback is set: its URL passed the check.";
    /// Remove button.
    remove_callback: "删除回调", "Remove the callback";
    /// After removing.
    callback_removed: "回调已删除，等待中的通知已丢弃。", "The callback was removed, with the notices waiting for it.";
    /// Delivered count.
    delivered: "已送达", "Delivered";
    /// Dropped count.
    dropped: "已放弃", "Dropped";
    /// Pending count.
    pending: "等待中", "Waiting";
    /// Test title.
    test_title: "发送测试通知", "Send a test notice";
    /// Test text.
    test_intro: "立即向回调 URL 发送一条该成员的未读数通知（不进入重试队列）。", "Sends one unread-count notice for the member to the callback URL now (not retried).";
    /// Test member field.
    test_user: "成员邮箱地址", "Member address";
    /// Test button.
    test_button: "发送测试通知", "Send a test notice";
    /// After a test taken.
    test_sent: "测试通知已送达：接收端以 2xx 应答。", "The test notice was delivered: the receiver answered 2xx.";
    /// A bad URL.
    bad_url: "回调 URL 应为 http 或 https 地址", "The callback URL must be an http or https URL";
    /// A bad Token.
    bad_token: "Token 应为 3 至 32 位字母或数字", "The Token is 3 to 32 letters and digits";
    /// A bad key.
    bad_key: "EncodingAESKey 应为 43 位 base64 字符", "The EncodingAESKey is 43 base64 characters";
    /// No corp id.
    no_corp: "本企业还没有 corpid", "This company has no corpid yet";
    /// No callback set.
    not_set: "尚未设置回调", "No callback is set";
    /// An unknown member.
    unknown_user: "本企业没有这个成员：", "No such member in this company: ";
    /// A failed URL check.
    unverified: "回调 URL 校验失败，未保存：", "The callback URL failed its check and was not kept: ";
    /// A refused test.
    not_delivered: "接收端未接受测试通知：", "The receiver did not take the test notice: ";
    /// Delivery log title.
    log_title: "回调投递记录", "Callback deliveries";
    /// What the counts are.
    counts_note: "已送达、已放弃为累计数；送达的通知不逐条保留，等待中的通知（发送中或等待重试）列在下面。", "Delivered and dropped are running totals; delivered notices are not kept one by one, and the notices waiting (being sent or waiting for a retry) are listed below.";
    /// Waiting title.
    waiting_title: "等待投递的通知", "Notices waiting";
    /// Nothing waiting.
    waiting_none: "没有等待投递的通知。", "No notices are waiting.";
    /// Column: time.
    col_time: "时间", "Time";
    /// Column: event.
    col_event: "事件", "Event";
    /// Column: member.
    col_member: "成员", "Member";
    /// Column: failed attempts.
    col_attempts: "失败次数", "Failed attempts";
    /// Column: status.
    col_status: "状态", "Status";
    /// A Mail notice.
    kind_mail: "新邮件", "New mail";
    /// An UnRead notice.
    kind_unread: "未读数", "Unread count";
    /// Being sent.
    sending: "发送中", "Sending";
    /// Waiting for a retry.
    retry_at: "下次尝试 ", "Next attempt ";
    /// Due now.
    due: "待发送", "Due";
    /// History title.
    attempts_title: "投递记录", "Delivery attempts";
    /// No attempts yet.
    attempts_none: "暂无投递记录。", "No delivery attempts yet.";
    /// An attempt the receiver took.
    attempt_delivered: "已送达", "Delivered";
    /// An attempt refused, to be retried.
    attempt_retry: "失败，将重试", "Failed, will retry";
    /// The last attempt refused: the notice is dropped.
    attempt_dropped: "失败，已放弃", "Failed, dropped";
    /// The test notices' and settings' history's title.
    history_title: "测试通知与设置记录", "Test notices and changes";
    /// No history.
    history_none: "暂无记录。", "Nothing yet.";
    /// Column: action.
    col_action: "操作", "Action";
    /// Column: detail.
    col_detail: "详情", "Detail";
    /// Column: result.
    col_result: "结果", "Result";
    /// The set action.
    act_set: "设置回调", "Set the callback";
    /// The test action.
    act_test: "测试通知", "Test notice";
    /// The remove action.
    act_remove: "删除回调", "Remove the callback";
}
