//! Carries out ipvsadm command lines against an [`Ipvs`] implementation,
//! with ipvsadm's output, error messages and exit codes.

use std::io::{BufRead, Write};

use ipvs::{Change, Destination, Error, Info, Op, ServiceKey};

use crate::cli::{self, Command, Exit, ListWhat, Request, Run};
use crate::conn;
use crate::explain::fwmark_nat::Touched;
use crate::explain::wording;
use crate::json;
use crate::kernel::Ipvs;
use crate::render::{self, Format, Names};

/// Lowest kernel IPVS version ipvsadm 1.31 works with (1.1.4).
const MIN_IPVS_VERSION: u32 = 0x010104;

/// Where a run writes, and what it can read. Output goes to `out` as it is
/// produced, so a listing is never held whole in memory, and errors go to
/// `err` when they happen, between the pieces of output.
pub struct Ctx<'a> {
    pub ipvs: &'a mut dyn Ipvs,
    pub info: Info,
    pub names: &'a dyn Names,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Opens `/proc/net/ip_vs_conn` (replaced in tests).
    pub read_conns: &'a dyn Fn() -> std::io::Result<Box<dyn BufRead>>,
}

impl Ctx<'_> {
    /// Prints one line of error. Nothing sensible can be done if standard
    /// error is gone.
    fn eprintln(&mut self, msg: &str) {
        let _ = self.err.write_all(format!("{msg}\n").as_bytes());
    }

    /// Writes output; standard output gone (a closed pipe) ends the run
    /// with status 1, as nothing more can be shown.
    fn print(&mut self, bytes: &[u8]) -> Result<(), Exit> {
        self.out
            .write_all(bytes)
            .map_err(|_| Exit::status(1, String::new()))
    }
}

/// A listing failure: ipvsadm prints the reason and exits with status 1.
fn list_fail(ctx: &mut Ctx<'_>, e: &Error) -> Exit {
    // ipvsadm's line, then what it means (explain.rs).
    let _ = ctx
        .err
        .write_all(crate::explain::message(e, None).as_bytes());
    Exit::status(1, String::new())
}

/// Warns, as ipvsadm does, when the kernel's IPVS is older than it supports.
pub(crate) fn version_warning(info: &Info) -> Option<String> {
    (info.version.0 < MIN_IPVS_VERSION).then(|| {
        format!(
            "Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version {}\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n",
            info.version
        )
    })
}

/// Runs a whole command line against `ctx` (not the program's own kernel
/// and streams, which `program.rs` sets up): its ipvsadm lines and
/// `--apply`; returns the exit status. What needs more of the system
/// (`--drain`'s clock and signals, `--pe-stats`'s files, the generators) is
/// refused.
pub fn run(ctx: &mut Ctx<'_>, argv: &[String], stdin: &mut dyn std::io::Read) -> i32 {
    let program = cli::program_name(argv);
    let r = match cli::recognise(argv) {
        Ok(Run::Ipvsadm(req)) => return carry_out(ctx, program, req, stdin),
        Ok(Run::Apply(req)) => crate::apply::desired(program, &req, stdin)
            .and_then(|table| crate::apply::carry_out(ctx, program, &req, &table)),
        Ok(_) => Err(Exit::fail(format!(
            "{program}: this line needs the program's own system, not a given IPVS"
        ))),
        Err(exit) => Err(exit),
    };
    finish(ctx, r)
}

/// Carries out an ipvsadm command line, recognised and checked; returns the
/// exit status.
pub(crate) fn carry_out(
    ctx: &mut Ctx<'_>,
    program: &str,
    req: Request,
    stdin: &mut dyn std::io::Read,
) -> i32 {
    let r = match req.command {
        Command::Change(c) => {
            let r = make_change(ctx, &c);
            let mut touched = Touched::default();
            let status = report(ctx, r, &c, &mut touched);
            warn(ctx, &mut touched);
            Ok(status)
        }
        Command::List(what) => list(ctx, what, &req.format, req.json).map(|()| 0),
        Command::Restore => restore(ctx, program, stdin),
        Command::Save => list_all(ctx, &req.format, false).map(|()| 0),
    };
    finish(ctx, r)
}

/// The exit status of a run, its last words written.
pub(crate) fn finish(ctx: &mut Ctx<'_>, r: Result<i32, Exit>) -> i32 {
    match r {
        Ok(code) => code,
        Err(exit) => {
            // The run ends here whether or not these can be written.
            let _ = ctx.out.write_all(&exit.stdout);
            let _ = ctx.err.write_all(exit.stderr.as_bytes());
            exit.code
        }
    }
}

/// Carries out one change.
fn make_change(ctx: &mut Ctx<'_>, c: &Change) -> Result<(), Error> {
    ctx.ipvs
        .make_changes(std::slice::from_ref(c))
        .pop()
        .unwrap_or(Ok(()))
}

/// Prints a change's failure as ipvsadm does, then what it means
/// (explain.rs); returns the line's status. A change made is noted in
/// `touched`, for the warnings after it.
fn report(ctx: &mut Ctx<'_>, r: Result<(), Error>, c: &Change, touched: &mut Touched) -> i32 {
    match r {
        Ok(()) => {
            touched.note(c);
            0
        }
        Err(e) => {
            let _ = ctx
                .err
                .write_all(crate::explain::message(&e, Some(c)).as_bytes());
            255
        }
    }
}

/// Warns about what the changes noted in `touched` set up that IPVS cannot
/// carry out (explain/fwmark_nat.rs), on standard error only: standard
/// output and the exit status stay ipvsadm's.
fn warn(ctx: &mut Ctx<'_>, touched: &mut Touched) {
    let w = touched.warnings(ctx.ipvs);
    let _ = ctx.err.write_all(w.as_bytes());
}

/// Sends the changes gathered so far; returns the last one's status.
fn flush_changes(
    ctx: &mut Ctx<'_>,
    batch: &mut Vec<Change>,
    status: &mut i32,
    touched: &mut Touched,
) {
    if batch.is_empty() {
        return;
    }
    for (r, c) in ctx.ipvs.make_changes(batch).into_iter().zip(batch.iter()) {
        *status = report(ctx, r, c, touched);
    }
    batch.clear();
}

/// Splits one line of `-R` input into words the way ipvsadm's reader does:
/// separated by blanks, `ipvsadm` words dropped. A word ends at a NUL byte,
/// as a C string does (so `\0` alone is an empty argument); unlike ipvsadm,
/// words longer than its 4096-byte buffer are kept whole instead of split
/// in two. The words borrow from the line, so a restore copies none.
pub(crate) fn restore_words(line: &str) -> impl Iterator<Item = &str> {
    line.split([' ', '\t', '\r'])
        .filter(|w| !w.is_empty())
        .map(|w| w.split('\0').next().unwrap_or_default())
        .filter(|w| *w != "ipvsadm")
}

/// `-R`: every line of standard input as a command; the status is the last
/// line's, as in ipvsadm, and a rejected line ends the restore. Consecutive
/// changes are sent together; anything that reads the table, and the end of
/// the restore, sends what was gathered first. Warnings about the services
/// the restore changed end it (however it ends), once each, about the table
/// as it left them.
fn restore(ctx: &mut Ctx<'_>, program: &str, stdin: &mut dyn std::io::Read) -> Result<i32, Exit> {
    let mut touched = Touched::default();
    let r = restore_lines(ctx, program, stdin, &mut touched);
    let warnings = touched.warnings(ctx.ipvs);
    match r {
        Ok(status) => {
            let _ = ctx.err.write_all(warnings.as_bytes());
            Ok(status)
        }
        // After the message of the line that ended the restore.
        Err(mut exit) => {
            exit.stderr.push_str(&warnings);
            Err(exit)
        }
    }
}

/// The lines of a `-R` restore, each change made noted in `touched`.
fn restore_lines(
    ctx: &mut Ctx<'_>,
    program: &str,
    stdin: &mut dyn std::io::Read,
    touched: &mut Touched,
) -> Result<i32, Exit> {
    let mut input = Vec::new();
    if let Err(e) = stdin.read_to_end(&mut input) {
        ctx.eprintln(&format!("cannot read the rules: {e}"));
        return Ok(255);
    }
    let text = String::from_utf8_lossy(&input);
    let mut status = 0;
    let mut batch = Vec::new();
    // One argument vector for every line: the program name, then the line's
    // words, borrowed from the input.
    let mut line = vec![program];
    for text_line in text.split('\n') {
        line.truncate(1);
        line.extend(restore_words(text_line));
        if line.len() == 1 {
            continue;
        }
        let req = match cli::parse(&line, true) {
            Ok(req) => req,
            Err(exit) => {
                flush_changes(ctx, &mut batch, &mut status, touched);
                return Err(exit);
            }
        };
        let c = match req.command {
            Command::Change(c) => {
                batch.push(c);
                continue;
            }
            other => other,
        };
        flush_changes(ctx, &mut batch, &mut status, touched);
        status = match c {
            Command::List(what) => list(ctx, what, &req.format, req.json).map(|()| 0)?,
            _ => list_all(ctx, &req.format, false).map(|()| 0)?,
        };
    }
    flush_changes(ctx, &mut batch, &mut status, touched);
    Ok(status)
}

fn list(ctx: &mut Ctx<'_>, what: ListWhat, format: &Format, json: bool) -> Result<(), Exit> {
    match what {
        ListWhat::Connections => list_conns(ctx, format, json),
        ListWhat::Service(s) => {
            let se = ctx.ipvs.service(&s).map_err(|e| list_fail(ctx, &e))?;
            let dests = sorted_dests(ctx, &se.key, format)?;
            if json {
                let listing = json::Listing {
                    version: None,
                    conn_tab_size: None,
                    services: vec![json::service(&se, &dests)],
                };
                write_json(ctx, &listing)?;
            } else {
                ctx.print(render::title(format).as_bytes())?;
                let mut entry = Vec::new();
                render::service_entry(&mut entry, &se, &dests, format, ctx.names);
                ctx.print(&entry)?;
            }
            Ok(())
        }
        // ipvsadm exits with status 1 and no message when these fail.
        ListWhat::Timeout => {
            let t = ctx
                .ipvs
                .timeouts()
                .map_err(|_| Exit::status(1, String::new()))?;
            print_either(ctx, json, || json::timeouts(&t), || render::timeouts(&t))
        }
        ListWhat::Daemon => {
            let d = ctx
                .ipvs
                .daemons()
                .map_err(|_| Exit::status(1, String::new()))?;
            print_either(ctx, json, || json::daemons(&d), || render::daemons(&d))
        }
        ListWhat::All => list_all(ctx, format, json),
    }
}

/// A service's destinations, in ipvsadm's order unless `--nosort`.
fn sorted_dests(
    ctx: &mut Ctx<'_>,
    key: &ServiceKey,
    format: &Format,
) -> Result<Vec<Destination>, Exit> {
    let mut dests = ctx.ipvs.destinations(key).map_err(|e| list_fail(ctx, &e))?;
    if !format.nosort {
        render::sort_dests(&mut dests);
    }
    Ok(dests)
}

/// Prints a listing as JSON or as ipvsadm's text.
fn print_either<J: serde::Serialize, T: AsRef<[u8]>>(
    ctx: &mut Ctx<'_>,
    json: bool,
    as_json: impl FnOnce() -> J,
    as_text: impl FnOnce() -> T,
) -> Result<(), Exit> {
    if json {
        write_json(ctx, &as_json())
    } else {
        ctx.print(as_text().as_ref())
    }
}

fn write_json<T: serde::Serialize>(ctx: &mut Ctx<'_>, v: &T) -> Result<(), Exit> {
    match serde_json::to_vec_pretty(v) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            ctx.print(&bytes)
        }
        Err(e) => {
            ctx.eprintln(&format!("cannot encode JSON: {e}"));
            Ok(())
        }
    }
}

fn list_conns(ctx: &mut Ctx<'_>, format: &Format, json: bool) -> Result<(), Exit> {
    let fail = |msg: String| Exit::status(1, format!("{msg}\n"));
    let cannot_open = || fail(format!("cannot open file {}", conn::PROC_FILE));
    let reader = (ctx.read_conns)().map_err(|_| cannot_open())?;
    let conns = conn::entries(reader)
        .map_err(|_| cannot_open())?
        .ok_or_else(|| fail(format!("unexpected input from {}", conn::PROC_FILE)))?;
    if json {
        return match json::write_connections(ctx.out, conns) {
            Err(e) if !e.is_io() => {
                ctx.eprintln(&format!("cannot encode JSON: {e}"));
                Ok(())
            }
            r => r.map_err(|_| Exit::status(1, String::new())),
        };
    }
    conn::write_listing(ctx.out, conns, format, ctx.names)
        .map_err(|_| Exit::status(1, String::new()))
}

/// Every service with its destinations (`-L`, `-S`).
fn list_all(ctx: &mut Ctx<'_>, format: &Format, json: bool) -> Result<(), Exit> {
    if !format.rule && !json {
        ctx.print(render::header(&ctx.info).as_bytes())?;
    }
    let mut services = ctx.ipvs.services().map_err(|e| list_fail(ctx, &e))?;
    if !format.nosort {
        render::sort_services(&mut services);
    }
    let mut all = Vec::with_capacity(services.len());
    if !json {
        ctx.print(render::title(format).as_bytes())?;
    }
    let mut entry = Vec::new();
    for se in &services {
        let dests = sorted_dests(ctx, &se.key, format)?;
        if json {
            all.push(dests);
        } else {
            entry.clear();
            render::service_entry(&mut entry, se, &dests, format, ctx.names);
            ctx.print(&entry)?;
        }
    }
    if json {
        let listing = json::Listing {
            version: Some(ctx.info.version.to_string()),
            conn_tab_size: Some(ctx.info.conn_tab_size),
            services: services
                .iter()
                .zip(&all)
                .map(|(s, d)| json::service(s, d))
                .collect(),
        };
        write_json(ctx, &listing)?;
    }
    Ok(())
}

/// The message ipvsadm gives when IPVS cannot be reached at all.
pub(crate) fn init_failure(e: &Error) -> String {
    format!(
        "Can't initialize ipvs: {}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n",
        wording::describe(Op::Connect, wording::errno(e))
    )
}

#[cfg(test)]
mod tests;
