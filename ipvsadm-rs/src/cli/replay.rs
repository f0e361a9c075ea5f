//! The option replay: a command line's option occurrences taken strictly in
//! the order given, as ipvsadm's option loop takes them (`-r` copies the
//! service port as it is at that point, `-6` must follow `-f`, the first
//! option must be the command). Each option does what its definition
//! (`defs/`) says; the checks on the whole line follow (`checks.rs`), then
//! the typed command is built (`build.rs`).

use ipvs::DaemonState;

use super::defs::Role;
use super::draft::{DaemonConfig, Draft};
use super::legality::Cmd;
use super::{build, checks, Event, Exit, Request};

/// What a command line means: its option occurrences `evs` in command-line
/// order, and the words that are no option's (`rest`). `reading_stdin` is
/// set for lines read by `-R`, which may not restore again.
pub(crate) fn meaning(
    program: &str,
    evs: &[Event<'_>],
    rest: Vec<String>,
    reading_stdin: bool,
) -> Result<Request, Exit> {
    let mut draft = replay(program, evs)?;
    let timeouts = checks::whole_line(&mut draft, rest, program, reading_stdin)?;
    Ok(build::request(draft, timeouts))
}

/// The draft of a line: its command, then every other option in order.
fn replay(program: &str, evs: &[Event<'_>]) -> Result<Draft, Exit> {
    let Some((first, others)) = evs.split_first() else {
        return Err(Exit::try_help(program));
    };
    let mut draft = command_of(program, first)?;
    for ev in others {
        match ev.def.role {
            Role::Set(class, set) => {
                if let Some(c) = class {
                    draft.set_option(c)?;
                }
                set(&mut draft, ev.value.as_deref())?;
            }
            // A second command (or help, or version) is an option ipvsadm's
            // loop does not take after the first.
            Role::Command(_) | Role::Ends(_) => {
                return Err(Exit::fail(format!("invalid option `{}'", ev.def.spelled())));
            }
            // Never an event: recognise.rs reads these.
            Role::Own(_) => {}
        }
    }
    Ok(draft)
}

/// The draft a line's first option starts, with the daemon state of
/// `--start-daemon`/`--stop-daemon`; help and version end the line here.
fn command_of(program: &str, first: &Event<'_>) -> Result<Draft, Exit> {
    let cmd = match first.def.role {
        Role::Command(cmd) => cmd,
        Role::Ends(end) => return Err(end(program)),
        Role::Set(..) | Role::Own(_) => return Err(Exit::try_help(program)),
    };
    let mut daemon = DaemonConfig::default();
    if matches!(cmd, Cmd::StartDaemon | Cmd::StopDaemon) {
        daemon.state = match first.value.as_deref() {
            Some("master") => DaemonState::Master,
            Some("backup") => DaemonState::Backup,
            _ if cmd == Cmd::StartDaemon => {
                return Err(Exit::fail("illegal start-daemon parameter specified"))
            }
            _ => return Err(Exit::fail("illegal start_daemon specified")),
        };
    }
    Ok(Draft::new(cmd, daemon))
}
