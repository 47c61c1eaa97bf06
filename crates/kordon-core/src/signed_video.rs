//! Whether a video file carries signatures inside its H.264/H.265 stream: SEI messages of
//! type "user data unregistered" with the UUID of ONVIF Media Signing or of Axis Signed
//! Video. Found by their 16-byte UUIDs in the bytes as they stream past (neither UUID
//! holds two zero bytes in a row, so no emulation-prevention byte can split one). This
//! only says the signatures are there to be checked; checking them is another step.

/// UUID of ONVIF Media Signing SEIs, `005bc93f-2d71-5e95-ada4-796f90877a6f`.
pub const ONVIF_MEDIA_SIGNING: [u8; 16] = [
    0x00, 0x5b, 0xc9, 0x3f, 0x2d, 0x71, 0x5e, 0x95, 0xad, 0xa4, 0x79, 0x6f, 0x90, 0x87, 0x7a, 0x6f,
];
/// UUID of Axis Signed Video SEIs (ASCII `Signed Video...0`).
pub const AXIS_SIGNED_VIDEO: [u8; 16] = *b"Signed Video...0";

/// The in-stream signature format found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// ONVIF Media Signing.
    Onvif,
    /// Axis Signed Video (the format before ONVIF's).
    Axis,
}

impl Signing {
    /// Its name in kordon's records.
    pub fn as_str(self) -> &'static str {
        match self {
            Signing::Onvif => "onvif-media-signing",
            Signing::Axis => "axis-signed-video",
        }
    }
}

/// Scans bytes fed in pieces for the first signing UUID.
#[derive(Debug, Default, Clone)]
pub struct Scanner {
    tail: Vec<u8>,
    found: Option<Signing>,
}

impl Scanner {
    /// Feeds the next bytes of the file.
    pub fn update(&mut self, chunk: &[u8]) {
        if self.found.is_some() {
            return;
        }
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(chunk);
        self.found = window.windows(16).find_map(|w| {
            if w == ONVIF_MEDIA_SIGNING {
                Some(Signing::Onvif)
            } else if w == AXIS_SIGNED_VIDEO {
                Some(Signing::Axis)
            } else {
                None
            }
        });
        let keep = window.len().min(15);
        self.tail = window.split_off(window.len() - keep);
    }

    /// What was found.
    pub fn found(&self) -> Option<Signing> {
        self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_uuid_split_across_chunks() {
        let mut bytes = vec![7u8; 1000];
        bytes.extend_from_slice(&ONVIF_MEDIA_SIGNING);
        bytes.extend_from_slice(&[1; 100]);
        for split in [0, 500, 1005, 1015, 1016, 1100] {
            let mut s = Scanner::default();
            s.update(&bytes[..split]);
            s.update(&bytes[split..]);
            assert_eq!(s.found(), Some(Signing::Onvif), "split at {split}");
        }
        let mut s = Scanner::default();
        s.update(&bytes[..1015]);
        assert_eq!(s.found(), None);
        let mut s = Scanner::default();
        s.update(b"xxSigned Video...0");
        assert_eq!(s.found(), Some(Signing::Axis));
    }
}
