//! laoxiao-store is the only crate that writes SQL (issue 10): this walks the
//! sources of the web crate and the binary and fails on a string literal that
//! reads like SQL. Their `tests` directories may inspect the database on
//! purpose and are not walked.

use std::path::{Path, PathBuf};

/// The source directories that must hold no SQL, relative to this crate.
const GUARDED: &[&str] = &["../laoxiao-web/src", "../laoxiao/src"];

/// The string literals of a Rust source (comments skipped), with the line
/// each starts on. Raw (`r#"…"#`) and byte strings count; escapes are left
/// as written, which is enough to spot words.
fn string_literals(src: &str) -> Vec<(usize, String)> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    while i < c.len() {
        match c[i] {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if at(i + 1) == '/' => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if c[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            // A char literal ('"', '\'', 'x'); otherwise a lifetime.
            '\'' => {
                if at(i + 1) == '\\' {
                    i += 2;
                    while i < c.len() && c[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if at(i + 2) == '\'' {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            'r' if (at(i + 1) == '"' || at(i + 1) == '#')
                && !(i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')) =>
            {
                let mut j = i + 1;
                let mut hashes = 0;
                while at(j) == '#' {
                    hashes += 1;
                    j += 1;
                }
                if at(j) != '"' {
                    i += 1;
                    continue;
                }
                let start_line = line;
                let mut s = String::new();
                j += 1;
                loop {
                    if j >= c.len() {
                        break;
                    }
                    if c[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#') {
                        j += 1 + hashes;
                        break;
                    }
                    if c[j] == '\n' {
                        line += 1;
                    }
                    s.push(c[j]);
                    j += 1;
                }
                out.push((start_line, s));
                i = j;
            }
            '"' => {
                let start_line = line;
                let mut s = String::new();
                i += 1;
                while i < c.len() && c[i] != '"' {
                    if c[i] == '\\' {
                        s.push(c[i]);
                        i += 1;
                    }
                    if at(i) == '\n' {
                        line += 1;
                    }
                    s.push(at(i));
                    i += 1;
                }
                i += 1;
                out.push((start_line, s));
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether a literal reads like SQL: a statement's opening words, or a
/// WHERE/ORDER fragment (`x IS NULL`, `ORDER BY`, a `$1` placeholder next to a
/// comparison).
fn looks_like_sql(s: &str) -> Option<&'static str> {
    let words: Vec<String> = s
        .split(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '$'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let has = |seq: &[&str]| {
        words
            .windows(seq.len())
            .any(|w| w.iter().zip(seq).all(|(a, b)| *b == "*" || a == b))
    };
    let w = |x: &str| words.iter().any(|y| y == x);
    if w("select") && w("from") {
        return Some("SELECT … FROM");
    }
    for (seq, what) in [
        (&["insert", "into"][..], "INSERT INTO"),
        (&["update", "*", "set"][..], "UPDATE … SET"),
        (&["delete", "from"][..], "DELETE FROM"),
        (&["create", "table"][..], "CREATE TABLE"),
        (&["create", "index"][..], "CREATE INDEX"),
        (&["alter", "table"][..], "ALTER TABLE"),
        (&["drop", "table"][..], "DROP TABLE"),
        (&["is", "null"][..], "IS NULL"),
        (&["is", "not", "null"][..], "IS NOT NULL"),
        (&["order", "by"][..], "ORDER BY"),
        (&["group", "by"][..], "GROUP BY"),
    ] {
        if has(seq) {
            return Some(what);
        }
    }
    if w("pragma") {
        return Some("PRAGMA");
    }
    let placeholder = words
        .iter()
        .any(|x| x.len() > 1 && x.starts_with('$') && x[1..].chars().all(|d| d.is_ascii_digit()));
    if placeholder
        && ["=", "<", ">", " like ", " in ("]
            .iter()
            .any(|op| s.to_lowercase().contains(op))
    {
        return Some("a $n placeholder in a condition");
    }
    None
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "tests") {
                continue;
            }
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_sql_outside_the_store() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in GUARDED {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(
        files.len() >= 10,
        "found only {} source files: is the layout as expected?",
        files.len()
    );
    let mut found = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("read source");
        for (line, lit) in string_literals(&src) {
            if let Some(what) = looks_like_sql(&lit) {
                found.push(format!("{}:{line}: {what}", f.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "SQL outside laoxiao-store (move it into a store function):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_detector_finds_sql_and_leaves_prose_alone() {
    let src = r##"
        // "SELECT id FROM facility" in a comment is fine
        let a = c.query_i64("SELECT COUNT(*) FROM person", &[])?;
        let b = '"'; let l: &'static str = "plain words";
        let d = format!("UPDATE facility SET name = $1 WHERE id = $2");
        let e = r#"delete from users"#;
        let f = " AND kind = $3";
        let g = "select a kind from the list";
        let h = "the area lies outside your own";
        let i = "deleted_at IS NULL";
    "##;
    let lits = string_literals(src);
    let flagged: Vec<(usize, &str)> = lits
        .iter()
        .filter_map(|(line, s)| looks_like_sql(s).map(|w| (*line, w)))
        .collect();
    assert_eq!(
        flagged,
        [
            (3, "SELECT … FROM"),
            (5, "UPDATE … SET"),
            (6, "DELETE FROM"),
            (7, "a $n placeholder in a condition"),
            // English that happens to read "select … from" is caught too:
            // such a literal would need rewording, which is rare and cheap.
            (8, "SELECT … FROM"),
            (10, "IS NULL"),
        ]
    );
    assert!(lits.iter().any(|(_, s)| s == "plain words"));
    assert!(!lits.iter().any(|(_, s)| s.contains("in a comment")));
}
