"""Run a module as `python -m MODULE ARGS` and count how many times it opens one file.

    python tests/reads.py FILE COUNT_FILE MODULE ARGS...

An audit hook (sys.addaudithook: every open() of the interpreter raises an "open" event)
counts the opens of FILE in this process and writes the count to COUNT_FILE at exit: the
number of times a command read an inventory, measured from outside our code.
"""

import atexit
import os
import runpy
import sys

watched, count_file, module = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3]
opened = [0]


def _hook(event: str, args: tuple) -> None:
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        if os.path.realpath(os.fsdecode(args[0])) == watched:
            opened[0] += 1


def _write() -> None:
    with open(count_file, "w") as out:
        out.write(str(opened[0]))


atexit.register(_write)
sys.addaudithook(_hook)
sys.argv = [module, *sys.argv[4:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
