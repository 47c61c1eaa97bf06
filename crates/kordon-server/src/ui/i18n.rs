//! The interface's words in Ukrainian and English.

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// Українська (the default).
    Uk,
    /// English.
    En,
}

impl Lang {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Lang::Uk => "uk",
            Lang::En => "en",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Lang> {
        match s {
            "uk" => Some(Lang::Uk),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// `(key, Ukrainian, English)`.
const WORDS: &[(&str, &str, &str)] = &[
    ("redact", "Відредагувати для передачі", "Redact for release"),
    ("redactions", "Відредаговані копії", "Redacted copies"),
    ("redaction", "Відредагована копія", "Redacted copy"),
    ("new_box", "Нова рамка", "New box"),
    ("box", "рамка", "box"),
    ("frame_blur", "розмиття кадру", "whole-frame blur"),
    ("remove", "прибрати", "remove"),
    ("box_style", "Вигляд рамки", "Box style"),
    ("style_blur", "розмиття", "blur"),
    ("style_black", "чорна", "black"),
    ("span_kind", "Проміжок часу", "Time span"),
    ("sound_from", "Проміжок від", "Span from"),
    ("sound_to", "Проміжок до", "Span to"),
    ("mute", "вимкнути звук", "mute"),
    ("bleep", "заглушити сигналом", "bleep"),
    ("operations", "Операції (JSON)", "Operations (JSON)"),
    ("render", "Створити копію", "Render the copy"),
    (
        "editor_help",
        "Зупиніть відео й виділіть мишею обличчя чи номер: рамка діє з цієї миті. Щоб рамка рухалася, зупиніть пізніше й виділіть нове місце.",
        "Pause and drag over a face or plate: the box starts at that moment. To move it, pause later and drag its new place.",
    ),
    (
        "original_untouched",
        "Оригінальні записи не змінюються: копія — похідний файл, її створення записано в журнал.",
        "The original recordings are not changed: the copy is a derived file whose making is logged.",
    ),
    ("share", "Передати", "Share"),
    (
        "rendering",
        "Копія створюється",
        "The copy is being rendered",
    ),
    (
        "render_failed",
        "Не вдалося створити копію",
        "The copy could not be made",
    ),
    (
        "preparing_note",
        "Пакет для отримувача готується; сторінка оновиться сама.",
        "The recipient's package is being prepared; this page reloads by itself.",
    ),
    ("state_preparing", "готується", "being prepared"),
    ("state_failed", "помилка", "failed"),
    ("recipient", "Отримувач", "Recipient"),
    ("purpose", "Мета", "Purpose"),
    ("valid_hours", "Діє, годин", "Valid for, hours"),
    ("shares", "Передачі", "Shares"),
    (
        "share_link",
        "Посилання для отримувача",
        "Link for the recipient",
    ),
    (
        "share_code",
        "Одноразовий код (показано лише раз)",
        "One-time code (shown only once)",
    ),
    (
        "shared_title",
        "Передані вам матеріали",
        "Material shared with you",
    ),
    (
        "enter_code",
        "Код, який вам передали",
        "The code you were given",
    ),
    ("open", "Відкрити", "Open"),
    ("download", "Завантажити пакет", "Download the package"),
    ("verification", "Перевірка", "Verification"),
    (
        "package_holds",
        "Пакет цілісний: записи камер і похідні файли в ньому — ті, що зафіксовані в журналі.",
        "The package holds: its recordings and derived files are the ones proven in the log.",
    ),
    (
        "case_package",
        "пакет доказів з оригінальними записами; відтворювані файли з водяним знаком",
        "evidence package with the original recordings; playable files watermarked",
    ),
    (
        "package_fails",
        "Пакет НЕ пройшов перевірку.",
        "The package does NOT hold.",
    ),
    (
        "verify_yourself",
        "Перевірте самостійно",
        "Check it yourself",
    ),
    ("expires", "Діє до", "Valid until"),
    ("downloads", "Завантажень", "Downloads"),
    ("preservation", "Збереження записів", "Preserving footage"),
    (
        "ask_preserve",
        "Попросити зберегти записи",
        "Ask for footage to be preserved",
    ),
    ("requests", "Запити", "Requests"),
    ("state_pending", "очікує рішення", "pending"),
    ("state_approved", "схвалено", "approved"),
    ("state_refused", "відмовлено", "refused"),
    ("comment", "Коментар", "Comment"),
    (
        "my_packages",
        "Пакети доказів у справах щодо ваших оглядів",
        "Evidence packages of cases about your inspections",
    ),
    ("viewers", "Хто переглядав записи", "Who viewed the footage"),
    (
        "nobody_viewed",
        "Ніхто не переглядав.",
        "Nobody has viewed it.",
    ),
    (
        "state_waiting",
        "код ще не використано",
        "code not used yet",
    ),
    ("state_opened", "відкрито", "opened"),
    ("state_expired", "строк минув", "expired"),
    ("state_revoked", "відкликано", "revoked"),
    ("state_locked", "заблоковано", "locked"),
    ("case", "Справа", "Case"),
    (
        "app",
        "kordon — докази з нагрудних камер",
        "kordon — body-camera evidence",
    ),
    ("dashboard", "Панель стану", "Dashboard"),
    ("search", "Пошук", "Search"),
    ("timeline", "Хронологія зміни", "Shift timeline"),
    ("admin", "Адміністрування", "Administration"),
    ("custody", "Ланцюг опіки", "Custody trail"),
    ("logout", "Вийти", "Log out"),
    ("login", "Увійти", "Log in"),
    ("name", "Ім'я користувача", "User name"),
    ("password", "Пароль", "Password"),
    (
        "code",
        "Код (якщо є другий фактор)",
        "Code (if you have a second factor)",
    ),
    ("signed_in_as", "Ви увійшли як", "Signed in as"),
    ("crossing_point", "Пункт пропуску", "Crossing point"),
    ("cameras_assigned", "Камер видано", "Cameras assigned"),
    ("recording_now", "Записують зараз", "Recording now"),
    ("chain_problems", "Проблеми ланцюга", "Chain problems"),
    ("last_upload", "Останнє завантаження", "Last upload"),
    (
        "upload_backlog",
        "Очікується відео (ще не завантажено, сьогодні)",
        "Upload backlog (footage not yet uploaded, today)",
    ),
    ("min", "хв", "min"),
    ("today_coverage", "Покриття сьогодні", "Coverage today"),
    ("unexplained", "Непояснені прогалини", "Unexplained gaps"),
    (
        "coverage_by_day",
        "Покриття оглядів записом, за днями",
        "Coverage of inspections by recording, per day",
    ),
    (
        "clearance_by_day",
        "Тривалість оформлення (медіана, хв), за днями",
        "Clearance time (median, min), per day",
    ),
    ("inspections", "Огляди", "Inspections"),
    ("inspection", "Огляд", "Inspection"),
    ("from", "З", "From"),
    ("to", "До", "To"),
    ("lane", "Смуга", "Lane"),
    (
        "officer",
        "Інспектор (службовий номер)",
        "Officer (service number)",
    ),
    ("device", "Камера", "Camera"),
    ("declaration", "Номер декларації", "Declaration number"),
    ("plate", "Номерний знак", "Vehicle plate"),
    ("bookmark", "Закладка (текст)", "Bookmark (text)"),
    ("find", "Знайти", "Find"),
    ("start", "Початок", "Start"),
    ("coverage", "Покриття", "Coverage"),
    ("officers", "Інспектори", "Officers"),
    ("no_results", "Нічого не знайдено", "Nothing found"),
    ("date", "Дата", "Date"),
    ("show", "Показати", "Show"),
    (
        "reason_to_view",
        "Підстава перегляду (номер справи або кілька слів)",
        "Why you open this footage (case reference or a few words)",
    ),
    (
        "reason_needed",
        "Спершу вкажіть підставу перегляду.",
        "Say why you open this footage first.",
    ),
    ("play", "Відтворити", "Play"),
    ("segments", "Відеофрагменти", "Video segments"),
    ("gaps", "Прогалини", "Gaps"),
    ("class", "Причина прогалини", "Gap class"),
    ("reason", "Пояснення", "Reason"),
    ("status", "Стан", "Status"),
    ("file_reason", "Пояснити прогалину", "Explain a gap"),
    ("approve", "Погодити", "Approve"),
    ("reject", "Відхилити", "Reject"),
    ("text", "Текст", "Text"),
    ("submit", "Надіслати", "Submit"),
    (
        "check_proof",
        "Перевірити доказ включення",
        "Check inclusion proof",
    ),
    ("time", "Час", "Time"),
    ("older", "Давніші записи", "Older entries"),
    ("more_users", "Наступні користувачі", "More users"),
    ("who", "Хто", "Who"),
    ("action", "Дія", "Action"),
    ("subject", "Об'єкт", "Subject"),
    ("detail", "Деталі", "Detail"),
    ("users", "Користувачі", "Users"),
    ("role", "Роль", "Role"),
    (
        "scope",
        "Пункти пропуску (через кому; порожньо — усі)",
        "Crossing points (comma-separated; empty = all)",
    ),
    ("create", "Створити", "Create"),
    ("devices", "Камери", "Cameras"),
    ("enroll_token", "Токен реєстрації", "Enrollment token"),
    ("revoke", "Відкликати", "Revoke"),
    ("assign", "Видати камеру", "Hand a camera out"),
    ("return", "Прийняти камеру", "Take a camera back"),
    ("forbidden", "Недостатньо прав", "Not allowed"),
    ("back", "Назад", "Back"),
    ("night", "ніч", "night"),
    ("recorded", "записано", "recorded"),
    ("no_audio", "без звуку", "no sound"),
    ("cameras", "Камери", "Cameras"),
    (
        "axis_users",
        "Користувачі системи нагрудних камер",
        "Body-worn system users",
    ),
    ("axis_user_id", "Власний ідентифікатор", "Own id"),
    (
        "silent_on_shift",
        "Камери на зміні без зв’язку",
        "Cameras on shift not heard from",
    ),
    (
        "none_silent",
        "Усі камери на зміні вчасно передають записи.",
        "Every camera on shift is uploading.",
    ),
    ("shift_start", "Початок зміни", "Shift start"),
    ("last_contact", "Останній зв’язок", "Last contact"),
    ("battery", "Заряд", "Battery"),
    ("free_storage", "Вільна пам’ять", "Free storage"),
    ("backlog", "Очікує передачі", "Upload backlog"),
    ("docked", "У док-станції", "Docked"),
    ("firmware", "Прошивка", "Firmware"),
    ("sound", "Звук", "Sound"),
    ("problems", "Проблеми ланцюга", "Chain problems"),
    ("yes", "так", "yes"),
    ("no", "ні", "no"),
    ("audio_present", "є", "present"),
    ("audio_silent", "тиша", "silent"),
    ("audio_none", "немає доріжки", "no track"),
    (
        "location",
        "Місцезнаходження камери (GNSS)",
        "Camera location (GNSS)",
    ),
    ("latitude", "Широта", "Latitude"),
    ("longitude", "Довгота", "Longitude"),
    ("not_assigned", "камеру не видано", "camera not assigned"),
    ("not_yet_uploaded", "ще не завантажено", "not yet uploaded"),
    ("missing_segments", "бракує фрагментів", "missing segments"),
    ("device_fault", "збій камери", "device fault"),
    ("stopped_by_wearer", "зупинено носієм", "stopped by wearer"),
    ("no_recording", "немає запису", "no recording"),
    ("zone", "Часовий пояс", "Time zone"),
    ("done", "Готово", "Done"),
    ("crossing_points", "Пункти пропуску", "Crossing points"),
    ("cp_code", "Код", "Code"),
    ("name_uk", "Назва українською", "Name in Ukrainian"),
    ("name_latin", "Назва латиницею", "Name in Latin script"),
    ("lanes", "Смуги (через кому)", "Lanes (comma-separated)"),
    ("save", "Зберегти", "Save"),
    (
        "forwarding",
        "Передавання до центру",
        "Forwarding to the centre",
    ),
    ("link_up", "Зв'язок з центром", "Link to the centre"),
    ("up", "є", "up"),
    ("down", "немає", "down"),
    (
        "forwarded_entries",
        "Передано записів журналу",
        "Log entries forwarded",
    ),
    (
        "forward_backlog",
        "Чекають передавання",
        "Waiting to be forwarded",
    ),
    (
        "segments_forwarded",
        "Передано фрагментів",
        "Segments forwarded",
    ),
    ("last_forward", "Остання передача", "Last forwarded"),
    (
        "forward_confirmed",
        "Підтверджено центром (можна очищати)",
        "Confirmed by the centre (may be purged)",
    ),
    (
        "forward_holes",
        "Не передано, повторюється",
        "Not sent, being retried",
    ),
    ("last_error", "Остання помилка", "Last error"),
    (
        "edges",
        "Пункти пропуску, що передають сюди",
        "Crossing points forwarding here",
    ),
    (
        "edge_entries",
        "Записів журналу пункту в центрі",
        "Entries of each crossing point's log held here",
    ),
];

/// The word for `key` in `lang` (the key itself if unknown, so a gap shows).
pub(crate) fn t(lang: Lang, key: &str) -> &str {
    WORDS
        .iter()
        .find(|w| w.0 == key)
        .map_or(key, |w| match lang {
            Lang::Uk => w.1,
            Lang::En => w.2,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_once_in_both_languages() {
        let mut keys: Vec<&str> = WORDS.iter().map(|w| w.0).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "a key twice");
        assert!(
            WORDS
                .iter()
                .all(|w| !w.1.is_empty() && !w.2.is_empty() && w.1 != w.2 || w.0 == "app")
        );
        assert_eq!(t(Lang::En, "search"), "Search");
        assert_eq!(t(Lang::Uk, "search"), "Пошук");
    }
}
