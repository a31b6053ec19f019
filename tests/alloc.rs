//! The hot path does not allocate per event: after warm-up, the allocations a run makes are a
//! small fraction of the events it processes (they come from per-height work: block records,
//! monitor samples), and a pending event takes at most 48 bytes.

use consensus_performance::config::parse_scenario;
use consensus_performance::sim::{Simulation, queue::EventQueue};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steady_state_allocates_far_less_than_once_per_event() {
    let scenario = parse_scenario(
        r#"
duration: 600s
validators: { count: 20 }
network: { gossip: direct, latency: { distribution: lognormal, mean: 50ms, stddev: 20ms }, loss: 0.01 }
load: { transaction_rate: 500 }
"#,
        "alloc",
    )
    .unwrap();
    let mut sim = Simulation::new(&scenario, 3).unwrap();
    sim.start();
    // Warm up: buffers, arena and queue reach their working size.
    for _ in 0..50_000 {
        assert!(sim.step());
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut events = 0u64;
    while events < 100_000 && sim.step() {
        events += 1;
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let heights = sim.committed().len();
    println!("{allocations} allocations over {events} events ({heights} heights so far)");
    assert_eq!(events, 100_000);
    assert!(
        (allocations as f64) < events as f64 * 0.02,
        "{allocations} allocations for {events} events"
    );
}

#[test]
fn a_pending_event_takes_at_most_48_bytes() {
    assert!(
        EventQueue::bytes_per_event() <= 48,
        "{} bytes",
        EventQueue::bytes_per_event()
    );
    println!("{} bytes per pending event", EventQueue::bytes_per_event());
}
