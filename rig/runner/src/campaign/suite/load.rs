//! Reading a suite file: the whole file through yaml_serde, and when that fails, each part on its
//! own (the top level without its cases, each case without its steps, each step) so a file with
//! several mistakes shows all of them, each at its line and column.

use super::check::Problem;
use super::spans::{self, Node, NodeKind, Pos, YamlPath};
use super::{Case, Step, Suite};
use serde::de::{DeserializeOwned, IgnoredAny};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A suite read without structural problems, with what the run and the journal need.
#[derive(Debug, Clone)]
pub struct LoadedSuite {
    pub path: PathBuf,
    /// The directory files in the suite are relative to.
    pub dir: PathBuf,
    /// SHA-256 of the file's bytes (hex), recorded in the journal header.
    pub sha256: String,
    pub suite: Suite,
    /// Source positions, for semantic checks.
    pub root: Node,
}

impl LoadedSuite {
    /// Read and parse a suite file; every structural problem when it does not parse.
    pub fn read(path: &Path) -> Result<LoadedSuite, Vec<Problem>> {
        let bytes = std::fs::read(path).map_err(|e| {
            vec![Problem::new(
                path,
                Pos {
                    line: 1,
                    column: 1,
                    index: 0,
                },
                format!("cannot read: {e}"),
            )]
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            vec![Problem::new(
                path,
                Pos {
                    line: 1,
                    column: 1,
                    index: 0,
                },
                format!("not UTF-8: {e}"),
            )]
        })?;
        LoadedSuite::from_text(path, &text)
    }

    /// Parse `text` as the suite file `path`.
    pub fn from_text(path: &Path, text: &str) -> Result<LoadedSuite, Vec<Problem>> {
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        let text = &normalize_line_breaks(text);
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let whole = crate::campaign::suite::yaml::from_str::<Suite>(text);
        let root = spans::parse(text);
        match (whole, root) {
            (Ok(suite), Ok(root)) => Ok(LoadedSuite {
                path: path.to_path_buf(),
                dir,
                sha256,
                suite,
                root,
            }),
            // yaml_serde (YAML 1.1) accepted what saphyr (YAML 1.2) did not: keep the suite,
            // positions fall back to the start of the file.
            (Ok(suite), Err(_)) => {
                let start = Pos {
                    line: 1,
                    column: 1,
                    index: 0,
                };
                let root = Node {
                    start,
                    end: start,
                    kind: NodeKind::Alias,
                };
                Ok(LoadedSuite {
                    path: path.to_path_buf(),
                    dir,
                    sha256,
                    suite,
                    root,
                })
            }
            (Err(e), Ok(root))
                if crate::campaign::suite::yaml::from_str::<serde_yaml::Value>(text).is_ok() =>
            {
                let mut problems = piecewise(path, text, &root);
                let full = from_error(path, &e, 0, None);
                if !problems
                    .iter()
                    .any(|p| p.line == full.line && p.column == full.column)
                {
                    problems.push(full);
                }
                problems.sort_by_key(|p| (p.line, p.column));
                problems.dedup();
                Err(problems)
            }
            (Err(e), _) => Err(vec![from_error(path, &e, 0, None)]),
        }
    }
}

/// Every YAML line break as `\n`. libyaml (yaml_serde) also breaks lines at `\r`, NEL, LS and PS,
/// saphyr (YAML 1.2) only at `\r` and `\n`: with one kind of break both count lines alike and
/// parts cut out by line keep their positions. Line and column numbers are unchanged.
pub fn normalize_line_breaks(text: &str) -> String {
    text.replace("\r\n", "\n")
        .replace(['\r', '\u{85}', '\u{2028}', '\u{2029}'], "\n")
}

/// Deserialize each part on its own.
fn piecewise(path: &Path, text: &str, root: &Node) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Err(e) = crate::campaign::suite::yaml::from_str::<Suite<IgnoredAny, IgnoredAny>>(text) {
        out.push(from_error(path, &e, 0, None));
    }
    let top = YamlPath::root();
    steps(path, text, root, &top.key("setup"), &mut out);
    if let Some(cases) = root.get(&top.key("cases")) {
        for (i, node) in cases.as_seq().iter().enumerate() {
            let at = top.key("cases").index(i);
            part::<Case<IgnoredAny>>(path, text, node, &at, &mut out);
            steps(path, text, root, &at.key("setup"), &mut out);
            steps(path, text, root, &at.key("steps"), &mut out);
        }
    }
    out
}

fn steps(path: &Path, text: &str, root: &Node, list: &YamlPath, out: &mut Vec<Problem>) {
    if let Some(seq) = root.get(list) {
        for (j, node) in seq.as_seq().iter().enumerate() {
            part::<Step>(path, text, node, &list.index(j), out);
        }
    }
}

fn part<T: DeserializeOwned>(
    path: &Path,
    text: &str,
    node: &Node,
    at: &YamlPath,
    out: &mut Vec<Problem>,
) {
    if matches!(node.kind, NodeKind::Alias) {
        return;
    }
    let sub = node.sub_document(text);
    if let Err(e) = crate::campaign::suite::yaml::from_str::<T>(&sub) {
        out.push(from_error(path, &e, node.line_offset(), Some(at)));
    }
}

/// A problem from a yaml_serde error found in a part starting `line_offset` lines into the file.
fn from_error(
    path: &Path,
    e: &serde_yaml::Error,
    line_offset: usize,
    at: Option<&YamlPath>,
) -> Problem {
    let (pos, mut message) = match e.location() {
        Some(loc) => {
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let msg = e.to_string().replacen(&suffix, "", 1);
            (
                Pos {
                    line: loc.line() + line_offset,
                    column: loc.column(),
                    index: loc.index(),
                },
                msg,
            )
        }
        None => (
            Pos {
                line: line_offset + 1,
                column: 1,
                index: 0,
            },
            e.to_string(),
        ),
    };
    if let Some(at) = at {
        message = format!("{at}: {message}");
        let is_step = matches!(at.0.last(), Some(spans::Seg::Index(_)))
            && at
                .0
                .iter()
                .any(|s| matches!(s, spans::Seg::Key(k) if k == "steps" || k == "setup"));
        if is_step && message.contains("unknown field `fault`") {
            message.push_str(" (a fault belongs in a dfu step)");
        }
    }
    Problem::new(path, pos, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<(usize, usize, String)> {
        LoadedSuite::from_text(Path::new("s.yaml"), text)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.line, p.column, p.message))
            .collect()
    }

    #[test]
    fn every_structural_problem_with_its_position() {
        let text = "\
name: x
colour: blue
cases:
  - name: a
    iteratons: 3
    steps:
      - dfu: { image: a.hex, prm: 1 }
      - flash: { app: a.hex, fault: { action: reset, at: { percent: 1 } } }
  - name: b
    steps:
      - expect:
          outcome: [bricke]
      - reboot
";
        let p = problems(text);
        let at: Vec<(usize, usize)> = p.iter().map(|(l, c, _)| (*l, *c)).collect();
        assert_eq!(
            at,
            [(2, 1), (5, 5), (7, 30), (8, 30), (12, 21), (13, 9)],
            "{p:#?}"
        );
        assert!(p[0].2.contains("unknown field `colour`"), "{}", p[0].2);
        assert!(
            p[1].2.starts_with("cases[0]: ") && p[1].2.contains("unknown field `iteratons`"),
            "{}",
            p[1].2
        );
        assert!(
            p[2].2.starts_with("cases[0].steps[0]: ") && p[2].2.contains("unknown field `prm`"),
            "{}",
            p[2].2
        );
        assert!(
            p[3].2.contains("(a fault belongs in a dfu step)"),
            "{}",
            p[3].2
        );
        assert!(p[4].2.contains("unknown variant `bricke`"), "{}", p[4].2);
        assert!(p[5].2.contains("unknown variant `reboot`"), "{}", p[5].2);
        for (_, _, m) in &p {
            assert!(!m.contains(" at line "), "location left in message: {m}");
        }
    }

    #[test]
    fn line_breaks_of_every_kind_keep_positions() {
        // Found by fuzzing: bare carriage returns are line breaks to both parsers.
        for br in ["\n", "\r\n", "\r", "\u{2028}"] {
            let text = [
                "name: x",
                "cases:",
                "  - name: a",
                "    steps:",
                "      - dfu: { image: a.hex, prm: 1 }",
                "",
            ]
            .join(br);
            let p = problems(&text);
            assert_eq!(p.len(), 1, "{br:?}: {p:?}");
            assert_eq!((p[0].0, p[0].1), (5, 30), "{br:?}");
        }
    }

    #[test]
    fn sweeping_an_unknown_parameter_is_located() {
        let p = problems("name: x\ncases:\n  - name: a\n    sweep: { prn: [1], delay: [300] }\n    steps: [inspect]\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].0, p[0].1), (4, 24));
        assert!(p[0].2.contains("cases[0]: sweep: unknown field `delay`, expected one of `prn`, `mtu`, `transport`, `fault_action`, `fault_at`, `flash_op`"), "{}", p[0].2);
    }

    #[test]
    fn syntax_error_is_one_problem() {
        let p = problems("name: x\ncases: [\n  - a\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].0 >= 2);
    }

    #[test]
    fn a_good_file_loads_with_hash_and_dir() {
        let text = "name: x\ncases:\n  - name: a\n    steps: [inspect]\n";
        let s = LoadedSuite::from_text(Path::new("suites/x.yaml"), text).unwrap();
        assert_eq!(s.dir, Path::new("suites"));
        assert_eq!(s.sha256, hex::encode(Sha256::digest(text.as_bytes())));
        assert_eq!(s.suite.cases[0].steps, [Step::Inspect]);
    }

    #[test]
    fn missing_required_fields() {
        let p = problems("cases:\n  - steps: []\n");
        assert!(
            p.iter()
                .any(|(l, _, m)| *l == 1 && m.contains("missing field `name`")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|(l, _, m)| *l == 2
                && m.contains("cases[0]")
                && m.contains("missing field `name`")),
            "{p:?}"
        );
    }
}
