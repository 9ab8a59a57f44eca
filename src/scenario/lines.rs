//! Finds the line of a field in a scenario file from its dotted path (`hops.gc.servers`).
//!
//! Validation works on values and knows only paths; this module maps a path back to the text
//! with `toml_edit`, which keeps spans, so every error can name its line.

use toml_edit::{Document, Item, Table, Value};

/// The 1-based line holding byte `offset`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// A parsed file that answers "which line holds this path?".
pub struct LineIndex<'a> {
    text: &'a str,
    doc: Option<Document<&'a str>>,
}

enum Node<'d> {
    Table(&'d Table),
    Value(&'d Value),
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        LineIndex {
            text,
            doc: Document::parse(text).ok(),
        }
    }

    /// The line of the deepest existing part of `path` (segments separated by dots; numeric
    /// segments index arrays). Falls back to line 1 when nothing matches (a default value).
    pub fn line(&self, path: &str) -> usize {
        let Some(doc) = &self.doc else { return 1 };
        let mut node = Node::Table(doc.as_table());
        let mut best: Option<usize> = None;
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            let next = match node {
                Node::Table(t) => t.get_key_value(seg).and_then(|(k, item)| {
                    best = k.span().or_else(|| item.span()).map(|s| s.start).or(best);
                    match item {
                        Item::Table(t) => Some(Node::Table(t)),
                        Item::Value(v) => Some(Node::Value(v)),
                        // Arrays of tables are not part of the schema.
                        Item::ArrayOfTables(_) | Item::None => None,
                    }
                }),
                Node::Value(v) => step_value(v, seg, &mut best),
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        best.map(|o| line_of(self.text, o)).unwrap_or(1)
    }
}

impl LineIndex<'_> {
    /// The dotted path of the deepest key or value whose span holds byte `offset` (a table
    /// header counts for its table), or None when the file does not parse or nothing does.
    pub fn path_at(&self, offset: usize) -> Option<String> {
        let doc = self.doc.as_ref()?;
        let segs = path_in_table(doc.as_table(), offset)?;
        (!segs.is_empty()).then(|| segs.join("."))
    }

    /// Whether `path` names something written in the file (not a default).
    pub fn contains(&self, path: &str) -> bool {
        let Some(doc) = &self.doc else { return false };
        let mut node = Node::Table(doc.as_table());
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            let mut ignored = None;
            let next = match node {
                Node::Table(t) => t.get(seg).and_then(|item| match item {
                    Item::Table(t) => Some(Node::Table(t)),
                    Item::Value(v) => Some(Node::Value(v)),
                    Item::ArrayOfTables(_) | Item::None => None,
                }),
                Node::Value(v) => step_value(v, seg, &mut ignored),
            };
            match next {
                Some(n) => node = n,
                None => return false,
            }
        }
        true
    }
}

fn holds(span: Option<std::ops::Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.start <= offset && offset < s.end.max(s.start + 1))
}

fn path_in_table(t: &Table, offset: usize) -> Option<Vec<String>> {
    for (name, item) in t.iter() {
        let key_span = t.key(name).and_then(|k| k.span());
        let deeper = match item {
            Item::Value(v) if holds(v.span(), offset) => Some(path_in_value(v, offset)),
            Item::Table(sub) => {
                path_in_table(sub, offset).or_else(|| holds(sub.span(), offset).then(Vec::new))
            }
            Item::ArrayOfTables(a) => a.iter().enumerate().find_map(|(i, sub)| {
                path_in_table(sub, offset).map(|mut p| {
                    p.insert(0, i.to_string());
                    p
                })
            }),
            _ => None,
        };
        if let Some(mut p) = deeper {
            p.insert(0, name.to_string());
            return Some(p);
        }
        if holds(key_span, offset) {
            return Some(vec![name.to_string()]);
        }
    }
    None
}

fn path_in_value(v: &Value, offset: usize) -> Vec<String> {
    match v {
        Value::InlineTable(t) => {
            for (name, item) in t.iter() {
                let key_span = t.key(name).and_then(|k| k.span());
                if holds(item.span(), offset) || holds(key_span, offset) {
                    let mut p = vec![name.to_string()];
                    p.extend(path_in_value(item, offset));
                    return p;
                }
            }
            Vec::new()
        }
        Value::Array(a) => {
            for (i, item) in a.iter().enumerate() {
                if holds(item.span(), offset) {
                    let mut p = vec![i.to_string()];
                    p.extend(path_in_value(item, offset));
                    return p;
                }
            }
            Vec::new()
        }
        _ => Vec::new(),
    }
}

fn step_value<'d>(v: &'d Value, seg: &str, best: &mut Option<usize>) -> Option<Node<'d>> {
    match v {
        Value::InlineTable(t) => t.get_key_value(seg).and_then(|(k, item)| {
            *best = k.span().or_else(|| item.span()).map(|s| s.start).or(*best);
            item.as_value().map(Node::Value)
        }),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)).map(|v| {
            *best = v.span().map(|s| s.start).or(*best);
            Node::Value(v)
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n\n[hops.a]\nservers = 4\nservice_ms = { dist = \"exponential\", mean = 2 }\n\n[routes.r]\nnext = [\n  { p = 0.5, deliver = \"f\" },\n  { p = 0.5, route = \"r\" },\n]\n";

    #[test]
    fn finds_the_path_at_an_offset() {
        let ix = LineIndex::new(TEXT);
        let at = |needle: &str| ix.path_at(TEXT.find(needle).unwrap());
        assert_eq!(at("4\n").as_deref(), Some("hops.a.servers"));
        assert_eq!(at("2 }").as_deref(), Some("hops.a.service_ms.mean"));
        assert_eq!(at("0.5, route").as_deref(), Some("routes.r.next.1.p"));
        assert_eq!(at("[hops.a]").as_deref(), Some("hops.a"));
        assert!(ix.contains("hops.a.service_ms.dist"));
        assert!(!ix.contains("hops.a.queue_limit"));
    }

    #[test]
    fn finds_lines_of_nested_fields() {
        let ix = LineIndex::new(TEXT);
        assert_eq!(ix.line("name"), 1);
        assert_eq!(ix.line("hops.a"), 3);
        assert_eq!(ix.line("hops.a.servers"), 4);
        assert_eq!(ix.line("hops.a.service_ms.mean"), 5);
        assert_eq!(ix.line("routes.r.next.1.p"), 10);
        assert_eq!(
            ix.line("hops.missing.servers"),
            3,
            "the deepest part that exists: `hops`"
        );
        assert_eq!(ix.line("nowhere"), 1);
        assert_eq!(ix.line("routes.r.next.7"), 8);
    }
}
