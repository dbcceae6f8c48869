#!/usr/bin/env python3
"""Round 10: lunch-boundary decomposition experiments (see NOTES.md).

The CNF is round 8's window encoding (../window_cnf.py), rebuilt here over
per-meeting slot domains so that parts of a schedule can be fixed by shrinking
domains (equivalent to unit clauses, but a smaller file), and so that the
morning or the afternoon can be written as a CNF of its own.

    python3 lunch.py extract DZN OPT.out -- ARGS_OF_window_cnf   # model of window_cnf.py -> sched json
    python3 lunch.py analyse DZN SCHED.json                      # lunch vs inside-a-half breaks, boundary
    python3 lunch.py fixed DZN SCHED.json --opt K [--full]        # boundary / allocation fixed, halves alone
    python3 lunch.py partial DZN SCHED.json --opt K              # only slot L, only who is busy, only halves
    python3 lunch.py boundary DZN --opt K [--forced] [--count N]  # max-cover boundaries, then solve each
    python3 lunch.py diagnose DZN --opt K --cover C              # what a max-cover boundary really costs
    python3 lunch.py perturb DZN SCHED.json --opt K              # one-meeting swaps of the optimal boundary
    python3 lunch.py near / solve / lns / notables / refute ...  # see NOTES.md

Run the whole thing under `taskset -c 1`; cadical inherits the affinity.
Times are the wall time of the cadical subprocess alone.
"""
import argparse
import json
import os
import re
import runpy
import subprocess
import sys
import tempfile
import time


# ---------------------------------------------------------------- instance
def parse(path):
    text = open(path).read()

    def num(name):
        return int(re.search(name + r"\s*=\s*(\d+)", text).group(1))

    T, S, M = num("nTables"), num("nTotalSlots"), num("nMorningSlots")
    req = re.search(r"requested\s*=\s*\[(.*?)\]", text, re.S).group(1)
    rows = [list(map(int, re.findall(r"-?\d+", r))) for r in req.split("|") if re.findall(r"\d+", r)]
    rows = [(a - 1, b - 1, k) for a, b, k in rows]
    fb = re.search(r"forbidden\s*=\s*\[(.*?)\];", text, re.S).group(1)
    forb = [{int(v) - 1 for v in re.findall(r"\d+", s) if int(v) > 0} for s in re.findall(r"\{([^}]*)\}", fb)]
    return dict(T=T, S=S, M=M, rows=rows, forb=forb, L=M - 1)


def session(inst, k):
    S, M = inst["S"], inst["M"]
    return range(M) if k == 1 else range(M, S) if k == 2 else range(S)


def base_domains(inst):
    forb = inst["forb"]
    return [[t for t in session(inst, k) if t not in forb[a] and t not in forb[b]] for a, b, k in inst["rows"]]


def breaks_of(inst, sched):
    busy = {}
    for r, (a, b, k) in enumerate(inst["rows"]):
        if sched[r] is None:
            continue
        for q in (a, b):
            busy.setdefault(q, []).append(sched[r])
    per = {}
    for q, ts in busy.items():
        ts.sort()
        assert len(set(ts)) == len(ts)
        per[q] = sum(1 for i in range(1, len(ts)) if ts[i] > ts[i - 1] + 1)
    return per, busy


def verify(inst, sched):
    T = inst["T"]
    cnt = {}
    for r, (a, b, k) in enumerate(inst["rows"]):
        t = sched[r]
        assert t in session(inst, k) and t not in inst["forb"][a] and t not in inst["forb"][b]
        cnt[t] = cnt.get(t, 0) + 1
    assert max(cnt.values()) <= T
    per, _ = breaks_of(inst, sched)
    assert max(per.values()) - min(per.values()) <= 2
    return sum(per.values())


def split_participants(inst):
    am, pm = set(), set()
    for a, b, k in inst["rows"]:
        if k == 1:
            am |= {a, b}
        if k == 2:
            pm |= {a, b}
    return sorted(am & pm)


# ---------------------------------------------------------------- CNF
class CNF:
    def __init__(self):
        self.n = 0
        self.cl = []

    def var(self):
        self.n += 1
        return self.n

    def amo(self, lits):
        if len(lits) <= 5:
            self.cl.extend([-a, -b] for i, a in enumerate(lits) for b in lits[i + 1:])
            return
        s = [self.var() for _ in lits[:-1]]
        self.cl.append([-lits[0], s[0]])
        for i in range(1, len(lits) - 1):
            self.cl.extend([[-lits[i], s[i]], [-s[i - 1], s[i]], [-lits[i], -s[i - 1]]])
        self.cl.append([-lits[-1], -s[-1]])

    def at_most(self, lits, k):
        if len(lits) <= k:
            return
        if k == 0:
            self.cl.extend([-x] for x in lits)
            return
        s = [[self.var() for _ in range(k)] for _ in lits]
        for i, x in enumerate(lits):
            self.cl.append([-x, s[i][0]])
            if i > 0:
                self.cl.extend([-s[i - 1][j], s[i][j]] for j in range(k))
                self.cl.extend([-x, -s[i - 1][j - 1], s[i][j]] for j in range(1, k))
                self.cl.append([-x, -s[i - 1][k - 1]])

    def at_least(self, lits, k):
        self.at_most([-x for x in lits], len(lits) - k)

    def solve(self, timeout=None, tag="x", opts=()):
        fd, path = tempfile.mkstemp(suffix=".cnf", prefix="r10-" + tag + "-", dir="/var/tmp")
        with os.fdopen(fd, "w") as f:
            f.write(f"p cnf {self.n} {len(self.cl)}\n")
            f.write("\n".join(" ".join(map(str, c)) + " 0" for c in self.cl))
            f.write("\n")
        cmd = ["taskset", "-c", "1", "cadical", "-q"] + list(opts) + (["-t", str(timeout)] if timeout else []) + [path]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        os.unlink(path)
        model = None
        status = "UNKNOWN"
        if p.returncode == 10:
            status = "SAT"
            model = set()
            for line in p.stdout.splitlines():
                if line.startswith("v"):
                    model.update(int(v) for v in line.split()[1:] if int(v) > 0)
        elif p.returncode == 20:
            status = "UNSAT"
        return status, dt, model


def window_cnf(inst, dom, K=0, allowed=None, lo=0, hi=None, tables=True, table_slots=None):
    """dom[r]: list of slots for meeting r, or None if r is not part of this (sub)problem.
    Participants' meetings (in the subproblem) fill one window of [lo, hi), or two runs for at
    most K participants (of `allowed`, if given)."""
    hi = inst["S"] if hi is None else hi
    forb = inst["forb"]
    c = CNF()
    x = []
    meetings_of = {}
    for r, (a, b, k) in enumerate(inst["rows"]):
        if dom[r] is None:
            x.append(None)
            continue
        meetings_of.setdefault(a, []).append(r)
        meetings_of.setdefault(b, []).append(r)
        x.append({t: c.var() for t in dom[r]})
        c.cl.append(list(x[r].values()))
        c.amo(list(x[r].values()))
    one_break = []
    for q, rs in sorted(meetings_of.items()):
        n = len(rs)
        starts = [s for s in range(lo, hi - n + 1) if not forb[q] & set(range(s, s + n))]
        y = {s: c.var() for s in starts}
        h = c.var() if K > 0 and n >= 2 and (allowed is None or q in allowed) else None
        if h:
            one_break.append(h)
            c.cl.extend([-h, -v] for v in y.values())
        c.cl.append(list(y.values()) + ([h] if h else []))
        c.amo(list(y.values()))
        busy = []
        for t in range(lo, hi):
            here = [x[r][t] for r in rs if t in x[r]]
            cover = [y[s] for s in starts if s <= t < s + n]
            c.amo(here)
            c.cl.extend([-m] + cover + ([h] if h else []) for m in here)
            c.cl.extend([-v] + here for v in cover)
            b = c.var()
            c.cl.extend([-m, b] for m in here)
            c.cl.append([-b] + here)
            busy.append(b)
        if h:
            runs = [busy[0]]
            for i in range(1, len(busy)):
                z = c.var()
                c.cl.append([-busy[i], busy[i - 1], z])
                runs.append(z)
            c.at_most(runs, 2)
    c.at_most(one_break, K)
    for t in (range(lo, hi) if table_slots is None else table_slots) if tables else ():
        c.at_most([x[r][t] for r in range(len(x)) if x[r] is not None and t in x[r]], inst["T"])
    return c, x


def decode(x, model):
    return [None if xr is None else [t for t, v in xr.items() if v in model][0] for xr in x]


# ---------------------------------------------------------------- commands
def cmd_extract(a):
    argv = sys.argv
    sys.argv = ["window_cnf.py", a.dzn] + a.rest
    import io
    import contextlib
    with contextlib.redirect_stdout(io.StringIO()):
        g = runpy.run_path(os.path.join(os.path.dirname(__file__), "..", "window_cnf.py"))
    sys.argv = argv
    model = set()
    for line in open(a.model):
        if line.startswith("v"):
            model.update(int(v) for v in line.split()[1:] if int(v) > 0)
    sched = decode(g["x"], model)
    inst = parse(a.dzn)
    print(json.dumps(sched))
    print("breaks", verify(inst, sched), file=sys.stderr)


def cmd_analyse(a):
    inst = parse(a.dzn)
    sched = json.load(open(a.sched))
    L = inst["L"]
    per, busy = breaks_of(inst, sched)
    split = split_participants(inst)
    atL = [r for r, t in enumerate(sched) if t == L]
    atL1 = [r for r, t in enumerate(sched) if t == L + 1]
    lunch, internal = 0, 0
    for q, ts in busy.items():
        for i in range(1, len(ts)):
            if ts[i] > ts[i - 1] + 1:
                if ts[i - 1] <= L < ts[i]:
                    lunch += 1
                else:
                    internal += 1
    coveredL = {p for r in atL for p in inst["rows"][r][:2]}
    coveredL1 = {p for r in atL1 for p in inst["rows"][r][:2]}
    both = coveredL & coveredL1
    kinds = [inst["rows"][r][2] for r in atL], [inst["rows"][r][2] for r in atL1]
    print(f"breaks {sum(per.values())}: lunch {lunch}, inside a half {internal}; breakers (1-based) "
          f"{ {q + 1: n for q, n in per.items() if n} }")
    print(f"slot L={L + 1} (1-based): {len(atL)} meetings, kinds {kinds[0]}; slot L+1: {len(atL1)}, kinds {kinds[1]}")
    print(f"split participants {len(split)}; busy at both L and L+1: {len(both & set(split))}; "
          f"split not covered: {[q + 1 for q in split if q not in both]}")
    print(f"all participants busy at both: {len(both)}")


def fixed_domains(inst, sched, boundary=True, alloc=False):
    L = inst["L"]
    dom = base_domains(inst)
    out = []
    for r, d in enumerate(dom):
        t = sched[r]
        if boundary and t in (L, L + 1):
            out.append([t])
            continue
        d = [s for s in d if not boundary or s not in (L, L + 1)]
        if alloc:
            d = [s for s in d if (s <= L) == (t <= L)]
        out.append(d)
    return out


def run(c, x, inst, label, timeout, opts=()):
    st, dt, model = c.solve(timeout=timeout, tag=label.split()[0], opts=opts)
    extra = ""
    if model:
        sched = decode(x, model)
        if all(s is not None for s in sched):
            try:
                extra = f" breaks {verify(inst, sched)}"
            except AssertionError:
                per, _ = breaks_of(inst, sched)
                extra = f" breaks {sum(per.values())} (NOT a valid schedule)"
        else:
            per, _ = breaks_of(inst, sched)
            extra = f" breaks {sum(per.values())}"
    print(f"{label:60s} {st:7s} {dt:7.2f} s  vars {c.n} clauses {len(c.cl)}{extra}", flush=True)
    return st, dt, model


def cmd_fixed(a):
    inst = parse(a.dzn)
    sched = json.load(open(a.sched))
    L, S = inst["L"], inst["S"]
    K = a.opt
    base = base_domains(inst)
    if a.full:
        for k in (K, K - 1):
            if k >= 0:
                c, x = window_cnf(inst, base, K=k)
                run(c, x, inst, f"nothing fixed, <= {k}", a.timeout, [f"--seed={a.seed}"])
    dom = fixed_domains(inst, sched, boundary=True)
    for k in (K, K - 1):
        if k >= 0:
            c, x = window_cnf(inst, dom, K=k)
            run(c, x, inst, f"boundary fixed, <= {k}", a.timeout, [f"--seed={a.seed}"])
    dom = fixed_domains(inst, sched, boundary=True, alloc=True)
    for k in (K, K - 1):
        if k >= 0:
            c, x = window_cnf(inst, dom, K=k)
            run(c, x, inst, f"boundary + half of each meeting fixed, <= {k}", a.timeout, [f"--seed={a.seed}"])
    # Halves separately: internal breaks of each half from the schedule.
    per_half = {}
    for name, lo, hi in (("morning", 0, L + 1), ("afternoon", L + 1, S)):
        hd = [d if lo <= sched[r] < hi else None for r, d in enumerate(dom)]
        sub = [t if lo <= t < hi else None for t in sched]
        per, _ = breaks_of(inst, sub)
        k = sum(per.values())
        per_half[name] = k
        for kk in (k, k - 1):
            if kk >= 0:
                c, x = window_cnf(inst, hd, K=kk, lo=lo, hi=hi)
                run(c, x, inst, f"{name} alone (boundary+alloc fixed), <= {kk}", a.timeout, [f"--seed={a.seed}"])
    print("internal breaks per half in the schedule:", per_half)


def boundary_cnf(inst, cover_at_least, forced_break_split=None):
    """Variables u[r] (meeting r at L), w[r] (at L+1); cover vars for split participants."""
    L = inst["L"]
    dom = base_domains(inst)
    c = CNF()
    u, w = {}, {}
    for r, d in enumerate(dom):
        if L in d:
            u[r] = c.var()
        if L + 1 in d:
            w[r] = c.var()
        if r in u and r in w:
            c.cl.append([-u[r], -w[r]])
    for slot in (u, w):
        by = {}
        for r, v in slot.items():
            a, b, k = inst["rows"][r]
            by.setdefault(a, []).append(v)
            by.setdefault(b, []).append(v)
        for q, vs in by.items():
            c.amo(vs)
        c.at_most(list(slot.values()), inst["T"])
    split = split_participants(inst)
    if forced_break_split is not None:
        # forced_break_split = K: per participant, a "must break" literal f_q implied by the
        # boundary alone (rules in NOTES.md), and at most K of them.
        fs = forced_literals(inst, c, u, w)
        c.at_most(fs, forced_break_split)
    cov = []
    for q in split:
        z = c.var()
        inL = [u[r] for r in u if q in inst["rows"][r][:2]]
        inL1 = [w[r] for r in w if q in inst["rows"][r][:2]]
        c.cl.append([-z] + inL)
        c.cl.append([-z] + inL1)
        cov.append(z)
    c.at_least(cov, cover_at_least)
    return c, u, w, cov, split


def window_ok(inst, q, n, lo, hi, contains=(), am=0, pm=0):
    """Is there a window of n slots within [lo, hi) containing `contains`, free of q's forbidden
    slots, with >= am of its slots in the morning and >= pm in the afternoon?"""
    L = inst["L"]
    for s in range(lo, hi - n + 1):
        ws = range(s, s + n)
        if inst["forb"][q] & set(ws) or any(t not in ws for t in contains):
            continue
        if sum(1 for t in ws if t <= L) >= am and sum(1 for t in ws if t > L) >= pm:
            return True
    return False


def orvar(c, lits):
    if not lits:
        return None
    g = c.var()
    c.cl.append([-g] + lits)
    c.cl.extend([-v, g] for v in lits)
    return g


def forced_literals(inst, c, u, w):
    L, S = inst["L"], inst["S"]
    mine = {}
    for r, (a, b, k) in enumerate(inst["rows"]):
        for q in (a, b):
            mine.setdefault(q, []).append(k)
    fs = []
    for q, ks in sorted(mine.items()):
        n, am, pm = len(ks), ks.count(1), ks.count(2)
        inL = [u[r] for r in u if q in inst["rows"][r][:2]]
        inL1 = [w[r] for r in w if q in inst["rows"][r][:2]]
        f = c.var()
        fs.append(f)
        # (bl, bl1) -> break-free possible?
        cases = {
            (1, 1): window_ok(inst, q, n, 0, S, (L, L + 1), am, pm),
            (1, 0): pm == 0 and window_ok(inst, q, n, 0, L + 1, (L,)),
            (0, 1): am == 0 and window_ok(inst, q, n, L + 1, S, (L + 1,)),
            (0, 0): (pm == 0 and window_ok(inst, q, n, 0, L)) or (am == 0 and window_ok(inst, q, n, L + 2, S)),
        }
        gl, gl1 = orvar(c, inL), orvar(c, inL1)
        for (bl, bl1), ok in cases.items():
            if ok:
                continue
            # clause: state (bl, bl1) -> f; a constant-false "busy" makes bl = 1 impossible.
            if (bl and gl is None) or (bl1 and gl1 is None):
                continue
            cl = [f]
            if gl is not None:
                cl.append(-gl if bl else gl)
            if gl1 is not None:
                cl.append(-gl1 if bl1 else gl1)
            c.cl.append(cl)
    return fs


def cmd_boundary(a):
    inst = parse(a.dzn)
    L = inst["L"]
    split = split_participants(inst)
    fk = a.opt if a.forced else None
    if a.forced:
        # 0. the fewest breaks that the boundary alone forces (a lower bound).
        for k in range(0, a.opt + 1):
            c, u, w, cov, _ = boundary_cnf(inst, 0, k)
            st, dt, model = c.solve(tag="bnd")
            print(f"boundary forcing <= {k} breaks: {st} {dt:.3f} s", flush=True)
            if st == "SAT":
                break
    # 1. the largest number of split participants that can be busy at L and L+1.
    best = None
    for k in range(len(split), -1, -1):
        c, u, w, cov, _ = boundary_cnf(inst, k, fk)
        st, dt, model = c.solve(tag="bnd")
        print(f"cover >= {k} of {len(split)} split participants: {st} {dt:.3f} s", flush=True)
        if st == "SAT":
            best = k
            break
    # 2. enumerate boundaries with that cover (or best - slack) and try each.
    if best is None:
        return
    target = best - a.slack
    c, u, w, cov, _ = boundary_cnf(inst, target, fk)
    tried = 0
    base = base_domains(inst)
    while tried < a.count:
        st, dt, model = c.solve(tag="bnd")
        if st != "SAT":
            print("no more boundaries")
            break
        tried += 1
        atL = sorted(r for r, v in u.items() if v in model)
        atL1 = sorted(r for r, v in w.items() if v in model)
        ncov = sum(1 for z in cov if z in model)
        # block this boundary (exactly this pair of meeting sets)
        c.cl.append([-u[r] for r in atL] + [-w[r] for r in atL1] +
                    [u[r] for r in u if r not in atL] + [w[r] for r in w if r not in atL1])
        dom = []
        for r, d in enumerate(base):
            if r in atL:
                dom.append([L])
            elif r in atL1:
                dom.append([L + 1])
            else:
                dom.append([t for t in d if t not in (L, L + 1)])
        cc, x = window_cnf(inst, dom, K=a.opt)
        run(cc, x, inst, f"boundary #{tried} ({len(atL)}+{len(atL1)} mtgs, cover {ncov}), <= {a.opt}",
            a.timeout)


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("extract")
    p.add_argument("dzn")
    p.add_argument("model")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p = sp.add_parser("analyse")
    p.add_argument("dzn")
    p.add_argument("sched")
    p = sp.add_parser("fixed")
    p.add_argument("dzn")
    p.add_argument("sched")
    p.add_argument("--opt", type=int, required=True)
    p.add_argument("--timeout", type=int, default=120)
    p.add_argument("--full", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p = sp.add_parser("boundary")
    p.add_argument("dzn")
    p.add_argument("--opt", type=int, required=True)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--slack", type=int, default=0)
    p.add_argument("--forced", action="store_true", help="at most --opt breaks forced by the boundary alone")
    p.add_argument("--timeout", type=int, default=60)
    p = sp.add_parser("diagnose")
    p.add_argument("dzn")
    p.add_argument("--opt", type=int, required=True)
    p.add_argument("--cover", type=int, default=0)
    p.add_argument("--count", type=int, default=2)
    p.add_argument("--timeout", type=int, default=60)
    p = sp.add_parser("near")
    p.add_argument("dzn")
    p.add_argument("--opt", type=int, required=True)
    p.add_argument("--near", type=int, required=True)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--timeout", type=int, default=60)
    p = sp.add_parser("notables")
    p.add_argument("dzn")
    p.add_argument("--opt", type=int, required=True)
    p.add_argument("--timeout", type=int, default=60)
    p = sp.add_parser("perturb")
    p.add_argument("dzn")
    p.add_argument("sched")
    p.add_argument("--opt", type=int, required=True)
    p.add_argument("--count", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=int, default=60)
    p = sp.add_parser("partial")
    p.add_argument("dzn")
    p.add_argument("sched")
    p.add_argument("--opt", type=int, required=True)
    p.add_argument("--timeout", type=int, default=60)
    p = sp.add_parser("lns")
    p.add_argument("dzn")
    p.add_argument("start")
    p.add_argument("--target", type=int, required=True)
    p.add_argument("--k", type=int, default=2)
    p.add_argument("--free-breakers", action="store_true")
    p.add_argument("--timeout", type=int, default=60)
    p = sp.add_parser("solve")
    p.add_argument("dzn")
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--timeout", type=int, default=60)
    p = sp.add_parser("refute")
    p.add_argument("dzn")
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--timeout", type=int, default=100)
    a = ap.parse_args()
    if a.cmd == "extract" and a.rest and a.rest[0] == "--":
        a.rest = a.rest[1:]
    globals()["cmd_" + a.cmd](a)


def cmd_diagnose(a):
    """For the first max-cover boundary (forced <= opt): the fewest breaks it admits, and who breaks."""
    inst = parse(a.dzn)
    L = inst["L"]
    c, u, w, cov, split = boundary_cnf(inst, a.cover, a.opt)
    base = base_domains(inst)
    for i in range(a.count):
        st, dt, model = c.solve(tag="bnd")
        atL = sorted(r for r, v in u.items() if v in model)
        atL1 = sorted(r for r, v in w.items() if v in model)
        c.cl.append([-u[r] for r in atL] + [-w[r] for r in atL1] +
                    [u[r] for r in u if r not in atL] + [w[r] for r in w if r not in atL1])
        dom = [[L] if r in atL else [L + 1] if r in atL1 else [t for t in d if t not in (L, L + 1)]
               for r, d in enumerate(base)]
        busyL = {p for r in atL for p in inst["rows"][r][:2]}
        busyL1 = {p for r in atL1 for p in inst["rows"][r][:2]}
        print(f"boundary {i + 1}: split not covered {[q + 1 for q in split if not (q in busyL and q in busyL1)]}")
        for k in range(a.opt + 1, a.opt + 8):
            cc, x = window_cnf(inst, dom, K=k)
            st, dt, m = run(cc, x, inst, f"  <= {k}", a.timeout)
            if st == "SAT":
                sched = decode(x, m)
                per, busy = breaks_of(inst, sched)
                for q, nb in per.items():
                    if nb:
                        kinds = [inst["rows"][r][2] for r in range(len(sched)) if q in inst["rows"][r][:2]]
                        print(f"    breaker {q + 1}: busy {busy[q]}, kinds {kinds}, atL {q in busyL} atL1 {q in busyL1},"
                              f" forbidden {sorted(inst['forb'][q])}")
                break


def cmd_near(a):
    """A near-optimal schedule (<= --near breaks, CaDiCaL seed s) as the 'heuristic'; fix its
    boundary and ask for <= --opt."""
    inst = parse(a.dzn)
    L = inst["L"]
    base = base_domains(inst)
    for seed in range(1, a.seeds + 1):
        c, x = window_cnf(inst, base, K=a.near)
        st, dt, m = run(c, x, inst, f"seed {seed}: nothing fixed, <= {a.near}", a.timeout, [f"--seed={seed}"])
        if st != "SAT":
            continue
        sched = decode(x, m)
        dom = fixed_domains(inst, sched, boundary=True)
        c, x = window_cnf(inst, dom, K=a.opt)
        run(c, x, inst, f"seed {seed}:   its boundary fixed, <= {a.opt}", a.timeout)


def cmd_notables(a):
    inst = parse(a.dzn)
    base = base_domains(inst)
    for k in range(a.opt, -1, -1):
        c, x = window_cnf(inst, base, K=k, tables=False)
        st, dt, m = run(c, x, inst, f"no table limits, <= {k}", a.timeout)
        if st != "SAT":
            break


def cmd_perturb(a):
    """Swap one meeting of the optimal boundary for another (same slot) and test <= opt."""
    import random
    rnd = random.Random(a.seed)
    inst = parse(a.dzn)
    L = inst["L"]
    sched = json.load(open(a.sched))
    base = base_domains(inst)
    res = {}
    for i in range(a.count):
        s = list(sched)
        slot = rnd.choice((L, L + 1))
        out = rnd.choice([r for r, t in enumerate(s) if t == slot])
        used = {p for r, t in enumerate(s) if t == slot and r != out for p in inst["rows"][r][:2]}
        cand = [r for r, d in enumerate(base) if slot in d and s[r] not in (L, L + 1)
                and not used & set(inst["rows"][r][:2])]
        inn = rnd.choice(cand)
        s[out], s[inn] = -1, slot  # -1: anywhere except L, L+1
        dom = [[t] if t in (L, L + 1) else [u for u in d if u not in (L, L + 1)] for d, t in zip(base, s)]
        c, x = window_cnf(inst, dom, K=a.opt)
        st, dt, m = run(c, x, inst, f"swap {i + 1}: slot {slot + 1}, out {out} in {inn}, <= {a.opt}", a.timeout)
        res[st] = res.get(st, 0) + 1
    print(res)


def cmd_partial(a):
    """Which part of the optimal schedule's lunch information makes the rest fast?"""
    inst = parse(a.dzn)
    L, S = inst["L"], inst["S"]
    sched = json.load(open(a.sched))
    base = base_domains(inst)
    rows = inst["rows"]
    K = a.opt
    # (a) only slot L fixed / only slot L+1 fixed
    for slot in (L, L + 1):
        dom = [[slot] if sched[r] == slot else [t for t in d if t != slot] for r, d in enumerate(base)]
        c, x = window_cnf(inst, dom, K=K)
        run(c, x, inst, f"only slot {slot + 1} (1-based) fixed, <= {K}", a.timeout)
    # (b) only who is busy at L and at L+1 (not with whom)
    c, x = window_cnf(inst, base, K=K)
    for slot in (L, L + 1):
        busy = {p for r, t in enumerate(sched) if t == slot for p in rows[r][:2]}
        for q in {p for r in range(len(rows)) for p in rows[r][:2]}:
            lits = [x[r][slot] for r in range(len(rows)) if q in rows[r][:2] and slot in x[r]]
            if q in busy:
                c.cl.append(lits)
            else:
                c.cl.extend([-v] for v in lits)
    run(c, x, inst, f"who is busy at L and L+1 fixed, <= {K}", a.timeout)
    # (c) only the half of every meeting
    dom = [[t for t in d if (t <= L) == (sched[r] <= L)] for r, d in enumerate(base)]
    c, x = window_cnf(inst, dom, K=K)
    run(c, x, inst, f"only the half of each meeting fixed, <= {K}", a.timeout)


def cmd_lns(a):
    """Start from a schedule with more breaks; free the slots L-k..L+1+k (all meetings there, and
    every meeting of a participant who breaks), keep the rest, ask for <= --target."""
    inst = parse(a.dzn)
    L, S = inst["L"], inst["S"]
    start = json.load(open(a.start))
    base = base_domains(inst)
    lo, hi = max(0, L - a.k), min(S, L + 2 + a.k)
    per, _ = breaks_of(inst, start)
    breakers = {q for q, n in per.items() if n}
    of_breaker = [a.free_breakers and bool(set(inst["rows"][r][:2]) & breakers) for r in range(len(start))]
    in_window = [lo <= start[r] < hi for r in range(len(start))]
    free = [p or q for p, q in zip(of_breaker, in_window)]
    dom = [d if of_breaker[r] else [t for t in d if lo <= t < hi] if in_window[r] else [start[r]]
           for r, d in enumerate(base)]
    c, x = window_cnf(inst, dom, K=a.target)
    run(c, x, inst, f"slots {lo + 1}..{hi} (1-based) free ({sum(free)} meetings), <= {a.target}", a.timeout)


def cmd_solve(a):
    inst = parse(a.dzn)
    c, x = window_cnf(inst, base_domains(inst), K=a.k)
    st, dt, m = run(c, x, inst, f"nothing fixed, <= {a.k}, seed {a.seed}", a.timeout, [f"--seed={a.seed}"])
    if m:
        json.dump(decode(x, m), open(a.out, "w"))


def cmd_refute(a):
    inst = parse(a.dzn)
    c, x = window_cnf(inst, base_domains(inst), K=a.k)
    run(c, x, inst, f"nothing fixed, <= {a.k}", a.timeout)


if __name__ == "__main__":
    main()
