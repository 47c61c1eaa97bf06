//! Printing answers as a table, CSV or JSON.

use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

/// Output formats of the listing commands.
pub(crate) const FORMATS: [&str; 3] = ["table", "csv", "json"];

/// Prints `v` as pretty JSON.
pub(crate) fn json<T: Serialize>(v: &T) -> Result<i32> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(0)
}

fn cell(v: &Value) -> String {
    match v {
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
    }
}

/// Prints flat rows as a table or CSV, one column per field in the contract's order
/// (lists `;`-joined).
/// Writes one CSV row whose text cannot run as a spreadsheet formula: a cell that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return and is not a number gets a `'`
/// in front (plates, names and reasons come from people and other systems).
pub(crate) fn csv_row<'a, W: std::io::Write>(
    w: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let safe = cells.into_iter().map(|c| {
        let risky = c.starts_with(['=', '+', '-', '@', '\t', '\r']) && c.parse::<f64>().is_err();
        if risky {
            std::borrow::Cow::Owned(format!("'{c}"))
        } else {
            std::borrow::Cow::Borrowed(c)
        }
    });
    w.write_record(safe.collect::<Vec<_>>().iter().map(|c| c.as_bytes()))?;
    Ok(())
}

pub(crate) fn rows<T: Serialize>(rows: &[T], format: &str) -> Result<i32> {
    let rows: Vec<serde_json::Map<String, Value>> = rows
        .iter()
        .map(|r| match serde_json::to_value(r) {
            Ok(Value::Object(m)) => Ok(m),
            Ok(_) => Ok(serde_json::Map::new()),
            Err(e) => Err(e),
        })
        .collect::<Result<_, _>>()?;
    let Some(first) = rows.first() else {
        if format == "table" {
            println!("  (none)");
        }
        return Ok(0);
    };
    let cols: Vec<String> = first.keys().cloned().collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|k| r.get(k).map(cell).unwrap_or_default())
                .collect()
        })
        .collect();
    if format == "csv" {
        let mut w = csv::Writer::from_writer(std::io::stdout());
        csv_row(&mut w, cols.iter().map(String::as_str))?;
        for r in &cells {
            csv_row(&mut w, r.iter().map(String::as_str))?;
        }
        w.flush()?;
        return Ok(0);
    }
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, k)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(k.len())
        })
        .collect();
    let line = |vals: &[String]| {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
    };
    println!("{}", line(&cols));
    for r in &cells {
        println!("{}", line(r));
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_cells_never_run_as_formulas() {
        let mut w = csv::Writer::from_writer(Vec::new());
        super::csv_row(
            &mut w,
            [
                "=HYPERLINK(\"http://x\")",
                "+1+1",
                "-5",
                "@SUM(A1)",
                "AA1234BB",
                "\tx",
            ],
        )
        .expect("row");
        let out = String::from_utf8(w.into_inner().expect("csv")).expect("utf-8");
        assert_eq!(
            out,
            "\"'=HYPERLINK(\"\"http://x\"\")\",'+1+1,-5,'@SUM(A1),AA1234BB,'\tx\n"
        );
    }
}
