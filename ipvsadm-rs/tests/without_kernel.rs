//! The commands that need no kernel work where IPVS cannot be reached.
//!
//! Each run of the binary is made unable to reach IPVS whatever the machine
//! (IPVS loaded or not): it runs without privileges, as `nobody` when the
//! tests run as root. IPVS answers only callers with `CAP_NET_ADMIN` in the
//! initial user namespace (its generic netlink operations are
//! `GENL_ADMIN_PERM`), and `modprobe ip_vs` fails without privileges too.
//! So that no test passes vacuously, the same set-up must make the commands
//! that do need IPVS fail the way ipvsadm fails without it.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// `nobody`'s user and group ids on Debian.
const NOBODY: libc::uid_t = 65534;
const NOGROUP: libc::gid_t = 65534;

/// A copy of the binary that `nobody` can run: the build directory may be
/// under root's home (`~/.cache`), which others cannot enter.
fn binary() -> &'static PathBuf {
    static COPY: OnceLock<PathBuf> = OnceLock::new();
    COPY.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ipvsadm-rs-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the copy");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
            .expect("readable by all");
        let copy = dir.join("ipvsadm-rs");
        std::fs::copy(env!("CARGO_BIN_EXE_ipvsadm-rs"), &copy).expect("the binary copied");
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755))
            .expect("runnable by all");
        copy
    })
}

/// Runs the binary with `args`, without privileges.
fn run_without_ipvs(args: &[&str]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args).stdin(Stdio::null()).current_dir("/");
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: setgroups, setgid and setuid are,
    // and the closure touches no memory shared with the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::geteuid() != 0 {
                return Ok(()); // unprivileged already
            }
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(NOGROUP) != 0
                || libc::setuid(NOBODY) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The set-up does cut IPVS off: what needs it fails as ipvsadm does
/// without it (status 2, "Can't initialize ipvs"), and changes nothing.
#[test]
fn commands_that_need_ipvs_fail_in_this_set_up() {
    // `--apply` too: a well-formed line goes on to the kernel (it once was
    // refused before connecting, by the check for malformed lines).
    for args in [
        &["-Ln"][..],
        &[],
        &["-A", "-t", "10.0.0.1:80"],
        &["-C"],
        &["--apply", "-", "--dry-run"],
        &["--drain", "-u", "10.0.0.1:5060", "-r", "10.0.0.2"],
    ] {
        let o = run_without_ipvs(args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        // (`modprobe`, which it tries first as ipvsadm does, may have said why it failed.)
        assert!(err.contains("Can't initialize ipvs: "), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_works_without_ipvs() {
    for flag in ["-h", "--help"] {
        let o = run_without_ipvs(&[flag]);
        let out = text(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{flag}: {}", text(&o.stderr));
        assert!(out.starts_with("ipvsadm v1.31 "), "{out}");
        assert!(out.contains("\nUsage:\n"), "{out}");
        // ipvsadm's text ends with its last daemon option; ours follows.
        let (ipvsadm, ours) = out
            .split_once("\n\nipvsadm-rs adds (not in ipvsadm 1.31):\n")
            .unwrap_or_else(|| panic!("no section of ipvsadm-rs's own in {out}"));
        assert!(ipvsadm.ends_with("Multicast TTL (default=1)"), "{ipvsadm}");
        for option in ["--apply FILE", "--pe-stats", "--drain", "--json", "--man"] {
            assert!(
                ours.contains(&format!("\n  {option} ")),
                "{option} in {ours}"
            );
        }
    }
}

#[test]
fn version_works_without_ipvs() {
    for flag in ["-v", "--version"] {
        let o = run_without_ipvs(&[flag]);
        assert_eq!(o.status.code(), Some(0), "{flag}: {}", text(&o.stderr));
        assert_eq!(
            text(&o.stdout),
            "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n"
        );
    }
}

#[test]
fn completions_work_without_ipvs() {
    for (shell, mark) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ipvsadm-rs"),
        ("fish", "complete -c ipvsadm-rs"),
    ] {
        let o = run_without_ipvs(&["--completions", shell]);
        let out = text(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", text(&o.stderr));
        assert!(out.contains(mark), "{shell}: {out}");
        assert!(out.contains("pe-stats"), "{shell}");
    }
}

#[test]
fn the_man_page_works_without_ipvs() {
    let o = run_without_ipvs(&["--man"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(out.starts_with(".ie \\n(.g .ds Aq"), "{out}");
    assert!(out.contains(".TH ipvsadm-rs 8"), "{out}");
    assert!(out.contains("pe\\-stats"), "{out}");
    for option in [
        "\\-\\-format",
        "prometheus",
        "\\-\\-output",
        "\\-\\-drain",
        "\\-\\-force\\-delete",
    ] {
        assert!(out.contains(option), "{option}: {out}");
    }
}

/// A refused command line says why without IPVS too (ipvsadm itself
/// would only say it cannot initialise IPVS).
#[test]
fn refused_lines_say_why_without_ipvs() {
    let o = run_without_ipvs(&["-A", "-t", "10.0.0.1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !text(&o.stderr).contains("Can't initialize ipvs"),
        "{}",
        text(&o.stderr)
    );
    let o = run_without_ipvs(&["--dry-run"]);
    let err = text(&o.stderr);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("--apply <FILE>"), "{err}");
    assert!(!err.contains("Can't initialize ipvs"), "{err}");
    let o = run_without_ipvs(&["--pe-stats", "-n"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "--pe-stats takes no other option than --format, --json and --output\n"
    );
}

/// A bad `--drain` line says what is wrong before anything reaches the
/// kernel, without IPVS too.
#[test]
fn bad_drain_lines_are_refused_without_ipvs() {
    for (line, why) in [
        ("--drain -u 10.0.0.1:5060", "--real-server"),
        ("--drain -u 10.0.0.1:5060 -r 10.0.0.2 -w 0", "'-w'"),
        (
            "--drain -u 10.0.0.1:5060 -r 10.0.0.2 --force-delete",
            "--timeout",
        ),
        (
            "--drain -u 10.0.0.1:5060 -r 10.0.0.2 --timeout 1",
            "at least",
        ),
        (
            "--drain -u 10.0.0.1:99999 -r 10.0.0.2",
            "illegal virtual server",
        ),
    ] {
        let args: Vec<&str> = line.split_whitespace().collect();
        let o = run_without_ipvs(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{line}: {err}");
        assert!(err.contains(why), "{line}: {err}");
        assert!(!err.contains("Can't initialize ipvs"), "{line}: {err}");
        assert!(o.stdout.is_empty(), "{line}");
    }
}

/// `--json` with another `--format` is refused (status 2) before anything
/// is read or written: no file appears at `--output`.
#[test]
fn conflicting_pe_stats_formats_are_refused_before_anything_is_done() {
    let file = std::env::temp_dir().join(format!("ipvsadm-rs-refused-{}.prom", std::process::id()));
    let o = run_without_ipvs(&[
        "--pe-stats",
        "--json",
        "--format",
        "prometheus",
        "--output",
        file.to_str().expect("UTF-8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        text(&o.stderr),
        "--json means --format json: it cannot come with --format prometheus\n"
    );
    assert!(o.stdout.is_empty());
    assert!(!file.exists());
}

/// `--apply` reads and checks its file before connecting: a bad file is
/// reported as such without IPVS too (not as IPVS missing).
#[test]
fn apply_reports_a_bad_file_without_ipvs() {
    let o = run_without_ipvs(&["--apply", "/nonexistent/rules"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with("cannot read /nonexistent/rules: ")
            && err.ends_with("; nothing was changed\n"),
        "{err}"
    );

    // In the temporary directory, where `nobody` can read it.
    let path = std::env::temp_dir().join(format!("ipvsadm-rs-bad-{}.rules", std::process::id()));
    std::fs::write(
        &path,
        "-A -u 10.0.0.1:5060 -s rr\n-a -u 10.0.0.1:5060 -r 10.0.0.2 -x\n",
    )
    .expect("a temporary file");
    let file = path.to_string_lossy().into_owned();
    let o = run_without_ipvs(&["--apply", &file, "--dry-run"]);
    let _ = std::fs::remove_file(&path);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with(&format!("{file}:2: ")), "{err}");
    assert!(!err.contains("Can't initialize ipvs"), "{err}");
    assert!(o.stdout.is_empty());
}
