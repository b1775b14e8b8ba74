//! Amounts in minor units (as the stage API stores them) shown in major units.

/// Minor units per major unit of an ISO 4217 currency: 100 for most, 1 for currencies
/// without decimals, 1000 for the dinars with three (ISO 4217's exponent column).
pub fn minor_per_major(currency: Option<&str>) -> f64 {
    const NO_DECIMALS: [&str; 16] = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
        "VUV", "XAF", "XOF",
    ];
    const THREE_DECIMALS: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    match currency {
        Some(c) if NO_DECIMALS.contains(&c) => 1.0,
        Some(c) if THREE_DECIMALS.contains(&c) => 1000.0,
        _ => 100.0,
    }
}

/// An amount with its currency code (`EUR 1,234.50`).
pub fn format(amount: f64, currency: Option<&str>) -> String {
    let scale = minor_per_major(currency);
    let decimals = if scale < 10.0 {
        0
    } else if scale > 100.0 {
        3
    } else {
        2
    };
    let text = format!("{:.*}", decimals, amount.abs());
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let int = super::group(int.parse().unwrap_or(0));
    let sign = if amount < 0.0 { "-" } else { "" };
    let num = if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    };
    match currency {
        Some(c) => format!("{c} {num}"),
        None => num,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_follow_the_currency_exponent() {
        assert_eq!(format(1234.5, Some("EUR")), "EUR 1,234.50");
        assert_eq!(format(1234.0, Some("JPY")), "JPY 1,234");
        assert_eq!(format(1.2346, Some("KWD")), "KWD 1.235");
        assert_eq!(format(-3.0, None), "-3.00");
        assert_eq!(minor_per_major(Some("USD")), 100.0);
    }
}
