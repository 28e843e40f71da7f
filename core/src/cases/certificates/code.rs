//! Verification codes: 100 random bits in Crockford's base32, printed in four groups of five
//! (`7KQ2M-…`). Reading forgives case, dashes, spaces and the letters O, I and L.

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const LENGTH: usize = 20;

/// A new code, without dashes.
pub fn generate() -> String {
    let bytes = crate::crypto::random_bytes::<13>();
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(b);
    }
    (0..LENGTH)
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
        .collect()
}

/// As printed: `XXXXX-XXXXX-XXXXX-XXXXX`.
pub fn display(code: &str) -> String {
    code.as_bytes()
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// The code a person typed or scanned, normalised; `None` when it cannot be one.
pub fn parse(input: &str) -> Option<String> {
    let mut code = String::with_capacity(LENGTH);
    for c in input.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || code.len() == LENGTH {
            return None;
        }
        code.push(c);
    }
    (code.len() == LENGTH).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_codes_read_back() {
        let code = generate();
        assert_eq!(code.len(), LENGTH);
        assert_ne!(code, generate());
        let printed = display(&code);
        assert_eq!(printed.len(), LENGTH + 3);
        assert_eq!(parse(&printed).as_deref(), Some(code.as_str()));
        assert_eq!(parse(&printed.to_lowercase()).as_deref(), Some(code.as_str()));
    }

    #[test]
    fn malformed_codes_are_refused() {
        assert_eq!(parse("ABCDE-FGHJK-MNPQR-STVW"), None);
        assert_eq!(parse("ABCDE-FGHJK-MNPQR-STVWXY"), None);
        assert_eq!(parse("ABCDE-FGHJK-MNPQR-STVW!"), None);
        assert_eq!(parse("ABCDE-FGHJK-MNPQR-STVWU"), None);
        assert_eq!(
            parse("abcde fghjk mnpqr stvwo").as_deref(),
            Some("ABCDEFGHJKMNPQRSTVW0")
        );
    }
}
