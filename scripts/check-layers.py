#!/usr/bin/env python3
"""Fails when a file under src/ includes a header of a module on its own or a higher layer, or
when code in src/net reaches past Archive to the catalog or the stores (a "side door").

Strata's modules form layers (docs/architecture.md, "Layers"): a module may include headers of
its own module and of modules on LOWER layers only. Modules on the same layer are independent
of each other. The order below is the declared one; change it here and in the docs together.

Usage: scripts/check-layers.py [SRC_DIR]   (default: the src/ next to this script)
       scripts/check-layers.py --self-test  (the check itself catches an upward include)
Exit status 0 when every `#include "..."` goes down, 1 with one line per violation otherwise.
"""
import os
import re
import sys

# Lowest first. A module is a directory under src/ (net/dimse and net/web are two modules).
LAYERS = [
    ["util"],
    ["model"],
    ["config"],
    ["dicom"],
    ["index", "hot", "cold", "pack", "codec", "testdata"],
    ["archive"],
    ["tiering", "transfer"],
    ["net/dimse", "net/web"],
    ["cli"],
]
RANK = {m: i for i, layer in enumerate(LAYERS) for m in layer}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
# Archive is the network services' one door (docs/architecture.md): code in src/net may not
# reach past it to the catalog or the stores (Archive::catalog()/hot()/cold()/replica()).
SIDE_DOOR = re.compile(r'(?:\.|->)(catalog|hot|cold|replica)\(\)')


def module_of(rel_path):
    """The module a path under src/ (or an include path) belongs to, or None."""
    parts = rel_path.split("/")
    if len(parts) < 2:
        return None
    if parts[0] == "net" and len(parts) >= 3:
        return "net/" + parts[1]
    return parts[0]


def check(src):
    errors = []
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            mod = module_of(rel)
            if mod not in RANK:
                errors.append(f"{rel}: module '{mod}' is not in the declared layer order")
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    door = SIDE_DOOR.search(line) if mod.startswith("net/") else None
                    if door and not line.lstrip().startswith("//"):
                        errors.append(f"{rel}:{lineno}: {mod} calls {door.group(1)}() past Archive (add an Archive operation)")
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = module_of(m.group(1))
                    if target is None or target == mod:
                        continue  # same directory, or a generated file next to the source
                    if target not in RANK:
                        if os.path.exists(os.path.join(src, m.group(1))):
                            errors.append(f"{rel}:{lineno}: includes {m.group(1)} of undeclared module '{target}'")
                        continue  # not one of ours (e.g. a system header quoted)
                    if RANK[target] >= RANK[mod]:
                        how = "the same layer" if RANK[target] == RANK[mod] else "a higher layer"
                        errors.append(f"{rel}:{lineno}: {mod} includes {m.group(1)}, from {how} ({target})")
    return errors


def self_test():
    """Runs the check on small trees: a clean one passes, each kind of violation fails."""
    import tempfile

    def tree(files):
        d = tempfile.mkdtemp(prefix="check-layers-")
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        return d

    base = {"util/status.h": "#pragma once\n", "model/records.h": '#include "util/status.h"\n',
            "dicom/uid.h": '#include "model/records.h"\n#include <string>\n'}
    cases = [
        ({}, 0),
        ({"model/bad.h": '#include "dicom/uid.h"\n'}, 1),              # up a layer
        ({"pack/a.cc": '#include "index/x.h"\n', "index/x.h": ""}, 1),  # across one layer
        ({"net/web/a.cc": '#include "net/dimse/b.h"\n', "net/dimse/b.h": ""}, 1),
        ({"newmod/a.cc": '#include "util/status.h"\n'}, 1),            # undeclared module
        ({"cli/a.cc": '  #  include "util/status.h"\n#include "local.h"\n'}, 0),
        ({"net/web/s.cc": "auto c = ctx.archive->catalog()->Stats();\n"}, 1),  # a side door
        ({"cli/s.cc": "auto c = archive->catalog()->Stats();\n"}, 0),       # the CLI may
    ]
    for extra, want in cases:
        got = len(check(tree({**base, **extra})))
        if (got > 0) != (want > 0):
            print(f"check-layers self-test FAILED for {sorted(extra)}: {got} violation(s)")
            return 1
    print(f"check-layers self-test: {len(cases)} cases pass")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    if not os.path.isdir(src):
        print(f"check-layers: no such directory: {src}", file=sys.stderr)
        return 2
    errors = check(src)
    for e in errors:
        print(e)
    if errors:
        print(f"check-layers: {len(errors)} include(s) go up or across a layer; see docs/architecture.md", file=sys.stderr)
        return 1
    print("check-layers: every include goes down a layer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
