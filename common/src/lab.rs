//! The lab's machines as data: their names and addresses, written once for
//! every program (the experiments' plans, pcap-summary's pictures).
//!
//! The three machines of the course sit on one /24 network; only the first
//! three octets change (`LAB_NET`, when 172.16.16 is taken on a host).

use std::net::{IpAddr, Ipv4Addr};

/// The environment variable that moves the lab to other first three octets.
pub const NET_ENV: &str = "LAB_NET";
/// The lab's network when `LAB_NET` is not set.
pub const DEFAULT_NET: &str = "172.16.16";
/// Each machine's name and the last octet of its address.
pub const MACHINES: [(&str, u8); 3] = [("mesin-1", 101), ("mesin-2", 102), ("mesin-3", 103)];

/// The lab network's first three octets: `LAB_NET`, or the default.
pub fn net_from_env() -> String {
    std::env::var(NET_ENV).unwrap_or_else(|_| DEFAULT_NET.to_string())
}

/// The name of the lab machine at `ip` on network `net` (`172.16.16`), if
/// it is one.
pub fn machine_at(ip: IpAddr, net: &str) -> Option<&'static str> {
    let IpAddr::V4(ip) = ip else {
        return None;
    };
    MACHINES.iter().find_map(|&(name, octet)| {
        let address: Option<Ipv4Addr> = format!("{net}.{octet}").parse().ok();
        (address == Some(ip)).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_addresses_have_names_and_others_do_not() {
        let at = |s: &str| machine_at(s.parse().expect("ip"), DEFAULT_NET);
        assert_eq!(at("172.16.16.101"), Some("mesin-1"));
        assert_eq!(at("172.16.16.103"), Some("mesin-3"));
        assert_eq!(at("172.16.16.104"), None);
        assert_eq!(at("10.0.0.1"), None);
        assert_eq!(
            machine_at("10.77.0.102".parse().expect("ip"), "10.77.0"),
            Some("mesin-2")
        );
    }
}
