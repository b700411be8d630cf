//! Why a job was rejected or failed: a stable machine code and a sentence, kept on the job as
//! one text (`code: sentence`) that people read as it is. This type is the one place that
//! writes and reads that form.

use std::fmt;

/// A reason code and its sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason<'a> {
    pub code: &'a str,
    pub message: &'a str,
}

impl<'a> Reason<'a> {
    pub fn new(code: &'a str, message: &'a str) -> Self {
        Reason { code, message }
    }

    /// The code and sentence of a reason written by [`Reason::to_string`]; any other text (an
    /// operator's note) gets the code `fallback` and is the sentence whole.
    pub fn parse(text: &'a str, fallback: &'a str) -> Self {
        match text.split_once(": ") {
            Some((code, message))
                if !code.is_empty()
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
            {
                Reason { code, message }
            }
            _ => Reason {
                code: fallback,
                message: text,
            },
        }
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_back_into_code_and_message() {
        let cases = [
            (
                "empty_file: the file is empty",
                ("empty_file", "the file is empty"),
            ),
            ("too_large: 12: too big", ("too_large", "12: too big")),
            ("Model: weird", ("rejected", "Model: weird")),
            ("no code here", ("rejected", "no code here")),
            (": nothing", ("rejected", ": nothing")),
            ("", ("rejected", "")),
        ];
        for (text, (code, message)) in cases {
            assert_eq!(
                Reason::parse(text, "rejected"),
                Reason::new(code, message),
                "{text}"
            );
        }
        let written = Reason::new("a_b", "c").to_string();
        assert_eq!(written, "a_b: c");
        assert_eq!(Reason::parse(&written, "x"), Reason::new("a_b", "c"));
    }
}
