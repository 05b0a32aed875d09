#!/usr/bin/env python3
"""kvlog through a chaosdrill client adapter (docs/adapters.md), standard library only.

chaosdrill starts one of these per workload client and speaks the adapter line protocol
to it over stdin/stdout; this program speaks kvlog's binary protocol to the node named by
CHAOSDRILL_NODE=ADDR:PORT (targets/kvlog/kvlog_proto.h: u32 little-endian length of what
follows | u8 type | body; replies in request order, pipelined).

    python3 adapter.py [--timeout-ms N]

Requests in:  ID ping | ID set KEY VALUE | ID read_all | ID connect ADDR:PORT
Replies out:  ID ok | ID fail TEXT | ID unknown TEXT | ID kv KEY VALUE ... ID ok COUNT

One thread, one selector over stdin and the node's socket; replies are gathered and
written once per turn of the loop, so a pipelined client is answered in batches. What
becomes of a request when things go wrong: never sent (no connection could be made) ->
fail; sent on a connection that then died, or no reply within 80% of the timeout ->
unknown (kvlog may have applied it).
"""
import errno
import os
import selectors
import socket
import struct
import sys
import time

SET, DUMP = 1, 3
OK, ERR, KV, END = 64, 67, 68, 69
HDR = struct.Struct("<IB")


def parse_node(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


class Node:
    """One TCP connection to a kvlog node, requests pipelined, replies in order."""

    def __init__(self, addr, sel):
        self.sel = sel
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.connected = False
        self.out = bytearray()
        self.inb = bytearray()
        self.pending = []  # [(id, kind, deadline)], oldest first; kind "set" or "all"
        self.head = 0
        self.kvs = []  # the read_all in progress: its kv lines
        err = self.sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            raise OSError(err, os.strerror(err))
        self.connected = err == 0
        sel.register(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, self)

    def close(self):
        self.sel.unregister(self.sock)
        self.sock.close()

    def want(self):
        ev = selectors.EVENT_READ
        if not self.connected or self.out:
            ev |= selectors.EVENT_WRITE
        self.sel.modify(self.sock, ev, self)

    def send(self, ident, kind, frame, deadline):
        self.pending.append((ident, kind, deadline))
        self.out += frame

    def flush(self):
        if not self.connected:
            err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                raise OSError(err, os.strerror(err))
            self.connected = True
        while self.out:
            try:
                n = self.sock.send(self.out)
            except BlockingIOError:
                return
            del self.out[:n]

    def receive(self, say):
        """Reads what is there; answers every whole reply through say. False on EOF."""
        try:
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return True
        if not data:
            return False
        self.inb += data
        buf, off = self.inb, 0
        while len(buf) - off >= 5:
            length, typ = HDR.unpack_from(buf, off)
            if len(buf) - off - 4 < length:
                break
            body = bytes(buf[off + 5:off + 4 + length])
            off += 4 + length
            self.reply(typ, body, say)
        del buf[:off]
        return True

    def reply(self, typ, body, say):
        if self.head >= len(self.pending):
            raise OSError(errno.EPROTO, "a reply with nothing in flight")
        ident, kind, _ = self.pending[self.head]
        if kind == "all" and typ == KV:
            klen = struct.unpack_from("<H", body)[0]
            key = body[2:2 + klen].decode("latin-1")
            val = body[2 + klen:].decode("latin-1")
            self.kvs.append("%s kv %s %s\n" % (ident, key, val))
            return
        self.head += 1
        if self.head > 1024:
            del self.pending[:self.head]
            self.head = 0
        if typ in (OK, END) and kind == "all":
            say("".join(self.kvs) + "%s ok %d\n" % (ident, len(self.kvs)))
            self.kvs = []
        elif typ == OK:
            say("%s ok\n" % ident)
        elif typ == ERR:
            code = struct.unpack_from("<H", body)[0] if len(body) >= 2 else 0
            text = body[2:].decode("latin-1").replace("\n", " ")
            say("%s fail kvlog error %d: %s\n" % (ident, code, text))
        else:
            raise OSError(errno.EPROTO, "unexpected reply type %d" % typ)

    def overdue(self, now):
        return self.head < len(self.pending) and self.pending[self.head][2] < now

    def abandon(self, why, say):
        """The connection is gone: what it had in flight is unknown (or failed if it
        never connected: nothing was sent)."""
        word = "unknown" if self.connected else "fail"
        for ident, _, _ in self.pending[self.head:]:
            say("%s %s %s\n" % (ident, word, why))
        self.pending, self.head, self.kvs = [], 0, []
        self.close()


class Adapter:
    def __init__(self, node, timeout_s):
        self.sel = selectors.DefaultSelector()
        self.node_addr = parse_node(node) if node else None
        self.node = None
        self.timeout = timeout_s * 0.8
        self.out = []
        self.inb = b""
        os.set_blocking(0, False)
        self.sel.register(0, selectors.EVENT_READ, None)

    def say(self, text):
        self.out.append(text)

    def conn(self):
        if self.node is None:
            if self.node_addr is None:
                raise OSError(errno.EDESTADDRREQ, "no node (CHAOSDRILL_NODE)")
            self.node = Node(self.node_addr, self.sel)
        return self.node

    def drop(self, why):
        if self.node is not None:
            self.node.abandon(why, self.say)
            self.node = None

    def request(self, line):
        parts = line.split(" ")
        ident = parts[0]
        verb = parts[1] if len(parts) > 1 else ""
        if verb == "ping" and len(parts) == 2:
            self.say("%s ok\n" % ident)
        elif verb == "connect" and len(parts) == 3:
            self.drop("moved to another node")
            self.node_addr = parse_node(parts[2])
            sys.stderr.write("adapter.py: now talking to %s\n" % parts[2])
            sys.stderr.flush()
            self.say("%s ok\n" % ident)
        elif verb == "set" and len(parts) == 4:
            key, val = parts[2].encode(), parts[3].encode()
            frame = HDR.pack(1 + 2 + len(key) + len(val), SET) + struct.pack("<H", len(key))
            self.send(ident, "set", frame + key + val)
        elif verb == "read_all" and len(parts) == 2:
            self.send(ident, "all", HDR.pack(1, DUMP))
        else:
            self.say("%s fail cannot parse %r\n" % (ident, line))

    def send(self, ident, kind, frame):
        try:
            self.conn().send(ident, kind, frame, time.monotonic() + self.timeout)
        except OSError as e:
            self.say("%s fail %s\n" % (ident, e.strerror or e))

    def read_stdin(self):
        try:
            data = os.read(0, 1 << 20)
        except BlockingIOError:
            return True
        if not data:
            return False
        lines = (self.inb + data).split(b"\n")
        self.inb = lines.pop()
        for raw in lines:
            self.request(raw.decode("latin-1").rstrip("\r"))
        return True

    def write_out(self):
        if not self.out:
            return
        data = "".join(self.out).encode("latin-1")
        self.out = []
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]

    def node_event(self, mask):
        node = self.node
        try:
            if mask & selectors.EVENT_WRITE:
                node.flush()
            if mask & selectors.EVENT_READ and not node.receive(self.say):
                raise OSError(errno.ECONNRESET, "the node closed the connection")
        except OSError as e:
            self.drop(e.strerror or str(e))

    def run(self):
        while True:
            if self.node is not None:
                try:
                    self.node.flush()
                except OSError as e:
                    self.drop(e.strerror or str(e))
            if self.node is not None:
                self.node.want()
            self.write_out()
            for key, mask in self.sel.select(0.05):
                if key.data is None:
                    if not self.read_stdin():
                        return
                elif key.data is self.node:
                    self.node_event(mask)
            if self.node is not None and self.node.overdue(time.monotonic()):
                self.drop("no reply from the node in time")


def main():
    timeout_ms = 1000
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--timeout-ms":
        timeout_ms = int(args[1])
    elif args:
        sys.exit("usage: adapter.py [--timeout-ms N]")
    Adapter(os.environ.get("CHAOSDRILL_NODE", ""), timeout_ms / 1000.0).run()


if __name__ == "__main__":
    main()
