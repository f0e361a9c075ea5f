//! `sip-options-check [OPTIONS] HOST[:PORT]`: see `--help` and the library's documentation.

fn main() {
    std::process::exit(sip_options_check::main_with(
        std::env::args().skip(1).collect(),
    ));
}
