//! `kordon`: the operator command. Runs the server (`kordon serve`), administers devices,
//! people and reference data against a running server, reports, builds cases, backs up,
//! and audits any kordon log (`kordon log verify`). Each command family is a module of
//! [`commands`]; every call to the server goes through [`client`], typed by `kordon_api`.
//! Errors print as one line and exit non-zero.

mod client;
mod commands;

use clap::{Parser, Subcommand};

use commands::{
    axis, backup, case, device, inspections, jobs, log, reference, release, search, serve, tsa,
    user,
};

#[derive(Parser)]
#[command(
    name = "kordon",
    version,
    about = "Evidence system for customs body-worn cameras"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the ingest server (SQLite + local folder by default).
    Serve(serve::ServeArgs),
    /// Devices (cameras and docks).
    Device(device::DeviceArgs),
    /// Hand a camera to an officer at shift start.
    Assign(device::AssignArgs),
    /// Take a camera back at shift end.
    Return(device::ReturnArgs),
    /// Continuity problems of every device: missing links, gaps, equivocation.
    Gaps(device::GapsArgs),
    /// Crossing points (reference data).
    CrossingPoint(reference::CrossingPointArgs),
    /// Officers (reference data).
    Officer(reference::OfficerArgs),
    /// Customs inspection records.
    Inspections(inspections::InspectionsArgs),
    /// Reasons for gaps in the coverage of inspections.
    Gap(inspections::GapArgs),
    /// Find inspections by time, place, lane, officer, id, declaration or vehicle plate.
    Search(search::SearchArgs),
    /// Reports over the inspections that started in a time range.
    Report(search::ReportArgs),
    /// Cases: footage under legal hold, evidence packages, receipts.
    Case(case::CaseArgs),
    /// Back up the metadata, the log and the keys into a folder (safe while the server
    /// runs), then check the copy by recomputing the log root; or only check one.
    Backup(backup::BackupArgs),
    /// Restore a backup into a data folder that holds no database (checked first).
    Restore(backup::RestoreArgs),
    /// Apply the retention rules now (there is no way to delete footage by hand).
    Retention(jobs::RetentionArgs),
    /// Re-read every stored segment and check its hash; show progress.
    Scrub(jobs::ScrubArgs),
    /// People and integrations who use kordon, and their API tokens.
    User(user::UserArgs),
    /// Bookmarks on inspections and footage.
    Bookmark(search::BookmarkArgs),
    /// A redacted copy of a camera's footage (boxes, blur, muted sound) for release.
    Redact(release::RedactArgs),
    /// Share a redacted copy with a named recipient; list and revoke shares.
    Share(release::ShareArgs),
    /// An officer's request that his footage be preserved, and its decision.
    Preserve(release::PreserveArgs),
    /// The transparency log.
    Log(log::LogArgs),
    /// Be the content destination of an AXIS Body Worn system: its connection file, and
    /// its users mapped to officers.
    Axis(axis::AxisArgs),
    /// An independent witness that cosigns a log's checkpoints (C2SP tlog-witness).
    Witness(serve::WitnessArgs),
    /// A local RFC 3161 time-stamping authority for demos and tests (openssl ts; not a
    /// trusted time source).
    Tsa(tsa::TsaArgs),
    /// Run a server with a simulated crossing point (real H.264 via ffmpeg), then keep serving.
    Demo(serve::DemoArgs),
}

fn main() {
    // Whatever kordon creates — database, keys, footage, packages — is its user's alone.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => serve::serve(a),
        Command::Device(a) => device::device(a),
        Command::Assign(a) => device::assign(a),
        Command::Return(a) => device::give_back(a),
        Command::Gaps(a) => device::gaps(a),
        Command::CrossingPoint(a) => reference::crossing_point(a),
        Command::Officer(a) => reference::officer(a),
        Command::Inspections(a) => inspections::inspections(a),
        Command::Gap(a) => inspections::gap(a),
        Command::Search(a) => search::search(a),
        Command::Report(a) => search::report(a),
        Command::Case(a) => case::case(a),
        Command::Backup(a) => backup::run_backup(a),
        Command::Restore(a) => backup::run_restore(a),
        Command::Retention(a) => jobs::retention(a),
        Command::Scrub(a) => jobs::scrub(a),
        Command::User(a) => user::user(a),
        Command::Bookmark(a) => search::bookmark(a),
        Command::Redact(a) => release::redact(a),
        Command::Share(a) => release::share(a),
        Command::Preserve(a) => release::preserve(a),
        Command::Log(a) => log::log(a),
        Command::Axis(a) => axis::axis(a),
        Command::Witness(a) => serve::witness(a),
        Command::Tsa(a) => tsa::tsa(a),
        Command::Demo(a) => serve::demo(a),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kordon: {e:#}");
            1
        }
    };
    std::process::exit(code);
}
