"""The plumbing every command line shares: argument parsing and one-line errors (:mod:`~utils.infra.cli`),
worker processes that end with their parent (:mod:`~utils.infra.workers`), and the shared-prompt prefill that
``generate`` uses for many samples of one prompt (:mod:`~utils.infra.prefill`)."""
