"""Another mistake: only exactly b"TIME\r\n" in one recv() is accepted; anything else closes."""
import threading

from common import jam, listen


def serve(conn):
    with conn:
        while True:
            try:
                data = conn.recv(1024)
            except OSError:
                return
            if data == b"TIME\r\n":
                conn.sendall(jam().encode("utf-8"))
            else:
                return


server = listen()
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
