#!/usr/bin/env python3
"""Prints the medians of the last criterion run, one line per group and parameter, with each
variant's time over this crate's (`uring`) or the raw layer's (`raw`): ratios from one run.

Usage: benches/table.py [group-prefix ...]   (reads $CARGO_TARGET_DIR or target/criterion)
"""
import json
import os
import sys

root = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")
prefixes = sys.argv[1:]


def fmt(ns):
    return f"{ns / 1000:.3f} µs" if ns >= 1000 else f"{ns:.2f} ns"


rows = {}
for dirpath, _, files in os.walk(root):
    if "estimates.json" not in files or not dirpath.endswith(os.sep + "new"):
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        b = json.load(f)
    with open(os.path.join(dirpath, "estimates.json")) as f:
        med = json.load(f)["median"]["point_estimate"]
    group = b["group_id"]
    if prefixes and not any(group.startswith(p) for p in prefixes):
        continue
    key = (group, b.get("value_str") or "")
    rows.setdefault(key, {})[b["function_id"] or ""] = med

for (group, param), m in sorted(rows.items()):
    name = next((n for n in ("uring", "raw") if n in m), None)
    cells = ", ".join(f"{k} {fmt(v)}" for k, v in sorted(m.items()))
    ratios = ", ".join(f"{k}/{name} {v / m[name]:.3f}" for k, v in sorted(m.items()) if name and k != name)
    print(f"{group} {param}: {cells}" + (f"  [{ratios}]" if ratios else ""))
