"""check() for the Python test scripts: a failed check is printed at once and kept; summary() prints the counts and
gives the exit status (ctest reads "N passed, 0 failed")."""
import os

failures = []
_passed = [0]
# PIPELINE_TEST_VERBOSE=1, or verbose(True): print passed checks too.
_verbose = [os.environ.get("PIPELINE_TEST_VERBOSE") == "1"]


def verbose(on=True):
    _verbose[0] = on


def check(condition, message):
    if condition:
        _passed[0] += 1
        if _verbose[0]:
            print("ok:  ", message, flush=True)
    else:
        failures.append(message)
        print("FAIL:", message, flush=True)
    return bool(condition)


def summary():
    print(f"{_passed[0]} passed, {len(failures)} failed", flush=True)
    return 1 if failures else 0
