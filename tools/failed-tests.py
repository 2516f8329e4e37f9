#!/usr/bin/env python3
"""Print the tests that failed in a tools/run-tests.sh log, each with the
end of its traceback, so that the reason is in the last lines of a CI run's
output (where a reader of a long run looks).

Usage: failed-tests.py LOG [MAX_LINES]
"""

import re
import sys

STEP = re.compile(r'^=== (.+)$')
FAILED_HEADER = re.compile(r'^Failed \d+ tests - output below:$')
UNDERLINE = re.compile(r'^-{3,}$')
RULE = re.compile(r'^=+$')
SECTION = re.compile(r'^Captured (traceback|stdout|stderr|pythonlogging):$')


def failures(lines):
    """(step, test id, traceback lines) of each failure in the log."""
    step, in_failures, test, section, found = '', False, None, None, []
    for i, line in enumerate(lines):
        if STEP.match(line):
            step, in_failures = STEP.match(line).group(1), False
        elif FAILED_HEADER.match(line):
            in_failures = True
        elif line.startswith('Totals'):
            in_failures = False
        elif not in_failures:
            continue
        elif (UNDERLINE.match(line) and i and lines[i - 1].strip()
              and len(line) == len(lines[i - 1])):
            test, section = lines[i - 1], None
            found.append((step, test, []))
        elif SECTION.match(line):
            section = SECTION.match(line).group(1)
        elif test and section == 'traceback' and line.strip() and \
                not line.startswith('~~~') and not RULE.match(line):
            found[-1][2].append(line.strip())
    return found


def ending(traceback, keep):
    """The exception and its message: what follows the last frame (its
    "File ..." line and the source line after it), at most ``keep``
    lines."""
    frames = [i for i, line in enumerate(traceback)
              if line.startswith('File "')]
    start = frames[-1] + 2 if frames else 0
    return traceback[start:start + keep] or traceback[-keep:]


def main():
    path = sys.argv[1]
    keep = int(sys.argv[2]) if len(sys.argv) > 2 else 12
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.read().splitlines()
    found = failures(lines)
    if not found:
        return
    print('=== failed tests (%d)' % len(found))
    for step, test, traceback in found:
        print('FAILED %s  [%s]' % (test, step))
        for line in ending(traceback, keep):
            print('    ' + line[:300])


if __name__ == '__main__':
    main()
