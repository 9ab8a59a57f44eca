"""The tandem M/M/c model of scenarios/tandem-mmc.toml in SimPy 4 and Ciw 3, timed.

Poisson arrivals at 90/s through three FIFO stations in series: 4 servers at 30/s each,
2 at 60/s, 8 at 15/s (utilization 0.75 everywhere). Each run generates a fixed number of
messages and runs until all of them have left the last station, like mailflow's
`run.messages` bound. Prints one `impl=... messages=... median_s=... msgs_per_s=...` line per
peer (median over the rounds) and, as a sanity check, the mean end-to-end sojourn, which
queueing theory puts at 166.98 ms.

Usage: python peers.py MESSAGES ROUNDS [simpy|ciw|both]
"""

import random
import statistics
import sys
import time

ARRIVAL_RATE = 90.0
STATIONS = [(4, 30.0), (2, 60.0), (8, 15.0)]


def run_simpy(messages, seed):
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    stations = [(simpy.Resource(env, capacity=c), rate) for c, rate in STATIONS]
    sojourn = [0.0, 0]

    def message(env):
        born = env.now
        for res, rate in stations:
            with res.request() as req:
                yield req
                yield env.timeout(rng.expovariate(rate))
        sojourn[0] += env.now - born
        sojourn[1] += 1

    def source(env):
        for _ in range(messages):
            yield env.timeout(rng.expovariate(ARRIVAL_RATE))
            env.process(message(env))

    env.process(source(env))
    start = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - start
    assert sojourn[1] == messages, (sojourn[1], messages)
    return elapsed, sojourn[0] / sojourn[1]


def run_ciw(messages, seed):
    import ciw

    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=ARRIVAL_RATE), None, None],
        service_distributions=[ciw.dists.Exponential(rate=r) for _, r in STATIONS],
        routing=[[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]],
        number_of_servers=[c for c, _ in STATIONS],
    )
    sim = ciw.Simulation(network)
    start = time.perf_counter()
    # "Finish": run until `messages` customers have left the network.
    sim.simulate_until_max_customers(messages, method="Finish")
    elapsed = time.perf_counter() - start
    records = sim.get_all_records()
    # Sojourn per message: from arrival at the first station to exit from the last.
    first = {}
    last = {}
    for r in records:
        if r.node == 1:
            first[r.id_number] = r.arrival_date
        if r.node == len(STATIONS):
            last[r.id_number] = r.exit_date
    done = [i for i in last if i in first]
    assert len(done) >= messages, (len(done), messages)
    mean = sum(last[i] - first[i] for i in done) / len(done)
    return elapsed, mean


def main():
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    which = sys.argv[3] if len(sys.argv) > 3 else "both"
    peers = {"simpy": run_simpy, "ciw": run_ciw}
    names = list(peers) if which == "both" else [which]
    for name in names:
        times, means = [], []
        for r in range(rounds):
            t, m = peers[name](messages, seed=1 + r)
            times.append(t)
            means.append(m)
        s = statistics.median(times)
        print(
            f"impl={name} messages={messages} rounds={rounds} median_s={s:.4f} "
            f"msgs_per_s={messages / s:.0f} mean_sojourn_ms={1000 * statistics.mean(means):.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
