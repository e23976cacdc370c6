"""Correct framing, but one client at a time (no threads): the others wait."""
from common import jam, listen

server = listen()
while True:
    conn, _ = server.accept()
    buffer = b""
    with conn:
        while True:
            try:
                data = conn.recv(1024)
            except OSError:
                break
            if not data:
                break
            buffer += data
            quit_seen = False
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if not line.endswith(b"\r"):
                    conn.sendall(b"ERROR use CR LF\r\n")
                elif line.startswith(b"TIME"):
                    conn.sendall(jam().encode("utf-8"))
                elif line.startswith(b"QUIT"):
                    quit_seen = True
                    break
                else:
                    conn.sendall(b"ERROR unknown command\r\n")
            if quit_seen:
                break
