"""``python -m replyguard``: the same command as ``replyguard``."""

from replyguard.cli import main

main()
