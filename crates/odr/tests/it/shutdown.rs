//! Stopping the server: SIGTERM lets a request in flight finish before the
//! process exits.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use odr_store::Backend;

use crate::server::Site;

#[test]
fn sigterm_finishes_the_request_in_flight_then_exits() {
    let site = Site::new(Backend::Sqlite);
    let mut server = site.serve(&[("ODR_LOG", "info"), ("ODR_SHUTDOWN_TIMEOUT", "10s")]);
    let body = br#"{"email": "nobody@example.test", "password": "not the password"}"#;
    let (first, rest) = body.split_at(10);
    let mut conn = TcpStream::connect(server.addr).expect("cannot connect");
    conn.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("read timeout");
    write!(
        conn,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: odr\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("cannot send the head");
    conn.write_all(first).expect("cannot send the first part");
    // The request is being read when the signal comes.
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.wait_for_exit(Duration::ZERO).is_none(),
        "the server exited with a request in flight:\n{}",
        server.logs()
    );
    conn.write_all(rest).expect("cannot send the rest");
    let mut answer = String::new();
    conn.read_to_string(&mut answer)
        .expect("the request in flight got no answer");
    assert!(
        answer.starts_with("HTTP/1.1 401"),
        "the request in flight must be answered; got:\n{answer}\n{}",
        server.logs()
    );
    let status = server
        .wait_for_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("odr serve did not exit after SIGTERM:\n{}", server.logs()));
    assert!(status.success(), "exit {status}:\n{}", server.logs());
}
