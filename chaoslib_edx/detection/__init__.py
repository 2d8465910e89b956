"""Detection drills: which alerts each fault set off, when the page came and when someone
acknowledged it, read from the platform's own monitoring and pager."""
