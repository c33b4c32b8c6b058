//! Every rule the code follows is cited to a source a reader can open: an SDK version, file and
//! function, a pc-nrfutil or probe-rs file, an issue, or the project's own notes under
//! docs/notes/. Sections of research documents that are not in the repository are not such a
//! source, so no tracked file may point at them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// References to documents outside the repository. Built with `concat!` so this file does not
/// match itself.
const FORBIDDEN: &[&str] = &[
    concat!("facts ", "§"),
    concat!("secure-dfu", "-facts"),
    concat!("anchors-and", "-field-lessons"),
];

/// Directories that hold build output or fetched data, never project text.
const SKIPPED_DIRS: &[&str] = &["target", ".git", "artifacts", "corpus", "node_modules"];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// The tracked files when the tree is a git checkout, else every file under the root (a source
/// archive has no `.git`).
fn project_files(root: &Path) -> Vec<PathBuf> {
    let tracked = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|out| out.status.success() && !out.stdout.is_empty());
    match tracked {
        Some(out) => out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root.join(String::from_utf8_lossy(p).as_ref()))
            .collect(),
        None => {
            let mut files = Vec::new();
            walk(root, &mut files);
            files
        }
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !SKIPPED_DIRS.iter().any(|s| name == *s) {
                walk(&path, files);
            }
        } else {
            files.push(path);
        }
    }
}

/// `file:line: text` for every line of `text` holding a forbidden reference.
fn hits(name: &str, text: &str) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| FORBIDDEN.iter().any(|f| line.contains(f)))
        .map(|(i, line)| format!("{name}:{}: {}", i + 1, line.trim()))
        .collect()
}

#[test]
fn no_file_cites_a_document_outside_the_repository() {
    let root = repo_root();
    let files = project_files(&root);
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("rig/runner/tests/source_citations.rs")),
        "the file list of {} does not include this test: the walk is broken",
        root.display()
    );
    let mut found = Vec::new();
    for file in &files {
        // A tracked file deleted in the work tree, or a binary fixture: nothing to cite from.
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        if bytes.contains(&0) {
            continue;
        }
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        found.extend(hits(&name, &String::from_utf8_lossy(&bytes)));
    }
    assert!(
        found.is_empty(),
        "{} line(s) cite a document that is not in the repository; cite the primary source \
         instead (SDK version, file and function; pc-nrfutil or probe-rs file; issue number) or a \
         note under docs/notes/:\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn the_check_sees_each_forbidden_reference() {
    for f in FORBIDDEN {
        let text = format!("// ok\n// see {f} 8.8\n");
        assert_eq!(hits("x.rs", &text), vec![format!("x.rs:2: // see {f} 8.8")]);
    }
    assert!(hits(
        "x.rs",
        "// SDK 17.1 nrf_dfu_req_handler.c, on_data_obj_create_request\n"
    )
    .is_empty());
}
