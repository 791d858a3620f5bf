"""Structural checks of feedbackd's deployment files, run by tests/deploy/check.

The schemas (kubernetes-validate, the compose-spec schema) say whether a file is well formed;
these checks say whether it deploys feedbackd the way docs/OPERATIONS.md promises: the build
command, non-root, probes on the admin port, the admin port never public, secrets required and
never in a ConfigMap, every variable a real setting, and so on.

    python3 policy.py dockerfile
    python3 policy.py render            # stand-in for `kubectl kustomize` (YAML on stdout)
    python3 policy.py kubernetes FILE   # FILE: the rendered kustomization
    python3 policy.py compose
    python3 policy.py docs

Each check prints `ok` or `FAIL` and a description; the exit status is 1 when any failed.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"

BUILD_COMMAND = "cargo build --release --locked --bin feedbackd"
SECRET_NAME = "feedbackd-secrets"
REQUIRED_SECRET_KEYS = ["FEEDBACKD_DATABASE_URL", "FEEDBACKD_CONTACT_KEY", "FEEDBACKD_BLIND_INDEX_KEY"]
SECRET_SETTINGS = REQUIRED_SECRET_KEYS + ["AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"]
# Variables feedbackd reads besides its settings.
OTHER_FEEDBACKD_VARS = {"FEEDBACKD_CONFIG"}
POSTGRES_MAX_CONNECTIONS = 100  # PostgreSQL's default max_connections

failures = 0


def check(ok: bool, what: str, detail: str = "") -> bool:
    global failures
    if ok:
        print(f"  ok    {what}")
    else:
        failures += 1
        print(f"  FAIL  {what}" + (f": {detail}" if detail else ""))
    return ok


def finish() -> None:
    sys.exit(1 if failures else 0)


def documented_settings() -> set[str]:
    """FEEDBACKD_* names of the settings table in docs/CONFIGURATION.md."""
    names: set[str] = set()
    for line in (ROOT / "docs" / "CONFIGURATION.md").read_text().splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        # A nested setting (`smtp.password`) is FEEDBACKD_SMTP__PASSWORD in the environment.
        names.update(
            "FEEDBACKD_" + n.upper().replace(".", "__")
            for n in re.findall(r"`([a-z0-9_]+(?:\.[a-z0-9_]+)*)`", first_cell)
        )
    return names | OTHER_FEEDBACKD_VARS


# ---------------------------------------------------------------------------------------------
# Dockerfile and .dockerignore


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        out.append((keyword.upper(), " ".join(rest.split())))
        current = ""
    return out


def dockerignore_excludes(patterns: list[str], path: str) -> bool:
    """Whether a path (or a parent folder) is excluded; `!` re-includes, last match wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        pat = pat.strip("/")
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pat) or (
                pat.startswith("**/") and fnmatch.fnmatchcase(candidate.split("/")[-1], pat[3:])
            ):
                excluded = not negate
                break
    return excluded


def compiled_in_paths() -> set[str]:
    """Files and folders the build reads besides Cargo.toml/lock and src/: include_*! and
    sqlx::migrate! arguments, resolved against the source file (include_*) or the crate root."""
    paths: set[str] = set()
    for source in (ROOT / "src").rglob("*.rs"):
        text = source.read_text(errors="replace")
        for arg in re.findall(r'include_(?:str|bytes)!\(\s*"([^"]+)"', text):
            resolved = (source.parent / arg).resolve()
            paths.add(str(resolved.relative_to(ROOT)))
        for arg in re.findall(r'migrate!\(\s*"([^"]+)"', text):
            paths.add(str((ROOT / arg).resolve().relative_to(ROOT)))
    return paths


def cmd_dockerfile() -> None:
    print("Dockerfile and .dockerignore")
    text = (ROOT / "Dockerfile").read_text()
    instructions = dockerfile_instructions(text)
    runs = [args for kw, args in instructions if kw == "RUN"]
    check(any(BUILD_COMMAND in r for r in runs), f"a RUN instruction runs `{BUILD_COMMAND}`")
    check(
        any("cargo chef cook --release --locked" in r for r in runs),
        "dependencies are cooked by cargo-chef (`cargo chef cook --release --locked`)",
    )
    check(any("cargo chef prepare" in r for r in runs), "a planner stage runs `cargo chef prepare`")
    check(
        any(r.startswith("cargo install cargo-chef --locked") for r in runs),
        "cargo-chef is installed with --locked",
    )
    stages = [i for i, (kw, _) in enumerate(instructions) if kw == "FROM"]
    check(len(stages) >= 3, "multi-stage build (chef, planner/builder, runtime)", f"{len(stages)} FROM")
    final = instructions[stages[-1]:] if stages else []
    base = final[0][1].split()[0] if final else ""
    check(
        base.startswith("debian:bookworm-slim") or base.startswith("gcr.io/distroless/cc"),
        "the runtime stage is debian:bookworm-slim or distroless/cc",
        base,
    )
    users = [args for kw, args in final if kw == "USER"]
    check(bool(users) and users[-1].split(":")[0] == "10001", "the runtime stage runs as uid 10001", str(users))
    health = [args for kw, args in final if kw == "HEALTHCHECK"]
    check(bool(health) and "/healthz" in health[-1], "HEALTHCHECK polls /healthz", str(health))
    if base.startswith("gcr.io/distroless"):
        check(not any("curl" in h for h in health), "no curl in a distroless HEALTHCHECK")
    exposed = " ".join(args for kw, args in final if kw == "EXPOSE").split()
    check({"8080", "9090"} <= set(exposed), "EXPOSE 8080 9090", " ".join(exposed))
    check(('ENTRYPOINT', '["feedbackd"]') in final, 'ENTRYPOINT ["feedbackd"]')
    check(("CMD", '["serve"]') in final, 'CMD ["serve"]')
    env = " ".join(args for kw, args in final if kw == "ENV")
    check("FEEDBACKD_LISTEN=0.0.0.0:8080" in env, "ENV FEEDBACKD_LISTEN=0.0.0.0:8080")
    check("FEEDBACKD_ADMIN_LISTEN=0.0.0.0:9090" in env, "ENV FEEDBACKD_ADMIN_LISTEN=0.0.0.0:9090")
    copies = [args for kw, args in final if kw == "COPY"]
    check(
        any("/target/release/feedbackd" in c for c in copies),
        "the runtime stage copies only the release binary",
        str(copies),
    )
    # The toolchain the image builds with must satisfy Cargo.toml's rust-version.
    wanted = re.search(r'^rust-version\s*=\s*"([0-9.]+)"', (ROOT / "Cargo.toml").read_text(), re.M)
    pinned = re.search(r"^ARG RUST_VERSION=([0-9.]+)", text, re.M)
    if wanted and pinned:
        as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
        check(
            as_tuple(pinned.group(1)) >= as_tuple(wanted.group(1))[: len(pinned.group(1).split("."))],
            f"rust:{pinned.group(1)} satisfies Cargo.toml's rust-version {wanted.group(1)}",
        )
    else:
        check(bool(pinned), "ARG RUST_VERSION pins the toolchain")
    check((ROOT / "Cargo.lock").is_file(), "Cargo.lock exists (the build is --locked)")
    check(
        re.search(r'\[\[bin\]\]\s*name\s*=\s*"feedbackd"', (ROOT / "Cargo.toml").read_text()) is not None,
        "Cargo.toml declares the bin target feedbackd",
    )

    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    for path in ["target", ".git", "node_modules", "widget/node_modules", "feedbackd-data"]:
        check(dockerignore_excludes(patterns, path), f".dockerignore excludes {path}")
    needed = {"Cargo.toml", "Cargo.lock", "src/main.rs", "src/lib.rs"} | compiled_in_paths()
    # Cargo reads every workspace member's manifest, whichever package is built.
    members = re.search(r"^members\s*=\s*\[([^\]]*)\]", (ROOT / "Cargo.toml").read_text(), re.M)
    for member in re.findall(r'"([^"]+)"', members.group(1)) if members else []:
        if member != ".":
            needed.add(f"{member}/Cargo.toml")
    kept_out = sorted(p for p in needed if dockerignore_excludes(patterns, p))
    check(
        not kept_out,
        f".dockerignore keeps the {len(needed)} build inputs (sources, widget files, uaparser rules, migrations)",
        ", ".join(kept_out),
    )
    missing = sorted(p for p in needed if not (ROOT / p).exists())
    check(not missing, "every compiled-in file exists", ", ".join(missing))
    finish()


# ---------------------------------------------------------------------------------------------
# Kubernetes


def load_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def kustomization() -> dict:
    return yaml.safe_load((KUBE / "kustomization.yaml").read_text())


def cmd_render() -> None:
    """A small stand-in for `kubectl kustomize`, for machines without kubectl: the resources,
    then namespace, labels (metadata and, when asked, pod templates) and images."""
    kust = kustomization()
    docs = []
    for resource in kust.get("resources", []):
        docs.extend(load_docs(KUBE / resource))
    namespace = kust.get("namespace")
    images = {i["name"]: i for i in kust.get("images", [])}
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        if namespace:
            meta["namespace"] = namespace
        for group in kust.get("labels", []):
            meta.setdefault("labels", {}).update(group.get("pairs", {}))
            template = doc.get("spec", {}).get("template") if isinstance(doc.get("spec"), dict) else None
            if group.get("includeTemplates") and template:
                template.setdefault("metadata", {}).setdefault("labels", {}).update(group.get("pairs", {}))
        spec = doc.get("spec", {}) if isinstance(doc.get("spec"), dict) else {}
        pod = spec.get("template", {}).get("spec", {})
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            name, _, tag = container["image"].partition(":")
            if name in images:
                image = images[name]
                container["image"] = f'{image.get("newName", name)}:{image.get("newTag", tag or "latest")}'
    yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)


def named_port(container: dict, port) -> int | None:
    if isinstance(port, int):
        return port
    for p in container.get("ports", []):
        if p.get("name") == port:
            return p["containerPort"]
    return None


def labels_match(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def parse_quantity_mi(value: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "K": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20}
    for unit, factor in units.items():
        if str(value).endswith(unit):
            return float(str(value)[: -len(unit)]) * factor
    return float(value) / 2**20


def cmd_kubernetes(rendered: Path) -> None:
    print("Kubernetes: the rendered kustomization")
    docs = load_docs(rendered)
    by_kind: dict[str, list[dict]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)
    for kind in ["Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler",
                 "PodDisruptionBudget", "NetworkPolicy", "ServiceAccount"]:
        check(kind in by_kind, f"has a {kind}")
    check("Secret" not in by_kind, "ships no Secret (the operator creates feedbackd-secrets)")
    if not ("Deployment" in by_kind and "ConfigMap" in by_kind):
        finish()

    deployment = by_kind["Deployment"][0]
    spec = deployment["spec"]
    pod_labels = spec["template"]["metadata"].get("labels", {})
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    check(spec.get("replicas", 1) >= 2, "Deployment: replicas >= 2", str(spec.get("replicas")))
    check(labels_match(spec["selector"]["matchLabels"], pod_labels), "Deployment: selector matches the pod labels")
    check(pod.get("enableServiceLinks") is False, "Deployment: enableServiceLinks: false (no FEEDBACKD_* service variables)")
    check(pod.get("automountServiceAccountToken") is False, "Deployment: no service account token mounted")

    psc, csc = pod.get("securityContext", {}), container.get("securityContext", {})
    check(psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True, "runAsNonRoot")
    check(csc.get("runAsUser", psc.get("runAsUser")) == 10001, "runAsUser 10001")
    check(csc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
    check(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")
    check("ALL" in csc.get("capabilities", {}).get("drop", []), "capabilities drop ALL")
    seccomp = csc.get("seccompProfile", psc.get("seccompProfile", {}))
    check(seccomp.get("type") == "RuntimeDefault", "seccompProfile RuntimeDefault")

    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    tmp = [m for m in container.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
    check(bool(tmp) and "emptyDir" in volumes.get(tmp[0]["name"], {}), "/tmp is an emptyDir")

    ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
    check(ports.get("http") == 8080 and ports.get("admin") == 9090, "container ports http 8080, admin 9090", str(ports))
    for probe, path in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")]:
        http = container.get(probe, {}).get("httpGet", {})
        check(
            http.get("path") == path and named_port(container, http.get("port")) == 9090,
            f"{probe}: {path} on the admin port",
            str(http),
        )
    startup = container.get("startupProbe", {}).get("httpGet", {})
    if startup:
        check(named_port(container, startup.get("port")) == 9090, "startupProbe on the admin port")

    resources = container.get("resources", {})
    for part in ["requests", "limits"]:
        for res in ["cpu", "memory"]:
            check(res in resources.get(part, {}), f"resources.{part}.{res} set")
    memory_limit = resources.get("limits", {}).get("memory")
    if memory_limit:
        check(64 <= parse_quantity_mi(memory_limit) <= 512, "memory limit between 64Mi and 512Mi", memory_limit)

    # Configuration: a ConfigMap for settings, the Secret for secrets, nothing secret in the ConfigMap.
    configmaps = {c["metadata"]["name"]: c for c in by_kind["ConfigMap"]}
    refs = [e["configMapRef"]["name"] for e in container.get("envFrom", []) if "configMapRef" in e]
    check(bool(refs) and all(r in configmaps for r in refs), "envFrom names a ConfigMap of the kustomization", str(refs))
    config = {}
    for r in refs:
        config.update(configmaps.get(r, {}).get("data", {}))
    known = documented_settings()
    unknown = sorted(k for k in config if k.startswith("FEEDBACKD_") and k not in known)
    check(not unknown, "every FEEDBACKD_* key of the ConfigMap is a documented setting", ", ".join(unknown))
    leaked = sorted(k for k in config if k in SECRET_SETTINGS)
    check(not leaked, "no secret in the ConfigMap", ", ".join(leaked))
    check(config.get("FEEDBACKD_LISTEN") == "0.0.0.0:8080", "ConfigMap: FEEDBACKD_LISTEN=0.0.0.0:8080")
    check(config.get("FEEDBACKD_ADMIN_LISTEN") == "0.0.0.0:9090", "ConfigMap: FEEDBACKD_ADMIN_LISTEN=0.0.0.0:9090")
    check(config.get("FEEDBACKD_LOG_FORMAT") == "json", "ConfigMap: FEEDBACKD_LOG_FORMAT=json")
    check(str(config.get("FEEDBACKD_STORAGE_URL", "")).startswith("s3://"), "ConfigMap: FEEDBACKD_STORAGE_URL is s3://")
    data_dir = str(config.get("FEEDBACKD_DATA_DIR", ""))
    mount = tmp[0]["mountPath"] if tmp else "/tmp"
    check(data_dir.startswith(mount + "/"), "ConfigMap: FEEDBACKD_DATA_DIR is on the writable emptyDir", data_dir)

    env = {e["name"]: e for e in container.get("env", [])}
    for key in REQUIRED_SECRET_KEYS:
        ref = env.get(key, {}).get("valueFrom", {}).get("secretKeyRef", {})
        check(
            ref.get("name") == SECRET_NAME and ref.get("key") and not ref.get("optional", False),
            f"{key} comes from Secret {SECRET_NAME}, not optional",
            str(ref),
        )
    plain = sorted(k for k, e in env.items() if k in SECRET_SETTINGS and "value" in e)
    check(not plain, "no secret written inline in the Deployment", ", ".join(plain))

    # Services: public 80 -> 8080; the admin port only on a ClusterIP service.
    public = [
        s for s in by_kind.get("Service", [])
        if any(p.get("port") == 80 and named_port(container, p.get("targetPort")) == 8080 for p in s["spec"]["ports"])
    ]
    check(bool(public), "a Service maps port 80 to the public port 8080")
    for service in by_kind.get("Service", []):
        name = service["metadata"]["name"]
        check(labels_match(service["spec"].get("selector", {}), pod_labels), f"Service {name} selects the pods")
        admin_ports = [p for p in service["spec"]["ports"] if named_port(container, p.get("targetPort")) == 9090]
        if admin_ports:
            check(
                service["spec"].get("type", "ClusterIP") == "ClusterIP",
                f"Service {name} exposes the admin port only as ClusterIP",
            )
    check(
        any(named_port(container, p.get("targetPort")) == 9090
            for s in by_kind.get("Service", []) for p in s["spec"]["ports"]),
        "a ClusterIP Service reaches the admin port (metrics)",
    )

    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        hspec = hpa["spec"]
        check(hpa["apiVersion"] == "autoscaling/v2", "HPA is autoscaling/v2")
        check(
            hspec["scaleTargetRef"].get("kind") == "Deployment"
            and hspec["scaleTargetRef"].get("name") == deployment["metadata"]["name"],
            "HPA scales the Deployment",
        )
        check(hspec.get("minReplicas", 1) >= 2, "HPA minReplicas >= 2")
        check(
            any(m.get("resource", {}).get("name") == "cpu" for m in hspec.get("metrics", [])),
            "HPA scales on CPU",
        )
        pool = re.search(
            r"MAX_CONNECTIONS:\s*u32\s*=\s*(\d+)",
            (ROOT / "src" / "store" / "postgres" / "mod.rs").read_text(),
        )
        if pool:
            total = hspec["maxReplicas"] * int(pool.group(1))
            check(
                total < POSTGRES_MAX_CONNECTIONS,
                f"HPA maxReplicas x pool size ({hspec['maxReplicas']} x {pool.group(1)} = {total}) "
                f"fits PostgreSQL's default max_connections ({POSTGRES_MAX_CONNECTIONS})",
            )

    for pdb in by_kind.get("PodDisruptionBudget", []):
        check(pdb["apiVersion"] == "policy/v1", "PDB is policy/v1")
        check(pdb["spec"].get("minAvailable") == 1, "PDB minAvailable 1")
        check(labels_match(pdb["spec"]["selector"]["matchLabels"], pod_labels), "PDB selects the pods")

    for policy in by_kind.get("NetworkPolicy", []):
        pspec = policy["spec"]
        check(labels_match(pspec["podSelector"].get("matchLabels", {}), pod_labels), "NetworkPolicy selects the pods")
        check("Ingress" in pspec.get("policyTypes", []), "NetworkPolicy restricts ingress")
        rules = pspec.get("ingress", [])
        check(all(r.get("ports") for r in rules), "every ingress rule names its ports (none opens all ports)")
        open_ports = {
            named_port(container, p.get("port")) for r in rules if not r.get("from") for p in r.get("ports", [])
        }
        check(8080 in open_ports, "the public port 8080 is open to all")
        check(9090 not in open_ports, "the admin port 9090 is not open to all")
        admin_rules = [r for r in rules if any(named_port(container, p.get("port")) == 9090 for p in r.get("ports", []))]
        check(bool(admin_rules) and all(r.get("from") for r in admin_rules), "the admin port admits only selected peers (monitoring)")
        other = {named_port(container, p.get("port")) for r in rules for p in r.get("ports", [])} - {8080, 9090}
        check(not other, "no other port is admitted", str(other))

    # The kustomization lists exactly the manifests of its folder; examples/ stay out.
    listed = set(kustomization().get("resources", []))
    present = {p.name for p in KUBE.glob("*.yaml") if p.name != "kustomization.yaml"}
    check(listed == present, "kustomization.yaml lists every manifest of deploy/kubernetes/",
          f"listed only: {sorted(listed - present)}, not listed: {sorted(present - listed)}")
    check(not any(r.startswith("examples") for r in listed), "examples/ is not in the kustomization")

    # The example Secret provides every key the Deployment reads.
    example = KUBE / "examples" / "secret.yaml"
    if check(example.is_file(), "examples/secret.yaml exists"):
        secret = load_docs(example)[0]
        keys = set(secret.get("stringData", {})) | set(secret.get("data", {}))
        wanted = {
            e["valueFrom"]["secretKeyRef"]["key"]
            for e in container.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        check(secret["metadata"]["name"] == SECRET_NAME, f"the example Secret is named {SECRET_NAME}")
        check(wanted <= keys, "the example Secret has every key the Deployment reads", str(sorted(wanted - keys)))
    finish()


# ---------------------------------------------------------------------------------------------
# Compose


def env_example() -> tuple[dict[str, str], set[str]]:
    """deploy/.env.example: (set variables, every variable named, commented ones included)."""
    values: dict[str, str] = {}
    named: set[str] = set()
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        m = re.match(r"^\s*(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            named.add(m.group(2))
            if not m.group(1):
                values[m.group(2)] = m.group(3)
    return values, named


def cmd_compose() -> None:
    print("Compose: deploy/compose.yaml and deploy/.env.example")
    text = (DEPLOY / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    services = compose.get("services", {})
    for name in ["feedbackd", "postgres", "minio", "minio-init"]:
        check(name in services, f"service {name}")
    if "feedbackd" not in services:
        finish()
    app = services["feedbackd"]
    check(str(services.get("postgres", {}).get("image", "")).find("postgres:16") >= 0, "PostgreSQL 16")
    check("minio" in str(services.get("minio", {}).get("image", "")), "MinIO as the S3-compatible server")
    check("mc" in str(services.get("minio-init", {}).get("image", "")).split("/")[-1], "a minio/mc one-shot creates the bucket")

    depends = app.get("depends_on", {})
    check(
        isinstance(depends, dict) and depends.get("postgres", {}).get("condition") == "service_healthy",
        "feedbackd waits for a healthy postgres",
    )
    check(
        isinstance(depends, dict)
        and depends.get("minio-init", {}).get("condition") == "service_completed_successfully",
        "feedbackd waits for the bucket job to complete",
    )
    check("healthcheck" in services.get("postgres", {}), "postgres has a healthcheck")
    if services.get("minio-init", {}).get("depends_on"):
        check(
            services["minio-init"]["depends_on"].get("minio", {}).get("condition") == "service_healthy",
            "the bucket job waits for a healthy MinIO",
        )
        check("healthcheck" in services.get("minio", {}), "minio has a healthcheck")

    env_files = app.get("env_file", [])
    env_files = [env_files] if isinstance(env_files, (str, dict)) else env_files
    paths = [f if isinstance(f, str) else f.get("path") for f in env_files]
    check(".env" in paths, "feedbackd reads env_file .env", str(paths))

    # Ports: only 8080 published; the admin port never, or on loopback only.
    published = []
    for port in app.get("ports", []):
        spec = str(port) if not isinstance(port, dict) else f'{port.get("host_ip", "")}:{port.get("published", "")}:{port.get("target")}'
        target = spec.rsplit(":", 1)[-1].split("/")[0]
        published.append((spec, target))
    public = [t for s, t in published if not (t == "9090" and s.startswith("127.0.0.1:"))]
    check(public == ["8080"], "only the public port 8080 is published (admin at most on 127.0.0.1)", str(published))
    others = {n: s["ports"] for n, s in services.items() if n != "feedbackd" and s.get("ports")}
    check(not others, "no other service publishes a port", str(others))

    environment = app.get("environment", {})
    check(isinstance(environment, dict), "feedbackd's environment is a mapping")
    environment = environment if isinstance(environment, dict) else {}
    check(environment.get("FEEDBACKD_LISTEN") == "0.0.0.0:8080", "FEEDBACKD_LISTEN=0.0.0.0:8080")
    check(environment.get("FEEDBACKD_ADMIN_LISTEN") == "0.0.0.0:9090", "FEEDBACKD_ADMIN_LISTEN=0.0.0.0:9090")
    check(str(environment.get("FEEDBACKD_DATABASE_URL", "")).startswith("postgres://"), "the database is PostgreSQL")
    check(str(environment.get("FEEDBACKD_STORAGE_URL", "")).startswith("s3://"), "the storage is S3")
    check(bool(environment.get("FEEDBACKD_S3_ENDPOINT")), "the S3 endpoint is set (MinIO)")
    for key in ["FEEDBACKD_CONTACT_KEY", "FEEDBACKD_BLIND_INDEX_KEY"]:
        check(
            re.fullmatch(r"\$\{" + key + r":\?[^}]*\}", str(environment.get(key, ""))) is not None,
            f"{key} is required (${{{key}:?…}}): no silent key file on the tmpfs",
        )
    check(app.get("read_only") is True, "feedbackd's root filesystem is read-only")
    check(any(str(t).startswith("/tmp") for t in app.get("tmpfs", [])), "feedbackd has a tmpfs /tmp")
    data_dir = str(environment.get("FEEDBACKD_DATA_DIR", ""))
    check(data_dir.startswith("/tmp/"), "FEEDBACKD_DATA_DIR is on the tmpfs", data_dir)
    check("ALL" in app.get("cap_drop", []), "feedbackd drops every capability")

    # Named volumes for the data.
    declared = set((compose.get("volumes") or {}).keys())
    for name, target in [("postgres", "/var/lib/postgresql/data"), ("minio", "/data")]:
        mounts = [str(v) for v in services.get(name, {}).get("volumes", [])]
        source = [m.split(":")[0] for m in mounts if m.split(":")[1:2] == [target]]
        check(bool(source) and source[0] in declared, f"{name} keeps {target} on a named volume", str(mounts))
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":")[0]
            if source.startswith("."):
                check((DEPLOY / source).exists(), f"{name}: bind-mounted {source} exists")

    # Every variable the file interpolates is documented in .env.example; every FEEDBACKD_* there
    # is a real setting.
    values, named = env_example()
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", re.sub(r"#.*", "", text)))
    missing = sorted(used - named)
    check(not missing, f"the {len(used)} variables compose.yaml uses are all in .env.example", ", ".join(missing))
    known = documented_settings()
    unknown = sorted(k for k in named if k.startswith("FEEDBACKD_") and k not in known)
    check(not unknown, "every FEEDBACKD_* variable of .env.example is a documented setting", ", ".join(unknown))
    unknown = sorted(k for k in environment if k.startswith("FEEDBACKD_") and k not in known)
    check(not unknown, "every FEEDBACKD_* variable of compose.yaml is a documented setting", ", ".join(unknown))
    for secret in ["FEEDBACKD_CONTACT_KEY", "FEEDBACKD_BLIND_INDEX_KEY", "POSTGRES_PASSWORD",
                   "MINIO_ROOT_PASSWORD", "AWS_SECRET_ACCESS_KEY"]:
        check(secret in values and values[secret] == "", f".env.example leaves {secret} empty (no shared default secret)")
    check(".env" in (DEPLOY / ".gitignore").read_text().split(), "deploy/.gitignore keeps deploy/.env out of git")
    finish()


# ---------------------------------------------------------------------------------------------
# docs/OPERATIONS.md


def cmd_docs() -> None:
    print("docs/OPERATIONS.md")
    path = ROOT / "docs" / "OPERATIONS.md"
    if not check(path.is_file(), "docs/OPERATIONS.md exists"):
        finish()
    text = path.read_text()
    known = documented_settings()
    named = set(re.findall(r"\bFEEDBACKD_[A-Z0-9_]*[A-Z0-9]\b", text))
    unknown = sorted(n for n in named if n not in known)
    check(not unknown, f"the {len(named)} FEEDBACKD_* variables it names are documented settings", ", ".join(unknown))
    for topic in ["docker compose", "kubectl apply -k", "pg_dump", "pg_restore", "mc mirror",
                  "orphan_grace_secs", "contact key", "blind-index key", "advisory lock",
                  "rate limit", "feedbackd_rejections_total", "docs/CONFIGURATION.md"]:
        check(topic.lower() in " ".join(text.split()).lower(), f"covers `{topic}`")
    for link in re.findall(r"\]\((\.\./[^)#]+|[^):#]+)\)", text):
        check((path.parent / link).exists(), f"link {link} resolves")
    # A reader follows the docs from the repository alone: no link may leave it.
    outside = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for link in re.findall(r"\]\(([^)#\s]+)", page.read_text()):
            if re.match(r"[a-z]+:", link):
                continue
            target = (page.parent / link).resolve()
            if not target.is_relative_to(ROOT.resolve()) or not target.exists():
                outside.append(f"{page.relative_to(ROOT)}: {link}")
    check(not outside, "README.md and docs/*.md link only files inside the repository", ", ".join(outside))
    finish()


def main() -> None:
    os.chdir(ROOT)
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "dockerfile":
        cmd_dockerfile()
    elif command == "render":
        cmd_render()
    elif command == "kubernetes" and len(sys.argv) == 3:
        cmd_kubernetes(Path(sys.argv[2]))
    elif command == "compose":
        cmd_compose()
    elif command == "docs":
        cmd_docs()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
