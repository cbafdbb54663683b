"""Running the CLI in a process of its own that reports its own peak resident memory.

The kernel's ru_maxrss for a child counts the memory of the process it was forked from (a test process
can hold hundreds of MiB); VmHWM in /proc/self/status is the child's own peak. Used by the reliability
tests and `make bench`.
"""

from __future__ import annotations

# ``python -c PEAK ARGS...`` runs ``reminder-service ARGS...`` and writes "peak-kib N" to stderr on exit.
PEAK = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    with open('/proc/self/status') as status:\n"
    "        kib = next(line.split()[1] for line in status if line.startswith('VmHWM:'))\n"
    "    sys.stderr.write(f'peak-kib {kib}\\n')\n"
    "atexit.register(peak)\n"
    "runpy.run_module('reminder_service', run_name='__main__')\n"
)


def peak_mib(stderr: str) -> float | None:
    """The peak a PEAK process reported on its standard error, in MiB; None if it did not get that far."""
    found = [int(line.split()[1]) / 1024 for line in stderr.splitlines() if line.startswith("peak-kib ")]
    return found[-1] if found else None
