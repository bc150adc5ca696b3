"""A minimal Docker Engine API client over the unix socket, for the bench:
polling container health, the raw-call floor, and sweeping what the bench
made. Standard library only, one short connection per call."""
import http.client
import json
import socket
import urllib.parse


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("engine", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


class EngineError(Exception):
    pass


class Engine:
    def __init__(self, path="/var/run/docker.sock", version="v1.41"):
        self.path = path
        self.prefix = "/" + version

    def call(self, method, url, body=None, query=None, timeout=60,
             ok=(200, 201, 204, 304)):
        if query:
            url += "?" + urllib.parse.urlencode(query)
        conn = _UnixConnection(self.path, timeout)
        try:
            hdrs = {}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                hdrs["Content-Type"] = "application/json"
            conn.request(method, self.prefix + url, data, hdrs)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        if r.status not in ok:
            raise EngineError("%s %s: %d %s" % (method, url, r.status,
                              raw.decode(errors="replace").strip()))
        ctype = r.getheader("Content-Type", "")
        if raw and ctype.startswith("application/json"):
            return r.status, json.loads(raw)
        return r.status, raw

    # -- containers ---------------------------------------------------

    def containers(self, label, all=True):
        """Containers whose labels match label ("key=value" or "key")."""
        q = {"all": "1" if all else "0",
             "filters": json.dumps({"label": [label]})}
        return self.call("GET", "/containers/json", query=q)[1]

    def health(self, cid):
        """'healthy', 'starting', 'unhealthy', 'none' or the state if the
        container is not running."""
        st = self.call("GET", "/containers/%s/json" % cid)[1]["State"]
        if not st.get("Running"):
            return st.get("Status", "gone")
        return (st.get("Health") or {}).get("Status", "none")

    def create(self, name, body):
        q = {"name": name}
        return self.call("POST", "/containers/create", body, q)[1]["Id"]

    def start(self, cid):
        self.call("POST", "/containers/%s/start" % cid)

    def remove(self, cid):
        self.call("DELETE", "/containers/%s" % cid,
                  query={"force": "1", "v": "1"}, ok=(204, 404))

    def exec_ok(self, cid, argv, timeout=5):
        """Run argv in the container, wait for it, and say whether it
        exited 0. The start call streams until the process ends."""
        body = {"Cmd": argv, "AttachStdout": True, "AttachStderr": True}
        eid = self.call("POST", "/containers/%s/exec" % cid, body)[1]["Id"]
        self.call("POST", "/exec/%s/start" % eid,
                  {"Detach": False, "Tty": False}, timeout=timeout)
        info = self.call("GET", "/exec/%s/json" % eid)[1]
        return not info.get("Running") and info.get("ExitCode") == 0

    # -- networks and volumes -----------------------------------------

    def network_create(self, name, labels):
        body = {"Name": name, "CheckDuplicate": True, "Labels": labels}
        return self.call("POST", "/networks/create", body)[1]["Id"]

    def networks(self, label):
        q = {"filters": json.dumps({"label": [label]})}
        return self.call("GET", "/networks", query=q)[1]

    def network_remove(self, nid):
        self.call("DELETE", "/networks/%s" % nid, ok=(204, 404))

    def volumes(self, label):
        q = {"filters": json.dumps({"label": [label]})}
        return self.call("GET", "/volumes", query=q)[1].get("Volumes") or []

    def volume_remove(self, name):
        self.call("DELETE", "/volumes/%s" % name, query={"force": "1"},
                  ok=(204, 404))

    def image_present(self, ref):
        st, _ = self.call("GET", "/images/%s/json" % ref, ok=(200, 404))
        return st == 200

    def sweep(self, label, problems):
        """Remove every container, network and volume carrying label;
        return how many went. What the engine refuses to remove (a network
        it still counts endpoints on, say) is added to problems and the
        sweep goes on."""
        n = 0
        for kind, items, rm in (
                ("container", lambda: self.containers(label), self.remove),
                ("network", lambda: self.networks(label),
                 self.network_remove),
                ("volume", lambda: self.volumes(label), self.volume_remove)):
            for it in items():
                key = it.get("Id") or it.get("Name")
                try:
                    rm(key)
                    n += 1
                except EngineError as e:
                    problems.append("%s %s: %s" % (kind, it.get("Name") or
                                    it.get("Names", ["?"])[0], e))
        return n
