//! The time server over real TCP on 127.0.0.1, in every concurrency mode.

mod support;

use std::io::{ErrorKind, Read};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use progjar_server::Mode;
use support::*;

#[test]
fn time_then_quit_gets_one_reply_and_a_fin_in_every_mode() {
    for mode in MODES {
        let server = TestServer::time(options(mode));
        let mut client = server.connect();
        send(&mut client, b"TIME\r\nQUIT\r\n");
        let all = read_to_close(&mut client);
        assert_jam(&all);
        server.stop().expect("clean stop");
    }
}

#[test]
fn a_request_sent_byte_by_byte_gets_exactly_one_reply() {
    for mode in MODES {
        let server = TestServer::time(options(mode));
        let mut client = server.connect();
        client.set_nodelay(true).expect("nodelay");
        for byte in b"TIME\r\n" {
            send(&mut client, &[*byte]);
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_jam(&read_line(&mut client));
        send(&mut client, b"QUIT\r\n");
        assert!(
            read_to_close(&mut client).is_empty(),
            "{mode}: nothing after QUIT"
        );
    }
}

#[test]
fn pipelined_requests_get_replies_in_order_and_nothing_after_quit() {
    for mode in MODES {
        let server = TestServer::time(options(mode));
        let mut client = server.connect();
        send(&mut client, b"TIME\r\nTIME\nTIME\r\nQUIT\r\nTIME\r\n");
        let all = read_to_close(&mut client);
        let text = String::from_utf8(all).expect("utf-8");
        let lines: Vec<&str> = text.split_inclusive("\r\n").collect();
        assert_eq!(lines.len(), 3, "{mode}: {text:?}");
        assert_jam(lines[0].as_bytes());
        assert!(
            lines[1].starts_with("ERROR ") && lines[1].contains("CR LF"),
            "{mode}: {text:?}"
        );
        assert_jam(lines[2].as_bytes());
    }
}

#[test]
fn bare_lf_and_unknown_commands_get_errors_and_the_connection_stays_open() {
    for mode in MODES {
        let server = TestServer::time(options(mode));
        let mut client = server.connect();
        for bad in [&b"TIME\n"[..], b"HELLO\r\n", b"\r\n", b"\xff\xfe\r\n"] {
            send(&mut client, bad);
            let reply = read_line(&mut client);
            assert!(reply.starts_with(b"ERROR "), "{mode}: {bad:?} -> {reply:?}");
        }
        send(&mut client, b"TIME\r\n");
        assert_jam(&read_line(&mut client));
    }
}

#[test]
fn a_line_too_long_gets_an_error_and_the_server_closes() {
    for mode in MODES {
        let server = TestServer::time_with_limit(options(mode), 64);
        let mut client = server.connect();
        send(&mut client, &[b'A'; 65]);
        let all = read_to_close(&mut client);
        assert_eq!(all, b"ERROR line too long\r\n", "{mode}");
    }
}

#[test]
fn a_client_that_closes_mid_line_gets_no_reply() {
    for mode in MODES {
        let server = TestServer::time(options(mode));
        let mut client = server.connect();
        send(&mut client, b"TIME\r\nTIME");
        client.shutdown(Shutdown::Write).expect("half close");
        let all = read_to_close(&mut client);
        assert_jam(&all);
    }
}

#[test]
fn an_idle_client_is_disconnected_after_the_idle_timeout() {
    for mode in MODES {
        let mut opts = options(mode);
        opts.idle_timeout = Duration::from_millis(200);
        let server = TestServer::time(opts);
        let mut client = server.connect();
        assert!(read_to_close(&mut client).is_empty(), "{mode}");
    }
}

#[test]
fn two_hundred_concurrent_clients_are_all_answered_in_async_and_thread_modes() {
    for mode in [Mode::Async, Mode::Thread] {
        let server = TestServer::time(options(mode));
        // Every client connects before any sends, so all 200 are open at once.
        let mut clients: Vec<TcpStream> = (0..200).map(|_| server.connect()).collect();
        for client in &mut clients {
            send(client, b"TIME\r\n");
        }
        for client in &mut clients {
            assert_jam(&read_line(client));
            send(client, b"QUIT\r\n");
        }
        for client in &mut clients {
            assert!(read_to_close(client).is_empty());
        }
    }
}

#[test]
fn iterative_mode_answers_a_second_client_only_after_the_first_closes() {
    let server = TestServer::time(options(Mode::Iterative));
    let mut first = server.connect();
    send(&mut first, b"TIME\r\n");
    assert_jam(&read_line(&mut first));

    // The kernel completes the second handshake, but nobody reads its request yet.
    let mut second = server.connect();
    send(&mut second, b"TIME\r\n");
    second
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    let waited = second.read(&mut byte).expect_err("second client must wait");
    assert!(matches!(
        waited.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));

    send(&mut first, b"QUIT\r\n");
    assert!(read_to_close(&mut first).is_empty());
    second
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    assert_jam(&read_line(&mut second));
}

#[test]
fn a_stalled_client_does_not_delay_others_in_async_and_thread_modes() {
    for mode in [Mode::Async, Mode::Thread] {
        let server = TestServer::time(options(mode));
        let mut stalled = server.connect();
        send(&mut stalled, b"TI");
        let mut other = server.connect();
        other
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        send(&mut other, b"TIME\r\n");
        assert_jam(&read_line(&mut other));
        // The stalled one finishes its request later and is answered too.
        send(&mut stalled, b"ME\r\n");
        assert_jam(&read_line(&mut stalled));
    }
}

#[test]
fn shutdown_stops_accepting_lets_open_connections_finish_then_closes_them() {
    for mode in MODES {
        let mut opts = options(mode);
        opts.grace = Duration::from_millis(800);
        let server = TestServer::time(opts);
        let mut open = server.connect();
        send(&mut open, b"TIME\r\n");
        assert_jam(&read_line(&mut open));

        server.shutdown.trigger();
        std::thread::sleep(Duration::from_millis(200));
        // Within the grace period the open connection is still served ...
        send(&mut open, b"TIME\r\n");
        assert_jam(&read_line(&mut open));
        // ... no new connection is served ...
        if let Ok(mut late) = TcpStream::connect(server.addr) {
            late.set_read_timeout(Some(Duration::from_secs(3)))
                .expect("timeout");
            let _ = std::io::Write::write_all(&mut late, b"TIME\r\n");
            let mut buf = [0u8; 16];
            let got = late.read(&mut buf).unwrap_or(0);
            assert_eq!(got, 0, "{mode}: a connection after shutdown was answered");
        }
        // ... and when the grace period is over, the server closes it.
        let rest = read_to_close(&mut open);
        assert!(rest.is_empty(), "{mode}");
        server.stop().expect("clean stop");
    }
}
