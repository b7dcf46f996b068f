"""Test peer for netflow: moves an exact number of payload bytes over TCP or UDP, then exits.

  flow_peer.py tcp-server ADDR PORT RECV SEND    accept one connection, read RECV bytes, write SEND bytes, close
  flow_peer.py tcp-client ADDR PORT SEND RECV    connect, write SEND bytes, read RECV bytes, close
  flow_peer.py udp-server ADDR PORT RECV SEND    bind, read datagrams until RECV bytes, answer SEND bytes to the sender
  flow_peer.py udp-client ADDR PORT SEND RECV    unconnected socket: sendto SEND bytes, read RECV bytes
  flow_peer.py udp-connected-client ADDR PORT SEND RECV   the same over a connect()ed socket (send/recv)
  flow_peer.py tcp-echo-server ADDR PORT 0 0    accept one connection, echo until the client closes
  flow_peer.py tcp-pinger ADDR PORT COUNT 0      COUNT 1-byte round trips 10 ms apart, print "paused", then keep
                                                 the connection open and idle until stdin closes
  flow_peer.py tcp-accept-many ADDR PORT COUNT N listen on PORT..PORT+N-1, accept COUNT connections, close each
  flow_peer.py tcp-connect-many ADDR PORT COUNT N connect COUNT times round-robin over the N ports, wait for the
                                                 server's close, close
  flow_peer.py tcp-accept-hold ADDR PORT COUNT 0  accept COUNT connections and keep them open until stdin closes
  flow_peer.py tcp-connect-hold ADDR PORT COUNT 0 open COUNT connections, print "held", keep them until stdin closes
Servers print "ready" once listening. Datagrams carry at most 1000 bytes.
"""
import socket
import sys
import time

mode, addr, port, first, second = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
family = socket.AF_INET6 if ":" in addr else socket.AF_INET


def recv_exact(sock, count):
    got = 0
    while got < count:
        chunk = sock.recv(min(65536, count - got))
        if not chunk:
            raise SystemExit(f"peer closed after {got} of {count} bytes")
        got += len(chunk)


def chunks(total, size=1000):
    while total > 0:
        yield min(size, total)
        total -= size


if mode == "tcp-server":
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((addr, port))
    server.listen(1)
    print("ready", flush=True)
    conn, _ = server.accept()
    recv_exact(conn, first)
    conn.sendall(b"s" * second)
    conn.close()
elif mode == "tcp-client":
    conn = socket.create_connection((addr, port))
    conn.sendall(b"c" * first)
    recv_exact(conn, second)
    conn.close()
elif mode == "udp-server":
    server = socket.socket(family, socket.SOCK_DGRAM)
    server.bind((addr, port))
    print("ready", flush=True)
    got = 0
    while got < first:
        data, peer = server.recvfrom(65536)
        got += len(data)
    for size in chunks(second):
        server.sendto(b"s" * size, peer)
elif mode in ("udp-client", "udp-connected-client"):
    client = socket.socket(family, socket.SOCK_DGRAM)
    if mode == "udp-connected-client":
        client.connect((addr, port))
    for size in chunks(first):
        if mode == "udp-connected-client":
            client.send(b"c" * size)
        else:
            client.sendto(b"c" * size, (addr, port))
    got = 0
    while got < second:
        got += len(client.recv(65536))
elif mode == "tcp-echo-server":
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((addr, port))
    server.listen(1)
    print("ready", flush=True)
    conn, _ = server.accept()
    while data := conn.recv(65536):
        conn.sendall(data)
    conn.close()
elif mode == "tcp-pinger":
    conn = socket.create_connection((addr, port))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(first):
        conn.sendall(b"p")
        recv_exact(conn, 1)
        time.sleep(0.01)
    print("paused", flush=True)
    sys.stdin.read()
    conn.close()
elif mode == "tcp-accept-many":
    import selectors
    selector = selectors.DefaultSelector()
    for offset in range(second):
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((addr, port + offset))
        listener.listen(4096)
        selector.register(listener, selectors.EVENT_READ)
    print("ready", flush=True)
    accepted = 0
    while accepted < first:
        for key, _ in selector.select():
            conn, _ = key.fileobj.accept()
            conn.close()
            accepted += 1
elif mode == "tcp-connect-many":
    for i in range(first):
        conn = socket.create_connection((addr, port + i % second))
        conn.recv(1)
        conn.close()
elif mode == "tcp-accept-hold":
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((addr, port))
    listener.listen(4096)
    print("ready", flush=True)
    held = [listener.accept()[0] for _ in range(first)]
    sys.stdin.read()
elif mode == "tcp-connect-hold":
    held = [socket.create_connection((addr, port)) for _ in range(first)]
    print("held", flush=True)
    sys.stdin.read()
else:
    raise SystemExit(f"unknown mode {mode}")
