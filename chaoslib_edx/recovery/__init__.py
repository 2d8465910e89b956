"""The recovery ledger: every fault's rollback on disk before the fault, run on every path."""
