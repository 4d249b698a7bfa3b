#!/usr/bin/env python3
"""Checks launch/: every `.launch.py` mirrors its `.launch.yaml` (same arguments and defaults,
same nodes in the same order with the same package, executable, namespace, arguments,
parameter files and parameters), and every parameter file exists and holds
`/**: ros__parameters:`. With --bin, also that each node's parameter file names exactly the
parameters `<bin> node <name> --print-params` declares. Exit 0 when all hold; otherwise each
mismatch is printed and the exit status is 1.

The `.launch.py` files are parsed (ast), not run: the PyPI wheels have no `launch`.
"""

import argparse
import ast
import glob
import os
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import launch_nodes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def from_yaml(path):
    args = launch_nodes.declared_args(path)
    nodes = []
    for entry in launch_nodes.raw_entries(path):
        if "node" not in entry:
            continue
        n = entry["node"]
        files = [p["from"] for p in n.get("param", []) if "from" in p]
        params = [(p["name"], p["value"]) for p in n.get("param", []) if "from" not in p]
        nodes.append((n["pkg"], n["exec"], n["name"], n.get("namespace"), n.get("args", "").split(),
                      files, params))
    return args, nodes


def literal(node, env):
    """A launch.py expression in the yaml's terms: strings, lists, dicts, LaunchConfiguration
    variables as $(var X) and config("x") as its parameter file."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List):
        return [literal(e, env) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {literal(k, env): literal(v, env) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "config":
        return f"$(find-pkg-share sim2real)/config/{literal(node.args[0], env)}.yaml"
    raise ValueError(f"line {node.lineno}: cannot read {ast.dump(node)[:80]}")


def from_py(path):
    tree = ast.parse(open(path).read(), path)
    env = {}
    for node in ast.walk(tree):
        # name = LaunchConfiguration("x")
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "LaunchConfiguration"):
            env[node.targets[0].id] = f"$(var {node.value.args[0].value})"
    args, nodes = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = getattr(node.func, "id", None)
        kw = {k.arg: k.value for k in node.keywords}
        if fn == "DeclareLaunchArgument":
            default = literal(kw["default_value"], env) if "default_value" in kw else None
            args.append((literal(node.args[0], env), default))
        elif fn == "Node":
            files, params = [], []
            for p in literal(kw["parameters"], env):
                if isinstance(p, dict):
                    params += list(p.items())
                else:
                    files.append(p)
            nodes.append((literal(kw["package"], env), literal(kw["executable"], env),
                          literal(kw["name"], env), literal(kw["namespace"], env),
                          literal(kw["arguments"], env), files, params))
    return args, nodes


def check_params_file(path, problems):
    try:
        doc = yaml.safe_load(open(path))
        params = doc["/**"]["ros__parameters"]
        if not isinstance(params, dict) or not params:
            raise KeyError("ros__parameters")
        return params
    except (OSError, KeyError, TypeError, yaml.YAMLError) as e:
        problems.append(f"{path}: not a '/**: ros__parameters:' file ({e})")
        return {}


def check_stamped_on_the_robot(args, nodes, launch_dir, problems):
    """Clearpath's Jazzy W200 takes cmd_vel as TwistStamped: on the robot every node with a
    `use_stamped` parameter must take it from the `use_stamped` argument, which defaults to true
    (false stays possible for older robots)."""
    if dict(args).get("use_stamped") != "true":
        problems.append(f"warthog.launch.yaml: argument use_stamped must default to 'true', not {dict(args).get('use_stamped')!r}")
    for n in nodes:
        for f in n[5]:
            path = f.replace("$(find-pkg-share sim2real)", launch_dir)
            if "use_stamped" in check_params_file(path, problems) and ("use_stamped", "$(var use_stamped)") not in n[6]:
                problems.append(f"warthog.launch.yaml: node {n[2]} does not set use_stamped from the argument")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--launch-dir", default=os.path.join(ROOT, "launch"))
    ap.add_argument("--bin", default=None, help="also compare with `<bin> node <name> --print-params`")
    a = ap.parse_args()
    problems = []
    yamls = sorted(glob.glob(os.path.join(a.launch_dir, "*.launch.yaml")))
    if not yamls:
        problems.append(f"no .launch.yaml in {a.launch_dir}")
    for ypath in yamls:
        ppath = ypath[: -len(".yaml")] + ".py"
        if not os.path.exists(ppath):
            problems.append(f"{ppath}: missing (mirror of {os.path.basename(ypath)})")
            continue
        y_args, y_nodes = from_yaml(ypath)
        p_args, p_nodes = from_py(ppath)
        if y_args != p_args:
            problems.append(f"{os.path.basename(ppath)}: arguments {p_args} != {y_args}")
        if [n[2] for n in y_nodes] != [n[2] for n in p_nodes]:
            problems.append(f"{os.path.basename(ppath)}: nodes {[n[2] for n in p_nodes]} != {[n[2] for n in y_nodes]}")
        for yn, pn in zip(y_nodes, p_nodes):
            if yn != pn:
                problems.append(f"{os.path.basename(ppath)}: node {yn[2]}: {pn} != {yn}")
        for yn in y_nodes:
            for f in yn[5]:
                path = f.replace("$(find-pkg-share sim2real)", a.launch_dir)
                params = check_params_file(path, problems)
                given = {name for name, _ in yn[6]}
                for name in given - set(params):
                    problems.append(f"{os.path.basename(ypath)}: node {yn[2]} sets '{name}', which {path} lacks")
                if a.bin:
                    out = subprocess.run([a.bin, "node", yn[2], "--print-params"], capture_output=True, text=True)
                    if out.returncode != 0:
                        problems.append(f"{a.bin} node {yn[2]} --print-params: exit {out.returncode}: {out.stderr.strip()}")
                        continue
                    printed = yaml.safe_load(out.stdout)
                    printed = printed.get("/**", printed).get("ros__parameters", printed) if isinstance(printed, dict) else {}
                    if set(printed) != set(params):
                        problems.append(f"{path}: parameters {sorted(params)} != declared {sorted(printed)}")
        if os.path.basename(ypath) == "warthog.launch.yaml":
            check_stamped_on_the_robot(y_args, y_nodes, a.launch_dir, problems)
        print(f"check_launch: {os.path.basename(ypath)}: {len(y_nodes)} nodes, {len(y_args)} arguments")
    for p in problems:
        print(f"check_launch: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
