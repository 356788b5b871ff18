#!/usr/bin/env python3
"""A tiny healthy WebSocket endpoint for benchmarks, standard library only.

Serves ws://HOST:PORT/ws (RFC 6455 handshake, echo of text/binary, pong to ping,
close handshake) and answers any other plain GET with 404, a GET of /ws without
upgrade headers with 426. Prints "listening PORT" once ready.

Usage: ws_echo_server.py [--host 127.0.0.1] [--port 0]
"""
import argparse
import base64
import hashlib
import socket
import struct
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 16 * 1024
MAX_FRAME = 1 << 20


def read_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return data


def read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
        if len(data) > MAX_HEAD:
            raise ConnectionError("head too large")
    return data.split(b"\r\n\r\n", 1)[0]


def respond(conn: socket.socket, status: str, body: bytes, extra: str = "") -> None:
    conn.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n{extra}\r\n".encode() + body
    )


def send_frame(conn: socket.socket, opcode: int, payload: bytes) -> None:
    header = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        header += bytes([n])
    elif n <= 0xFFFF:
        header += bytes([126]) + struct.pack("!H", n)
    else:
        header += bytes([127]) + struct.pack("!Q", n)
    conn.sendall(header + payload)


def serve_websocket(conn: socket.socket) -> None:
    while True:
        b0, b1 = read_exact(conn, 2)
        opcode, masked, length = b0 & 0x0F, b1 & 0x80, b1 & 0x7F
        if length == 126:
            length = struct.unpack("!H", read_exact(conn, 2))[0]
        elif length == 127:
            length = struct.unpack("!Q", read_exact(conn, 8))[0]
        if not masked or length > MAX_FRAME:
            send_frame(conn, 0x8, struct.pack("!H", 1002 if not masked else 1009))
            return
        mask = read_exact(conn, 4)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(read_exact(conn, length)))
        if opcode in (0x1, 0x2):
            send_frame(conn, opcode, payload)
        elif opcode == 0x9:
            send_frame(conn, 0xA, payload)
        elif opcode == 0x8:
            send_frame(conn, 0x8, payload[:2])
            return


def handle(conn: socket.socket) -> None:
    try:
        conn.settimeout(60)
        lines = read_head(conn).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path = parts[1].split("?", 1)[0] if len(parts) > 1 else "/"
        upgrade = "websocket" in headers.get("upgrade", "").lower() and "upgrade" in headers.get("connection", "").lower()
        if path != "/ws":
            respond(conn, "404 Not Found", b"not found")
        elif not upgrade or "sec-websocket-key" not in headers:
            respond(conn, "426 Upgrade Required", b"Upgrade Required", "Upgrade: websocket\r\n")
        else:
            accept = base64.b64encode(hashlib.sha1(headers["sec-websocket-key"].encode() + GUID).digest()).decode()
            conn.sendall(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
            )
            serve_websocket(conn)
    except (OSError, ConnectionError, ValueError):
        pass
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((args.host, args.port))
    server.listen(128)
    print(f"listening {server.getsockname()[1]}", flush=True)
    try:
        while True:
            conn, _ = server.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
