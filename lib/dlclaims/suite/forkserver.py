"""What the process pool's fork server imports once, before it forks any worker: torch and
the runner (workers then start in milliseconds), and a death signal, so the fork server — and
through theirs, its workers — die with the run that started it, however that run dies
(SIGKILL included). The main process never imports this module."""

from dlclaims.suite import executors, runner  # noqa: F401 — imported for the workers' sake

executors.die_with_parent()
