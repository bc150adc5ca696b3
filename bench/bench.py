#!/usr/bin/env python3
"""Side-by-side benchmark: the stacks of bench/stacks.py brought up, scaled
and taken down by docker-compose and by shipd (with and without its startup
probing), next to the engine's own floor measured with raw API calls.
bench/run.sh sets the scene and runs this; bench/README.md explains it."""
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stacks  # noqa: E402
from engine import Engine, EngineError  # noqa: E402

RUNS = 1 if os.environ.get("BENCH_QUICK") == "1" else \
    max(1, int(os.environ.get("BENCH_RUNS", "5")))
MODES = [m for m in os.environ.get(
    "BENCH_MODES", "compose,shipd,noprobe").split(",") if m]
STACKS = [s for s in os.environ.get(
    "BENCH_STACKS", ",".join(stacks.STACKS)).split(",") if s]
SHIPD = os.environ.get("SHIPD", "build/shipd")
SHIPCTL = os.environ.get("SHIPCTL", "build/shipctl")
COMPOSE = os.environ.get("COMPOSE", "docker-compose")
DOCKER_SOCK = os.environ.get("DOCKER_SOCK", "/var/run/docker.sock")
DOCKER_PIDFILE = os.environ.get("DOCKER_PIDFILE", "/var/run/docker.pid")
OUT = os.environ.get("BENCH_OUT", "build/bench")
STATUS_RUNS = 50
POLL = 0.05             # seconds between engine polls
UP_DEADLINE = 180
DOWN_DEADLINE = 90
FLOOR_LABEL = "io.shipd.bench=floor"
FLOOR_NET = stacks.PREFIX + "-floor"

eng = Engine(DOCKER_SOCK)
now = time.perf_counter


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def label_of(mode, proj):
    if mode == "compose":
        return "com.docker.compose.project=" + proj
    return "io.shipd.stack=" + proj


# -- waiting on the engine ----------------------------------------------

def wait_healthy(label, want, deadline):
    """Poll until exactly want running containers carry label and every one
    reports healthy. A container once seen healthy is not asked again."""
    seen = set()
    end = now() + deadline
    while True:
        running = eng.containers(label, all=False)
        if len(running) == want:
            for c in running:
                if c["Id"] not in seen and eng.health(c["Id"]) == "healthy":
                    seen.add(c["Id"])
            if all(c["Id"] in seen for c in running):
                return now()
        if now() > end:
            states = {c["Names"][0]: eng.health(c["Id"]) for c in running}
            raise BenchError("%s: wanted %d healthy containers within %ds, "
                             "have %s" % (label, want, deadline, states))
        time.sleep(POLL)


def wait_count(label, want, deadline, all=False):
    end = now() + deadline
    while True:
        cs = eng.containers(label, all=all)
        if len(cs) == want:
            return now()
        if now() > end:
            raise BenchError("%s: wanted %d containers within %ds, have %d"
                             % (label, want, deadline, len(cs)))
        time.sleep(POLL)


# -- running the tools ----------------------------------------------------

class Runner:
    """Runs one tool's commands, logging their output to one file."""

    def __init__(self, logpath):
        self.logf = open(logpath, "w")

    def run(self, argv, what, check=True):
        self.logf.write("\n$ %s\n" % " ".join(argv))
        self.logf.flush()
        t0 = now()
        p = subprocess.run(argv, stdout=self.logf, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL)
        t1 = now()
        if p.returncode != 0 and not check:
            self.logf.flush()
            log("bench: warning: %s exited %d (see %s)" % (
                what, p.returncode, self.logf.name))
        elif p.returncode != 0:
            self.logf.flush()
            raise BenchError("%s failed (exit %d): %s\n  see %s" % (
                what, p.returncode, " ".join(argv), self.logf.name))
        return t0, t1


class Shipd:
    def __init__(self, tmp, runner):
        self.sock = os.path.join(tmp, "shipd.sock")
        self.state = os.path.join(tmp, "state")
        self.logpath = os.path.join(OUT, "shipd.log")
        self.runner = runner
        self.proc = None

    def ctl(self, *args):
        return [SHIPCTL, "-s", self.sock] + list(args)

    def start(self):
        for b in (SHIPD, SHIPCTL):
            if not os.access(b, os.X_OK):
                raise BenchError("%s is missing: run make first (or set "
                                 "BENCH_MODES=compose)" % b)
        logf = open(self.logpath, "w")
        self.proc = subprocess.Popen(
            [SHIPD, "-s", self.sock, "--state-dir", self.state,
             "--engine", DOCKER_SOCK],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        end = now() + 15
        while True:
            if self.proc.poll() is not None:
                raise BenchError("shipd exited with %d at start; see %s" %
                                 (self.proc.returncode, self.logpath))
            if subprocess.run(self.ctl("version"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0:
                return
            if now() > end:
                raise BenchError("shipd did not answer on %s within 15 s; "
                                 "see %s" % (self.sock, self.logpath))
            time.sleep(POLL)

    def mem(self, key):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])   # kB
        return 0

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            log("bench: shipd did not stop on SIGTERM within 15 s; killing")
            self.proc.kill()
            self.proc.wait()


# -- one tool, one stack ------------------------------------------------

class Tool:
    """Up, scale and down of one stack in one mode, each timed from the
    command's start until the engine confirms the result."""

    def __init__(self, mode, stack, path, shipd, runner):
        self.mode, self.stack, self.path = mode, stack, path
        self.proj = stacks.name(stack, mode)
        self.label = label_of(mode, self.proj)
        self.shipd, self.runner = shipd, runner

    def _compose(self, *args):
        return [COMPOSE, "--ansi", "never", "-p", self.proj,
                "-f", self.path] + list(args)

    def up(self):
        if self.mode == "compose":
            argv = self._compose("up", "-d")
        else:
            argv = self.shipd.ctl("deploy", self.path)
        return self._timed_up(argv, stacks.containers(self.stack), "up")

    def scale(self, n):
        svc = stacks.STACKS[self.stack]["scale"][0]
        if self.mode == "compose":
            argv = self._compose("up", "-d", "--scale", "%s=%d" % (svc, n))
        else:
            argv = self.shipd.ctl("scale", "--stack", self.proj,
                                  "%s=%d" % (svc, n))
        return self._timed_up(argv, n, "scale %s=%d" % (svc, n))

    def _timed_up(self, argv, want, what):
        t0, t1 = self.runner.run(argv, "%s %s of %s" % (self.mode, what,
                                                          self.proj))
        t2 = wait_healthy(self.label, want, UP_DEADLINE)
        return t1 - t0, t2 - t0

    def scale_down(self, n):
        """Time until only n containers of the stack still run."""
        svc = stacks.STACKS[self.stack]["scale"][0]
        if self.mode == "compose":
            argv = self._compose("up", "-d", "--scale", "%s=%d" % (svc, n))
        else:
            argv = self.shipd.ctl("scale", "--stack", self.proj,
                                  "%s=%d" % (svc, n))
        t0, t1 = self.runner.run(argv, "%s scale of %s" % (self.mode,
                                                            self.proj))
        t2 = wait_count(self.label, n, DOWN_DEADLINE)
        return t1 - t0, t2 - t0

    def down_argv(self):
        if self.mode == "compose":
            return self._compose("down", "-v", "--remove-orphans")
        return self.shipd.ctl("down", "--stack", self.proj, "--volumes")

    def down(self):
        """Time until no container of the stack is left, running or not.
        A down that removed every container but stumbled on the network
        (the engine sometimes still counts an endpoint on it) is only
        warned about: the final sweep tries the network again."""
        t0, t1 = self.runner.run(self.down_argv(), "%s down of %s" % (
            self.mode, self.proj), check=False)
        t2 = wait_count(self.label, 0, DOWN_DEADLINE, all=True)
        return t1 - t0, t2 - t0


# -- the engine's floor ---------------------------------------------------

def floor_container(name):
    """Create, start and check one container with raw API calls, probing
    with /bin/svc-check until it passes. Returns its id and the seconds
    (create, start, first passing check)."""
    body = {
        "Image": stacks.IMAGE,
        "Env": ["SVC_NAME=" + name,
                "SVC_HEALTHY_AFTER=" + stacks.HEALTHY_AFTER],
        "Labels": {"io.shipd.bench": "floor"},
        "HostConfig": {"Init": True, "NetworkMode": FLOOR_NET},
    }
    t0 = now()
    cid = eng.create(name, body)
    t1 = now()
    try:
        eng.start(cid)
        t2 = now()
        end = t2 + 30
        while not eng.exec_ok(cid, stacks.CHECK[1:]):
            if now() > end:
                raise BenchError("floor: %s never passed its check" % name)
        t3 = now()
    except BaseException:
        eng.remove(cid)
        raise
    return cid, (t1 - t0, t2 - t1, t3 - t2)


def remove_all(cids):
    with ThreadPoolExecutor(max_workers=8) as ex:
        list(ex.map(eng.remove, cids))


def floor_chain(levels, tag):
    """The floor as a sum of levels: a chain of single containers, each
    made and checked before the next is created (earlier ones keep
    running). Returns per level (create, start, check) seconds."""
    out, made = [], []
    try:
        for i in range(levels):
            cid, t = floor_container("%s-%s-%d" % (FLOOR_NET, tag, i))
            made.append(cid)
            out.append(t)
    finally:
        remove_all(made)
    return out


def floor_all(stack, tag):
    """The whole stack made with raw API calls, every container started the
    moment all of its dependencies have passed their checks, with nothing
    else in the way. Returns the seconds until the last one passed."""
    sc = stacks.STACKS[stack].get("scale")
    if sc:
        # 1 -> n: the n - 1 new replicas, all at once.
        svcs = {"%s%d" % (sc[0], i): [] for i in range(2, sc[1] + 1)}
    else:
        svcs = stacks.STACKS[stack]["services"]
    done = {s: threading.Event() for s in svcs}
    made, errors = [], []
    lock = threading.Lock()

    def one(svc):
        try:
            for d in svcs[svc]:
                done[d].wait()
            if errors:
                return
            cid, _ = floor_container("%s-%s-%s-%s" % (FLOOR_NET, tag,
                                                       stack, svc))
            with lock:
                made.append(cid)
        except Exception as e:      # reported by the caller
            errors.append(e)
        finally:
            done[svc].set()

    threads = [threading.Thread(target=one, args=(s,)) for s in svcs]
    t0 = now()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t1 = now()
    remove_all(made)
    if errors:
        raise BenchError("floor of %s: %s" % (stack, errors[0]))
    return t1 - t0


# -- the whole bench ------------------------------------------------------

def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, unit="s"):
    if x is None:
        return "-"
    return "%.2f%s" % (x, unit)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return "%.2fx" % (a / b)


class Bench:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="shipd-bench.")
        self.runner = Runner(os.path.join(OUT, "commands.log"))
        self.shipd = Shipd(self.tmp, self.runner)
        self.paths = {}
        self.up = {}        # (stack, mode) -> [(cmd, confirmed)]
        self.down = {}      # (stack, mode) -> [(cmd, confirmed)]
        self.sdown = {}     # (stack, mode) -> [(cmd, confirmed)] scale down
        self.floor = []     # per run: [(create, start, check)] per level
        self.floor_all = {}  # stack -> [seconds]
        self.status = []
        self.rss_idle = self.rss_peak = None
        self.live = []      # tools with a stack that may be up

    def sweep(self):
        """Remove what carries the bench's labels; warn about what the
        engine would not remove. Returns how many objects went."""
        n, problems = 0, []
        for proj in stacks.all_names(MODES):
            for mode in ("compose", "shipd"):
                n += eng.sweep(label_of(mode, proj), problems)
        n += eng.sweep(FLOOR_LABEL, problems)
        for p in problems:
            log("bench: warning: could not remove %s" % p)
        return n

    def setup(self):
        if not eng.image_present(stacks.IMAGE):
            raise BenchError("image %s is missing: run tests/images/build.sh"
                             " (make images)" % stacks.IMAGE)
        for m in MODES:
            if m not in stacks.MODES:
                raise BenchError("BENCH_MODES: unknown mode %r" % m)
        for s in STACKS:
            if s not in stacks.STACKS:
                raise BenchError("BENCH_STACKS: unknown stack %r" % s)
        left = self.sweep()
        if left:
            log("bench: removed %d objects left by an earlier run" % left)
        gen = os.path.join(OUT, "stacks")
        shutil.rmtree(gen, ignore_errors=True)   # no stale unit files
        self.paths = stacks.write_all(gen, MODES)
        if not any(n["Name"] == FLOOR_NET for n in
                   eng.networks(FLOOR_LABEL)):
            eng.network_create(FLOOR_NET, {"io.shipd.bench": "floor"})
        if any(m != "compose" for m in MODES):
            self.shipd.start()
            self.rss_idle = self.shipd.mem("VmRSS")
            log("bench: shipd pid %d on %s, idle RSS %d kB" % (
                self.shipd.proc.pid, self.shipd.sock, self.rss_idle))

    def one(self, run, stack, mode):
        tool = Tool(mode, stack, self.paths[(stack, mode)], self.shipd,
                    self.runner)
        self.live.append(tool)
        up = tool.up()
        msg = "up %.2fs (confirmed %.2fs)" % up
        sc = stacks.STACKS[stack].get("scale")
        if sc:
            # The scale stack's "up" is the scale to n, not the first start.
            up = tool.scale(sc[1])
            sd = tool.scale_down(1)
            self.sdown.setdefault((stack, mode), []).append(sd)
            msg = "scale 1->%d %.2fs, ->1 %.2fs" % (sc[1], up[1], sd[1])
        self.up.setdefault((stack, mode), []).append(up)
        if (mode == "shipd" and run == RUNS - 1 and
                stack == self.status_stack()):
            self.time_status(tool.proj)
        down = tool.down()
        self.live.remove(tool)
        self.down.setdefault((stack, mode), []).append(down)
        log("run %d/%d %-5s %-7s %s, down %.2fs" % (
            run + 1, RUNS, stack, mode, msg, down[1]))

    def status_stack(self):
        return "fan" if "fan" in STACKS else STACKS[0]

    def time_status(self, proj):
        argv = self.shipd.ctl("status", "--stack", proj)
        for _ in range(STATUS_RUNS):
            t0 = now()
            p = subprocess.run(argv, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            t1 = now()
            if p.returncode != 0:
                raise BenchError("%s failed (exit %d)" % (
                    " ".join(argv), p.returncode))
            self.status.append(t1 - t0)

    def run(self):
        maxdepth = max(stacks.depth(s) for s in STACKS)
        for run in range(RUNS):
            self.floor.append(floor_chain(maxdepth, str(run)))
            log("run %d/%d floor  %d levels: %.2fs" % (
                run + 1, RUNS, maxdepth, sum(map(sum, self.floor[-1]))))
            for stack in STACKS:
                # A chain's whole stack is the chain just measured.
                if stack == "chain" and stacks.depth(stack) == maxdepth:
                    t = sum(map(sum, self.floor[-1]))
                else:
                    t = floor_all(stack, str(run))
                self.floor_all.setdefault(stack, []).append(t)
                log("run %d/%d %-5s floor-all %.2fs" % (run + 1, RUNS,
                                                       stack, t))
            for stack in STACKS:
                for mode in MODES:
                    self.one(run, stack, mode)
        if self.shipd.proc is not None:
            self.rss_peak = self.shipd.mem("VmHWM")

    def teardown(self):
        for tool in list(self.live):
            try:
                subprocess.run(tool.down_argv(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=120)
            except (OSError, subprocess.SubprocessError) as e:
                log("bench: %s: %s" % (tool.proj, e))
        self.shipd.stop()
        # An engine that is restarting (as some integration tests do) gets
        # a minute to come back before the sweep gives up.
        end = now() + 60
        while True:
            try:
                self.final_sweep()
                break
            except OSError as e:
                if now() > end:
                    log("bench: sweep failed: %s; run the bench again to "
                        "sweep what is left" % e)
                    break
                time.sleep(1)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def final_sweep(self):
        # The floor's network is expected; anything else is a leftover.
        for net in eng.networks(FLOOR_LABEL):
            if net["Name"] == FLOOR_NET:
                try:
                    eng.network_remove(net["Id"])
                except EngineError:
                    pass        # the sweep names it
        n = self.sweep()
        if n:
            log("bench: swept %d leftover objects" % n)

    # -- report -------------------------------------------------------

    def floor_of(self, stack):
        d = stacks.depth(stack)
        return med([sum(map(sum, f[:d])) for f in self.floor])

    def report(self):
        def col(table, stack, mode, i):
            return med([x[i] for x in table.get((stack, mode), [])])

        L = []
        L.append("shipd bench: %d run(s), medians; image %s, services "
                 "healthy %ss after start" % (RUNS, stacks.IMAGE,
                                              stacks.HEALTHY_AFTER))
        L.append("engine: %s" % engine_version())
        L.append("")
        L.append("Up: until every container is healthy (scale: 1->20)")
        row = "%-6s %5s %8s %8s %9s %8s %7s %9s %13s %11s %9s"
        hdr = row % ("stack", "depth", "compose", "shipd", "shipd+eng",
                     "no-probe", "floor", "floor-all", "shipd/compose",
                     "shipd/floor", "shipd/all")
        L += [hdr, "-" * len(hdr)]
        for s in STACKS:
            c = col(self.up, s, "compose", 1)
            sh = col(self.up, s, "shipd", 0)
            she = col(self.up, s, "shipd", 1)
            npb = col(self.up, s, "noprobe", 0)
            fl = self.floor_of(s)
            fa = med(self.floor_all.get(s, []))
            L.append(row % (
                s, stacks.depth(s), fmt(c), fmt(sh), fmt(she), fmt(npb),
                fmt(fl), fmt(fa), ratio(sh, c), ratio(sh, fl),
                ratio(sh, fa)))
        L.append("")
        L.append("Down: until no container is left (scale: 20->1, until "
                 "one runs)")
        hdr = "%-11s %9s %9s %9s %13s" % ("stack", "compose", "shipd",
                                          "no-probe", "shipd/compose")
        L += [hdr, "-" * len(hdr)]
        rows = [(s, self.down, s) for s in STACKS]
        rows += [("%s 20->1" % s, self.sdown, s) for s in STACKS
                 if stacks.STACKS[s].get("scale")]
        for title, table, s in rows:
            c = col(table, s, "compose", 1)
            sh = col(table, s, "shipd", 1)
            npb = col(table, s, "noprobe", 1)
            L.append("%-11s %9s %9s %9s %13s" % (
                title, fmt(c), fmt(sh), fmt(npb), ratio(sh, c)))
        L.append("")
        if self.floor:
            lv = [x for f in self.floor for x in f]
            L.append("Floor per level (raw API calls, medians): create %s, "
                     "start %s, first passing check %s" % tuple(
                         fmt(med([x[i] * 1000 for x in lv]), " ms")
                         for i in range(3)))
        if self.rss_idle is not None:
            L.append("shipd memory: idle RSS %d kB, peak RSS %s kB" % (
                self.rss_idle, self.rss_peak if self.rss_peak else "-"))
        if self.status:
            L.append("shipctl status (%s, %d container(s)): median %s over "
                     "%d runs (p90 %s)" % (
                         stacks.name(self.status_stack(), "shipd"),
                         stacks.containers(self.status_stack()),
                         fmt(med(self.status) * 1000, " ms"),
                         len(self.status),
                         fmt(sorted(self.status)[int(len(self.status) * 0.9)]
                             * 1000, " ms")))
        return "\n".join(L) + "\n"

    def raw(self):
        def j(t):
            return {"%s/%s" % k: v for k, v in t.items()}
        return {"runs": RUNS, "up": j(self.up), "down": j(self.down),
                "scale_down": j(self.sdown), "floor": self.floor,
                "floor_all": self.floor_all,
                "status": self.status, "rss_idle_kb": self.rss_idle,
                "rss_peak_kb": self.rss_peak}


def engine_version():
    try:
        v = eng.call("GET", "/version")[1]
        return "Docker %s, API %s" % (v.get("Version"), v.get("ApiVersion"))
    except (OSError, EngineError):
        return "?"


def _on_term(signo, frame):
    raise KeyboardInterrupt


def engine_pid():
    """dockerd's pid from its pid file, to tell a restart from a failure."""
    try:
        with open(DOCKER_PIDFILE) as f:
            return f.read().strip()
    except OSError:
        return None


def main():
    os.makedirs(OUT, exist_ok=True)
    # SIGTERM unwinds like ^C, so the teardown below always runs.
    signal.signal(signal.SIGTERM, _on_term)
    b = Bench()
    t0 = now()
    pid = engine_pid()
    err = None
    try:
        b.setup()
        b.run()
    except (BenchError, EngineError, OSError) as e:
        err = e
    except KeyboardInterrupt:
        err = "interrupted"
    finally:
        b.teardown()
    if err is not None:
        log("bench: %s" % err)
        # Checked after the teardown: a dockerd that is still stopping
        # keeps its pid file.
        if pid != engine_pid():
            log("bench: dockerd restarted during the bench (pid %s, now %s):"
                " something else is using the engine; run again when the "
                "machine is quiet" % (pid, engine_pid()))
        elif str(err).startswith(("shipd ", "noprobe ")):
            log("bench: BENCH_MODES=compose leaves shipd out")
        return 130 if err == "interrupted" else 1
    text = b.report()
    text += "total bench time %.0f s\n" % (now() - t0)
    sys.stdout.write("\n" + text)
    with open(os.path.join(OUT, "latest.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(OUT, "latest.json"), "w") as f:
        json.dump(b.raw(), f, indent=1)
    log("bench: results in %s/latest.txt (raw samples in latest.json)" % OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
