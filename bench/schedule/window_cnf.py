#!/usr/bin/env python3
"""Round 8 experiment (bench/schedule/round8.md): the "window" CNF of a JAIR original.

Every participant's meetings fill one run of consecutive slots (no break), or,
with --breaks K, at most K participants may have one break (two runs); with
--allowed, only the listed participants may (1-based, as in the file). This is
not the encoding of crates/kontor-schedule/src/exact.rs; it was written to see
whether start-of-window variables let a SAT solver find or refute a schedule
without breaks within the 1-s target. Output: DIMACS on stdout.

    python3 bench/schedule/window_cnf.py FILE.dzn [--tables meetings|busy] [--breaks K] [--allowed 4,10] > x.cnf
    cadical x.cnf > x.out   # Debian package cadical 1.5.3
    python3 bench/schedule/window_cnf.py FILE.dzn [same options] --check x.out

--check decodes a model (the encoding is deterministic, so the variables are the
same), checks every constraint of the JAIR model itself and prints the breaks.

--tables meetings: at most nTables meeting literals per slot (sequential counter);
--tables busy: at most 2 * nTables busy participants per slot (the same for
meetings of two, over about 70 literals instead of about 300).
"""
import argparse
import re

ap = argparse.ArgumentParser()
ap.add_argument("dzn")
ap.add_argument("--tables", choices=["meetings", "busy"], default="meetings")
ap.add_argument("--breaks", type=int, default=0)
ap.add_argument("--allowed", default="")
ap.add_argument("--check", metavar="MODEL")
args = ap.parse_args()
text = open(args.dzn).read()


def num(name):
    return int(re.search(name + r"\s*=\s*(\d+)", text).group(1))


n_tables, n_slots, n_morning = num("nTables"), num("nTotalSlots"), num("nMorningSlots")
req = re.search(r"requested\s*=\s*\[(.*?)\]", text, re.S).group(1)
rows = [list(map(int, re.findall(r"-?\d+", r))) for r in req.split("|") if re.findall(r"\d+", r)]
fb = re.search(r"forbidden\s*=\s*\[(.*?)\];", text, re.S).group(1)
forb = [{int(x) - 1 for x in re.findall(r"\d+", s) if int(x) > 0} for s in re.findall(r"\{([^}]*)\}", fb)]

n_vars = 0
clauses = []


def var():
    global n_vars
    n_vars += 1
    return n_vars


def at_most_one(lits):
    if len(lits) <= 5:
        clauses.extend([-a, -b] for i, a in enumerate(lits) for b in lits[i + 1:])
        return
    s = [var() for _ in lits[:-1]]
    clauses.append([-lits[0], s[0]])
    for i in range(1, len(lits) - 1):
        clauses.extend([[-lits[i], s[i]], [-s[i - 1], s[i]], [-lits[i], -s[i - 1]]])
    clauses.append([-lits[-1], -s[-1]])


def at_most(lits, k):
    """Sinz's sequential counter."""
    if len(lits) <= k:
        return
    s = [[var() for _ in range(k)] for _ in lits]
    for i, x in enumerate(lits):
        clauses.append([-x, s[i][0]])
        if i > 0:
            clauses.extend([-s[i - 1][j], s[i][j]] for j in range(k))
            clauses.extend([-x, -s[i - 1][j - 1], s[i][j]] for j in range(1, k))
            clauses.append([-x, -s[i - 1][k - 1]])


def session(k):
    return range(n_morning) if k == 1 else range(n_morning, n_slots) if k == 2 else range(n_slots)


# x[r][t]: meeting r in slot t.
meetings_of = {}
x = []
for r, (a, b, k) in enumerate(rows):
    a, b = a - 1, b - 1
    meetings_of.setdefault(a, []).append(r)
    meetings_of.setdefault(b, []).append(r)
    x.append({t: var() for t in session(k) if t not in forb[a] and t not in forb[b]})
    clauses.append(list(x[r].values()))
    at_most_one(list(x[r].values()))

busy_in = {t: [] for t in range(n_slots)}
allowed = {int(v) - 1 for v in args.allowed.split(",") if v}
one_break = []
for q, rs in meetings_of.items():
    n = len(rs)
    # y[s]: q's meetings fill slots s..s+n-1; h: q has one break instead.
    starts = [s for s in range(n_slots - n + 1) if not forb[q] & set(range(s, s + n))]
    y = {s: var() for s in starts}
    h = var() if args.breaks > 0 and n >= 2 and (not allowed or q in allowed) else None
    if h:
        one_break.append(h)
        clauses.extend([-h, -v] for v in y.values())
    clauses.append(list(y.values()) + ([h] if h else []))
    at_most_one(list(y.values()))
    busy = []
    for t in range(n_slots):
        here = [x[r][t] for r in rs if t in x[r]]
        cover = [y[s] for s in starts if s <= t < s + n]
        at_most_one(here)
        clauses.extend([-m] + cover + ([h] if h else []) for m in here)
        clauses.extend([-c] + here for c in cover)
        b = var()
        clauses.extend([-m, b] for m in here)
        clauses.append([-b] + here)
        busy.append(b)
        busy_in[t].append(b)
    if h:
        # A run starts where q is busy and was not the slot before; at most two runs.
        runs = [busy[0]]
        for t in range(1, n_slots):
            z = var()
            clauses.append([-busy[t], busy[t - 1], z])
            runs.append(z)
        at_most(runs, 2)
at_most(one_break, args.breaks)

for t in range(n_slots):
    if args.tables == "meetings":
        at_most([x[r][t] for r in range(len(rows)) if t in x[r]], n_tables)
    else:
        at_most(busy_in[t], 2 * n_tables)

if args.check:
    model = set()
    for line in open(args.check):
        if line.startswith("v"):
            model.update(int(v) for v in line.split()[1:] if int(v) > 0)
    busy, count = {}, [0] * n_slots
    for r, (a, b, k) in enumerate(rows):
        (t,) = [t for t, v in x[r].items() if v in model]
        assert t in session(k) and t not in forb[a - 1] and t not in forb[b - 1]
        count[t] += 1
        for q in (a, b):
            busy.setdefault(q, []).append(t)
    assert max(count) <= n_tables, count
    per = {}
    for q, ts in busy.items():
        assert len(set(ts)) == len(ts), f"participant {q} twice in a slot"
        ts.sort()
        per[q] = sum(1 for i in range(1, len(ts)) if ts[i] > ts[i - 1] + 1)
    assert max(per.values()) - min(per.values()) <= 2, "fairness d = 2"
    print("valid: breaks", sum(per.values()), {q: n for q, n in per.items() if n})
    raise SystemExit
print(f"p cnf {n_vars} {len(clauses)}")
print("\n".join(" ".join(map(str, c)) + " 0" for c in clauses))
