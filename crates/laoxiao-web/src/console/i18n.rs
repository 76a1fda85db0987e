//! Message catalogues (`assets/i18n/*.toml`): every string the console shows a person
//! comes from here. Nested tables flatten to dotted keys (`[nav] plan = "…"` is
//! `nav.plan`). Values may hold `{name}` placeholders, filled from keyword arguments.

use std::collections::BTreeMap;

const ZH_CN: &str = include_str!("../../assets/i18n/zh-CN.toml");
const EN: &str = include_str!("../../assets/i18n/en.toml");

/// The console's languages: Chinese by default, English as a switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The tag used in `?lang=`, the cookie and `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Parses `zh-CN`, `zh`, `en` (case-insensitive).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "zh" | "zh-cn" | "zh_cn" | "cn" => Some(Lang::Zh),
            "en" | "en-us" | "en-gb" => Some(Lang::En),
            _ => None,
        }
    }
}

/// Both catalogues, flattened.
#[derive(Debug, Clone)]
pub struct Catalogues {
    pub zh: BTreeMap<String, String>,
    pub en: BTreeMap<String, String>,
}

fn flatten(
    prefix: &str,
    t: &toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(sub) => flatten(&key, sub, out)?,
            other => {
                return Err(format!(
                    "{key}: expected a string, got {}",
                    other.type_str()
                ));
            }
        }
    }
    Ok(())
}

fn parse(name: &str, src: &str) -> Result<BTreeMap<String, String>, String> {
    let t: toml::Table = toml::from_str(src).map_err(|e| format!("{name}: {e}"))?;
    let mut out = BTreeMap::new();
    flatten("", &t, &mut out).map_err(|e| format!("{name}: {e}"))?;
    Ok(out)
}

impl Catalogues {
    /// The embedded catalogues.
    pub fn embedded() -> Result<Catalogues, String> {
        Ok(Catalogues {
            zh: parse("zh-CN.toml", ZH_CN)?,
            en: parse("en.toml", EN)?,
        })
    }

    fn map(&self, lang: Lang) -> &BTreeMap<String, String> {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    /// True when the key exists (in the Chinese catalogue, the reference).
    pub fn has(&self, key: &str) -> bool {
        self.zh.contains_key(key)
    }

    /// The message for `key`, or the key itself when missing (a test keeps that from
    /// happening for literal keys).
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        self.map(lang)
            .get(key)
            .or_else(|| self.zh.get(key))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// The message with `{name}` placeholders filled.
    pub fn fill(&self, lang: Lang, key: &str, args: &[(&str, String)]) -> String {
        let mut s = self.get(lang, key).to_string();
        for (k, v) in args {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    }

    /// The label of an enumerated value: `enum.<kind>.<code>`, falling back to the code.
    pub fn label(&self, lang: Lang, kind: &str, code: &str) -> String {
        let key = format!("enum.{kind}.{code}");
        match self.map(lang).get(&key).or_else(|| self.zh.get(&key)) {
            Some(s) => s.clone(),
            None => code.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use laoxiao_model::facility::{FacilityLevel, FilingStatus, Ownership, Rating};
    use laoxiao_model::person::{
        AbilityLevel, LivingArrangement, PersonStatus, Sex, SpecialDifficulty,
    };
    use laoxiao_model::{AreaLevel, ClassType, FacilityKind, FacilityStatus, PersonRole};

    #[test]
    fn both_catalogues_have_the_same_keys() {
        let c = Catalogues::embedded().expect("catalogues parse");
        let zh: Vec<&String> = c.zh.keys().collect();
        let en: Vec<&String> = c.en.keys().collect();
        let only_zh: Vec<&&String> = zh.iter().filter(|k| !c.en.contains_key(**k)).collect();
        let only_en: Vec<&&String> = en.iter().filter(|k| !c.zh.contains_key(**k)).collect();
        assert!(only_zh.is_empty(), "keys missing from en.toml: {only_zh:?}");
        assert!(
            only_en.is_empty(),
            "keys missing from zh-CN.toml: {only_en:?}"
        );
        for (k, v) in c.zh.iter().chain(c.en.iter()) {
            assert!(!v.trim().is_empty(), "empty message {k}");
        }
    }

    #[test]
    fn every_enumerated_value_has_a_label_and_chinese_follows_the_glossary() {
        let c = Catalogues::embedded().expect("catalogues parse");
        let check = |kind: &str, items: Vec<(&str, &str)>| {
            for (code, zh) in items {
                let key = format!("enum.{kind}.{code}");
                assert!(c.en.contains_key(&key), "en.toml lacks {key}");
                assert_eq!(
                    c.zh.get(&key).map(String::as_str),
                    Some(zh),
                    "zh-CN.toml {key} must be the model's term"
                );
            }
        };
        macro_rules! items {
            ($t:ty) => {
                <$t>::ALL.iter().map(|x| (x.code(), x.label_zh())).collect()
            };
        }
        check("facility_kind", items!(FacilityKind));
        check("facility_level", items!(FacilityLevel));
        check("ownership", items!(Ownership));
        check("rating", items!(Rating));
        check("filing_status", items!(FilingStatus));
        check("facility_status", items!(FacilityStatus));
        check("class_type", items!(ClassType));
        check("role", items!(PersonRole));
        check("sex", items!(Sex));
        check("living_arrangement", items!(LivingArrangement));
        check("special_difficulty", items!(SpecialDifficulty));
        check("ability_level", items!(AbilityLevel));
        check("person_status", items!(PersonStatus));
        check("area_level", items!(AreaLevel));
    }

    #[test]
    fn placeholders_are_filled() {
        let c = Catalogues::embedded().expect("catalogues parse");
        let s = c.fill(Lang::En, "list.count", &[("n", "12".into())]);
        assert!(s.contains("12"), "{s}");
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
    }
}
