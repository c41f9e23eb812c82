#!/usr/bin/env python3
# test-summary.py — counts TAP cases across `meson test` runs for `./dev test`.
#
# Purpose: every plus7 test executable prints TAP (tests/t.h), one line per
# case. meson keeps each test's stdout in meson-logs/testlog.json (one JSON
# object per line). This script reads one or more such logs and prints a
# per-suite table, the failing cases with their "# FAIL" comments, and as
# its very last line "N passed, N failed, N skipped".
#
# Counting rules:
#   - "ok N ..."                 one passed case
#   - "ok N ... # SKIP ..."      one skipped case
#   - "not ok N ..."             one failed case ("# TODO" counts as skipped)
#   - a test whose meson result is not OK/SKIP/EXPECTEDFAIL (crash, timeout,
#     sanitizer abort, non-zero exit) counts as one more failed case, named
#     after the test and its result, unless it reported every planned case,
#     some of them "not ok", and exited with 1 (t.h's "a case failed");
#   - a test that printed no TAP line at all counts as one case (passed on
#     OK, skipped on SKIP, failed otherwise).
#
# Usage: test-summary.py LABEL=BUILDDIR ... [LABEL=!message ...]
#   LABEL names the run (asan, tsan); BUILDDIR holds meson-logs/testlog.json
#   and meson-info/intro-tests.json (which names each test's suite: meson
#   leaves the suite out of a test's name when a project has only one);
#   "LABEL=!message" records a failure of a whole stage (a build that did
#   not compile, an interrupted run).
# Exit status: 0 when nothing failed, 1 otherwise.
# Thread: single-threaded command-line tool, run by ./dev after meson test.
import json
import os
import re
import sys

TAP_RE = re.compile(r'^(not )?ok\b\s*(\d+)?\s*(?:-\s*)?(.*)$')
PLAN_RE = re.compile(r'^1\.\.(\d+)')
REPORT_RE = re.compile(r'(ERROR: \w+Sanitizer|WARNING: \w+Sanitizer|runtime error:|'
                       r'ERROR: LeakSanitizer)')
GOOD = {'OK', 'SKIP', 'EXPECTEDFAIL'}


def tail(text, n):
    lines = [l for l in (text or '').rstrip('\n').split('\n') if l.strip()]
    return lines[-n:]


def sanitizer_report(text):
    """The first sanitizer report in text (its first lines and SUMMARY)."""
    lines = (text or '').split('\n')
    for i, line in enumerate(lines):
        if REPORT_RE.search(line):
            out = [l for l in lines[i:i + 9] if l.strip()]
            out += [l for l in lines[i + 9:] if l.startswith('SUMMARY:')][:1]
            return out
    return []


def split_name(full, suites):
    """'plus7:pg+slow / orders' -> ('pg+slow', 'orders'); a bare name is
    looked up in suites (test name -> suite names from intro-tests.json)."""
    head, _, name = full.partition(' / ')
    if not name:
        return '+'.join(suites.get(full, [])) or '-', full
    suite = head.split(':', 1)[1] if ':' in head else head
    return suite or '-', name


def load_suites(builddir):
    try:
        with open(os.path.join(builddir, 'meson-info', 'intro-tests.json'),
                  encoding='utf-8') as f:
            tests = json.load(f)
    except (OSError, ValueError):
        return {}
    return {t['name']: [s.split(':', 1)[-1] for s in t.get('suite', [])] for t in tests}


def count_test(entry):
    """Returns (passed, failed, skipped, failures) for one testlog entry;
    failures is a list of (case title, [detail lines])."""
    passed = failed = skipped = 0
    failures = []
    comments = []
    seen_tap = False
    plan = None
    for line in (entry.get('stdout') or '').split('\n'):
        m = PLAN_RE.match(line)
        if m and not seen_tap:
            plan = int(m.group(1))
            continue
        m = TAP_RE.match(line)
        if not m:
            if line.startswith('#'):
                comments.append(line)
            continue
        seen_tap = True
        directive = m.group(3) or ''
        upper = directive.upper()
        if m.group(1):
            if '# TODO' in upper:
                skipped += 1
            else:
                failed += 1
                failures.append(('case ' + (m.group(2) or '?') + ' - ' + directive,
                                 comments[-6:]))
        elif '# SKIP' in upper:
            skipped += 1
        else:
            passed += 1
        comments = []
    result = entry.get('result', 'ERROR')
    if not seen_tap:
        if result == 'OK' or result == 'EXPECTEDFAIL':
            passed += 1
        elif result == 'SKIP':
            skipped += 1
    reported = passed + failed + skipped
    incomplete = plan is not None and reported < plan
    if result not in GOOD and (failed == 0 or incomplete or entry.get('returncode') != 1):
        failed += 1
        why = '%s (exit %s)' % (result, entry.get('returncode'))
        if incomplete:
            why += ', %d of %d planned cases reported' % (reported, plan)
        detail = (sanitizer_report(entry.get('stderr')) or sanitizer_report(entry.get('stdout'))
                  or tail(entry.get('stderr'), 12)
                  or ['(last output)'] + tail(entry.get('stdout'), 6))
        failures.append(('the test executable itself: ' + why, detail))
    return passed, failed, skipped, failures


def main(argv):
    suites = {}          # (label, suite) -> [tests, passed, failed, skipped, seconds]
    bad = []             # (label, test name, [(title, details)])
    order = []
    for arg in argv:
        label, _, builddir = arg.partition('=')
        path = os.path.join(builddir, 'meson-logs', 'testlog.json')
        if builddir.startswith('!'):
            key = (label, '(stage)')
            if key not in suites:
                suites[key] = [0, 0, 0, 0, 0.0]
                order.append(key)
            suites[key][2] += 1
            bad.append((label, 'stage', [(builddir[1:], [])]))
            continue
        if not os.path.exists(path):
            key = (label, '(stage)')
            if key not in suites:
                suites[key] = [0, 0, 0, 0, 0.0]
                order.append(key)
            suites[key][2] += 1
            bad.append((label, 'stage', [('no test log at ' + path, [])]))
            continue
        suite_of = load_suites(builddir)
        with open(path, encoding='utf-8', errors='replace') as f:
            for raw in f:
                raw = raw.strip()
                if not raw:
                    continue
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                suite, name = split_name(entry.get('name', '?'), suite_of)
                key = (label, suite)
                if key not in suites:
                    suites[key] = [0, 0, 0, 0, 0.0]
                    order.append(key)
                p, fl, s, failures = count_test(entry)
                row = suites[key]
                row[0] += 1
                row[1] += p
                row[2] += fl
                row[3] += s
                row[4] += float(entry.get('duration') or 0.0)
                if failures:
                    bad.append((label, suite + ' / ' + name, failures))

    total = [0, 0, 0]
    print()
    print('%-8s %-22s %6s %7s %7s %8s %8s' %
          ('build', 'suite', 'tests', 'passed', 'failed', 'skipped', 'seconds'))
    for key in order:
        t, p, fl, s, secs = suites[key]
        print('%-8s %-22s %6d %7d %7d %8d %8.1f' % (key[0], key[1], t, p, fl, s, secs))
        total[0] += p
        total[1] += fl
        total[2] += s
    if bad:
        print()
        print('Failed:')
        for label, test, failures in bad:
            for title, details in failures:
                print('  [%s] %s: %s' % (label, test, title))
                for d in details:
                    print('        ' + d[:300])
    if not order:
        print('(no test ran)')
    print()
    print('%d passed, %d failed, %d skipped' % tuple(total))
    return 1 if total[1] else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
