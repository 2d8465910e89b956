"""`python -m chaoslib_edx` is `edx-gameday`."""

from chaoslib_edx.cli import main

main()
