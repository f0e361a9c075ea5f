//! Callgrind harness: parses one corpus message many times inside `parse_loop`, which
//! `valgrind --tool=callgrind --toggle-collect='*parse_loop*'` counts alone, so that the
//! instruction total divided by the repetitions is the cost of one `call_id`.
//!
//! usage: ipvs-pe-sip-bench-parser MESSAGE REPETITIONS
//!        ipvs-pe-sip-bench-parser --list   (name, bytes, bytes scanned, description)

use ipvs_pe_sip_bench_parser::{message, CORPUS};
use std::hint::black_box;
use std::process::ExitCode;

#[inline(never)]
fn parse_loop(bytes: &[u8], repetitions: u32) -> usize {
    let mut found = 0;
    for _ in 0..repetitions {
        if ipvs_pe_sip::call_id(black_box(bytes)).is_ok() {
            found += 1;
        }
    }
    found
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [list] if list == "--list" => {
            for m in CORPUS {
                println!("{}\t{}\t{}\t{}", m.name, m.bytes.len(), m.scanned(), m.what);
            }
            ExitCode::SUCCESS
        }
        [name, reps] => {
            let (Some(m), Ok(reps)) = (message(name), reps.parse::<u32>()) else {
                eprintln!("unknown message or bad repetition count");
                return ExitCode::from(2);
            };
            let found = parse_loop(m.bytes, reps);
            println!("{}: {found} of {reps} parses found a Call-ID", m.name);
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: ipvs-pe-sip-bench-parser MESSAGE REPETITIONS | --list");
            ExitCode::from(2)
        }
    }
}
