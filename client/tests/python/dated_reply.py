"""Like the course's server_thread_time.py: a thread per client, listen(1), and
a reply with the date before the time, "JAM dd-mm-YYYY hh:mm:ss\\r\\n".

Framing, QUIT, errors and concurrency are right: its only fault is the reply
format, so only the "reply format" check may fail.
"""
import datetime
import threading

from common import listen


def dated_jam():
    return "JAM " + datetime.datetime.now().strftime("%d-%m-%Y %H:%M:%S") + "\r\n"


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
                    conn.sendall(dated_jam().encode("utf-8"))
                elif line.startswith(b"QUIT"):
                    return
                else:
                    conn.sendall(b"ERROR unknown command\r\n")


server = listen(1)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
