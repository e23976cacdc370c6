"""make bench-check: the kernel-floor server (bench/c_floor_server.c) is a correct time server.

A floor that cut corners would make our servers look slow for doing their job,
so before `make bench` measures it, this checks it, on 127.0.0.1 and an
ephemeral port:
  - `time-client check`, the strict checker students run on their servers;
  - the same replies as our async server, byte for byte (the clock masked),
    to the inputs below, sent in one write and also one byte per write, and
    the same close: QUIT after replies owed, a line over 1024 bytes.
Exits 1 naming every difference. About 6 s.

    python3 bench/floor_check.py
"""
import concurrent.futures
import os
import re
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RELEASE = os.path.join(ROOT, "target", "release")
SOURCE = os.path.join(ROOT, "bench", "c_floor_server.c")
BINARY = os.path.join(ROOT, "target", "bench", "c-floor")

# What each input exercises is in its bytes: framing, every ERROR, QUIT with
# replies owed and lines after it, the 1024-byte limit from both sides.
INPUTS = [
    b"TIME\r\n",
    b"TIME\r\nTIME\r\nTIME\r\n",
    b"TIMEX\r\nTIME please\r\n",
    b"TIME\n",
    b"\n",
    b"\r\n",
    b"time\r\nquit\r\nHELLO\r\n",
    b"\xff\xfe\r\nTIME\xff\r\n",
    "H\u00e9llo \"x\" \\ \t\r\n".encode(),
    b"A" * 40 + b"\r\n",
    b"TIME\r\nQUIT\r\nTIME\r\n",
    b"TIME\r\nHELLO\r\nQUIT please\r\nTIME\r\n",
    b"QUIT\n",
    b"TIME\r\n" + b"X" * 1023 + b"\r\n" + b"TIME\r\n",
    b"TIME\r\n" + b"X" * 1024 + b"\r\n" + b"TIME\r\n",
    b"TIME\r\n" + b"X" * 1025,
    b"X" * 1024,
    b"TIME\r\n" * 1000,
    b"TIME\r\nlast line without LF",
]


def build():
    """Compiles the floor with the system's C compiler, when its source is newer."""
    if os.path.exists(BINARY) and os.path.getmtime(BINARY) >= os.path.getmtime(SOURCE):
        return BINARY
    os.makedirs(os.path.dirname(BINARY), exist_ok=True)
    cc = os.environ.get("CC", "cc")
    cmd = [cc, "-O2", "-Wall", "-Wextra", "-o", BINARY, SOURCE]
    try:
        subprocess.run(cmd, check=True)
    except FileNotFoundError:
        sys.exit("bench: no C compiler (%s) to build the kernel floor; install gcc (Debian: apt-get install gcc)" % cc)
    except subprocess.CalledProcessError as e:
        sys.exit("bench: %s failed with exit code %d" % (" ".join(cmd), e.returncode))
    return BINARY


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv):
    """Starts a server on a free loopback port; returns (process, port)."""
    port = free_port()
    proc = subprocess.Popen([a.replace("PORT", str(port)) for a in argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ, RUST_LOG="warn"))
    for _ in range(100):
        if proc.poll() is not None:
            sys.exit("bench: %s exited at start (code %d)" % (argv[0], proc.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("bench: %s did not listen on port %d" % (argv[0], port))


def exchange(port, data, one_byte_writes):
    """Sends `data`, half-closes only if the server has not closed, and returns
    (what came back, whether the server closed by itself within 1.5 s)."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        pieces = [data[i:i + 1] for i in range(len(data))] if one_byte_writes else [data]
        for piece in pieces:
            try:
                s.sendall(piece)
            except OSError:
                break  # closed after a line too long: what came back says so
        reply, closed = b"", False
        s.settimeout(1.5)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                reply += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = "reset"
        return reply, closed


def masked(reply):
    return re.sub(rb"JAM \d\d:\d\d:\d\d\r\n", b"JAM hh:mm:ss\r\n", reply)


# A thousand TIMEs one byte per write would say nothing more.
CASES = [(data, one_byte) for data in INPUTS for one_byte in (False, True) if not (one_byte and len(data) > 2000)]


def check(floor_port, ours_port):
    """Returns the differences between the floor's replies and ours, as sentences.
    All at once: most exchanges end by waiting out a server that rightly stays open."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2 * len(CASES)) as pool:
        floor = [pool.submit(exchange, floor_port, d, b) for d, b in CASES]
        ours = [pool.submit(exchange, ours_port, d, b) for d, b in CASES]
        problems = []
        for (data, one_byte), f, o in zip(CASES, floor, ours):
            f, o = f.result(), o.result()
            if (masked(f[0]), f[1]) != (masked(o[0]), o[1]):
                problems.append("%r%s: c-floor %r (closed: %s), ours %r (closed: %s)" % (
                    data[:60], " one byte per write" if one_byte else "", f[0][:200], f[1], o[0][:200], o[1]))
        return problems


def main():
    floor, floor_port = start([build(), "127.0.0.1", "PORT"])
    ours, ours_port = start([os.path.join(RELEASE, "time-server"), "--bind", "127.0.0.1", "--port", "PORT", "--mode", "async"])
    try:
        checker = subprocess.run([os.path.join(RELEASE, "time-client"), "check", "127.0.0.1", str(floor_port)],
                                 capture_output=True, text=True, timeout=120)
        problems = check(floor_port, ours_port)
    finally:
        for proc in (floor, ours):
            proc.kill()
            proc.wait()
    print(checker.stdout.rstrip().splitlines()[-1] if checker.stdout else "time-client check printed nothing")
    if checker.returncode != 0:
        print(checker.stdout + checker.stderr)
        sys.exit("bench: c-floor failed time-client check")
    if problems:
        print("\n".join(problems))
        sys.exit("bench: c-floor answers differently from our server in %d exchange(s)" % len(problems))
    print("c-floor: the same replies and closes as our async server in %d exchanges (%d inputs, whole and one byte per write)" % (
        len(CASES), len(INPUTS)))


if __name__ == "__main__":
    main()
