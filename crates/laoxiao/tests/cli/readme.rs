//! The README's command table against `laoxiao --help` and each verb's
//! `--help`: every verb and subcommand in one is in the other, every flag of a
//! verb is in its row, every global flag on the "Global flags" line, every
//! import kind on the `KIND` line, defaults shown as the binary has them; and
//! the README still opens with exactly its two commands.

use std::collections::{BTreeMap, BTreeSet};

use crate::harness::Env;

fn readme() -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// What one `--help` says.
#[derive(Debug, Default)]
struct Help {
    /// Subcommands (without `help`).
    commands: Vec<String>,
    /// `--flag` → its `[default: …]`, if any.
    flags: BTreeMap<String, Option<String>>,
    /// Positional arguments of the usage line, e.g. `KIND`, `FILE`.
    positionals: Vec<String>,
    /// Possible values of the positional arguments.
    values: Vec<String>,
}

fn help(env: &Env, words: &[&str]) -> Help {
    let o = env.bare().args(words).arg("--help").ok();
    let mut h = Help::default();
    let mut section = "";
    let mut last_flag: Option<String> = None;
    for line in o.stdout.lines() {
        if let Some(usage) = line.strip_prefix("Usage: ") {
            h.positionals = usage
                .split_whitespace()
                .filter(|w| w.starts_with('<') && w.ends_with('>'))
                .map(|w| w.trim_matches(|c| c == '<' || c == '>').to_string())
                .filter(|w| w != "COMMAND")
                .collect();
            // `--out <OUT>` is a flag's value, not a positional.
            let words: Vec<&str> = usage.split_whitespace().collect();
            for w in words.windows(2) {
                if w[0].starts_with("--") {
                    let v = w[1].trim_matches(|c| c == '<' || c == '>');
                    h.positionals.retain(|p| p != v);
                }
            }
            continue;
        }
        if !line.starts_with(' ') && line.ends_with(':') {
            section = match line {
                "Commands:" => "commands",
                "Options:" => "options",
                "Arguments:" => "arguments",
                _ => "",
            };
            continue;
        }
        let t = line.trim_start();
        match section {
            "commands" => {
                if let Some(c) = t.split_whitespace().next()
                    && c != "help"
                    && line.starts_with("  ")
                    && !line.starts_with("   ")
                {
                    h.commands.push(c.to_string());
                }
            }
            "options" => {
                let flag = t
                    .split([' ', ','])
                    .find(|w| w.starts_with("--"))
                    .filter(|_| t.starts_with('-'));
                if let Some(f) = flag {
                    h.flags.insert(f.to_string(), None);
                    last_flag = Some(f.to_string());
                }
                if let (Some(f), Some(d)) = (&last_flag, t.split("[default: ").nth(1)) {
                    let d = d.split(']').next().unwrap_or_default().to_string();
                    h.flags.insert(f.clone(), Some(d));
                }
            }
            "arguments" => {
                if let Some(v) = t.strip_prefix("- ") {
                    let v = v.split(':').next().unwrap_or_default().trim();
                    h.values.push(v.to_string());
                }
            }
            _ => {}
        }
    }
    h.flags.remove("--help");
    h.flags.remove("--version");
    h
}

/// The cells of a Markdown table row (`\|` inside a cell kept).
fn cells(row: &str) -> Vec<String> {
    row.replace("\\|", "\u{1}")
        .trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.replace('\u{1}', "|").trim().to_string())
        .collect()
}

/// Inline code spans of `text`.
fn code_spans(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn flags_in(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect()
}

/// The README's usage section: the command table's commands (the first cell's
/// code, `laoxiao VERB [SUB] …`), and the section's other paragraphs.
fn usage_section(text: &str) -> (Vec<String>, Vec<String>) {
    let start = text
        .find("## 使用 / Using it")
        .expect("a `## 使用 / Using it` section");
    let section = &text[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    let mut commands = Vec::new();
    let mut other = Vec::new();
    for line in section[..end].lines() {
        if line.starts_with('|') {
            let first = cells(line).into_iter().next().unwrap_or_default();
            let spans = code_spans(&first);
            if spans.is_empty() {
                continue; // the header and its rule
            }
            assert_eq!(spans.len(), 1, "one command per row: {line}");
            assert!(spans[0].starts_with("laoxiao "), "{line}");
            commands.push(spans[0].clone());
        } else if line.trim().is_empty() {
            other.push(String::new());
        } else if let Some(last) = other.last_mut().filter(|l| !l.is_empty()) {
            last.push(' ');
            last.push_str(line);
        } else {
            other.push(line.to_string());
        }
    }
    (commands, other)
}

#[test]
fn the_readme_opens_with_its_two_commands() {
    let text = readme();
    let block = text.split("```").nth(1).expect("a code block at the top");
    let commands: Vec<&str> = block
        .lines()
        .skip(1) // the language tag
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .collect();
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(
        commands[0].starts_with("cargo run") && commands[0].ends_with(" demo"),
        "{commands:?}"
    );
    assert!(commands[1].starts_with("cargo test"), "{commands:?}");
    assert!(
        text.find("```").unwrap_or(usize::MAX) < text.find("\n## ").unwrap_or(0),
        "the commands come first"
    );
}

#[test]
fn the_readme_command_table_matches_help() {
    let env = Env::sqlite();
    let top = help(&env, &[]);
    let globals: BTreeSet<String> = top.flags.keys().cloned().collect();
    assert!(globals.contains("--database"), "{top:?}");
    let (rows, other) = usage_section(&readme());

    // Every verb and subcommand of --help, as (verb, sub) → Help.
    let mut commands: BTreeMap<(String, String), Help> = BTreeMap::new();
    for verb in &top.commands {
        let h = help(&env, &[verb]);
        if h.commands.is_empty() {
            commands.insert((verb.clone(), String::new()), h);
        } else {
            for sub in &h.commands {
                commands.insert((verb.clone(), sub.clone()), help(&env, &[verb, sub]));
            }
        }
    }
    assert!(commands.len() >= 20, "{:?}", commands.keys());

    // Each README row names one of them.
    let mut rows_of: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for row in &rows {
        let words: Vec<&str> = row.split_whitespace().collect();
        let verb = words.get(1).copied().unwrap_or_default().to_string();
        let sub = words.get(2).copied().unwrap_or_default().to_string();
        let key = if commands.contains_key(&(verb.clone(), sub.clone())) {
            (verb, sub)
        } else {
            (verb, String::new())
        };
        assert!(
            commands.contains_key(&key),
            "README row `{row}`: no such command in `laoxiao --help`"
        );
        rows_of.entry(key).or_default().push(row.clone());
    }
    for (key, h) in &commands {
        let shown = format!("laoxiao {} {}", key.0, key.1);
        let rows = rows_of
            .get(key)
            .unwrap_or_else(|| panic!("`{}` is missing from the README's table", shown.trim()));
        let text = rows.join(" ");
        let in_readme = flags_in(&text);
        for flag in h.flags.keys().filter(|f| !globals.contains(*f)) {
            assert!(
                in_readme.contains(flag),
                "README: `{}` lacks {flag}",
                shown.trim()
            );
        }
        for flag in &in_readme {
            assert!(
                h.flags.contains_key(flag),
                "README: `{}` shows {flag}, which it does not take",
                shown.trim()
            );
        }
        for p in &h.positionals {
            assert!(
                text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                    .any(|w| w == p),
                "README: `{}` lacks its argument {p}",
                shown.trim()
            );
        }
        // A value shown after a flag with a default is that default.
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
            .filter(|w| !w.is_empty())
            .collect();
        for w in words.windows(2) {
            if let Some(Some(default)) = h.flags.get(w[0])
                && w[1].starts_with(|c: char| c.is_ascii_digit())
            {
                let same = w[1] == default
                    || matches!((w[1].parse::<f64>(), default.parse::<f64>()), (Ok(a), Ok(b)) if a == b);
                assert!(
                    same,
                    "README: `{}` shows {} {}, the default is {default}",
                    shown.trim(),
                    w[0],
                    w[1]
                );
            }
        }
    }

    // The global flags, on their own line.
    let global_line = other
        .iter()
        .find(|l| l.starts_with("Global flags:"))
        .expect("a `Global flags:` line");
    let listed = flags_in(global_line);
    assert_eq!(listed, globals, "README's global flags");

    // The kinds, on the `KIND` line: every possible value of every verb's KIND.
    let kind_line = other
        .iter()
        .find(|l| l.starts_with("`KIND`"))
        .expect("a line starting with `KIND` listing the kinds");
    let kinds: BTreeSet<String> = code_spans(kind_line).into_iter().collect();
    let mut with_kind = 0;
    for ((verb, _), h) in &commands {
        if h.positionals.iter().any(|p| p == "KIND") {
            with_kind += 1;
            for v in &h.values {
                assert!(kinds.contains(v), "README's KIND line lacks `{v}` ({verb})");
            }
            // One per register (RecordKind): 10 before issue 15, then the
            // home-care beds, the service catalogue and the devices.
            assert_eq!(h.values.len(), 13, "{verb}: {:?}", h.values);
        }
    }
    assert_eq!(with_kind, 3, "import, export and template take a KIND");
}
