//! Custody event parsing, both versions and the private part: never panics; whatever
//! parses re-encodes to the same text; a private part opens only the entry it was
//! sealed for.
#![no_main]
use kordon_core::custody::{Custody, Event, Sealed};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match Event::parse(s) {
        Ok(Event::V1(c)) => assert_eq!(c.to_text().as_deref(), Ok(s)),
        Ok(Event::V2(e)) => {
            assert_eq!(e.to_text().as_deref(), Ok(s));
            // Sealing what it would open gives back a private part that opens it.
            if let Some(public) = e.public.clone() {
                let c = Custody {
                    time: e.time,
                    actor: "fuzz".into(),
                    action: e.action.clone(),
                    subject: e.subject.clone(),
                    detail: public,
                };
                if let Ok((text, private)) = c.seal(&e.subject, [0; 32]) {
                    let sealed = Sealed::parse(&text).expect("sealed text parses");
                    assert_eq!(sealed.open(&private), Ok(c));
                }
            }
        }
        Err(_) => {}
    }
});
