//! Which lab machine an address belongs to: .101, .102, .103 are mesin-1/2/3
//! whatever the subnet (LAB_NET may move it).

use std::net::IpAddr;

use crate::plan::Machine;

/// `mesin-2` for x.y.z.102, else the address itself.
pub fn name_of(ip: &IpAddr) -> String {
    let octet = match ip {
        IpAddr::V4(v4) => Some(v4.octets()[3]),
        IpAddr::V6(_) => None,
    };
    Machine::ALL
        .iter()
        .find(|m| Some(m.host_octet()) == octet)
        .map_or_else(|| ip.to_string(), |m| m.name().to_string())
}
