"""A correct Tugas 2 server: a buffer per client, lines split at CR LF, a thread per client."""
import threading

from common import jam, listen


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


server = listen()
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
