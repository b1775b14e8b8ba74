//! The double opt-in table of `splitmark report`: confirmed and unconfirmed leads per form.

use super::text::group;
use crate::store::ConfirmationCounts;

/// Every form in `forms` (the double opt-in ones) with its counts, 0 where it has no leads.
pub fn per_form(counts: &[ConfirmationCounts], forms: &[String]) -> Vec<ConfirmationCounts> {
    forms
        .iter()
        .map(|f| {
            counts
                .iter()
                .find(|c| &c.form == f)
                .cloned()
                .unwrap_or_else(|| ConfirmationCounts {
                    form: f.clone(),
                    ..ConfirmationCounts::default()
                })
        })
        .collect()
}

/// The table: form, unconfirmed, confirmed, confirmed share.
pub fn render_confirmations(rows: &[ConfirmationCounts]) -> String {
    let mut out = String::from("Double opt-in (leads, spam excluded)\n");
    let width = rows.iter().map(|r| r.form.len()).max().unwrap_or(4).max(4);
    out.push_str(&format!(
        "  {:<width$}  {:>11}  {:>9}  {:>9}\n",
        "form", "unconfirmed", "confirmed", "confirmed share"
    ));
    for r in rows {
        let total = r.unconfirmed + r.confirmed;
        let share = if total == 0 {
            "—".to_owned()
        } else {
            super::text::pct(r.confirmed as f64 / total as f64)
        };
        out.push_str(&format!(
            "  {:<width$}  {:>11}  {:>9}  {:>9}\n",
            r.form,
            group(r.unconfirmed),
            group(r.confirmed),
            share
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_double_opt_in_form_shows_even_without_leads() {
        let counts = [ConfirmationCounts {
            form: "news".into(),
            unconfirmed: 3,
            confirmed: 1,
        }];
        let rows = per_form(&counts, &["news".into(), "webinar".into()]);
        let text = render_confirmations(&rows);
        let news = text.lines().find(|l| l.contains("news")).unwrap();
        assert!(
            news.contains(" 3 ") && news.contains(" 1 ") && news.contains("25"),
            "{text}"
        );
        let web = text.lines().find(|l| l.contains("webinar")).unwrap();
        assert!(web.contains('—'), "{text}");
    }
}
