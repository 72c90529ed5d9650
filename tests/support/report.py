"""Lines the container tests measure (build times, image sizes), printed at the end of every run,
`make test` included, in a "container report" section (conftest's pytest_terminal_summary)."""

REPORT: list[str] = []
