#!/usr/bin/env python3
"""etcd 3.4 through a chaosdrill client adapter (docs/adapters.md), standard library only.

chaosdrill starts one of these per workload client and speaks the adapter line protocol
to it over stdin/stdout; this program speaks etcd's v3 HTTP/JSON gateway (the grpc-gateway
every etcd 3.4 member serves on its client port: POST /v3/kv/put and /v3/kv/range, keys
and values base64) on keep-alive HTTP/1.1 connections.

    python3 adapter.py [--timeout-ms N] [--nodes n1=ADDR:PORT,n2=ADDR:PORT,...]

It starts with the member named by CHAOSDRILL_NODE and fails over to the next member of
--nodes (the cluster, in drill order) as a client library with several endpoints does: on a
connection refused, reset or cut, on a timeout, and on an error answer from the member (no
leader, leader changed, request timed out). So the RTO of a leader kill is the election plus
this failover, not a client that waits for a dead member to come back.

What becomes of a put: refused before anything was sent (every member refused the
connection within the time allowed) -> fail; sent, then the connection died, no answer
within 70% of the timeout, or an error answer (etcd may have proposed it) -> unknown;
HTTP 200 with a header -> ok (etcd answers a put only once raft committed and applied it).

Requests are pipelined by the harness; WORKERS threads each hold one connection and take
the next put from a queue, so up to WORKERS puts are in flight per adapter (etcd batches
concurrent proposals into one raft entry and one fsync).

read_all: one linearizable range (serializable=false) over every key, from the first
member that answers.
"""
import base64
import http.client
import json
import os
import queue
import socket
import sys
import threading
import time

WORKERS = 8


def log(msg):
    sys.stderr.write("adapter.py: %s\n" % msg)
    sys.stderr.flush()


def b64(s):
    return base64.b64encode(s.encode()).decode()


class Cluster:
    """The members, in order, and the one clients talk to now (shared by the workers)."""

    def __init__(self, first, members):
        self.lock = threading.Lock()
        self.members = list(members) if members else [first]
        if first not in self.members:
            self.members.insert(0, first)
        self.cur = self.members.index(first)
        self.gen = 0  # bumps on every move: a worker moves only off the member it used

    def current(self):
        with self.lock:
            return self.members[self.cur], self.gen

    def failed(self, gen, why):
        with self.lock:
            if gen == self.gen:
                old = self.members[self.cur]
                self.cur = (self.cur + 1) % len(self.members)
                self.gen += 1
                log("%s: %s; now talking to %s" % (old, why, self.members[self.cur]))

    def connect(self, member):
        with self.lock:
            if member not in self.members:
                self.members.append(member)
            self.cur = self.members.index(member)
            self.gen += 1
        log("now talking to %s" % member)


class Refused(Exception):
    pass


class Conn:
    """One keep-alive HTTP connection to one member."""

    def __init__(self):
        self.member = None
        self.gen = -1
        self.http = None

    def close(self):
        if self.http:
            self.http.close()
        self.http = None

    def post(self, cluster, path, body, deadline):
        """(status, json) from the current member. Raises Refused when no connection
        could be made before the deadline (nothing was sent), OSError/HTTPException when
        it broke after sending, socket.timeout at the deadline."""
        while True:
            member, gen = cluster.current()
            if member != self.member or gen != self.gen or self.http is None:
                self.close()
                host, _, port = member.rpartition(":")
                self.member, self.gen = member, gen
                self.http = http.client.HTTPConnection(host, int(port))
            left = deadline - time.monotonic()
            if left <= 0:
                raise Refused("no member accepted a connection in time")
            if self.http.sock is None:
                try:
                    self.http.timeout = left
                    self.http.connect()
                    self.http.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                except OSError as e:  # refused, unreachable, connect timeout: never sent
                    self.close()
                    cluster.failed(gen, "connect: %s" % (e.strerror or e))
                    if time.monotonic() >= deadline:
                        raise Refused(e.strerror or str(e))
                    time.sleep(0.005)
                    continue
            self.http.sock.settimeout(left)
            try:
                self.http.request("POST", path, body, {"Content-Type": "application/json"})
                resp = self.http.getresponse()
                data = resp.read()
                return resp.status, json.loads(data or b"{}")
            except Exception:
                self.close()
                cluster.failed(gen, "request cut off or timed out")
                raise


class Adapter:
    def __init__(self, timeout_ms, members):
        self.budget = timeout_ms * 0.7 / 1000.0
        first = os.environ.get("CHAOSDRILL_NODE", members[0] if members else "127.0.0.1:2379")
        self.cluster = Cluster(first, members)
        self.out_lock = threading.Lock()
        self.q = queue.Queue()
        for _ in range(WORKERS):
            threading.Thread(target=self.worker, daemon=True).start()

    def reply(self, text):
        with self.out_lock:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

    def worker(self):
        conn = Conn()
        while True:
            rid, key, value, deadline = self.q.get()
            self.reply(self.put(conn, rid, key, value, deadline))

    def put(self, conn, rid, key, value, deadline):
        # the deadline runs from the request's arrival: a put that waited for a worker
        # longer than that was never sent, and is refused
        if time.monotonic() >= deadline:
            return "%s fail not sent: waited %dms for a connection" % (rid, self.budget * 1000)
        body = json.dumps({"key": b64(key), "value": b64(value)})
        try:
            status, j = conn.post(self.cluster, "/v3/kv/put", body, deadline)
        except Refused as e:
            return "%s fail %s" % (rid, e)
        except socket.timeout:
            return "%s unknown no answer in time" % rid
        except Exception as e:
            return "%s unknown %s" % (rid, (str(e) or type(e).__name__).replace("\n", " "))
        if status == 200 and "header" in j:
            return "%s ok" % rid
        conn.close()
        self.cluster.failed(conn.gen, "put answered %d %s" % (status, j.get("error", "")))
        return "%s unknown HTTP %d %s" % (rid, status, str(j.get("error", "")).replace("\n", " "))

    def read_all(self, rid):
        conn = Conn()
        # the final read may take longer than a put: a few rounds over the members
        deadline = time.monotonic() + max(10.0, self.budget * 4)
        body = json.dumps({"key": b64("\0"), "range_end": b64("\0"), "serializable": False})
        while time.monotonic() < deadline:
            try:
                status, j = conn.post(self.cluster, "/v3/kv/range", body, deadline)
            except Exception as e:
                log("read_all: %s" % e)
                continue
            if status != 200:
                conn.close()
                self.cluster.failed(conn.gen, "range answered %d %s" % (status, j.get("error", "")))
                continue
            kvs = j.get("kvs", [])
            lines = ["%s kv %s %s" % (rid, base64.b64decode(kv["key"]).decode(),
                                      base64.b64decode(kv.get("value", "")).decode())
                     for kv in kvs]
            lines.append("%s ok %d" % (rid, len(kvs)))
            self.reply("\n".join(lines))
            return
        self.reply("%s fail no member answered the range" % rid)

    def serve(self):
        for line in sys.stdin:
            parts = line.rstrip("\r\n").split(" ")
            rid, op = parts[0], parts[1] if len(parts) > 1 else ""
            if op == "ping":
                self.reply("%s ok" % rid)
            elif op == "set" and len(parts) == 4:
                self.q.put((rid, parts[2], parts[3], time.monotonic() + self.budget))
            elif op == "read_all":
                self.read_all(rid)
            elif op == "connect" and len(parts) == 3:
                self.cluster.connect(parts[2])
                self.reply("%s ok" % rid)
            else:
                self.reply("%s fail bad request" % rid)


def main():
    timeout_ms, members = 500, []
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--timeout-ms":
            timeout_ms = int(args.pop(0))
        elif a == "--nodes":
            members = [m.partition("=")[2] for m in args.pop(0).split(",") if m]
        else:
            sys.exit("usage: adapter.py [--timeout-ms N] [--nodes n1=ADDR:PORT,...]")
    Adapter(timeout_ms, members).serve()


if __name__ == "__main__":
    main()
