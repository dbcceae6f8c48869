#!/usr/bin/env python3
"""Round 10: boundary-first search as a logic-based Benders loop (see NOTES.md).

master: which meetings sit at L and L+1 (lunch.boundary_cnf: two disjoint matchings of at most
        nTables meetings, plus "the boundary alone forces at most K breaks");
sub:    the full window CNF with at most K breaks (lunch.window_cnf), boundary given as
        assumptions; if it is refuted, the failed assumptions become a clause of the master.
Both are incremental CaDiCaL 1.5.3 (python-sat's cadical153), so the sub keeps what it learnt.

    taskset -c 1 python3 benders.py DZN --opt K [--max-iter N] [--time-limit S] [--allowed-forced]
"""
import argparse
import time

from pysat.solvers import Solver

import lunch

ap = argparse.ArgumentParser()
ap.add_argument("dzn")
ap.add_argument("--opt", type=int, required=True)
ap.add_argument("--max-iter", type=int, default=100000)
ap.add_argument("--time-limit", type=float, default=120)
ap.add_argument("--no-forced", action="store_true", help="master without the forced-break count")
ap.add_argument("--relaxed-master", action="store_true",
                help="master = the whole window CNF with table limits only at L and L+1 (shares x with the sub)")
ap.add_argument("--pos-only", action="store_true", help="assume only the chosen boundary meetings")
a = ap.parse_args()

t0 = time.perf_counter()
inst = lunch.parse(a.dzn)
L = inst["L"]
base = lunch.base_domains(inst)
sc, x = lunch.window_cnf(inst, base, K=a.opt)
if a.relaxed_master:
    mc, _ = lunch.window_cnf(inst, base, K=a.opt, table_slots=(L, L + 1))
    u = {r: x[r][L] for r in range(len(x)) if L in x[r]}
    w = {r: x[r][L + 1] for r in range(len(x)) if L + 1 in x[r]}
else:
    mc, u, w, cov, split = lunch.boundary_cnf(inst, 0, None if a.no_forced else a.opt)
t1 = time.perf_counter()
master = Solver(name="cadical153", bootstrap_with=mc.cl)
sub = Solver(name="cadical153", bootstrap_with=sc.cl)
t2 = time.perf_counter()
print(f"encode {t1 - t0:.2f} s, load {t2 - t1:.2f} s; master vars {mc.n}, sub vars {sc.n} clauses {len(sc.cl)}", flush=True)

# assumption literal (sub) <-> master literal
pairs = []
for r, v in u.items():
    pairs.append((x[r][L], v))
for r, v in w.items():
    pairs.append((x[r][L + 1], v))
sub_to_master = {}
for sl, ml in pairs:
    sub_to_master[sl] = ml
    sub_to_master[-sl] = -ml

tm = ts = 0.0
core_sizes = []
it = 0
result = "limit"
while it < a.max_iter and time.perf_counter() - t2 < a.time_limit:
    it += 1
    s = time.perf_counter()
    ok = master.solve()
    tm += time.perf_counter() - s
    if not ok:
        result = f"master UNSAT: no boundary admits <= {a.opt} breaks"
        break
    mm = set(l for l in master.get_model() if l > 0)
    assum = [sl if ml in mm else -sl for sl, ml in pairs if (ml in mm or not a.pos_only)]
    s = time.perf_counter()
    ok = sub.solve(assumptions=assum)
    ts += time.perf_counter() - s
    if ok:
        model = set(l for l in sub.get_model() if l > 0)
        sched = lunch.decode(x, model)
        result = f"found: breaks {lunch.verify(inst, sched)}"
        break
    core = sub.get_core() or []
    core_sizes.append(len(core))
    if not core:
        result = f"sub UNSAT without assumptions: no schedule with <= {a.opt} breaks"
        break
    master.add_clause([-sub_to_master[l] for l in core])
    if it <= 3 or it % 5000 == 0:
        print(f"  iter {it}: core {len(core)} (of {len(assum)} assumptions), master {tm:.2f} s, sub {ts:.2f} s", flush=True)
wall = time.perf_counter() - t2
cs = sorted(core_sizes)
med = cs[len(cs) // 2] if cs else 0
print(f"{result}; iterations {it}, solve wall {wall:.2f} s (master {tm:.2f}, sub {ts:.2f}), "
      f"core sizes median {med}, max {cs[-1] if cs else 0}")
