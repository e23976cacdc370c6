//! The two directions of a conversation, and data kept for each.
//!
//! Everything TCP does, it does once per direction: each side has its own
//! sequence numbers, window and FIN. [`PerDir`] holds one value per
//! direction and is indexed by [`Dir`], so code says `packets[dir]` and
//! `flows[dir.reverse()]`, never `[0]`, `[1]` or `1 - d`.

use std::ops::{Index, IndexMut};

use serde::Serialize;

/// Direction of a segment within its conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dir {
    /// From the client (the SYN sender) to the server.
    ClientToServer,
    /// From the server to the client.
    ServerToClient,
}

impl Dir {
    /// Both directions, client to server first.
    pub const BOTH: [Dir; 2] = [Dir::ClientToServer, Dir::ServerToClient];

    /// `c2s` or `s2c`.
    pub fn short(self) -> &'static str {
        match self {
            Dir::ClientToServer => "c2s",
            Dir::ServerToClient => "s2c",
        }
    }

    /// The other direction: where the ACKs for this one's data come from.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::ClientToServer => Dir::ServerToClient,
            Dir::ServerToClient => Dir::ClientToServer,
        }
    }
}

/// One `T` for each direction. In JSON: `{"client_to_server": ..,
/// "server_to_client": ..}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct PerDir<T> {
    /// From the client to the server.
    pub client_to_server: T,
    /// From the server to the client.
    pub server_to_client: T,
}

impl<T> PerDir<T> {
    /// The client's value, then the server's.
    pub const fn new(client_to_server: T, server_to_client: T) -> Self {
        PerDir {
            client_to_server,
            server_to_client,
        }
    }

    /// A value for each direction, made by `f`.
    pub fn from_fn(mut f: impl FnMut(Dir) -> T) -> Self {
        PerDir::new(f(Dir::ClientToServer), f(Dir::ServerToClient))
    }

    /// Each value transformed by `f`.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> PerDir<U> {
        PerDir::new(f(&self.client_to_server), f(&self.server_to_client))
    }

    /// `(direction, value)` for both, client to server first.
    pub fn iter(&self) -> impl Iterator<Item = (Dir, &T)> {
        Dir::BOTH.into_iter().map(move |dir| (dir, &self[dir]))
    }

    /// The value of `dir` and, mutably too, the reverse direction's: the
    /// pair a segment's analysis needs (its own side, and the side that
    /// acknowledges it).
    pub fn this_and_reverse(&mut self, dir: Dir) -> (&mut T, &mut T) {
        match dir {
            Dir::ClientToServer => (&mut self.client_to_server, &mut self.server_to_client),
            Dir::ServerToClient => (&mut self.server_to_client, &mut self.client_to_server),
        }
    }
}

impl PerDir<u64> {
    /// Both directions added up.
    pub fn total(&self) -> u64 {
        self.client_to_server + self.server_to_client
    }
}

impl<T> Index<Dir> for PerDir<T> {
    type Output = T;
    fn index(&self, dir: Dir) -> &T {
        match dir {
            Dir::ClientToServer => &self.client_to_server,
            Dir::ServerToClient => &self.server_to_client,
        }
    }
}

impl<T> IndexMut<Dir> for PerDir<T> {
    fn index_mut(&mut self, dir: Dir) -> &mut T {
        match dir {
            Dir::ClientToServer => &mut self.client_to_server,
            Dir::ServerToClient => &mut self.server_to_client,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_direction_has_its_own_value() {
        let mut packets = PerDir::new(1u64, 2);
        packets[Dir::ServerToClient] += 10;
        assert_eq!(packets[Dir::ClientToServer], 1);
        assert_eq!(packets[Dir::ServerToClient], 12);
        let (this, reverse) = packets.this_and_reverse(Dir::ServerToClient);
        *this += 1;
        *reverse += 100;
        assert_eq!(packets, PerDir::new(101, 13));
        assert_eq!(Dir::ClientToServer.reverse(), Dir::ServerToClient);
        assert_eq!(Dir::ServerToClient.reverse().reverse(), Dir::ServerToClient);
    }

    #[test]
    fn json_names_the_directions() {
        let json = serde_json::to_string(&PerDir::new(3, 4)).expect("json");
        assert_eq!(json, r#"{"client_to_server":3,"server_to_client":4}"#);
    }
}
