//! Text that fits a terminal: words wrapped at a width, commands broken with a shell line
//! continuation so they still paste, widths counted in terminal columns (not bytes).

use unicode_width::UnicodeWidthStr;

/// Columns `s` takes on a terminal.
pub fn columns(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `text` in lines of at most `width` columns, the first starting with `first`, the rest with
/// `rest` (indents count). A word longer than a line stands alone on its line. Without a width,
/// one line.
pub fn wrap_with(text: &str, width: Option<usize>, first: &str, rest: &str) -> Vec<String> {
    let Some(width) = width else {
        return vec![format!("{first}{text}")];
    };
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !empty && columns(&line) + 1 + columns(word) > width {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    lines.push(line);
    lines
}

/// [`wrap_with`] without indents.
pub fn wrap(text: &str, width: Option<usize>) -> Vec<String> {
    wrap_with(text, width, "", "")
}

/// Shell words of `cmd` as written (a single-quoted part with spaces stays one word).
fn shell_words(cmd: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let (mut start, mut quoted) = (None, false);
    for (i, c) in cmd.char_indices() {
        match c {
            '\'' => {
                quoted = !quoted;
                start.get_or_insert(i);
            }
            ' ' if !quoted => {
                if let Some(s) = start.take() {
                    words.push(&cmd[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        words.push(&cmd[s..]);
    }
    words
}

/// A shell command in lines of at most `width` columns, the first starting with `first`, the
/// rest with `rest`, each but the last continued with ` \\`, so it pastes into a shell as shown.
pub fn wrap_command(cmd: &str, width: Option<usize>, first: &str, rest: &str) -> Vec<String> {
    let Some(width) = width else {
        return vec![format!("{first}{cmd}")];
    };
    let words = shell_words(cmd);
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut empty = true;
    for w in words {
        // Room for " \" at the end of every line but the last.
        if !empty && columns(&line) + 1 + columns(w) + 2 > width {
            line.push_str(" \\");
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(w);
        empty = false;
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_wrap_at_the_width_with_their_indents() {
        let lines = wrap_with("a bb ccc dddd eeeee", Some(10), "- ", "  ");
        assert_eq!(lines, ["- a bb ccc", "  dddd", "  eeeee"]);
        assert!(lines.iter().all(|l| columns(l) <= 10));
        assert_eq!(wrap("a bb", None), ["a bb"]);
        assert_eq!(
            wrap("averyveryverylongword x", Some(5)),
            ["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn a_command_breaks_between_shell_words_and_still_pastes() {
        let cmd = "rig run suites/soak.yaml --seed 9 --bench 'benches/lab one.yaml' --replay 'cut[flash_op=3]:0'";
        let lines = wrap_command(cmd, Some(40), "    replay: ", "      ");
        assert!(lines.iter().all(|l| columns(l) <= 40), "{lines:#?}");
        assert!(lines[..lines.len() - 1].iter().all(|l| l.ends_with(" \\")));
        assert!(lines.iter().any(|l| l.contains("'benches/lab one.yaml'")));
        // Joined as a shell joins continued lines: the command again.
        let joined: Vec<&str> = lines
            .iter()
            .map(|l| {
                l.trim_start_matches("    replay: ")
                    .trim()
                    .trim_end_matches('\\')
                    .trim()
            })
            .collect();
        assert_eq!(joined.join(" "), cmd);
        assert!(lines[0].starts_with("    replay: rig run"));
        assert_eq!(wrap_command(cmd, None, "  ", ""), [format!("  {cmd}")]);
    }

    #[test]
    fn columns_count_what_a_terminal_shows() {
        assert_eq!(columns("µs"), 2);
        assert_eq!(columns("–"), 1);
    }
}
