//! Values of opportunities and deals: decimal text in, integer minor units out, by the
//! currency's ISO 4217 exponent (two decimals for EUR, none for JPY, three for KWD).

use iso_currency::Currency;

/// The largest value accepted, in major units: far above any deal, far below `i64` overflow.
const MAX_MAJOR: i64 = 1_000_000_000_000;

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not an ISO 4217 code, or one without minor units (gold, funds).
    #[error("{0:?} is not an ISO 4217 currency code with minor units (e.g. EUR, USD, JPY)")]
    UnknownCurrency(String),
    /// Not a plain non-negative decimal.
    #[error("value {0:?} is not a non-negative decimal number such as 1200 or 1200.50")]
    NotANumber(String),
    /// More decimals than the currency has.
    #[error("value {value:?} has more decimals than {currency} has ({exponent})")]
    TooManyDecimals {
        /// As given.
        value: String,
        /// The currency.
        currency: String,
        /// Its exponent.
        exponent: u16,
    },
    /// Past [`MAX_MAJOR`].
    #[error("value {0:?} is too large")]
    TooLarge(String),
}

/// The currency named `code` (upper-cased) and its exponent.
pub fn currency(code: &str) -> Result<(String, u16), MoneyError> {
    let upper = code.trim().to_ascii_uppercase();
    Currency::from_code(&upper)
        .and_then(|c| c.exponent().map(|e| (c.code().to_owned(), e)))
        .ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))
}

/// `value` (decimal text) in minor units of `code`; answers the normalised code too.
pub fn to_minor(value: &str, code: &str) -> Result<(i64, String), MoneyError> {
    let (code, exponent) = currency(code)?;
    let text = value.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole)
        || !digits(frac)
        || (text.contains('.') && frac.is_empty())
    {
        return Err(MoneyError::NotANumber(value.to_owned()));
    }
    // Trailing zeros carry no precision: 12.50 JPY is refused, 12.00 JPY is 12.
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(exponent) {
        return Err(MoneyError::TooManyDecimals {
            value: value.to_owned(),
            currency: code,
            exponent,
        });
    }
    let too_large = || MoneyError::TooLarge(value.to_owned());
    let major: i64 = whole.parse().map_err(|_| too_large())?;
    if major > MAX_MAJOR {
        return Err(too_large());
    }
    let scale = 10i64.pow(u32::from(exponent));
    let frac_minor: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().map_err(|_| too_large())?
            * 10i64.pow(u32::from(exponent) - frac.len() as u32)
    };
    Ok((major * scale + frac_minor, code))
}

/// Minor units of `code` as decimal text: `120050` EUR is `1200.50`.
pub fn format_minor(minor: i64, code: &str) -> String {
    let exponent = currency(code).map_or(2, |(_, e)| e);
    if exponent == 0 {
        return minor.to_string();
    }
    let scale = 10i64.pow(u32::from(exponent));
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!(
        "{sign}{}.{:0width$}",
        m / scale as u64,
        m % scale as u64,
        width = usize::from(exponent)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_follow_the_currency_exponent() {
        assert_eq!(to_minor("1200.5", "eur").unwrap(), (120050, "EUR".into()));
        assert_eq!(to_minor("1200", "EUR").unwrap().0, 120000);
        assert_eq!(to_minor("5000", "JPY").unwrap().0, 5000);
        assert_eq!(to_minor("5000.00", "JPY").unwrap().0, 5000);
        assert_eq!(to_minor("1.234", "KWD").unwrap().0, 1234);
        assert_eq!(format_minor(120050, "EUR"), "1200.50");
        assert_eq!(format_minor(5000, "JPY"), "5000");
        assert_eq!(format_minor(1234, "KWD"), "1.234");
    }

    #[test]
    fn bad_values_and_currencies_are_refused() {
        assert!(matches!(
            to_minor("1.5", "JPY"),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            to_minor("1.005", "EUR"),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        for bad in ["", "-5", "1e3", "1,5", "abc", "1.", ".5", " 1 2"] {
            assert!(
                matches!(to_minor(bad, "EUR"), Err(MoneyError::NotANumber(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            to_minor("1", "ZZZ"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            to_minor("1", "XAU"),
            Err(MoneyError::UnknownCurrency(_))
        ));
        assert!(matches!(
            to_minor("99999999999999999999", "EUR"),
            Err(MoneyError::TooLarge(_))
        ));
    }
}
