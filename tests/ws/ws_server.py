#!/usr/bin/python3
"""A scripted WebSocket server for tests/ws/test_ws.c (python3-websockets 10).

usage: ws_server.py CASE [--tls DIR] [--proxy]

Listens on 127.0.0.1, a free port; prints "port N" (and with --tls, makes a
throwaway CA and a certificate for localhost with openssl in DIR and prints
"ca DIR/ca.pem"; with --proxy, also runs an HTTP CONNECT proxy and prints
"proxy N") then plays CASE with the first client. What the server
itself checks (a pong came back, the client's close code, a big message
arrived intact) is printed as one line "result ok" or "result fail: why".
It exits after the case, or after 30 s whatever happens.
"""
import asyncio
import hashlib
import http
import os
import socket
import ssl
import struct
import subprocess
import sys

import websockets
import websockets.server
import websockets.utils

BIG = 200 * 1024
done = None


def say(line):
    print(line, flush=True)


def result(ok, why=""):
    say("result ok" if ok else "result fail: " + why)
    if not done.done():
        done.set_result(True)


def pattern(n):
    """n bytes of printable text that shows where a byte went missing."""
    unit = "0123456789abcdefghijklmnopqrstuvwxyz"
    return (unit * (n // len(unit) + 1))[:n]


def make_tls(d):
    def run(*args):
        subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ca_key, ca, key, csr, crt, ext = (os.path.join(d, n) for n in (
        "ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem", "ext.cnf"))
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "2", "-subj", "/CN=campaign test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    return ctx, ca


# ---- cases played over a real websockets connection ----

async def case_echo(ws):
    """Echoes every message; the client closes with 1000 "done". Checks the
    request the client made: path and query, its User-Agent and extra header."""
    asked = (ws.path, ws.request_headers.get("User-Agent"),
             ws.request_headers.get("X-Campaign-Test"))
    if asked != ("/v1/stream?ticket=t-123", "campaign-bot-test", "1"):
        await ws.close(1008, "unexpected request")
        result(False, f"request was {asked}")
        return
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass
    if "--proxy" in sys.argv and len(tunnels) != 1:
        result(False, f"{len(tunnels)} tunnels through the proxy, expected 1")
        return
    result(ws.close_code == 1000 and ws.close_reason == "done",
           f"client closed with {ws.close_code} {ws.close_reason!r}")


async def case_fragments(ws):
    await ws.send(["one-", "two-", "three"])     # one message in 3 frames
    await ws.wait_closed()
    result(True)


async def case_big(ws):
    """Sends 200 KiB; expects the same 200 KiB back (masked, partial writes)."""
    await ws.send(pattern(BIG))
    back = await ws.recv()
    await ws.send("intact" if back == pattern(BIG) else f"damaged: {len(back)} bytes")
    await ws.wait_closed()
    result(back == pattern(BIG), "the client's 200 KiB message came back damaged")


async def case_oversize(ws):
    try:
        await ws.send(pattern(100 * 1024))
        await ws.wait_closed()
    except websockets.ConnectionClosed:
        pass
    result(ws.close_code == 1009, f"client closed with {ws.close_code}, not 1009")


async def case_close4001(ws):
    await ws.close(4001, "bye")
    result(True)


async def case_ping(ws):
    waiter = await ws.ping(b"are you there")
    try:
        await asyncio.wait_for(waiter, 5)
    except asyncio.TimeoutError:
        await ws.send("no pong")
        result(False, "no pong within 5 s")
        return
    await ws.send("pong received")
    await ws.wait_closed()
    result(True)


async def case_reset(ws):
    """Half a frame (header for 256 bytes, 10 sent), then a TCP reset."""
    ws.transport.write(b"\x81\x7e\x01\x00" + b"a" * 10)
    await asyncio.sleep(0.2)
    sock = ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.transport.abort()
    result(True)


async def refuse_403(path, headers):
    return http.HTTPStatus.FORBIDDEN, [("Content-Type", "text/plain")], b"no\n"


# ---- cases that need a raw TCP server (the library would not misbehave) ----

async def raw_handshake(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.decode("latin-1").split("\r\n"):
        if line.lower().startswith("sec-websocket-key:"):
            return line.split(":", 1)[1].strip()
    return ""


async def raw_bad_accept(reader, writer):
    key = await raw_handshake(reader)
    wrong = hashlib.sha1((key + "not the GUID").encode()).digest()
    import base64
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + base64.b64encode(wrong) +
                 b"\r\n\r\n")
    await writer.drain()
    await asyncio.sleep(2)
    writer.close()
    result(True)


async def raw_bad_frame(reader, writer):
    """A correct 101, then a frame with a reserved opcode: the client must
    fail the connection with a close frame (RFC 6455 7.1.7)."""
    import base64
    key = await raw_handshake(reader)
    accept = base64.b64encode(hashlib.sha1((key + websockets.utils.GUID).encode()).digest())
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
                 b"\x83\x01?")
    await writer.drain()
    try:
        first = await asyncio.wait_for(reader.readexactly(1), 5)
    except (asyncio.TimeoutError, asyncio.IncompleteReadError):
        first = b""
    writer.close()
    result(first == b"\x88", f"the client sent {first!r}, not a close frame")


async def raw_silent(reader, writer):
    await raw_handshake(reader)
    await asyncio.sleep(20)      # never answers; the client must give up first
    writer.close()


tunnels = []


async def proxy_client(reader, writer):
    """HTTP CONNECT to 127.0.0.1 only, then bytes both ways."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    method, target = head.split(" ")[:2]
    host, port = target.rsplit(":", 1)
    if method != "CONNECT" or host not in ("localhost", "127.0.0.1"):
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        writer.close()
        return
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(port))
    tunnels.append(target)
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

    async def pipe(r, w):
        try:
            while data := await r.read(65536):
                w.write(data)
                await w.drain()
        except ConnectionError:
            pass
        finally:
            w.close()
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


HANDLERS = {
    "echo": case_echo, "fragments": case_fragments, "big": case_big,
    "oversize": case_oversize, "close4001": case_close4001, "ping": case_ping,
    "reset": case_reset, "forbidden": case_echo,
}
RAW = {"bad_accept": raw_bad_accept, "silent": raw_silent, "bad_frame": raw_bad_frame}


async def main():
    global done
    case = sys.argv[1]
    tls = None
    if "--tls" in sys.argv:
        tls, ca = make_tls(sys.argv[sys.argv.index("--tls") + 1])
    done = asyncio.get_running_loop().create_future()
    if case in RAW:
        server = await asyncio.start_server(RAW[case], "127.0.0.1", 0, ssl=tls)
    else:
        server = await websockets.server.serve(
            HANDLERS[case], "127.0.0.1", 0, ssl=tls, max_size=1 << 20,
            ping_interval=None,
            process_request=refuse_403 if case == "forbidden" else None)
    say(f"port {server.sockets[0].getsockname()[1]}")
    if tls is not None:
        say(f"ca {ca}")
    if "--proxy" in sys.argv:
        proxy = await asyncio.start_server(proxy_client, "127.0.0.1", 0)
        say(f"proxy {proxy.sockets[0].getsockname()[1]}")
    try:
        await asyncio.wait_for(done, 30)
        await asyncio.sleep(0.3)
    except asyncio.TimeoutError:
        say("result fail: the case did not finish within 30 s")
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
