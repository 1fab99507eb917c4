#!/usr/bin/env python3
"""Compare an Autobahn|Testsuite report with the expected results.

    compare.py REPORT_DIR_OR_INDEX_JSON EXPECTED.json [--update] [--agent A]
               [--cases P1,P2]

The report is the index.json that wstest writes (the file summarize.py reads):
{agent: {case id: {"behavior", "behaviorClose", "remoteCloseCode", ...}}}.
The expected file keeps, for each case id, only the three fields that describe
the outcome:

    {
      "1.1.1": {"behavior": "OK", "behaviorClose": "OK", "remoteCloseCode": 1000},
      ...
    }

One case per line, in case order, so that a change shows up as a one-line diff.
A field may also hold a list of accepted values, written by hand, for a case
whose outcome depends on timing, e.g. "behavior": ["OK", "NON-STRICT"].
--update keeps such a list as long as the new result is one of its values.

--cases restricts the comparison (and --update) to the cases matching the
patterns, with wstest's pattern rules ("6.*", "6.4.3"); expected cases outside
the selection are neither compared nor dropped. Without --cases, every case
in the expected file must be in the report and vice versa.

Exit status: 0 when the report matches (or --update wrote the file), 1 when it
differs (a readable diff is printed), 2 for usage errors, an unreadable report
or a missing expected file.
"""
import argparse
import json
import os
import re
import sys

FIELDS = ("behavior", "behaviorClose", "remoteCloseCode")


def case_key(case_id):
    try:
        return tuple(int(x) for x in case_id.split("."))
    except ValueError:
        return (float("inf"), case_id)


def pattern_matcher(patterns):
    """wstest's rules (caseset.py): a pattern with '*' is a regex where '.' is
    literal and '*' is '.*', matched at the start of the id; any other pattern
    must equal the id."""
    if patterns is None:
        return lambda case_id: True
    tests = []
    for p in patterns:
        if "*" in p:
            rx = re.compile(re.escape(p).replace(r"\*", ".*"))
            tests.append(lambda cid, rx=rx: rx.match(cid) is not None)
        else:
            tests.append(lambda cid, p=p: cid == p)
    return lambda case_id: any(t(case_id) for t in tests)


def fail(msg):
    print("compare.py: %s" % msg, file=sys.stderr)
    sys.exit(2)


def load_report(path, agent):
    if os.path.isdir(path):
        path = os.path.join(path, "index.json")
    try:
        with open(path, encoding="utf-8") as fh:
            index = json.load(fh)
    except (OSError, ValueError) as exc:
        fail("cannot read report %s: %s" % (path, exc))
    if agent is None:
        if len(index) != 1:
            fail("report %s has agents %s; choose one with --agent"
                 % (path, ", ".join(sorted(index)) or "(none)"))
        agent = next(iter(index))
    if agent not in index:
        fail("agent %r not in report %s (agents: %s)" % (agent, path, ", ".join(sorted(index)) or "none"))
    cases = {}
    for cid, c in index[agent].items():
        cases[cid] = {f: c.get(f) for f in FIELDS}
    return path, agent, cases


def load_expected(path):
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        fail("%s: expected an object of case id -> {behavior, behaviorClose, remoteCloseCode}" % path)
    return data


def accepts(expected_value, actual):
    if isinstance(expected_value, list):
        return actual in expected_value
    return expected_value == actual


def show(value):
    if isinstance(value, list):
        return "one of [%s]" % ", ".join(show(v) for v in value)
    return "null" if value is None else str(value)


def dump(expected):
    """One case per line, in case order."""
    lines = []
    for cid in sorted(expected, key=case_key):
        entry = expected[cid]
        # the three known fields first, in a fixed order, then anything else
        keys = [f for f in FIELDS if f in entry] + sorted(k for k in entry if k not in FIELDS)
        body = ", ".join("%s: %s" % (json.dumps(k), json.dumps(entry[k])) for k in keys)
        lines.append("  %s: {%s}" % (json.dumps(cid), body))
    return "{\n" + ",\n".join(lines) + ("\n" if lines else "") + "}\n"


def diff(actual, expected, selected):
    """Returns (changed, missing, extra) for the selected cases."""
    changed, missing, extra = [], [], []
    for cid in sorted(set(actual) | set(expected), key=case_key):
        if not selected(cid):
            continue
        if cid not in actual:
            missing.append(cid)
        elif cid not in expected:
            extra.append(cid)
        else:
            d = [(f, expected[cid].get(f), actual[cid][f])
                 for f in FIELDS if not accepts(expected[cid].get(f), actual[cid][f])]
            if d:
                changed.append((cid, d))
    return changed, missing, extra


def print_diff(changed, missing, extra, actual, expected):
    if changed:
        print("  changed (expected -> got):")
        for cid, d in changed:
            print("    %-8s %s" % (cid, "; ".join("%s: %s -> %s" % (f, show(e), show(a)) for f, e, a in d)))
    if missing:
        print("  missing from the report (expected, but not run or not reported):")
        for cid in missing:
            e = expected[cid]
            print("    %-8s expected %s" % (cid, " ".join(show(e.get(f)) for f in FIELDS)))
    if extra:
        print("  not in the expected file (new cases):")
        for cid in extra:
            a = actual[cid]
            print("    %-8s got %s" % (cid, " ".join(show(a[f]) for f in FIELDS)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog="See the module docstring (head of this file) for details.")
    ap.add_argument("report", help="report directory or its index.json")
    ap.add_argument("expected", help="expected-results JSON file")
    ap.add_argument("--update", action="store_true", help="rewrite EXPECTED from the report instead of comparing")
    ap.add_argument("--agent", help="agent in the report (default: its only agent)")
    ap.add_argument("--cases", help="comma-separated case patterns to compare (default: all)")
    args = ap.parse_args(argv)

    patterns = None
    if args.cases is not None:
        patterns = [p.strip() for p in args.cases.split(",") if p.strip()]
    selected = pattern_matcher(patterns)
    report_path, agent, actual = load_report(args.report, args.agent)
    actual = {cid: v for cid, v in actual.items() if selected(cid)}

    expected = None
    if os.path.exists(args.expected):
        try:
            expected = load_expected(args.expected)
        except (OSError, ValueError) as exc:
            if not args.update:
                fail("cannot read %s: %s" % (args.expected, exc))
            print("compare.py: %s is unreadable (%s); rewriting it" % (args.expected, exc))
    elif not args.update:
        fail("no expected file %s (create it with --update once the results are right)" % args.expected)

    if args.update:
        if not actual:
            fail("report %s has no (selected) cases for agent %r; not updating" % (report_path, agent))
        old = expected or {}
        changed, missing, extra = diff(actual, old, selected)
        new = {cid: v for cid, v in old.items() if not selected(cid)}
        for cid, got in actual.items():
            prev = old.get(cid, {})
            # keep a hand-written list of accepted values while it still accepts the result
            new[cid] = {f: (prev[f] if f in prev and isinstance(prev[f], list) and got[f] in prev[f]
                            else got[f]) for f in FIELDS}
        os.makedirs(os.path.dirname(os.path.abspath(args.expected)), exist_ok=True)
        with open(args.expected, "w", encoding="utf-8") as fh:
            fh.write(dump(new))
        if expected is not None and (changed or missing or extra):
            print("compare.py: updated %s (agent %r): %d changed, %d removed, %d added"
                  % (args.expected, agent, len(changed), len(missing), len(extra)))
            print_diff(changed, missing, extra, actual, old)
        else:
            print("compare.py: wrote %s (agent %r, %d cases%s)"
                  % (args.expected, agent, len(new), ", unchanged" if expected is not None else ""))
        return 0

    changed, missing, extra = diff(actual, expected, selected)
    n_compared = len(set(actual) | {c for c in expected if selected(c)})
    if not (changed or missing or extra):
        print("compare.py: %s matches %s (agent %r, %d cases)" % (report_path, args.expected, agent, n_compared))
        return 0
    print("compare.py: %s differs from %s (agent %r): %d changed, %d missing, %d new, of %d cases"
          % (report_path, args.expected, agent, len(changed), len(missing), len(extra), n_compared))
    print_diff(changed, missing, extra, actual, expected)
    return 1


if __name__ == "__main__":
    sys.exit(main())
