//! Chinese names with their pinyin: common surnames (by how often they occur) and given-name
//! characters (with the gender they lean to), so a member's address is the pinyin of their name
//! (`zhang.wei@`, `ouyang.xiaoming@`). No `ü` (吕 is written `lv`, as mail addresses do).

use super::rng::Rng;

/// Surnames and their pinyin, the most common first (the first ones are drawn more often).
const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
    ("曾", "zeng"),
    ("肖", "xiao"),
    ("田", "tian"),
    ("董", "dong"),
    ("潘", "pan"),
    ("袁", "yuan"),
    ("蔡", "cai"),
    ("蒋", "jiang"),
    ("余", "yu"),
    ("于", "yu"),
    ("杜", "du"),
    ("叶", "ye"),
    ("程", "cheng"),
    ("魏", "wei"),
    ("苏", "su"),
    ("吕", "lv"),
    ("丁", "ding"),
    ("任", "ren"),
    ("卢", "lu"),
    ("姚", "yao"),
    ("沈", "shen"),
    ("钟", "zhong"),
    ("姜", "jiang"),
    ("崔", "cui"),
    ("谭", "tan"),
    ("陆", "lu"),
    ("范", "fan"),
    ("汪", "wang"),
    ("廖", "liao"),
    ("石", "shi"),
    ("金", "jin"),
    ("贾", "jia"),
    ("夏", "xia"),
    ("方", "fang"),
    ("邹", "zou"),
    ("熊", "xiong"),
    ("白", "bai"),
    ("孟", "meng"),
    ("秦", "qin"),
    ("邱", "qiu"),
    ("侯", "hou"),
    ("江", "jiang"),
    ("尹", "yin"),
    ("薛", "xue"),
    ("段", "duan"),
    ("雷", "lei"),
    ("龙", "long"),
    ("史", "shi"),
    ("陶", "tao"),
    ("贺", "he"),
    ("毛", "mao"),
    ("郝", "hao"),
    ("顾", "gu"),
    ("龚", "gong"),
    ("邵", "shao"),
    ("万", "wan"),
    ("钱", "qian"),
    ("严", "yan"),
    ("欧阳", "ouyang"),
    ("司马", "sima"),
    ("诸葛", "zhuge"),
];

/// Which gender a given-name character leans to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lean {
    Male,
    Female,
    Either,
}

use Lean::{Either, Female, Male};

/// Given-name characters, their pinyin, and their lean.
const GIVEN: &[(&str, &str, Lean)] = &[
    ("伟", "wei", Male),
    ("强", "qiang", Male),
    ("磊", "lei", Male),
    ("军", "jun", Male),
    ("勇", "yong", Male),
    ("杰", "jie", Male),
    ("涛", "tao", Male),
    ("超", "chao", Male),
    ("刚", "gang", Male),
    ("鹏", "peng", Male),
    ("浩", "hao", Male),
    ("斌", "bin", Male),
    ("波", "bo", Male),
    ("峰", "feng", Male),
    ("凯", "kai", Male),
    ("昊", "hao", Male),
    ("翔", "xiang", Male),
    ("亮", "liang", Male),
    ("健", "jian", Male),
    ("振", "zhen", Male),
    ("国", "guo", Male),
    ("志", "zhi", Male),
    ("海", "hai", Male),
    ("俊", "jun", Male),
    ("博", "bo", Male),
    ("轩", "xuan", Male),
    ("建", "jian", Male),
    ("东", "dong", Male),
    ("光", "guang", Male),
    ("宏", "hong", Male),
    ("芳", "fang", Female),
    ("娜", "na", Female),
    ("敏", "min", Female),
    ("静", "jing", Female),
    ("丽", "li", Female),
    ("艳", "yan", Female),
    ("娟", "juan", Female),
    ("秀", "xiu", Female),
    ("霞", "xia", Female),
    ("玲", "ling", Female),
    ("婷", "ting", Female),
    ("慧", "hui", Female),
    ("颖", "ying", Female),
    ("倩", "qian", Female),
    ("琳", "lin", Female),
    ("雪", "xue", Female),
    ("怡", "yi", Female),
    ("瑶", "yao", Female),
    ("璐", "lu", Female),
    ("菲", "fei", Female),
    ("丹", "dan", Female),
    ("莉", "li", Female),
    ("兰", "lan", Female),
    ("萍", "ping", Female),
    ("洁", "jie", Female),
    ("晶", "jing", Female),
    ("梅", "mei", Female),
    ("诗", "shi", Female),
    ("涵", "han", Female),
    ("悦", "yue", Female),
    ("明", "ming", Either),
    ("华", "hua", Either),
    ("文", "wen", Either),
    ("辉", "hui", Either),
    ("平", "ping", Either),
    ("宇", "yu", Either),
    ("晨", "chen", Either),
    ("欣", "xin", Either),
    ("佳", "jia", Either),
    ("嘉", "jia", Either),
    ("子", "zi", Either),
    ("梓", "zi", Either),
    ("晓", "xiao", Either),
    ("思", "si", Either),
    ("雨", "yu", Either),
    ("天", "tian", Either),
    ("一", "yi", Either),
    ("云", "yun", Either),
    ("新", "xin", Either),
    ("立", "li", Either),
    ("永", "yong", Either),
    ("家", "jia", Either),
    ("春", "chun", Either),
    ("秋", "qiu", Either),
    ("安", "an", Either),
    ("清", "qing", Either),
    ("睿", "rui", Either),
    ("彤", "tong", Either),
];

/// A person's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// The name as written: surname, then given name (`张伟`).
    pub chinese: String,
    /// The surname's pinyin.
    pub surname: &'static str,
    /// The given name's pinyin, syllables joined (`xiaoming`).
    pub given: String,
    /// The newer API's gender: `"1"` male, `"2"` female.
    pub gender: &'static str,
}

impl Name {
    /// A name drawn from the tables: common surnames more often, one or two given characters.
    pub fn draw(rng: &mut Rng) -> Name {
        // Weights fall with the rank, as surname frequencies do.
        let weights: Vec<u32> = (0..SURNAMES.len())
            .map(|i| 4 + 200 / (u32::try_from(i).unwrap_or(u32::MAX) + 2))
            .collect();
        let (surname_zh, surname) = SURNAMES[rng.weighted(&weights)];
        let male = rng.chance(55);
        let fits = |lean: Lean| lean == Either || (lean == Male) == male;
        let pool: Vec<&(&str, &str, Lean)> = GIVEN.iter().filter(|g| fits(g.2)).collect();
        let mut chinese = surname_zh.to_owned();
        let mut given = String::new();
        let syllables = if rng.chance(65) { 2 } else { 1 };
        for _ in 0..syllables {
            let (zh, py, _) = **rng.pick(&pool);
            chinese.push_str(zh);
            given.push_str(py);
        }
        Name {
            chinese,
            surname,
            given,
            gender: if male { "1" } else { "2" },
        }
    }

    /// The local part of the primary address: `surname.given`.
    pub fn local(&self) -> String {
        format!("{}.{}", self.surname, self.given)
    }

    /// The local part of the alias: `given.surname`.
    pub fn alias_local(&self) -> String {
        format!("{}.{}", self.given, self.surname)
    }
}

#[cfg(test)]
mod tests {
    use super::{GIVEN, Name, SURNAMES};
    use crate::seed::rng::Rng;

    #[test]
    fn names_are_chinese_and_their_pinyin_is_plain_ascii() {
        for (zh, py) in SURNAMES {
            assert!(!zh.is_ascii() && py.bytes().all(|b| b.is_ascii_lowercase()));
        }
        for (zh, py, _) in GIVEN {
            assert!(zh.chars().count() == 1 && py.bytes().all(|b| b.is_ascii_lowercase()));
        }
        let mut rng = Rng::stream(1, "names", 0);
        for _ in 0..200 {
            let n = Name::draw(&mut rng);
            assert!((2..=4).contains(&n.chinese.chars().count()), "{n:?}");
            assert!(n.local().starts_with(n.surname) && n.alias_local().ends_with(n.surname));
        }
    }
}
