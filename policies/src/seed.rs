//! Child-seed derivation: every random stream in the crate comes from one user seed through
//! [`derive_seed`], never from the clock.

/// Derives the seed of child stream `stream` from `parent`.
///
/// `splitmix64(parent + (stream + 1) · φ)`, with φ = 0x9E37_79B9_7F4A_7C15 (the golden-ratio
/// increment of SplitMix64). Distinct streams of one parent land far apart, and the result is
/// well mixed even for small consecutive parents such as 0, 1, 2.
pub fn derive_seed(parent: u64, stream: u64) -> u64 {
    const PHI: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut z = parent.wrapping_add(stream.wrapping_add(1).wrapping_mul(PHI));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_are_stable() {
        assert_ne!(derive_seed(0, 0), derive_seed(0, 1));
        assert_ne!(derive_seed(0, 0), derive_seed(1, 0));
        // Pinned: changing the derivation silently changes every trained policy.
        assert_eq!(derive_seed(42, 7), 0xccf6_35ee_9e9e_2fa4);
    }
}
