use super::*;

const VECTOR: &str = include_str!("../../../../testdata/redactions/two-boxes-and-a-bleep.txt");

fn sample() -> Redaction {
    Redaction {
        boxes: vec![
            Track {
                id: 1,
                style: BoxStyle::Blur,
                keys: vec![
                    Key {
                        t_ms: 1000,
                        x: 10,
                        y: 20,
                        w: 40,
                        h: 30,
                    },
                    Key {
                        t_ms: 4000,
                        x: 100,
                        y: 60,
                        w: 48,
                        h: 36,
                    },
                ],
            },
            Track {
                id: 2,
                style: BoxStyle::Black,
                keys: vec![Key {
                    t_ms: 0,
                    x: 120,
                    y: 90,
                    w: 32,
                    h: 24,
                }],
            },
        ],
        blur: vec![Span {
            from_ms: 8000,
            to_ms: 9500,
        }],
        sound: vec![
            (
                Sound::Bleep,
                Span {
                    from_ms: 5000,
                    to_ms: 6500,
                },
            ),
            (
                Sound::Mute,
                Span {
                    from_ms: 2000,
                    to_ms: 3000,
                },
            ),
        ],
        watermark: Some("Shared with Олена Коваль · share S-7Q2M4K".into()),
    }
}

#[test]
fn the_vector_is_the_canonical_text_and_reads_back() {
    let r = sample();
    assert_eq!(r.to_text(), VECTOR);
    let back = Redaction::parse(VECTOR).expect("the vector reads");
    assert_eq!(back.to_text(), VECTOR);
    assert_eq!(back.digest(), sha256(VECTOR.as_bytes()));
    assert_eq!(back.boxes.len(), 2);
    assert_eq!(back.boxes[0].keys.len(), 2);
    back.check(160, 120, 10_000)
        .expect("it fits a 160×120 clip");
}

#[test]
fn only_the_canonical_form_is_read() {
    for bad in [
        VECTOR.replace("kordon.redaction/v1", "kordon.redaction/v2"),
        VECTOR.trim_end().to_owned(),
        VECTOR.replace("box 1 blur 1000", "box 1 blur 01000"),
        VECTOR.replace("box 1 blur 1000", "box 1  blur 1000"),
        VECTOR.replace("box 2 black", "box 2 grey"),
        // Sound spans out of order.
        VECTOR.replace(
            "mute 2000 3000\nbleep 5000 6500",
            "bleep 5000 6500\nmute 2000 3000",
        ),
        VECTOR.replace("watermark Shared", "watermark  Shared"),
        format!("{VECTOR}frame 1 2\n"),
    ] {
        assert!(Redaction::parse(&bad).is_err(), "{bad}");
    }
    assert_eq!(
        Redaction::parse(&VECTOR.replace("box 2 black", "box 2 grey")),
        Err(RedactionError::Line(4, "black or blur".into()))
    );
}

#[test]
fn what_does_not_fit_the_video_is_refused_by_name() {
    let err = |r: &Redaction| match r.check(160, 120, 10_000) {
        Err(RedactionError::Invalid(m)) => m,
        other => panic!("{other:?}"),
    };
    let mut r = sample();
    r.boxes[1].keys[0].x = 140;
    assert_eq!(
        err(&r),
        "box 2 at 0.000 s reaches outside the 160×120 frame"
    );
    let mut r = sample();
    r.boxes[0].keys[1].t_ms = 1000;
    assert_eq!(
        err(&r),
        "box 1: keyframes must be in time order, one per moment"
    );
    let mut r = sample();
    r.boxes[0].keys[0].w = 4;
    assert!(err(&r).contains("at least 8×8"), "{}", err(&r));
    let mut r = sample();
    r.sound[0].1.to_ms = 12_000;
    assert_eq!(
        err(&r),
        "bleep 5.000 s to 12.000 s is empty or outside the copy (0 to 10.000 s)"
    );
    let mut r = sample();
    r.boxes[1].id = 1;
    assert_eq!(err(&r), "box ids must be distinct and start at 1");
    assert_eq!(
        err(&Redaction::default()),
        "nothing to redact: no box, blur or sound span"
    );
    let mut r = sample();
    r.watermark = Some("two\nlines".into());
    assert!(err(&r).contains("watermark"), "{}", err(&r));
}

#[test]
fn boxes_move_between_keyframes_and_keep_their_largest_size() {
    let g = sample().filter_graph(true, "wm.txt", "font.ttf");
    // Box 1 is 48×36 (its largest keyframe), centred on the keyframes' centres: at 1 s
    // the centre is (30, 35), so the corner is (6, 17); at 4 s (124, 78) → (100, 60).
    assert!(g.contains("crop=w=48:h=36"), "{g}");
    assert!(
        g.contains("if(lt(t,4.000),6+(94)*(t-1.000)/3.000,100)"),
        "{g}"
    );
    assert!(g.contains("enable='between(t,1.000,4.000)'"), "{g}");
    // Box 2 has one keyframe: shown throughout.
    assert!(
        g.contains("[c1]crop=w=32:h=24:x='clip(120,0,iw-32)'"),
        "{g}"
    );
    assert!(g.contains("drawbox=c=black:t=fill"), "{g}");
    // Whole-frame blur, watermark, both sound spans muted and the bleep's tone mixed in.
    assert!(g.contains("enable='between(t,8.000,9.500)'"), "{g}");
    assert!(g.contains("textfile=wm.txt"), "{g}");
    assert!(
        g.contains("volume=0:enable='between(t,2.000,3.000)+between(t,5.000,6.500)'"),
        "{g}"
    );
    assert!(g.contains("[m][tone]amix"), "{g}");
    // Without a sound track, no sound filter.
    let silent = sample().filter_graph(false, "wm.txt", "font.ttf");
    assert!(!silent.contains("0:a"), "{silent}");
    assert!(silent.ends_with("format=yuv420p[v]"), "{silent}");
}

#[test]
fn interpolation_evaluates_as_ffmpeg_would() {
    // The expression is linear between keyframes and constant outside them: check it by
    // evaluating the nested ifs by hand at a few times.
    let keys = [
        Key {
            t_ms: 0,
            x: 0,
            y: 0,
            w: 10,
            h: 10,
        },
        Key {
            t_ms: 2000,
            x: 20,
            y: 0,
            w: 10,
            h: 10,
        },
        Key {
            t_ms: 3000,
            x: 10,
            y: 0,
            w: 10,
            h: 10,
        },
    ];
    let e = track(&keys, |k| 2 * i64::from(k.x));
    assert_eq!(
        e,
        "if(lt(t,2.000),0+(20)*(t-0.000)/2.000,if(lt(t,3.000),20+(-10)*(t-2.000)/1.000,10))"
    );
}

#[test]
fn render_arguments_map_sound_only_when_there_is_some() {
    let a = render_args("l.txt", "g.txt", true, "o.mp4");
    assert!(a.windows(2).any(|w| w == ["-map", "[a]"]));
    assert_eq!(a.last(), Some(&"o.mp4"));
    let a = render_args("l.txt", "g.txt", false, "o.mp4");
    assert!(!a.contains(&"[a]"));
}
