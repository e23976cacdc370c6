//! TCP sequence numbers: 32 bits that wrap around.
//!
//! A sequence number is not an ordinary integer: after 4 GiB of data it
//! starts again at 0, so `5` can come *after* `4294967290`. TCP (RFC 9293,
//! 3.4) compares two numbers by the sign of their difference modulo 2^32,
//! which is right as long as they are less than 2 GiB apart. [`SeqNumber`]
//! does exactly that, so no code in the analysis compares raw `u32`s.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Sub};

/// A position in one side's sequence space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// How far `self` is past `earlier` (negative: before it), within 2 GiB.
    pub fn distance_from(self, earlier: SeqNumber) -> i32 {
        // The reinterpretation is the intent: TCP compares modulo 2^32.
        self.0.wrapping_sub(earlier.0) as i32
    }

    /// `self` relative to `base` (the number Wireshark shows when `base`
    /// is the side's initial sequence number).
    pub fn relative_to(self, base: SeqNumber) -> u32 {
        self.0.wrapping_sub(base.0)
    }
}

impl PartialOrd for SeqNumber {
    /// Ordered by the sign of the wrapping difference: `Less` means "comes
    /// before". Not a total order (numbers 2 GiB apart compare both ways),
    /// which is why this is `PartialOrd` only.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.distance_from(*other).cmp(&0))
    }
}

impl Add<u32> for SeqNumber {
    type Output = SeqNumber;
    fn add(self, bytes: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(bytes))
    }
}

impl Sub<u32> for SeqNumber {
    type Output = SeqNumber;
    fn sub(self, bytes: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_sub(bytes))
    }
}

impl fmt::Display for SeqNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_past_the_wrap_come_after_those_before_it() {
        let before = SeqNumber(u32::MAX - 5);
        let after = SeqNumber(5);
        assert!(after > before);
        assert!(before < after);
        assert_eq!(after.distance_from(before), 11);
        assert_eq!(before + 11, after);
        assert_eq!(after - 11, before);
        assert_eq!(after.relative_to(before), 11);
    }

    proptest! {
        #[test]
        fn adding_less_than_2_gib_always_moves_forward(start: u32, step in 1u32..(1 << 31)) {
            let a = SeqNumber(start);
            let b = a + step;
            prop_assert!(b > a);
            prop_assert!(a < b);
            prop_assert_eq!(b.distance_from(a), step as i32);
            prop_assert_eq!(b.relative_to(a), step);
        }

        #[test]
        fn a_number_equals_only_itself(start: u32) {
            let a = SeqNumber(start);
            prop_assert_eq!(a.partial_cmp(&a), Some(Ordering::Equal));
        }
    }
}
