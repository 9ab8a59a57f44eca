//! Finds the line of a field in a scenario file from its dotted path (`hops.<name>.servers`).
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
