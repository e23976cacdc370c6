"""A correct threaded server with the course's listen(1), and an accept loop
that may be slow: the first argument, in seconds, is a pause after each
accept() (a stand-in for a loop that logs every connection, looks up the
client's name or starts a heavy thread on a busy lab machine; default 0).

listen(1) queues at most two finished handshakes: when ten clients connect at
the same instant, the kernel drops the other SYNs and those clients retry
only 1 s, then 3 s later; a slow accept loop makes that worse. The server is
still concurrent: it answers every client while another sits idle, so the
"concurrency" check must pass.
"""
import sys
import threading
import time

from common import jam, listen

ACCEPT_PAUSE = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0


def serve(conn):
    buffer = b""
    with conn:
        while True:
            try:
                data = conn.recv(1024)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if not line.endswith(b"\r"):
                    conn.sendall(b"ERROR use CR LF\r\n")
                elif line.startswith(b"TIME"):
                    conn.sendall(jam().encode("utf-8"))
                elif line.startswith(b"QUIT"):
                    return
                else:
                    conn.sendall(b"ERROR unknown command\r\n")


server = listen(1)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
    time.sleep(ACCEPT_PAUSE)
