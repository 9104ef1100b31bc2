"""``python -m autograder``: see :mod:`autograder.commands`."""

import sys

from autograder.commands import main

sys.exit(main())
