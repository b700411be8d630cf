//! The only places where numbers become money: explicit rounding, and f64 -> Decimal conversion.

use rust_decimal::{Decimal, RoundingStrategy};

use super::raw::RoundingMode;

fn strategy(mode: RoundingMode) -> RoundingStrategy {
    match mode {
        RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
        RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
    }
}

/// Rounds to exactly `dp` decimals (so "12.5" prints as "12.50"); never yields negative zero.
pub(super) fn round(value: Decimal, dp: u32, mode: RoundingMode) -> Decimal {
    let mut r = value.round_dp_with_strategy(dp, strategy(mode));
    r.rescale(dp);
    if r.is_zero() {
        r.set_sign_negative(false);
    }
    r
}

/// A measured f64 as a Decimal rounded to `dp` decimals. The conversion takes the binary value (to
/// Decimal's 28 significant digits, pure integer arithmetic) and then rounds once with `mode`, so the
/// result is the same on every machine. `None` for NaN, infinities and magnitudes beyond Decimal.
pub(super) fn from_f64(value: f64, dp: u32, mode: RoundingMode) -> Option<Decimal> {
    if value.is_finite() && value.abs() < 1e27 {
        Decimal::from_f64_retain(value).map(|d| round(d, dp, mode))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_modes_differ_only_on_ties() {
        let cases = [
            ("2.345", RoundingMode::HalfEven, "2.34"),
            ("2.345", RoundingMode::HalfUp, "2.35"),
            ("2.355", RoundingMode::HalfEven, "2.36"),
            ("2.3451", RoundingMode::HalfEven, "2.35"),
            ("-2.345", RoundingMode::HalfUp, "-2.35"),
            ("12.5", RoundingMode::HalfEven, "12.50"),
            ("-0.001", RoundingMode::HalfEven, "0.00"),
        ];
        for (input, mode, expected) in cases {
            let d: Decimal = input.parse().unwrap();
            assert_eq!(round(d, 2, mode).to_string(), expected, "{input} {mode:?}");
        }
    }

    #[test]
    fn floats_convert_then_round_once() {
        let cases = [
            (0.1, 3, "0.100"),
            (12.3456789, 3, "12.346"),
            (1.0 / 3.0, 12, "0.333333333333"),
            (0.0, 2, "0.00"),
        ];
        for (x, dp, expected) in cases {
            assert_eq!(
                from_f64(x, dp, RoundingMode::HalfEven)
                    .map(|d| d.to_string())
                    .as_deref(),
                Some(expected)
            );
        }
        for x in [f64::NAN, f64::INFINITY, 1e30] {
            assert_eq!(from_f64(x, 2, RoundingMode::HalfEven), None, "{x}");
        }
    }
}
