#!/usr/bin/env python3
"""The other end of autobahn/interop.sh: Python's `websockets`, a
permessage-deflate implementation no one here wrote.

    interop.py client URL     connect to our echo server once per deflate
                              configuration below, send messages, check the
                              echoes and that permessage-deflate was agreed
    interop.py server         run echo servers on free ports, one per server
                              configuration below; print "NAME PORT" lines,
                              then "ready", and serve until killed

Exit status of `client`: 0 when every configuration passed, 1 otherwise.
"""
import random
import sys
import threading

from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.sync.client import connect
from websockets.sync.server import serve

# What the Python client offers: (name, factory keyword arguments, how many
# of the echoes our server should compress).
CLIENT_OFFERS = [
    ("websockets default offer", None, 8),
    ("no context takeover both ways",
     dict(server_no_context_takeover=True, client_no_context_takeover=True), 8),
    ("server_max_window_bits=10, client_max_window_bits=9",
     dict(server_max_window_bits=10, client_max_window_bits=9), 8),
    ("server_max_window_bits=9 without client_max_window_bits",
     dict(server_max_window_bits=9, client_max_window_bits=None), 8),
    ("server_max_window_bits=15, client_max_window_bits=15",
     dict(server_max_window_bits=15, client_max_window_bits=15), 8),
    # zlib cannot compress with 256 bytes of window: our end accepts and
    # sends uncompressed, while the Python end still compresses.
    ("server_max_window_bits=8", dict(server_max_window_bits=8), 0),
]

# What the Python servers accept with: (name, factory keyword arguments).
SERVER_CONFIGS = [
    ("websockets default server", None),
    ("no context takeover, 10/9 bits",
     dict(server_no_context_takeover=True, client_no_context_takeover=True,
          server_max_window_bits=10, client_max_window_bits=9)),
]


def text(n, seed):
    rng = random.Random(seed)
    words = ['{"user": ', '"ana", ', '"text": ', '"hello ', 'world", ', '"n": 17} ', "κόσμε ", "\n"]
    out = []
    size = 0
    while size < n:
        w = rng.choice(words)
        out.append(w)
        size += len(w.encode())
    return "".join(out)


def messages():
    rng = random.Random(99)
    out = [text(n, i) for i, n in enumerate([0, 1, 63, 64, 100, 1000, 20000, 300000])]
    out.append(out[-2])  # the same again: context takeover makes it cheap
    out.append(bytes(rng.getrandbits(8) for _ in range(5000)))
    out.append(bytes(1 << 20))
    out.append(text(70000, 8).encode())
    return out


def deflate_in_use(ws):
    return [e for e in ws.protocol.extensions if isinstance(e, PerMessageDeflate)]


def count_compressed(ws):
    """Counts the frames that arrive with RSV1 set (compressed by our end)."""
    seen = {"compressed": 0}
    for ext in deflate_in_use(ws):
        decode = ext.decode

        def counting(frame, *args, _decode=decode, **kwargs):
            if frame.rsv1:
                seen["compressed"] += 1
            return _decode(frame, *args, **kwargs)

        ext.decode = counting
    return seen


def run_client(url):
    failures = 0
    for name, kwargs, compressed in CLIENT_OFFERS:
        if kwargs is None:
            options = dict(compression="deflate")
        else:
            options = dict(compression=None, extensions=[ClientPerMessageDeflateFactory(**kwargs)])
        try:
            with connect(url, max_size=None, open_timeout=10, **options) as ws:
                agreed = ws.response.headers.get("Sec-WebSocket-Extensions")
                seen = count_compressed(ws)
                matched = 0
                msgs = messages()
                for msg in msgs:
                    ws.send(msg)
                    if ws.recv(timeout=30) == msg:
                        matched += 1
                # Our end compresses what is at least 64 bytes and shrinks.
                ok = (bool(deflate_in_use(ws)) and matched == len(msgs)
                      and seen["compressed"] == compressed)
                ws.close()
            print("interop.py client: %s: %s: agreed %r, %d of %d echoes matched, %d came compressed"
                  % ("PASS" if ok else "FAIL", name, agreed, matched, len(msgs), seen["compressed"]))
        except Exception as exc:  # report and go on with the next offer
            ok = False
            print("interop.py client: FAIL: %s: %r" % (name, exc))
        failures += not ok
    return 1 if failures else 0


def echo(ws):
    for msg in ws:
        ws.send(msg)


def run_servers():
    servers = []
    for name, kwargs in SERVER_CONFIGS:
        if kwargs is None:
            options = dict(compression="deflate")
        else:
            options = dict(compression=None, extensions=[ServerPerMessageDeflateFactory(**kwargs)])
        server = serve(echo, "127.0.0.1", 0, max_size=None, **options)
        servers.append(server)
        print("%s\t%d" % (name, server.socket.getsockname()[1]), flush=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "client":
        sys.exit(run_client(sys.argv[2]))
    if len(sys.argv) == 2 and sys.argv[1] == "server":
        run_servers()
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
