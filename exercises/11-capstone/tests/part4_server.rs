//! Part 4: the server over loopback. Each command's reply, errors that keep the connection,
//! pipelining, requests split across writes, inline commands, two clients sharing the data,
//! the connection limit.

mod common;

use common::{Reply, TestServer, command};
use harness::Watchdog;

fn watched(what: &str, body: impl FnOnce() + Send + 'static) {
    Watchdog::new(format!("part 4: {what}"))
        .likely_cause("does serve spawn a task per connection (kit::spawn), so that one client never waits for another?")
        .likely_cause("does the connection answer every complete request it has read before it waits for more bytes?")
        .run(body)
}

#[test]
fn ping_and_echo_reply_as_redis_does() {
    watched("PING and ECHO", || {
        let server = TestServer::start();
        let mut c = server.client();
        assert_eq!(
            c.call(&["PING"]),
            Reply::Simple("PONG".into()),
            "PING replies +PONG"
        );
        assert_eq!(
            c.call(&["PING", "hi there"]),
            Reply::bulk("hi there"),
            "PING msg replies msg as a bulk string"
        );
        assert_eq!(
            c.call(&["ECHO", "a\r\nb"]),
            Reply::bulk("a\r\nb"),
            "ECHO replies its argument, CRLF and all"
        );
        assert_eq!(c.call(&["ECHO", ""]), Reply::bulk(""));
        drop(c);
        server.finish();
    });
}

#[test]
fn get_set_del_exists_reply_as_redis_does() {
    watched("GET, SET, DEL, EXISTS", || {
        let server = TestServer::start();
        let mut c = server.client();
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::Nil,
            "GET of a missing key is $-1"
        );
        assert_eq!(c.call(&["SET", "k", "v"]), Reply::ok());
        assert_eq!(c.call(&["GET", "k"]), Reply::bulk("v"));
        assert_eq!(c.call(&["set", "k2", "v2"]), Reply::ok());
        assert_eq!(
            c.call(&["EXISTS", "k", "k", "nope", "k2"]),
            Reply::Integer(3),
            "EXISTS counts the listed keys that exist, a repeated key each time"
        );
        assert_eq!(
            c.call(&["DEL", "k", "nope", "k"]),
            Reply::Integer(1),
            "DEL counts what it removed"
        );
        assert_eq!(c.call(&["GET", "k"]), Reply::Nil);
        let value: String = "x".repeat(100_000);
        assert_eq!(c.call(&["SET", "big", &value]), Reply::ok());
        assert_eq!(
            c.call(&["GET", "big"]),
            Reply::bulk(&value),
            "a 100 kB value round-trips"
        );
        drop(c);
        server.finish();
    });
}

#[test]
fn set_nx_xx_reply_null_when_refused() {
    watched("SET NX/XX", || {
        let server = TestServer::start();
        let mut c = server.client();
        assert_eq!(
            c.call(&["SET", "k", "1", "XX"]),
            Reply::Nil,
            "SET XX of a missing key: $-1"
        );
        assert_eq!(c.call(&["SET", "k", "1", "NX"]), Reply::ok());
        assert_eq!(
            c.call(&["SET", "k", "2", "nx"]),
            Reply::Nil,
            "SET NX of a live key: $-1"
        );
        assert_eq!(c.call(&["SET", "k", "3", "xx"]), Reply::ok());
        assert_eq!(c.call(&["GET", "k"]), Reply::bulk("3"));
        drop(c);
        server.finish();
    });
}

#[test]
fn incr_replies_with_the_new_value_or_an_error() {
    watched("INCR", || {
        let server = TestServer::start();
        let mut c = server.client();
        assert_eq!(c.call(&["INCR", "n"]), Reply::Integer(1));
        assert_eq!(c.call(&["incr", "n"]), Reply::Integer(2));
        c.call(&["SET", "s", "abc"]);
        assert_eq!(
            c.call(&["INCR", "s"]),
            Reply::Error("ERR value is not an integer or out of range".into())
        );
        c.call(&["SET", "max", &i64::MAX.to_string()]);
        assert_eq!(
            c.call(&["INCR", "max"]),
            Reply::Error("ERR increment or decrement would overflow".into())
        );
        drop(c);
        server.finish();
    });
}

#[test]
fn a_command_error_keeps_the_connection_open() {
    watched("command errors", || {
        let server = TestServer::start();
        let mut c = server.client();
        for words in [
            vec!["GET"],
            vec!["SET", "k", "v", "EX", "0"],
            vec!["SET", "k", "v", "NX", "XX"],
            vec!["EXPIRE", "k", "soon"],
            vec!["NOSUCHCOMMAND", "x"],
        ] {
            let reply = c.call(&words);
            assert!(
                matches!(&reply, Reply::Error(text) if text.starts_with("ERR ")),
                "{words:?} must get an -ERR reply, got {reply:?}"
            );
            assert_eq!(
                c.call(&["PING"]),
                Reply::Simple("PONG".into()),
                "after the -ERR reply to {words:?} the connection must go on serving"
            );
        }
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::Nil,
            "a refused SET stores nothing"
        );
        drop(c);
        server.finish();
    });
}

#[test]
fn an_unknown_command_such_as_client_setinfo_gets_an_error_reply() {
    watched("unknown commands", || {
        let server = TestServer::start();
        let mut c = server.client();
        // What the redis crate sends on connect, pipelined, then what redis-benchmark asks.
        let mut batch = command(&["CLIENT", "SETINFO", "LIB-NAME", "redis-rs"]);
        batch.extend(command(&["CLIENT", "SETINFO", "LIB-VER", "1.0"]));
        batch.extend(command(&["CONFIG", "GET", "save"]));
        c.send(&batch);
        for what in [
            "CLIENT SETINFO LIB-NAME",
            "CLIENT SETINFO LIB-VER",
            "CONFIG GET save",
        ] {
            let reply = c.reply(&format!("the reply to {what}"));
            let text = reply.error_text(what);
            let name = what.split(' ').next().unwrap();
            assert!(
                text.starts_with(&format!("ERR unknown command '{name}'")),
                "{what}: got {text:?}"
            );
        }
        assert_eq!(c.call(&["PING"]), Reply::Simple("PONG".into()));
        drop(c);
        server.finish();
    });
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    watched("pipelining", || {
        let server = TestServer::start();
        let mut c = server.client();
        let mut batch = Vec::new();
        for i in 0..200 {
            batch.extend(command(&["SET", &format!("k{i}"), &format!("v{i}")]));
            batch.extend(command(&["GET", &format!("k{i}")]));
            batch.extend(command(&["INCR", "counter"]));
        }
        c.send(&batch); // 600 requests in one write
        for i in 0..200 {
            assert_eq!(
                c.reply("a pipelined SET's reply"),
                Reply::ok(),
                "reply {} (SET k{i})",
                3 * i
            );
            assert_eq!(
                c.reply("a pipelined GET's reply"),
                Reply::bulk(&format!("v{i}")),
                "replies must come in request order, one per request: GET k{i}"
            );
            assert_eq!(c.reply("a pipelined INCR's reply"), Reply::Integer(i + 1));
        }
        c.expect_silence(
            std::time::Duration::from_millis(20),
            "600 pipelined requests must get exactly 600 replies",
        );
        drop(c);
        server.finish();
    });
}

#[test]
fn a_request_split_across_writes_is_answered_once() {
    watched("a request split across writes", || {
        let server = TestServer::start();
        let mut c = server.client();
        let req = command(&["SET", "split", "across many writes"]);
        for byte in &req {
            c.send(std::slice::from_ref(byte)); // one byte per write
        }
        assert_eq!(c.reply("the SET sent a byte at a time"), Reply::ok());
        let mut two = command(&["GET", "split"]);
        two.extend(command(&["ECHO", "tail"]));
        let (head, tail) = two.split_at(two.len() - 7);
        c.send(head);
        assert_eq!(
            c.reply("the GET whose bytes arrived with half of the next request"),
            Reply::bulk("across many writes"),
            "a complete request must be answered even when the next one is still incomplete"
        );
        c.send(tail);
        assert_eq!(
            c.reply("the ECHO completed by a second write"),
            Reply::bulk("tail")
        );
        drop(c);
        server.finish();
    });
}

#[test]
fn inline_commands_work_like_arrays() {
    watched("inline commands", || {
        let server = TestServer::start();
        let mut c = server.client();
        c.send(b"PING\r\nset greeting hello\r\nGET greeting\nincr  n\r\n");
        assert_eq!(c.reply("inline PING"), Reply::Simple("PONG".into()));
        assert_eq!(c.reply("inline set"), Reply::ok());
        assert_eq!(c.reply("inline GET ended by \\n"), Reply::bulk("hello"));
        assert_eq!(c.reply("inline incr"), Reply::Integer(1));
        drop(c);
        server.finish();
    });
}

#[test]
fn an_empty_request_gets_no_reply() {
    watched("empty requests", || {
        let server = TestServer::start();
        let mut c = server.client();
        c.send(b"\r\n   \r\n*0\r\n*-1\r\nPING\r\n");
        assert_eq!(
            c.reply("the PING after four empty requests"),
            Reply::Simple("PONG".into()),
            "a request with no arguments gets no reply: the first reply must be PING's"
        );
        c.expect_silence(
            std::time::Duration::from_millis(20),
            "nothing more was asked",
        );
        drop(c);
        server.finish();
    });
}

#[test]
fn two_clients_share_the_data() {
    watched("two clients", || {
        let server = TestServer::start();
        let mut a = server.client();
        let mut b = server.client();
        assert_eq!(a.call(&["SET", "shared", "from a"]), Reply::ok());
        assert_eq!(b.call(&["GET", "shared"]), Reply::bulk("from a"));
        assert_eq!(b.call(&["INCR", "hits"]), Reply::Integer(1));
        assert_eq!(a.call(&["INCR", "hits"]), Reply::Integer(2));
        assert_eq!(
            server.db.stored_keys(),
            2,
            "both clients write to the Db given to serve"
        );
        drop((a, b));
        server.finish();
    });
}

#[test]
fn a_silent_client_does_not_hold_up_another() {
    watched("a silent client", || {
        let server = TestServer::start();
        let mut silent = server.client();
        silent.send(b"*2\r\n$3\r\nGET"); // half a request, then nothing
        let mut active = server.client();
        for i in 0..20 {
            assert_eq!(active.call(&["INCR", "n"]), Reply::Integer(i + 1));
        }
        drop((silent, active));
        server.finish();
    });
}

#[test]
fn the_connection_limit_refuses_the_extra_client_only() {
    watched("the connection limit", || {
        let server = TestServer::with_config(capstone::Config { max_connections: 2 });
        let mut a = server.client();
        let mut b = server.client();
        assert_eq!(a.call(&["SET", "k", "a"]), Reply::ok());
        assert_eq!(b.call(&["PING"]), Reply::Simple("PONG".into()));
        let mut extra = server.client();
        let refused = extra.read_to_close("the connection over the limit");
        assert_eq!(
            String::from_utf8_lossy(&refused),
            "-ERR max number of clients reached\r\n",
            "a connection over max_connections gets this error and is closed"
        );
        assert_eq!(
            a.call(&["GET", "k"]),
            Reply::bulk("a"),
            "the open connections are not affected"
        );
        assert_eq!(b.call(&["GET", "k"]), Reply::bulk("a"));
        drop(a);
        // Once a's task has ended, there is room again. (A retry loop: the server notices the
        // close at its own pace; the outcome, not the timing, is checked.)
        let mut again = None;
        for _ in 0..400 {
            let mut c = server.client();
            c.send(&command(&["PING"]));
            match common::read_reply(&mut c.reader) {
                Ok(Reply::Simple(pong)) if pong == "PONG" => {
                    again = Some(c);
                    break;
                }
                _ => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
        assert!(
            again.is_some(),
            "after a client left, a new one must be served: does an open connection stop \
             counting when its task ends (a guard dropped on every exit path)?"
        );
        drop((b, again));
        server.finish();
    });
}

/// A new client that the server serves (`PING` gets `+PONG`), retried while the server is
/// still at its limit; panics naming `freed_by` (what should have freed a place) otherwise.
/// (A retry loop: the server notices a close at its own pace; the outcome, not the timing, is
/// checked.)
fn a_served_client(server: &TestServer, freed_by: &str) -> common::Client {
    for _ in 0..400 {
        let mut c = server.client();
        c.send(&command(&["PING"]));
        match common::read_reply(&mut c.reader) {
            Ok(Reply::Simple(pong)) if pong == "PONG" => return c,
            _ => std::thread::sleep(std::time::Duration::from_millis(5)),
        }
    }
    panic!(
        "with max_connections: 1, a new client is still refused after the only connection \
         ended because {freed_by}: an open connection must stop counting when its task ends, \
         on EVERY exit path (client closed, read error, write error, protocol error, \
         shutdown), not only on a read of 0 bytes. Look at where the count is decremented: a \
         guard owned by the task, whose Drop decrements, runs on every path"
    );
}

#[test]
fn a_connection_ended_by_an_error_or_a_reset_stops_counting() {
    watched("the connection limit after errors and resets", || {
        let server = TestServer::with_config(capstone::Config { max_connections: 1 });
        let mut c = a_served_client(&server, "(none yet: the server just started)");
        c.send(b"*x\r\n");
        let closed = c.read_to_close("a connection closed for a protocol error");
        assert!(
            closed.starts_with(b"-"),
            "a protocol error is answered with an error and a close, got {:?}",
            String::from_utf8_lossy(&closed)
        );
        drop(c);
        let c = a_served_client(
            &server,
            "the server closed it for a protocol error (the task's error path)",
        );
        let common::Client { reader } = c;
        common::reset(reader.into_inner()); // the task's read fails with ECONNRESET
        let c = a_served_client(
            &server,
            "its client reset it (the task's read returned an error, not 0 bytes)",
        );
        drop(c); // a clean close: the task reads 0 bytes
        let c = a_served_client(&server, "its client closed it cleanly (a read of 0 bytes)");
        drop(c);
        server.finish();
    });
}
