//! Part 6: expiry on the runtime's clock. The server runs on a paused clock the test moves
//! with `advance`, so no test sleeps: lazy expiry is checked by reading, active expiry by
//! watching `Db::stored_keys` fall with no client asking.

mod common;

use std::time::Duration;

use common::{Reply, TestServer, wait_until};
use harness::Watchdog;

fn watched(what: &str, body: impl FnOnce() + Send + 'static) {
    Watchdog::new(format!("part 6: {what}"))
        .likely_cause("does the purge task sleep with kit::time::sleep_until (the runtime's clock), not std::thread::sleep?")
        .likely_cause("is the purge task polled (spawned, or part of serve's loop)?")
        .run(body)
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn a_key_expires_on_the_runtimes_clock() {
    watched("PX on the paused clock", || {
        let server = TestServer::start();
        let mut c = server.client();
        assert_eq!(c.call(&["SET", "k", "v", "PX", "100"]), Reply::ok());
        server.clock.advance(99 * MS);
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::bulk("v"),
            "99 ms into a 100 ms PX the key is live (the server must read kit::time::now(), \
             the runtime's clock, which the test moves)"
        );
        server.clock.advance(MS);
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::Nil,
            "at exactly 100 ms on the runtime's clock the key is gone: did you use \
             std::time::Instant::now() instead of kit::time::now()?"
        );
        assert_eq!(c.call(&["SET", "s", "v", "EX", "2"]), Reply::ok());
        server.clock.advance(1999 * MS);
        assert_eq!(
            c.call(&["EXISTS", "s"]),
            Reply::Integer(1),
            "EX counts seconds"
        );
        server.clock.advance(MS);
        assert_eq!(c.call(&["EXISTS", "s"]), Reply::Integer(0));
        drop(c);
        server.finish();
    });
}

#[test]
fn ttl_counts_down_with_the_clock() {
    watched("TTL", || {
        let server = TestServer::start();
        let mut c = server.client();
        assert_eq!(
            c.call(&["TTL", "nope"]),
            Reply::Integer(-2),
            "TTL of a missing key is -2"
        );
        c.call(&["SET", "forever", "v"]);
        assert_eq!(
            c.call(&["TTL", "forever"]),
            Reply::Integer(-1),
            "TTL of a key without deadline is -1"
        );
        c.call(&["SET", "k", "v", "EX", "10"]);
        assert_eq!(c.call(&["TTL", "k"]), Reply::Integer(10));
        server.clock.advance(4600 * MS);
        assert_eq!(
            c.call(&["TTL", "k"]),
            Reply::Integer(5),
            "5.4 s left rounds to 5"
        );
        c.call(&["SET", "half", "v", "PX", "1500"]);
        assert_eq!(
            c.call(&["TTL", "half"]),
            Reply::Integer(2),
            "1.5 s left rounds half up, to 2"
        );
        server.clock.advance(1100 * MS);
        assert_eq!(
            c.call(&["TTL", "half"]),
            Reply::Integer(0),
            "0.4 s left rounds to 0"
        );
        server.clock.advance(400 * MS);
        assert_eq!(c.call(&["TTL", "half"]), Reply::Integer(-2), "expired: -2");
        drop(c);
        server.finish();
    });
}

#[test]
fn expire_gives_replaces_and_deletes_deadlines() {
    watched("EXPIRE", || {
        let server = TestServer::start();
        let mut c = server.client();
        assert_eq!(
            c.call(&["EXPIRE", "k", "5"]),
            Reply::Integer(0),
            "EXPIRE of a missing key: 0"
        );
        c.call(&["SET", "k", "v"]);
        assert_eq!(c.call(&["EXPIRE", "k", "5"]), Reply::Integer(1));
        server.clock.advance(4999 * MS);
        assert_eq!(c.call(&["GET", "k"]), Reply::bulk("v"));
        server.clock.advance(MS);
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::Nil,
            "EXPIRE k 5: gone 5 s later"
        );
        for seconds in ["0", "-7"] {
            c.call(&["SET", "k", "v"]);
            assert_eq!(c.call(&["EXPIRE", "k", seconds]), Reply::Integer(1));
            assert_eq!(
                c.call(&["EXISTS", "k"]),
                Reply::Integer(0),
                "EXPIRE k {seconds} deletes the key at once"
            );
        }
        c.call(&["SET", "k", "v"]);
        assert_eq!(
            c.call(&["EXPIRE", "k", "9223372036854775807"]),
            Reply::Error("ERR invalid expire time in 'expire' command".into()),
            "a deadline the clock cannot represent is refused (checked_add, never a panic)"
        );
        assert_eq!(
            c.call(&["SET", "k", "v", "EX", "9223372036854775807"]),
            Reply::Error("ERR invalid expire time in 'set' command".into())
        );
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::bulk("v"),
            "a refused deadline changes nothing"
        );
        drop(c);
        server.finish();
    });
}

#[test]
fn the_purge_task_frees_an_expired_key_nobody_reads() {
    watched("active expiry", || {
        let server = TestServer::start();
        let mut c = server.client();
        c.call(&["SET", "short", "v", "PX", "100"]);
        c.call(&["SET", "kept", "v"]);
        server.clock.advance(99 * MS);
        assert_eq!(c.call(&["PING"]), Reply::Simple("PONG".into()));
        assert_eq!(
            server.db.stored_keys(),
            2,
            "nothing is due yet: nothing may be purged"
        );
        server.clock.advance(MS);
        wait_until(
            "the clock passed a key's deadline and nobody read the key, but it stayed in memory \
             (Db::stored_keys): the purge task must wake at the earliest deadline \
             (kit::time::sleep_until) and remove it",
            || server.db.stored_keys() == 1,
        );
        assert_eq!(c.call(&["GET", "kept"]), Reply::bulk("v"));
        drop(c);
        server.finish();
    });
}

#[test]
fn the_purge_task_wakes_for_an_earlier_deadline() {
    watched("an earlier deadline", || {
        let server = TestServer::start();
        let mut c = server.client();
        // A probe, the first deadline (every design wakes the purge task for it), then a late
        // key. Once the probe is purged, the purge task has seen `late` as its next deadline
        // and sleeps until +100 s: from here on no timing decides anything.
        c.call(&["SET", "probe", "v", "PX", "5"]);
        c.call(&["SET", "late", "v", "EX", "100"]);
        server.clock.advance(5 * MS);
        wait_until(
            "a key due in 5 ms, the only deadline when it was stored, was never purged: does \
             SET wake the purge task for a first deadline?",
            || server.db.stored_keys() == 1,
        );
        // A key due much earlier than the one the purge task sleeps on arrives.
        c.call(&["SET", "early", "v", "PX", "10"]);
        server.clock.advance(10 * MS);
        wait_until(
            "a key due in 10 ms was stored while the purge task slept until a key due in \
             100 s; 10 ms later it was still in memory: storing a deadline earlier than every \
             other must wake the purge task (Notify) so that it sleeps until the new earliest",
            || server.db.stored_keys() == 1,
        );
        c.call(&["EXPIRE", "late", "1"]);
        server.clock.advance(1000 * MS);
        wait_until(
            "EXPIRE moved a deadline earlier than the one the purge task slept on; the key \
             stayed in memory after it: EXPIRE must wake the purge task too",
            || server.db.stored_keys() == 0,
        );
        drop(c);
        server.finish();
    });
}

#[test]
fn a_key_set_again_is_not_purged_by_its_old_deadline() {
    watched("an overwritten deadline", || {
        let server = TestServer::start();
        let mut c = server.client();
        c.call(&["SET", "k", "old", "PX", "10"]);
        c.call(&["SET", "k", "new"]);
        c.call(&["SET", "marker", "v", "PX", "10"]);
        server.clock.advance(10 * MS);
        wait_until("the marker key due at 10 ms was never purged", || {
            server.db.stored_keys() == 1
        });
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::bulk("new"),
            "a SET without a deadline over a key that had one must also drop the old \
             deadline from the purge list, or the purge removes the new value"
        );
        drop(c);
        server.finish();
    });
}
