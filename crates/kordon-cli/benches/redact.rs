//! Rendering a redacted copy against a plain re-encode of the same clip, in the same run:
//! 1920×1080, 25 fps, H.264 with AAC sound, in 10-second segments joined by ffmpeg's
//! concat demuxer as the server joins them. The baseline re-encodes with the same encoder
//! settings and no filter; the redaction is what `kordon_core::redact` renders: a blurred
//! box moving across three keyframes, a black box, whole-frame blur for two seconds, a
//! bleep and the share's watermark. Printed: seconds of video per second of each, and the
//! redaction's cost as a ratio of the baseline's.
//!
//! Run: `cargo bench -p kordon-cli --bench redact` (`KORDON_BENCH_SECONDS`, default 30).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use kordon_core::redact::{BoxStyle, Key, Redaction, Sound, Span, Track, render_args};

/// The watermark's font, as the server draws it.
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin"])
        .args(args)
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn key(t_ms: u64, x: u32, y: u32, w: u32, h: u32) -> Key {
    Key { t_ms, x, y, w, h }
}

fn main() {
    let seconds: u64 = std::env::var("KORDON_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
        .max(10);
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let s = |p: &Path| p.to_str().expect("utf8").to_owned();
    let mut list = String::new();
    for i in 0..seconds / 10 {
        let seg = d.join(format!("{i:04}.mp4"));
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=25:duration=10,noise=alls=12:allf=t",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:sample_rate=48000:duration=10",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-b:v",
            "8M",
            "-g",
            "50",
            "-c:a",
            "aac",
            "-ac",
            "1",
            "-shortest",
            "-y",
            &s(&seg),
        ]);
        list.push_str(&format!("file '{}'\n", s(&seg)));
    }
    let secs = (seconds / 10 * 10) as f64;
    let list_path = d.join("list.txt");
    std::fs::write(&list_path, list).expect("list");
    let ms = secs as u64 * 1000;
    let r = Redaction {
        boxes: vec![
            Track {
                id: 1,
                style: BoxStyle::Blur,
                keys: vec![
                    key(0, 100, 100, 240, 300),
                    key(ms / 2, 900, 400, 260, 320),
                    key(ms - 1000, 1500, 600, 240, 300),
                ],
            },
            Track {
                id: 2,
                style: BoxStyle::Black,
                keys: vec![key(0, 1400, 900, 320, 120)],
            },
        ],
        blur: vec![Span {
            from_ms: 4000,
            to_ms: 6000,
        }],
        sound: vec![(
            Sound::Bleep,
            Span {
                from_ms: 2000,
                to_ms: 5000,
            },
        )],
        watermark: Some("Олена Коваль, адвокатка · share 5acea87edb50cc6a · kordon".into()),
    };
    r.check(1920, 1080, ms).expect("a valid redaction");
    let mark = d.join("mark.txt");
    std::fs::write(&mark, r.watermark.as_deref().unwrap_or("")).expect("mark");
    let graph = d.join("graph.txt");
    std::fs::write(&graph, r.filter_graph(true, &s(&mark), FONT)).expect("graph");

    let (l, g) = (s(&list_path), s(&graph));
    let plain_out = s(&d.join("plain.mp4"));
    let red_out = s(&d.join("redacted.mp4"));
    let mut plain_t = f64::MAX;
    let mut red_t = f64::MAX;
    // Best of two each, interleaved, so that neither gets a warmer machine.
    for _ in 0..2 {
        let t = Instant::now();
        ffmpeg(&[
            "-f", "concat", "-safe", "0", "-i", &l, "-map", "0:v", "-map", "0:a", "-c:a", "aac",
            "-b:a", "96k", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt",
            "yuv420p", "-y", &plain_out,
        ]);
        plain_t = plain_t.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let args = render_args(&l, &g, true, &red_out);
        ffmpeg(&args[4..]);
        red_t = red_t.min(t.elapsed().as_secs_f64());
    }
    println!(
        "clip: {secs:.0} s of 1920x1080 25 fps H.264 + AAC, {} segments",
        seconds / 10
    );
    println!(
        "plain re-encode (libx264 veryfast crf 20): {plain_t:.2} s = {:.2} s of video per s",
        secs / plain_t
    );
    println!(
        "redaction (2 boxes, frame blur, bleep, watermark): {red_t:.2} s = {:.2} s of video per s",
        secs / red_t
    );
    println!("redaction / plain re-encode time: {:.2}", red_t / plain_t);
}
