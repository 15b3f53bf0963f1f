//! What text a person names things with may hold: no control characters and no bidirectional
//! overrides or isolates (U+202A–U+202E, U+2066–U+2069), which make a name display as
//! something other than what it is ("Trojan Source").

/// Whether `c` reorders the text around it when displayed.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether a name or label holds a character it must not: a control or a bidi control.
pub fn has_unsafe_characters(text: &str) -> bool {
    text.chars().any(|c| c.is_control() || is_bidi_control(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_unsafe() {
        assert!(!has_unsafe_characters("SAP production — Bengaluru"));
        assert!(has_unsafe_characters("a\u{202E}b"));
        assert!(has_unsafe_characters("a\u{2067}b"));
        assert!(has_unsafe_characters("a\0b"));
        assert!(has_unsafe_characters("a\nb"));
    }
}
