//! The async layer's echo server (`examples/async_echo.rs`, tokio current-thread runtime) beside
//! tokio's own epoll-based `TcpListener` echo server, same load generator (one client thread,
//! round-robin over its connections, a message and its echo at a time per connection): 1 and 64
//! connections, 64 B and 4 KiB messages; msgs/s and p50/p99 round-trip latency, the median of
//! `--rounds` runs (default 3) with the two servers' runs interleaved (the order alternating
//! per round), on 127.0.0.1 only, each run bounded in messages and to 10 s. Prints the load
//! average before and after (the machine may be shared), and the server thread's CPU time per
//! message (from `/proc/self/task/TID/schedstat`): the load generator takes a core of its own,
//! so on a small machine msgs/s may measure the client as much as the server.
//!
//! `cargo bench --bench async_echo [-- --rounds N --scale F --ring-client]` (`--scale` multiplies
//! the message counts, default 1; `--ring-client` generates the load with the owned layer, each
//! round's sends and receives in one submission, instead of blocking sockets: a client that
//! spends less per message, so that msgs/s measures the servers more than the client).

#[path = "../examples/async_echo.rs"]
#[allow(dead_code)]
mod echo;

use std::time::{Duration, Instant};

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str, def: f64| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(def)
    };
    let rounds = opt("--rounds", 3.0) as usize;
    let scale = opt("--scale", 1.0);
    let ring_client = args.iter().any(|a| a == "--ring-client");
    println!(
        "async_echo bench: {rounds} rounds, {} client, load average before: {}",
        if ring_client { "owned-layer (batched)" } else { "blocking" },
        loadavg()
    );
    println!("| connections | size | server | msgs/s (median) | p50 | p99 | server CPU/msg | runs (msgs/s) |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut ratios = Vec::new();
    for (conns, size) in [(1usize, 64usize), (64, 64), (1, 4096), (64, 4096)] {
        let msgs = ((if conns == 1 { 20_000.0 } else { 600.0 }) * scale) as usize;
        // Per server: msgs/s, p50, p99 of each round.
        let mut res: [Vec<(f64, Duration, Duration, f64)>; 2] = [Vec::new(), Vec::new()];
        for round in 0..rounds {
            for k in 0..2 {
                let epoll = (k + round) % 2 == 1;
                let (addr, tid) = echo::spawn_server(epoll)?;
                let cpu0 = echo::thread_cpu(tid);
                let deadline = Instant::now() + Duration::from_secs(10);
                let l = if ring_client {
                    echo::load_ring(addr, conns, msgs, size, deadline)?
                } else {
                    echo::load(addr, conns, msgs, size, deadline)?
                };
                let cpu = (echo::thread_cpu(tid) - cpu0).as_secs_f64() * 1e6 / l.msgs as f64;
                res[epoll as usize].push((l.msgs as f64 / l.secs, l.p50, l.p99, cpu));
            }
        }
        let (mut meds, mut cpus) = ([0.0; 2], [0.0; 2]);
        for (i, name) in ["uring::future", "tokio epoll"].iter().enumerate() {
            let r = &res[i];
            let rate = median(r.iter().map(|x| x.0).collect());
            let p50 = median(r.iter().map(|x| x.1.as_secs_f64() * 1e6).collect());
            let p99 = median(r.iter().map(|x| x.2.as_secs_f64() * 1e6).collect());
            let cpu = median(r.iter().map(|x| x.3).collect());
            meds[i] = rate;
            cpus[i] = cpu;
            let runs: Vec<String> = r.iter().map(|x| format!("{:.0}", x.0)).collect();
            println!(
                "| {conns} | {size} B | {name} | {rate:.0} | {p50:.1} µs | {p99:.1} µs | {cpu:.2} µs | {} |",
                runs.join(", ")
            );
        }
        ratios.push(format!(
            "{conns} conns x {size} B: {:.2}x msgs/s, {:.2}x less server CPU per message",
            meds[0] / meds[1],
            cpus[1] / cpus[0]
        ));
    }
    println!("uring::future vs tokio epoll (medians): {}", ratios.join("; "));
    println!("load average after: {}", loadavg());
    Ok(())
}
