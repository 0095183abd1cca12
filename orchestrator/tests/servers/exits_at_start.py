"""A server that dies before answering anything (a broken install, a missing setting)."""

import sys

sys.stderr.write("fatal: the frobnicator is not configured (set FROB_URL)\n")
sys.exit(3)
