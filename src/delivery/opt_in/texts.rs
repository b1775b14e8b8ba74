//! The built-in wording of the confirmation e-mail and page, in the site's `language`.
//!
//! A handful of languages are built in; any other falls back to English. A form's
//! `confirm_subject` and `confirm_text` replace the e-mail's wording in any language.

/// The words of one language. `{site}` is the site's title, `{email}` the lead's address.
#[derive(Clone, Copy, Debug)]
pub struct Texts {
    /// The e-mail's subject.
    pub subject: &'static str,
    /// The e-mail's text above the link.
    pub intro: &'static str,
    /// The link's label in the HTML part.
    pub button: &'static str,
    /// After the link: how long it is valid (`{until}`).
    pub valid_until: &'static str,
    /// After that: what happens without a click.
    pub ignore: &'static str,
    /// Page: confirmed now.
    pub confirmed: (&'static str, &'static str),
    /// Page: confirmed before.
    pub already: (&'static str, &'static str),
    /// Page: the link was changed or is not ours.
    pub invalid: (&'static str, &'static str),
    /// Page: the link is too old.
    pub expired: (&'static str, &'static str),
    /// Page: no such sign-up (erased, never stored).
    pub not_found: (&'static str, &'static str),
    /// Page: the store could not be reached.
    pub unavailable: (&'static str, &'static str),
}

const EN: Texts = Texts {
    subject: "Please confirm your e-mail address for {site}",
    intro: "Thank you for signing up on {site}. Please confirm that {email} is your address by opening this link:",
    button: "Confirm my e-mail address",
    valid_until: "The link is valid until {until}.",
    ignore: "If you did not sign up, ignore this e-mail: nothing happens without your confirmation.",
    confirmed: ("Thank you", "Your e-mail address is confirmed."),
    already: ("Already confirmed", "Your e-mail address was already confirmed. There is nothing more to do."),
    invalid: ("This link is not valid", "The confirmation link is incomplete or was changed. Please open the link from the e-mail exactly as it was sent."),
    expired: ("This link has expired", "The confirmation link is too old. Please sign up again to get a new one."),
    not_found: ("Sign-up not found", "We have no sign-up for this link any more. It may have been deleted."),
    unavailable: ("Please try again", "Your confirmation could not be saved just now. Please open the link again in a moment."),
};

const DE: Texts = Texts {
    subject: "Bitte bestätigen Sie Ihre E-Mail-Adresse für {site}",
    intro: "Danke für Ihre Anmeldung bei {site}. Bitte bestätigen Sie, dass {email} Ihre Adresse ist, indem Sie diesen Link öffnen:",
    button: "E-Mail-Adresse bestätigen",
    valid_until: "Der Link ist gültig bis {until}.",
    ignore: "Wenn Sie sich nicht angemeldet haben, ignorieren Sie diese E-Mail: Ohne Ihre Bestätigung geschieht nichts.",
    confirmed: ("Vielen Dank", "Ihre E-Mail-Adresse ist bestätigt."),
    already: ("Bereits bestätigt", "Ihre E-Mail-Adresse war bereits bestätigt. Es ist nichts weiter zu tun."),
    invalid: ("Dieser Link ist ungültig", "Der Bestätigungslink ist unvollständig oder wurde verändert. Bitte öffnen Sie den Link genau so, wie er in der E-Mail steht."),
    expired: ("Dieser Link ist abgelaufen", "Der Bestätigungslink ist zu alt. Bitte melden Sie sich erneut an, um einen neuen zu erhalten."),
    not_found: ("Anmeldung nicht gefunden", "Zu diesem Link gibt es keine Anmeldung mehr. Sie wurde möglicherweise gelöscht."),
    unavailable: ("Bitte versuchen Sie es erneut", "Ihre Bestätigung konnte gerade nicht gespeichert werden. Bitte öffnen Sie den Link gleich noch einmal."),
};

const FR: Texts = Texts {
    subject: "Veuillez confirmer votre adresse e-mail pour {site}",
    intro: "Merci de votre inscription sur {site}. Veuillez confirmer que {email} est bien votre adresse en ouvrant ce lien :",
    button: "Confirmer mon adresse e-mail",
    valid_until: "Le lien est valable jusqu'au {until}.",
    ignore: "Si vous ne vous êtes pas inscrit, ignorez cet e-mail : rien ne se passe sans votre confirmation.",
    confirmed: ("Merci", "Votre adresse e-mail est confirmée."),
    already: ("Déjà confirmée", "Votre adresse e-mail était déjà confirmée. Il n'y a rien d'autre à faire."),
    invalid: ("Ce lien n'est pas valide", "Le lien de confirmation est incomplet ou a été modifié. Veuillez ouvrir le lien exactement tel qu'il figure dans l'e-mail."),
    expired: ("Ce lien a expiré", "Le lien de confirmation est trop ancien. Veuillez vous inscrire à nouveau pour en recevoir un nouveau."),
    not_found: ("Inscription introuvable", "Nous n'avons plus d'inscription pour ce lien. Elle a peut-être été supprimée."),
    unavailable: ("Veuillez réessayer", "Votre confirmation n'a pas pu être enregistrée. Veuillez rouvrir le lien dans un instant."),
};

const ES: Texts = Texts {
    subject: "Confirme su dirección de correo electrónico para {site}",
    intro: "Gracias por registrarse en {site}. Confirme que {email} es su dirección abriendo este enlace:",
    button: "Confirmar mi dirección de correo",
    valid_until: "El enlace es válido hasta {until}.",
    ignore: "Si no se ha registrado, ignore este correo: no ocurrirá nada sin su confirmación.",
    confirmed: ("Gracias", "Su dirección de correo electrónico está confirmada."),
    already: ("Ya confirmada", "Su dirección de correo ya estaba confirmada. No hay nada más que hacer."),
    invalid: ("Este enlace no es válido", "El enlace de confirmación está incompleto o ha sido modificado. Abra el enlace tal como aparece en el correo."),
    expired: ("Este enlace ha caducado", "El enlace de confirmación es demasiado antiguo. Regístrese de nuevo para recibir uno nuevo."),
    not_found: ("Registro no encontrado", "Ya no tenemos ningún registro para este enlace. Puede que se haya eliminado."),
    unavailable: ("Inténtelo de nuevo", "Su confirmación no se ha podido guardar ahora. Vuelva a abrir el enlace en un momento."),
};

/// The texts for a site `language` such as `en`, `de-CH` or `fr_FR` (English when unknown).
pub fn for_language(language: &str) -> &'static Texts {
    let primary = language
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match primary.as_str() {
        "de" => &DE,
        "fr" => &FR,
        "es" => &ES,
        _ => &EN,
    }
}

/// `template` with `{site}`, `{email}` and `{until}` filled in.
pub fn fill(template: &str, site: &str, email: &str, until: &str) -> String {
    template
        .replace("{site}", site)
        .replace("{email}", email)
        .replace("{until}", until)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_fall_back_to_english() {
        assert!(for_language("de-CH").subject.starts_with("Bitte"));
        assert!(for_language("fr_FR").subject.starts_with("Veuillez"));
        assert!(for_language("xx").subject.starts_with("Please"));
        assert_eq!(fill("{site}: {email}", "S", "a@x", ""), "S: a@x");
    }
}
