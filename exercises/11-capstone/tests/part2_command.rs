//! Part 2: `Command::parse`. Names match in any case; arguments are checked before anything
//! runs; errors are the reply to send, in Redis's words.

use std::time::Duration;

use capstone::{Command, Frame, SetCondition};
use harness::Watchdog;

fn watched<T: Send + 'static>(what: &str, body: impl FnOnce() -> T + Send + 'static) -> T {
    Watchdog::new(format!("part 2: {what}")).run(body)
}

fn parse(words: &[&str]) -> Result<Command, Frame> {
    Command::parse(words.iter().map(|w| w.as_bytes().to_vec()).collect())
}

fn b(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

fn error(words: &[&str]) -> String {
    match parse(words) {
        Err(Frame::Error(text)) => text,
        other => {
            panic!("Command::parse({words:?}) must be an Err(Frame::Error(..)), got {other:?}")
        }
    }
}

#[test]
fn each_command_reads_its_arguments() {
    watched("Command::parse of every command", || {
        let cases = [
            (vec!["PING"], Command::Ping(None)),
            (vec!["PING", "hi"], Command::Ping(Some(b("hi")))),
            (vec!["ECHO", "a b"], Command::Echo(b("a b"))),
            (vec!["GET", "k"], Command::Get(b("k"))),
            (
                vec!["SET", "k", "v"],
                Command::Set {
                    key: b("k"),
                    value: b("v"),
                    expire: None,
                    condition: SetCondition::Always,
                },
            ),
            (vec!["DEL", "a", "b"], Command::Del(vec![b("a"), b("b")])),
            (
                vec!["EXISTS", "a", "a"],
                Command::Exists(vec![b("a"), b("a")]),
            ),
            (vec!["INCR", "n"], Command::Incr(b("n"))),
            (
                vec!["EXPIRE", "k", "-3"],
                Command::Expire {
                    key: b("k"),
                    seconds: -3,
                },
            ),
            (vec!["TTL", "k"], Command::Ttl(b("k"))),
            (
                vec!["PUBLISH", "ch", "msg"],
                Command::Publish {
                    channel: b("ch"),
                    message: b("msg"),
                },
            ),
            (
                vec!["SUBSCRIBE", "a", "b"],
                Command::Subscribe(vec![b("a"), b("b")]),
            ),
            (vec!["UNSUBSCRIBE"], Command::Unsubscribe(Vec::new())),
            (vec!["UNSUBSCRIBE", "a"], Command::Unsubscribe(vec![b("a")])),
        ];
        for (words, want) in cases {
            assert_eq!(parse(&words), Ok(want), "Command::parse({words:?})");
        }
    });
}

#[test]
fn command_names_match_in_any_case() {
    watched("Command::parse in any case", || {
        for name in ["get", "GET", "Get", "gEt"] {
            assert_eq!(
                parse(&[name, "K"]),
                Ok(Command::Get(b("K"))),
                "redis-cli sends names as typed ({name:?}): match them without regard to \
                 case (but keep keys as they are)"
            );
        }
        assert_eq!(parse(&["ping"]), Ok(Command::Ping(None)));
    });
}

#[test]
fn set_reads_its_options_in_any_order_and_case() {
    watched("Command::parse of SET options", || {
        let set = |expire, condition| Command::Set {
            key: b("k"),
            value: b("v"),
            expire,
            condition,
        };
        let cases = [
            (
                vec!["ex", "10"],
                set(Some(Duration::from_secs(10)), SetCondition::Always),
            ),
            (
                vec!["PX", "1500"],
                set(Some(Duration::from_millis(1500)), SetCondition::Always),
            ),
            (vec!["nx"], set(None, SetCondition::IfAbsent)),
            (vec!["XX"], set(None, SetCondition::IfPresent)),
            (
                vec!["NX", "px", "5"],
                set(Some(Duration::from_millis(5)), SetCondition::IfAbsent),
            ),
            (
                vec!["Ex", "1", "xX"],
                set(Some(Duration::from_secs(1)), SetCondition::IfPresent),
            ),
        ];
        for (options, want) in cases {
            let mut words = vec!["set", "k", "v"];
            words.extend(&options);
            assert_eq!(parse(&words), Ok(want), "Command::parse({words:?})");
        }
    });
}

#[test]
fn set_refuses_conflicting_or_unknown_options() {
    watched("Command::parse of bad SET options", || {
        for options in [
            vec!["NX", "XX"],
            vec!["XX", "NX"],
            vec!["EX", "1", "PX", "1"],
            vec!["EX"],
            vec!["KEEPALL"],
        ] {
            let mut words = vec!["SET", "k", "v"];
            words.extend(&options);
            assert_eq!(
                error(&words),
                "ERR syntax error",
                "SET with {options:?}: an unknown option, NX with XX, EX with PX or EX without \
                 a value is a syntax error"
            );
        }
    });
}

#[test]
fn set_refuses_a_non_positive_or_non_integer_expire() {
    watched("Command::parse of bad expire times", || {
        for value in ["0", "-1"] {
            for unit in ["EX", "PX"] {
                assert_eq!(
                    error(&["SET", "k", "v", unit, value]),
                    "ERR invalid expire time in 'set' command",
                    "SET .. {unit} {value}: a deadline must be in the future"
                );
            }
        }
        for value in ["abc", "1.5", "", "99999999999999999999"] {
            assert_eq!(
                error(&["SET", "k", "v", "EX", value]),
                "ERR value is not an integer or out of range",
                "SET .. EX {value:?}: not an i64"
            );
        }
        assert_eq!(
            error(&["EXPIRE", "k", "soon"]),
            "ERR value is not an integer or out of range"
        );
    });
}

#[test]
fn a_wrong_number_of_arguments_names_the_command_in_lower_case() {
    watched("Command::parse with wrong arity", || {
        for words in [
            vec!["GET"],
            vec!["get", "a", "b"],
            vec!["SET", "k"],
            vec!["ECHO"],
            vec!["PING", "a", "b"],
            vec!["DEL"],
            vec!["EXISTS"],
            vec!["INCR"],
            vec!["EXPIRE", "k"],
            vec!["TTL"],
            vec!["PUBLISH", "ch"],
            vec!["SUBSCRIBE"],
        ] {
            let name = words[0].to_ascii_lowercase();
            assert_eq!(
                error(&words),
                format!("ERR wrong number of arguments for '{name}' command"),
                "Command::parse({words:?})"
            );
        }
    });
}

#[test]
fn an_unknown_command_is_named_as_sent() {
    watched("Command::parse of unknown commands", || {
        for words in [
            vec!["CLIENT", "SETINFO", "LIB-NAME", "redis-rs"],
            vec!["Config", "GET", "save"],
            vec!["flushall"],
        ] {
            let text = error(&words);
            let want = format!("ERR unknown command '{}'", words[0]);
            assert!(
                text.starts_with(&want),
                "{words:?} must get {want:?} (Redis may add more after it), got {text:?}: \
                 real clients send CLIENT SETINFO and CONFIG GET first and need a reply"
            );
        }
    });
}
