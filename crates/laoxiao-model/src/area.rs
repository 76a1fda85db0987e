//! Administrative areas (行政区划): city → county → town → village.

use std::collections::HashMap;

use serde::Serialize;

crate::code_enum! {
    /// Level of an area (市 / 县（市、区） / 镇（街道） / 村（社区）).
    pub enum AreaLevel {
        City = ("city", "市", "City"),
        County = ("county", "县（市、区）", "County"),
        Town = ("town", "镇（街道）", "Town"),
        Village = ("village", "村（社区）", "Village"),
    }
}

impl AreaLevel {
    /// Depth below the city (city = 0).
    pub fn depth(self) -> usize {
        match self {
            AreaLevel::City => 0,
            AreaLevel::County => 1,
            AreaLevel::Town => 2,
            AreaLevel::Village => 3,
        }
    }
}

/// One administrative area (行政区划), identified by its statistical division
/// code (区划代码): 6 digits for city and county, 9 for town, 12 for village.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Area {
    pub code: String,
    pub name: String,
    pub level: AreaLevel,
    /// Parent's code; the city's parent is the province (330000), outside the tree.
    pub parent_code: Option<String>,
    /// Materialised path of codes from the city down, `/330400/330402/330402001/`;
    /// a subtree is every area whose path starts with the root's path.
    pub path: String,
    /// 城乡分类代码 (111 main urban … 220 village), villages only, where known.
    pub urban_rural_code: Option<u16>,
    /// Centre point in WGS-84 (longitude, latitude), where known.
    pub centre: Option<(f64, f64)>,
}

impl Area {
    /// True when `self` is `other` or lies below it.
    pub fn is_within(&self, other: &Area) -> bool {
        self.path.starts_with(&other.path)
    }
}

/// The whole area tree, indexed by code.
#[derive(Debug, Clone, Default)]
pub struct AreaTree {
    areas: Vec<Area>,
    by_code: HashMap<String, usize>,
    children: HashMap<String, Vec<usize>>,
}

impl AreaTree {
    /// Builds the tree; areas must come parents first.
    pub fn new(areas: Vec<Area>) -> Self {
        let mut by_code = HashMap::with_capacity(areas.len());
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, a) in areas.iter().enumerate() {
            by_code.insert(a.code.clone(), i);
            if let Some(p) = &a.parent_code {
                children.entry(p.clone()).or_default().push(i);
            }
        }
        AreaTree {
            areas,
            by_code,
            children,
        }
    }

    pub fn get(&self, code: &str) -> Option<&Area> {
        self.by_code.get(code).map(|&i| &self.areas[i])
    }

    pub fn all(&self) -> &[Area] {
        &self.areas
    }

    pub fn len(&self) -> usize {
        self.areas.len()
    }

    pub fn is_empty(&self) -> bool {
        self.areas.is_empty()
    }

    /// The root (city) area.
    pub fn root(&self) -> Option<&Area> {
        self.areas.iter().find(|a| a.level == AreaLevel::City)
    }

    /// Direct children of an area, in code order.
    pub fn children(&self, code: &str) -> Vec<&Area> {
        let mut v: Vec<&Area> = self
            .children
            .get(code)
            .map(|ix| ix.iter().map(|&i| &self.areas[i]).collect())
            .unwrap_or_default();
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    }

    /// Every area at a level.
    pub fn at_level(&self, level: AreaLevel) -> impl Iterator<Item = &Area> {
        self.areas.iter().filter(move |a| a.level == level)
    }

    /// The chain from the city down to `code` (breadcrumbs).
    pub fn ancestors(&self, code: &str) -> Vec<&Area> {
        let mut chain = Vec::new();
        let mut cur = self.get(code);
        while let Some(a) = cur {
            chain.push(a);
            cur = a.parent_code.as_deref().and_then(|p| self.get(p));
        }
        chain.reverse();
        chain
    }

    /// The ancestor of `code` at `level` (itself if it is at that level).
    pub fn ancestor_at(&self, code: &str, level: AreaLevel) -> Option<&Area> {
        self.ancestors(code).into_iter().find(|a| a.level == level)
    }

    /// Every area in the subtree rooted at `code`, the root included.
    pub fn subtree(&self, code: &str) -> Vec<&Area> {
        match self.get(code) {
            Some(root) => self
                .areas
                .iter()
                .filter(|a| a.path.starts_with(&root.path))
                .collect(),
            None => Vec::new(),
        }
    }
}

/// Builds the materialised path of an area from its parent's path.
pub fn child_path(parent_path: Option<&str>, code: &str) -> String {
    match parent_path {
        Some(p) => format!("{p}{code}/"),
        None => format!("/{code}/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(code: &str, level: AreaLevel, parent: Option<&Area>) -> Area {
        Area {
            code: code.into(),
            name: code.into(),
            level,
            parent_code: parent.map(|p| p.code.clone()),
            path: child_path(parent.map(|p| p.path.as_str()), code),
            urban_rural_code: None,
            centre: None,
        }
    }

    #[test]
    fn subtree_and_ancestors_follow_paths() {
        let city = area("330400", AreaLevel::City, None);
        let county = area("330402", AreaLevel::County, Some(&city));
        let other = area("330411", AreaLevel::County, Some(&city));
        let town = area("330402001", AreaLevel::Town, Some(&county));
        let tree = AreaTree::new(vec![city, county, other, town]);
        let sub: Vec<&str> = tree
            .subtree("330402")
            .iter()
            .map(|a| a.code.as_str())
            .collect();
        assert_eq!(sub, vec!["330402", "330402001"]);
        let chain: Vec<&str> = tree
            .ancestors("330402001")
            .iter()
            .map(|a| a.code.as_str())
            .collect();
        assert_eq!(chain, vec!["330400", "330402", "330402001"]);
        assert_eq!(tree.children("330400").len(), 2);
        assert_eq!(
            tree.ancestor_at("330402001", AreaLevel::County)
                .map(|a| a.code.as_str()),
            Some("330402")
        );
    }

    #[test]
    fn level_parses_chinese_and_identifier() {
        assert_eq!(AreaLevel::parse("镇（街道）"), Some(AreaLevel::Town));
        assert_eq!(AreaLevel::parse("Village"), Some(AreaLevel::Village));
        assert_eq!(AreaLevel::parse("province"), None);
    }
}
