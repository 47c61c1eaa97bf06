//! Redactions (`docs/spec/redaction.md`): the operations that hide what a copy released to
//! others must not show — boxes over faces and plates that move between keyframes,
//! whole-frame blur, muted or bleeped sound, a watermark naming the recipient — in one
//! canonical text form (`kordon.redaction/v1`) whose SHA-256 the `derive` event of the
//! redacted copy names, and the one ffmpeg filter graph that renders them. The originals
//! are never changed: a redacted copy is a derived file.

use crate::hash::{Hash, sha256};

/// First line of a redaction's text form.
pub const REDACTION_V1: &str = "kordon.redaction/v1";
/// The derivation operation of a redacted copy.
pub const REDACT: &str = "redact";
/// Most keyframes, spans and boxes together in one redaction.
pub const MAX_OPERATIONS: usize = 2000;
/// Longest watermark text, in bytes.
pub const MAX_WATERMARK: usize = 200;
/// Smallest box side, in pixels (a blur needs room).
pub const MIN_BOX: u32 = 8;

/// How a box hides what is under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BoxStyle {
    /// Filled black.
    Black,
    /// Blurred beyond recognition.
    Blur,
}

impl BoxStyle {
    /// Its word in the text form.
    pub fn as_str(self) -> &'static str {
        match self {
            BoxStyle::Black => "black",
            BoxStyle::Blur => "blur",
        }
    }

    /// Reads a word of the text form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "black" => Some(BoxStyle::Black),
            "blur" => Some(BoxStyle::Blur),
            _ => None,
        }
    }
}

/// Where a box is at one moment: milliseconds from the start of the copy's first source
/// segment, pixels of the source video from its top left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// Time, ms from the start.
    pub t_ms: u64,
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
}

/// One box: shown from its first keyframe to its last, its centre moving linearly between
/// them; a box with one keyframe is shown for the whole copy. It keeps the largest width
/// and height of its keyframes, so it never covers less than the keyframes drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// Its number (1, 2, ...).
    pub id: u32,
    /// How it hides.
    pub style: BoxStyle,
    /// Keyframes, in time order, no two at the same time.
    pub keys: Vec<Key>,
}

/// What is done to the sound over a time span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sound {
    /// Silence.
    Mute,
    /// Silence under a 1 kHz tone.
    Bleep,
}

/// A time span, ms from the start, `from < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    /// Start.
    pub from_ms: u64,
    /// End.
    pub to_ms: u64,
}

/// A redaction: everything a redacted copy hides, and its watermark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redaction {
    /// Boxes, by id.
    pub boxes: Vec<Track>,
    /// Spans whose whole frame is blurred.
    pub blur: Vec<Span>,
    /// Spans whose sound is muted or bleeped.
    pub sound: Vec<(Sound, Span)>,
    /// A line drawn over every frame (whom the copy was shared with).
    pub watermark: Option<String>,
}

/// Why a redaction was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedactionError {
    /// Not `kordon.redaction/v1`, or not in its one canonical form.
    #[error("not a kordon.redaction/v1 text in its canonical form")]
    NotCanonical,
    /// A line that cannot be read.
    #[error("line {0}: {1}")]
    Line(usize, String),
    /// A box or span that does not fit the video.
    #[error("{0}")]
    Invalid(String),
}

fn ms(t: u64) -> String {
    format!("{}.{:03}", t / 1000, t % 1000)
}

impl Redaction {
    /// Checks it against the video it will be applied to (`width`×`height` pixels,
    /// `duration_ms` long): boxes at least [`MIN_BOX`] and inside the frame, keyframes
    /// and spans inside the duration, spans not empty, keyframes strictly increasing.
    ///
    /// # Errors
    /// [`RedactionError::Invalid`] naming the operation.
    pub fn check(&self, width: u32, height: u32, duration_ms: u64) -> Result<(), RedactionError> {
        let bad = |m: String| Err(RedactionError::Invalid(m));
        let count = self.boxes.iter().map(|b| b.keys.len()).sum::<usize>()
            + self.blur.len()
            + self.sound.len();
        if count > MAX_OPERATIONS {
            return bad(format!("{count} operations; at most {MAX_OPERATIONS}"));
        }
        if count == 0 && self.watermark.is_none() {
            return bad("nothing to redact: no box, blur or sound span".into());
        }
        let mut ids: Vec<u32> = self.boxes.iter().map(|b| b.id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.boxes.len() || ids.first() == Some(&0) {
            return bad("box ids must be distinct and start at 1".into());
        }
        for b in &self.boxes {
            if b.keys.is_empty() {
                return bad(format!("box {} has no keyframe", b.id));
            }
            for k in &b.keys {
                if k.w < MIN_BOX || k.h < MIN_BOX {
                    return bad(format!(
                        "box {} at {} s is {}×{}: at least {MIN_BOX}×{MIN_BOX} pixels",
                        b.id,
                        ms(k.t_ms),
                        k.w,
                        k.h
                    ));
                }
                if u64::from(k.x) + u64::from(k.w) > u64::from(width)
                    || u64::from(k.y) + u64::from(k.h) > u64::from(height)
                {
                    return bad(format!(
                        "box {} at {} s reaches outside the {width}×{height} frame",
                        b.id,
                        ms(k.t_ms)
                    ));
                }
                if k.t_ms > duration_ms {
                    return bad(format!(
                        "box {} has a keyframe at {} s, after the end ({} s)",
                        b.id,
                        ms(k.t_ms),
                        ms(duration_ms)
                    ));
                }
            }
            if b.keys.windows(2).any(|w| w[0].t_ms >= w[1].t_ms) {
                return bad(format!(
                    "box {}: keyframes must be in time order, one per moment",
                    b.id
                ));
            }
        }
        let spans = self
            .blur
            .iter()
            .map(|s| ("blur", s))
            .chain(self.sound.iter().map(|(k, s)| {
                (
                    match k {
                        Sound::Mute => "mute",
                        Sound::Bleep => "bleep",
                    },
                    s,
                )
            }));
        for (what, s) in spans {
            if s.from_ms >= s.to_ms || s.to_ms > duration_ms {
                return bad(format!(
                    "{what} {} s to {} s is empty or outside the copy (0 to {} s)",
                    ms(s.from_ms),
                    ms(s.to_ms),
                    ms(duration_ms)
                ));
            }
        }
        if let Some(w) = &self.watermark {
            watermark_ok(w).map_err(RedactionError::Invalid)?;
        }
        Ok(())
    }

    /// The canonical text form: boxes by id and time, then blur, mute and bleep spans
    /// in time order, then the watermark.
    pub fn to_text(&self) -> String {
        let mut s = format!("{REDACTION_V1}\n");
        let mut boxes = self.boxes.clone();
        boxes.sort_by_key(|b| b.id);
        for b in &boxes {
            for k in &b.keys {
                s.push_str(&format!(
                    "box {} {} {} {} {} {} {}\n",
                    b.id,
                    b.style.as_str(),
                    k.t_ms,
                    k.x,
                    k.y,
                    k.w,
                    k.h
                ));
            }
        }
        let mut blur = self.blur.clone();
        blur.sort();
        for sp in &blur {
            s.push_str(&format!("blur {} {}\n", sp.from_ms, sp.to_ms));
        }
        let mut sound = self.sound.clone();
        sound.sort();
        for (k, sp) in &sound {
            let w = match k {
                Sound::Mute => "mute",
                Sound::Bleep => "bleep",
            };
            s.push_str(&format!("{w} {} {}\n", sp.from_ms, sp.to_ms));
        }
        if let Some(w) = &self.watermark {
            s.push_str(&format!("watermark {w}\n"));
        }
        s
    }

    /// SHA-256 of the text form: what the `derive` event names.
    pub fn digest(&self) -> Hash {
        sha256(self.to_text().as_bytes())
    }

    /// Reads the text form; only the canonical form is accepted.
    ///
    /// # Errors
    /// [`RedactionError`].
    pub fn parse(text: &str) -> Result<Self, RedactionError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(RedactionError::NotCanonical)?;
        let mut lines = body.split('\n');
        if lines.next() != Some(REDACTION_V1) {
            return Err(RedactionError::NotCanonical);
        }
        let mut r = Redaction::default();
        for (i, l) in lines.enumerate() {
            let n = i + 2;
            let err = |m: &str| RedactionError::Line(n, m.to_owned());
            let num = |s: &str| crate::checkpoint::parse_decimal(s).ok_or_else(|| err("a number"));
            let small = |s: &str| -> Result<u32, RedactionError> {
                u32::try_from(num(s)?).map_err(|_| err("a number too large"))
            };
            if let Some(w) = l.strip_prefix("watermark ") {
                watermark_ok(w).map_err(|m| RedactionError::Line(n, m))?;
                r.watermark = Some(w.to_owned());
                continue;
            }
            let words: Vec<&str> = l.split(' ').collect();
            match words.as_slice() {
                ["box", id, style, t, x, y, w, h] => {
                    let id = small(id)?;
                    let style = BoxStyle::parse(style).ok_or_else(|| err("black or blur"))?;
                    let key = Key {
                        t_ms: num(t)?,
                        x: small(x)?,
                        y: small(y)?,
                        w: small(w)?,
                        h: small(h)?,
                    };
                    match r.boxes.last_mut() {
                        Some(b) if b.id == id && b.style == style => b.keys.push(key),
                        _ => r.boxes.push(Track {
                            id,
                            style,
                            keys: vec![key],
                        }),
                    }
                }
                [kind @ ("blur" | "mute" | "bleep"), from, to] => {
                    let sp = Span {
                        from_ms: num(from)?,
                        to_ms: num(to)?,
                    };
                    match *kind {
                        "blur" => r.blur.push(sp),
                        "mute" => r.sound.push((Sound::Mute, sp)),
                        _ => r.sound.push((Sound::Bleep, sp)),
                    }
                }
                _ => return Err(err("not box, blur, mute, bleep or watermark")),
            }
        }
        if r.to_text() != text {
            return Err(RedactionError::NotCanonical);
        }
        Ok(r)
    }

    /// The `-filter_complex` graph that renders it over input 0 (video `[0:v]`, sound
    /// `[0:a]` when `audio`), ending in `[v]` and, with sound, `[a]`. `watermark_file` is
    /// a file holding the watermark's text (read by `drawtext`, so the text needs no
    /// escaping), `font` the font file it is drawn with.
    pub fn filter_graph(&self, audio: bool, watermark_file: &str, font: &str) -> String {
        let mut g = Vec::new();
        let n = self.boxes.len();
        let mut last = "0:v".to_owned();
        if n > 0 {
            let outs: String = (0..n).map(|i| format!("[c{i}]")).collect();
            g.push(format!("[0:v]split={}[base]{outs}", n + 1));
            last = "base".to_owned();
        }
        for (i, b) in self.boxes.iter().enumerate() {
            let w = b.keys.iter().map(|k| k.w).max().unwrap_or(MIN_BOX);
            let h = b.keys.iter().map(|k| k.h).max().unwrap_or(MIN_BOX);
            // The top left corner that keeps the box centred on the keyframes' centres.
            let x = track(&b.keys, |k| {
                2 * i64::from(k.x) + i64::from(k.w) - i64::from(w)
            });
            let y = track(&b.keys, |k| {
                2 * i64::from(k.y) + i64::from(k.h) - i64::from(h)
            });
            let hide = match b.style {
                BoxStyle::Black => "drawbox=c=black:t=fill".to_owned(),
                BoxStyle::Blur => {
                    "boxblur=luma_radius='min(w,h)/4':luma_power=4:chroma_radius='min(cw,ch)/4':chroma_power=4"
                        .to_owned()
                }
            };
            let (first, end) = (b.keys[0].t_ms, b.keys[b.keys.len() - 1].t_ms);
            let enable = if b.keys.len() > 1 {
                format!(":enable='between(t,{},{})'", ms(first), ms(end))
            } else {
                String::new()
            };
            g.push(format!(
                "[c{i}]crop=w={w}:h={h}:x='clip({x},0,iw-{w})':y='clip({y},0,ih-{h})',{hide}[h{i}]"
            ));
            g.push(format!(
                "[{last}][h{i}]overlay=x='clip({x},0,W-{w})':y='clip({y},0,H-{h})'{enable}[o{i}]"
            ));
            last = format!("o{i}");
        }
        let mut video = format!("[{last}]");
        if !self.blur.is_empty() {
            video.push_str(&format!(
                "boxblur=luma_radius='min(w,h)/8':luma_power=4:chroma_radius='min(cw,ch)/8':chroma_power=4:enable='{}',",
                within(&self.blur)
            ));
        }
        if self.watermark.is_some() {
            video.push_str(&format!(
                "drawtext=fontfile={font}:textfile={watermark_file}:fontsize='max(8,min(h/24,w/36))':fontcolor=white@0.85:box=1:boxcolor=black@0.5:boxborderw=4:x=(w-text_w)/2:y=h-text_h-h/20,"
            ));
        }
        video.push_str("format=yuv420p[v]");
        g.push(video);
        if audio {
            let mut muted: Vec<Span> = self.sound.iter().map(|(_, s)| *s).collect();
            muted.sort();
            let bleeps: Vec<Span> = self
                .sound
                .iter()
                .filter(|(k, _)| *k == Sound::Bleep)
                .map(|(_, s)| *s)
                .collect();
            let mut a =
                "[0:a]aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=mono".to_owned();
            if !muted.is_empty() {
                a.push_str(&format!(",volume=0:enable='{}'", within(&muted)));
            }
            if bleeps.is_empty() {
                g.push(format!("{a}[a]"));
            } else {
                g.push(format!("{a}[m]"));
                g.push(format!(
                    "aevalsrc='0.25*sin(2*PI*1000*t)*({})':s=48000:c=mono[tone]",
                    within(&bleeps)
                ));
                g.push("[m][tone]amix=inputs=2:duration=first:normalize=0[a]".to_owned());
            }
        }
        g.join(";")
    }
}

/// The ffmpeg arguments that render a redaction: `list` an ffmpeg concat list of the
/// sources in order, `graph` the file holding [`Redaction::filter_graph`], `out` the
/// result. Re-encoded (H.264, AAC); no metadata carried over.
pub fn render_args<'a>(list: &'a str, graph: &'a str, audio: bool, out: &'a str) -> Vec<&'a str> {
    let mut a = crate::derive::concat_input(list).to_vec();
    a.extend(["-filter_complex_script", graph, "-map", "[v]"]);
    if audio {
        a.extend(["-map", "[a]", "-c:a", "aac", "-b:a", "96k"]);
    }
    a.extend([
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "20",
        "-fflags",
        "+bitexact",
        "-map_metadata",
        "-1",
        "-movflags",
        "+faststart",
        "-y",
        out,
    ]);
    a
}

/// Whether a watermark line may be drawn: one line of printable text.
fn watermark_ok(w: &str) -> Result<(), String> {
    if w.is_empty() || w.len() > MAX_WATERMARK || w.trim() != w || w.chars().any(char::is_control) {
        return Err(format!(
            "a watermark is one line of 1 to {MAX_WATERMARK} bytes without surrounding spaces"
        ));
    }
    Ok(())
}

/// An ffmpeg expression true while `t` is inside one of the spans.
fn within(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| format!("between(t,{},{})", ms(s.from_ms), ms(s.to_ms)))
        .collect::<Vec<_>>()
        .join("+")
}

/// An ffmpeg expression of `t` interpolating `twice(key) / 2` linearly between the
/// keyframes, constant before the first and after the last.
fn track(keys: &[Key], twice: impl Fn(&Key) -> i64) -> String {
    let v = |k: &Key| twice(k) as f64 / 2.0;
    let last = &keys[keys.len() - 1];
    let mut e = format!("{}", v(last));
    for w in keys.windows(2).rev() {
        let (a, b) = (&w[0], &w[1]);
        e = format!(
            "if(lt(t,{}),{}+({})*(t-{})/{},{e})",
            ms(b.t_ms),
            v(a),
            v(b) - v(a),
            ms(a.t_ms),
            ms(b.t_ms - a.t_ms)
        );
    }
    e
}

#[cfg(test)]
mod tests;
