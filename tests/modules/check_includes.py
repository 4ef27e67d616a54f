#!/usr/bin/env python3
"""The module rules of docs/architecture.md, checked on the sources.

Each module (a folder under daemon/, its headers under include/dropd/) may
include the headers of the modules daemon/CMakeLists.txt lets it link
(DROPD_DEPS_<module>) and no others; and whatever those lists say, the pairs
in FORBIDDEN never hold (a module must not know about these). The check reads
every #include of every .cpp/.hpp, so it fails the moment a forbidden header
is used, before any link error could.
"""
import os
import pathlib
import re
import sys

ROOT = pathlib.Path(os.environ.get("DROPD_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))

# module -> modules it must never include (docs/architecture.md, "must not know about").
FORBIDDEN = {
    "base": {"uv", "config", "file", "net", "llm", "throttle", "watch", "pipeline", "ops"},
    "config": {"uv", "net", "file", "llm", "watch", "pipeline", "ops"},
    "llm": {"uv", "file", "watch", "pipeline", "ops"},
    "net": {"llm", "file", "pipeline", "ops"},
    "file": {"net", "llm", "pipeline", "ops"},
    "watch": {"net", "llm", "pipeline", "ops"},
    "throttle": {"net", "llm", "file", "pipeline", "ops"},
    "extract": {"uv", "config", "file", "net", "llm", "throttle", "watch", "pipeline", "ops"},
    "extractor": {"uv", "config", "file", "net", "llm", "throttle", "watch", "pipeline", "ops"},
    "uv": {"config", "file", "net", "llm", "throttle", "watch", "pipeline", "ops"},
    # The ledger's interface is pipeline's; its PostgreSQL backend is built by ops.
    "pipeline": {"postgres", "ops"},
    "postgres": {"net", "llm", "watch", "ops"},
}
# Modules that must not know libuv at all, not even <uv.h>. (llm may name
# uv_loop_t: it builds its net::HttpClient, whose API takes the loop.)
NO_LIBUV = {"config"}

INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)


def allowed_deps():
    text = (ROOT / "daemon" / "CMakeLists.txt").read_text()
    deps = {}
    for module, names in re.findall(r'set\(DROPD_DEPS_(\w+)\s*([^)]*)\)', text):
        deps[module] = set(names.replace('"', "").split())
    return deps


def sources(module):
    for base in (ROOT / "daemon" / module, ROOT / "include" / "dropd" / module):
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*") if p.suffix in (".cpp", ".hpp", ".h"))


def main():
    deps = allowed_deps()
    problems = []
    for module in sorted(deps):
        for path in sources(module):
            rel = path.relative_to(ROOT)
            for kind, name in INCLUDE.findall(path.read_text(errors="replace")):
                if kind == "<" and name == "uv.h" and module in NO_LIBUV:
                    problems.append(f"{rel}: {module} includes <uv.h>, but must not know libuv")
                m = re.match(r"dropd/(\w+)/", name)
                if kind != '"' or not m:
                    continue
                used = m.group(1)
                if used == module:
                    continue
                if used in FORBIDDEN.get(module, set()):
                    problems.append(f"{rel}: {module} includes {name}; {module} must not know {used}")
                elif used not in deps[module]:
                    problems.append(f"{rel}: {module} includes {name}, but DROPD_DEPS_{module} "
                                    f"in daemon/CMakeLists.txt does not list {used}")
    for p in problems:
        print(p)
    checked = sum(1 for m in deps for _ in sources(m))
    print(f"{checked} files of {len(deps)} modules checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
