"""`python -m claude_pulse` runs the same command line as `claude-pulse`."""

import sys

from claude_pulse.cli import main

sys.exit(main())
