//! The `audio` field of `kordon.segment/v2`.

/// What a segment says of its sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audio {
    /// A `kordon.segment/v1` manifest: written before cameras stated their audio.
    Unstated,
    /// An audio track with sound in it.
    Present,
    /// An audio track that stays below the silence level (−60 dBFS) throughout.
    Silent,
    /// No audio track: a camera without a microphone, or the track is missing.
    None,
}

impl Audio {
    /// The spelling in a `kordon.segment/v2` manifest (`""` for [`Audio::Unstated`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Audio::Unstated => "",
            Audio::Present => "present",
            Audio::Silent => "silent",
            Audio::None => "none",
        }
    }

    /// Whether the segment's time has no sound that could be heard (silent or no track).
    pub fn is_muted(self) -> bool {
        matches!(self, Audio::Silent | Audio::None)
    }
}
