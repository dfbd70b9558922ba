"""The machinery behind ``replyguard.testing``: the paced session, expectations, checks, the
observation log, schemas. Tests import it from ``replyguard.testing``; the modules here may
change without notice."""
