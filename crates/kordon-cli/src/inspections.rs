//! `kordon inspections import` and `kordon report coverage`.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};

use crate::client::Client;

/// The CSV columns, in this order, with a header row.
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
    if header != COLUMNS {
        bail!(
            "{}: the header must be {}",
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
                    if rec.len() != COLUMNS.len() {
                        errors.push(format!(
                            "line {line}: {} fields, expected {}",
                            rec.len(),
                            COLUMNS.len()
                        ));
                        pb.inc(1);
                    } else {
                        let obj: Map<String, Value> = COLUMNS
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

fn uncovered(v: &Value) -> String {
    v["uncovered"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            format!(
                "{}/{}/{}",
                u["from"].as_str().unwrap_or(""),
                u["to"].as_str().unwrap_or(""),
                u["class"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Prints the coverage report.
pub(crate) async fn coverage_report(c: &Client, from: &str, to: &str, format: &str) -> Result<i32> {
    let q = |s: &str| s.replace('+', "%2B");
    print_coverage(
        c,
        &format!("/v1/reports/coverage?from={}&to={}", q(from), q(to)),
        format,
    )
    .await
}

/// Prints the inspections matching a search, with their coverage.
pub(crate) async fn search(
    c: &Client,
    params: &[(&str, Option<String>)],
    format: &str,
) -> Result<i32> {
    let mut url = reqwest::Url::parse("http://x/v1/search/inspections")?;
    for (k, v) in params {
        if let Some(v) = v {
            url.query_pairs_mut().append_pair(k, v);
        }
    }
    let path = format!("{}?{}", url.path(), url.query().unwrap_or(""));
    print_coverage(c, &path, format).await
}

async fn print_coverage(c: &Client, path: &str, format: &str) -> Result<i32> {
    let v = c.get(path).await?;
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
                    &uncovered(r),
                ])?;
            }
            w.flush()?;
        }
        _ => {
            println!(
                "{:<16} {:<12} {:>9} {:>9} {:>8}  uncovered",
                "inspection", "checkpoint", "covered_s", "length_s", "coverage"
            );
            for r in &rows {
                println!(
                    "{:<16} {:<12} {:>9} {:>9} {:>7.1}%  {}",
                    r["inspection_id"].as_str().unwrap_or(""),
                    r["checkpoint"].as_str().unwrap_or(""),
                    r["covered_seconds"],
                    r["duration_seconds"],
                    100.0 * r["coverage"].as_f64().unwrap_or(0.0),
                    uncovered(r)
                );
            }
        }
    }
    Ok(0)
}

/// Prints a report whose rows are flat JSON objects (`daily`, `clearance`) as a table, CSV
/// or JSON, columns in the server's order.
pub(crate) async fn table_report(
    c: &Client,
    name: &str,
    key: &str,
    from: &str,
    to: &str,
    format: &str,
) -> Result<i32> {
    let q = |s: &str| s.replace('+', "%2B");
    let v = c
        .get(&format!("/v1/reports/{name}?from={}&to={}", q(from), q(to)))
        .await?;
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    let rows = v[key].as_array().cloned().unwrap_or_default();
    let Some(first) = rows.first().and_then(Value::as_object) else {
        println!("no inspections in this range");
        return Ok(0);
    };
    let cols: Vec<String> = first.keys().cloned().collect();
    let cell = |r: &Value, k: &str| match &r[k] {
        Value::String(s) => s.clone(),
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
