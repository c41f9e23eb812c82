#!/usr/bin/env python3
# meson-query.py — small questions ./dev asks a configured meson build dir.
#
# Purpose: read meson's introspection files (BUILDDIR/meson-info/*.json) so
# that ./dev reconfigures a build dir only when an option really differs
# (meson regenerates on every `meson configure`) and builds only the
# executables a suite needs (the TSan run builds the runtime suite only).
#
# Commands:
#   options-differ BUILDDIR KEY=VALUE...   exit 0 when some option differs
#                                          from the wanted value, 1 when all
#                                          match (2 on unreadable files)
#   test-targets BUILDDIR SUITE            print, one per line, the ninja
#                                          targets (paths relative to
#                                          BUILDDIR) the suite's tests need
# Thread: single-threaded command-line tool, run by ./dev.
import json
import os
import sys


def load(builddir, name):
    with open(os.path.join(builddir, 'meson-info', name), encoding='utf-8') as f:
        return json.load(f)


def norm(v):
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, list):
        return ','.join(str(x) for x in v)
    return str(v).lower()


def options_differ(builddir, pairs):
    try:
        have = {o['name']: norm(o['value']) for o in load(builddir, 'intro-buildoptions.json')}
    except (OSError, ValueError, KeyError):
        return 2
    for pair in pairs:
        key, _, want = pair.partition('=')
        if have.get(key) != norm(want):
            return 0
    return 1


def test_targets(builddir, suite):
    try:
        tests = load(builddir, 'intro-tests.json')
        targets = load(builddir, 'intro-targets.json')
    except (OSError, ValueError):
        return 2
    files = {t['id']: t.get('filename', []) for t in targets}
    root = os.path.realpath(builddir)
    out = []
    for t in tests:
        names = [s.split(':', 1)[-1] for s in t.get('suite', [])]
        if suite not in names:
            continue
        for dep in t.get('depends', []):
            for path in files.get(dep, []):
                rel = os.path.relpath(os.path.realpath(path), root)
                if not rel.startswith('..') and rel not in out:
                    out.append(rel)
    print('\n'.join(out))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == 'options-differ':
        return options_differ(argv[1], argv[2:])
    if len(argv) == 3 and argv[0] == 'test-targets':
        return test_targets(argv[1], argv[2])
    sys.stderr.write('usage: meson-query.py options-differ BUILDDIR KEY=VALUE... | '
                     'test-targets BUILDDIR SUITE\n')
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
