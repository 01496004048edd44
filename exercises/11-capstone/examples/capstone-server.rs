//! Runs your server on a real port, to try it with `redis-cli` or `redis-benchmark`:
//!
//! ```text
//! cargo run --release -p capstone --example capstone-server -- --port 6380
//! redis-cli -p 6380 ping
//! ```
//!
//! Stop it with Ctrl-C. (The course's file, outside `src/`: nothing to write here.)

use std::net::{Ipv4Addr, SocketAddr};

fn main() -> std::io::Result<()> {
    let mut port = 6380_u16;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(value)) => match value.parse() {
                Ok(value) => port = value,
                Err(_) => return usage(&format!("not a port number: {value}")),
            },
            _ => return usage(&format!("unexpected argument: {arg}")),
        }
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut runtime = kit::Runtime::new()?;
    runtime.block_on(async {
        let listener = kit::net::TcpListener::bind(addr)?;
        println!("capstone-server listening on {addr} (Ctrl-C stops it)");
        capstone::run(listener, std::future::pending::<()>()).await
    })
}

fn usage(problem: &str) -> std::io::Result<()> {
    eprintln!("{problem}\nusage: capstone-server [--port PORT]   (default 6380, on 127.0.0.1)");
    std::process::exit(2)
}
