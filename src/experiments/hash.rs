//! GrowthBook-compatible bucketing: any GrowthBook SDK reproduces our assignment.
//!
//! GrowthBook hashes JavaScript strings, i.e. UTF-16 code units, with 32-bit FNV-1a; hash
//! version 2 hashes the decimal text of a first hash to remove FNV's bias:
//! `fnv(str(fnv(seed + value))) % 10000 / 10000`. Bucket ranges are laid end to end in weight
//! order and a visitor gets the variant whose range holds their bucket.

/// 32-bit FNV-1a over UTF-16 code units (as JavaScript's `charCodeAt`).
pub fn fnv1a32(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for unit in s.encode_utf16() {
        h ^= u32::from(unit);
        h = h.wrapping_mul(16_777_619);
    }
    h
}

/// GrowthBook hash version 2: a number in `[0, 1)` with four decimals.
pub fn hash_v2(seed: &str, value: &str) -> f64 {
    let first = fnv1a32(&format!("{seed}{value}"));
    f64::from(fnv1a32(&first.to_string()) % 10_000) / 10_000.0
}

/// Bucket ranges `[start, end)` for weights; weights that do not sum to 1 (±0.01) or do not
/// match the number of variants fall back to equal weights, as GrowthBook does.
pub fn bucket_ranges(n: usize, weights: &[f64]) -> Vec<(f64, f64)> {
    let equal = vec![1.0 / n as f64; n];
    let total: f64 = weights.iter().sum();
    let w = if weights.len() == n && (0.99..=1.01).contains(&total) {
        weights
    } else {
        &equal
    };
    let mut cumulative = 0.0;
    w.iter()
        .map(|w| {
            let start = cumulative;
            cumulative += w;
            (start, start + w)
        })
        .collect()
}

/// Index of the range that holds `bucket`, if any.
pub fn choose(bucket: f64, ranges: &[(f64, f64)]) -> Option<usize> {
    ranges.iter().position(|(a, b)| bucket >= *a && bucket < *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_values() {
        // FNV-1a 32 reference values (ASCII, where code units equal bytes).
        assert_eq!(fnv1a32(""), 0x811c_9dc5);
        assert_eq!(fnv1a32("a"), 0xe40c_292c);
        assert_eq!(fnv1a32("foobar"), 0xbf9c_f968);
    }

    #[test]
    fn utf16_code_units_not_bytes() {
        // "é" is one UTF-16 unit (0xE9) but two UTF-8 bytes.
        let mut h: u32 = 0x811c_9dc5;
        h ^= 0xE9;
        h = h.wrapping_mul(16_777_619);
        assert_eq!(fnv1a32("é"), h);
        // An astral character is two units (a surrogate pair): U+1F600 = D83D DE00.
        let mut h: u32 = 0x811c_9dc5;
        for unit in [0xD83Du32, 0xDE00] {
            h ^= unit;
            h = h.wrapping_mul(16_777_619);
        }
        assert_eq!(fnv1a32("😀"), h);
    }
}
