#!/usr/bin/env python3
"""Where the ensemble's fully nested search loses its points (docs/anomaly.md).

For each held-out category C, with P_C the parameters the nested search chose without C
(the table in "Choosing the defaults: fully nested search") and D the shipped defaults:
C's held-out score at P_C and the threshold chosen on the other four (the nested figure),
at P_C with C's own best threshold (an oracle: what the threshold choice costs), and the
same two at D; then each parameter in which P_C differs from D, put back to D with the
rest at P_C, and D with only that one set to P_C's value.

usage: nested_diagnosis.py IOTBLOCKS_CLI [NAB_DIR]     (standard profile; about 11 s of CPU)
"""
import json, os, shutil, subprocess, sys, tempfile

cli = sys.argv[1]
nab = sys.argv[2] if len(sys.argv) > 2 else "data/nab"
D = dict(alpha="0.012", level_alpha="0.03", season_alpha="0.015", training="100",
         novelty_weight="20", record_weight="8", rest="50", likelihood_window="20")
chosen = {  # the nested search's choice per held-out category
    "artificialNoAnomaly": "alpha=0.012,level_alpha=0.03,season_alpha=0.03,training=150,novelty_weight=20,record_weight=8,rest=50,likelihood_window=10",
    "artificialWithAnomaly": "alpha=0.006,level_alpha=0.015,season_alpha=0.03,training=100,novelty_weight=20,record_weight=4,rest=50,likelihood_window=5",
    "realAWSCloudwatch": "alpha=0.012,level_alpha=0.015,season_alpha=0.015,training=100,novelty_weight=20,record_weight=4,rest=100,likelihood_window=10",
    "realAdExchange": "alpha=0.006,level_alpha=0.015,season_alpha=0.03,training=100,novelty_weight=20,record_weight=4,rest=50,likelihood_window=5",
    "realTweets": "alpha=0.012,level_alpha=0.015,season_alpha=0.015,training=100,novelty_weight=20,record_weight=16,rest=50,likelihood_window=10",
}
CH = {c: dict(kv.split("=") for kv in t.split(",")) for c, t in chosen.items()}
tmp = tempfile.mkdtemp()
cache = {}


def sets(p):
    return [a for k, v in sorted(p.items()) for a in ("--set", f"{k}={v}")]


def cli_json(args):
    out = subprocess.run(["nice", "-n", "10", cli, "anomaly", "nab", "-d", "ensemble",
                          "--profile", "standard", "--json"] + args,
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def folds(p):  # C held out at parameters p, the threshold chosen on the other categories
    key = tuple(sorted(p.items()))
    if key not in cache:
        cache[key] = {j["held_out"]: j for j in cli_json(["--folds", "category", "--data", nab] + sets(p))
                      if "held_out" in j}
    return cache[key]


def oracle(p, cat):  # C alone at parameters p, its own best threshold
    d = os.path.join(tmp, cat)
    if not os.path.exists(d):
        shutil.copytree(os.path.join(nab, "data", cat), os.path.join(d, "data", cat))
        shutil.copytree(os.path.join(nab, "labels"), os.path.join(d, "labels"))
    return cli_json(["--data", d] + sets(p))[0]


def norm(j):
    return 100 * (j["raw"] + j["windows"]) / (2 * j["windows"]) if j["windows"] else None


def pooled(rows):  # standard profile: S_null = -windows, S_perfect = windows
    w = sum(r["windows"] for r in rows)
    return 100 * (sum(r["raw"] for r in rows) + w) / (2 * w)


def cell(j):
    return f"{norm(j):.1f}" if j["windows"] else f"{j['false_positives']} FP"


print("| held out | P_C, fold threshold (nested) | P_C, own best threshold | D, fold threshold"
      " | D, own best threshold | fold threshold P_C / D | own best threshold P_C / D |")
print("|---|---:|---:|---:|---:|---:|---:|")
cols = [[], [], [], []]
for cat, p in CH.items():
    fp, fd = folds(p)[cat], folds(D)[cat]
    op = oracle(p, cat) if fp["windows"] else fp
    od = oracle(D, cat) if fd["windows"] else fd
    for col, j in zip(cols, (fp, op, fd, od)):
        col.append(j)
    print(f"| {cat} | {cell(fp)} | {cell(op)} | {cell(fd)} | {cell(od)} | "
          f"{fp['threshold']:.4f} / {fd['threshold']:.4f} | "
          f"{op['threshold']:.4f} / {od['threshold']:.4f} |")
print("| pooled | " + " | ".join(f"{pooled(c):.1f}" for c in cols) + " | | |")
print()
for cat, p in CH.items():
    base = folds(p)[cat]
    if not base["windows"]:
        continue
    parts = []
    for k in (k for k in p if p[k] != D[k]):
        back = dict(p, **{k: D[k]})
        only = dict(D, **{k: p[k]})
        parts.append(f"`{k}` {p[k]} -> {D[k]}: {norm(folds(back)[cat]) - norm(base):+.1f} "
                     f"(D with only it: {norm(folds(only)[cat]) - norm(folds(D)[cat]):+.1f})")
    print(f"- {cat} ({norm(base):.1f}): " + "; ".join(parts))
shutil.rmtree(tmp)
