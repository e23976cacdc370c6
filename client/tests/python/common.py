"""Shared start-up for the test servers: listen on an ephemeral port, print it."""
import socket
import sys


def listen(backlog=50):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(backlog)
    print(server.getsockname()[1], flush=True)
    return server


def jam():
    import datetime
    return "JAM " + datetime.datetime.now().strftime("%H:%M:%S") + "\r\n"


if __name__ == "__main__":
    sys.exit("import this module")
