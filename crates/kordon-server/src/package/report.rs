//! The human-readable report inside an evidence package (`report.html`): printable, in
//! Ukrainian and English, times in each camera's crossing-point zone (named). It explains;
//! it proves nothing by itself — `kordon-verify` checks the package.

use std::collections::BTreeMap;

use kordon_core::link::{Link, LinkBody};
use kordon_store::meta::{Case, CaseItem, CustodyRow, LinkRow};

use crate::localtime::local;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report.
pub(crate) fn html(
    case: &Case,
    items: &[CaseItem],
    links: &BTreeMap<String, Vec<LinkRow>>,
    custody: &[CustodyRow],
    zones: &BTreeMap<String, jiff::tz::TimeZone>,
    missing: &std::collections::HashSet<String>,
    derived: &[(String, kordon_core::hash::Hash)],
) -> String {
    let utc = jiff::tz::TimeZone::UTC;
    let mut h = String::from(
        "<!DOCTYPE html>\n<html lang=\"uk\"><head><meta charset=\"utf-8\"><title>kordon evidence</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#111}table{border-collapse:collapse;width:100%;margin:1em 0}td,th{border:1px solid #888;padding:.2em .4em;font-size:.85em;text-align:left;vertical-align:top}code{font-size:.8em;word-break:break-all}.gap{background:#fde2e2}.purged{background:#eee}@media print{body{margin:0}}</style></head><body>\n",
    );
    h.push_str(&format!(
        "<h1>Пакет доказів / Evidence package</h1>\n<p><b>Справа / Case:</b> {} — {} ({})<br><b>Опис / Description:</b> {}<br><b>Відкрито / Opened:</b> {}</p>\n",
        esc(&case.id),
        esc(&case.reference),
        esc(&case.kind),
        esc(&case.description),
        local(case.opened_at, &utc)
    ));
    h.push_str("<h2>Що містить справа / What the case holds</h2>\n<table><tr><th>#</th><th>вид / kind</th><th>камера / camera</th><th>з / from</th><th>до / to</th><th>примітка / note</th></tr>\n");
    for i in items {
        let tz = i
            .device_id
            .as_ref()
            .and_then(|d| zones.get(d))
            .unwrap_or(&utc);
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            i.item,
            esc(&i.kind),
            esc(i.device_id.as_deref().unwrap_or("")),
            i.from_ms.map(|t| local(t, tz)).unwrap_or_default(),
            i.to_ms.map(|t| local(t, tz)).unwrap_or_default(),
            esc(&i.text)
        ));
    }
    h.push_str("</table>\n");
    if !derived.is_empty() {
        h.push_str("<h2>Файли для перегляду / Files to play</h2>\n<p>Кожен файл — відеофрагменти діапазону, з’єднані без перекодування; як його зроблено, записано в журналі (подія <code>derive</code>). Доказом лишаються оригінали; дуже довгі діапазони відтворюються з відеофрагментів. / Each file is the range's segments joined without re-encoding; how it was made is in the log (a <code>derive</code> event). The originals remain the evidence; very long ranges are played from their segments.</p>\n<table><tr><th>файл / file</th><th>SHA-256</th></tr>\n");
        for (path, sha256) in derived {
            h.push_str(&format!(
                "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>\n",
                esc(path),
                sha256.to_hex()
            ));
        }
        h.push_str("</table>\n");
    }
    for (device, ls) in links {
        let tz = zones.get(device).unwrap_or(&utc);
        h.push_str(&format!(
            "<h2>Камера / Camera {}</h2>\n<p>Часовий пояс / Time zone: {}</p>\n<table><tr><th>№ / seq</th><th>запис / entry</th><th>з / from</th><th>до / to</th><th>файл, SHA-256 / file, SHA-256</th></tr>\n",
            esc(device),
            esc(tz.iana_name().unwrap_or("UTC"))
        ));
        let mut prev_end: Option<i64> = None;
        for l in ls {
            let kind = match Link::parse(&l.body).map(|x| x.body().clone()) {
                Ok(LinkBody::Event(e)) => {
                    format!("подія / event: {} ({})", e.kind.as_str(), esc(&e.detail))
                }
                Ok(LinkBody::Segment(s)) => format!(
                    "відео / video{}",
                    if s.night { ", ніч / night" } else { "" }
                ),
                Err(_) => "?".into(),
            };
            if l.kind == "segment" {
                if let Some(p) = prev_end.filter(|p| l.start_ms > *p) {
                    h.push_str(&format!(
                        "<tr class=\"gap\"><td></td><td>без запису / no recording: {} s</td><td>{}</td><td>{}</td><td></td></tr>\n",
                        (l.start_ms - p) / 1000,
                        local(p, tz),
                        local(l.start_ms, tz)
                    ));
                }
                prev_end = Some(l.end_ms);
            }
            let file = match (&l.blob_sha256, l.purged_at) {
                (Some(_), Some(t)) => format!(
                    "видалено за строком зберігання / purged by retention {} (tombstone in the log)",
                    local(t, tz)
                ),
                (Some(sha), None) if missing.contains(sha) => format!(
                    "відсутній у сховищі на час експорту / missing from storage at export<br><code>{sha}</code>"
                ),
                (Some(sha), None) => format!(
                    "{}<br><code>{sha}</code>",
                    esc(&kordon_core::package::segment_path(device, l.seq))
                ),
                _ => String::new(),
            };
            h.push_str(&format!(
                "<tr{}><td>{}</td><td>{kind}</td><td>{}</td><td>{}</td><td>{file}</td></tr>\n",
                if l.purged_at.is_some() {
                    " class=\"purged\""
                } else {
                    ""
                },
                l.seq,
                local(l.start_ms, tz),
                local(l.end_ms, tz)
            ));
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Ланцюг опіки / Custody trail</h2>\n<table><tr><th>час / time (UTC)</th><th>хто / who</th><th>дія / action</th><th>об'єкт / subject</th><th>деталі / detail</th></tr>\n");
    for c in custody {
        if let Ok(ev) = c.event() {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                ev.time,
                esc(&ev.actor),
                esc(&ev.action),
                esc(&ev.subject),
                esc(&ev.detail)
            ));
        }
    }
    h.push_str("</table>\n");
    h.push_str("<h2>Що перевірено і як перевірити знову / What was verified and how to verify again</h2>\n\
<p>Під час експорту сервер перевірив SHA-256 кожного файлу відео. Пакет містить для кожного запису ланцюга та кожної події опіки доказ включення (C2SP tlog-proof) до однієї контрольної точки журналу, підписаної журналом і засвідченої свідками (policy.txt). Перелік файлів (contents.txt) зафіксовано в журналі подією експорту (export.note).</p>\n\
<p>At export the server checked the SHA-256 of every video file. For every chain link and custody event the package holds an inclusion proof (C2SP tlog-proof) to one checkpoint of the log, signed by the log and cosigned by the witnesses (policy.txt). The list of files (contents.txt) is fixed in the log by the export event (export.note).</p>\n\
<p>Перевірка / To verify: <code>kordon-verify this-package.zip --policy policy-you-trust.txt</code> — перевіряє кожен хеш, підпис камери, ланцюг, доказ включення, підпис контрольної точки та кворум свідків; код виходу 0 лише якщо все сходиться / checks every hash, camera signature, chain link, inclusion proof, checkpoint signature and the witness quorum; exit code 0 only if everything holds.</p>\n</body></html>\n");
    h
}
