#!/usr/bin/env python3
"""TLS terminator for capturing the SysAdm Qt client in clear text.

The Qt client only speaks wss://. This relay accepts its TLS connections on LISTEN and copies
the decrypted bytes, unchanged in both directions, to a plain ws:// server at UPSTREAM, so
`tcpdump -i lo` on UPSTREAM's port records the client's websocket frames as it wrote them.
When either side closes, the other is closed too (so a server restart is seen by the client).
SIGUSR1 cuts every open connection (a lost network, while the server keeps running).

usage: tls-relay.py LISTEN_PORT UPSTREAM_PORT CERT.pem KEY.pem [LISTEN_ADDRESS, default 127.0.0.1]
"""
import asyncio, signal, ssl, sys

listen_port, upstream_port, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
listen_addr = sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1"
open_conns = set()


async def pipe(reader, writer, tls):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        if tls:
            # Flush what is buffered, then drop the TCP connection at once: a TLS close would
            # wait up to 30 s for the client's close_notify, which is not what a dead server does.
            for _ in range(200):
                if writer.transport.get_write_buffer_size() == 0:
                    break
                await asyncio.sleep(0.01)
            writer.transport.abort()
        else:
            writer.close()


async def handle(c_reader, c_writer):
    try:
        u_reader, u_writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", upstream_port), 5)
    except (OSError, asyncio.TimeoutError) as e:
        print(f"relay: upstream refused: {e}", flush=True)
        c_writer.close()
        return
    print("relay: connection opened", flush=True)
    pair = (c_writer, u_writer)
    open_conns.add(pair)
    await asyncio.gather(pipe(c_reader, u_writer, False), pipe(u_reader, c_writer, True))
    open_conns.discard(pair)
    print("relay: connection closed", flush=True)


def cut():
    print(f"relay: SIGUSR1, cutting {len(open_conns)} connection(s)", flush=True)
    for c, u in list(open_conns):
        c.transport.abort()
        u.transport.abort()


async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = await asyncio.start_server(handle, listen_addr, listen_port, ssl=ctx)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, cut)
    print(f"relay: wss on {listen_addr}:{listen_port} -> ws on 127.0.0.1:{upstream_port}", flush=True)
    async with srv:
        await srv.serve_forever()

asyncio.run(main())
