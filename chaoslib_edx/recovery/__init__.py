"""The safety control: guardrails before an experiment, the recovery ledger after it."""
