"""A common mistake: every recv() is taken to be exactly one request."""
import threading

from common import jam, listen


def serve(conn):
    with conn:
        while True:
            try:
                data = conn.recv(1024)
            except OSError:
                return
            if not data:
                return
            if data.startswith(b"TIME"):
                conn.sendall(jam().encode("utf-8"))
            elif data.startswith(b"QUIT"):
                return
            else:
                conn.sendall(b"ERROR\r\n")


server = listen()
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
