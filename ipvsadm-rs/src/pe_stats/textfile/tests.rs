//! The atomic replacement of a file, in a temporary directory.

use std::os::unix::fs::PermissionsExt;

use super::*;

/// A fresh, empty directory under the system's temporary directory,
/// removed when dropped.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    pub(crate) fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "ipvsadm-rs-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("a scratch directory");
        Scratch(dir)
    }

    /// The names in the directory, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&self.0)
            .expect("readable")
            .map(|e| {
                e.expect("an entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        v.sort();
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_temporary_file_is_beside_the_file_with_the_pid() {
    assert_eq!(
        temporary(Path::new("/var/lib/x/ipvs_pe_sip.prom"), 42),
        Path::new("/var/lib/x/ipvs_pe_sip.prom.tmp-42")
    );
    assert_eq!(temporary(Path::new("a.prom"), 7), Path::new("a.prom.tmp-7"));
}

#[test]
fn a_new_file_is_written_whole_and_nothing_else_is_left() {
    let d = Scratch::new("textfile-new");
    let f = d.0.join("ipvs_pe_sip.prom");
    replace(&f, b"a 1\n").expect("written");
    assert_eq!(fs::read(&f).expect("read"), b"a 1\n");
    assert_eq!(d.names(), ["ipvs_pe_sip.prom"]);
    let mode = fs::metadata(&f).expect("stat").permissions().mode() & 0o777;
    assert_eq!(
        mode & 0o044,
        0o044,
        "readable by node_exporter's user: {mode:o}"
    );
}

/// The file is replaced by a rename, not rewritten in place: a reader that
/// opened the old file keeps reading the old text whole.
#[test]
fn an_old_file_is_replaced_by_a_rename() {
    let d = Scratch::new("textfile-old");
    let f = d.0.join("ipvs_pe_sip.prom");
    fs::write(&f, "old 1\n").expect("old file");
    let reader = fs::File::open(&f).expect("open");
    replace(&f, b"new 2\n").expect("written");
    assert_eq!(fs::read_to_string(&f).expect("read"), "new 2\n");
    assert_eq!(io::read_to_string(reader).expect("read"), "old 1\n");
    assert_eq!(d.names(), ["ipvs_pe_sip.prom"]);
}

/// A rename that fails (here FILE is a directory) leaves FILE as it was and
/// no temporary file.
#[test]
fn a_failed_rename_removes_the_temporary_file() {
    let d = Scratch::new("textfile-rename");
    let f = d.0.join("busy.prom");
    fs::create_dir(&f).expect("a directory in the way");
    fs::write(f.join("inside"), "x").expect("not empty");
    assert!(replace(&f, b"a 1\n").is_err());
    assert!(f.is_dir());
    assert_eq!(d.names(), ["busy.prom"]);
}

/// A directory that does not exist: the error, and nothing made.
#[test]
fn a_missing_directory_is_an_error() {
    let d = Scratch::new("textfile-missing");
    let e = replace(&d.0.join("no/such.prom"), b"a 1\n").expect_err("no directory");
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
    assert!(d.names().is_empty());
}

/// A file already at the temporary name (another writer's) is neither
/// written through nor removed.
#[test]
fn a_file_at_the_temporary_name_is_left_alone() {
    let d = Scratch::new("textfile-taken");
    let f = d.0.join("x.prom");
    let tmp = temporary(&f, std::process::id());
    fs::write(&tmp, "theirs\n").expect("their file");
    let e = replace(&f, b"ours\n").expect_err("taken");
    assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(fs::read_to_string(&tmp).expect("read"), "theirs\n");
    assert!(!f.exists());
}

#[test]
fn a_path_without_a_file_name_is_refused() {
    assert_eq!(
        replace(Path::new("/"), b"").expect_err("no name").kind(),
        io::ErrorKind::InvalidInput
    );
}
