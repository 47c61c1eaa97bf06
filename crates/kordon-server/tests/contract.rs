//! The API contract and the server's shape:
//!
//! - `/v1/openapi.json` is served, is the document generated from the `kordon_api` types
//!   and the handlers, and is the one checked in as `docs/openapi.json` (regenerate with
//!   `KORDON_WRITE_OPENAPI=1 cargo test -p kordon-server --test contract`);
//! - every `/v1` route of the router is in the document (they are built together);
//! - the layers hold: no module below the routes imports the routes or the web interface,
//!   no import circle of more than 3 files, no source file over 600 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn checked_in() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).expect("json") + "\n"
}

#[tokio::test]
async fn the_served_openapi_document_is_the_checked_in_one() {
    let generated =
        serde_json::to_value(kordon_server::openapi()).expect("the document serialises");
    if std::env::var_os("KORDON_WRITE_OPENAPI").is_some() {
        std::fs::write(checked_in(), pretty(&generated)).expect("write docs/openapi.json");
    }
    let dir = tempfile::tempdir().expect("tmp");
    let config = kordon_server::config::Config {
        data: dir.path().join("data"),
        ..Default::default()
    };
    let app = kordon_server::open(config).await.expect("open");
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(kordon_server::run(l, app, std::future::pending()));
    let res = reqwest::get(format!("{url}/v1/openapi.json"))
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let served: serde_json::Value = res.json().await.expect("json");
    assert_eq!(served, generated, "served and generated differ");
    assert_eq!(served["openapi"], "3.1.0");
    let file = std::fs::read_to_string(checked_in()).expect("docs/openapi.json");
    assert!(
        file == pretty(&generated),
        "docs/openapi.json is stale: run KORDON_WRITE_OPENAPI=1 cargo test -p kordon-server --test contract"
    );

    // Every /v1 path the server answers is described, with its error body.
    let paths = served["paths"].as_object().expect("paths");
    for p in [
        "/v1/devices",
        "/v1/devices/{device}/segments/{seq}",
        "/v1/crossing-points/{code}",
        "/v1/search/inspections",
        "/v1/cases/{id}/export",
        "/v1/log/inclusion",
        "/v1/edges/entries",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the document");
    }
    assert!(
        served["components"]["schemas"]["Error"].is_object(),
        "the error body is a schema"
    );
    // A path that is not in the document is not served either.
    let res = reqwest::get(format!("{url}/v1/checkpoints"))
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
}

/// The `crate::...` modules a source file uses (its `use crate::x` and `crate::x::`
/// paths, and `super::x` resolved), as module paths like `ops::devices`.
fn imports(file: &Path, module: &str, text: &str) -> BTreeSet<String> {
    let parent = match module.rsplit_once("::") {
        Some((p, _)) => p.to_owned(),
        None => String::new(),
    };
    // A `mod.rs` (or the crate root's `lib.rs`) is its own module's parent for `super`.
    let is_mod = file.ends_with("mod.rs");
    let sup = if is_mod {
        parent
            .rsplit_once("::")
            .map_or(String::new(), |(p, _)| p.to_owned())
    } else {
        parent.clone()
    };
    let mut out = BTreeSet::new();
    // Unit tests at the end of a file are not part of the layers.
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for (prefix, base) in [("crate::", String::new()), ("super::", sup)] {
        let mut rest = code.as_str();
        while let Some(i) = rest.find(prefix) {
            rest = &rest[i + prefix.len()..];
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let path = ident.trim_end_matches("::");
            let after = &rest[ident.len()..];
            match after.strip_prefix('{').and_then(|r| r.split_once('}')) {
                // `use crate::ops::{a, b}`: each braced name below the path.
                Some((inner, _)) if ident.is_empty() || ident.ends_with("::") => {
                    for name in inner.split(',') {
                        let name = name.trim().split("::").next().unwrap_or("").trim();
                        if !name.is_empty() && name != "self" {
                            out.insert(join(&base, &join(path, name)));
                        } else if name == "self" && !path.is_empty() {
                            out.insert(join(&base, path));
                        }
                    }
                }
                _ if !path.is_empty() => {
                    out.insert(join(&base, path));
                }
                _ => {}
            }
        }
    }
    // Paths into the file's own child modules (`mod x;` then `x::y`).
    for line in code.lines() {
        let l = line.trim();
        let Some(name) = l
            .strip_prefix("mod ")
            .or_else(|| l.strip_prefix("pub mod "))
            .or_else(|| l.strip_prefix("pub(crate) mod "))
            .and_then(|r| r.strip_suffix(';'))
        else {
            continue;
        };
        let needle = format!("{name}::");
        let used = code.match_indices(&needle).any(|(i, _)| {
            !code[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
        });
        if used {
            out.insert(join(module, name));
        }
    }
    out
}

fn join(base: &str, rest: &str) -> String {
    if base.is_empty() {
        rest.to_owned()
    } else {
        format!("{base}::{rest}")
    }
}

/// Module path of a source file below `src/`: `ops/devices.rs` → `ops::devices`.
fn module_of(rel: &Path) -> String {
    let s = rel.with_extension("").to_string_lossy().replace('/', "::");
    s.trim_end_matches("::mod")
        .trim_start_matches("lib")
        .to_owned()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The modules files define, each mapped to the file.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| {
            (
                module_of(f.strip_prefix(&src).expect("below src")),
                f.clone(),
            )
        })
        .collect();
    let resolve = |m: &str| -> Option<String> {
        // `ops::devices::enroll` → the longest prefix that is a file's module.
        let mut m = m.to_owned();
        loop {
            if modules.contains_key(&m) {
                return Some(m);
            }
            m = m.rsplit_once("::")?.0.to_owned();
        }
    };
    modules
        .iter()
        .map(|(m, f)| {
            let text = std::fs::read_to_string(f).expect("read");
            let deps = imports(f, m, &text)
                .iter()
                .filter_map(|i| resolve(i))
                .filter(|d| d != m)
                .collect();
            (m.clone(), deps)
        })
        .collect()
}

/// Strongly connected components (Tarjan), of more than one module.
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !t.g.contains_key(w) {
                continue;
            }
            if !t.index.contains_key(w) {
                visit(t, w);
                let lw = t.low[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut c = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                c.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if c.len() > 1 {
                t.out.push(c);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn the_server_is_in_layers() {
    let g = graph();
    assert!(
        g.len() > 30,
        "the module graph was read ({} modules)",
        g.len()
    );
    // The graph sees real imports (a check that the parser works).
    assert!(
        g["ops::devices"].contains("state"),
        "{:?}",
        g["ops::devices"]
    );
    assert!(g["routes::devices"].contains("ops::devices"));
    for c in cycles(&g) {
        assert!(c.len() <= 3, "import circle of {} files: {c:?}", c.len());
    }
    // Nothing below the entry points imports them.
    let top = |m: &str| m.starts_with("routes") || m.starts_with("ui") || m == "startup";
    for (m, deps) in &g {
        if top(m) || m.is_empty() {
            continue;
        }
        for d in deps {
            assert!(!top(d), "{m} (below the routes) imports {d}");
        }
    }
    // The operations know no HTTP.
    for (m, deps) in g.iter().filter(|(m, _)| m.starts_with("ops")) {
        assert!(
            !deps.iter().any(|d| d.starts_with("routes")),
            "{m} imports the routes"
        );
    }
    // The state imports nothing of the server but the configuration and the error.
    assert!(
        g["state"].iter().all(|d| d == "config" || d == "error"),
        "{:?}",
        g["state"]
    );
}

#[test]
fn no_source_file_is_over_600_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for c in std::fs::read_dir(&root).expect("crates") {
        let src = c.expect("crate").path().join("src");
        if src.is_dir() {
            sources(&src, &mut files);
        }
    }
    assert!(files.len() > 50, "{} files", files.len());
    for f in files {
        let n = std::fs::read_to_string(&f).expect("read").lines().count();
        assert!(n <= 600, "{} has {n} lines", f.display());
    }
}
