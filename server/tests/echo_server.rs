//! The echo server over real TCP on 127.0.0.1.

mod support;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use progjar_protocol::echo::COURSE_MESSAGE;
use progjar_server::Mode;
use support::*;

#[test]
fn the_course_message_comes_back_in_16_byte_pieces_in_every_mode() {
    for mode in MODES {
        let server = TestServer::echo(options(mode), 32);
        let mut client = server.connect();
        send(&mut client, COURSE_MESSAGE);
        let mut echoed = Vec::new();
        let mut piece = [0u8; 16];
        while echoed.len() < COURSE_MESSAGE.len() {
            let n = client.read(&mut piece).expect("echo");
            assert!(n > 0 && n <= 16, "{mode}: piece of {n}");
            echoed.extend_from_slice(&piece[..n]);
        }
        assert_eq!(echoed, COURSE_MESSAGE, "{mode}");
        client.shutdown(Shutdown::Write).expect("half close");
        assert!(
            read_to_close(&mut client).is_empty(),
            "{mode}: closes on EOF"
        );
    }
}

#[test]
fn iterative_echo_serves_the_second_client_after_the_first_closes() {
    let server = TestServer::echo(options(Mode::Iterative), 32);
    let mut first = server.connect();
    send(&mut first, b"one");
    assert_eq!(read_exact_n(&mut first, 3), b"one");
    let mut second = server.connect();
    send(&mut second, b"two");
    second
        .set_read_timeout(Some(Duration::from_millis(400)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    assert!(second.read(&mut byte).is_err(), "second client must wait");
    drop(first);
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    assert_eq!(read_exact_n(&mut second, 3), b"two");
}

#[test]
fn a_client_that_never_reads_does_not_block_others_in_concurrent_modes() {
    for mode in [Mode::Async, Mode::Thread] {
        let server = TestServer::echo(options(mode), 32);
        let mut hog = server.connect();
        hog.set_write_timeout(Some(Duration::from_millis(500)))
            .expect("timeout");
        // Fill both directions' buffers: the server stops reading from the hog.
        let junk = vec![b'x'; 64 * 1024];
        let mut pushed = 0usize;
        while pushed < 64 * 1024 * 1024 {
            match hog.write(&junk) {
                Ok(n) => pushed += n,
                Err(_) => break,
            }
        }
        assert!(
            pushed < 64 * 1024 * 1024,
            "{mode}: the server buffered without limit"
        );
        let mut other = server.connect();
        send(&mut other, b"still here");
        assert_eq!(read_exact_n(&mut other, 10), b"still here", "{mode}");
        let _ = other.write_all(b"");
    }
}
