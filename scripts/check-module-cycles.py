#!/usr/bin/env python3
"""Fails when the modules of a crate depend on each other in a cycle.

An edge A -> B means the code of module A names module B: a private `use`, or an inline path
(`crate::`, `super::`, `self::`, or a child's name). Re-exports (`pub use`) are how a module
presents its children and are left out; everything else counts, parent to child and child to
parent alike. Usage: scripts/check-module-cycles.py [CRATE_SRC ...]
"""
import os
import re
import sys


def modules(src):
    """Module path (tuple) -> file, for every .rs file under src."""
    found = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel[-1] in ("lib", "main", "mod"):
                rel = rel[:-1]
            found[tuple(rel)] = path
    return found


PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GLOB = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\*")
USE_GROUP = re.compile(r"\buse\s+(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)


def strip_comments(text):
    """The code that depends on other modules: comments and re-exports (`pub use`, how a
    module presents its children) are left out."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    # Unit tests sit in an inline `mod tests` at the end, where `super` is the file itself.
    text = text.split("#[cfg(test)]")[0]
    return re.sub(r"\bpub(\([^)]*\))?\s+use\s[^;]*;", "", text, flags=re.S)


def targets(module, text, known):
    """Module paths (tuples) this file names, resolved to absolute paths."""
    out = []
    # A path that starts with a child module's name (`use sessions::X`, `sessions::X`).
    for child in {m[len(module)] for m in known if len(m) == len(module) + 1 and m[: len(module)] == module}:
        if re.search(r"(?<![:\w])" + re.escape(child) + r"::", text):
            out.append(module + (child,))

    def resolve(root, rest):
        parts = [p for p in rest.split("::") if p]
        if root == "crate":
            base = []
        elif root == "self":
            base = list(module)
        else:
            base = list(module[:-1])
            while parts and parts[0] == "super":
                base = base[:-1]
                parts = parts[1:]
        return tuple(base + parts)

    for root, rest in PATH.findall(text):
        out.append(resolve(root, rest))
    for root, rest in GLOB.findall(text):
        out.append(resolve(root, rest))
    for root, prefix, group in USE_GROUP.findall(text):
        for item in re.split(r"[,\s]+", re.sub(r"\{[^}]*\}", "", group)):
            item = item.split(" as ")[0].strip()
            if item and item != "self":
                out.append(resolve(root, prefix + "::" + item))
    return out


def owning_module(path, known):
    """The longest prefix of path that is a module."""
    for n in range(len(path), -1, -1):
        if path[:n] in known:
            return path[:n]
    return ()


def cycles(src):
    known = modules(src)
    edges = {m: set() for m in known}
    for module, file in known.items():
        text = strip_comments(open(file, encoding="utf-8").read())
        for target in targets(module, text, known):
            dep = owning_module(target, known)
            if dep == module:
                continue
            edges[module].add(dep)
    # Tarjan's strongly connected components.
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                members = set(component)
                out.append(
                    sorted(
                        ("/".join(a) or "(root)", "/".join(b) or "(root)")
                        for a in component
                        for b in edges[a]
                        if b in members
                    )
                )

    sys.setrecursionlimit(10000)
    for v in known:
        if v not in index:
            visit(v)
    return out


def main():
    roots = sys.argv[1:] or sorted(
        os.path.join("crates", c, "src") for c in os.listdir("crates") if os.path.isdir(os.path.join("crates", c, "src"))
    )
    failed = False
    for src in roots:
        for component in cycles(src):
            failed = True
            names = ", ".join(f"{a} -> {b}" for a, b in component)
            print(f"module cycle in {src}: {names}")
    if not failed:
        print(f"no module cycles in {len(roots)} crates")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
