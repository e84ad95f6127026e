//! Places a dependency graph in columns and finds its critical path.
//!
//! Edges are `(waiting, waits_for)`: work flows from `waits_for` (left) to `waiting`
//! (right). A node's column is the length of the longest chain of open work before it
//! (Kahn's order); nodes on a cycle get no such order and go one column past their ordered
//! predecessors, marked `in_cycle`. Within a column, nodes sit near the mean row of what they
//! wait for (one barycentre sweep), which keeps most edges short and uncrossed.

use std::collections::{HashSet, VecDeque};

/// Where each node goes and what lies on the critical path.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Column of each node (0: waits for nothing open).
    pub column: Vec<usize>,
    /// Row of each node within its column.
    pub row: Vec<usize>,
    /// Columns used.
    pub columns: usize,
    /// Rows of the fullest column.
    pub rows: usize,
    /// The nodes of the critical path, first to last: the chain of dependencies with the
    /// largest total weight (estimate, or 1 for an issue without one).
    pub critical: Vec<usize>,
    /// Whether each node is on a dependency cycle (no order can satisfy it).
    pub in_cycle: Vec<bool>,
}

impl Layout {
    /// Whether the edge `(waiting, waits_for)` is a step of the critical path.
    pub fn critical_edge(&self, waiting: usize, waits_for: usize) -> bool {
        self.critical
            .windows(2)
            .any(|w| w[0] == waits_for && w[1] == waiting)
    }
}

/// Lays out `n` nodes joined by `edges` (`(waiting, waits_for)`, positions below `n`);
/// `weight(i)` is node `i`'s share of the critical path.
pub fn layout(n: usize, edges: &[(usize, usize)], weight: impl Fn(usize) -> f64) -> Layout {
    let mut before: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut after: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut seen = HashSet::new();
    for &(waiting, waits_for) in edges {
        if waiting < n && waits_for < n && waiting != waits_for && seen.insert((waiting, waits_for))
        {
            before[waiting].push(waits_for);
            after[waits_for].push(waiting);
        }
    }
    // Kahn's order: a node is placed once everything it waits for is.
    let mut waiting_on: Vec<usize> = before.iter().map(Vec::len).collect();
    let mut queue: VecDeque<usize> = (0..n).filter(|&i| waiting_on[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    let mut column = vec![0usize; n];
    let mut placed = vec![false; n];
    while let Some(v) = queue.pop_front() {
        placed[v] = true;
        order.push(v);
        for &w in &after[v] {
            column[w] = column[w].max(column[v] + 1);
            waiting_on[w] -= 1;
            if waiting_on[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    let in_cycle: Vec<bool> = placed.iter().map(|p| !p).collect();
    let deepest = column
        .iter()
        .zip(&placed)
        .filter(|(_, p)| **p)
        .map(|(c, _)| *c)
        .max()
        .unwrap_or(0);
    for v in (0..n).filter(|&v| in_cycle[v]) {
        // One column past what it waits for that has an order; the last column when nothing
        // does, so that a cycle stands apart from the work that can start.
        let from_placed = before[v]
            .iter()
            .filter(|u| placed[**u])
            .map(|u| column[*u] + 1)
            .max();
        column[v] = from_placed.unwrap_or(deepest + 1);
    }

    // The critical path: the heaviest chain, over the nodes that have an order.
    let mut total = vec![0f64; n];
    let mut via: Vec<Option<usize>> = vec![None; n];
    for &v in &order {
        let best = before[v]
            .iter()
            .filter(|u| placed[**u])
            .max_by(|a, b| total[**a].total_cmp(&total[**b]).then(b.cmp(a)));
        total[v] = weight(v).max(0.0) + best.map_or(0.0, |u| total[*u]);
        via[v] = best.copied();
    }
    let mut critical = Vec::new();
    let end = order
        .iter()
        .copied()
        .max_by(|a, b| total[*a].total_cmp(&total[*b]).then(b.cmp(a)));
    let mut at = end.filter(|_| !edges.is_empty());
    while let Some(v) = at {
        critical.push(v);
        at = via[v];
    }
    critical.reverse();
    if critical.len() < 2 {
        critical.clear();
    }

    // Rows: columns filled left to right, each sorted by the mean row of what it waits for.
    let columns = column.iter().max().map_or(0, |c| c + 1);
    let mut row = vec![0usize; n];
    let mut rows = 0;
    let mut by_column: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for v in 0..n {
        by_column[column[v]].push(v);
    }
    for (c, nodes) in by_column.into_iter().enumerate() {
        let key = |v: usize| -> f64 {
            let left: Vec<usize> = before[v]
                .iter()
                .filter(|u| column[**u] < c)
                .map(|u| row[*u])
                .collect();
            if left.is_empty() {
                f64::MAX
            } else {
                left.iter().sum::<usize>() as f64 / left.len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize)> = nodes.iter().map(|&v| (key(v), v)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let nodes: Vec<usize> = keyed.into_iter().map(|k| k.1).collect();
        for (r, &v) in nodes.iter().enumerate() {
            row[v] = r;
        }
        rows = rows.max(nodes.len());
    }
    Layout {
        column,
        row,
        columns,
        rows,
        critical,
        in_cycle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_goes_left_to_right_and_is_the_critical_path() {
        // 2 waits for 1, 1 waits for 0; 3 waits for 0 alone.
        let l = layout(4, &[(1, 0), (2, 1), (3, 0)], |_| 1.0);
        assert_eq!(l.column, vec![0, 1, 2, 1]);
        assert_eq!(l.critical, vec![0, 1, 2]);
        assert!(l.critical_edge(1, 0) && l.critical_edge(2, 1));
        assert!(!l.critical_edge(3, 0));
        assert_eq!(l.columns, 3);
        assert_eq!(l.rows, 2);
        assert!(l.in_cycle.iter().all(|c| !c));
    }

    #[test]
    fn estimates_weigh_the_critical_path() {
        // Two chains into 4: 0 → 1 → 4 (light) and 2 → 4 (one heavy issue).
        let l = layout(5, &[(1, 0), (4, 1), (4, 2)], |v| {
            if v == 2 { 10.0 } else { 1.0 }
        });
        assert_eq!(l.critical, vec![2, 4]);
    }

    #[test]
    fn a_cycle_is_marked_and_still_placed() {
        let l = layout(3, &[(1, 0), (2, 1), (1, 2)], |_| 1.0);
        assert_eq!(l.in_cycle, vec![false, true, true]);
        assert_eq!(l.column[1], 1);
        assert_eq!(l.critical, Vec::<usize>::new());
        // Every node has a distinct place.
        let places: HashSet<(usize, usize)> = (0..3).map(|v| (l.column[v], l.row[v])).collect();
        assert_eq!(places.len(), 3);
    }
}
