//! The company a seed describes: its departments (three levels below the root), its members
//! (names, addresses, positions, mobiles, aliases, who is disabled) and its mail groups with
//! their allow lists. Nothing here touches the store; the same seed and flags give the same
//! company, and a company of more members begins with the members of a smaller one.

use super::names::Name;
use super::rng::Rng;
use std::collections::HashSet;

/// A department of the table: its path below the root, how many members it draws (by weight),
/// its head's title, and the positions of the others.
struct DeptSpec {
    path: &'static str,
    weight: u32,
    head: &'static str,
    staff: &'static [&'static str],
}

const fn d(
    path: &'static str,
    weight: u32,
    head: &'static str,
    staff: &'static [&'static str],
) -> DeptSpec {
    DeptSpec {
        path,
        weight,
        head,
        staff,
    }
}

/// Every department, parents before their children.
const DEPARTMENTS: &[DeptSpec] = &[
    d(
        "总经办",
        2,
        "总经理",
        &["总经理助理", "行政秘书", "战略分析师"],
    ),
    d("研发中心", 1, "研发总监", &["架构师", "技术专家"]),
    d("研发中心/基础平台部", 1, "部门经理", &["高级工程师"]),
    d(
        "研发中心/基础平台部/后端组",
        8,
        "组长",
        &[
            "后端开发工程师",
            "高级后端开发工程师",
            "Java开发工程师",
            "Go开发工程师",
        ],
    ),
    d(
        "研发中心/基础平台部/运维组",
        3,
        "组长",
        &["运维工程师", "SRE工程师", "数据库管理员"],
    ),
    d("研发中心/产品研发部", 1, "部门经理", &["项目经理"]),
    d(
        "研发中心/产品研发部/前端组",
        6,
        "组长",
        &["前端开发工程师", "高级前端开发工程师"],
    ),
    d(
        "研发中心/产品研发部/移动端组",
        4,
        "组长",
        &["iOS开发工程师", "Android开发工程师"],
    ),
    d(
        "研发中心/产品研发部/测试组",
        4,
        "组长",
        &["测试工程师", "自动化测试工程师"],
    ),
    d(
        "研发中心/产品设计部",
        4,
        "部门经理",
        &["产品经理", "UI设计师", "交互设计师"],
    ),
    d("市场部", 2, "市场总监", &["品牌经理", "市场专员"]),
    d("市场部/华东区", 1, "区域经理", &["市场专员"]),
    d(
        "市场部/华东区/上海办事处",
        3,
        "办事处主任",
        &["市场专员", "客户经理"],
    ),
    d(
        "市场部/华东区/杭州办事处",
        2,
        "办事处主任",
        &["市场专员", "客户经理"],
    ),
    d("市场部/华南区", 1, "区域经理", &["市场专员"]),
    d(
        "市场部/华南区/深圳办事处",
        3,
        "办事处主任",
        &["市场专员", "客户经理"],
    ),
    d(
        "市场部/华南区/广州办事处",
        2,
        "办事处主任",
        &["市场专员", "客户经理"],
    ),
    d("市场部/华北区", 2, "区域经理", &["市场专员", "客户经理"]),
    d("销售部", 1, "销售总监", &["销售运营专员"]),
    d("销售部/大客户组", 4, "组长", &["大客户经理", "销售代表"]),
    d("销售部/渠道组", 3, "组长", &["渠道经理", "销售代表"]),
    d("财务部", 1, "财务总监", &["财务分析师"]),
    d(
        "财务部/会计组",
        3,
        "组长",
        &["会计", "成本会计", "税务专员"],
    ),
    d("财务部/出纳组", 1, "组长", &["出纳"]),
    d("人力资源部", 1, "人力资源总监", &["HRBP"]),
    d("人力资源部/招聘组", 2, "组长", &["招聘专员"]),
    d(
        "人力资源部/薪酬绩效组",
        2,
        "组长",
        &["薪酬专员", "绩效专员"],
    ),
    d("行政部", 3, "行政经理", &["行政专员", "前台", "司机"]),
    d("法务部", 1, "法务经理", &["法务专员"]),
];

/// Company names, one picked by the seed (for signatures and mail texts).
const COMPANY_NAMES: &[&str] = &[
    "华远科技",
    "星辰信息",
    "恒信数码",
    "博瑞软件",
    "云帆网络",
    "启明智能",
];

/// Mobile number prefixes of the three carriers.
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "177", "180", "182", "185", "186", "187", "188", "189", "199",
];

/// A department of the company.
#[derive(Debug, Clone)]
pub struct Department {
    /// Its names from below the root, joined by `/` (`研发中心/产品研发部/前端组`).
    pub path: &'static str,
    /// Its order among its siblings (the table's order).
    pub order: i64,
}

impl Department {
    /// The path of its parent (`None` below the root).
    pub fn parent(&self) -> Option<&'static str> {
        self.path.rsplit_once('/').map(|(p, _)| p)
    }

    /// Its own name.
    pub fn name(&self) -> &'static str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }

    /// Its level: 1 right below the root.
    pub fn level(&self) -> usize {
        self.path.split('/').count()
    }
}

/// A member of the company.
#[derive(Debug, Clone)]
pub struct Member {
    /// The name.
    pub name: Name,
    /// The primary address.
    pub address: String,
    /// An alias (`given.surname@`), for some.
    pub alias: Option<String>,
    /// The department (an index into [`Company::departments`]).
    pub department: usize,
    /// The position.
    pub position: &'static str,
    /// Whether they head their department.
    pub head: bool,
    /// The mobile number.
    pub mobile: String,
    /// False for the few who left (disabled, kept in the directory).
    pub enabled: bool,
}

/// Who may write to a group (the newer API's `allow_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allow {
    /// 0: the tenant's members.
    Inner,
    /// 1: anyone, outside senders included.
    Anyone,
    /// 2: the group's own members.
    Members,
    /// 3: the members listed (indexes into [`Company::members`]).
    List(Vec<usize>),
}

/// A mail group of the company.
#[derive(Debug, Clone)]
pub struct Group {
    /// The local part of its address.
    pub local: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Members in it by name (indexes into [`Company::members`]).
    pub members: Vec<usize>,
    /// Departments in it (indexes into [`Company::departments`]), sub-departments included.
    pub departments: Vec<usize>,
    /// Groups in it, by local part (listed earlier).
    pub groups: Vec<&'static str>,
    /// Who may write to it.
    pub allow: Allow,
}

/// The whole company of one seed.
#[derive(Debug, Clone)]
pub struct Company {
    /// Its name.
    pub name: &'static str,
    /// Its mail domain.
    pub domain: String,
    /// Departments, parents first.
    pub departments: Vec<Department>,
    /// Members, the general manager first.
    pub members: Vec<Member>,
    /// Mail groups, nested ones before the groups holding them.
    pub groups: Vec<Group>,
}

/// The group addresses, reserved before any member is named.
const GROUP_LOCALS: &[&str] = &[
    "all", "rd", "market", "sales", "managers", "hr", "finance", "office",
];

impl Company {
    /// The company of `seed` on `domain` with `members` members.
    pub fn generate(seed: u64, domain: &str, members: usize) -> Company {
        let departments: Vec<Department> = DEPARTMENTS
            .iter()
            .zip(1..)
            .map(|(s, order)| Department {
                path: s.path,
                order,
            })
            .collect();
        let name = *Rng::stream(seed, "company", 0).pick(COMPANY_NAMES);
        let mut company = Company {
            name,
            domain: domain.to_owned(),
            departments,
            members: Vec::with_capacity(members),
            groups: Vec::new(),
        };
        company.people(seed, members);
        company.groups = company.plan_groups();
        company
    }

    /// Draws the members one after the other: the general manager, the heads of the other
    /// top-level departments, then everyone else by the departments' weights (the first one to
    /// land in a department heads it).
    fn people(&mut self, seed: u64, count: usize) {
        let mut rng = Rng::stream(seed, "members", 0);
        let mut taken: HashSet<String> = GROUP_LOCALS.iter().map(|l| (*l).to_owned()).collect();
        let mut mobiles = HashSet::new();
        let mut headed = vec![false; DEPARTMENTS.len()];
        let top: Vec<usize> = (0..DEPARTMENTS.len())
            .filter(|i| !DEPARTMENTS[*i].path.contains('/'))
            .collect();
        let total: u32 = DEPARTMENTS.iter().map(|s| s.weight).sum();
        let mut counts = vec![0u32; DEPARTMENTS.len()];
        let mut leaver = false;
        for i in 0..count {
            let dept = match top.get(i) {
                Some(t) => *t,
                // The department furthest below its share so far, give or take a little luck:
                // small companies are spread like big ones, not by chance.
                None => {
                    let placed = f64::from(u32::try_from(i + 1).unwrap_or(u32::MAX));
                    let score = |d: usize, luck: u64| {
                        f64::from(DEPARTMENTS[d].weight) * placed / f64::from(total)
                            - f64::from(counts[d])
                            + f64::from(u32::try_from(luck).unwrap_or(0)) / 1000.0
                    };
                    let scores: Vec<f64> = (0..DEPARTMENTS.len())
                        .map(|d| score(d, rng.range(0, 999)))
                        .collect();
                    (0..scores.len())
                        .max_by(|a, b| scores[*a].total_cmp(&scores[*b]))
                        .unwrap_or(0)
                }
            };
            counts[dept] += 1;
            let spec = &DEPARTMENTS[dept];
            let head = !headed[dept];
            headed[dept] = true;
            let position = if head {
                spec.head
            } else {
                *rng.pick(spec.staff)
            };
            let name = Name::draw(&mut rng);
            let local = free(&mut taken, &name.local());
            // Some go by their name the other way round as well; only when nobody has it.
            let alias = rng
                .chance(20)
                .then(|| name.alias_local())
                .filter(|a| taken.insert(a.clone()))
                .map(|a| format!("{a}@{}", self.domain));
            let mobile = loop {
                let m = format!(
                    "{}{:08}",
                    rng.pick(MOBILE_PREFIXES),
                    rng.range(0, 99_999_999)
                );
                if mobiles.insert(m.clone()) {
                    break m;
                }
            };
            // A few who left: one in every 23 (the 12th, or the next after it who heads nothing).
            leaver |= i % 23 == 11;
            let enabled = head || !leaver;
            leaver &= head;
            self.members.push(Member {
                address: format!("{local}@{}", self.domain),
                name,
                alias,
                department: dept,
                position,
                head,
                mobile,
                enabled,
            });
        }
    }

    /// The groups: everyone, the big departments, the heads, and the back office (a group of
    /// groups); who may write to each.
    fn plan_groups(&self) -> Vec<Group> {
        let dept = |path: &str| self.departments.iter().position(|d| d.path == path);
        let depts = |paths: &[&str]| paths.iter().filter_map(|p| dept(p)).collect::<Vec<_>>();
        let heads: Vec<usize> = (0..self.members.len())
            .filter(|i| self.members[*i].head && self.members[*i].enabled)
            .collect();
        let head_of = |path: &str| {
            heads
                .iter()
                .copied()
                .find(|h| self.departments[self.members[*h].department].path == path)
        };
        // Only the general manager, HR and the administration office write to everyone.
        let announcers: Vec<usize> = ["总经办", "人力资源部", "行政部"]
            .iter()
            .filter_map(|p| head_of(p))
            .collect();
        let all_allow = if announcers.is_empty() {
            Allow::Inner
        } else {
            Allow::List(announcers)
        };
        let top: Vec<usize> = (0..self.departments.len())
            .filter(|i| self.departments[*i].level() == 1)
            .collect();
        let finance_allow = {
            let mut list: Vec<usize> = ["总经办", "财务部", "财务部/会计组"]
                .iter()
                .filter_map(|p| head_of(p))
                .collect();
            list.dedup();
            if list.is_empty() {
                Allow::Inner
            } else {
                Allow::List(list)
            }
        };
        let group = |local, name, departments, allow| Group {
            local,
            name,
            members: Vec::new(),
            departments,
            groups: Vec::new(),
            allow,
        };
        vec![
            group("all", "全体员工", top, all_allow),
            group("rd", "研发中心", depts(&["研发中心"]), Allow::Inner),
            group("market", "市场部", depts(&["市场部"]), Allow::Anyone),
            group("sales", "销售部", depts(&["销售部"]), Allow::Anyone),
            Group {
                members: heads.clone(),
                ..group("managers", "管理层", Vec::new(), Allow::Members)
            },
            group("hr", "人力资源部", depts(&["人力资源部"]), Allow::Anyone),
            group("finance", "财务部", depts(&["财务部"]), finance_allow),
            Group {
                groups: vec!["hr", "finance"],
                ..group(
                    "office",
                    "职能部门",
                    depts(&["行政部", "法务部"]),
                    Allow::Inner,
                )
            },
        ]
    }

    /// The members of a department and the ones below it.
    pub fn members_under(&self, path: &str) -> Vec<usize> {
        let prefix = format!("{path}/");
        (0..self.members.len())
            .filter(|i| {
                let p = self.departments[self.members[*i].department].path;
                p == path || p.starts_with(&prefix)
            })
            .collect()
    }

    /// The nearest head above a member (their own department's head when that is someone else).
    pub fn manager_of(&self, member: usize) -> Option<usize> {
        let mut path = Some(self.departments[self.members[member].department].path);
        while let Some(p) = path {
            let found = (0..self.members.len()).find(|h| {
                *h != member
                    && self.members[*h].head
                    && self.departments[self.members[*h].department].path == p
            });
            if found.is_some() {
                return found;
            }
            path = p.rsplit_once('/').map(|(parent, _)| parent);
        }
        (member != 0 && !self.members.is_empty()).then_some(0)
    }
}

/// `local`, or `local2`, `local3`… whichever is free first; marks it taken.
fn free(taken: &mut HashSet<String>, local: &str) -> String {
    if taken.insert(local.to_owned()) {
        return local.to_owned();
    }
    (2..)
        .map(|n| format!("{local}{n}"))
        .find(|l| taken.insert(l.clone()))
        .unwrap_or_else(|| local.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{Allow, Company};
    use std::collections::HashSet;

    #[test]
    fn a_seed_gives_one_company_and_a_bigger_one_begins_with_it() {
        let a = Company::generate(1, "x.cn", 60);
        let b = Company::generate(1, "x.cn", 60);
        let big = Company::generate(1, "x.cn", 300);
        let addresses = |c: &Company| {
            c.members
                .iter()
                .map(|m| m.address.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(addresses(&a), addresses(&b));
        assert_eq!(addresses(&a)[..], addresses(&big)[..60]);
        assert_ne!(addresses(&a), addresses(&Company::generate(2, "x.cn", 60)));
        // Every address, alias and group is one of a kind.
        let mut seen = HashSet::new();
        for m in &big.members {
            assert!(seen.insert(m.address.clone()), "{}", m.address);
            if let Some(alias) = &m.alias {
                assert!(seen.insert(alias.clone()), "{alias}");
            }
        }
        for g in &big.groups {
            assert!(seen.insert(format!("{}@x.cn", g.local)));
        }
        assert!(big.members.iter().any(|m| m.alias.is_some()));
        assert!(a.members.iter().filter(|m| !m.enabled).count() >= 2);
        assert!(a.departments.iter().any(|d| d.level() == 3));
        assert!(
            a.groups
                .iter()
                .any(|g| matches!(&g.allow, Allow::List(l) if !l.is_empty()))
        );
        // Spread by the weights, even in a small company: every bigger department has people.
        let d50 = Company::generate(1, "x.cn", 50);
        for (i, spec) in super::DEPARTMENTS.iter().enumerate() {
            let n = d50.members.iter().filter(|m| m.department == i).count();
            assert!(spec.weight < 3 || n >= 1, "{} is empty", spec.path);
            assert!(n <= spec.weight as usize + 2, "{} has {n}", spec.path);
        }
        assert_eq!(a.manager_of(0), None);
        assert!(a.manager_of(20).is_some());
    }
}
