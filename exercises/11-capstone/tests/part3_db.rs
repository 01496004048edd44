//! Part 3: `Db`, with time passed in. A key is expired at its deadline exactly, every method
//! treats an expired key as missing (lazy expiry), `purge` removes what expired.

use std::time::{Duration, Instant};

use capstone::Db;
use capstone::SetCondition::{Always, IfAbsent, IfPresent};
use capstone::db::{IncrError, Ttl};
use harness::Watchdog;

fn watched<T: Send + 'static>(what: &str, body: impl FnOnce() -> T + Send + 'static) -> T {
    Watchdog::new(format!("part 3: {what}"))
        .likely_cause(
            "is the Db's lock still held (a MutexGuard kept alive) when a method calls another?",
        )
        .run(body)
}

fn b(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn set_then_get_returns_the_value() {
    watched("Db::set and get", || {
        let db = Db::new();
        let t = Instant::now();
        assert_eq!(db.get(b"k", t), None, "a new Db is empty");
        assert!(db.set(b("k"), b("v1"), None, Always, t));
        assert_eq!(db.get(b"k", t), Some(b("v1")));
        assert!(db.set(b("k"), b("v2"), None, Always, t), "SET replaces");
        assert_eq!(db.get(b"k", t), Some(b("v2")));
        let clone = db.clone();
        assert_eq!(clone.get(b"k", t), Some(b("v2")), "a clone shares the data");
        assert!(clone.set(b("other"), b("x"), None, Always, t));
        assert_eq!(
            db.get(b"other", t),
            Some(b("x")),
            "a clone shares the data both ways"
        );
    });
}

#[test]
fn a_key_is_expired_exactly_at_its_deadline() {
    watched("Db deadlines", || {
        let db = Db::new();
        let t = Instant::now();
        db.set(b("k"), b("v"), Some(t + 100 * MS), Always, t);
        assert_eq!(
            db.get(b"k", t + 99 * MS),
            Some(b("v")),
            "live before its deadline"
        );
        assert_eq!(
            db.get(b"k", t + 100 * MS),
            None,
            "a key whose deadline is at `now` is expired (at or before now), not live"
        );
        assert_eq!(
            db.stored_keys(),
            0,
            "reading an expired key removes it (lazy expiry)"
        );
    });
}

#[test]
fn set_without_expiry_clears_a_deadline() {
    watched("Db::set over a key with a deadline", || {
        let db = Db::new();
        let t = Instant::now();
        db.set(b("k"), b("old"), Some(t + 10 * MS), Always, t);
        db.set(b("k"), b("new"), None, Always, t);
        assert_eq!(
            db.get(b"k", t + Duration::from_secs(3600)),
            Some(b("new")),
            "a SET without EX/PX clears the key's old deadline"
        );
        assert_eq!(db.ttl(b"k", t), Ttl::Persistent);
        assert_eq!(
            db.purge(t + Duration::from_secs(3600)),
            None,
            "no deadline is left to purge: the old one must be forgotten with the old value"
        );
        assert_eq!(db.stored_keys(), 1);
    });
}

#[test]
fn nx_and_xx_follow_whether_the_key_is_live() {
    watched("Db::set with NX and XX", || {
        let db = Db::new();
        let t = Instant::now();
        assert!(
            !db.set(b("k"), b("x"), None, IfPresent, t),
            "XX on a missing key does nothing"
        );
        assert_eq!(db.get(b"k", t), None);
        assert!(
            db.set(b("k"), b("a"), Some(t + 5 * MS), IfAbsent, t),
            "NX on a missing key sets"
        );
        assert!(
            !db.set(b("k"), b("b"), None, IfAbsent, t),
            "NX on a live key does nothing"
        );
        assert_eq!(db.get(b"k", t), Some(b("a")));
        assert!(
            db.set(b("k"), b("c"), Some(t + 5 * MS), IfPresent, t),
            "XX on a live key sets"
        );
        let later = t + 5 * MS;
        assert!(
            !db.set(b("k"), b("d"), None, IfPresent, later),
            "XX on an expired key does nothing: an expired key is a missing key"
        );
        assert!(
            db.set(b("k"), b("e"), None, IfAbsent, later),
            "NX on an expired key sets: an expired key is a missing key"
        );
        assert_eq!(db.get(b"k", later), Some(b("e")));
    });
}

#[test]
fn del_and_exists_ignore_expired_keys() {
    watched("Db::del and exists", || {
        let db = Db::new();
        let t = Instant::now();
        db.set(b("live"), b("1"), None, Always, t);
        db.set(b("dying"), b("1"), Some(t + MS), Always, t);
        assert!(db.exists(b"live", t + MS));
        assert!(
            !db.exists(b"dying", t + MS),
            "EXISTS of an expired key is false"
        );
        db.set(b("dying"), b("1"), Some(t + MS), Always, t);
        assert!(
            !db.del(b"dying", t + MS),
            "DEL of an expired key removes nothing live: false"
        );
        assert!(db.del(b"live", t + MS));
        assert!(!db.del(b"live", t + MS), "a second DEL finds nothing");
        assert_eq!(db.stored_keys(), 0);
    });
}

#[test]
fn incr_counts_from_zero_and_keeps_the_deadline() {
    watched("Db::incr", || {
        let db = Db::new();
        let t = Instant::now();
        assert_eq!(db.incr(b"n", t), Ok(1), "a missing key counts as 0");
        assert_eq!(db.incr(b"n", t), Ok(2));
        assert_eq!(
            db.get(b"n", t),
            Some(b("2")),
            "the value is stored as decimal text"
        );
        db.set(b("m"), b("-5"), Some(t + 10 * MS), Always, t);
        assert_eq!(db.incr(b"m", t), Ok(-4));
        assert_eq!(
            db.ttl(b"m", t),
            Ttl::Remaining(10 * MS),
            "INCR keeps the key's deadline"
        );
        assert_eq!(
            db.incr(b"m", t + 10 * MS),
            Ok(1),
            "an expired key counts as 0"
        );
        assert_eq!(
            db.ttl(b"m", t + 10 * MS),
            Ttl::Persistent,
            "and the new key has no deadline"
        );
    });
}

#[test]
fn incr_refuses_non_integers_and_overflow_and_changes_nothing() {
    watched("Db::incr errors", || {
        let db = Db::new();
        let t = Instant::now();
        for value in ["abc", "1.5", "", " 1", "99999999999999999999"] {
            db.set(b("k"), b(value), None, Always, t);
            assert_eq!(
                db.incr(b"k", t),
                Err(IncrError::NotAnInteger),
                "INCR of {value:?}"
            );
            assert_eq!(
                db.get(b"k", t),
                Some(b(value)),
                "a failed INCR changes nothing"
            );
        }
        db.set(b("max"), i64::MAX.to_string().into_bytes(), None, Always, t);
        assert_eq!(db.incr(b"max", t), Err(IncrError::Overflow));
        assert_eq!(db.get(b"max", t), Some(i64::MAX.to_string().into_bytes()));
        db.set(b("min"), i64::MIN.to_string().into_bytes(), None, Always, t);
        assert_eq!(db.incr(b"min", t), Ok(i64::MIN + 1));
    });
}

#[test]
fn expire_sets_replaces_or_deletes() {
    watched("Db::expire", || {
        let db = Db::new();
        let t = Instant::now();
        assert!(
            !db.expire(b"k", t + MS, t),
            "EXPIRE of a missing key: false"
        );
        db.set(b("k"), b("v"), None, Always, t);
        assert!(db.expire(b"k", t + 50 * MS, t));
        assert!(
            db.expire(b"k", t + 20 * MS, t),
            "a second EXPIRE replaces the deadline"
        );
        assert_eq!(
            db.get(b"k", t + 20 * MS),
            None,
            "the new, earlier deadline holds"
        );
        db.set(b("k"), b("v"), None, Always, t);
        assert!(db.expire(b"k", t + 20 * MS, t));
        assert!(db.expire(b"k", t + 50 * MS, t));
        assert_eq!(
            db.get(b"k", t + 20 * MS),
            Some(b("v")),
            "a later deadline replaces an earlier one too"
        );
        assert_eq!(
            db.purge(t + 20 * MS),
            Some(t + 50 * MS),
            "the replaced deadline is forgotten"
        );
        assert_eq!(db.stored_keys(), 1);
        assert!(
            db.expire(b"k", t, t),
            "a deadline at or before now deletes the key: true"
        );
        assert_eq!(db.stored_keys(), 0, "deleted at once");
        db.set(b("gone"), b("v"), Some(t + MS), Always, t);
        assert!(
            !db.expire(b"gone", t + 10 * MS, t + MS),
            "EXPIRE of an expired key: false"
        );
    });
}

#[test]
fn ttl_reports_missing_persistent_and_remaining() {
    watched("Db::ttl", || {
        let db = Db::new();
        let t = Instant::now();
        assert_eq!(db.ttl(b"k", t), Ttl::Missing);
        db.set(b("k"), b("v"), None, Always, t);
        assert_eq!(db.ttl(b"k", t), Ttl::Persistent);
        db.set(b("k"), b("v"), Some(t + 1500 * MS), Always, t);
        assert_eq!(db.ttl(b"k", t + 500 * MS), Ttl::Remaining(1000 * MS));
        assert_eq!(
            db.ttl(b"k", t + 1500 * MS),
            Ttl::Missing,
            "expired at its deadline"
        );
    });
}

#[test]
fn purge_removes_only_expired_keys_and_reports_the_next_deadline() {
    watched("Db::purge", || {
        let db = Db::new();
        let t = Instant::now();
        db.set(b("a"), b("1"), Some(t + 10 * MS), Always, t);
        db.set(b("b"), b("1"), Some(t + 10 * MS), Always, t);
        db.set(b("c"), b("1"), Some(t + 30 * MS), Always, t);
        db.set(b("d"), b("1"), None, Always, t);
        assert_eq!(
            db.purge(t),
            Some(t + 10 * MS),
            "nothing expired yet; earliest deadline"
        );
        assert_eq!(db.stored_keys(), 4);
        assert_eq!(
            db.purge(t + 10 * MS),
            Some(t + 30 * MS),
            "both keys due at 10 ms go (two keys may share a deadline)"
        );
        assert_eq!(db.stored_keys(), 2);
        assert_eq!(db.purge(t + 40 * MS), None, "no deadline left");
        assert_eq!(
            db.stored_keys(),
            1,
            "a key without a deadline is never purged"
        );
        assert_eq!(db.get(b"d", t + 40 * MS), Some(b("1")));
    });
}

#[test]
fn lazy_expiry_frees_the_key_it_reads() {
    watched("lazy expiry", || {
        let db = Db::new();
        let t = Instant::now();
        for (i, read) in ["get", "exists", "ttl"].iter().enumerate() {
            let key = format!("k{i}").into_bytes();
            db.set(key.clone(), b("v"), Some(t + MS), Always, t);
            let before = db.stored_keys();
            match *read {
                "get" => assert_eq!(db.get(&key, t + MS), None),
                "exists" => assert!(!db.exists(&key, t + MS)),
                _ => assert_eq!(db.ttl(&key, t + MS), Ttl::Missing),
            }
            assert_eq!(
                db.stored_keys(),
                before - 1,
                "{read} of an expired key must remove it from memory (lazy expiry)"
            );
        }
    });
}
