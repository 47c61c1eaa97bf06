//! `kordon inspections import`, `kordon report ...` and `kordon search`.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};

use crate::client::Client;

/// The CSV columns, in this order, with a header row; a trailing `declarant` column may
/// follow.
pub(crate) const COLUMNS: [&str; 10] = [
    "inspection_id",
    "checkpoint",
    "lane",
    "officers",
    "start",
    "end",
    "vehicle_plate",
    "declaration_no",
    "kind",
    "outcome",
];

const BATCH: usize = 500;

/// Imports a CSV file; prints one line per bad row (with its line number and reason) and
/// a summary. Exit code 2 if any row was refused.
pub(crate) async fn import(c: &Client, file: &Path) -> Result<i32> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("reading {}", file.display()))?;
    let header: Vec<String> = rdr.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    let mut columns: Vec<&str> = COLUMNS.to_vec();
    if header.len() == COLUMNS.len() + 1 {
        columns.push("declarant");
    }
    if header != columns {
        bail!(
            "{}: the header must be {} (optionally followed by ,declarant)",
            file.display(),
            COLUMNS.join(",")
        );
    }
    let total = std::fs::read_to_string(file)
        .map(|t| t.lines().count().saturating_sub(1))
        .unwrap_or(0);
    let pb = ProgressBar::new(total as u64);
    pb.set_style(
        ProgressStyle::with_template("import [{bar:40}] {pos}/{len} rows {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut counts, mut errors) = ([0usize; 3], Vec::new());
    let mut batch: Vec<(u64, Value)> = Vec::new();
    let mut records = rdr.records();
    loop {
        let next = records.next();
        let done = next.is_none();
        if let Some(r) = next {
            match r {
                Ok(rec) => {
                    let line = rec.position().map_or(0, |p| p.line());
                    if rec.len() != columns.len() {
                        errors.push(format!(
                            "line {line}: {} fields, expected {}",
                            rec.len(),
                            columns.len()
                        ));
                        pb.inc(1);
                    } else {
                        let obj: Map<String, Value> = columns
                            .iter()
                            .zip(rec.iter())
                            .map(|(k, v)| ((*k).to_owned(), Value::String(v.to_owned())))
                            .collect();
                        batch.push((line, Value::Object(obj)));
                    }
                }
                Err(e) => {
                    errors.push(format!(
                        "line {}: {e}",
                        e.position().map_or(0, |p| p.line())
                    ));
                    pb.inc(1);
                }
            }
        }
        if batch.len() >= BATCH || (done && !batch.is_empty()) {
            let body = Value::Array(batch.iter().map(|(_, v)| v.clone()).collect());
            let res = c.post_admin("/v1/inspections", &body).await?;
            for r in res["results"].as_array().into_iter().flatten() {
                let line = r["index"]
                    .as_u64()
                    .and_then(|i| batch.get(i as usize))
                    .map_or(0, |b| b.0);
                match r["status"].as_str() {
                    Some("new") => counts[0] += 1,
                    Some("unchanged") => counts[1] += 1,
                    Some("corrected") => counts[2] += 1,
                    _ => errors.push(format!(
                        "line {line}: {}",
                        r["error"].as_str().unwrap_or("refused")
                    )),
                }
            }
            pb.inc(batch.len() as u64);
            batch.clear();
        }
        if done {
            break;
        }
    }
    pb.finish_and_clear();
    errors.sort_by_key(|e| {
        e.split(':')
            .next()
            .and_then(|l| l.trim_start_matches("line ").parse::<u64>().ok())
            .unwrap_or(0)
    });
    for e in &errors {
        println!("{e}");
    }
    println!(
        "{} new, {} unchanged, {} corrected (new version), {} refused",
        counts[0],
        counts[1],
        counts[2],
        errors.len()
    );
    Ok(if errors.is_empty() { 0 } else { 2 })
}

/// The uncovered intervals: `from/to/class;...` in RFC 3339 UTC for CSV, or local clock
/// times (the crossing point's zone, named in the start column) for the table.
fn uncovered(v: &Value, local: bool) -> String {
    let clock = |t: &Value| {
        let t = t.as_str().unwrap_or("");
        // 2026-11-29T00:38:49+02:00[Europe/Kyiv] -> 00:38:49
        t.split_once('T')
            .map_or(t, |(_, rest)| rest.get(..8).unwrap_or(rest))
            .to_owned()
    };
    v["uncovered"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            if local {
                format!(
                    "{}–{} {}",
                    clock(&u["from_local"]),
                    clock(&u["to_local"]),
                    u["class"].as_str().unwrap_or("")
                )
            } else {
                format!(
                    "{}/{}/{}",
                    u["from"].as_str().unwrap_or(""),
                    u["to"].as_str().unwrap_or(""),
                    u["class"].as_str().unwrap_or("")
                )
            }
        })
        .collect::<Vec<_>>()
        .join(if local { "; " } else { ";" })
}

/// A server path with query parameters (the given ones), properly encoded.
fn path_with(path: &str, params: &[(&str, Option<String>)]) -> Result<String> {
    let mut url = reqwest::Url::parse("http://x")?.join(path)?;
    for (k, v) in params {
        if let Some(v) = v {
            url.query_pairs_mut().append_pair(k, v);
        }
    }
    Ok(format!("{}?{}", url.path(), url.query().unwrap_or("")))
}

/// Prints the inspections matching a search, with their coverage.
pub(crate) async fn search(
    c: &Client,
    params: &[(&str, Option<String>)],
    format: &str,
) -> Result<i32> {
    let v = c.get(&path_with("/v1/search/inspections", params)?).await?;
    print_coverage(&v, format)
}

/// Prints a report: `coverage`, `gaps`, `daily`, `shifts` or `clearance`.
pub(crate) async fn report(
    c: &Client,
    name: &str,
    params: &[(&str, Option<String>)],
    format: &str,
) -> Result<i32> {
    let v = c
        .get(&path_with(&format!("/v1/reports/{name}"), params)?)
        .await?;
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    match name {
        "coverage" => print_coverage(&v, format),
        "gaps" => {
            print_rows(&v["gaps"], format)?;
            if format == "table" {
                for (title, rows) in [
                    (
                        "officers with repeated unexplained gaps",
                        &v["repeated_unexplained"],
                    ),
                    (
                        "recording stops inside inspections",
                        &v["stops_in_inspections"],
                    ),
                    (
                        "anomaly: unexplained gaps on the same vehicle plate",
                        &v["anomalies"]["plates"],
                    ),
                    (
                        "anomaly: unexplained gaps with the same declarant",
                        &v["anomalies"]["declarants"],
                    ),
                    (
                        "anomaly: gaps starting within a minute of the inspection's start",
                        &v["anomalies"]["early_gaps"],
                    ),
                ] {
                    println!();
                    println!("{title}:");
                    print_rows(rows, format)?;
                }
            }
            Ok(0)
        }
        "clearance" => {
            print_rows(&v["clearance"], format)?;
            if format == "table" {
                println!();
                println!(
                    "distribution (inspections per duration bucket, seconds) and trend of the daily median:"
                );
                for d in v["distribution"].as_array().into_iter().flatten() {
                    let buckets: Vec<String> = d["buckets"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|b| {
                            format!(
                                "{}: {}",
                                b["seconds"].as_str().unwrap_or(""),
                                b["inspections"]
                            )
                        })
                        .collect();
                    let trend = d["p50_seconds_per_day_trend"]
                        .as_f64()
                        .map_or("n/a".to_owned(), |t| format!("{t:+.1} s/day"));
                    println!(
                        "  {} lane {}  {}  trend {trend}",
                        d["checkpoint"].as_str().unwrap_or(""),
                        d["lane"].as_str().unwrap_or(""),
                        buckets.join("  ")
                    );
                }
            }
            Ok(0)
        }
        "daily" => print_rows(&v["days"], format),
        _ => print_rows(&v["shifts"], format),
    }
}

fn print_coverage(v: &Value, format: &str) -> Result<i32> {
    let rows = v["inspections"].as_array().cloned().unwrap_or_default();
    match format {
        "json" => println!("{}", serde_json::to_string_pretty(&v)?),
        "csv" => {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record([
                "inspection_id",
                "checkpoint",
                "lane",
                "officers",
                "start",
                "end",
                "covered_seconds",
                "duration_seconds",
                "coverage",
                "night_seconds",
                "uncovered",
            ])?;
            for r in &rows {
                let officers: Vec<&str> = r["officers"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                w.write_record([
                    r["inspection_id"].as_str().unwrap_or(""),
                    r["checkpoint"].as_str().unwrap_or(""),
                    r["lane"].as_str().unwrap_or(""),
                    &officers.join(";"),
                    r["start"].as_str().unwrap_or(""),
                    r["end"].as_str().unwrap_or(""),
                    &r["covered_seconds"].to_string(),
                    &r["duration_seconds"].to_string(),
                    &format!("{:.4}", r["coverage"].as_f64().unwrap_or(0.0)),
                    &r["night_seconds"].to_string(),
                    &uncovered(r, false),
                ])?;
            }
            w.flush()?;
        }
        _ => {
            println!(
                "{:<16} {:<12} {:<40} {:>9} {:>9} {:>8}  uncovered",
                "inspection", "checkpoint", "start (local)", "covered_s", "length_s", "coverage"
            );
            for r in &rows {
                println!(
                    "{:<16} {:<12} {:<40} {:>9} {:>9} {:>7.1}%  {}",
                    r["inspection_id"].as_str().unwrap_or(""),
                    r["checkpoint"].as_str().unwrap_or(""),
                    r["start_local"].as_str().unwrap_or(""),
                    r["covered_seconds"],
                    r["duration_seconds"],
                    100.0 * r["coverage"].as_f64().unwrap_or(0.0),
                    uncovered(r, true)
                );
            }
        }
    }
    Ok(0)
}

/// Prints rows that are flat JSON objects as a table or CSV, columns in the server's
/// order (lists are `;`-joined).
fn print_rows(rows: &Value, format: &str) -> Result<i32> {
    let rows = rows.as_array().cloned().unwrap_or_default();
    let Some(first) = rows.first().and_then(Value::as_object) else {
        if format == "table" {
            println!("  (none)");
        }
        return Ok(0);
    };
    let cols: Vec<String> = first.keys().cloned().collect();
    let cell = |r: &Value, k: &str| match &r[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(";"),
        Value::Number(n) if n.is_f64() => format!("{:.3}", n.as_f64().unwrap_or(0.0))
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned(),
        other => other.to_string(),
    };
    if format == "csv" {
        let mut w = csv::Writer::from_writer(std::io::stdout());
        w.write_record(&cols)?;
        for r in &rows {
            w.write_record(cols.iter().map(|k| cell(r, k)))?;
        }
        w.flush()?;
    } else {
        let widths: Vec<usize> = cols
            .iter()
            .map(|k| {
                rows.iter()
                    .map(|r| cell(r, k).chars().count())
                    .max()
                    .unwrap_or(0)
                    .max(k.len())
            })
            .collect();
        let line = |vals: Vec<String>| {
            vals.iter()
                .zip(&widths)
                .map(|(v, w)| format!("{v:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        println!("{}", line(cols.clone()));
        for r in &rows {
            println!("{}", line(cols.iter().map(|k| cell(r, k)).collect()));
        }
    }
    Ok(0)
}

/// Prints bookmarks.
pub(crate) async fn bookmarks(
    c: &Client,
    params: &[(&str, Option<String>)],
    format: &str,
) -> Result<i32> {
    let v = c.get(&path_with("/v1/bookmarks", params)?).await?;
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    print_rows(&v["bookmarks"], format)
}
