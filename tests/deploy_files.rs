//! What a platform team runs, checked rather than only written: the Dockerfile (hadolint), the
//! compose file (docker-compose's own validation, no engine), the Kustomize overlays (rendered
//! by `kubectl kustomize`, validated against the Kubernetes schemas by `kubernetes-validate` and
//! the KEDA CRDs' schemas by `deploy/check/keda.mjs`, then held to this project's invariants),
//! and the Prometheus rules (`promtool check rules`, `promtool test rules`).
//! `scripts/deploy-deps` installs the tools (the test command runs it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use contracts::Lane;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `program args` in the repository, failing the test with its output unless it succeeds.
fn run(program: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} is needed (scripts/deploy-deps installs it): {e}"));
    if let Some(bytes) = stdin {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_dockerfile_lints_clean_and_runs_the_one_binary_as_non_root() {
    run("hadolint", &["deploy/Dockerfile"], None);
    let file = std::fs::read_to_string(repo().join("deploy/Dockerfile")).unwrap();
    let froms = file.lines().filter(|l| l.starts_with("FROM ")).count();
    assert!(froms >= 2, "multi-stage: a build stage and a runtime stage");
    let user = file
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(!user.contains(" 0") && !user.contains("root"), "{user}");
    assert!(file.contains(r#"ENTRYPOINT ["/usr/local/bin/pricing"]"#));
}

#[test]
fn the_compose_file_is_valid_and_has_every_part_of_the_cluster() {
    run(
        "docker-compose",
        &["-f", "deploy/compose.yaml", "config", "-q"],
        None,
    );
    let services = text(&run(
        "docker-compose",
        &["-f", "deploy/compose.yaml", "config", "--services"],
        None,
    ));
    let mut names: Vec<&str> = services.lines().map(str::trim).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "api-1",
            "api-2",
            "grafana",
            "postgres",
            "prometheus",
            "rabbitmq",
            "scheduler",
            "worker"
        ]
    );
}

/// `kubectl kustomize overlay` as JSON documents (PyYAML, which kubernetes-validate brings).
fn render(overlay: &str) -> (String, Vec<Value>) {
    let yaml = text(&run("kubectl", &["kustomize", overlay], None));
    let json = run(
        "python3",
        &[
            "-c",
            "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(sys.stdin) if d]))",
        ],
        Some(yaml.as_bytes()),
    );
    let docs: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
    (yaml, docs)
}

fn named<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn env_of<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)?["value"]
        .as_str()
}

#[test]
fn kubernetes_overlays_render_validate_and_keep_the_invariants() {
    for overlay in ["deploy/k8s/overlays/dev", "deploy/k8s/overlays/production"] {
        let (yaml, docs) = render(overlay);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &yaml).unwrap();
        // Strict: an unknown field (a typo) fails. 1.31: the oldest version we support
        // (preStop `sleep` needs 1.30).
        let path = file.path().to_str().unwrap();
        let report = text(&run(
            "kubernetes-validate",
            &["--strict", "-k", "1.31.0", path],
            None,
        ));
        let core = docs
            .iter()
            .filter(|d| !d["apiVersion"].as_str().unwrap().starts_with("keda.sh/"))
            .count();
        assert_eq!(
            report.matches(" passed for resource ").count(),
            core,
            "{report}"
        );
        let keda = text(&run(
            "node",
            &["deploy/check/keda.mjs"],
            Some(yaml.as_bytes()),
        ));
        assert_eq!(
            keda.matches("ok ScaledObject/").count(),
            3,
            "{overlay}: {keda}"
        );

        let prefix = named(&docs, "ConfigMap", "pricing-config")["data"]["TOPOLOGY_PREFIX"]
            .as_str()
            .unwrap()
            .to_owned();
        let topology = messaging::Topology::new(prefix);
        let api = named(&docs, "Deployment", "api");
        let probe = &api["spec"]["template"]["spec"]["containers"][0]["readinessProbe"];
        assert_eq!(probe["httpGet"]["path"], "/readyz", "{overlay}");
        for lane in Lane::ALL {
            let name = format!("worker-{lane}");
            let deployment = named(&docs, "Deployment", &name);
            let pod = &deployment["spec"]["template"]["spec"];
            let container = &pod["containers"][0];
            assert_eq!(env_of(container, "WORKER_LANES"), Some(lane.as_str()));
            let drain: u64 = env_of(container, "WORKER_DRAIN_GRACE_SECS")
                .unwrap()
                .parse()
                .unwrap();
            let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
            assert!(
                grace >= drain + 10,
                "{overlay} {name}: the pod is killed ({grace} s) before its jobs drain ({drain} s)"
            );
            assert!(
                deployment["spec"].get("replicas").is_none(),
                "{name}: KEDA owns the replica count"
            );
            named(&docs, "PodDisruptionBudget", &name);
            let scaled = named(&docs, "ScaledObject", &name);
            assert_eq!(scaled["spec"]["scaleTargetRef"]["name"], name.as_str());
            let trigger = &scaled["spec"]["triggers"][0];
            assert_eq!(
                trigger["metadata"]["queueName"],
                topology.lane_queue(lane).name.as_str(),
                "{overlay} {name}: KEDA must watch the queue the workers consume"
            );
            // The capacity plan's queue length for this lane and the replica's slots
            // (`pricing capacity`, `scheduler::capacity::lane_scaling`).
            let slots: u32 = env_of(container, "WORKER_SLOTS").unwrap().parse().unwrap();
            let threads: u32 = env_of(container, "WORKER_THREADS_PER_JOB")
                .unwrap()
                .parse()
                .unwrap();
            let cpus: u32 = container["resources"]["requests"]["cpu"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(
                slots * threads,
                cpus,
                "{overlay} {name}: slots × threads per job must be the CPU request"
            );
            let plan =
                scheduler::capacity::lane_scaling(&Default::default(), lane, slots).queue_length;
            assert_eq!(
                trigger["metadata"]["value"],
                plan.to_string().as_str(),
                "{overlay} {name}: KEDA's queue length is not the capacity plan's"
            );
            let min = scaled["spec"]["minReplicaCount"].as_u64().unwrap();
            assert_eq!(
                min == 0,
                lane == Lane::Large,
                "{name}: only the large lane scales to zero"
            );
            if overlay.ends_with("production") && lane == Lane::Small {
                assert!(
                    min >= 2,
                    "{name}: production keeps a second small replica, the plan's headroom"
                );
            }
        }
    }
}

#[test]
fn prometheus_rules_pass_promtool_check_and_their_unit_tests() {
    let dir = Path::new("deploy/prometheus");
    let check = text(&run(
        "promtool",
        &[
            "check",
            "rules",
            dir.join("rules/pricing.yml").to_str().unwrap(),
        ],
        None,
    ));
    assert!(check.contains("SUCCESS"), "{check}");
    let tests = text(&run(
        "promtool",
        &[
            "test",
            "rules",
            dir.join("tests/pricing_test.yml").to_str().unwrap(),
        ],
        None,
    ));
    assert!(tests.contains("SUCCESS"), "{tests}");
    // Every alert has a unit test that expects it to fire.
    let rules = std::fs::read_to_string(repo().join(dir).join("rules/pricing.yml")).unwrap();
    let cases = std::fs::read_to_string(repo().join(dir).join("tests/pricing_test.yml")).unwrap();
    for alert in rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
    {
        let fires = cases.split("alertname: ").skip(1).any(|case| {
            case.starts_with(alert) && case.lines().nth(1).is_some_and(|l| !l.contains("[]"))
        });
        assert!(fires, "no promtool case where {alert} fires");
    }
}
