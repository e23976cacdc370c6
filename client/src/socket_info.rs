//! The socket facts the course's `socket_info.py` prints.
//!
//! A new socket blocks forever by default (Python: `getdefaulttimeout()` is
//! `None`); `settimeout(10)` sets the kernel's receive timeout, SO_RCVTIMEO.
//! `getaddrinfo` turns a name and port into the addresses a client can
//! connect to, one entry per address family, socket type and protocol.

use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Socket, Type};

/// The receive timeout of a fresh socket, then after setting `timeout`.
pub fn timeouts(timeout: Duration) -> std::io::Result<(Option<Duration>, Option<Duration>)> {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    let before = socket.read_timeout()?;
    socket.set_read_timeout(Some(timeout))?;
    Ok((before, socket.read_timeout()?))
}

/// One answer of `getaddrinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressEntry {
    /// `AF_INET` or `AF_INET6`.
    pub family: &'static str,
    /// `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_RAW`.
    pub socket_type: &'static str,
    /// `IPPROTO_TCP`, `IPPROTO_UDP`, or `0`.
    pub protocol: &'static str,
    /// The address and port.
    pub address: SocketAddr,
}

/// Why a name did not resolve.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot resolve {host} (port {port}): {reason}.\nAn offline lab has no DNS: try a lab \
     machine's name or address instead, e.g. `socket-info mesin-1 45000` or `socket-info 172.16.16.101 45000`"
)]
pub struct ResolveError {
    /// The name asked for.
    pub host: String,
    /// The port asked for.
    pub port: String,
    /// What the resolver said.
    pub reason: String,
}

/// Calls the system's `getaddrinfo(host, port)` with no hints, as Python does.
pub fn resolve(host: &str, port: &str) -> Result<Vec<AddressEntry>, ResolveError> {
    let error = |reason: String| ResolveError {
        host: host.to_string(),
        port: port.to_string(),
        reason,
    };
    let answers = dns_lookup::getaddrinfo(Some(host), Some(port), None)
        .map_err(|e| error(std::io::Error::from(e).to_string()))?;
    let mut entries = Vec::new();
    for answer in answers {
        let info = answer.map_err(|e| error(e.to_string()))?;
        entries.push(AddressEntry {
            family: family_name(info.address),
            socket_type: socket_type_name(info.socktype),
            protocol: protocol_name(info.protocol),
            address: info.sockaddr,
        });
    }
    Ok(entries)
}

impl AddressEntry {
    /// This answer as it appears in the JSON result.
    pub fn to_result(&self) -> crate::results::AddrInfo {
        crate::results::AddrInfo {
            family: self.family.to_string(),
            socket_type: self.socket_type.to_string(),
            protocol: self.protocol.to_string(),
            address: self.address.to_string(),
        }
    }
}

/// The file that names this machine's DNS servers.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// The `nameserver` addresses of a resolv.conf text, in order (comments and
/// other options skipped).
pub fn nameservers(resolv_conf: &str) -> Vec<String> {
    resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("nameserver"), Some(address)) => Some(address.to_string()),
                _ => None,
            }
        })
        .collect()
}

/// The DNS servers this machine asks ([`RESOLV_CONF`]); empty when it cannot be read.
pub fn system_nameservers() -> Vec<String> {
    std::fs::read(RESOLV_CONF)
        .map(|bytes| nameservers(&String::from_utf8_lossy(&bytes)))
        .unwrap_or_default()
}

fn family_name(family: i32) -> &'static str {
    match family {
        libc::AF_INET => "AF_INET",
        libc::AF_INET6 => "AF_INET6",
        _ => "other",
    }
}

fn socket_type_name(socktype: i32) -> &'static str {
    match socktype {
        libc::SOCK_STREAM => "SOCK_STREAM",
        libc::SOCK_DGRAM => "SOCK_DGRAM",
        libc::SOCK_RAW => "SOCK_RAW",
        _ => "other",
    }
}

fn protocol_name(protocol: i32) -> &'static str {
    match protocol {
        libc::IPPROTO_TCP => "IPPROTO_TCP",
        libc::IPPROTO_UDP => "IPPROTO_UDP",
        0 => "0",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_socket_blocks_and_settimeout_sets_the_receive_timeout() {
        let (before, after) = timeouts(Duration::from_secs(10)).expect("socket");
        assert_eq!(before, None);
        assert_eq!(after, Some(Duration::from_secs(10)));
    }

    #[test]
    fn localhost_resolves_to_a_loopback_stream_address() {
        let entries = resolve("localhost", "45000").expect("localhost resolves");
        assert!(entries.iter().any(|e| e.address.ip().is_loopback()
            && e.address.port() == 45000
            && e.socket_type == "SOCK_STREAM"));
    }

    #[test]
    fn a_numeric_address_resolves_without_dns() {
        let entries = resolve("127.0.0.1", "80").expect("numeric address");
        assert!(entries.iter().all(|e| e.family == "AF_INET"));
        assert!(entries.iter().any(|e| e.protocol == "IPPROTO_TCP"));
    }

    #[test]
    fn nameservers_are_read_in_order_and_other_lines_skipped() {
        let text = "# generated\nsearch lab\nnameserver 172.16.16.1\n\
                    ;nameserver 9.9.9.9\n  nameserver   ::1  # local\noptions ndots:1\nnameserver\n";
        assert_eq!(nameservers(text), vec!["172.16.16.1", "::1"]);
    }

    #[test]
    fn an_entry_becomes_its_json_form() {
        let entry = AddressEntry {
            family: "AF_INET6",
            socket_type: "SOCK_STREAM",
            protocol: "IPPROTO_TCP",
            address: "[::1]:80".parse().expect("address"),
        };
        let json = entry.to_result();
        assert_eq!(json.family, "AF_INET6");
        assert_eq!(json.socket_type, "SOCK_STREAM");
        assert_eq!(json.protocol, "IPPROTO_TCP");
        assert_eq!(json.address, "[::1]:80");
    }

    #[test]
    fn the_resolve_error_suggests_a_lab_name() {
        let err = ResolveError {
            host: "www.its.ac.id".into(),
            port: "80".into(),
            reason: "Temporary failure in name resolution".into(),
        };
        assert!(err.to_string().contains("socket-info mesin-1 45000"));
    }
}
