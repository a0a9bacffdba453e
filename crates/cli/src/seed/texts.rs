//! What the seeded mails say: weekly reports, meeting notices, expense approvals, project
//! progress, leave requests, interviews, bug reports with a screenshot, notices to everyone —
//! each with its sender, recipients, subject, body and attachments (mail from outside the
//! company is `outside.rs`). The MIME is `mails.rs`'s job; these texts use only characters GBK
//! has, so any of them can be sent in GBK.

use super::company::Company;
use super::outside::{Outside, outside};
use super::rng::Rng;

/// A sender or recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The display name.
    pub name: String,
    /// The address.
    pub address: String,
}

/// An attachment's content.
#[derive(Debug, Clone)]
pub enum Content {
    /// A CSV table (sent in the mail's charset).
    Csv(String),
    /// A plain text file (sent in the mail's charset).
    Text(String),
    /// A PNG picture.
    Png(Vec<u8>),
}

/// An attachment.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// Its file name.
    pub filename: String,
    /// What it holds.
    pub content: Content,
}

/// A mail before it is MIME.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The sender.
    pub from: Party,
    /// The recipients (a member, or a group holding them).
    pub to: Vec<Party>,
    /// Copies.
    pub cc: Vec<Party>,
    /// The subject.
    pub subject: String,
    /// The text, lines ending in `\n`.
    pub body: String,
    /// Its attachments.
    pub attachments: Vec<Attachment>,
    /// Whether it comes from outside the company (such mail is more often GBK).
    pub external: bool,
}

/// The day a mail is written, in China's time.
#[derive(Debug, Clone, Copy)]
pub struct Day {
    /// The year.
    pub year: i64,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    /// The week of the year, 1–53.
    pub week: u32,
}

pub(super) const PROJECTS: &[&str] = &[
    "智慧园区平台",
    "新版官网",
    "客户管理系统升级",
    "移动办公App",
    "数据中台",
    "供应链协同平台",
    "会员积分系统",
    "财务共享中心",
];
const MEETINGS: &[&str] = &[
    "季度经营分析会",
    "产品需求评审会",
    "项目启动会",
    "信息安全培训",
    "部门月度例会",
    "年度预算沟通会",
    "客户满意度复盘会",
    "跨部门协调会",
];
const ROOMS: &[&str] = &[
    "3楼大会议室",
    "5楼小会议室（501）",
    "8楼培训室",
    "线上腾讯会议",
    "2楼洽谈室",
];
/// The holiday coming up in each month (January first).
const HOLIDAYS: [&str; 12] = [
    "春节",
    "清明节",
    "清明节",
    "劳动节",
    "端午节",
    "端午节",
    "中秋节",
    "中秋节",
    "国庆节",
    "元旦",
    "元旦",
    "元旦",
];
const NOTICES: &[(&str, &str)] = &[
    (
        "办公区空调检修通知",
        "本周六上午物业将检修办公区空调，届时请勿在办公区加班，给大家带来不便敬请谅解。",
    ),
    (
        "本月员工生日会通知",
        "本月生日会定于周五下午四点在8楼培训室举行，欢迎大家参加，现场有蛋糕和小礼品。",
    ),
    (
        "关于规范差旅报销流程的通知",
        "自下月起，差旅报销须在出差结束后十个工作日内提交，逾期将不予受理。",
    ),
    (
        "消防安全演练通知",
        "下周三上午十点进行消防疏散演练，听到警报后请按疏散路线有序撤离到楼下广场。",
    ),
];
const WEEKDAYS: &[&str] = &["一", "二", "三", "四", "五", "六", "日"];

/// What a department's people write about in a weekly report.
fn tasks(path: &str) -> &'static [&'static str] {
    match path.split('/').next().unwrap_or("") {
        "研发中心" => &[
            "完成订单模块接口的重构与联调",
            "修复线上反馈的登录超时问题",
            "完成单元测试补充，覆盖率提升到百分之七十五",
            "参与新需求的技术方案评审",
            "优化首页加载速度，平均耗时下降三成",
            "整理部署文档并更新到知识库",
        ],
        "市场部" | "销售部" => &[
            "拜访重点客户三家，收集采购意向",
            "完成季度市场活动方案初稿",
            "跟进两份合同的商务条款",
            "整理本月销售线索并录入客户管理系统",
            "配合完成展会物料的设计与制作",
        ],
        "财务部" => &[
            "完成上月费用报销的审核与入账",
            "编制部门预算执行情况表",
            "核对供应商对账单并安排付款",
            "准备季度纳税申报资料",
        ],
        "人力资源部" => &[
            "完成五个岗位的简历筛选与初面",
            "组织新员工入职培训",
            "核算本月考勤与绩效数据",
            "更新员工手册中的休假制度",
        ],
        _ => &[
            "完成办公用品的盘点与采购",
            "协调会议室与来访接待安排",
            "整理合同档案并归档",
            "跟进办公区域的维修事项",
        ],
    }
}

impl Company {
    /// A member as a party.
    pub fn party(&self, member: usize) -> Party {
        let m = &self.members[member];
        Party {
            name: m.name.chinese.clone(),
            address: m.address.clone(),
        }
    }

    /// A member's signature.
    fn signature(&self, member: usize) -> String {
        let m = &self.members[member];
        let dept = self.departments[m.department].name();
        format!(
            "\n--\n{}\n{} | {} | {}\n手机：{}\n",
            m.name.chinese, self.name, dept, m.position, m.mobile
        )
    }

    /// Someone under the department `path` (`""`, or a department without people: anyone),
    /// not `not`.
    fn someone(&self, rng: &mut Rng, path: &str, not: usize) -> usize {
        let mut pool: Vec<usize> = self.members_under(path);
        pool.retain(|m| *m != not);
        if pool.is_empty() {
            pool = (0..self.members.len()).filter(|m| *m != not).collect();
        }
        if pool.is_empty() {
            return not;
        }
        *rng.pick(&pool)
    }

    /// The group of `local` as a party.
    fn group_party(&self, local: &str) -> Party {
        let name = self
            .groups
            .iter()
            .find(|g| g.local == local)
            .map_or(local, |g| g.name);
        Party {
            name: name.to_owned(),
            address: format!("{local}@{}", self.domain),
        }
    }

    /// A mail for `to` written on `day`.
    pub fn compose(&self, rng: &mut Rng, to: usize, day: &Day) -> Draft {
        let top = self.departments[self.members[to].department]
            .path
            .split('/')
            .next()
            .unwrap_or("");
        // What arrives depends on where the recipient works.
        let w = |base: u32, fits: bool| if fits { base } else { 0 };
        let weights = [
            16,                                              // weekly report
            14,                                              // meeting
            w(10, top == "财务部" || self.members[to].head), // expense
            w(14, top == "研发中心"),                        // project
            6,                                               // leave
            w(12, top == "市场部" || top == "销售部"),       // inquiry
            w(12, top == "财务部"),                          // statement
            w(6, top != "研发中心"),                         // contract
            7,                                               // notice to everyone
            w(8, top == "研发中心"),                         // IT notice
            w(8, top == "人力资源部"),                       // interview
            w(8, top == "研发中心"),                         // bug report
        ];
        let day_text = format!("{}月{}日", day.month, day.day);
        match rng.weighted(&weights) {
            0 => self.weekly(rng, to, day),
            1 => self.meeting(rng, to, &day_text),
            2 => self.expense(rng, to, day),
            3 => self.project(rng, to, day),
            4 => self.leave(rng, to, &day_text),
            5 => outside(self, rng, to, Outside::Inquiry),
            // Last month's statement.
            6 => outside(self, rng, to, Outside::Statement((day.month + 10) % 12 + 1)),
            7 => outside(self, rng, to, Outside::Contract),
            8 => self.notice(rng, to, day.month),
            9 => self.it_notice(rng, to),
            10 => self.interview(rng, to, &day_text),
            _ => self.bug_report(rng, to),
        }
    }

    fn internal(&self, from: usize, to: Vec<Party>, subject: String, body: String) -> Draft {
        Draft {
            from: self.party(from),
            to,
            cc: Vec::new(),
            subject,
            body: body + &self.signature(from),
            attachments: Vec::new(),
            external: false,
        }
    }

    fn weekly(&self, rng: &mut Rng, to: usize, day: &Day) -> Draft {
        let reports: Vec<usize> = (0..self.members.len())
            .filter(|m| *m != to && self.manager_of(*m) == Some(to))
            .collect();
        let from = if reports.is_empty() {
            let path = self.departments[self.members[to].department].path;
            self.someone(rng, path, to)
        } else {
            *rng.pick(&reports)
        };
        let list = tasks(self.departments[self.members[from].department].path);
        let mut done = String::new();
        for (n, t) in (1..).zip(pick_distinct(rng, list, 3)) {
            done.push_str(&format!("{n}. {t}\n"));
        }
        let plan = pick_distinct(rng, list, 2);
        let body = format!(
            "{}，您好：\n\n以下是我第{}周的工作总结，请查阅。\n\n一、本周完成\n{done}\n二、下周计划\n1. {}\n2. {}\n\n三、需要协调的问题\n暂无。\n",
            self.members[to].name.chinese, day.week, plan[0], plan[1]
        );
        let subject = format!(
            "【周报】{} 第{}周工作周报",
            self.members[from].name.chinese, day.week
        );
        let mut d = self.internal(from, vec![self.party(to)], subject, body);
        if let Some(boss) = self.manager_of(to).filter(|b| *b != from) {
            d.cc.push(self.party(boss));
        }
        d
    }

    fn meeting(&self, rng: &mut Rng, to: usize, day: &str) -> Draft {
        let from = self
            .manager_of(to)
            .unwrap_or_else(|| self.someone(rng, "总经办", to));
        let topic = rng.pick(MEETINGS);
        let room = rng.pick(ROOMS);
        let (hour, minute) = (9 + rng.range(0, 8), *rng.pick(&[0, 30]));
        let room_line = if room.starts_with("线上") {
            format!(
                "{room}（会议号：{}-{}-{}）",
                rng.range(100, 999),
                rng.range(100, 999),
                rng.range(100, 999)
            )
        } else {
            (*room).to_owned()
        };
        let body = format!(
            "各位好：\n\n定于{day} {hour}:{minute:02}召开{topic}，具体安排如下：\n\n时间：{day} {hour}:{minute:02}—{}:{minute:02}\n地点：{room_line}\n议程：\n1. 上阶段工作回顾\n2. 重点问题讨论\n3. 下阶段工作安排\n\n请准时参加，如不能出席请提前告知。\n",
            hour + 1
        );
        let subject = format!("会议通知：{topic}（{day} {hour}:{minute:02}）");
        let to_party = if rng.chance(30) && self.members_under("研发中心").contains(&to) {
            self.group_party("rd")
        } else {
            self.party(to)
        };
        self.internal(from, vec![to_party], subject, body)
    }

    fn expense(&self, rng: &mut Rng, to: usize, day: &Day) -> Draft {
        let applicant = self.someone(rng, "", to);
        let from = self.someone(rng, "财务部", applicant);
        let trips = [
            ("高铁票 上海—杭州", 73),
            ("高铁票 北京—上海", 553),
            ("机票 深圳—北京", 1280),
            ("酒店住宿（两晚）", 760),
            ("出租车费", 86),
            ("客户招待餐费", 420),
        ];
        let mut csv = String::from("日期,项目,金额（元）,备注\n");
        let mut total = 0;
        for (n, (item, amount)) in pick_distinct(rng, &trips, 3).into_iter().enumerate() {
            let d = day
                .day
                .saturating_sub(u32::try_from(3 - n).unwrap_or(0))
                .max(1);
            csv.push_str(&format!(
                "{}-{:02}-{d:02},{item},{amount}.00,\n",
                day.year, day.month
            ));
            total += amount;
        }
        csv.push_str(&format!("合计,,{total}.00,\n"));
        let name = &self.members[applicant].name.chinese;
        let subject = format!("报销审批：{name} {}月差旅费报销（{total}元）", day.month);
        let body = format!(
            "{}，您好：\n\n{name}提交了{}月差旅费报销申请，合计{total}元，明细见附件。\n财务已完成票据初审，请您审批。审批通过后将在本周五统一付款。\n\n谢谢！\n",
            self.members[to].name.chinese, day.month
        );
        let mut d = self.internal(from, vec![self.party(to)], subject, body);
        if rng.chance(60) {
            d.attachments.push(Attachment {
                filename: "报销明细.csv".into(),
                content: Content::Csv(csv),
            });
        }
        d
    }

    fn project(&self, rng: &mut Rng, to: usize, day: &Day) -> Draft {
        let from = self.someone(rng, "研发中心", to);
        let project = rng.pick(PROJECTS);
        let percent = rng.range(20, 95);
        let body = format!(
            "各位好：\n\n{project}第{}周进展如下：\n\n1. 整体进度：{percent}%，与计划基本一致。\n2. 本周完成：{}；{}。\n3. 风险：测试环境资源紧张，可能影响下周的联调，已申请扩容。\n4. 下周重点：完成剩余功能开发并提交测试。\n\n详细说明见附件，如有问题请随时联系。\n",
            day.week,
            rng.pick(tasks("研发中心")),
            rng.pick(tasks("研发中心"))
        );
        let subject = format!("【项目进度】{project} 第{}周进展", day.week);
        let mut d = self.internal(from, vec![self.party(to)], subject, body);
        if rng.chance(35) {
            let text = format!(
                "{project} 进度说明\n\n完成度：{percent}%\n负责人：{}\n\n已完成：需求评审、技术方案、核心接口开发\n进行中：前端页面联调、性能测试\n待开始：上线演练\n",
                self.members[from].name.chinese
            );
            d.attachments.push(Attachment {
                filename: "进度说明.txt".into(),
                content: Content::Text(text),
            });
        } else if rng.chance(30) {
            d.attachments.push(Attachment {
                filename: "看板截图.png".into(),
                content: Content::Png(super::mails::screenshot(rng)),
            });
        }
        d
    }

    fn leave(&self, rng: &mut Rng, to: usize, day: &str) -> Draft {
        let path = self.departments[self.members[to].department].path;
        let from = self.someone(rng, path, to);
        let days = rng.range(1, 5);
        let kind = rng.pick(&["年假", "事假", "调休"]);
        let name = &self.members[from].name.chinese;
        let subject = format!("请假申请：{name} {days}天{kind}（{day}起）");
        let body = format!(
            "{}，您好：\n\n因个人原因，我想申请自{day}起休{kind}{days}天。请假期间的工作已与同事交接好，紧急事项可电话联系我。\n\n请批准，谢谢！\n",
            self.members[to].name.chinese
        );
        self.internal(from, vec![self.party(to)], subject, body)
    }

    fn notice(&self, rng: &mut Rng, to: usize, month: u32) -> Draft {
        let from = self.someone(rng, "行政部", to);
        let (subject, text) = if rng.chance(25) {
            let holiday = HOLIDAYS[usize::try_from(month.clamp(1, 12) - 1).unwrap_or(0)];
            (
                format!("关于{holiday}放假安排的通知"),
                format!(
                    "{holiday}放假安排已确定，请各部门提前做好工作安排，假期前请关好门窗、切断电源。"
                ),
            )
        } else {
            let (s, t) = rng.pick(NOTICES);
            ((*s).to_owned(), (*t).to_owned())
        };
        let body = format!(
            "全体同事：\n\n{text}\n\n特此通知。\n\n{}行政部\n",
            self.name
        );
        self.internal(from, vec![self.group_party("all")], subject, body)
    }

    fn it_notice(&self, rng: &mut Rng, to: usize) -> Draft {
        let from = self.someone(rng, "研发中心/基础平台部/运维组", to);
        let weekday = rng.pick(&WEEKDAYS[..5]);
        let subject = format!("【IT通知】本周{weekday}晚间系统维护");
        let body = format!(
            "各位同事：\n\n为提升系统稳定性，运维组将于本周{weekday}晚22:00至次日02:00进行服务器维护，期间代码仓库、持续集成和测试环境将暂停服务。\n\n请提前保存好工作，给大家带来不便，敬请谅解。\n"
        );
        self.internal(from, vec![self.group_party("rd")], subject, body)
    }

    fn interview(&self, rng: &mut Rng, to: usize, day: &str) -> Draft {
        let from = self.someone(rng, "人力资源部/招聘组", to);
        let position = rng.pick(&[
            "后端开发工程师",
            "产品经理",
            "会计",
            "市场专员",
            "测试工程师",
        ]);
        let candidate = super::names::Name::draw(rng).chinese;
        let hour = rng.range(10, 17);
        let subject = format!("面试安排：{position}候选人 {candidate}");
        let body = format!(
            "{}，您好：\n\n{position}岗位候选人{candidate}的复试安排在{day} {hour}:00，地点5楼小会议室（501），预计一小时。\n候选人简历摘要见附件，请提前查阅，面试后请在系统中填写评价。\n",
            self.members[to].name.chinese
        );
        let mut d = self.internal(from, vec![self.party(to)], subject, body);
        d.attachments.push(Attachment {
            filename: format!("{candidate}-简历摘要.txt"),
            content: Content::Text(format!(
                "姓名：{candidate}\n应聘岗位：{position}\n工作年限：{}年\n期望薪资：面议\n",
                rng.range(2, 10)
            )),
        });
        d
    }

    fn bug_report(&self, rng: &mut Rng, to: usize) -> Draft {
        let from = self.someone(rng, "研发中心/产品研发部/测试组", to);
        let project = rng.pick(PROJECTS);
        let subject = format!("问题反馈：{project}列表页显示异常（附截图）");
        let body = format!(
            "你好：\n\n在测试环境验证{project}时发现，列表页翻到第二页后数据重复显示，复现步骤：\n1. 登录测试账号\n2. 进入列表页并翻到第二页\n3. 观察第一条数据\n\n截图见附件，麻烦尽快看一下，谢谢。\n"
        );
        let mut d = self.internal(from, vec![self.party(to)], subject, body);
        d.attachments.push(Attachment {
            filename: "截图.png".into(),
            content: Content::Png(super::mails::screenshot(rng)),
        });
        d
    }
}

/// `n` different items of `list` (fewer when it is shorter), in the list's order.
pub(super) fn pick_distinct<T: Copy>(rng: &mut Rng, list: &[T], n: usize) -> Vec<T> {
    let mut idx: Vec<usize> = (0..list.len()).collect();
    let mut out = Vec::new();
    while out.len() < n && !idx.is_empty() {
        out.push(idx.remove(rng.below(idx.len())));
    }
    out.sort_unstable();
    out.into_iter().map(|i| list[i]).collect()
}
