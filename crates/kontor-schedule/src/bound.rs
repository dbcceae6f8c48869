//! Upper bound on the total weight (objective level 2): the fractional
//! degree-constrained b-matching LP
//!
//! max Σ w_r y_r  s.t.  Σ_{r ∋ p} y_r ≤ b_p,  Σ_{on-site r} y_r ≤ Σ_t tables_t,  0 ≤ y ≤ 1,
//!
//! solved exactly as a max-profit flow on the bipartite double cover (each
//! participant p appears as p_L and p_R; a request {p, q} gives arcs p_L→q_R and
//! q_L→p_R of capacity 1 and profit w; y_r is half the flow on its two arcs).
//! `b_p` is the number of distinct slots in which p can hold any of its requests
//! (capped by its maximum number of meetings). Group requests (3–4 people) are
//! relaxed to "always held", which keeps the bound valid.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::problem::Problem;

struct Graph {
    head: Vec<usize>,
    to: Vec<usize>,
    cap: Vec<i64>,
    cost: Vec<i64>,
    next: Vec<usize>,
}

const NIL: usize = usize::MAX;

impl Graph {
    fn new(n: usize) -> Graph {
        Graph {
            head: vec![NIL; n],
            to: Vec::new(),
            cap: Vec::new(),
            cost: Vec::new(),
            next: Vec::new(),
        }
    }

    fn arc(&mut self, u: usize, v: usize, cap: i64, cost: i64) {
        for (a, b, c, k) in [(u, v, cap, cost), (v, u, 0, -cost)] {
            self.to.push(b);
            self.cap.push(c);
            self.cost.push(k);
            self.next.push(self.head[a]);
            self.head[a] = self.to.len() - 1;
        }
    }
}

/// The upper bound on Σ base weights of held requests.
pub(crate) fn weight_upper_bound(p: &Problem) -> u64 {
    let n = p.parts.len();
    let mut union = vec![0u128; n];
    let mut group_weight = 0u64;
    let mut pairs = Vec::new();
    let mut any_online = false;
    for r in &p.reqs {
        if r.domain == 0 {
            continue;
        }
        for &m in &r.members {
            union[m as usize] |= r.domain;
        }
        if r.members.len() == 2 {
            pairs.push((
                r.members[0] as usize,
                r.members[1] as usize,
                i64::from(r.base),
            ));
            any_online |= !r.onsite;
        } else {
            group_weight += u64::from(r.base);
        }
    }
    let (s, t) = (2 * n, 2 * n + 1);
    let mut g = Graph::new(2 * n + 2);
    for (i, part) in p.parts.iter().enumerate() {
        let b = i64::from(union[i].count_ones().min(part.max));
        if b > 0 {
            g.arc(s, i, b, 0);
            g.arc(n + i, t, b, 0);
        }
    }
    for &(a, b, w) in &pairs {
        g.arc(a, n + b, 1, -w);
        g.arc(b, n + a, 1, -w);
    }
    let limit = if any_online {
        i64::MAX
    } else {
        2 * p.cap.iter().map(|&c| i64::from(c)).sum::<i64>()
    };
    let cost = min_cost_flow(&mut g, s, t, limit);
    group_weight + (-cost / 2) as u64
}

/// Primal-dual min-cost flow that stops when the cheapest path is no longer
/// negative or `limit` units were sent; returns the total cost.
fn min_cost_flow(g: &mut Graph, s: usize, t: usize, limit: i64) -> i64 {
    let nv = g.head.len();
    // Initial potentials: the graph is a DAG s -> L -> R -> t.
    let mut h = vec![0i64; nv];
    let mut order: Vec<usize> = Vec::with_capacity(nv);
    order.push(s);
    order.extend((0..nv).filter(|&v| v != s && v != t));
    order.push(t);
    let mut dist = vec![i64::MAX; nv];
    dist[s] = 0;
    // Relax in layer order twice (L nodes are before R nodes in `order`).
    for _ in 0..2 {
        for &u in &order {
            if dist[u] == i64::MAX {
                continue;
            }
            let mut e = g.head[u];
            while e != NIL {
                if g.cap[e] > 0 && dist[u] + g.cost[e] < dist[g.to[e]] {
                    dist[g.to[e]] = dist[u] + g.cost[e];
                }
                e = g.next[e];
            }
        }
    }
    for v in 0..nv {
        h[v] = if dist[v] == i64::MAX { 0 } else { dist[v] };
    }
    let mut flow = 0i64;
    let mut total = 0i64;
    let mut level = vec![0u32; nv];
    let mut it = vec![0usize; nv];
    while flow < limit {
        // Dijkstra on reduced costs.
        dist.fill(i64::MAX);
        dist[s] = 0;
        let mut heap = BinaryHeap::new();
        heap.push(Reverse((0i64, s)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u] {
                continue;
            }
            let mut e = g.head[u];
            while e != NIL {
                let v = g.to[e];
                if g.cap[e] > 0 {
                    let nd = d + g.cost[e] + h[u] - h[v];
                    if nd < dist[v] {
                        dist[v] = nd;
                        heap.push(Reverse((nd, v)));
                    }
                }
                e = g.next[e];
            }
        }
        if dist[t] == i64::MAX {
            break;
        }
        for v in 0..nv {
            if dist[v] != i64::MAX {
                h[v] += dist[v];
            }
        }
        let path_cost = h[t] - h[s];
        if path_cost >= 0 {
            break;
        }
        // Dinic on admissible arcs (reduced cost 0).
        loop {
            level.fill(u32::MAX);
            level[s] = 0;
            let mut q = VecDeque::from([s]);
            while let Some(u) = q.pop_front() {
                let mut e = g.head[u];
                while e != NIL {
                    let v = g.to[e];
                    if g.cap[e] > 0 && level[v] == u32::MAX && g.cost[e] + h[u] - h[v] == 0 {
                        level[v] = level[u] + 1;
                        q.push_back(v);
                    }
                    e = g.next[e];
                }
            }
            if level[t] == u32::MAX {
                break;
            }
            it.copy_from_slice(&g.head);
            loop {
                let pushed = augment(g, &h, &level, &mut it, s, t, limit - flow);
                if pushed == 0 {
                    break;
                }
                flow += pushed;
                total += pushed * path_cost;
                if flow >= limit {
                    return total;
                }
            }
        }
    }
    total
}

/// One augmenting path in the level graph (iterative DFS); returns the amount pushed.
fn augment(
    g: &mut Graph,
    h: &[i64],
    level: &[u32],
    it: &mut [usize],
    s: usize,
    t: usize,
    want: i64,
) -> i64 {
    let mut path: Vec<usize> = Vec::new();
    let mut u = s;
    loop {
        if u == t {
            let amount = path.iter().map(|&e| g.cap[e]).min().unwrap_or(0).min(want);
            for &e in &path {
                g.cap[e] -= amount;
                g.cap[e ^ 1] += amount;
            }
            return amount;
        }
        let mut advanced = false;
        while it[u] != NIL {
            let e = it[u];
            let v = g.to[e];
            if g.cap[e] > 0 && level[v] == level[u] + 1 && g.cost[e] + h[u] - h[v] == 0 {
                path.push(e);
                u = v;
                advanced = true;
                break;
            }
            it[u] = g.next[e];
        }
        if !advanced {
            if u == s {
                return 0;
            }
            let e = path.pop().expect("non-empty path");
            u = g.to[e ^ 1];
            it[u] = g.next[it[u]];
        }
    }
}
