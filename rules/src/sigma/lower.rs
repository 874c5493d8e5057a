//! Lower-casing values for the prefilter, exactly as `str::to_lowercase` does (the lowering
//! rsigma applies before its case-insensitive matchers), but in one pass and into a byte buffer
//! the scans read.
//!
//! `str::to_lowercase` has a fast path for a leading ASCII run only: past the first non-ASCII
//! character (a `®` in `Microsoft® Windows®`, early in a Windows event's 700-byte `Message`) it
//! maps the rest one character at a time. Here every ASCII run, wherever it is, is lowered 16
//! bytes at a time (a loop the compiler turns into SIMD), and only the non-ASCII characters go
//! through `char::to_lowercase`, which is the same per-character mapping. The one character
//! whose lower case depends on its neighbours, the capital sigma (`Σ` becomes `ς` at the end of
//! a word), sends the whole value to `str::to_lowercase` itself.

/// Bytes lowered per step of the ASCII loop.
const CHUNK: usize = 16;

/// Whether `s` is already what [`push_lowered`] would make of it: ASCII without an upper-case
/// letter (a non-ASCII value is always lowered, as most non-ASCII text is not known to be lower
/// case without mapping it).
#[inline]
pub fn is_lower_ascii(s: &[u8]) -> bool {
    let mut chunks = s.chunks_exact(CHUNK);
    for c in &mut chunks {
        let mut bad = false;
        for &b in c {
            bad |= b >= 0x80 || b.wrapping_sub(b'A') < 26;
        }
        if bad {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| b < 0x80 && b.wrapping_sub(b'A') >= 26)
}

#[inline(always)]
fn lower_byte(b: u8) -> u8 {
    b | (((b.wrapping_sub(b'A') < 26) as u8) << 5)
}

/// Append `s` lower-cased to `buf`: the bytes of `s.to_lowercase()`.
#[inline]
pub fn push_lowered(buf: &mut Vec<u8>, s: &str) {
    let start = buf.len();
    let bytes = s.as_bytes();
    buf.reserve(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(c) = bytes.get(i..i + CHUNK) {
            let mut out = [0u8; CHUNK];
            let mut high = 0u8;
            for (o, &b) in out.iter_mut().zip(c) {
                high |= b;
                *o = lower_byte(b);
            }
            if high < 0x80 {
                buf.extend_from_slice(&out);
                i += CHUNK;
                continue;
            }
        }
        // A short tail, or a chunk holding a non-ASCII character: byte by byte up to the end of
        // the chunk, characters whole.
        let end = (i + CHUNK).min(bytes.len());
        while i < end {
            let b = bytes[i];
            if b < 0x80 {
                buf.push(lower_byte(b));
                i += 1;
                continue;
            }
            // `i` is a character boundary: ASCII bytes and whole characters were consumed.
            let Some(c) = s[i..].chars().next() else { break };
            if c == 'Σ' {
                buf.truncate(start);
                buf.extend_from_slice(s.to_lowercase().as_bytes());
                return;
            }
            let mut enc = [0u8; 4];
            for l in c.to_lowercase() {
                buf.extend_from_slice(l.encode_utf8(&mut enc).as_bytes());
            }
            i += c.len_utf8();
        }
    }
}

/// `s` lower-cased: borrowed when it already is, else lowered into `buf`.
#[inline]
pub fn lowered<'a>(s: &'a str, buf: &'a mut Vec<u8>) -> &'a [u8] {
    if is_lower_ascii(s.as_bytes()) {
        return s.as_bytes();
    }
    buf.clear();
    push_lowered(buf, s);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) {
        let mut buf = b"prefix".to_vec();
        push_lowered(&mut buf, s);
        assert_eq!(&buf[6..], s.to_lowercase().as_bytes(), "{s:?}");
        let mut b2 = Vec::new();
        assert_eq!(lowered(s, &mut b2), s.to_lowercase().as_bytes(), "{s:?}");
        assert_eq!(is_lower_ascii(s.as_bytes()), s.is_ascii() && s.to_lowercase() == s, "{s:?}");
    }

    #[test]
    fn equals_std_lowercase() {
        for s in [
            "",
            "a",
            "ABC",
            "C:\\Windows\\System32\\CMD.EXE /c WHOAMI",
            "Microsoft® Windows® Operating System",
            "@[\\]^_`{|}~ AZ az 09",
            "İstanbul KELVIN K ǅ ß ẞ",
            "ΟΔΥΣΣΕΥΣ and ΣΑΣ Σ aΣ aΣb",
            "x".repeat(15).as_str(),
            "x".repeat(16).as_str(),
            format!("{}é{}", "A".repeat(15), "B".repeat(40)).as_str(),
            format!("{}🦆{}", "Q".repeat(14), "Z".repeat(3)).as_str(),
            format!("{}Σ", "A".repeat(33)).as_str(),
        ] {
            check(s);
        }
    }

    #[test]
    fn equals_std_lowercase_on_mixed_text() {
        // Every split of ASCII runs and multi-byte characters around the 16-byte chunks.
        let pieces = ["A", "z", "Ü", "ß", "İ", "K", "Σ", "€", "𝐀", "-", "\0", "Ⓜ"];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            let mut s = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 48) as usize;
            for k in 0..len {
                let r = seed.rotate_left(k as u32 * 5) as usize;
                // Mostly ASCII, as values are.
                let p = if r.is_multiple_of(4) { pieces[(r / 4) % pieces.len()] } else { "Ab" };
                s.push_str(p);
            }
            check(&s);
        }
    }
}
