#!/usr/bin/env python3
# A webhook receiver for the tests, on loopback: every POST is appended to
# LOG as one JSON line {"path", "headers", "body", "status"}; what it
# answers depends on the path:
#   /ok              200
#   /fail/N/...      500 to the first N requests of that path, then 200
#   /silent          reads the request and never answers
# It writes the port it listens on to PORTFILE once it accepts.
#   hookrecv.py PORTFILE LOG
import http.server
import json
import os
import sys
import threading

portfile, logpath = sys.argv[1], sys.argv[2]
lock = threading.Lock()
counts = {}
silent = threading.Event()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n)
        parts = self.path.split("/")
        status = 200
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            seen = counts[self.path]
        if len(parts) > 2 and parts[1] == "fail" and seen <= int(parts[2]):
            status = 500
        if parts[1] == "silent":
            status = 0
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with lock, open(logpath, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "headers": dict(self.headers.items()),
                                "body": body, "status": status}) + "\n")
        if status == 0:
            silent.wait(120)    # until the test ends and kills us
            return
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
