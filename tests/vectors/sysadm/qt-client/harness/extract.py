#!/usr/bin/env python3
"""Websocket transcript from a pcap of plain ws:// traffic on loopback.

Reassembles every TCP connection to PORT (IPv4), splits off the HTTP upgrade, and parses the
websocket frames of both directions with the `websockets` package's own frame parser
(client frames must be masked, server frames must not). Writes to OUTDIR:

  transcript.txt   one line per frame, in capture order:
                   <seconds since first SYN> <connection #> <dir> <kind> <payload>
                   dir: `>` client to server, `<` server to client
                   kind text: payload is the frame's UTF-8 text, byte for byte (it never holds LF)
                   kind close: `<code> <reason>`; other opcodes: payload as hex
  client.jsonl     the client's text messages, one per line, byte for byte
  server.jsonl     the server's text messages, one per line, byte for byte
  handshake-<n>-client.txt / handshake-<n>-server.txt   the HTTP upgrade of connection n

usage: extract.py CAPTURE.pcap PORT OUTDIR
"""
import os, struct, sys
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

pcap_path, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def packets(path):
    data = open(path, "rb").read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        endian, tsdiv = "<", 1e6
    elif magic == b"\xa1\xb2\xc3\xd4":
        endian, tsdiv = ">", 1e6
    elif magic == b"\x4d\x3c\xb2\xa1":
        endian, tsdiv = "<", 1e9
    else:
        sys.exit(f"{path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        if incl != orig:
            sys.exit(f"{path}: truncated packet at offset {off} (snaplen too small)")
        yield sec + frac / tsdiv, linktype, data[off + 16:off + 16 + incl]
        off += 16 + incl


def tcp_segments(path):
    for index, (ts, linktype, pkt) in enumerate(packets(path)):
        if linktype == 1:       # Ethernet
            ethertype, ip = struct.unpack("!H", pkt[12:14])[0], pkt[14:]
        elif linktype == 113:   # Linux cooked
            ethertype, ip = struct.unpack("!H", pkt[14:16])[0], pkt[16:]
        else:
            sys.exit(f"unsupported link type {linktype}")
        if ethertype != 0x0800 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        flags = tcp[13]
        doff = (tcp[12] >> 4) * 4
        yield index, ts, sport, dport, seq, flags, tcp[doff:]


class Direction:
    def __init__(self):
        self.isn = None
        self.segs = []          # (seq offset, packet index, ts, data)

    def stream(self):
        """Bytes in order, and for each byte range the packet index and time it arrived."""
        out, marks, nxt = bytearray(), [], 0
        for rel, index, ts, data in sorted(self.segs, key=lambda s: (s[0], s[1])):
            if rel + len(data) <= nxt:
                continue        # retransmission
            if rel > nxt:
                sys.exit(f"gap in TCP stream at offset {nxt}")
            data = data[nxt - rel:]
            out += data
            nxt += len(data)
            marks.append((nxt, index, ts))
        return bytes(out), marks


conns = {}                      # client port -> (order, c2s, s2c)
t0 = None
for index, ts, sport, dport, seq, flags, payload in tcp_segments(pcap_path):
    if port not in (sport, dport):
        continue
    cport = sport if dport == port else dport
    if cport not in conns:
        if not (flags & 0x02 and dport == port):
            continue            # connection began before the capture
        conns[cport] = (len(conns) + 1, Direction(), Direction())
        t0 = ts if t0 is None else t0
    _, c2s, s2c = conns[cport]
    d = c2s if dport == port else s2c
    if flags & 0x02:            # SYN
        d.isn = seq + 1
        continue
    if payload and d.isn is not None:
        d.segs.append(((seq - d.isn) % 2**32, index, ts, payload))

os.makedirs(outdir, exist_ok=True)
lines = []                      # (packet index, line)
client_msgs, server_msgs = [], []
for cport, (n, c2s, s2c) in sorted(conns.items(), key=lambda kv: kv[1][0]):
    for d, arrow, mask, who, msgs in ((c2s, ">", True, "client", client_msgs),
                                      (s2c, "<", False, "server", server_msgs)):
        data, marks = d.stream()
        head, sep, rest = data.partition(b"\r\n\r\n")
        if not sep:
            sys.exit(f"connection {n}: no HTTP upgrade from the {who}")
        open(os.path.join(outdir, f"handshake-{n}-{who}.txt"), "wb").write(head + sep)
        off = len(head) + len(sep)
        while off < len(data):
            # Length of this frame from its header, then parse exactly that with websockets.
            b1 = data[off + 1]
            ln, hl = b1 & 0x7F, 2
            if ln == 126:
                ln, hl = struct.unpack("!H", data[off + 2:off + 4])[0], 4
            elif ln == 127:
                ln, hl = struct.unpack("!Q", data[off + 2:off + 10])[0], 10
            end = off + hl + (4 if b1 & 0x80 else 0) + ln
            if end > len(data):
                sys.exit(f"connection {n}: {who} stream ends inside a frame")
            reader = StreamReader()
            reader.feed_data(data[off:end])
            reader.feed_eof()
            parser = Frame.parse(reader.read_exact, mask=mask)
            try:
                next(parser)
                sys.exit("frame parser wanted more bytes")
            except StopIteration as stop:
                frame = stop.value
            index, ts = next((i, t) for e, i, t in marks if e >= end)
            if frame.opcode == Opcode.TEXT:
                if not frame.fin:
                    sys.exit("fragmented text frame: not handled")
                text = bytes(frame.data)
                if b"\n" in text or b"\r" in text:
                    sys.exit(f"connection {n}: text frame with a line break")
                text.decode("utf-8")
                msgs.append(text)
                body = "text " + text.decode("utf-8")
            elif frame.opcode == Opcode.CLOSE:
                code = struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else ""
                body = f"close {code} {bytes(frame.data[2:]).decode('utf-8')}".rstrip()
            else:
                body = f"{frame.opcode.name.lower()} {bytes(frame.data).hex()}".rstrip()
            lines.append((index, f"{ts - t0:.3f} {n} {arrow} {body}"))
            off = end

lines.sort(key=lambda entry: entry[0])  # stable: frames of one packet keep stream order
with open(os.path.join(outdir, "transcript.txt"), "w", encoding="utf-8") as f:
    f.writelines(line + "\n" for _, line in lines)
for name, msgs in (("client.jsonl", client_msgs), ("server.jsonl", server_msgs)):
    with open(os.path.join(outdir, name), "wb") as f:
        f.writelines(m + b"\n" for m in msgs)
print(f"{len(conns)} connection(s), {len(client_msgs)} client and {len(server_msgs)} server text messages")
