#!/usr/bin/env python3
"""Reads a ROS 2 `.launch.yaml` (the subset launch/ uses: arg, node with pkg, exec, name,
namespace, args, param from/name+value) and prints or starts its nodes exactly as `ros2 launch`
would run them, since the PyPI wheels have no `launch`:

    <bin> node <name> --ros-args -r __node:=<name> -r __ns:=/<ns> --params-file <file> -p k:=v

`$(var X)` takes launch arguments (`name:=value` on the command line, else the default);
`$(find-pkg-share sim2real)` is the package source directory (launch/, which mirrors the
installed share/sim2real: config/ sits beside the launch files).

    launch_nodes.py launch/sil.launch.yaml bundle:=DIR [namespace:=NS] [--bin PATH] [--json | --start]

--start runs them all, forwards SIGINT/SIGTERM, and exits when they have all ended (exit
status: the first non-zero one, 128 + N for a node killed by signal N).
"""

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import yaml

SUBST = re.compile(r"\$\((var|find-pkg-share) ([A-Za-z0-9_]+)\)")


class LaunchError(Exception):
    pass


def substitute(text, args, share):
    def one(m):
        kind, name = m.group(1), m.group(2)
        if kind == "var":
            if name not in args:
                raise LaunchError(f"launch argument '{name}' is required (give {name}:=VALUE)")
            return args[name]
        if name != "sim2real":
            raise LaunchError(f"$(find-pkg-share {name}): only sim2real is known")
        return share
    return SUBST.sub(one, str(text))


def raw_entries(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("launch"), list):
        raise LaunchError(f"{path}: expected a top-level 'launch' list")
    return doc["launch"]


def declared_args(path):
    """[(name, default or None)] in order."""
    out = []
    for entry in raw_entries(path):
        if "arg" in entry:
            a = entry["arg"]
            out.append((a["name"], None if "default" not in a else str(a["default"])))
    return out


def load(path, given, share=None):
    """The nodes of a launch file: [{name, namespace, args, params_files, params}] with every
    substitution made. `given` maps launch arguments to values."""
    share = share or os.path.dirname(os.path.abspath(path))
    args = {name: default for name, default in declared_args(path) if default is not None}
    declared = {name for name, _ in declared_args(path)}
    for name, value in given.items():
        if name not in declared:
            raise LaunchError(f"{path}: no launch argument '{name}' (it has: {', '.join(sorted(declared))})")
        args[name] = value
    nodes = []
    for entry in raw_entries(path):
        if "node" not in entry:
            continue
        n = entry["node"]
        for key in ("pkg", "exec", "name"):
            if key not in n:
                raise LaunchError(f"{path}: a node lacks '{key}'")
        files, params = [], []
        for p in n.get("param", []):
            if "from" in p:
                files.append(substitute(p["from"], args, share))
            else:
                params.append((p["name"], substitute(p["value"], args, share)))
        nodes.append({
            "pkg": n["pkg"], "exec": n["exec"], "name": n["name"],
            "namespace": substitute(n.get("namespace", ""), args, share),
            "args": shlex.split(substitute(n.get("args", ""), args, share)),
            "params_files": files, "params": params,
        })
    return nodes


def command(node, binary):
    """The argv `ros2 launch` would run for a node."""
    argv = [binary, *node["args"], "--ros-args", "-r", f"__node:={node['name']}"]
    if node["namespace"]:
        argv += ["-r", f"__ns:=/{node['namespace'].strip('/')}"]
    for f in node["params_files"]:
        argv += ["--params-file", f]
    for name, value in node["params"]:
        argv += ["-p", f"{name}:={value}"]
    return argv


def start(commands):
    children = [subprocess.Popen(argv) for argv in commands]
    stopping = {"signal": None}

    def forward(sig, _frame):
        stopping["signal"] = sig
        for c in children:
            if c.poll() is None:
                c.send_signal(sig)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    while any(c.poll() is None for c in children):
        time.sleep(0.05)
    # Our nodes end cleanly (exit 0) on SIGINT/SIGTERM, so any other status is a failure.
    codes = [c.returncode for c in children]
    bad = next((c for c in codes if c != 0), 0)
    return bad if bad >= 0 else 128 - bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("launch_file")
    ap.add_argument("launch_args", nargs="*", help="name:=value")
    ap.add_argument("--bin", default="sim2real", help="the sim2real binary")
    ap.add_argument("--share", default=None, help="what $(find-pkg-share sim2real) means (default: the launch file's folder)")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print [{name, argv}] as JSON")
    mode.add_argument("--start", action="store_true", help="start the nodes")
    a = ap.parse_args()
    given = {}
    for item in a.launch_args:
        name, sep, value = item.partition(":=")
        if not sep:
            ap.error(f"launch arguments are name:=value, got '{item}'")
        given[name] = value
    try:
        nodes = load(a.launch_file, given, a.share)
    except (LaunchError, OSError, yaml.YAMLError) as e:
        print(f"launch_nodes: {e}", file=sys.stderr)
        return 2
    commands = [command(n, a.bin) for n in nodes]
    if a.start:
        return start(commands)
    if a.json:
        print(json.dumps([{"name": n["name"], "argv": c} for n, c in zip(nodes, commands)]))
    else:
        for c in commands:
            print(shlex.join(c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
