//! The broker's own command line, for what a client cannot do to itself: closing a connection
//! from the broker's side, as a broker restart does.

use std::process::Command;

/// Runs `rabbitmqctl args`, failing the test if it fails; returns its standard output.
pub fn run(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl must be installed next to the broker for this test");
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Erlang pids of the broker connections whose client properties mention `name`.
pub fn connection_pids(name: &str) -> Vec<String> {
    // The table output prints pids in the syntax close_connection accepts (JSON does not).
    run(&[
        "list_connections",
        "pid",
        "client_properties",
        "--quiet",
        "--no-table-headers",
    ])
    .lines()
    .filter(|line| line.contains(name))
    .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
    .collect()
}

/// Closes the connection `pid` from the broker's side, as a restart would.
pub fn close_connection(pid: &str) {
    run(&["close_connection", pid, "test: simulated broker restart"]);
}

/// Stops the whole RabbitMQ node (the Erlang VM), as a machine or service restart does.
///
/// Why not `stop_app`/`start_app`: on RabbitMQ 3.10 that leaves the supervisor of quorum queues'
/// at-least-once dead-lettering dead, and every quorum queue declared afterwards fails with
/// INTERNAL_ERROR until the node itself is restarted — the next test run would inherit a broken broker.
pub fn stop_node() {
    run(&["stop"]);
}

/// Starts the node again the way `scripts/services` does and waits until it accepts work.
pub fn start_node() {
    let started = Command::new("rabbitmq-server")
        .arg("-detached")
        .status()
        .expect("rabbitmq-server must be installed for this test");
    assert!(started.success(), "rabbitmq-server -detached: {started}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while std::time::Instant::now() < deadline {
        let up = Command::new("rabbitmqctl")
            .args(["-q", "await_startup"])
            .status()
            .is_ok_and(|s| s.success());
        if up {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("RabbitMQ did not start within 120 s");
}
