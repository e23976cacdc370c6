//! The experiments of the course, one file each.
//!
//! A file holds the experiment's parameters and plan, the facts it
//! measures (a struct written to `findings.json`), and the findings those
//! facts make. Shared pieces: [`echo`] (t1-echo, t1-file and the t3 experiments measure the
//! same things), [`tcp_analysis`] (the expert analysis added up) and [`time_lines`] (reading TIME and JAM lines out of a capture).

pub mod echo;
pub mod t1_echo;
pub mod t1_file;
pub mod t1_iterative;
pub mod t1_socket_info;
pub mod t2_concurrent;
pub mod t2_crlf;
pub mod t2_time;
pub mod t3_flow;
pub mod t3_loss;
pub mod tcp_analysis;
pub mod time_lines;
