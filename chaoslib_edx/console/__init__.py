"""The live game-day console: the runner serves the team a page (and a JSON and
server-sent-events interface) to watch the run, take notes, acknowledge pages, hold the
next fault and abort, each action behind its role's token."""
