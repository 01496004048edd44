//! Part 2 — the runtime context: a thread-local that says which runtime is current, so that a
//! free `spawn()` can find it; `block_on` and `enter` set it and restore what was there
//! before (also when unwinding); a nested `block_on` is refused.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use futures::channel::oneshot;
use runtime::{Handle, Runtime, spawn};

mod common;
use common::{watchdog, yield_now};

#[test]
fn spawn_inside_block_on_finds_the_runtime() {
    let out = watchdog("runtime::spawn inside block_on").run(|| {
        let rt = Runtime::new();
        rt.block_on(async { spawn(async { 3 }).await })
    });
    assert_eq!(
        out,
        Ok(3),
        "the free `spawn()` must find the runtime whose block_on this thread is running \
         (block_on puts a Handle in the thread-local before it polls anything)"
    );
}

#[test]
fn a_task_can_spawn_a_task() {
    let out = watchdog("a task that calls runtime::spawn").run(|| {
        let rt = Runtime::new();
        harness::catch_panic(|| {
            rt.block_on(async { spawn(async { spawn(async { 5 }).await.unwrap() + 1 }).await })
        })
    });
    assert_eq!(
        out,
        Ok(Ok(6)),
        "block_on's future spawned a task, which spawned a task; got {out:?}. If it mentions \
         `BorrowMutError` or \"already borrowed\": your thread-local holds a borrow of the \
         runtime for as long as block_on runs, so spawn() cannot borrow it again. Keep a \
         Handle (an Arc) in the thread-local and clone it out; never hold the borrow."
    );
}

#[test]
fn handle_current_inside_a_task_is_usable() {
    let out = watchdog("Handle::current() inside a task").run(|| {
        let rt = Runtime::new();
        rt.block_on(async {
            spawn(async {
                let handle = Handle::current();
                handle.spawn(async { 8 }).await
            })
            .await
        })
    });
    assert_eq!(
        out,
        Ok(Ok(8)),
        "Handle::current() inside a task must be the runtime running it"
    );
}

#[test]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    let refused = harness::catch_panic(|| spawn(async {}));
    let message = refused.err().unwrap_or_else(|| {
        panic!(
            "spawn() outside any runtime returned a JoinHandle: the task can never run. It \
             must panic instead, saying it must be called from the context of a runtime"
        )
    });
    assert!(
        message.contains("context of a runtime"),
        "spawn() outside a runtime must panic with a message saying it \"must be called from \
         the context of a runtime\" (as tokio's does); it said: {message:?}"
    );
}

#[test]
fn handle_current_outside_a_runtime_panics_and_try_current_is_none() {
    // A runtime that exists is not current: only block_on, a task or enter() make it so.
    let _rt = Runtime::new();
    assert!(
        Handle::try_current().is_none(),
        "Handle::try_current() on a thread that is in no runtime must be None"
    );
    let message = harness::catch_panic(Handle::current).err();
    assert!(
        message
            .as_deref()
            .is_some_and(|m| m.contains("context of a runtime")),
        "Handle::current() outside a runtime must panic saying it \"must be called from the \
         context of a runtime\"; it gave: {message:?}"
    );
}

#[test]
fn block_on_leaves_no_context_behind() {
    let (inside, after) = watchdog("Handle::try_current() inside and after block_on").run(|| {
        let rt = Runtime::new();
        let inside = rt.block_on(async { Handle::try_current().is_some() });
        (inside, Handle::try_current().is_some())
    });
    assert!(
        inside,
        "inside block_on, Handle::try_current() must be Some"
    );
    assert!(
        !after,
        "after block_on returned, the thread is in no runtime again: try_current() must be \
         None (restore the context block_on found when it started)"
    );
}

#[test]
fn block_on_restores_the_previous_context() {
    watchdog("block_on of runtime B while runtime A is entered").run(|| {
        let a = Runtime::new();
        let b = Runtime::new();
        let _a_is_current = a.enter();
        // Inside B's block_on, spawn() goes to B: B runs it, so it finishes.
        let inside = b.block_on(async { spawn(async { "on b" }).await });
        assert_eq!(
            inside,
            Ok("on b"),
            "inside B's block_on, spawn() must go to B"
        );
        // Afterwards A is current again: a task spawned now runs on A.
        let handle = spawn(async { "on a" });
        assert_eq!(
            a.block_on(handle),
            Ok("on a"),
            "after B's block_on returned, the context must be A's again"
        );
    });
}

#[test]
fn the_context_is_restored_when_block_on_unwinds() {
    let rt = Runtime::new();
    let unwound = harness::catch_panic(|| rt.block_on(async { panic!("the main future broke") }));
    assert_eq!(
        unwound.err().as_deref(),
        Some("the main future broke"),
        "a panic of block_on's own future must propagate out of block_on, unchanged"
    );
    assert!(
        Handle::try_current().is_none(),
        "after block_on unwound, this thread still thinks a runtime is current: restore the \
         context in a guard's Drop, which also runs during a panic, not in code after the loop"
    );
    let again = harness::catch_panic(|| rt.block_on(async { 1 }));
    assert_eq!(
        again,
        Ok(1),
        "after a block_on unwound, a new block_on on the same thread must work (it is not \
         nested: reset the \"inside block_on\" flag in a guard's Drop too)"
    );
}

#[test]
fn a_nested_block_on_is_refused_with_a_message() {
    let (refused, outer) = watchdog("block_on called inside block_on").run(|| {
        let outer_rt = Runtime::new();
        let inner_rt = Runtime::new();
        let refused =
            outer_rt.block_on(async { harness::catch_panic(|| inner_rt.block_on(async { 1 })) });
        // The outer runtime is intact.
        let outer = outer_rt.block_on(async { spawn(async { 2 }).await });
        (refused, outer)
    });
    let message = refused.err().unwrap_or_else(|| {
        panic!(
            "block_on inside block_on ran: it must be refused (a panic), because the inner one \
             would stall every task of the outer runtime until it returns"
        )
    });
    assert!(
        message.contains("within a runtime"),
        "a nested block_on must panic with a message saying it cannot be called \"from within \
         a runtime\"; it said: {message:?}"
    );
    assert_eq!(
        outer,
        Ok(2),
        "the refusal must leave the outer runtime (and this thread's context) usable"
    );
}

#[test]
fn an_enter_guard_restores_the_previous_runtime() {
    watchdog("nested enter() guards").run(|| {
        let a = Runtime::new();
        let b = Runtime::new();
        let on_b;
        {
            let _a = a.enter();
            {
                let _b = b.handle().enter();
                on_b = spawn(async { "b" });
            }
            let on_a = spawn(async { "a" });
            assert_eq!(
                a.block_on(on_a),
                Ok("a"),
                "after the inner enter() guard dropped, the outer runtime must be current again"
            );
        }
        assert!(
            Handle::try_current().is_none(),
            "after every enter() guard dropped, no runtime may be current"
        );
        assert_eq!(
            b.block_on(on_b),
            Ok("b"),
            "spawn() under b's guard must go to b"
        );
    });
}

#[test]
fn a_spawn_from_another_thread_wakes_a_sleeping_block_on() {
    let out = watchdog("Handle::spawn from another thread while block_on sleeps").run(|| {
        let rt = Runtime::new();
        let handle = rt.handle();
        let (tx, rx) = oneshot::channel::<&str>();
        let (started_tx, started) = mpsc::channel::<()>();
        let spawner = thread::spawn(move || {
            // Wait until block_on is running (and soon asleep), then spawn.
            let _ = started.recv_timeout(Duration::from_secs(3));
            handle.spawn(async move {
                let _ = tx.send("from the other thread");
            })
        });
        let out = rt.block_on(async move {
            started_tx.send(()).unwrap();
            rx.await
        });
        let _ = spawner.join();
        out
    });
    assert_eq!(
        out,
        Ok("from the other thread"),
        "a task spawned from another thread must run: the spawn must wake a block_on that \
         sleeps with nothing to do"
    );
}

#[test]
fn handle_is_send_sync_and_clone() {
    fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>(_: &T) {}
    let rt = Runtime::new();
    let handle = rt.handle();
    assert_send_sync_clone(&handle);
    let out = watchdog("a Handle cloned into a task").run(move || {
        let inner = handle.clone();
        rt.block_on(async move { inner.spawn(async { 4 }).await })
    });
    assert_eq!(
        out,
        Ok(4),
        "a clone of the Handle spawns on the same runtime"
    );
}

#[test]
fn a_task_spawned_during_block_on_runs_before_the_main_future_needs_it() {
    // The main future yields; the spawned task must get turns meanwhile (block_on runs
    // queued tasks between polls of its own future).
    let out = watchdog("block_on whose future yields while a task runs").run(|| {
        let rt = Runtime::new();
        rt.block_on(async {
            let handle = spawn(async { 10 });
            for _ in 0..100 {
                if handle.is_finished() {
                    return handle.await;
                }
                yield_now().await;
            }
            panic!("a spawned task never ran while block_on's future kept yielding")
        })
    });
    assert_eq!(out, Ok(10));
}

#[test]
fn a_refused_nested_block_on_leaves_the_outer_one_intact() {
    // The refusal itself unwinds out of the inner call: whatever it undoes on the way must not
    // be the OUTER block_on's state ("inside block_on", the current runtime).
    let (refusals, current_after, outer) =
        watchdog("block_on refused three times inside one block_on").run(|| {
            let outer_rt = Runtime::new();
            let inner_rt = Runtime::new();
            let (refusals, current_after) = outer_rt.block_on(async {
                let mut refusals = Vec::new();
                for _ in 0..2 {
                    refusals.push(harness::catch_panic(|| inner_rt.block_on(async { 1 })));
                }
                yield_now().await; // the outer runtime turns in between
                refusals.push(harness::catch_panic(|| inner_rt.block_on(async { 1 })));
                // Still the outer runtime's context: spawn() goes to it, and it runs the task.
                let task = spawn(async { 2 });
                (refusals, task.await)
            });
            let outer = harness::catch_panic(|| outer_rt.block_on(async { 3 }));
            (refusals, current_after, outer)
        });
    for (i, refused) in refusals.iter().enumerate() {
        let message = refused.as_ref().err().unwrap_or_else(|| {
            panic!(
                "nested block_on number {} (inside the same outer block_on) ran instead of \
                 being refused: the refusals before it cleared the \"inside block_on\" flag. \
                 Check the flag BEFORE building the guard whose Drop resets it (a refusal that \
                 unwinds must not drop a guard it did not own), or reset it only in the guard \
                 of the block_on that set it",
                i + 1
            )
        });
        assert!(
            message.contains("within a runtime"),
            "nested block_on number {} was refused with: {message:?}",
            i + 1
        );
    }
    assert_eq!(
        current_after,
        Ok(2),
        "after the refusals, the outer block_on's runtime must still be current and running"
    );
    assert_eq!(
        outer,
        Ok(3),
        "after the outer block_on returned, a new block_on on this thread must work"
    );
}
