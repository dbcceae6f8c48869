#!/usr/bin/env python3
"""Round 10: is there a descent path in the space of boundaries? From the boundary of a schedule
with B breaks, try every single swap (one meeting at L or L+1 replaced by another meeting that
involves one of the schedule's breakers) and ask CaDiCaL for <= B-1 breaks with that boundary.

    taskset -c 1 python3 swaps.py DZN START.json --target B-1 [--limit N]
"""
import argparse, json, time
import lunch

ap = argparse.ArgumentParser()
ap.add_argument("dzn"); ap.add_argument("start")
ap.add_argument("--target", type=int, required=True)
ap.add_argument("--limit", type=int, default=400)
a = ap.parse_args()
inst = lunch.parse(a.dzn); L = inst["L"]; rows = inst["rows"]
s0 = json.load(open(a.start)); base = lunch.base_domains(inst)
per, _ = lunch.breaks_of(inst, s0)
breakers = {q for q, n in per.items() if n}
print("breakers (1-based):", sorted(q + 1 for q in breakers))
res = {}; tot = 0.0; n = 0; t0 = time.perf_counter()
for slot in (L, L + 1):
    here = [r for r, t in enumerate(s0) if t == slot]
    for out in here:
        used = {p for r in here if r != out for p in rows[r][:2]}
        for inn in range(len(rows)):
            if s0[inn] in (L, L + 1) or slot not in base[inn] or used & set(rows[inn][:2]):
                continue
            if not breakers & set(rows[inn][:2]):
                continue
            if n >= a.limit:
                break
            s = list(s0); s[out] = -1; s[inn] = slot
            dom = [[t] if t in (L, L + 1) else [u for u in d if u not in (L, L + 1)] for d, t in zip(base, s)]
            c, x = lunch.window_cnf(inst, dom, K=a.target)
            st, dt, m = c.solve(timeout=30, tag="swap")
            n += 1; tot += dt; res[st] = res.get(st, 0) + 1
            if st != "UNSAT":
                print(f"slot {slot + 1} out {out} in {inn}: {st} {dt:.2f} s", flush=True)
print(f"{n} swaps tried, {res}, cadical total {tot:.1f} s, wall {time.perf_counter() - t0:.1f} s")
