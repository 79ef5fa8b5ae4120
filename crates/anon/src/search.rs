//! The full-domain generalisation lattice and its search.
//!
//! A node gives one generalisation level per quasi-identifier. The search has two phases:
//!
//! 1. **k-frontier, Flash-style** (Kohlmayer et al. 2012). The predicate "at most the allowed
//!    number of records lie in classes smaller than k′" (k′ = max(k, records l-diversity needs))
//!    is monotone: if a node satisfies it, every generalisation does; if it fails, every
//!    specialisation fails. Unknown nodes are taken bottom-up; from each, a greedy path climbs
//!    through untagged nodes and is binary-searched; every check tags all generalisations
//!    (satisfied) or all specialisations (failed), which are then never checked.
//! 2. **Optimum.** Every node that satisfies the full models also satisfies the predicate, so
//!    the candidates are the satisfied tags. With the loss metric they are visited in order of
//!    a lower bound (the loss without suppression, computed from per-level sums without
//!    grouping) and the visit stops once the bound reaches the best loss found, so the result
//!    is optimal. With discernibility every candidate is evaluated.
//!
//! When the lattice has more nodes than the configured limit, a bottom-up greedy walk is used
//! instead; its result is labelled as not optimal.

use crate::config::{Metric, Privacy};
use crate::hierarchy::Hierarchy;
use crate::model::{self, ClassFigures, SensitiveCodes};
use std::collections::HashMap;

/// The figures of one evaluated node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeFigures {
    pub node: Vec<usize>,
    /// Records in classes that fail the models (suppressed if the node is chosen).
    pub suppressed: usize,
    pub satisfied: bool,
    /// Iyengar's loss over all cells, suppressed records counting 1 per QI, in `[0, 1]`.
    pub loss: f64,
    /// Σ |E|² over kept classes + n per suppressed record.
    pub discernibility: f64,
}

/// The outcome of the search.
#[derive(Debug, Clone)]
pub(crate) struct SearchOutcome {
    pub best: Option<NodeFigures>,
    /// The node needing the fewest suppressed records (reported when there is no solution).
    pub closest: NodeFigures,
    pub nodes_checked: usize,
    pub lattice_size: u128,
    pub optimal: bool,
}

/// Everything the evaluation of a node needs.
pub(crate) struct Problem<'a> {
    pub hierarchies: &'a [Hierarchy],
    pub sensitive: &'a [SensitiveCodes],
    pub privacy: &'a Privacy,
    /// Records that may be suppressed.
    pub allowed: usize,
    pub metric: Metric,
}

impl Problem<'_> {
    fn rows(&self) -> usize {
        self.hierarchies.first().map_or(0, |h| h.row_codes[0].len())
    }

    /// Class sizes a node needs (k and the l of l-diversity).
    fn k_prime(&self) -> u32 {
        let l = self.privacy.l_diversity.map_or(1, |l| l.min_class_size());
        self.privacy.k.max(l)
    }

    /// Lower bound of the loss of `node`: the loss without suppression.
    fn loss_bound(&self, node: &[usize]) -> f64 {
        let n = self.rows() as f64 * self.hierarchies.len() as f64;
        let s: f64 = self.hierarchies.iter().zip(node).map(|(h, &l)| h.loss_sum[l]).sum();
        if n > 0.0 { s / n } else { 0.0 }
    }

    /// Evaluates `node`: classes, the models per class, suppression and loss.
    pub fn evaluate(&self, node: &[usize]) -> (NodeFigures, model::Classes, Vec<bool>) {
        let classes = model::classes(self.hierarchies, node);
        let figures: Vec<ClassFigures> = model::class_figures(&classes, self.sensitive, self.privacy);
        let kept: Vec<bool> = classes
            .sizes
            .iter()
            .zip(&figures)
            .map(|(&s, f)| model::class_ok(s, f, self.privacy))
            .collect();
        let n = self.rows();
        let nq = self.hierarchies.len() as f64;
        let mut suppressed = 0usize;
        let mut discernibility = 0.0;
        for (&s, &k) in classes.sizes.iter().zip(&kept) {
            if k {
                discernibility += f64::from(s) * f64::from(s);
            } else {
                suppressed += s as usize;
                discernibility += f64::from(s) * n as f64;
            }
        }
        let mut loss_total: f64 = self.hierarchies.iter().zip(node).map(|(h, &l)| h.loss_sum[l]).sum();
        if suppressed > 0 {
            for (row, &c) in classes.class_of_row.iter().enumerate() {
                if !kept[c as usize] {
                    let cell: f64 = self
                        .hierarchies
                        .iter()
                        .zip(node)
                        .map(|(h, &l)| h.loss[l][h.row_codes[l][row] as usize])
                        .sum();
                    loss_total += nq - cell;
                }
            }
        }
        let loss = if n > 0 { loss_total / (n as f64 * nq) } else { 0.0 };
        let fig = NodeFigures {
            node: node.to_vec(),
            suppressed,
            satisfied: suppressed <= self.allowed,
            loss,
            discernibility,
        };
        (fig, classes, kept)
    }

    fn score(&self, f: &NodeFigures) -> f64 {
        match self.metric {
            Metric::Loss => f.loss,
            Metric::Discernibility => f.discernibility,
        }
    }

    /// Searches the lattice (optimal, or greedy when larger than `lattice_limit`).
    pub fn search(&self, lattice_limit: u64) -> SearchOutcome {
        let lattice = Lattice::new(self.hierarchies.iter().map(|h| h.height()).collect());
        if lattice.size > u128::from(lattice_limit) {
            return self.greedy(&lattice);
        }
        self.optimal(&lattice)
    }

    fn optimal(&self, lattice: &Lattice) -> SearchOutcome {
        let size = lattice.size as usize;
        let k_prime = self.k_prime();
        let mut tag = vec![Tag::Unknown; size];
        let mut cache: HashMap<usize, NodeFigures> = HashMap::new();
        let mut closest: Option<NodeFigures> = None;
        let mut check = |idx: usize, cache: &mut HashMap<usize, NodeFigures>| -> bool {
            let node = lattice.node(idx);
            let (fig, classes, _) = self.evaluate(&node);
            let small: usize = classes
                .sizes
                .iter()
                .filter(|&&s| s < k_prime)
                .map(|&s| s as usize)
                .sum();
            if closest.as_ref().is_none_or(|c| fig.suppressed < c.suppressed) {
                closest = Some(fig.clone());
            }
            cache.insert(idx, fig);
            small <= self.allowed
        };
        // Phase 1: the monotone k′ predicate, by path-wise binary search with tagging.
        let mut order: Vec<usize> = (0..size).collect();
        order.sort_by_key(|&i| (lattice.height_of(i), i));
        for &start in &order {
            if tag[start] != Tag::Unknown {
                continue;
            }
            let mut path = vec![start];
            let mut cur = start;
            loop {
                let next = lattice
                    .successors(cur)
                    .filter(|&s| tag[s] == Tag::Unknown)
                    .min_by(|&a, &b| {
                        self.loss_bound(&lattice.node(a))
                            .total_cmp(&self.loss_bound(&lattice.node(b)))
                    });
                match next {
                    Some(s) => {
                        path.push(s);
                        cur = s;
                    }
                    None => break,
                }
            }
            let (mut lo, mut hi) = (0isize, path.len() as isize - 1);
            while lo <= hi {
                let mid = ((lo + hi) / 2) as usize;
                let idx = path[mid];
                let sat = match tag[idx] {
                    Tag::Satisfied => true,
                    Tag::Failed => false,
                    Tag::Unknown => {
                        let ok = check(idx, &mut cache);
                        if ok {
                            lattice.tag_up(idx, &mut tag);
                        } else {
                            lattice.tag_down(idx, &mut tag);
                        }
                        ok
                    }
                };
                if sat {
                    hi = mid as isize - 1;
                } else {
                    lo = mid as isize + 1;
                }
            }
        }
        // Phase 2: the optimum among the k′-satisfying nodes.
        let mut candidates: Vec<(f64, usize)> = (0..size)
            .filter(|&i| tag[i] == Tag::Satisfied)
            .map(|i| (self.loss_bound(&lattice.node(i)), i))
            .collect();
        candidates.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut best: Option<NodeFigures> = None;
        for (bound, idx) in candidates {
            if self.metric == Metric::Loss
                && let Some(b) = &best
                && bound >= b.loss
            {
                break;
            }
            let fig = match cache.get(&idx) {
                Some(f) => f.clone(),
                None => {
                    let (f, _, _) = self.evaluate(&lattice.node(idx));
                    if closest.as_ref().is_none_or(|c| f.suppressed < c.suppressed) {
                        closest = Some(f.clone());
                    }
                    cache.insert(idx, f.clone());
                    f
                }
            };
            if fig.satisfied && best.as_ref().is_none_or(|b| self.score(&fig) < self.score(b)) {
                best = Some(fig);
            }
        }
        let closest = match closest {
            Some(c) => c,
            None => self.evaluate(&lattice.node(size - 1)).0,
        };
        SearchOutcome {
            best,
            closest,
            nodes_checked: cache.len(),
            lattice_size: lattice.size,
            optimal: true,
        }
    }

    /// Bottom-up greedy: from the bottom, move to the successor needing the fewest suppressed
    /// records (ties: lower score) until the models hold. Not optimal.
    fn greedy(&self, lattice: &Lattice) -> SearchOutcome {
        let mut node = vec![0usize; self.hierarchies.len()];
        let mut checked = 1usize;
        let mut fig = self.evaluate(&node).0;
        let mut closest = fig.clone();
        while !fig.satisfied {
            let mut best_next: Option<NodeFigures> = None;
            for q in 0..node.len() {
                if node[q] + 1 < lattice.heights[q] {
                    let mut next = node.clone();
                    next[q] += 1;
                    let f = self.evaluate(&next).0;
                    checked += 1;
                    let better = best_next.as_ref().is_none_or(|b| {
                        (f.suppressed, self.score(&f)).partial_cmp(&(b.suppressed, self.score(b)))
                            == Some(std::cmp::Ordering::Less)
                    });
                    if better {
                        best_next = Some(f);
                    }
                }
            }
            let Some(next) = best_next else { break };
            node = next.node.clone();
            fig = next;
            if fig.suppressed < closest.suppressed {
                closest = fig.clone();
            }
        }
        SearchOutcome {
            best: fig.satisfied.then_some(fig),
            closest,
            nodes_checked: checked,
            lattice_size: lattice.size,
            optimal: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Unknown,
    Satisfied,
    Failed,
}

/// The lattice of nodes, indexed in mixed radix (the first QI varies slowest).
pub(crate) struct Lattice {
    pub heights: Vec<usize>,
    strides: Vec<usize>,
    pub size: u128,
}

impl Lattice {
    pub fn new(heights: Vec<usize>) -> Lattice {
        let size: u128 = heights.iter().map(|&h| h as u128).product();
        let mut strides = vec![1usize; heights.len()];
        for q in (0..heights.len().saturating_sub(1)).rev() {
            strides[q] = strides[q + 1].saturating_mul(heights[q + 1]);
        }
        Lattice { heights, strides, size }
    }

    pub fn node(&self, idx: usize) -> Vec<usize> {
        self.heights
            .iter()
            .zip(&self.strides)
            .map(|(&h, &s)| (idx / s) % h)
            .collect()
    }

    fn height_of(&self, idx: usize) -> usize {
        self.node(idx).iter().sum()
    }

    fn successors(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        let node = self.node(idx);
        (0..self.heights.len())
            .filter(move |&q| node[q] + 1 < self.heights[q])
            .map(move |q| idx + self.strides[q])
    }

    fn predecessors(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        let node = self.node(idx);
        (0..self.heights.len())
            .filter(move |&q| node[q] > 0)
            .map(move |q| idx - self.strides[q])
    }

    /// Tags `idx` and every generalisation of it as satisfied (the set stays up-closed).
    fn tag_up(&self, idx: usize, tag: &mut [Tag]) {
        let mut stack = vec![idx];
        tag[idx] = Tag::Satisfied;
        while let Some(i) = stack.pop() {
            for s in self.successors(i) {
                if tag[s] == Tag::Unknown {
                    tag[s] = Tag::Satisfied;
                    stack.push(s);
                }
            }
        }
    }

    /// Tags `idx` and every specialisation of it as failed (the set stays down-closed).
    fn tag_down(&self, idx: usize, tag: &mut [Tag]) {
        let mut stack = vec![idx];
        tag[idx] = Tag::Failed;
        while let Some(i) = stack.pop() {
            for p in self.predecessors(i) {
                if tag[p] == Tag::Unknown {
                    tag[p] = Tag::Failed;
                    stack.push(p);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::pipeline::Prepared;
    use std::sync::Arc;

    const DICT: &str = include_str!("../tests/fixtures/adult-dictionary.toml");
    const DATA: &str = include_str!("../tests/fixtures/adult-sample.csv");
    const CONFIG: &str = include_str!("../tests/fixtures/adult-sample-k5l2.toml");

    /// The search's optimum equals the best node found by evaluating every node, for each
    /// model combination and both metrics (models with suppression are not monotone, so this
    /// also checks that the lower-bound pruning never skips the optimum).
    #[test]
    fn search_finds_the_brute_force_optimum() {
        let dict = Arc::new(table::Dictionary::from_toml(DICT, "adult-dictionary.toml").unwrap());
        let t = table::csv::read_table(DATA.as_bytes(), "adult-sample.csv", dict, &Default::default()).unwrap();
        let variants = [
            ("k = 5\nl = 2", "0.05", "loss"),
            ("k = 5", "0.01", "loss"),
            ("k = 3\nt = 0.2", "0.02", "loss"),
            ("k = 2\nl = 1.5\nl_variant = \"entropy\"", "0.03", "loss"),
            (
                "k = 5\nl = 2\nl_variant = \"recursive\"\nc = 4",
                "0.05",
                "discernibility",
            ),
            ("k = 10", "0.0", "discernibility"),
        ];
        let mut solved = 0;
        for (privacy, limit, metric) in variants {
            let text = CONFIG.replace("k = 5\nl = 2", privacy).replace(
                "suppression_limit = 0.05",
                &format!("suppression_limit = {limit}\nmetric = \"{metric}\""),
            );
            let config = Config::from_toml(&text, "variant.toml").unwrap();
            let prepared = Prepared::new(&t, &config, None).unwrap();
            let problem = prepared.problem();
            let found = problem.search(100_000);
            let lattice = Lattice::new(prepared.hierarchies.iter().map(|h| h.height()).collect());
            let mut best: Option<NodeFigures> = None;
            for idx in 0..lattice.size as usize {
                let f = problem.evaluate(&lattice.node(idx)).0;
                if f.satisfied && best.as_ref().is_none_or(|b| problem.score(&f) < problem.score(b)) {
                    best = Some(f);
                }
            }
            let what = format!("{privacy} / {limit} / {metric}");
            match (&found.best, &best) {
                (Some(a), Some(b)) => {
                    solved += 1;
                    assert!(
                        (problem.score(a) - problem.score(b)).abs() < 1e-9,
                        "{what}: {a:?} vs {b:?}"
                    );
                }
                (None, None) => {}
                (a, b) => panic!("{what}: search {a:?}, brute force {b:?}"),
            }
            assert!(found.nodes_checked <= lattice.size as usize);
        }
        assert_eq!(solved, variants.len(), "every variant has a solution on this sample");
    }

    /// Full Adult (path in `ANON_ADULT_CSV`, e.g. /work/shared/data/adult.csv) with
    /// `examples/anonymize/adult.toml`: times the search and checks it against brute force.
    #[test]
    #[ignore = "needs the Adult CSV (ANON_ADULT_CSV) and about a minute"]
    fn adult_search_is_optimal_and_fast() {
        let Ok(path) = std::env::var("ANON_ADULT_CSV") else {
            panic!("set ANON_ADULT_CSV to the Adult CSV path");
        };
        let dict = Arc::new(table::Dictionary::from_toml(DICT, "adult-dictionary.toml").unwrap());
        let file = std::fs::File::open(&path).unwrap();
        let t = table::csv::read_table(std::io::BufReader::new(file), &path, dict, &Default::default()).unwrap();
        let text = include_str!("../../../examples/anonymize/adult.toml");
        let config = Config::from_toml(text, "adult.toml").unwrap();
        let start = std::time::Instant::now();
        let prepared = Prepared::new(&t, &config, None).unwrap();
        let problem = prepared.problem();
        let found = problem.search(config.lattice_limit);
        let search_secs = start.elapsed().as_secs_f64();
        let lattice = Lattice::new(prepared.hierarchies.iter().map(|h| h.height()).collect());
        let start = std::time::Instant::now();
        let mut best: Option<NodeFigures> = None;
        for idx in 0..lattice.size as usize {
            let f = problem.evaluate(&lattice.node(idx)).0;
            if f.satisfied && best.as_ref().is_none_or(|b| problem.score(&f) < problem.score(b)) {
                best = Some(f);
            }
        }
        let brute_secs = start.elapsed().as_secs_f64();
        let (a, b) = (found.best.unwrap(), best.unwrap());
        eprintln!(
            "adult: lattice {} nodes, {} checked, search {search_secs:.2} s (encoding included); \
             node {:?} loss {:.6}; brute force {:?} loss {:.6} in {brute_secs:.1} s",
            lattice.size, found.nodes_checked, a.node, a.loss, b.node, b.loss
        );
        assert!((a.loss - b.loss).abs() < 1e-12);
        assert!(search_secs < 10.0);
    }
}
