//! What a segment says of its sound (`audio:` in `kordon.segment/v2`, `docs/spec/links.md`
//! §2): the one measuring rule every writer uses — the camera's agent, a dock and the
//! crossing point server receiving from a body-worn system — so that anyone holding the
//! segment can measure it again with ffmpeg and get the same word.

use crate::link::Audio;

/// A track whose loudest sample stays below this level (dBFS) is silent: a covered or
/// broken microphone. Ambient noise in a customs hall is far above it.
pub const SILENCE_DBFS: f64 = -60.0;

/// ffmpeg's arguments (after the program name) that decode the first audio track of
/// `file` and print its loudest sample (`volumedetect`).
pub fn probe_args(file: &str) -> [&str; 13] {
    [
        "-hide_banner",
        "-nostats",
        "-nostdin",
        "-i",
        file,
        "-vn",
        "-map",
        "0:a:0?",
        "-af",
        "volumedetect",
        "-f",
        "null",
        "-",
    ]
}

/// Why ffmpeg's output gives no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// ffmpeg could not read the file as media.
    #[error("not a readable media file: {0}")]
    Unreadable(String),
}

/// Reads ffmpeg's standard error after [`probe_args`]: no audio stream in the input is
/// [`Audio::None`]; otherwise the loudest sample decides between [`Audio::Present`] and
/// [`Audio::Silent`], and a track with no decodable sample (a recording cut within a
/// fraction of a second) is silent: nothing in it can be heard.
///
/// # Errors
/// [`ProbeError`] when the input was not read or its audio not decoded.
pub fn from_probe(stderr: &str) -> Result<Audio, ProbeError> {
    if !stderr.contains("Input #0") {
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        return Err(ProbeError::Unreadable(
            last.unwrap_or("no output")
                .trim()
                .chars()
                .take(200)
                .collect(),
        ));
    }
    let input = stderr.split("Output #0").next().unwrap_or(stderr);
    let has_track = input
        .lines()
        .any(|l| l.trim_start().starts_with("Stream #0:") && l.contains(": Audio:"));
    if !has_track {
        return Ok(Audio::None);
    }
    let max = stderr
        .lines()
        .find_map(|l| l.split("max_volume:").nth(1))
        .and_then(|v| v.trim().trim_end_matches("dB").trim().parse::<f64>().ok())
        .unwrap_or(f64::NEG_INFINITY);
    Ok(if max < SILENCE_DBFS {
        Audio::Silent
    } else {
        Audio::Present
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'a.mp4':\n  Duration: 00:00:10.00\n  Stream #0:0[0x1](und): Video: h264 (High)\n";

    #[test]
    fn words_from_ffmpeg_output() {
        let loud = format!(
            "{HEAD}  Stream #0:1[0x2](und): Audio: aac (LC), 48000 Hz, mono\nOutput #0, null\n[Parsed_volumedetect_0 @ 0x1] max_volume: -3.4 dB\n"
        );
        assert_eq!(from_probe(&loud), Ok(Audio::Present));
        let quiet = loud.replace("-3.4 dB", "-91.0 dB");
        assert_eq!(from_probe(&quiet), Ok(Audio::Silent));
        assert_eq!(
            from_probe(&format!(
                "{HEAD}Output file #0 does not contain any stream\n"
            )),
            Ok(Audio::None)
        );
        // An audio stream named only in the output (never in the input) is not a track.
        assert_eq!(
            from_probe(&format!(
                "{HEAD}Output #0, null\n  Stream #0:0: Audio: pcm\n"
            )),
            Ok(Audio::None)
        );
        assert_eq!(
            from_probe(&loud.replace("max_volume: -3.4 dB", "")),
            Ok(Audio::Silent)
        );
        assert_eq!(
            from_probe("x.mp4: End of file\n"),
            Err(ProbeError::Unreadable("x.mp4: End of file".into()))
        );
    }
}
