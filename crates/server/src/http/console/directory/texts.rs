//! The directory pages' texts, in Simplified Chinese and English side by side, and the
//! directory's refusals (both APIs' codes) as sentences an admin can act on. The Chinese names
//! follow Exmail's own console (通讯录, 部门, 成员, 邮件组, 批量导入).

use crate::http::console::texts::texts;
use crate::http::i18n::Lang;
use bizmail_protocol::ErrorCode;
use bizmail_protocol::cgi::Code;

texts! {
    struct DirTexts;
    fn dt;
    /// Tab: the department tree.
    tab_tree: "部门", "Departments";
    /// Tab: members.
    tab_members: "成员", "Members";
    /// Tab: mail groups.
    tab_groups: "邮件组", "Mail groups";
    /// Tab: import.
    tab_import: "批量导入", "Import";
    /// Members in all.
    members_total: "成员总数", "Members in all";
    /// Members in no department.
    unplaced: "未分配部门的成员", "Members in no department";
    /// An empty tree.
    no_departments: "还没有部门。", "No departments yet.";
    /// What the two numbers after a department are.
    counts_note: "每个部门后的数字：直属成员 / 含下级部门的成员。", "After each department: members placed in it / in it and below.";
    /// New department form.
    new_department: "新建部门", "New department";
    /// Parent field.
    parent: "上级部门", "Parent department";
    /// The root as a choice.
    root: "（根部门）", "(the root)";
    /// Department name field.
    dept_name: "部门名称", "Department name";
    /// Create button.
    create: "创建", "Create";
    /// Rename form.
    rename_department: "重命名部门", "Rename a department";
    /// A department field.
    department: "部门", "Department";
    /// New name field.
    new_name: "新名称", "New name";
    /// Rename button.
    rename: "重命名", "Rename";
    /// Move form.
    move_department: "移动部门", "Move a department";
    /// New parent field.
    new_parent: "移到", "Move under";
    /// Move button.
    move_button: "移动", "Move";
    /// Delete form.
    delete_department: "删除部门", "Delete a department";
    /// What may be deleted.
    delete_dept_note: "只能删除没有成员和下级部门的部门。", "Only a department with no members and no sub-departments can be deleted.";
    /// Delete button.
    delete: "删除", "Delete";
    /// After creating a department.
    dept_created: "部门已创建。", "The department was created.";
    /// After renaming.
    dept_renamed: "部门已重命名。", "The department was renamed.";
    /// After moving.
    dept_moved: "部门已移动。", "The department was moved.";
    /// After deleting.
    dept_deleted: "部门已删除。", "The department was deleted.";
    /// A name with a slash.
    slash_in_name: "部门名称不能包含“/”。", "A department name cannot contain “/”.";
    /// Members list's search field.
    search: "搜索（地址、别名或姓名）", "Search (address, alias or name)";
    /// Any department.
    any_department: "全部部门", "All departments";
    /// No department.
    no_department: "未分配部门", "No department";
    /// Search button.
    filter: "查询", "Search";
    /// Column: address.
    address: "邮箱地址", "Address";
    /// Column and field: name.
    name: "姓名", "Name";
    /// Column: departments.
    departments: "部门", "Departments";
    /// Column and field: position.
    position: "职位", "Position";
    /// Column: state.
    state: "状态", "State";
    /// Active.
    enabled: "正常", "Active";
    /// Disabled.
    disabled: "已停用", "Disabled";
    /// No member matches.
    no_members: "没有符合条件的成员。", "No members match.";
    /// How many match.
    matching: "符合条件的成员：", "Matching members: ";
    /// Previous page.
    previous: "上一页", "Previous";
    /// Next page.
    next: "下一页", "Next";
    /// New member form.
    new_member: "添加成员", "New member";
    /// Password field of a new member.
    password_or_generate: "密码（留空则自动生成）", "Password (empty: generate one)";
    /// Mobile field.
    mobile: "手机", "Mobile";
    /// Telephone field.
    tel: "电话", "Telephone";
    /// External id field.
    ext_id: "编号", "Staff number";
    /// Gender field.
    gender: "性别", "Gender";
    /// Gender unset.
    gender_unset: "未设置", "Not set";
    /// Male.
    male: "男", "Male";
    /// Female.
    female: "女", "Female";
    /// After adding a member.
    member_created: "成员已添加。", "The member was added.";
    /// Before a password shown once.
    password_once: "密码（只显示这一次）：", "The password (shown only this once):";
    /// Back to the list.
    back_to_members: "返回成员列表", "Back to the members";
    /// Aliases.
    aliases: "别名", "Aliases";
    /// An empty list.
    none: "无", "None";
    /// Add-alias form.
    add_alias: "添加别名", "Add an alias";
    /// The alias rule.
    alias_rule: "最多 5 个，须在本企业的域名下。", "At most 5, in the company's domains.";
    /// After adding an alias.
    alias_added: "别名已添加。", "The alias was added.";
    /// After removing one.
    alias_removed: "别名已删除。", "The alias was removed.";
    /// Disable button.
    disable_member: "停用", "Disable";
    /// Enable button.
    enable_member: "启用", "Enable";
    /// After disabling.
    member_disabled: "成员已停用：不能登录，也不再收信。", "The member is disabled: no sign-in, no mail.";
    /// After enabling.
    member_enabled: "成员已启用。", "The member is enabled.";
    /// Edit form.
    edit_profile: "修改资料", "Edit the profile";
    /// Save button.
    save: "保存", "Save";
    /// What empty fields do.
    edit_note: "留空的字段保持不变（与接口 user/sync 相同）。", "Empty fields are left as they are (as user/sync does).";
    /// How to pick departments.
    departments_note: "可按住 Ctrl 选择多个部门；一个都不选则为未分配部门。", "Hold Ctrl to pick several; pick none for no department.";
    /// After saving.
    saved: "资料已保存。", "The profile was saved.";
    /// Reset password form.
    reset_password: "重置密码", "Reset the password";
    /// New password field.
    new_password: "新密码（留空则自动生成）", "New password (empty: generate one)";
    /// After resetting.
    password_reset: "密码已重置。", "The password was reset.";
    /// Password state.
    password: "密码", "Password";
    /// A password is set.
    has_password: "已设置", "Set";
    /// None is set.
    no_password: "未设置（只能通过单点登录进入）", "Not set (single sign-on only)";
    /// Second factor.
    second_factor: "二次验证", "Second factor";
    /// Forced.
    sf_forced: "已强制：密码登录须输入动态验证码", "Forced: password sign-ins need a code";
    /// Not forced.
    sf_not_forced: "未强制", "Not forced";
    /// Force button.
    force_on: "强制二次验证", "Force the second factor";
    /// Stop-forcing button.
    force_off: "取消强制", "Stop forcing it";
    /// After forcing.
    sf_on_notice: "已强制二次验证：该成员下次密码登录时须绑定并使用身份验证器。", "The second factor is forced: the member's next password sign-in enrols an authenticator.";
    /// After stopping.
    sf_off_notice: "已取消强制二次验证。", "The second factor is no longer forced.";
    /// Enrolled.
    enrolled: "已绑定身份验证器", "An authenticator is enrolled";
    /// Not enrolled.
    not_enrolled: "未绑定身份验证器", "No authenticator enrolled";
    /// Reset-authenticator button.
    reset_totp: "重置身份验证器", "Reset the authenticator";
    /// What resetting is for.
    reset_totp_note: "成员更换或丢失手机时使用：下次登录重新扫码绑定。", "For a lost or new phone: the next sign-in enrols again.";
    /// After resetting the authenticator.
    totp_reset: "身份验证器已重置。", "The authenticator was reset.";
    /// Nothing to reset.
    totp_none: "该成员没有绑定身份验证器。", "The member has no authenticator enrolled.";
    /// Delete member form.
    delete_member: "删除成员", "Delete the member";
    /// What deleting does.
    delete_member_note: "成员的邮件会一并删除，无法恢复。", "Their mail is deleted with them, for good.";
    /// Confirmation checkbox.
    confirm_delete: "确认删除", "I am sure";
    /// After deleting a member.
    member_deleted: "成员已删除。", "The member was deleted.";
    /// New group form.
    new_group: "新建邮件组", "New mail group";
    /// Group address field.
    group_address: "邮件组地址", "Group address";
    /// Group name field.
    group_name: "名称", "Name";
    /// Who may write.
    group_status: "发信权限", "Who may write";
    /// Anyone.
    status_all: "所有人", "Anyone";
    /// The company.
    status_inner: "本企业成员", "The company's members";
    /// The group's members.
    status_group: "组内成员", "The group's members";
    /// The allow list.
    status_list: "指定人员（白名单）", "The allow list";
    /// Members field.
    members_field: "成员地址（用逗号、空格或换行分隔；可含邮件组）", "Member addresses (separated by commas, spaces or lines; groups allowed)";
    /// Allow list field.
    allow_field: "白名单地址（发信权限为“指定人员”时使用）", "Allow-list addresses (for “the allow list”)";
    /// Column: entries.
    entries: "成员数", "Entries";
    /// No groups.
    no_groups: "还没有邮件组。", "No mail groups yet.";
    /// After creating a group.
    group_created: "邮件组已创建。", "The mail group was created.";
    /// After saving a group.
    group_saved: "邮件组已保存。", "The mail group was saved.";
    /// After deleting a group.
    group_deleted: "邮件组已删除。", "The mail group was deleted.";
    /// After adding members.
    members_added: "成员已添加。", "The members were added.";
    /// After removing an entry.
    entry_removed: "已移除。", "Removed.";
    /// After changing departments.
    departments_saved: "部门已更新。", "The departments were updated.";
    /// Back to the groups.
    back_to_groups: "返回邮件组列表", "Back to the mail groups";
    /// People in a group.
    people: "成员", "People";
    /// Nested groups.
    nested_groups: "子邮件组", "Nested groups";
    /// What a department in a group means.
    group_dept_note: "部门代表其中及所有下级部门的成员。", "A department stands for everyone in it and below.";
    /// Add members form.
    add_members: "添加成员", "Add members";
    /// Add department button.
    add_department: "添加部门", "Add a department";
    /// Allow list.
    allow_list: "白名单", "Allow list";
    /// When the allow list applies.
    allow_note: "只有发信权限为“指定人员”的邮件组使用白名单；要改为“指定人员”，请同时填写白名单。", "Only a group written to by “the allow list” uses it; to switch to it, give the list at the same time.";
    /// Add to the allow list.
    allow_add: "加入白名单", "Allow";
    /// After changing the allow list.
    allow_saved: "白名单已更新。", "The allow list was updated.";
    /// Remove button.
    remove: "移除", "Remove";
    /// Delete group form.
    delete_group: "删除邮件组", "Delete the mail group";
    /// Import page's intro.
    import_intro: "上传 CSV 文件，按与 bizmail import 相同的格式和规则导入成员：已存在的地址修改，新地址添加；缺少的部门自动创建。每行的校验与接口 user/sync 相同，出错的行会列出原因，其余行照常导入。同一文件重复导入不会产生变化。", "Upload a CSV file to load members by the format and rules of bizmail import: an address that exists is modified, a new one added; missing departments are created. Each row is checked like a user/sync call; refused rows are listed with their reason and the others still load. Loading the same file again changes nothing.";
    /// Column list's title.
    columns: "列（第一行为列名，顺序和大小写不限）", "Columns (the first line names them, any order and case)";
    /// alias column.
    col_alias: "成员的邮箱地址（必填）", "the member's address (required)";
    /// name column.
    col_name: "姓名（新成员必填）", "display name (required for new members)";
    /// departments column.
    col_departments: "部门路径，多个用“;”分隔，如 研发/后台;运营（留空为根部门）", "department paths separated by “;”, e.g. IT/Backend;Ops (empty: the root)";
    /// aliases column.
    col_aliases: "别名，多个用“;”分隔（最多 5 个）", "aliases separated by “;” (at most 5)";
    /// Free-text columns.
    col_text: "文本，各最多 64 个字符", "free text, at most 64 characters each";
    /// gender column.
    col_gender: "空或 0（未设置）、1（男）、2（女）", "empty or 0 (not set), 1 (male), 2 (female)";
    /// password column.
    col_password: "6–32 个字符的密码，只用于新成员（无密码的成员只能单点登录）", "a password of 6–32 characters, for new members only (without one, single sign-on only)";
    /// md5 column.
    col_md5: "或密码的小写十六进制 MD5（同 user/sync 的 Md5=1）", "or the lower-case hex MD5 of one (as user/sync's Md5=1)";
    /// The limits.
    import_limits: "文件须为 UTF-8 编码（Excel：另存为“CSV UTF-8”），最大 4 MB、20000 行；每个企业同时只能进行一个导入，结果保留 10 分钟。", "The file must be UTF-8 (Excel: save as “CSV UTF-8”), at most 4 MB and 20,000 rows; one import runs at a time per company and its result is kept for 10 minutes.";
    /// File field.
    file: "CSV 文件", "CSV file";
    /// Start button.
    start_import: "开始导入", "Start the import";
    /// Running.
    import_running: "正在导入……", "Importing…";
    /// Rows done.
    rows_done: "已处理行数", "Rows done";
    /// Done.
    import_done: "导入完成", "Import done";
    /// Failed midway.
    import_failed: "导入中断：服务暂时不可用。已处理的行保留，可重新上传同一文件继续。", "The import stopped: the service is unavailable. Rows done are kept; upload the same file again to go on.";
    /// The file's name.
    file_name: "文件", "File";
    /// Added.
    added: "新增", "Added";
    /// Changed.
    changed: "修改", "Changed";
    /// Unchanged.
    unchanged: "未变", "Unchanged";
    /// Refused.
    refused: "失败", "Refused";
    /// Column: line.
    line: "行号", "Line";
    /// Column: reason.
    reason: "原因", "Reason";
    /// Every row loaded.
    all_loaded: "全部行均已导入。", "Every row loaded.";
    /// One at a time.
    import_busy: "已有一个导入正在进行，请等它完成。", "An import is running already; wait for it to finish.";
    /// Link to a job.
    see_progress: "查看进度", "See its progress";
    /// The latest import.
    latest_import: "最近一次导入", "The latest import";
    /// Not UTF-8.
    csv_not_utf8: "文件不是 UTF-8 编码。请在 Excel 中另存为“CSV UTF-8”后再上传。", "The file is not UTF-8. Save it as “CSV UTF-8” in Excel and upload it again.";
    /// Malformed.
    csv_malformed: "CSV 格式错误：", "The CSV is malformed: ";
    /// Unknown column.
    csv_unknown_column: "未知的列：", "Unknown column: ";
    /// No alias column.
    csv_no_alias: "文件需要 alias 列。", "The file needs an alias column.";
    /// No rows.
    csv_empty: "文件没有数据行。", "The file has no rows.";
    /// Too many rows.
    csv_too_many: "行数超过上限（20000 行）。", "More than 20,000 rows.";
    /// Too big.
    csv_too_big: "文件过大（最大 4 MB）。", "The file is too big (4 MB at most).";
    /// No file.
    no_file: "请选择一个 CSV 文件。", "Choose a CSV file.";
    /// A job that is gone.
    import_gone: "没有这个导入（结果只保留 10 分钟）。", "No such import (results are kept for 10 minutes).";
    /// Not found: member.
    no_such_member: "本企业没有这个成员。", "No such member in this company.";
    /// Not found: group.
    no_such_group: "本企业没有这个邮件组。", "No such mail group in this company.";
    /// Code prefix.
    code: "错误码", "code";
}

/// A refusal of the directory's rules as a sentence, with its code.
pub fn refusal(lang: Lang, code: ErrorCode) -> String {
    format!(
        "{} ({} {})",
        sentence(lang, code),
        dt(lang).code,
        code.code()
    )
}

/// What a refusal of the directory's rules means, in `lang`.
fn sentence(lang: Lang, code: ErrorCode) -> &'static str {
    let zh = lang == Lang::Zh;
    let pick = |z: &'static str, e: &'static str| if zh { z } else { e };
    match code {
        ErrorCode::InvalidRequest => pick(
            "请求不完整或有误（如缺少必填项）。",
            "The request is incomplete or wrong (a required field is missing?).",
        ),
        ErrorCode::UserNotFound => pick("没有这个成员或地址。", "No such member or address."),
        ErrorCode::InvalidAlias => pick(
            "不是本企业域名下的有效邮箱地址。",
            "Not a valid address in the company's domains.",
        ),
        ErrorCode::InvalidPassword => pick(
            "密码须为 6–32 个字符。",
            "A password has 6 to 32 characters.",
        ),
        ErrorCode::AliasExists => pick(
            "该地址已被成员、别名或邮件组占用。",
            "The address is taken by a member, an alias or a group.",
        ),
        ErrorCode::TooManySlaves => pick("别名最多 5 个。", "At most 5 aliases."),
        ErrorCode::InvalidField => pick(
            "有字段过长（最多 64 个字符）或取值无效。",
            "A field is too long (64 characters at most) or out of range.",
        ),
        ErrorCode::PartyNotFound => pick("没有这个部门。", "No such department."),
        ErrorCode::InvalidPartyPath => pick(
            "部门名称为空或过长（最多 64 个字符），或层级超过 5 级。",
            "A department name is empty or too long (64 characters at most), or deeper than 5 levels.",
        ),
        ErrorCode::PartyNotEmpty => pick(
            "部门中还有成员或下级部门。",
            "The department still has members or sub-departments.",
        ),
        ErrorCode::PartyExists => pick(
            "目标位置已有同名部门，或不能移到它自己的下级。",
            "A department of that name is there already, or it would move into itself.",
        ),
        ErrorCode::GroupNotFound => pick("没有这个邮件组。", "No such mail group."),
        ErrorCode::InvalidGroupStatus => pick("发信权限无效。", "Not a valid sending permission."),
        ErrorCode::AllowlistNotAllowed => pick(
            "只有发信权限为“指定人员”的邮件组才有白名单。",
            "Only a group written to by “the allow list” has one.",
        ),
        ErrorCode::AllowlistCannotBeEmpty => {
            pick("白名单不能为空。", "The allow list cannot be empty.")
        }
        ErrorCode::GroupCycle => pick(
            "邮件组不能（直接或间接）包含它自己。",
            "A group cannot contain itself, directly or deeper.",
        ),
        other => other.name(),
    }
}

/// A refusal of the newer API's rules (the console uses its `user/update` and `group/update`
/// where the old API has no verb): the old code of the same meaning when there is one.
pub fn cgi_refusal(lang: Lang, code: Code) -> String {
    let same = match code {
        Code::InvalidSlave | Code::InvalidAllowUserlist | Code::InvalidGroupid => {
            Some(ErrorCode::InvalidAlias)
        }
        Code::InvalidGroupUserlist | Code::InvalidUserid => Some(ErrorCode::InvalidAlias),
        Code::SlaveTaken | Code::GroupidTaken | Code::GroupExists => Some(ErrorCode::AliasExists),
        Code::TooManySlaves => Some(ErrorCode::TooManySlaves),
        Code::GroupNotFound | Code::GroupGroupNotFound => Some(ErrorCode::GroupNotFound),
        Code::GroupUserNotFound | Code::UseridNotFound => Some(ErrorCode::UserNotFound),
        Code::GroupPartyNotFound | Code::InvalidPartylist => Some(ErrorCode::PartyNotFound),
        Code::GroupCycle | Code::GroupTooDeep => Some(ErrorCode::GroupCycle),
        Code::AllowUserlistMissing => Some(ErrorCode::AllowlistCannotBeEmpty),
        Code::InvalidGroupname | Code::InvalidName => Some(ErrorCode::InvalidField),
        _ => None,
    };
    match same {
        Some(c) => format!(
            "{} ({} {})",
            sentence(lang, c),
            dt(lang).code,
            code.number()
        ),
        None => format!("{} ({} {})", code.errmsg(), dt(lang).code, code.number()),
    }
}
