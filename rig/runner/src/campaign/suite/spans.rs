//! Source positions for the nodes of a YAML document. yaml_serde reports where a document fails
//! to deserialize but keeps no positions afterwards, so semantic checks (a missing image file,
//! a sweep that conflicts with a step) find theirs here: saphyr-parser's event stream, which
//! carries a span for every node, is folded into a small tree addressed by key/index paths.
//!
//! The tree also cuts a node out as a document of its own with every position unchanged (the
//! lines before it dropped, the text before it on its first line blanked), so each case and step
//! can be deserialized on its own and every structural problem of a file gets reported, not only
//! the first.

use saphyr_parser::{Event, Parser, ScanError, Span};

/// A position: 1-based line and column (in characters), as editors and compilers print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
    /// 0-based character index in the text.
    pub index: usize,
}

impl Pos {
    fn start_of(span: &Span) -> Pos {
        Pos {
            line: span.start.line(),
            column: span.start.col() + 1,
            index: span.start.index(),
        }
    }
    fn end_of(span: &Span) -> Pos {
        Pos {
            line: span.end.line(),
            column: span.end.col() + 1,
            index: span.end.index(),
        }
    }
}

/// One path step: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path such as `cases[2].steps[0].dfu.fault`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YamlPath(pub Vec<Seg>);

impl YamlPath {
    pub fn root() -> YamlPath {
        YamlPath(Vec::new())
    }
    pub fn key(&self, k: &str) -> YamlPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }
    pub fn index(&self, i: usize) -> YamlPath {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl std::fmt::Display for YamlPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for s in &self.0 {
            match s {
                Seg::Key(k) if first => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        if first {
            f.write_str("(document)")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Scalar(String),
    Seq(Vec<Node>),
    /// Keys with their own nodes (for their positions), then values.
    Map(Vec<(Node, Node)>),
    Alias,
}

/// A node with the extent of its content.
#[derive(Debug, Clone)]
pub struct Node {
    pub start: Pos,
    pub end: Pos,
    pub kind: NodeKind,
}

impl Node {
    /// The node at `path`, if every step exists.
    pub fn get(&self, path: &YamlPath) -> Option<&Node> {
        let mut n = self;
        for seg in &path.0 {
            n = n.child(seg)?;
        }
        Some(n)
    }

    fn child(&self, seg: &Seg) -> Option<&Node> {
        match (&self.kind, seg) {
            (NodeKind::Map(entries), Seg::Key(k)) => entries
                .iter()
                .find(|(key, _)| matches!(&key.kind, NodeKind::Scalar(s) if s == k))
                .map(|(_, v)| v),
            (NodeKind::Seq(items), Seg::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// The key node of the last step of `path` (for problems about a key itself).
    pub fn key_node(&self, path: &YamlPath) -> Option<&Node> {
        let (last, parent) = path.0.split_last()?;
        let Seg::Key(k) = last else { return None };
        match &self.get(&YamlPath(parent.to_vec()))?.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(key, _)| matches!(&key.kind, NodeKind::Scalar(s) if s == k))
                .map(|(key, _)| key),
            _ => None,
        }
    }

    /// Where `path` is, or its deepest existing ancestor when the rest is absent (a default
    /// that was not written points at the mapping that omits it).
    pub fn locate(&self, path: &YamlPath) -> Pos {
        let mut n = self;
        for seg in &path.0 {
            match n.child(seg) {
                Some(c) => n = c,
                None => break,
            }
        }
        n.start
    }

    pub fn as_seq(&self) -> &[Node] {
        match &self.kind {
            NodeKind::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// This node as a document of its own: the lines it spans, with the text before it on its
    /// first line and after it on its last line blanked, so every line and column is as in the
    /// whole file once `line_offset()` is added to lines.
    pub fn sub_document(&self, text: &str) -> String {
        let lines: Vec<&str> = text.split('\n').collect();
        let first = self.start.line.saturating_sub(1);
        let last = self
            .end
            .line
            .saturating_sub(1)
            .min(lines.len().saturating_sub(1));
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate().take(last + 1).skip(first) {
            let line = line.strip_suffix('\r').unwrap_or(line);
            for (col, ch) in line.chars().enumerate() {
                let before = i == first && col + 1 < self.start.column;
                let after = i == last && col + 1 >= self.end.column;
                out.push(if before || after { ' ' } else { ch });
            }
            out.push('\n');
        }
        out
    }

    /// Lines before the node: add to a line found in `sub_document()`.
    pub fn line_offset(&self) -> usize {
        self.start.line.saturating_sub(1)
    }
}

/// The document's root node (a null scalar for an empty document).
pub fn parse(text: &str) -> Result<Node, (Pos, String)> {
    let mut events = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(ev) = parser.next_event() {
        match ev {
            Ok((e, span)) => events.push((e, span)),
            Err(e) => return Err(scan_error(&e)),
        }
    }
    let mut it = events.into_iter().peekable();
    // Skip to the first document's root.
    while let Some((e, _)) = it.peek() {
        if matches!(e, Event::StreamStart | Event::DocumentStart(_)) {
            it.next();
        } else {
            break;
        }
    }
    let empty = Node {
        start: Pos {
            line: 1,
            column: 1,
            index: 0,
        },
        end: Pos {
            line: 1,
            column: 1,
            index: 0,
        },
        kind: NodeKind::Scalar(String::new()),
    };
    match it.peek() {
        None | Some((Event::StreamEnd | Event::DocumentEnd, _)) => Ok(empty),
        Some(_) => {
            build(&mut it).ok_or_else(|| (empty.start, "unbalanced YAML events".to_string()))
        }
    }
}

fn scan_error(e: &ScanError) -> (Pos, String) {
    let m = e.marker();
    (
        Pos {
            line: m.line(),
            column: m.col() + 1,
            index: m.index(),
        },
        e.info().to_string(),
    )
}

fn build<'a, I: Iterator<Item = (Event<'a>, Span)>>(
    it: &mut std::iter::Peekable<I>,
) -> Option<Node> {
    let (event, span) = it.next()?;
    let start = Pos::start_of(&span);
    // Flow collections' start events cover their `{`/`[`; block ones are empty and their end
    // event sits at the next token, so a block collection ends where its last child ends.
    let flow = span.start.index() != span.end.index();
    match event {
        Event::Scalar(value, ..) => Some(Node {
            start,
            end: Pos::end_of(&span),
            kind: NodeKind::Scalar(value.into_owned()),
        }),
        Event::Alias(_) => Some(Node {
            start,
            end: Pos::end_of(&span),
            kind: NodeKind::Alias,
        }),
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            loop {
                if let Some((Event::SequenceEnd, end_span)) = it.peek() {
                    let end = if flow || items.is_empty() {
                        Pos::end_of(end_span)
                    } else {
                        items.last().map(|n: &Node| n.end).unwrap_or(start)
                    };
                    it.next();
                    return Some(Node {
                        start,
                        end,
                        kind: NodeKind::Seq(items),
                    });
                }
                items.push(build(it)?);
            }
        }
        Event::MappingStart(..) => {
            let mut entries: Vec<(Node, Node)> = Vec::new();
            loop {
                if let Some((Event::MappingEnd, end_span)) = it.peek() {
                    let end = if flow || entries.is_empty() {
                        Pos::end_of(end_span)
                    } else {
                        entries.last().map(|(_, v)| v.end).unwrap_or(start)
                    };
                    it.next();
                    return Some(Node {
                        start,
                        end,
                        kind: NodeKind::Map(entries),
                    });
                }
                let k = build(it)?;
                let v = build(it)?;
                entries.push((k, v));
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "name: x # c\ncases:\n  - name: a\n    steps:\n      - dfu: { image: a.hex, prn: 0x8C }\n      - expect:\n          outcome: [completed]\n\n# trailing\n  - name: b\n    iterations: 3\n";

    fn p(segs: &[Seg]) -> YamlPath {
        YamlPath(segs.to_vec())
    }

    #[test]
    fn positions_of_nodes_and_keys() {
        let root = parse(DOC).unwrap();
        let k = |s: &str| Seg::Key(s.into());
        let dfu = p(&[
            k("cases"),
            Seg::Index(0),
            k("steps"),
            Seg::Index(0),
            k("dfu"),
        ]);
        let n = root.get(&dfu).unwrap();
        assert_eq!((n.start.line, n.start.column), (5, 14));
        assert_eq!((n.end.line, n.end.column), (5, 41));
        let prn = root.get(&dfu.key("prn")).unwrap();
        assert_eq!(prn.as_str(), Some("0x8C"));
        assert_eq!((prn.start.line, prn.start.column), (5, 35));
        let key = root.key_node(&dfu.key("prn")).unwrap();
        assert_eq!((key.start.line, key.start.column), (5, 30));
        let it = root
            .get(&p(&[k("cases"), Seg::Index(1), k("iterations")]))
            .unwrap();
        assert_eq!((it.start.line, it.start.column), (11, 17));
        // A block mapping ends with its last value, not at the next token.
        let expect = root
            .get(&p(&[k("cases"), Seg::Index(0), k("steps"), Seg::Index(1)]))
            .unwrap();
        assert_eq!((expect.end.line, expect.end.column), (7, 31));
        assert_eq!(
            root.get(&p(&[k("cases"), Seg::Index(0), k("steps")]))
                .unwrap()
                .as_seq()
                .len(),
            2
        );
    }

    #[test]
    fn locate_falls_back_to_the_deepest_existing_node() {
        let root = parse(DOC).unwrap();
        let case1 = YamlPath::root().key("cases").index(1);
        assert_eq!(
            root.locate(&case1.key("sweep").key("prn")),
            root.get(&case1).unwrap().start
        );
        assert_eq!(root.locate(&case1).line, 10);
        assert_eq!(case1.key("steps").index(3).to_string(), "cases[1].steps[3]");
        assert_eq!(YamlPath::root().to_string(), "(document)");
    }

    #[test]
    fn sub_documents_keep_positions() {
        let root = parse(DOC).unwrap();
        let step = root
            .get(&YamlPath::root().key("cases").index(0).key("steps").index(1))
            .unwrap();
        let sub = step.sub_document(DOC);
        assert_eq!(sub, "        expect:\n          outcome: [completed]\n");
        assert_eq!(step.line_offset(), 5);
        // yaml_serde finds an error in the cut-out at the same column, and the line is found by
        // adding the offset.
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Expect {
            outcom: Vec<String>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            expect: Expect,
        }
        let e = crate::campaign::suite::yaml::from_str::<S>(&sub).unwrap_err();
        let loc = e.location().unwrap();
        assert_eq!((loc.line() + step.line_offset(), loc.column()), (7, 11));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let (pos, msg) = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(pos.line >= 1 && !msg.is_empty());
        assert!(matches!(parse("").unwrap().kind, NodeKind::Scalar(ref s) if s.is_empty()));
    }
}
