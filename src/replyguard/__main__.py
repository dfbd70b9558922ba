"""``python -m replyguard``: the same command as ``replyguard``."""

from replyguard.cli import main

# Guarded: the selftest's fork server imports the main module of the process that started it.
if __name__ == "__main__":
    main()
