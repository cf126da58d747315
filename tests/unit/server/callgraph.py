#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""callgraph.py ARCHIVE -- edgefleetd's modules call one way: no file of src/server calls back
into a module that calls it (docs/architecture.md, "Who calls whom").

Reads the server's static library with nm: module A calls module B when A's object refers to a
symbol B defines (functions, and tables of rows such as order_ws_routes). Upward information
must travel as events to registered listeners or completion callbacks, which are pointers, not
references by name, so they make no edge. Fails, naming the loop, on any cycle; prints the graph.
"""
import collections
import subprocess
import sys


def symbols(archive, flag):
    out = subprocess.run(["nm", "-A", flag, archive], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and ":" in parts[0]:
            yield parts[0].split(":")[1], parts[-2], parts[-1]


def main():
    archive = sys.argv[1]
    defined = {sym: obj for obj, kind, sym in symbols(archive, "--defined-only")
               if kind in "TDRB"}
    calls = collections.defaultdict(set)
    for obj, _, sym in symbols(archive, "--undefined-only"):
        if sym in defined and defined[sym] != obj:
            calls[obj].add(defined[sym])
    if len(calls) < 10:
        print("callgraph: only %d modules with calls: not the server library?" % len(calls))
        return 1
    for mod in sorted(calls):
        print("%-20s -> %s" % (mod, " ".join(sorted(calls[mod]))))

    cycles, state, path = [], {}, []

    def visit(u):
        state[u] = "open"
        path.append(u)
        for v in sorted(calls.get(u, ())):
            if state.get(v) == "open":
                cycles.append(path[path.index(v):] + [v])
            elif v not in state:
                visit(v)
        path.pop()
        state[u] = "done"

    for mod in sorted(calls):
        if mod not in state:
            visit(mod)
    for c in cycles:
        print("cycle: " + " -> ".join(c))
    print("callgraph: %d passed, %d failed" % (1 if not cycles else 0, 1 if cycles else 0))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
