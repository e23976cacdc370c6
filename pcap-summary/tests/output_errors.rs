//! Writing the summary can fail: a full disk is an error with a message and
//! exit code 4; a pipe its reader closed early (`| head`) is not.

use std::io::Read;
use std::process::{Command, Stdio};

use progjar_testkit::CaptureBuilder;

/// A capture whose summary is megabytes long: `count` SYNs, each its own
/// conversation.
fn long_summary_capture(count: u32) -> (tempfile::TempDir, std::path::PathBuf) {
    let capture = CaptureBuilder::syn_flood(count);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("capture.pcap");
    capture.write_pcap(&path).expect("written");
    (dir, path)
}

#[test]
fn a_full_disk_is_said_and_ends_with_exit_code_4() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("no /dev/full here (not Linux): nothing to check");
        return;
    };
    let (_dir, path) = long_summary_capture(100);
    for args in [&["--json"][..], &[][..], &["--follow", "0"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_pcap-summary"))
            .args(args)
            .arg(&path)
            .stdout(full.try_clone().expect("another handle"))
            .output()
            .expect("pcap-summary runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the output: No space left on device"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_pipe_closed_early_is_no_error() {
    // About a kilobyte of JSON per conversation: far more than a pipe holds.
    let (_dir, path) = long_summary_capture(5000);
    for args in [&["--json"][..], &[][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pcap-summary"))
            .args(args)
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pcap-summary runs");
        let mut stdout = child.stdout.take().expect("its stdout");
        let mut first = [0u8; 10];
        stdout
            .read_exact(&mut first)
            .expect("the start of the summary");
        drop(stdout);
        let out = child.wait_with_output().expect("it ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}
