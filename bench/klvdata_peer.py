#!/usr/bin/env python3
"""The speed peer of bench/ts-klv-throughput.sh: paretech/klvdata (pure Python, MIT) decoding KLV packets.

    /usr/bin/python3 bench/klvdata_peer.py PACKETS_FILE SECONDS [KLVDATA_DIR]

PACKETS_FILE holds KLV packets back to back (KlvBench extract writes the packets of a .ts clip that way, so both
decoders see the same bytes). Each packet is parsed on its own with klvdata.StreamParser, which decodes every item
of the sets it knows (ST 0601, its ST 0102 security set, EG 0104) when the packet is read; the packets are parsed
over and over for SECONDS of this process's CPU time. Prints one line of name=value pairs:
    packets=N klvdata=PACKETS_PER_CPU_SECOND klvdata_wall=PACKETS_PER_WALL_SECOND errors=E error=FIRST_ERROR
A packet klvdata raises on (it reads ST 0601 tags as one byte, so tags above 127 desynchronise it) counts as
parsed, with the time it took until the error; errors says how many of the N packets do that.
"""
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
path, seconds = sys.argv[1], float(sys.argv[2])
peer = sys.argv[3] if len(sys.argv) > 3 else os.path.join(here, "..", "..", "shared", "peers", "klvdata")
sys.path.insert(0, peer)
import klvdata  # noqa: E402  (after the path is set)


def split(data):
    """Packets of a back-to-back file: 16-byte key, BER length, value."""
    packets, pos = [], 0
    while pos + 17 <= len(data):
        first = data[pos + 16]
        if first < 0x80:
            length, header = first, 17
        else:
            n = first & 0x7F
            length, header = int.from_bytes(data[pos + 17:pos + 17 + n], "big"), 17 + n
        packets.append(data[pos:pos + header + length])
        pos += header + length
    return packets


def decode(packet):
    """Parses one packet; returns the exception text klvdata raised, or None."""
    try:
        for element in klvdata.StreamParser(packet):
            pass
        return None
    except Exception as e:  # the peer's own failures are reported, not fatal
        return f"{type(e).__name__}: {e}"


packets = split(open(path, "rb").read())
if not packets:
    sys.exit(f"{path}: no KLV packets")
failures = [decode(p) for p in packets]  # warm-up pass, and which packets klvdata fails on
errors = [f for f in failures if f is not None]

count = 0
cpu0, wall0 = time.process_time(), time.perf_counter()
while time.process_time() - cpu0 < seconds:
    for p in packets:
        decode(p)
    count += len(packets)
cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
first_error = errors[0].replace(" ", "_") if errors else "-"
print(f"packets={len(packets)} klvdata={count / cpu:.0f} klvdata_wall={count / wall:.0f} errors={len(errors)} error={first_error}")
