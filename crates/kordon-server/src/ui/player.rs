//! The inspection's own player: the footage of every officer's camera over the
//! inspection, side by side and in step on one wall-clock axis, with a playhead, speed,
//! frame step, a still image and a clip kept as a bookmark. What is missing is drawn and
//! said where it falls: the gaps (by class), and twin records under one number.
//!
//! The server gives the segments of each camera over the inspection's time (only those
//! links are read) and where the problems fall; `app.js` (`inspectionPlayer`) plays them.

use kordon_analytics::span::Span;
use kordon_core::link::{Link, LinkBody};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::frame::{class_fill, clock, json_block};
use super::i18n::{Lang, t};
use crate::error::ApiError;
use crate::state::App;

/// Footage shown before and after the inspection.
const MARGIN_MS: i64 = 30_000;

/// One camera in the player.
pub(super) struct Camera {
    pub(super) device: String,
    pub(super) officer: String,
}

/// A segment as the player plays it.
pub(super) fn segment(l: &Link, tz: &jiff::tz::TimeZone) -> Option<Value> {
    let LinkBody::Segment(s) = l.body() else {
        return None;
    };
    Some(json!({
        "seq": s.seq, "start": s.start.0, "end": s.end.0, "night": s.night,
        "muted": s.audio.is_muted(), "src": format!("/v1/blobs/{}", s.sha256.to_hex()),
        "label": super::frame::show(s.start.0, tz),
    }))
}

/// The player of an inspection: its cameras' footage over its time, the gaps of its
/// coverage, and where a camera's twin records fall.
pub(super) async fn player(
    app: &App,
    lang: Lang,
    tz: &jiff::tz::TimeZone,
    inspection: &kordon_store::meta::InspectionRow,
    cameras: &[Camera],
    gaps: &[(Span, String)],
    csrf: &str,
) -> Result<Markup, ApiError> {
    let (start, end) = (inspection.start_ms, inspection.end_ms);
    let window = Span::new(start - MARGIN_MS, end + MARGIN_MS);
    let x = |t: i64| 1000.0 * (t - window.start) as f64 / window.len().max(1) as f64;
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for c in cameras {
        let (cam, links) = crate::ops::coverage::camera_window(app, &c.device, window).await?;
        let twins = app.meta.equivocations(&c.device, 100).await?;
        // Where each twin falls: the time of the record kept under its number.
        let twins_at: Vec<(u64, i64)> = links
            .iter()
            .filter(|l| twins.iter().any(|(seq, _)| *seq == l.body().seq()))
            .map(|l| (l.body().seq(), l.body().start().0))
            .collect();
        let segments: Vec<Value> = links
            .iter()
            .filter(|l| l.body().end().0 > window.start && l.body().start().0 < window.end)
            .filter_map(|l| segment(l, tz))
            .collect();
        data.push(json!({"device": c.device, "officer": c.officer, "segments": segments}));
        rows.push((c, cam.recorded.clip(&window), twins_at));
    }
    let h = 18.0;
    let height = 30.0 + h * rows.len() as f64 + 22.0;
    let json = json!({
        "inspection": inspection.id, "window": [window.start, window.end], "start": start,
        "tz": tz.iana_name().unwrap_or("UTC"), "lang": lang.code(), "csrf": csrf,
        "cameras": data,
        "words": {
            "reason_needed": t(lang, "reason_needed"), "no_footage": t(lang, "no_footage_now"),
            "play": t(lang, "play"), "pause": t(lang, "pause"), "clip_saved": t(lang, "clip_saved"),
            "clip_needs": t(lang, "clip_needs"),
        },
    });
    Ok(html! {
        section #inspection-player aria-labelledby="player-heading" {
            h2 #player-heading { (t(lang, "footage")) }
            label for="reason" { (t(lang, "reason_to_view")) }
            input #reason name="reason" required size="60";
            p #reason-msg .error role="alert" hidden {}
            div.side {
                @for (k, (c, _, _)) in rows.iter().enumerate() {
                    figure.cam {
                        video id=(format!("cam-{k}")) preload="none" muted[k > 0] aria-label=(format!("{} {} ({})", t(lang, "device"), c.device, c.officer)) {}
                        figcaption { (c.device) " — " (c.officer) " " span.note id=(format!("cam-{k}-note")) aria-live="polite" {} }
                    }
                }
            }
            div.toolbar role="group" aria-label=(t(lang, "player_controls")) {
                button #play-both type="button" { (t(lang, "play")) }
                button #frame-back type="button" aria-label=(t(lang, "frame_back")) { "◀︎|" }
                button #frame-fwd type="button" aria-label=(t(lang, "frame_fwd")) { "|▶︎" }
                label { (t(lang, "speed")) " " select #speed {
                    @for r in ["0.25", "0.5", "1", "2", "4"] { option value=(r) selected[r == "1"] { (r.replace('.', if lang == Lang::Uk { "," } else { "." })) "×" } }
                } }
                output #clock aria-live="off" {}
                button #still type="button" { (t(lang, "still")) }
            }
            svg #axis role="group" aria-label=(t(lang, "wall_clock")) width="1000" height=(height) viewBox=(format!("0 0 1000 {height}")) {
                rect x=(x(start)) y="0" width=((x(end) - x(start)).max(1.0)) height=(height - 22.0) fill="#fff3e0" stroke="#8a4f00" {}
                @for (i, (s, cl)) in gaps.iter().enumerate() {
                    a href=(format!("#gap-{i}")) aria-label=(format!("{}: {}–{}", t(lang, cl), clock(s.start, tz), clock(s.end, tz))) {
                        rect x=(x(s.start)) y="4" width=((x(s.end) - x(s.start)).max(2.0)) height="18" fill=(class_fill(cl)) { title { (t(lang, cl)) } }
                    }
                }
                @for (k, (c, recorded, twins)) in rows.iter().enumerate() {
                    @let y = 28.0 + h * k as f64;
                    @for s in recorded.spans() {
                        rect x=(x(s.start)) y=(y) width=((x(s.end) - x(s.start)).max(0.5)) height=(h - 4.0) fill="#2e7d32" { title { (c.device) ": " (t(lang, "recorded")) } }
                    }
                    @for (seq, at) in twins {
                        path d=(format!("M{} {}l6 {}h-12z", x(*at), y - 2.0, h)) fill="#b00020" stroke="#fff" { title { (t(lang, "problem_equivocation")) " №" (seq) " " (clock(*at, tz)) } }
                    }
                }
                @for m in 0..=10 {
                    @let at = window.start + window.len() * m / 10;
                    text x=(x(at).clamp(2.0, 960.0)) y=(height - 6.0) font-size="11" { (clock(at, tz)) }
                }
                line #ihead x1="0" y1="0" x2="0" y2=(height - 20.0) stroke="#000" stroke-width="2" visibility="hidden" {}
            }
            @let twins: Vec<_> = rows.iter().flat_map(|(c, _, tw)| tw.iter().map(move |tw| (c, tw))).collect();
            @if !twins.is_empty() {
                div.alert role="alert" {
                    ul #twins {
                        @for (c, (seq, at)) in &twins {
                            li { (clock(*at, tz)) " — " (c.device) ": " (t(lang, "problem_equivocation")) " (№" (seq) ")" }
                        }
                    }
                }
            }
            img #still-img alt=(t(lang, "still")) hidden;
            a #still-link download="still.png" hidden { (t(lang, "download_still")) }
            form #clip-form.row {
                button #clip-from type="button" { (t(lang, "clip_from")) }
                button #clip-to type="button" { (t(lang, "clip_to")) }
                output #clip-span {}
                label { (t(lang, "clip_label")) " " input #clip-label maxlength="150"; }
                button #clip-save type="button" { (t(lang, "clip_save")) }
                output #clip-msg aria-live="polite" {}
            }
            script #inspection-data type="application/json" { (json_block(&json)) }
        }
    })
}
