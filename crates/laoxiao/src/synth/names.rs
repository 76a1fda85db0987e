//! Synthetic names, phone numbers and operators. Every name is drawn from lists
//! of common characters; none is a real person's or organisation's.

use rand::Rng;

use super::util::Cumulative;

/// Common surnames in Jiaxing with rough relative weights (沈 leads locally).
const SURNAMES: &[(&str, f64)] = &[
    ("沈", 6.0),
    ("王", 6.0),
    ("张", 5.0),
    ("陈", 5.0),
    ("李", 4.0),
    ("朱", 4.0),
    ("徐", 4.0),
    ("顾", 3.0),
    ("钱", 3.0),
    ("周", 3.0),
    ("吴", 3.0),
    ("金", 3.0),
    ("陆", 3.0),
    ("孙", 2.5),
    ("杨", 2.5),
    ("姚", 2.0),
    ("蒋", 2.0),
    ("许", 2.0),
    ("胡", 2.0),
    ("黄", 2.0),
    ("刘", 2.0),
    ("戴", 1.5),
    ("俞", 1.5),
    ("吕", 1.5),
    ("范", 1.5),
    ("褚", 1.5),
    ("冯", 1.5),
    ("赵", 1.2),
    ("马", 1.2),
    ("邱", 1.2),
    ("曹", 1.2),
    ("郑", 1.2),
    ("凌", 1.0),
    ("费", 1.0),
    ("盛", 1.0),
    ("屠", 1.0),
    ("潘", 1.0),
    ("汤", 1.0),
    ("唐", 1.0),
    ("高", 1.0),
    ("何", 1.0),
    ("钟", 1.0),
    ("丁", 1.0),
    ("方", 1.0),
    ("卜", 0.8),
    ("江", 0.8),
    ("倪", 0.8),
    ("严", 0.8),
    ("邵", 0.8),
    ("程", 0.8),
    ("施", 0.8),
    ("宋", 0.8),
    ("叶", 0.8),
    ("袁", 0.8),
    ("孔", 0.6),
    ("任", 0.6),
    ("庄", 0.6),
    ("姜", 0.6),
    ("濮", 0.3),
    ("宣", 0.3),
    ("沙", 0.3),
    ("欧阳", 0.1),
    ("诸葛", 0.05),
];

const OLD_MALE: &[&str] = &[
    "建", "国", "华", "明", "林", "根", "荣", "伟", "德", "福", "金", "宝", "兴", "祥", "海", "忠",
    "良", "平", "生", "富", "法", "财", "宏", "军", "强", "新", "志", "泉", "水", "松", "全", "仁",
    "才", "康", "民", "春", "其", "昌", "正", "培", "炳", "贤", "坤", "云", "洪", "龙", "庆", "友",
];
const OLD_FEMALE: &[&str] = &[
    "秀", "英", "珍", "凤", "兰", "芳", "娟", "美", "玉", "琴", "华", "花", "梅", "妹", "宝", "金",
    "菊", "云", "月", "芬", "萍", "红", "彩", "素", "桂", "丽", "明", "香", "仙", "娥", "雅", "惠",
    "琳", "珠",
];
const PARENT_MALE: &[&str] = &[
    "磊", "杰", "涛", "伟", "斌", "俊", "超", "鹏", "晓", "峰", "强", "军", "勇", "健", "翔", "凯",
    "亮", "飞", "明", "华", "东", "宇", "浩", "振", "晨", "阳", "波", "辉",
];
const PARENT_FEMALE: &[&str] = &[
    "婷", "丽", "静", "燕", "敏", "霞", "颖", "洁", "娜", "艳", "晶", "琳", "佳", "倩", "慧", "雪",
    "玲", "蕾", "芳", "莉", "媛", "悦", "露", "萍", "晓", "雯",
];
const CHILD_MALE: &[&str] = &[
    "子", "浩", "宇", "轩", "俊", "睿", "泽", "皓", "一", "辰", "铭", "梓", "博", "文", "煜", "晨",
    "嘉", "逸", "宸", "瑞", "航", "宁", "锦", "承", "奕", "祺", "然", "安", "昊", "骁", "沐", "言",
];
const CHILD_FEMALE: &[&str] = &[
    "梓", "涵", "一", "诺", "欣", "怡", "雨", "萱", "可", "馨", "思", "语", "若", "汐", "悦", "晴",
    "佳", "琪", "沐", "芊", "依", "伊", "瑶", "彤", "妍", "澄", "安", "然", "宁", "乐", "知", "夏",
];

/// Generation of a given name's characters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Era {
    Elderly,
    Parent,
    Child,
}

/// Draws names.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    surnames: Cumulative,
}

impl Names {
    pub(crate) fn new() -> Self {
        let w: Vec<f64> = SURNAMES.iter().map(|s| s.1).collect();
        Names {
            surnames: Cumulative::new(&w),
        }
    }

    pub(crate) fn surname<R: Rng>(&self, rng: &mut R) -> &'static str {
        SURNAMES[self.surnames.draw(rng)].0
    }

    /// A given name of one or two characters.
    pub(crate) fn given<R: Rng>(&self, rng: &mut R, era: Era, male: bool) -> String {
        let (list, two) = match (era, male) {
            (Era::Elderly, true) => (OLD_MALE, 0.8),
            (Era::Elderly, false) => (OLD_FEMALE, 0.8),
            (Era::Parent, true) => (PARENT_MALE, 0.55),
            (Era::Parent, false) => (PARENT_FEMALE, 0.6),
            (Era::Child, true) => (CHILD_MALE, 0.9),
            (Era::Child, false) => (CHILD_FEMALE, 0.9),
        };
        let mut s = String::with_capacity(6);
        s.push_str(list[rng.random_range(0..list.len())]);
        if rng.random::<f64>() < two {
            let second = list[rng.random_range(0..list.len())];
            // Doubled characters (婷婷) are common for girls, rare otherwise.
            if second != s || (!male && rng.random::<f64>() < 0.5) {
                s.push_str(second);
            } else {
                s.push_str(list[(rng.random_range(0..list.len()) + 1) % list.len()]);
            }
        }
        s
    }

    pub(crate) fn full<R: Rng>(&self, rng: &mut R, era: Era, male: bool) -> (String, &'static str) {
        let sur = self.surname(rng);
        let mut n = String::with_capacity(9);
        n.push_str(sur);
        n.push_str(&self.given(rng, era, male));
        (n, sur)
    }
}

/// A mobile number (11 digits, a real carrier prefix, random subscriber part).
pub(crate) fn mobile<R: Rng>(rng: &mut R) -> String {
    const PREFIX: &[&str] = &[
        "133", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "177",
        "180", "181", "182", "187", "188", "189", "191", "198", "199",
    ];
    format!(
        "{}{:08}",
        PREFIX[rng.random_range(0..PREFIX.len())],
        rng.random_range(0..100_000_000u32)
    )
}

/// A Jiaxing landline (area code 0573, eight digits).
pub(crate) fn landline<R: Rng>(rng: &mut R) -> String {
    format!("0573-8{:07}", rng.random_range(0..10_000_000u32))
}

/// Words for synthetic organisation names.
pub(crate) const BRANDS: &[&str] = &[
    "颐和",
    "康乐",
    "福寿",
    "安康",
    "瑞祥",
    "乐龄",
    "松鹤",
    "椿萱",
    "嘉禾",
    "禾源",
    "益寿",
    "恒爱",
    "仁和",
    "惠民",
    "长青",
    "晚晴",
    "夕阳红",
    "怡养",
    "善美",
    "和乐",
    "同心",
    "悦年",
    "暖阳",
    "锦程",
    "宜家",
    "金秋",
    "如意",
    "久安",
    "百合",
    "清溪",
];
pub(crate) const CHILD_BRANDS: &[&str] = &[
    "小橙子",
    "星芽",
    "童梦",
    "贝乐",
    "启智",
    "禾苗",
    "小太阳",
    "彩虹",
    "萌宝",
    "爱贝",
    "青苹果",
    "向阳花",
    "蒲公英",
    "小海豚",
    "七彩",
    "乐享",
    "未来星",
    "小脚印",
    "甜甜圈",
    "果果",
];
pub(crate) const ROADS: &[&str] = &[
    "中山", "人民", "建设", "文昌", "府前", "禾兴", "东升", "南溪", "新华", "解放", "学院", "长水",
    "勤俭", "秀水", "和平", "友谊", "振兴", "环城", "体育", "昌盛", "朝阳", "新城", "湖滨", "运河",
];
