//! Connecting to a server, with errors that say what to check.

use std::io;
use std::time::Duration;

/// Why a client could not reach its server.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Nothing listens on that port, or the host said no.
    #[error(
        "connection to {target} refused: no server is listening there. Is the server running? \
         (in the lab: `make status`; on one machine: start it first, e.g. `time-server --port PORT`)"
    )]
    Refused {
        /// host:port as the user gave it.
        target: String,
    },
    /// No answer at all within the timeout.
    #[error(
        "no answer from {target} within {secs:.1} s: is the address right and the machine up? \
         (lab machines are 172.16.16.101-103, reachable from the lab's containers)"
    )]
    Timeout {
        /// host:port as the user gave it.
        target: String,
        /// The timeout that ran out.
        secs: f64,
    },
    /// The name did not resolve.
    #[error("cannot resolve {target}: {source}. In the lab, use a machine name (mesin-1) or an address (172.16.16.101)")]
    Resolve {
        /// host:port as the user gave it.
        target: String,
        /// What the resolver said.
        source: io::Error,
    },
    /// Anything else.
    #[error("cannot connect to {target}: {source}")]
    Other {
        /// host:port as the user gave it.
        target: String,
        /// What the kernel said.
        source: io::Error,
    },
}

/// `host:port`, with IPv6 literals in brackets.
pub fn target(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Connects with tokio, giving up after `timeout`.
pub async fn connect_async(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<tokio::net::TcpStream, ConnectError> {
    let target = target(host, port);
    let addrs: Vec<_> = match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => addrs.collect(),
        Err(source) => return Err(ConnectError::Resolve { target, source }),
    };
    let attempt = async {
        let mut last = None;
        for addr in &addrs {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no addresses")))
    };
    match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(source)) => Err(classify(target, source, timeout)),
        Err(_) => Err(ConnectError::Timeout {
            target,
            secs: timeout.as_secs_f64(),
        }),
    }
}

/// Connects with blocking std sockets, giving up after `timeout` per address.
pub fn connect_blocking(
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<std::net::TcpStream, ConnectError> {
    use std::net::ToSocketAddrs;
    let target = target(host, port);
    let addrs: Vec<_> = match (host, port).to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(source) => return Err(ConnectError::Resolve { target, source }),
    };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no addresses");
    for addr in &addrs {
        match std::net::TcpStream::connect_timeout(addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(classify(target, last, timeout))
}

fn classify(target: String, source: io::Error, timeout: Duration) -> ConnectError {
    match source.kind() {
        io::ErrorKind::ConnectionRefused => ConnectError::Refused { target },
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ConnectError::Timeout {
            target,
            secs: timeout.as_secs_f64(),
        },
        _ => ConnectError::Other { target, source },
    }
}
