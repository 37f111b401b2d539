"""``python -m utils.tuning``: the command line of :mod:`utils.tuning`."""

import sys

from utils.tuning import main

if __name__ == "__main__":
    sys.exit(main())
