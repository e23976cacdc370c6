//! Which lab machine an address belongs to: .101, .102, .103 are mesin-1/2/3
//! whatever the subnet (LAB_NET may move it).

use std::net::IpAddr;

/// `mesin-2` for x.y.z.102, else the address itself.
pub fn name_of(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => match v4.octets()[3] {
            101 => "mesin-1".into(),
            102 => "mesin-2".into(),
            103 => "mesin-3".into(),
            _ => ip.to_string(),
        },
        IpAddr::V6(_) => ip.to_string(),
    }
}
