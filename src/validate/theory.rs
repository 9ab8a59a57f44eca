//! Closed-form queueing results the validation suite compares the simulator with.
//!
//! Everything here is computed from a case's parameters alone, in seconds and per-second
//! rates, and shares no code with the model: the traffic equations are solved afresh (Gaussian
//! elimination), not through [`crate::model::network::Network::expected_visits`], so a bug in
//! one cannot hide a bug in the other.
//!
//! References: Erlang C and the M/M/c waiting-time distribution, Kleinrock, *Queueing Systems*
//! vol. 1 (1975) §3.5; Pollaczek–Khinchine mean value formula, ibid. §5.7; Jackson networks,
//! Jackson (1963) and Kleinrock §4.8.

/// An M/M/c station: Poisson arrivals at `lambda` per second, `c` servers each serving at
/// `mu` per second, FIFO, unbounded queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mmc {
    pub lambda: f64,
    pub mu: f64,
    pub c: u32,
}

impl Mmc {
    /// Utilization per server, λ / (cμ).
    pub fn rho(&self) -> f64 {
        self.lambda / (f64::from(self.c) * self.mu)
    }

    /// Erlang C: the probability that an arrival finds every server busy and waits. Computed
    /// through the Erlang B recursion B(k) = a·B(k−1) / (k + a·B(k−1)), which never overflows,
    /// then C = B / (1 − ρ(1 − B)).
    pub fn wait_probability(&self) -> f64 {
        let a = self.lambda / self.mu;
        let mut b = 1.0;
        for k in 1..=self.c {
            b = a * b / (f64::from(k) + a * b);
        }
        let rho = self.rho();
        b / (1.0 - rho * (1.0 - b))
    }

    /// The rate of the exponential tail of the waiting time, cμ − λ.
    fn drain_rate(&self) -> f64 {
        f64::from(self.c) * self.mu - self.lambda
    }

    /// Mean waiting time before service, seconds: C / (cμ − λ).
    pub fn mean_wait(&self) -> f64 {
        self.wait_probability() / self.drain_rate()
    }

    /// Mean time in the station, seconds: mean wait + 1/μ.
    pub fn mean_sojourn(&self) -> f64 {
        self.mean_wait() + 1.0 / self.mu
    }

    /// The waiting time at quantile `p`, seconds, from P(Wq > t) = C·exp(−(cμ − λ)t):
    /// t_p = ln(C / (1 − p)) / (cμ − λ) when C > 1 − p, else 0 (the atom at zero).
    pub fn wait_quantile(&self, p: f64) -> f64 {
        let c = self.wait_probability();
        if c <= 1.0 - p {
            0.0
        } else {
            (c / (1.0 - p)).ln() / self.drain_rate()
        }
    }

    /// Single server only: the sojourn time of FIFO M/M/1 is exponential with rate μ − λ,
    /// so its quantile p is −ln(1 − p) / (μ − λ), seconds.
    pub fn mm1_sojourn_quantile(&self, p: f64) -> f64 {
        assert_eq!(
            self.c, 1,
            "the exponential sojourn law holds for one server only"
        );
        -(1.0 - p).ln() / (self.mu - self.lambda)
    }

    /// The relaxation time of the station's queue, seconds: 1 / (cμ(1 − √ρ)²), the time
    /// constant with which an empty start's bias decays (Abate & Whitt, "Transient behavior
    /// of the M/M/1 queue", 1987; for c servers the heavy-traffic analogue with rate cμ).
    pub fn relaxation_time(&self) -> f64 {
        let r = 1.0 - self.rho().sqrt();
        1.0 / (f64::from(self.c) * self.mu * r * r)
    }
}

/// An M/M/c/K loss system: c servers at rate μ, room for `room` waiting copies (K = c + room
/// in the system), Poisson arrivals at λ; an arrival that finds K present is lost.
#[derive(Clone, Copy, Debug)]
pub struct Mmck {
    pub lambda: f64,
    pub mu: f64,
    pub c: u32,
    pub room: u32,
}

impl Mmck {
    /// The stationary probabilities p_0 … p_K of the birth–death chain: p_n ∝ aⁿ/n! for n ≤ c
    /// and ∝ a^c/c! · (a/c)^(n−c) above, with a = λ/μ (built by the ratio p_n/p_(n−1) =
    /// a / min(n, c), so nothing overflows).
    pub fn distribution(&self) -> Vec<f64> {
        let a = self.lambda / self.mu;
        let k = self.c + self.room;
        let mut p = vec![1.0];
        for n in 1..=k {
            let prev = p[n as usize - 1];
            p.push(prev * a / f64::from(n.min(self.c)));
        }
        let total: f64 = p.iter().sum();
        p.iter().map(|x| x / total).collect()
    }

    /// The probability that an arrival is lost: p_K (arrivals see time averages, PASTA).
    /// For room = 0 this is Erlang B.
    pub fn blocking_probability(&self) -> f64 {
        *self.distribution().last().expect("K + 1 states")
    }

    /// Mean time in the system of an admitted copy, seconds: L / (λ(1 − p_K)) (Little).
    pub fn mean_sojourn(&self) -> f64 {
        let p = self.distribution();
        let l: f64 = p.iter().enumerate().map(|(n, x)| n as f64 * x).sum();
        l / (self.lambda * (1.0 - self.blocking_probability()))
    }
}

/// Pollaczek–Khinchine: the mean wait of an M/G/1 queue, seconds, from the arrival rate λ,
/// the mean service time E[S] and its second moment E[S²]: λE[S²] / (2(1 − λE[S])).
pub fn pollaczek_khinchine_wait(lambda: f64, mean_s: f64, second_moment_s: f64) -> f64 {
    lambda * second_moment_s / (2.0 * (1.0 - lambda * mean_s))
}

/// An open Jackson network of M/M/c stations: `external[i]` Poisson arrivals per second
/// enter station i; after service at i a customer goes to j with probability
/// `routing[i][j]` and leaves with the rest.
#[derive(Clone, Debug)]
pub struct Jackson {
    pub stations: Vec<(u32, f64)>,
    pub external: Vec<f64>,
    pub routing: Vec<Vec<f64>>,
}

impl Jackson {
    /// The traffic equations Λ = γ + PᵀΛ, solved by Gaussian elimination with partial
    /// pivoting: the total arrival rate at each station, per second.
    pub fn arrival_rates(&self) -> Vec<f64> {
        let n = self.stations.len();
        // Row i: Λ_i − Σ_j P[j][i] Λ_j = γ_i.
        let mut a: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                let mut row: Vec<f64> = (0..n).map(|j| -self.routing[j][i]).collect();
                row[i] += 1.0;
                row.push(self.external[i]);
                row
            })
            .collect();
        for col in 0..n {
            let pivot = (col..n)
                .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
                .expect("non-empty range");
            a.swap(col, pivot);
            let pivot_row = a[col].clone();
            for (r, row) in a.iter_mut().enumerate() {
                if r != col {
                    let f = row[col] / pivot_row[col];
                    for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                        *x -= f * p;
                    }
                }
            }
        }
        (0..n).map(|i| a[i][n] / a[i][i]).collect()
    }

    /// Each station as the M/M/c queue it is in the product form.
    pub fn marginals(&self) -> Vec<Mmc> {
        self.arrival_rates()
            .into_iter()
            .zip(&self.stations)
            .map(|(lambda, &(c, mu))| Mmc { lambda, mu, c })
            .collect()
    }

    /// Mean time from entering the network to leaving it, seconds: by Little's law the mean
    /// number in the network, Σ Λ_i·W_i, divided by the external arrival rate Σ γ_i.
    pub fn mean_sojourn(&self) -> f64 {
        let in_network: f64 = self
            .marginals()
            .iter()
            .map(|m| m.lambda * m.mean_sojourn())
            .sum();
        in_network / self.external.iter().sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn erlang_c_matches_textbook_values() {
        // One server: C = ρ. Two servers: C = 2ρ² / (1 + ρ) (Kleinrock eq. 3.40 for c = 2).
        let m1 = Mmc {
            lambda: 8.0,
            mu: 10.0,
            c: 1,
        };
        assert!(close(m1.wait_probability(), 0.8, 1e-12));
        let m2 = Mmc {
            lambda: 10.0,
            mu: 10.0,
            c: 2,
        };
        assert!(close(m2.wait_probability(), 2.0 * 0.25 / 1.5, 1e-12));
        // A table value: c = 10, a = 8 erlangs → C = 0.40918 (Erlang C tables, 5 digits).
        let m10 = Mmc {
            lambda: 8.0,
            mu: 1.0,
            c: 10,
        };
        assert!(close(m10.wait_probability(), 0.40918, 1e-4));
    }

    #[test]
    fn mm1_formulas_agree_with_each_other() {
        let m = Mmc {
            lambda: 80.0,
            mu: 100.0,
            c: 1,
        };
        assert!(close(m.mean_sojourn(), 1.0 / 20.0, 1e-12));
        assert!(close(m.mean_wait(), 0.8 / 20.0, 1e-12));
        // P-K with exponential service (E[S²] = 2/μ²) is the M/M/1 mean wait.
        let pk = pollaczek_khinchine_wait(80.0, 0.01, 2.0 * 0.01 * 0.01);
        assert!(close(pk, m.mean_wait(), 1e-12));
        // Median of the exponential sojourn: ln 2 / (μ − λ).
        assert!(close(m.mm1_sojourn_quantile(0.5), 2f64.ln() / 20.0, 1e-12));
        // Waiting-time quantile: P(Wq > t) = ρ e^{−(μ−λ)t}.
        let t = m.wait_quantile(0.9);
        assert!(close(0.8 * (-20.0 * t).exp(), 0.1, 1e-12));
        assert_eq!(
            m.wait_quantile(0.1),
            0.0,
            "80% wait, so the 10% quantile is 0"
        );
    }

    #[test]
    fn jackson_tandem_is_the_sum_of_its_stations() {
        // The bundled tandem scenario: 90/s through 4×30/s, 2×60/s, 8×15/s; its comment gives
        // 50.31 + 38.10 + 78.57 = 166.98 ms.
        let j = Jackson {
            stations: vec![(4, 30.0), (2, 60.0), (8, 15.0)],
            external: vec![90.0, 0.0, 0.0],
            routing: vec![
                vec![0.0, 1.0, 0.0],
                vec![0.0, 0.0, 1.0],
                vec![0.0, 0.0, 0.0],
            ],
        };
        let rates = j.arrival_rates();
        assert!(rates.iter().all(|r| close(*r, 90.0, 1e-12)), "{rates:?}");
        let ms: Vec<f64> = j
            .marginals()
            .iter()
            .map(|m| m.mean_sojourn() * 1e3)
            .collect();
        for (got, want) in ms.iter().zip([50.31, 38.10, 78.57]) {
            assert!((got - want).abs() < 0.005, "{got} vs {want}");
        }
        assert!((j.mean_sojourn() * 1e3 - 166.98).abs() < 0.01);
    }

    #[test]
    fn jackson_feedback_scales_by_expected_visits() {
        // One M/M/1 station with feedback probability p: Λ = λ / (1 − p), and each customer
        // makes 1 / (1 − p) visits of mean 1 / (μ − Λ).
        let (lambda, mu, p) = (30.0, 100.0, 0.25);
        let j = Jackson {
            stations: vec![(1, mu)],
            external: vec![lambda],
            routing: vec![vec![p]],
        };
        let big = lambda / (1.0 - p);
        assert!(close(j.arrival_rates()[0], big, 1e-12));
        assert!(close(j.mean_sojourn(), 1.0 / (1.0 - p) / (mu - big), 1e-12));
    }

    /// Erlang B at room 0 (B(c, a) by its recursion), and the M/M/1/K closed form
    /// p_K = (1 − ρ)ρ^K / (1 − ρ^(K+1)).
    #[test]
    fn mmck_matches_erlang_b_and_the_mm1k_closed_form() {
        let q = Mmck {
            lambda: 3.0,
            mu: 1.0,
            c: 4,
            room: 0,
        };
        let mut b = 1.0;
        for k in 1..=4 {
            b = 3.0 * b / (f64::from(k) + 3.0 * b);
        }
        assert!((q.blocking_probability() - b).abs() < 1e-12);
        let (rho, k) = (0.8f64, 5);
        let q = Mmck {
            lambda: 0.8,
            mu: 1.0,
            c: 1,
            room: k - 1,
        };
        let want = (1.0 - rho) * rho.powi(k as i32) / (1.0 - rho.powi(k as i32 + 1));
        assert!((q.blocking_probability() - want).abs() < 1e-12);
        assert!((q.distribution().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
