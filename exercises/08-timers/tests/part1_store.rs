//! Part 1 — the timer store: an ordered map keyed by (deadline, id).
//!
//! Plain data: no clock, no lock, no wakes. Every test builds its deadlines from one
//! `Instant::now()` and offsets, so nothing here depends on time passing.

mod common;

use std::time::{Duration, Instant};

use common::{WakeLog, clone_counting_waker, ms, watchdog};
use harness::counting_waker;
use timers::TimerStore;

#[test]
fn a_new_store_is_empty() {
    watchdog("a new TimerStore").run(|| {
        let mut store = TimerStore::new();
        let now = Instant::now();
        assert_eq!(store.len(), 0, "a new store must hold no timer");
        assert!(store.is_empty(), "a new store must be empty");
        assert_eq!(
            store.earliest(),
            None,
            "an empty store has no earliest deadline"
        );
        assert!(
            store.take_due(now + Duration::from_secs(3600)).is_empty(),
            "an empty store has nothing due"
        );
    });
}

#[test]
fn insert_returns_a_key_with_the_deadline_and_counts_the_timer() {
    watchdog("TimerStore::insert").run(|| {
        let mut store = TimerStore::new();
        let (waker, _) = counting_waker();
        let deadline = Instant::now() + ms(10);
        let key = store.insert(deadline, waker);
        assert_eq!(
            key.deadline(),
            deadline,
            "the key must carry the deadline it was inserted with"
        );
        assert_eq!(store.len(), 1, "one insert, one timer");
        assert!(!store.is_empty(), "a store with a timer is not empty");
        assert_eq!(
            store.earliest(),
            Some(deadline),
            "the only timer is the earliest"
        );
    });
}

#[test]
fn equal_deadlines_are_two_timers_and_both_fire() {
    watchdog("two timers with the same deadline").run(|| {
        let mut store = TimerStore::new();
        let deadline = Instant::now() + ms(10);
        let (first, first_wakes) = counting_waker();
        let (second, second_wakes) = counting_waker();
        let a = store.insert(deadline, first);
        let b = store.insert(deadline, second);
        assert_ne!(
            a, b,
            "two inserts with the same deadline got the same key: key timers by (deadline, id), \
             with an id that grows on every insert, not by the deadline alone"
        );
        assert_eq!(
            store.len(),
            2,
            "two timers with the same deadline must be two entries: a map keyed by the Instant \
             alone lets the second overwrite the first, and the first sleep never wakes"
        );
        let due = store.take_due(deadline);
        assert_eq!(
            due.len(),
            2,
            "both timers due at the same instant must be taken"
        );
        due.into_iter().for_each(|w| w.wake());
        assert_eq!(
            (first_wakes.get(), second_wakes.get()),
            (1, 1),
            "each of the two timers must hand back its own waker"
        );
    });
}

#[test]
fn earliest_is_the_smallest_deadline_whatever_the_insert_order() {
    watchdog("TimerStore::earliest").run(|| {
        let mut store = TimerStore::new();
        let base = Instant::now();
        let (w, _) = counting_waker();
        store.insert(base + ms(30), w.clone());
        let ten = store.insert(base + ms(10), w.clone());
        store.insert(base + ms(20), w);
        assert_eq!(
            store.earliest(),
            Some(base + ms(10)),
            "earliest() must be the smallest deadline (inserted 30, 10, 20 ms)"
        );
        assert!(
            store.remove(ten).is_some(),
            "the 10 ms timer was registered"
        );
        assert_eq!(
            store.earliest(),
            Some(base + ms(20)),
            "after removing the 10 ms timer the earliest is 20 ms"
        );
    });
}

#[test]
fn a_deadline_equal_to_now_is_due() {
    watchdog("take_due at exactly the deadline").run(|| {
        let mut store = TimerStore::new();
        let deadline = Instant::now() + ms(10);
        let (waker, wakes) = counting_waker();
        store.insert(deadline, waker);
        assert!(
            store
                .take_due(deadline - Duration::from_nanos(1))
                .is_empty(),
            "a timer must not be due 1 ns before its deadline"
        );
        let due = store.take_due(deadline);
        assert_eq!(
            due.len(),
            1,
            "a timer whose deadline equals `now` is due (deadline <= now), not one turn later: \
             with a paused clock that jumps exactly to the deadline, `<` would never fire it"
        );
        due.into_iter().for_each(|w| w.wake());
        assert_eq!(wakes.get(), 1);
        assert!(store.is_empty(), "a taken timer leaves the store");
    });
}

#[test]
fn take_due_returns_due_timers_in_deadline_order_and_keeps_the_rest() {
    watchdog("take_due's order").run(|| {
        let mut store = TimerStore::new();
        let base = Instant::now();
        let log = WakeLog::new();
        store.insert(base + ms(30), log.waker("30ms"));
        store.insert(base + ms(10), log.waker("10ms first"));
        store.insert(base + ms(40), log.waker("40ms"));
        store.insert(base + ms(20), log.waker("20ms"));
        store.insert(base + ms(10), log.waker("10ms second"));
        let due = store.take_due(base + ms(30));
        assert!(
            log.entries().is_empty(),
            "take_due must not wake anything itself (the reactor wakes, after unlocking); woken: \
             {:?}",
            log.entries()
        );
        due.into_iter().for_each(|w| w.wake());
        assert_eq!(
            log.entries(),
            ["10ms first", "10ms second", "20ms", "30ms"],
            "take_due must return the due wakers earliest deadline first, equal deadlines in \
             insertion order"
        );
        assert_eq!(
            store.len(),
            1,
            "the 40 ms timer is not due at 30 ms and must stay"
        );
        assert_eq!(store.earliest(), Some(base + ms(40)));
    });
}

#[test]
fn remove_returns_the_waker_without_waking_it_and_a_second_remove_is_none() {
    watchdog("TimerStore::remove").run(|| {
        let mut store = TimerStore::new();
        let (waker, wakes) = counting_waker();
        let key = store.insert(Instant::now() + ms(10), waker.clone());
        let removed = store
            .remove(key)
            .expect("remove of a registered timer gives its waker");
        assert!(
            removed.will_wake(&waker),
            "remove must give back the stored waker"
        );
        assert_eq!(wakes.get(), 0, "remove must not wake the waker");
        assert!(store.is_empty(), "a removed timer leaves the store");
        assert!(
            store.remove(key).is_none(),
            "removing twice must be harmless and give None"
        );
    });
}

#[test]
fn removing_a_taken_timer_is_harmless() {
    watchdog("remove after take_due").run(|| {
        let mut store = TimerStore::new();
        let deadline = Instant::now();
        let (waker, _) = counting_waker();
        let key = store.insert(deadline, waker);
        assert_eq!(store.take_due(deadline).len(), 1);
        assert!(
            store.remove(key).is_none(),
            "a timer taken by take_due is no longer registered: remove must give None"
        );
        assert_eq!(store.len(), 0);
    });
}

#[test]
fn keys_are_never_reused_after_a_remove() {
    watchdog("TimerStore ids").run(|| {
        let mut store = TimerStore::new();
        let deadline = Instant::now() + ms(10);
        let (waker, _) = counting_waker();
        let old = store.insert(deadline, waker.clone());
        assert!(store.remove(old).is_some());
        let new = store.insert(deadline, waker);
        assert_ne!(
            old, new,
            "a key was handed out twice (same deadline, same id after a remove): ids must only \
             grow, never be computed from the store's length"
        );
        assert!(
            store.remove(old).is_none(),
            "removing an old key must not remove the new timer that reused its id"
        );
        assert_eq!(store.len(), 1);
    });
}

#[test]
fn set_waker_replaces_a_different_waker() {
    watchdog("TimerStore::set_waker").run(|| {
        let mut store = TimerStore::new();
        let deadline = Instant::now();
        let (old, old_wakes) = counting_waker();
        let (new, new_wakes) = counting_waker();
        let key = store.insert(deadline, old);
        assert!(
            store.set_waker(key, &new),
            "set_waker on a registered timer returns true"
        );
        assert_eq!(store.len(), 1, "set_waker must not add a timer");
        store.take_due(deadline).into_iter().for_each(|w| w.wake());
        assert_eq!(
            (old_wakes.get(), new_wakes.get()),
            (0, 1),
            "after set_waker the timer must wake the new waker, not the old one (it does not \
             `will_wake` the same task)"
        );
    });
}

#[test]
fn set_waker_on_a_missing_timer_changes_nothing() {
    watchdog("set_waker on a removed timer").run(|| {
        let mut store = TimerStore::new();
        let (waker, _) = counting_waker();
        let key = store.insert(Instant::now(), waker.clone());
        assert!(store.remove(key).is_some());
        assert!(
            !store.set_waker(key, &waker),
            "set_waker on a timer that is not registered must return false"
        );
        assert_eq!(store.len(), 0, "set_waker must never insert a timer");
    });
}

/// A tiny deterministic pseudo-random sequence (the same every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

#[test]
fn a_long_mixed_sequence_behaves_like_a_sorted_map() {
    watchdog("20 000 mixed store operations").run(|| {
        use std::collections::BTreeMap;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let mut store = TimerStore::new();
        // The model: what must be registered, keyed as the contract orders timers.
        let mut model: BTreeMap<(Instant, u64), usize> = BTreeMap::new();
        let mut keys = Vec::new();
        let woken: Arc<Vec<AtomicUsize>> =
            Arc::new((0..20_000).map(|_| AtomicUsize::new(0)).collect());
        let base = Instant::now();
        let mut now = base;
        let mut rng = Lcg(8);
        for step in 0..20_000usize {
            match rng.next(10) {
                // Insert: deadlines from the past to hours ahead, many equal ones.
                0..=4 => {
                    let offset = match rng.next(4) {
                        0 => Duration::from_millis(rng.next(5)),
                        1 => Duration::from_micros(rng.next(100_000)),
                        2 => Duration::from_secs(rng.next(10_000)),
                        _ => Duration::from_nanos(rng.next(3_000_000)),
                    };
                    let deadline = if rng.next(8) == 0 {
                        now - offset.min(now - base)
                    } else {
                        now + offset
                    };
                    let counter = Arc::clone(&woken);
                    let waker = common::waker_fn(move || {
                        counter[step].fetch_add(1, Ordering::SeqCst);
                    });
                    let key = store.insert(deadline, waker);
                    model.insert((key.deadline(), key.id()), step);
                    keys.push(key);
                }
                // Remove a key inserted earlier (maybe already gone).
                5 | 6 if !keys.is_empty() => {
                    let key = keys[rng.next(keys.len() as u64) as usize];
                    let expected = model.remove(&(key.deadline(), key.id())).is_some();
                    assert_eq!(
                        store.remove(key).is_some(),
                        expected,
                        "step {step}: remove of {key:?} disagrees with a sorted map (registered: \
                         {expected})"
                    );
                }
                // Move time forward and take what is due.
                _ => {
                    now += match rng.next(3) {
                        0 => Duration::from_nanos(rng.next(2_000_000)),
                        1 => Duration::from_millis(rng.next(300)),
                        _ => Duration::from_secs(rng.next(4_000)),
                    };
                    let expected: Vec<usize> = model
                        .range(..=(now, u64::MAX))
                        .map(|(_, &step)| step)
                        .collect();
                    model.retain(|&(deadline, _), _| deadline > now);
                    let before: Vec<usize> = expected
                        .iter()
                        .map(|&s| woken[s].load(Ordering::SeqCst))
                        .collect();
                    let due = store.take_due(now);
                    assert_eq!(
                        due.len(),
                        expected.len(),
                        "step {step}: take_due returned {} wakers, a sorted map has {} timers with \
                         a deadline <= now",
                        due.len(),
                        expected.len()
                    );
                    for (i, waker) in due.into_iter().enumerate() {
                        waker.wake();
                        let s = expected[i];
                        assert_eq!(
                            woken[s].load(Ordering::SeqCst),
                            before[i] + 1,
                            "step {step}: take_due's waker #{i} is not the timer a sorted map puts \
                             there (deadline order, then insertion order)"
                        );
                    }
                }
            }
            assert_eq!(
                store.len(),
                model.len(),
                "step {step}: len() disagrees with a sorted map"
            );
            assert_eq!(
                store.earliest(),
                model.keys().next().map(|&(deadline, _)| deadline),
                "step {step}: earliest() disagrees with a sorted map"
            );
        }
    });
}

#[test]
fn set_waker_with_a_waker_of_the_same_task_keeps_the_stored_one() {
    watchdog("TimerStore::set_waker with the same task's waker").run(|| {
        let mut store = TimerStore::new();
        let (waker, clones) = clone_counting_waker();
        let key = store.insert(Instant::now() + ms(10), waker.clone());
        let before = clones.load(std::sync::atomic::Ordering::SeqCst);
        for call in 1..=3 {
            assert!(store.set_waker(key, &waker));
            let cloned = clones.load(std::sync::atomic::Ordering::SeqCst) - before;
            assert_eq!(
                cloned, 0,
                "set_waker call {call} with a waker that `will_wake` the stored one (the same \
                 task polling again) cloned it {cloned} time(s). Its doc: \"Keeps the stored one \
                 when `will_wake` says the two wake the same task (no clone then)\": test \
                 `stored.will_wake(waker)` first, and replace only when it is false"
            );
        }
        assert_eq!(store.len(), 1);
    });
}

#[test]
fn many_due_timers_come_back_in_deadline_order() {
    watchdog("take_due with 64 timers at distinct deadlines").run(|| {
        let mut store = TimerStore::new();
        let base = Instant::now();
        let log = WakeLog::new();
        // Inserted in a scrambled order (37 is coprime with 64: every offset once).
        for i in 0..64u64 {
            let at = (i * 37) % 64;
            store.insert(base + ms(at), log.waker(&at.to_string()));
        }
        store
            .take_due(base + ms(63))
            .into_iter()
            .for_each(|w| w.wake());
        let order = log.entries();
        let expected: Vec<String> = (0..64).map(|at: u64| at.to_string()).collect();
        assert!(
            order == expected,
            "64 due timers at distinct deadlines (0..63 ms, inserted scrambled) must come back \
             from take_due earliest deadline first; they came back in this order (ms): {}. A \
             store that is a HashMap (or any unordered collection) returns them in hash order: \
             keep them sorted (a BTreeMap keyed by (deadline, id)) or sort what is due",
            harness::bounded::list(&order, 12, 4)
        );
        assert!(store.is_empty());
    });
}
