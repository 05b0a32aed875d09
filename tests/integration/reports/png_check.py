#!/usr/bin/env python3
"""Checks a screenshot: a valid PNG (signature, chunk CRCs, IHDR, image data that
decompresses to exactly its size) of the expected width and height, and not blank: its
top ROWS rows are decoded (PNG filters undone) and must hold more than a few colours and
a share of pixels that are not the background.
Usage: png_check.py FILE WIDTH HEIGHT [ROWS]; prints what it found, exits 0 or 1."""
import struct
import sys
import zlib


def fail(msg):
    print("png_check: " + msg)
    sys.exit(1)


def chunks(data):
    pos = 8
    while pos < len(data):
        if pos + 8 > len(data):
            fail("truncated chunk header at byte %d" % pos)
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(body) != length or len(crc) != 4:
            fail("truncated %r chunk" % kind)
        if struct.unpack(">I", crc)[0] != zlib.crc32(kind + body) & 0xffffffff:
            fail("bad CRC in the %r chunk" % kind)
        yield kind, body
        pos += 12 + length


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def unfilter(raw, width, bpp, rows):
    stride = width * bpp
    prev = bytearray(stride)
    out = []
    for y in range(rows):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xff
        elif f == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif f == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                ul = prev[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + paeth(left, prev[i], ul)) & 0xff
        elif f != 0:
            fail("unknown filter %d in row %d" % (f, y))
        out.append(bytes(line))
        prev = line
    return out


def main():
    if len(sys.argv) < 4:
        fail("usage: png_check.py FILE WIDTH HEIGHT [ROWS]")
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rows = int(sys.argv[4]) if len(sys.argv) > 4 else 900
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG (signature)" % path)
    ihdr, idat, end = None, b"", False
    for kind, body in chunks(data):
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            end = True
    if not ihdr or not end:
        fail("no IHDR or no IEND chunk")
    w, h, depth, color, _, _, interlace = ihdr
    if (w, h) != (want_w, want_h):
        fail("the image is %dx%d, not %dx%d" % (w, h, want_w, want_h))
    if depth != 8 or color not in (2, 6) or interlace:
        fail("unexpected format: depth %d, colour type %d, interlace %d" % (depth, color, interlace))
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    if len(raw) != h * (w * bpp + 1):
        fail("image data is %d bytes, %d expected" % (len(raw), h * (w * bpp + 1)))
    rows = min(rows, h)
    lines = unfilter(raw, w, bpp, rows)
    colors, other = set(), 0
    background = lines[0][:3]
    for line in lines:
        for x in range(0, w * bpp, bpp):
            px = line[x:x + 3]
            colors.add(px)
            other += px != background
    share = other / float(w * rows)
    print("png_check: %s: %dx%d PNG, %d bytes; top %d rows: %d colours, %.1f%% not background"
          % (path, w, h, len(data), rows, len(colors), 100 * share))
    if len(colors) < 8 or share < 0.01:
        fail("the image is blank")


main()
