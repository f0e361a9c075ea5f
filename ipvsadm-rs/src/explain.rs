//! What a failure means, on the lines after ipvsadm's own message.
//!
//! ipvsadm's messages (`explain/wording.rs`) are kept word for word as the first line (scripts
//! match them, and `qemu-tests/ipvsadm/compare.sh` compares the tools), with
//! the same exit status; but "Scheduler or persistence engine not found"
//! does not say which of the two is missing, nor "No such destination"
//! which destination. The lines added here, each indented by two spaces,
//! name the object and the likely cause, and say what to run.
//!
//! A change that succeeds can still set up what IPVS cannot carry out:
//! [`fwmark_nat`] warns about firewall-mark services with one-packet
//! scheduling and masquerading servers, whose replies are never NATed.
//!
//! Which engines and schedulers exist is not something IPVS lists over
//! netlink: it is read from the kernel's modules (`/proc/modules`, and
//! `modules.dep` and `modules.builtin` of the running kernel), through
//! [`Host`] so that tests can give their own.

use std::collections::BTreeSet;

use ipvs::{Change, Error, Family, Object, Op, Protocol, ServiceKey};

pub(crate) mod fwmark_nat;
pub(crate) mod wording;

/// This project's engine module, which registers the engine `sip`.
const OUR_ENGINE_MODULE: &str = "ip_vs_pe_sip_rs";
/// The engine name our module registers.
const OUR_ENGINE: &str = "sip";
/// The prefix of persistence engine modules; the kernel asks for module
/// `ip_vs_pe_NAME` when a service names engine NAME that is not registered.
const PE_PREFIX: &str = "ip_vs_pe_";
/// The prefix of scheduler modules (`ip_vs_NAME` for scheduler NAME).
const SCHED_PREFIX: &str = "ip_vs_";
/// `ip_vs_*` modules that are no scheduler.
const NOT_SCHEDULERS: &[&str] = &["ip_vs", "ip_vs_ftp"];

/// What the running system says about its kernel modules, as text.
pub(crate) trait Host {
    /// `/proc/modules`.
    fn loaded(&self) -> Option<String>;
    /// The running kernel's `modules.dep` (modules that can be loaded).
    fn modules_dep(&self) -> Option<String>;
    /// The running kernel's `modules.builtin` (built in: always there).
    fn modules_builtin(&self) -> Option<String>;
}

/// The machine this runs on.
pub(crate) struct SystemHost;

impl SystemHost {
    fn module_file(name: &str) -> Option<String> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
        std::fs::read_to_string(format!("/lib/modules/{}/{name}", release.trim())).ok()
    }
}

impl Host for SystemHost {
    fn loaded(&self) -> Option<String> {
        std::fs::read_to_string("/proc/modules").ok()
    }
    fn modules_dep(&self) -> Option<String> {
        Self::module_file("modules.dep")
    }
    fn modules_builtin(&self) -> Option<String> {
        Self::module_file("modules.builtin")
    }
}

/// The module names a `/proc/modules` text lists.
fn loaded_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(normalise)
        .collect()
}

/// The module names of a `modules.dep` or `modules.builtin` text (paths,
/// before any `:`).
fn file_names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.split(':').next())
        .filter_map(|path| path.rsplit('/').next())
        .filter_map(|file| file.split('.').next())
        .filter(|n| !n.is_empty())
        .map(normalise)
        .collect()
}

/// Module names as the kernel keeps them (`-` and `_` are the same).
fn normalise(name: &str) -> String {
    name.replace('-', "_")
}

/// The engine a module registers: ours registers `sip` although its module
/// is not `ip_vs_pe_sip`; any other is named after its module.
fn engine_of(module: &str) -> Option<&str> {
    if module == OUR_ENGINE_MODULE {
        return Some(OUR_ENGINE);
    }
    module.strip_prefix(PE_PREFIX)
}

/// The modules of the running kernel: loaded ones (built-in modules count as
/// loaded) and available ones (loadable or built in).
struct Modules {
    loaded: BTreeSet<String>,
    available: Option<BTreeSet<String>>,
}

impl Modules {
    fn of(host: &dyn Host) -> Self {
        let builtin = host.modules_builtin().map(|t| file_names(&t));
        let mut loaded = host.loaded().map(|t| loaded_names(&t)).unwrap_or_default();
        loaded.extend(builtin.iter().flatten().cloned());
        let available = host.modules_dep().map(|dep| {
            let mut all = file_names(&dep);
            all.extend(builtin.iter().flatten().cloned());
            all
        });
        Modules { loaded, available }
    }

    /// `engine (module)` for every engine loaded.
    fn engines_loaded(&self) -> Vec<String> {
        self.loaded
            .iter()
            .filter_map(|m| engine_of(m).map(|e| format!("{e} ({m})")))
            .collect()
    }

    fn engine_loaded(&self, engine: &str) -> bool {
        self.loaded.iter().any(|m| engine_of(m) == Some(engine))
    }

    /// Every module of `kind` that can be loaded, `None` if unknown.
    fn available_with(&self, keep: impl Fn(&str) -> bool) -> Option<Vec<&str>> {
        self.available
            .as_ref()
            .map(|a| a.iter().map(String::as_str).filter(|m| keep(m)).collect())
    }
}

fn list_or_none(items: &[impl AsRef<str>]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn is_scheduler_module(m: &str) -> bool {
    m.starts_with(SCHED_PREFIX) && !m.starts_with(PE_PREFIX) && !NOT_SCHEDULERS.contains(&m)
}

/// Why adding or editing a service found no scheduler or engine: the engine
/// if one is named and none of the loaded modules registers it, else the
/// scheduler.
fn missing_engine_or_scheduler(sched: &str, pe: Option<&str>, host: &dyn Host) -> String {
    let mods = Modules::of(host);
    if let Some(pe) = pe.filter(|pe| !mods.engine_loaded(pe)) {
        let mut s = format!(
            "  persistence engine '{pe}' is not registered (engines loaded: {}), and the kernel \
             could not load module {PE_PREFIX}{pe} for it\n",
            list_or_none(&mods.engines_loaded())
        );
        if let Some(avail) = mods.available_with(|m| m.starts_with(PE_PREFIX)) {
            s.push_str(&format!(
                "  engine modules installed for this kernel: {}\n",
                list_or_none(&avail)
            ));
        }
        s.push_str(&format!(
            "  this project's engine registers '{OUR_ENGINE}': load it with `modprobe \
             {OUR_ENGINE_MODULE}`, then give `--pe {OUR_ENGINE}`\n"
        ));
        return s;
    }
    let mut s = format!(
        "  scheduler '{sched}' is not available: the kernel could not load module \
         {SCHED_PREFIX}{sched} for it\n"
    );
    if let Some(avail) = mods.available_with(is_scheduler_module) {
        let names: Vec<&str> = avail
            .iter()
            .filter_map(|m| m.strip_prefix(SCHED_PREFIX))
            .collect();
        s.push_str(&format!(
            "  schedulers available in this kernel: {}\n",
            list_or_none(&names)
        ));
    }
    s
}

/// How ipvsadm names a service on its command line (`-t ADDR:PORT`, ...).
pub(crate) fn service_option(key: &ServiceKey) -> String {
    match key {
        ServiceKey::Inet { protocol, addr } => {
            let opt = match protocol {
                Protocol::Tcp => "-t",
                Protocol::Udp => "-u",
                _ => "--sctp-service",
            };
            format!("{opt} {addr}")
        }
        ServiceKey::Fwmark { family, mark } => {
            let six = if *family == Family::Inet6 { " -6" } else { "" };
            format!("-f {mark}{six}")
        }
    }
}

/// The service a failed request was about, if it names one.
fn service_of(e: &Error) -> Option<&ServiceKey> {
    match e {
        Error::Kernel {
            object: Object::Service(k) | Object::Destination(k, _),
            ..
        } => Some(k),
        _ => None,
    }
}

/// The lines that follow ipvsadm's message for a failed request (empty when
/// there is nothing to add); `change` is what was asked, when it was a
/// change.
pub(crate) fn explanation(e: &Error, change: Option<&Change>, host: &dyn Host) -> String {
    let errno = e.errno();
    match (e.op(), errno) {
        (Op::AddService | Op::EditService, Some(libc::ENOENT)) => match change {
            Some(Change::AddService(s) | Change::EditService(s)) => {
                missing_engine_or_scheduler(s.scheduler.name(), s.pe_name.as_deref(), host)
            }
            _ => String::new(),
        },
        (
            Op::EditService
            | Op::DeleteService
            | Op::Zero
            | Op::GetService
            | Op::ListDestinations
            | Op::AddDestination
            | Op::EditDestination
            | Op::DeleteDestination,
            Some(libc::ESRCH),
        ) => match service_of(e) {
            Some(k) => {
                let k = service_option(k);
                format!(
                    "  service {k} is not in this network namespace's table (`ipvsadm-rs -Ln` \
                     lists the table; `ipvsadm-rs -A {k}` adds the service)\n"
                )
            }
            None => String::new(),
        },
        (Op::EditDestination | Op::DeleteDestination, Some(libc::ENOENT)) => match e {
            Error::Kernel {
                object: Object::Destination(k, a),
                ..
            } => {
                let k = service_option(k);
                format!(
                    "  real server {a} is not a destination of service {k} (`ipvsadm-rs -Ln \
                     {k}` lists them)\n"
                )
            }
            _ => String::new(),
        },
        (Op::AddService, Some(libc::EEXIST)) => match service_of(e) {
            Some(k) => {
                let k = service_option(k);
                format!("  service {k} is in the table already (`ipvsadm-rs -E {k}` changes it)\n")
            }
            None => String::new(),
        },
        (Op::AddDestination, Some(libc::EEXIST)) => match e {
            Error::Kernel {
                object: Object::Destination(k, a),
                ..
            } => {
                let k = service_option(k);
                format!(
                    "  real server {a} is a destination of service {k} already (`ipvsadm-rs \
                     -e {k} -r {a}` changes it)\n"
                )
            }
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// ipvsadm's message for a failed request, then what it means: whole lines.
pub(crate) fn message(e: &Error, change: Option<&Change>) -> String {
    message_on(e, change, &SystemHost)
}

/// [`message`] on the given host.
pub(crate) fn message_on(e: &Error, change: Option<&Change>, host: &dyn Host) -> String {
    let mut s = wording::message(e);
    s.push('\n');
    s.push_str(&explanation(e, change, host));
    s
}

/// What follows ipvsadm's "Can't initialize ipvs" message when the kernel
/// has no IPVS at all. Nothing is added when IPVS is there but refused the
/// request (no privilege, say): ipvsadm's message already says why, and a
/// script may compare it whole.
pub(crate) fn init_hint(e: &Error) -> String {
    match e {
        Error::NoFamily => "  the kernel has no IPVS (no generic netlink family \"IPVS\"): load \
                            it with `modprobe ip_vs` as root, or use a kernel built with \
                            CONFIG_IP_VS\n"
            .to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
