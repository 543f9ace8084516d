#!/usr/bin/env python3
"""Counts the tests of a nextest JUnit report by the database they ran on.

A test's backend is read from its name: a word `sqlite` or `postgres`
(`postgresql`, `pg`) among the parts of its binary and test path split at
`::`, `_`, `-` and `/`, so `store::sqlite::applies_transition`,
`applies_transition_postgres` and a test binary named `postgres` all count.
A test with neither is backend-independent. Tests that name one backend but
have no twin naming the other are listed (`fault::` and `scale::` tests
aside): the same tests should run on both.

usage: count-tests.py [JUNIT_XML]   (default target/nextest/ci/junit.xml)
"""

import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter

BACKENDS = {"sqlite": {"sqlite"}, "postgres": {"postgres", "postgresql", "pg"}}
SPLIT = re.compile(r"::|[_\-/.]")


def backends_of(words):
    return {b for b, names in BACKENDS.items() if names & set(words)}


def twin_key(words):
    """The test's name with the backend word blanked, to pair the two runs."""
    every = set().union(*BACKENDS.values())
    return tuple("*" if w in every else w for w in words)


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "target/nextest/ci/junit.xml"
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        print(f"test count: no JUnit report at {path} ({error}); the tests did not run")
        return 0

    ran = Counter()
    failed = Counter()
    failures = []
    twins = {}
    for case in root.iter("testcase"):
        binary, test = case.get("classname", ""), case.get("name", "")
        name = f"{binary} {test}"
        words = [w.lower() for w in SPLIT.split(f"{binary}::{test}") if w]
        on = backends_of(words) or {"independent"}
        broke = case.find("failure") is not None or case.find("error") is not None
        for backend in on:
            ran[backend] += 1
            if broke:
                failed[backend] += 1
        if broke:
            failures.append(name)
        # Fault tests (a PostgreSQL restart, say) and the multi-process
        # scale test belong to one database.
        if len(on) == 1 and "independent" not in on and not {"fault", "scale"} & set(words):
            twins.setdefault(twin_key(words), {}).update({backend: name for backend in on})

    total = sum(1 for _ in root.iter("testcase"))
    line = (
        f"tests on sqlite: {ran['sqlite']}, tests on postgres: {ran['postgres']}, "
        f"backend-independent: {ran['independent']} (total {total}"
    )
    overlap = ran["sqlite"] + ran["postgres"] + ran["independent"] - total
    if overlap:
        line += f", {overlap} on both"
    line += ")"
    print(line)

    if failures:
        print(
            f"failed: {len(failures)} (sqlite {failed['sqlite']}, postgres {failed['postgres']}, "
            f"backend-independent {failed['independent']})"
        )
        for name in failures:
            print(f"  FAILED {name}")

    lonely = sorted(
        f"{name} (no {'postgres' if backend == 'sqlite' else 'sqlite'} twin)"
        for runs in twins.values()
        if len(runs) == 1
        for backend, name in runs.items()
    )
    if lonely:
        print(f"warning: {len(lonely)} test(s) ran on one database only:")
        for entry in lonely:
            print(f"  {entry}")
    if ran["sqlite"] and not ran["postgres"]:
        print("warning: NO test ran on PostgreSQL")
    return 0


if __name__ == "__main__":
    sys.exit(main())
