//! Writes the differential corpus: SIP datagrams for a test that sends each
//! through the C kernel engine and through ours.
//!
//! ```text
//! cargo run -p ipvs-pe-sip --example corpus -- DIR
//! ```
//!
//! `DIR/NNNN.sip` holds the raw UDP payload of datagram NNNN; `DIR/index.tsv`
//! has one line per datagram: `NNNN<TAB>c_answer<TAB>rust_answer<TAB>label`,
//! where an answer is the Call-ID in lowercase hex, or `-` where the engine
//! falls back to normal persistence. The C answers come from the C model.
//! Every Call-ID is unique across the corpus and no datagram exceeds 1400
//! bytes.

mod cases;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: corpus DIR");
        return ExitCode::FAILURE;
    };
    match cases::write(&PathBuf::from(dir)) {
        Ok(n) => {
            println!("{n} datagrams");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("corpus: {e}");
            ExitCode::FAILURE
        }
    }
}
