//! Byte offsets in the rules text -> human line/column, so every rules error points at a line.

use std::fmt;
use std::ops::Range;

/// A 1-based line and column (in characters) in the rules text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// Location of the start of `span` in `text`; offsets past the end clamp to the end.
    pub fn of_span(text: &str, span: &Range<usize>) -> Location {
        let mut offset = span.start.min(text.len());
        // A span from the TOML parser always starts on a char boundary, but clamp defensively.
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        Location { line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_one_based_lines_and_columns() {
        let text = "a = 1\nbé = 2\n\nc = 3";
        let cases = [
            (0, 1, 1),
            (4, 1, 5),
            (6, 2, 1),
            (10, 2, 4), // after the two-byte 'é'
            (14, 3, 1),
            (15, 4, 1),
            (999, 4, 6),
        ];
        for (offset, line, column) in cases {
            assert_eq!(
                Location::of_span(text, &(offset..offset)),
                Location { line, column },
                "offset {offset}"
            );
        }
    }
}
