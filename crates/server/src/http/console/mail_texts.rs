//! The texts of the mail settings page (邮件设置), in Simplified Chinese and English.

crate::http::console::texts::texts! {
    struct MailTexts;
    fn mt;
    /// Quotas section title.
    quotas: "成员配额与用量", "Member quotas and usage";
    /// What the quota numbers mean.
    quota_intro: "配额以 MB 计，0 表示不限；“恢复默认”让成员使用服务器的默认配额。邮箱已满的成员不再收到直接发给他的邮件（发件方稍后重试）。", "Quotas are in MB, 0 for no limit; “Back to default” gives the member the server's default quota. A member whose mailbox is full gets no more mail sent to them directly (senders retry later).";
    /// The server's default quota label.
    server_default: "服务器默认配额：", "The server's default quota: ";
    /// No limit.
    no_limit: "不限", "No limit";
    /// Marks a quota that is the server's default.
    default_tag: "（默认）", " (default)";
    /// Search field.
    find: "查找成员（地址或姓名）", "Find members (address or name)";
    /// Column: member.
    col_member: "成员", "Member";
    /// Column: used.
    col_used: "已用", "Used";
    /// Column: quota.
    col_quota: "配额", "Quota";
    /// Column: usage share.
    col_usage: "使用率", "Usage";
    /// No members.
    no_members: "没有符合条件的成员", "No members match";
    /// Previous page.
    prev_page: "上一页", "Previous";
    /// Next page.
    next_page: "下一页", "Next";
    /// The quota form's title.
    set_quota_title: "设置成员配额", "Set a member's quota";
    /// Member address field.
    member_field: "成员邮箱地址", "Member address";
    /// Quota field.
    mb_field: "配额（MB，0 为不限）", "Quota (MB, 0 for no limit)";
    /// Set button.
    set_quota: "设置配额", "Set quota";
    /// Back-to-default button.
    reset_quota: "恢复默认", "Back to default";
    /// After a quota change.
    quota_set: "配额已更新：", "Quota updated: ";
    /// A bad quota number.
    bad_mb: "配额应为 0 或不超过 1000000000 的整数（MB）", "A quota is 0 or a whole number of MB up to 1000000000";
    /// An unknown member.
    no_member: "本企业没有这个成员：", "No such member in this company: ";
    /// DKIM section title.
    dkim: "DKIM 签名", "DKIM signing";
    /// What DKIM keys do.
    dkim_intro: "为域名生成签名密钥后，新发出的邮件立即用它签名。请在域名的 DNS 中发布对应的 TXT 记录（点击记录值即可全选复制）。更换密钥：用新的选择器生成并发布记录，几天后再删除旧密钥。", "Once a domain has a key, new outgoing mail is signed with it at once. Publish its TXT record in the domain's DNS (click the value to select all of it). To replace a key: create one under a new selector, publish its record, and remove the old key a few days later.";
    /// No keys.
    dkim_none: "还没有 DKIM 密钥：外发邮件不签名。", "No DKIM keys yet: outgoing mail is not signed.";
    /// Column: domain.
    col_domain: "域名", "Domain";
    /// Column: selector.
    col_selector: "选择器", "Selector";
    /// Column: algorithm.
    col_algorithm: "算法", "Algorithm";
    /// Column: state.
    col_state: "状态", "State";
    /// Column: the DNS record.
    col_record: "DNS TXT 记录", "DNS TXT record";
    /// The record's name.
    record_name: "主机记录", "Name";
    /// The record's value.
    record_value: "记录值", "Value";
    /// A key that signs.
    signing: "签名中", "Signing";
    /// A key that no longer signs.
    retired: "已停用", "Retired";
    /// The create form's title.
    create_key_title: "生成密钥", "Create a key";
    /// Domain field.
    domain_field: "域名", "Domain";
    /// Selector field.
    selector_field: "选择器", "Selector";
    /// Algorithm field.
    algorithm_field: "算法", "Algorithm";
    /// RSA.
    rsa: "RSA 2048（所有收件方都能验证）", "RSA 2048 (verified everywhere)";
    /// Ed25519.
    ed25519: "Ed25519（较短，部分收件方尚不支持）", "Ed25519 (short, not yet verified everywhere)";
    /// Create button.
    create_key: "生成密钥", "Create key";
    /// After creating a key.
    key_created: "密钥已生成，新邮件开始用它签名。请发布它的 DNS 记录：", "The key was created and signs new mail now. Publish its DNS record:";
    /// After removing a key.
    key_removed: "密钥已删除：", "The key was removed: ";
    /// A key that does not exist.
    no_such_key: "没有这个密钥：", "No such key: ";
    /// A refused key.
    dkim_refused: "未能生成密钥：", "The key was not created: ";
    /// An unknown algorithm.
    bad_algorithm: "算法应为 RSA 或 Ed25519", "The algorithm is RSA or Ed25519";
    /// Spam section title.
    spam: "垃圾邮件阈值", "Spam thresholds";
    /// What the thresholds do.
    spam_intro: "外来邮件的 rspamd 评分达到“归入垃圾箱”的分数即进入垃圾箱，达到“拒收”的分数即被拒收。留空则使用服务器的设置。", "Mail from outside whose rspamd score reaches “To Junk” goes to Junk; at “Refuse” it is refused. Leave a field empty for the server's setting.";
    /// No rspamd.
    spam_off: "本服务器未配置 rspamd：这些阈值暂不生效。", "This server has no rspamd configured: the thresholds take no effect yet.";
    /// Junk field.
    junk_field: "归入垃圾箱（分）", "To Junk at score";
    /// Reject field.
    reject_field: "拒收（分）", "Refuse at score";
    /// The server's value.
    server_value: "服务器设置", "Server's";
    /// Save button.
    save: "保存", "Save";
    /// After saving the thresholds.
    spam_saved: "垃圾邮件阈值已保存。", "The spam thresholds were saved.";
    /// A bad score.
    bad_score: "分数应为数字，如 6 或 7.5", "A score is a number, such as 6 or 7.5";
    /// Junk not below reject.
    junk_over_reject: "“归入垃圾箱”的分数应低于“拒收”的分数", "“To Junk” must be below “Refuse”";
}
