//! Opening the listening socket, with errors a student can act on.
//!
//! We set SO_REUSEADDR before binding: port 45000 lies inside Linux's
//! ephemeral range (32768-60999), and without the option a restarted server
//! can fail with "address in use" while old connections sit in TIME_WAIT.

use std::io;
use std::net::{SocketAddr, TcpListener};

use socket2::{Domain, Protocol, Socket, Type};

/// Why the server could not listen, in words that say what to do.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Something else listens on the port.
    #[error(
        "port {port} is already in use on {ip}: another server (perhaps an earlier \
         time-server or echo-server) is listening there. Stop it (`ss -ltnp` shows which \
         program) or choose another --port"
    )]
    InUse {
        /// The address asked for.
        ip: std::net::IpAddr,
        /// The port asked for.
        port: u16,
    },
    /// Ports below 1024 need privileges.
    #[error("not allowed to listen on port {port}: ports below 1024 need root; choose a port above 1023")]
    Permission {
        /// The port asked for.
        port: u16,
    },
    /// The address is not one of this machine's.
    #[error("{ip} is not an address of this machine; use --bind 0.0.0.0 to listen on all of them")]
    NotLocal {
        /// The address asked for.
        ip: std::net::IpAddr,
    },
    /// Anything else the kernel refused.
    #[error("cannot listen on {addr}: {source}")]
    Other {
        /// The address asked for.
        addr: SocketAddr,
        /// What the kernel said.
        source: io::Error,
    },
}

/// Binds `addr` with SO_REUSEADDR and starts listening with `backlog`.
pub fn bind(addr: SocketAddr, backlog: i32) -> Result<TcpListener, BindError> {
    open(addr, backlog).map_err(|source| match source.kind() {
        io::ErrorKind::AddrInUse => BindError::InUse {
            ip: addr.ip(),
            port: addr.port(),
        },
        io::ErrorKind::PermissionDenied => BindError::Permission { port: addr.port() },
        io::ErrorKind::AddrNotAvailable => BindError::NotLocal { ip: addr.ip() },
        _ => BindError::Other { addr, source },
    })
}

fn open(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_reported_with_what_to_do() {
        let first = bind("127.0.0.1:0".parse().expect("addr"), 16).expect("free port");
        let taken = first.local_addr().expect("bound");
        let err = bind(taken, 16).expect_err("port is taken");
        assert!(matches!(err, BindError::InUse { .. }), "{err:?}");
        assert!(err.to_string().contains("--port"), "{err}");
    }

    #[test]
    fn reuse_address_is_set() {
        let listener = bind("127.0.0.1:0".parse().expect("addr"), 16).expect("free port");
        let socket = socket2::SockRef::from(&listener);
        assert!(socket.reuse_address().expect("readable option"));
    }
}
