//! Normalisation of what people search for.

/// A vehicle plate in one spelling: upper case, no spaces or separators, Cyrillic letters
/// that look like Latin ones (as on Ukrainian plates: А В Е І К М Н О Р С Т Х) written in
/// Latin. `аа 1234 вх` and `AA-1234-BX` both become `AA1234BX`.
pub fn normalize_plate(plate: &str) -> String {
    plate
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .map(|c| match c {
            'А' => 'A',
            'В' => 'B',
            'Е' => 'E',
            'І' => 'I',
            'К' => 'K',
            'М' => 'M',
            'Н' => 'H',
            'О' => 'O',
            'Р' => 'P',
            'С' => 'C',
            'Т' => 'T',
            'Х' => 'X',
            'У' => 'Y',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alike_letters_spaces_and_case() {
        assert_eq!(normalize_plate("аа 1234 вх"), "AA1234BX");
        assert_eq!(normalize_plate("AA-1234-BX"), "AA1234BX");
        assert_eq!(normalize_plate("КА 0001 ТН"), "KA0001TH");
        assert_eq!(normalize_plate("ka0001th"), "KA0001TH");
        // Letters without a Latin twin stay as they are.
        assert_eq!(normalize_plate("ЖЮ 12"), "ЖЮ12");
    }
}
