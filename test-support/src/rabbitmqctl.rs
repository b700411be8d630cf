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
