//! The texts of the sandbox page (沙箱), in Simplified Chinese and English.

crate::http::console::texts::texts! {
    struct SandboxTexts;
    fn st;
    /// The navigation item and the page's title.
    nav: "沙箱", "Sandbox";
    /// What the page is about.
    intro: "这个企业是测试用的沙箱：可以让接口按计划出错、调快时钟，并记录每一次接口调用。正式使用的企业不会受影响。", "This tenant is a sandbox for testing: its API calls can be made to fail on a plan, its clock moved ahead, and every exchange is recorded. Tenants in real use are never touched.";
    /// The guide.
    guide: "集成测试指南：docs/SANDBOX.md", "The testing guide: docs/SANDBOX.md";
    /// The clock section.
    clock: "时钟", "Clock";
    /// The clock's state.
    clock_ahead: "比真实时间快", "Ahead of the real clock by";
    /// The shift field.
    shift: "调快（如 +2h、+1d12h，0 为恢复真实时间）", "Move ahead (e.g. +2h, +1d12h; 0 for the real clock)";
    /// The shift button.
    move_clock: "调整时钟", "Move the clock";
    /// The faults section.
    faults: "故障计划", "Fault plan";
    /// No faults.
    no_faults: "当前没有故障。", "No faults now.";
    /// The plan's field.
    plan_json: "计划（JSON，格式见指南第 6 节）", "Plan (JSON, as in section 6 of the guide)";
    /// Save the plan.
    save: "保存计划", "Save the plan";
    /// Clear the plan.
    clear: "清除故障", "Clear the faults";
    /// The record section.
    record: "调用记录", "Record of exchanges";
    /// The client filter.
    client: "客户端", "Client";
    /// Any client.
    any_client: "全部", "All";
    /// Show the filtered record.
    show: "显示", "Show";
    /// Download as HAR.
    har: "下载 HAR 文件", "Download as HAR";
    /// Forget the record.
    clear_record: "清空记录", "Clear the record";
    /// No exchanges.
    no_exchanges: "还没有记录。", "Nothing recorded yet.";
    /// Column: time.
    col_time: "时间（UTC）", "Time (UTC)";
    /// Column: request.
    col_request: "请求", "Request";
    /// Column: status.
    col_status: "状态", "Status";
    /// Column: duration.
    col_duration: "耗时", "Duration";
    /// Column: fault.
    col_fault: "注入的故障", "Injected fault";
    /// Request details.
    request_body: "请求内容", "Request body";
    /// Response details.
    response_body: "响应内容", "Response body";
    /// The plan was saved.
    saved: "故障计划已保存，下一次调用起生效。", "The fault plan is saved; it applies from the next call.";
    /// The faults were cleared.
    cleared: "故障已清除。", "The faults are cleared.";
    /// The clock moved.
    moved: "时钟已调整。", "The clock is moved.";
    /// The record was cleared.
    record_cleared: "记录已清空。", "The record is cleared.";
    /// Not a sandbox.
    not_sandbox: "这个企业不是沙箱。运维人员可以用 bizmail sandbox mark 把测试用的企业标记为沙箱。", "This tenant is not a sandbox. An operator can mark a test tenant with bizmail sandbox mark.";
}
