//! Mail from outside the company: customers asking for prices, suppliers sending their monthly
//! statement (with a CSV), partners commenting on a contract. Their senders live under `.example`
//! domains, so a reply to a seeded mail never leaves for a real company.

use super::company::Company;
use super::rng::Rng;
use super::texts::{Attachment, Content, Draft, PROJECTS, Party};

/// Customers and suppliers: a person, their company, and its domain (`.example`: a reply to a
/// seeded mail never leaves for a real company).
const OUTSIDE: &[(&str, &str, &str, &str)] = &[
    (
        "刘建国",
        "liujianguo",
        "宏达贸易有限公司",
        "hongda-trade.example",
    ),
    ("孙莉", "sunli", "宏达贸易有限公司", "hongda-trade.example"),
    (
        "赵凯",
        "zhaokai",
        "中信达物流有限公司",
        "zxd-logistics.example",
    ),
    ("周雅", "zhouya", "蓝海广告传媒", "lanhai-media.example"),
    (
        "吴海涛",
        "wuhaitao",
        "金鼎会计师事务所",
        "jinding-cpa.example",
    ),
    (
        "郑晓东",
        "zhengxiaodong",
        "天成电子科技",
        "tiancheng-tech.example",
    ),
    (
        "黄敏",
        "huangmin",
        "恒通办公用品",
        "hengtong-office.example",
    ),
    (
        "林峰",
        "linfeng",
        "远景管理咨询",
        "yuanjing-consult.example",
    ),
];

const PRODUCTS: &[&str] = &[
    "企业邮箱年度服务",
    "服务器扩容方案",
    "办公电脑（50台）",
    "数据备份一体机",
    "会议室视频终端",
];
/// What comes from outside.
pub(super) enum Outside {
    /// A customer asks for a price.
    Inquiry,
    /// A supplier's statement of a month, with a CSV.
    Statement(u32),
    /// A partner comments on a contract.
    Contract,
}

/// A mail from outside the company to member `to`.
pub(super) fn outside(c: &Company, rng: &mut Rng, to: usize, what: Outside) -> Draft {
    let (name, local, company, domain) = *rng.pick(OUTSIDE);
    let from = Party {
        name: name.to_owned(),
        address: format!("{local}@{domain}"),
    };
    let who = &c.members[to].name.chinese;
    let sign = format!(
        "\n--\n{name}\n{company}\n电话：0{}-{}\n",
        rng.range(10, 29),
        rng.range(60_000_000, 89_999_999)
    );
    let mut attachments = Vec::new();
    let (subject, body) = match what {
        Outside::Inquiry => {
            let product = rng.pick(PRODUCTS);
            (
                format!("询价：{product}采购需求"),
                format!(
                    "{who}，您好：\n\n我司近期计划采购{product}，想请贵公司提供报价及交付周期，如有产品资料也请一并发来。\n我们希望在本月底前确定供应商，期待您的回复。\n"
                ),
            )
        }
        Outside::Statement(month) => {
            let mut csv = String::from("单号,日期,金额（元）,状态\n");
            let mut total = 0;
            for n in 1..=rng.range(3, 6) {
                let amount = rng.range(800, 20_000);
                total += amount;
                csv.push_str(&format!(
                    "PO{month:02}{n:03},{month}月{},{amount}.00,已发货\n",
                    rng.range(1, 28)
                ));
            }
            csv.push_str(&format!("合计,,{total}.00,\n"));
            attachments.push(Attachment {
                filename: format!("{company}{month}月对账单.csv"),
                content: Content::Csv(csv),
            });
            (
                format!("【{company}】{month}月对账单"),
                format!(
                    "{who}，您好：\n\n附件是{month}月的对账单，合计{total}元，请核对。如无异议，烦请在五个工作日内回复确认并安排付款。\n"
                ),
            )
        }
        Outside::Contract => (
            format!("关于《{}合作协议》条款的确认", rng.pick(PROJECTS)),
            format!(
                "{who}，您好：\n\n协议第三条付款方式和第七条违约责任我们法务有修改意见，已在文中标注。如贵司同意，我们下周安排盖章寄出。\n\n顺祝商祺！\n"
            ),
        ),
    };
    Draft {
        from,
        to: vec![c.party(to)],
        cc: Vec::new(),
        subject,
        body: body + &sign,
        attachments,
        external: true,
    }
}
