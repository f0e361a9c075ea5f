//! `--apply FILE [--dry-run]` (an ipvsadm-rs extension): changes the
//! kernel's table into the one FILE describes without flushing it.
//!
//! `ipvsadm -C; ipvsadm -R < rules` leaves the director without services
//! between the two commands: every packet is dropped and every persistence
//! template loses its service. `--apply` reads the table once, plans the
//! fewest changes with [`ipvs::plan`] (edits where an edit suffices,
//! additions before deletions, services that stay never deleted) and makes
//! them one at a time.
//!
//! FILE is what `-S` prints (and `-R` reads): `-A` lines for services, each
//! before the `-a` lines of its servers; blank lines and lines starting
//! with `#` are skipped. The whole file is read and checked before the
//! kernel is touched: a line that `-R` would reject, any other command, an
//! unknown scheduler, a service or server given twice, or a server of a
//! service no earlier line adds is an error naming the line, and nothing is
//! changed. Only services and servers are managed; timeouts and sync daemons
//! are left as they are.
//!
//! Output: `--dry-run` prints the plan as ipvsadm command lines (which `-R`
//! accepts), one change per line; without it nothing is printed on success.
//! An empty plan prints nothing either way. If the kernel refuses a change,
//! the changes after it are not made, and standard error says which one
//! failed, why, and which were made before it. Once the plan is carried out
//! (or printed), standard error has a warning for each service of FILE
//! whose servers' replies IPVS cannot NAT (`explain/fwmark_nat.rs`).

use std::collections::HashMap;
use std::io::Read;

use ipvs::{Change, Destination, Family, Scheduler, Service, ServiceKey, Table};

use crate::app::{restore_words, Ctx};
use crate::cli::{self, ApplyRequest, Command, Exit};
use crate::explain::fwmark_nat;
use crate::explain::wording;
use crate::render::{self, Format};

/// The status of a file that cannot be read or is rejected (nothing done):
/// ipvsadm's for a command line it rejects.
const BAD_FILE: i32 = 2;
/// The status when the kernel refuses a change: ipvsadm's for a failed
/// change.
const CHANGE_FAILED: i32 = 255;
/// The status when the table cannot be read (nothing done): ipvsadm's for
/// a failed listing.
const LIST_FAILED: i32 = 1;

/// The table FILE describes, read and checked in full. Needs no kernel:
/// the program does this before it connects, so that a bad file is
/// reported as such wherever it runs.
pub(crate) fn desired(
    program: &str,
    req: &ApplyRequest,
    stdin: &mut dyn Read,
) -> Result<Table, Exit> {
    let (name, text) = read_file(&req.file, stdin)?;
    parse_table(program, &name, &text)
}

/// Carries out `--apply` towards `desired` (from [`desired`]); returns the
/// exit status.
pub(crate) fn carry_out(
    ctx: &mut Ctx<'_>,
    program: &str,
    req: &ApplyRequest,
    desired: &Table,
) -> Result<i32, Exit> {
    let current = read_table(ctx)?;
    let changes = ipvs::plan(&current, desired);
    if req.dry_run {
        let mut out = Vec::new();
        for c in &changes {
            out.extend_from_slice(&command_line(c, ctx));
            out.push(b'\n');
        }
        ctx.out
            .write_all(&out)
            .map_err(|_| Exit::status(1, String::new()))?;
        warn(ctx, desired);
        return Ok(0);
    }
    // One change at a time: a batch would go on after a refused change,
    // and adding servers to a service the kernel refused helps nobody.
    for (i, c) in changes.iter().enumerate() {
        let result = ctx
            .ipvs
            .make_changes(std::slice::from_ref(c))
            .pop()
            .unwrap_or(Ok(()));
        if let Err(e) = result {
            let mut msg = format!(
                "{program}: --apply: change {} of {} failed: {}: {}\n",
                i + 1,
                changes.len(),
                String::from_utf8_lossy(&command_line(c, ctx)),
                wording::message(&e),
            );
            let done = changes.get(..i).unwrap_or_default();
            if done.is_empty() {
                msg.push_str("no change was made before it\n");
            } else {
                msg.push_str(&format!(
                    "the {} changes before it were made:\n",
                    done.len()
                ));
                for d in done {
                    msg.push_str(&format!(
                        "  {}\n",
                        String::from_utf8_lossy(&command_line(d, ctx))
                    ));
                }
            }
            msg.push_str(&format!(
                "the {} changes after it were not made\n",
                changes.len() - i - 1
            ));
            return Err(Exit::status(CHANGE_FAILED, msg));
        }
    }
    warn(ctx, desired);
    Ok(0)
}

/// Warns on standard error about what FILE sets up that IPVS cannot carry
/// out (explain/fwmark_nat.rs), whether or not the kernel had it already:
/// the file describes it.
fn warn(ctx: &mut Ctx<'_>, desired: &Table) {
    let w: String = desired
        .services()
        .filter_map(|(s, dests)| fwmark_nat::warning(s, dests))
        .collect();
    let _ = ctx.err.write_all(w.as_bytes());
}

/// FILE's name for messages and its text; `-` is standard input.
fn read_file(file: &str, stdin: &mut dyn Read) -> Result<(String, String), Exit> {
    let (name, read) = if file == "-" {
        let mut bytes = Vec::new();
        let read = stdin.read_to_end(&mut bytes).map(|_| bytes);
        ("<stdin>".to_string(), read)
    } else {
        (file.to_string(), std::fs::read(file))
    };
    let bytes = read.map_err(|e| {
        Exit::status(
            BAD_FILE,
            format!("cannot read {name}: {e}; nothing was changed\n"),
        )
    })?;
    String::from_utf8(bytes)
        .map(|text| (name.clone(), text))
        .map_err(|e| {
            Exit::status(
                BAD_FILE,
                format!("{name}: not UTF-8 text ({e}); nothing was changed\n"),
            )
        })
}

/// The table a file describes, every line checked; an error names the
/// first bad line.
pub(crate) fn parse_table(program: &str, name: &str, text: &str) -> Result<Table, Exit> {
    let mut table = Table::new();
    // Where each service and server was defined, for duplicates.
    let mut services: HashMap<ServiceKey, usize> = HashMap::new();
    let mut servers: HashMap<(ServiceKey, std::net::SocketAddr), usize> = HashMap::new();
    let mut words = vec![program];
    for (i, line) in text.split('\n').enumerate() {
        let n = i + 1;
        let bad = |why: &str| {
            Exit::status(
                BAD_FILE,
                format!("{name}:{n}: {why}; nothing was changed\n"),
            )
        };
        if line.trim_start().starts_with('#') {
            continue;
        }
        words.truncate(1);
        words.extend(restore_words(line));
        if words.len() == 1 {
            continue;
        }
        let req = cli::parse(&words, true).map_err(|e| {
            let why = e.stderr.lines().find(|l| !l.trim().is_empty()).map_or_else(
                || "not an -A or -a line".to_string(),
                |l| l.trim().to_string(),
            );
            bad(&why)
        })?;
        match req.command {
            Command::Change(Change::AddService(s)) => {
                check_service(&s).map_err(|why| bad(&why))?;
                if let Some(first) = services.get(&s.key) {
                    return Err(bad(&format!(
                        "service {} is already defined at line {first}",
                        s.key
                    )));
                }
                services.insert(s.key, n);
                table.add_service(s).map_err(|e| bad(&e.to_string()))?;
            }
            Command::Change(Change::AddDestination(k, d)) => {
                if !services.contains_key(&k) {
                    return Err(bad(&format!(
                        "service {k} is not defined by an -A line before this one"
                    )));
                }
                if let Some(first) = servers.get(&(k, d.addr)) {
                    return Err(bad(&format!(
                        "server {} of service {k} is already defined at line {first}",
                        d.addr
                    )));
                }
                servers.insert((k, d.addr), n);
                table
                    .add_destination(&k, d)
                    .map_err(|e| bad(&e.to_string()))?;
            }
            _ => {
                return Err(bad(
                    "only -A and -a lines (as -S prints them) describe the table",
                ))
            }
        }
    }
    Ok(table)
}

/// What the kernel would refuse in a service that the line's parser lets
/// through: a scheduler it has no module for.
fn check_service(s: &Service) -> Result<(), String> {
    match &s.scheduler {
        Scheduler::Other(name) => Err(format!("unknown scheduler `{name}'")),
        _ => Ok(()),
    }
}

/// The kernel's table, read once.
fn read_table(ctx: &mut Ctx<'_>) -> Result<Table, Exit> {
    let fail = |e: &ipvs::Error| {
        Exit::status(
            LIST_FAILED,
            format!("{}; nothing was changed\n", wording::message(e)),
        )
    };
    let services = ctx.ipvs.services().map_err(|e| fail(&e))?;
    let mut table = Table::new();
    for s in services {
        let key = s.key;
        let dests = ctx.ipvs.destinations(&key).map_err(|e| fail(&e))?;
        let unexpected = |e: ipvs::TableError| {
            Exit::status(
                LIST_FAILED,
                format!("unexpected table from the kernel: {e}; nothing was changed\n"),
            )
        };
        table.add_service(s).map_err(unexpected)?;
        for d in dests {
            table.add_destination(&key, d).map_err(unexpected)?;
        }
    }
    Ok(table)
}

/// A change as the ipvsadm command line that makes it, in the spelling of
/// `-S` (numeric addresses, whole names), which `-R` reads back. `-S` has
/// no thresholds, so they are added to server lines that have them.
pub(crate) fn command_line(c: &Change, ctx: &Ctx<'_>) -> Vec<u8> {
    let f = Format {
        rule: true,
        numeric: true,
        ..Format::default()
    };
    // `-S`'s lines for one service and at most one server, the service's
    // first: its command letter is swapped for the change's.
    let entry = |letter: u8, s: &Service, dests: &[Destination]| {
        let mut out = Vec::new();
        render::service_entry(&mut out, s, dests, &f, ctx.names);
        let mut line: Vec<u8> = out
            .split(|b| *b == b'\n')
            .nth(dests.len())
            .unwrap_or_default()
            .to_vec();
        if let Some(b) = line.get_mut(1) {
            *b = letter;
        }
        line
    };
    let server = |letter: u8, k: &ServiceKey, d: &Destination| {
        let mut line = entry(letter, &Service::new(*k), std::slice::from_ref(d));
        if d.upper_threshold != 0 || d.lower_threshold != 0 {
            line.extend_from_slice(
                format!(" -x {} -y {}", d.upper_threshold, d.lower_threshold).as_bytes(),
            );
        }
        line
    };
    let name = |k: &ServiceKey| render::service_name(&Service::new(*k), &f, ctx.names);
    match c {
        Change::AddService(s) => entry(b'A', s, &[]),
        Change::EditService(s) => entry(b'E', s, &[]),
        Change::AddDestination(k, d) => server(b'a', k, d),
        Change::EditDestination(k, d) => server(b'e', k, d),
        Change::DeleteDestination(k, addr) => {
            let proto = match k {
                ServiceKey::Inet { protocol, .. } => protocol.to_raw(),
                ServiceKey::Fwmark { .. } => 0,
            };
            let ip = addr.ip();
            let af = Family::of(&ip).to_raw();
            let mut line = b"-d ".to_vec();
            line.extend_from_slice(&name(k));
            line.extend_from_slice(b" -r ");
            line.extend_from_slice(&render::addrport_full(
                af,
                &ip,
                addr.port(),
                proto,
                true,
                ctx.names,
            ));
            line
        }
        Change::DeleteService(k) => {
            let mut line = b"-D ".to_vec();
            line.extend_from_slice(&name(k));
            line
        }
        // The planner makes no other change.
        other => format!("{other:?}").into_bytes(),
    }
}

#[cfg(test)]
mod tests;
