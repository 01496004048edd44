//! Part 8: graceful shutdown, driven by the future passed to `serve`: stop accepting, let
//! every connection answer what it has read and close, return once every task has ended.

mod common;

use std::io;
use std::net::TcpStream;

use common::{Reply, TestServer, command};
use harness::Watchdog;

fn watched(what: &str, body: impl FnOnce() + Send + 'static) {
    Watchdog::new(format!("part 8: {what}"))
        .likely_cause("does serve poll the shutdown future alongside accept, and then stop every connection and await its task?")
        .run(body)
}

#[test]
fn shutdown_with_no_client_returns_at_once() {
    watched("shutdown of an unused server", || {
        let server = TestServer::start();
        server.finish();
    });
}

#[test]
fn shutdown_lets_connections_finish_and_leaves_nothing_running() {
    watched("shutdown with clients", || {
        let mut server = TestServer::start();
        let mut answered = server.client();
        let mut batch = command(&["SET", "k", "v"]);
        batch.extend(command(&["GET", "k"]));
        answered.send(&batch);
        assert_eq!(answered.reply("SET"), Reply::ok());
        assert_eq!(answered.reply("GET"), Reply::bulk("v"));
        let mut idle = server.client();
        assert_eq!(idle.call(&["PING"]), Reply::Simple("PONG".into()));
        let mut half = server.client();
        half.send(b"*2\r\n$3\r\nGET"); // an incomplete request
        let mut subscriber = server.client();
        subscriber.call(&["SUBSCRIBE", "ch"]);
        let (result, live) = server.shutdown().expect(
            "serve did not return within 4 s after its shutdown future completed, with four \
             connections open (one subscribed, one mid-request): every connection must stop \
             when told, even while it waits for bytes or messages",
        );
        result.expect("serve returned an error after a clean shutdown");
        assert_eq!(
            live, 0,
            "{live} task(s) still running after serve returned: serve must await every \
             connection task, and the purge task must stop with it"
        );
        for (name, c) in [
            ("an idle client", &mut idle),
            ("a client that was answered", &mut answered),
            ("a client mid-request", &mut half),
            ("a subscriber", &mut subscriber),
        ] {
            let rest = c.read_to_close(&format!("{name}, after shutdown"));
            assert!(
                rest.is_empty(),
                "{name} got {:?} after shutdown; expected the connection closed",
                String::from_utf8_lossy(&rest)
            );
        }
    });
}

#[test]
fn after_shutdown_new_connections_are_refused() {
    watched("the listener after shutdown", || {
        let mut server = TestServer::start();
        let addr = server.addr;
        let (result, _) = server
            .shutdown()
            .expect("serve did not return after shutdown");
        result.expect("serve returned an error");
        match TcpStream::connect(addr) {
            Err(err) => assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused),
            Ok(_) => panic!(
                "a connection to the server's port was accepted after serve returned: the \
                 listener must be closed (dropped) when shutdown begins"
            ),
        }
    });
}

#[test]
fn the_purge_task_stops_with_the_server() {
    watched("the purge task at shutdown", || {
        let server = TestServer::start();
        let mut c = server.client();
        c.call(&["SET", "k", "v", "EX", "1000"]); // the purge task now sleeps on a timer
        drop(c);
        server.finish();
    });
}

#[test]
fn run_serves_an_empty_db_until_its_shutdown() {
    watched("`run`, the program's entry point", || {
        use common::Client;
        use futures::channel::oneshot;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let (done_tx, done) = std::sync::mpsc::channel();
        let server = std::thread::spawn(move || {
            let mut runtime = kit::Runtime::new().expect("a runtime");
            let result = runtime.block_on(async move {
                let listener = kit::net::TcpListener::from_std(listener).expect("register");
                capstone::run(listener, async {
                    let _ = stopped.await;
                })
                .await
            });
            let _ = done_tx.send(result);
        });
        let mut c = Client::connect(addr);
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::Nil,
            "`run` serves a new, empty Db: GET of a key nobody set is a null reply"
        );
        assert_eq!(c.call(&["SET", "k", "v"]), Reply::ok());
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::bulk("v"),
            "`run` is `serve` with an empty Db and the default Config: it answers clients \
             until its shutdown future completes"
        );
        drop(c);
        let _ = stop.send(());
        let result = done
            .recv_timeout(std::time::Duration::from_secs(4))
            .expect("`run` did not return within 4 s after its shutdown future completed");
        result.expect("`run` returned an error after a clean shutdown");
        server.join().unwrap();
    });
}
