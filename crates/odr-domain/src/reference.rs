//! Human references like `ODR-7Q4K-92XD`: short enough to read over the
//! phone, from an alphabet without look-alikes (no 0/O, 1/I/L).

/// 31 symbols: digits 2–9 and the capitals without I, L and O.
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Builds a reference from 8 random numbers (the caller owns randomness).
pub fn from_random(random: [u32; 8]) -> String {
    let mut out = String::from("ODR-");
    for (i, r) in random.iter().enumerate() {
        if i == 4 {
            out.push('-');
        }
        out.push(ALPHABET[(*r as usize) % ALPHABET.len()] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `s` is shaped like a reference this engine makes.
    fn is_reference(s: &str) -> bool {
        let b = s.as_bytes();
        b.len() == 13
            && s.starts_with("ODR-")
            && b[8] == b'-'
            && b[4..8]
                .iter()
                .chain(&b[9..13])
                .all(|c| ALPHABET.contains(c))
    }

    #[test]
    fn references_use_only_unambiguous_symbols() {
        let r = from_random([0, 7, 30, 31, 12, 99, 5, 1234]);
        assert!(is_reference(&r), "{r}");
        assert!(!r[4..].contains(['0', 'O', '1', 'I', 'L']));
        assert!(!is_reference("ODR-0000-0000"));
    }
}
