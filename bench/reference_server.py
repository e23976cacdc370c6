"""The course's model, done right: a thread per client, a buffer per client,
lines split at CR LF. The Rust servers are compared with this in `make bench`.

    python3 bench/reference_server.py PORT
"""
import datetime
import socket
import sys
import threading


def serve(conn):
    buffer = b""
    with conn:
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                return
            if not data:
                return
            buffer += data
            replies = []
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if not line.endswith(b"\r"):
                    replies.append(b"ERROR lines must end with CR LF\r\n")
                elif line.startswith(b"TIME"):
                    now = datetime.datetime.now().strftime("%H:%M:%S")
                    replies.append(("JAM " + now + "\r\n").encode("utf-8"))
                elif line.startswith(b"QUIT"):
                    if replies:
                        conn.sendall(b"".join(replies))
                    return
                else:
                    replies.append(b"ERROR unknown command\r\n")
            if len(buffer) > 1024:
                conn.sendall(b"ERROR line too long\r\n")
                return
            if replies:
                try:
                    conn.sendall(b"".join(replies))
                except OSError:
                    return


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 45000
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(1024)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
