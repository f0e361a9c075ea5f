//! Time of `ipvs_pe_sip::call_id` per message of the corpus, with its throughput in bytes.
//! Run by `scripts/bench` (or `cargo bench` here); results in criterion's `estimates.json`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ipvs_pe_sip_bench_parser::CORPUS;
use std::hint::black_box;
use std::time::Duration;

fn call_id(c: &mut Criterion) {
    let mut group = c.benchmark_group("call_id");
    for m in CORPUS {
        group.throughput(Throughput::Bytes(m.bytes.len() as u64));
        group.bench_function(m.name, |b| {
            b.iter(|| ipvs_pe_sip::call_id(black_box(m.bytes)));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Shorter than criterion's defaults: eight messages, and scripts/bench runs everything.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = call_id
}
criterion_main!(benches);
