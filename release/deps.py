#!/usr/bin/env python3
"""What a release binary is made of, from `cargo metadata --filter-platform <target>` on
stdin (the dependency graph cargo resolved for that target, dev-dependencies left out):

  deps.py audit OUT                      the dependency list in cargo-auditable's format
                                         (zlib-compressed JSON), which build.rs places in
                                         the binary's `.dep-v0` section for scanners
                                         (cargo audit bin, trivy, syft, grype) to read
  deps.py sbom OUT BINARY TARGET EPOCH   a CycloneDX 1.5 SBOM of BINARY (its SHA-256
                                         included), timestamped SOURCE_DATE_EPOCH

Both are deterministic: the same graph gives the same bytes.
"""
import hashlib
import json
import sys
import time
import uuid
import zlib


def source_kind(source):
    if source is None:
        return "local"
    if source == "registry+https://github.com/rust-lang/crates.io-index" or source.startswith(
        "sparse+https://index.crates.io/"
    ):
        return "crates.io"
    if source.startswith("git+"):
        return "git"
    return "registry"


def graph(meta):
    """(packages by id, root id, {id: [dep ids]}, ids needed at run time, all ids)."""
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = meta["resolve"]["root"]
    edges = {}
    for node_id, node in nodes.items():
        deps = []
        for dep in node["deps"]:
            kinds = {k["kind"] for k in dep["dep_kinds"]}
            if kinds - {"dev"}:
                deps.append((dep["pkg"], kinds))
        edges[node_id] = deps

    def walk(kinds_followed):
        seen, stack = {root}, [root]
        while stack:
            for pkg, kinds in edges[stack.pop()]:
                if kinds & kinds_followed and pkg not in seen:
                    seen.add(pkg)
                    stack.append(pkg)
        return seen

    runtime = walk({None})
    everything = walk({None, "build"})
    deps = {i: sorted({p for p, k in edges[i] if k - {"dev"} and p in everything}) for i in everything}
    return packages, root, deps, runtime, everything


def audit(meta):
    packages, root, deps, runtime, everything = graph(meta)
    key = lambda i: (packages[i]["name"], packages[i]["version"], source_kind(packages[i]["source"]))
    order = sorted(everything, key=key)
    index = {i: n for n, i in enumerate(order)}
    out = []
    for i in order:
        p = packages[i]
        entry = {"name": p["name"], "version": p["version"], "source": source_kind(p["source"])}
        if i not in runtime:
            entry["kind"] = "build"
        if deps[i]:
            entry["dependencies"] = sorted(index[d] for d in deps[i])
        if i == root:
            entry["root"] = True
        out.append(entry)
    text = json.dumps({"packages": out}, separators=(",", ":"), sort_keys=True)
    return zlib.compress(text.encode(), 9)


def purl(p):
    return "pkg:cargo/%s@%s" % (p["name"], p["version"])


def sbom(meta, binary, target, epoch):
    packages, root, deps, runtime, everything = graph(meta)
    with open(binary, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    top = packages[root]

    def component(i, kind):
        p = packages[i]
        c = {"type": kind, "bom-ref": purl(p), "name": p["name"], "version": p["version"], "purl": purl(p)}
        if p.get("license"):
            c["licenses"] = [{"expression": p["license"]}]
        return c

    main = component(root, "application")
    main["hashes"] = [{"alg": "SHA-256", "content": digest}]
    main["properties"] = [{"name": "cargo:target", "value": target}]
    components = []
    for i in sorted(everything - {root}, key=lambda i: (packages[i]["name"], packages[i]["version"])):
        c = component(i, "library")
        # Build-time only (build scripts' dependencies): not in the binary.
        c["scope"] = "required" if i in runtime else "excluded"
        components.append(c)
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        # Derived from the binary, so a rebuild of the same bytes gives the same SBOM.
        "serialNumber": "urn:uuid:%s" % uuid.uuid5(uuid.NAMESPACE_URL, "sha256:" + digest),
        "version": 1,
        "metadata": {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch))),
            "tools": {"components": [{"type": "application", "name": "lucky release/deps.py"}]},
            "component": main,
        },
        "components": components,
        "dependencies": [
            {"ref": purl(packages[i]), "dependsOn": [purl(packages[d]) for d in deps[i]]}
            for i in sorted(everything, key=lambda i: (packages[i]["name"], packages[i]["version"]))
        ],
    }
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def main():
    meta = json.load(sys.stdin)
    if len(sys.argv) == 3 and sys.argv[1] == "audit":
        data = audit(meta)
    elif len(sys.argv) == 6 and sys.argv[1] == "sbom":
        data = sbom(meta, sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        sys.exit(__doc__)
    with open(sys.argv[2], "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
