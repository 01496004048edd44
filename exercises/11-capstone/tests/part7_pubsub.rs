//! Part 7: pub/sub. One connection's PUBLISH is another's read; a subscribed connection
//! accepts only SUBSCRIBE, UNSUBSCRIBE and PING.

mod common;

use common::{Reply, TestServer, message, subscription, wait_until};
use harness::Watchdog;

fn watched(what: &str, body: impl FnOnce() + Send + 'static) {
    Watchdog::new(format!("part 7: {what}"))
        .likely_cause("does a subscribed connection wait on its socket AND its message channel at once (poll both, so either wakes it)?")
        .run(body)
}

#[test]
fn subscribe_replies_once_per_channel_with_the_count() {
    watched("SUBSCRIBE's replies", || {
        let server = TestServer::start();
        let mut c = server.client();
        c.send_command(&["SUBSCRIBE", "a", "b", "a"]);
        assert_eq!(
            c.reply("SUBSCRIBE's first reply"),
            subscription("subscribe", Some("a"), 1)
        );
        assert_eq!(
            c.reply("SUBSCRIBE's second reply"),
            subscription("subscribe", Some("b"), 2)
        );
        assert_eq!(
            c.reply("SUBSCRIBE's third reply"),
            subscription("subscribe", Some("a"), 2),
            "one reply per channel named, with the number of channels subscribed to now (a \
             channel named twice counts once)"
        );
        drop(c);
        server.finish();
    });
}

#[test]
fn a_subscriber_receives_what_is_published_in_order() {
    watched("delivery", || {
        let server = TestServer::start();
        let mut sub = server.client();
        sub.call(&["SUBSCRIBE", "news"]);
        let mut publisher = server.client();
        for i in 0..50 {
            assert_eq!(
                publisher.call(&["PUBLISH", "news", &format!("m{i}")]),
                Reply::Integer(1),
                "PUBLISH replies with the number of subscribers that received it"
            );
            if i == 25 {
                assert_eq!(
                    publisher.call(&["PUBLISH", "sports", "nope"]),
                    Reply::Integer(0)
                );
            }
        }
        for i in 0..50 {
            assert_eq!(
                sub.reply("a published message"),
                message("news", &format!("m{i}")),
                "a subscriber receives *3 message <channel> <message> for each PUBLISH to its \
                 channels, in publish order, and nothing for other channels"
            );
        }
        drop((sub, publisher));
        server.finish();
    });
}

#[test]
fn publish_counts_the_subscribers_that_received_it() {
    watched("PUBLISH's count", || {
        let server = TestServer::start();
        let mut a = server.client();
        let mut b = server.client();
        let mut elsewhere = server.client();
        a.call(&["SUBSCRIBE", "ch"]);
        b.send_command(&["SUBSCRIBE", "x", "ch"]);
        b.reply("SUBSCRIBE x");
        b.reply("SUBSCRIBE ch");
        elsewhere.call(&["SUBSCRIBE", "other"]);
        let mut p = server.client();
        assert_eq!(p.call(&["PUBLISH", "ch", "hello"]), Reply::Integer(2));
        assert_eq!(a.reply("the message on ch"), message("ch", "hello"));
        assert_eq!(b.reply("the message on ch"), message("ch", "hello"));
        assert_eq!(p.call(&["PUBLISH", "nobody", "x"]), Reply::Integer(0));
        drop((a, b, elsewhere, p));
        server.finish();
    });
}

#[test]
fn a_closed_subscriber_is_no_longer_counted() {
    watched("a subscriber that left", || {
        let server = TestServer::start();
        let mut sub = server.client();
        sub.call(&["SUBSCRIBE", "ch"]);
        let mut p = server.client();
        assert_eq!(p.call(&["PUBLISH", "ch", "1"]), Reply::Integer(1));
        drop(sub);
        wait_until(
            "a subscriber closed its connection, but PUBLISH still counts it: remove a \
             connection's subscriptions when it ends (or drop senders whose receiver is gone)",
            || p.call(&["PUBLISH", "ch", "x"]) == Reply::Integer(0),
        );
        drop(p);
        server.finish();
    });
}

#[test]
fn publish_does_not_count_a_subscriber_whose_receiver_is_gone() {
    watched("Db::publish with a receiver dropped", || {
        use futures::channel::mpsc;
        let db = capstone::Db::new();
        let (tx1, rx1) = mpsc::unbounded();
        let (tx2, mut rx2) = mpsc::unbounded();
        db.subscribe(b"ch", 1, &tx1);
        db.subscribe(b"ch", 2, &tx2);
        assert_eq!(db.publish(b"ch", b"both"), 2, "two live subscribers");
        drop(rx1);
        for round in 1..=3 {
            assert_eq!(
                db.publish(b"ch", b"one"),
                1,
                "Db::publish, publish number {round} after subscriber 1 dropped its receiver: \
                 a subscriber whose connection is gone (its receiver dropped, even if its \
                 sender is still stored) must not be counted, on the first publish after it \
                 left and every later one. Count only the sends that succeeded \
                 (unbounded_send returned Ok), and remove the others from the channel"
            );
        }
        let mut received = Vec::new();
        while let Ok((channel, payload)) = rx2.try_recv() {
            assert_eq!(
                channel, b"ch",
                "a message carries the channel it was published to"
            );
            received.push(String::from_utf8_lossy(&payload).into_owned());
        }
        assert_eq!(
            received,
            ["both", "one", "one", "one"],
            "the live subscriber receives every message, in order"
        );
        drop(rx2);
        for round in 1..=2 {
            assert_eq!(
                db.publish(b"ch", b"none"),
                0,
                "Db::publish number {round} after every subscriber dropped its receiver: \
                 nobody received it, so the count is 0"
            );
        }
        drop((tx1, tx2));
    });
}

#[test]
fn a_subscribed_connection_accepts_only_subscribe_unsubscribe_and_ping() {
    watched("the subscribed context", || {
        let server = TestServer::start();
        let mut c = server.client();
        c.call(&["SET", "k", "v"]);
        c.call(&["SUBSCRIBE", "ch"]);
        let reply = c.call(&["GET", "k"]);
        let text = reply.error_text("GET while subscribed");
        assert!(
            text.starts_with("ERR Can't execute 'get'"),
            "GET while subscribed must be refused (ERR Can't execute 'get': ...), got {text:?}"
        );
        assert_eq!(
            c.call(&["PING"]),
            Reply::Array(vec![Reply::bulk("pong"), Reply::bulk("")]),
            "PING while subscribed replies *2 pong <empty>"
        );
        assert_eq!(
            c.call(&["ping", "hi"]),
            Reply::Array(vec![Reply::bulk("pong"), Reply::bulk("hi")])
        );
        assert_eq!(
            c.call(&["SUBSCRIBE", "more"]),
            subscription("subscribe", Some("more"), 2)
        );
        c.send_command(&["UNSUBSCRIBE"]);
        c.reply("UNSUBSCRIBE ch");
        c.reply("UNSUBSCRIBE more");
        assert_eq!(
            c.call(&["GET", "k"]),
            Reply::bulk("v"),
            "once unsubscribed from every channel, every command works again"
        );
        assert_eq!(c.call(&["PING"]), Reply::Simple("PONG".into()));
        drop(c);
        server.finish();
    });
}

#[test]
fn unsubscribe_without_channels_leaves_every_channel() {
    watched("UNSUBSCRIBE", || {
        let server = TestServer::start();
        let mut c = server.client();
        c.send_command(&["SUBSCRIBE", "a", "b", "c"]);
        for _ in 0..3 {
            c.reply("SUBSCRIBE's reply");
        }
        c.send_command(&["UNSUBSCRIBE"]);
        assert_eq!(
            c.reply("UNSUBSCRIBE's first reply"),
            subscription("unsubscribe", Some("a"), 2)
        );
        assert_eq!(
            c.reply("UNSUBSCRIBE's second reply"),
            subscription("unsubscribe", Some("b"), 1)
        );
        assert_eq!(
            c.reply("UNSUBSCRIBE's third reply"),
            subscription("unsubscribe", Some("c"), 0),
            "UNSUBSCRIBE with no channel leaves each, in subscription order, with the count left"
        );
        assert_eq!(
            c.call(&["UNSUBSCRIBE"]),
            subscription("unsubscribe", None, 0),
            "with nothing to leave, one reply: unsubscribe, $-1, 0"
        );
        let mut p = server.client();
        assert_eq!(
            p.call(&["PUBLISH", "a", "x"]),
            Reply::Integer(0),
            "nobody is subscribed to a any more"
        );
        drop((c, p));
        server.finish();
    });
}

#[test]
fn unsubscribe_from_one_channel_keeps_the_others() {
    watched("UNSUBSCRIBE one channel", || {
        let server = TestServer::start();
        let mut c = server.client();
        c.send_command(&["SUBSCRIBE", "a", "b"]);
        c.reply("SUBSCRIBE a");
        c.reply("SUBSCRIBE b");
        assert_eq!(
            c.call(&["UNSUBSCRIBE", "a"]),
            subscription("unsubscribe", Some("a"), 1)
        );
        assert_eq!(
            c.call(&["UNSUBSCRIBE", "zzz"]),
            subscription("unsubscribe", Some("zzz"), 1),
            "leaving a channel never joined still replies, with the unchanged count"
        );
        let mut p = server.client();
        assert_eq!(p.call(&["PUBLISH", "a", "x"]), Reply::Integer(0));
        assert_eq!(p.call(&["PUBLISH", "b", "y"]), Reply::Integer(1));
        assert_eq!(c.reply("the message on b"), message("b", "y"));
        drop((c, p));
        server.finish();
    });
}
